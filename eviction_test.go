package acmedns

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
)

// TestRedisEvictionPolicy: a maxmemory-policy that may evict keys without a
// TTL is warned of, once per store; where CONFIG is refused, that is said
// once at info level instead.
func TestRedisEvictionPolicy(t *testing.T) {
	const warning = "[WARNING] plugin/acmedns: Redis's maxmemory-policy is allkeys-lru"
	const refused = "[INFO] plugin/acmedns: cannot check Redis's maxmemory-policy (CONFIG GET refused"
	documented := redistest.ReadmeACL(t, "acmedns:")
	var noConfig []string
	for _, r := range documented {
		if r != "+config|get" {
			noConfig = append(noConfig, r)
		}
	}
	tests := []struct {
		name     string
		policy   string
		acl      []string // nil: the default user
		warnings int
		infos    int
	}{
		{"allkeys-lru", "allkeys-lru", nil, 1, 0},
		{"noeviction", "noeviction", nil, 0, 0},
		{"volatile-lru", "volatile-lru", nil, 0, 0},
		{"allkeys-lru as the documented ACL user", "allkeys-lru", documented, 1, 0},
		{"CONFIG refused", "allkeys-lru", noConfig, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs := captureLog(t)
			srv := redistest.Start(t, "--maxmemory-policy", tc.policy)
			auth := ""
			if tc.acl != nil {
				srv.SetACL(tc.acl)
				auth = "username " + redistest.ACLUser + "\n\t\tpassword " + redistest.ACLPassword
			}
			a := testPlugin(t, "acmedns {\n\tapi :8053\n\tredis "+srv.Addr+" {\n\t\tpool_size 4\n\t\t"+auth+"\n\t}\n}")
			pingConcurrently(t, a, 8)
			srv.Kill() // the subscription reconnects, and checks again
			srv.Restart()
			if tc.acl != nil {
				srv.SetACL(tc.acl)
			}
			eventually(t, 5*time.Second, "store answers again", func() bool { return a.store.Ping(context.Background()) == nil })
			pingConcurrently(t, a, 8)
			time.Sleep(300 * time.Millisecond) // for the subscription's reconnection
			log := logs()
			if n := strings.Count(log, warning); n != tc.warnings {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.warnings, log)
			}
			if n := strings.Count(log, refused); n != tc.infos {
				t.Errorf("%d info lines on the refused CONFIG, want %d:\n%s", n, tc.infos, log)
			}
			if strings.Contains(log, redistest.ACLPassword) {
				t.Errorf("the password is in the log:\n%s", log)
			}
		})
	}
}

// pingConcurrently pings n times at once, so that the pool opens several
// connections.
func pingConcurrently(t *testing.T, a *ACMEDNS, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			errs <- a.store.Ping(ctx)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

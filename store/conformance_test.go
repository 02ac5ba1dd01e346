package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// backend opens a store and can reopen it on the same data, as after a
// restart or a crash.
type backend struct {
	name string
	open func(t *testing.T) (s store.Store, reopen func() store.Store)
}

func backends() []backend {
	return []backend{
		{"bolt", boltBackend(0)},
		{"bolt with cache", boltBackend(1000)},
		{"redis", redisBackend(0)},
		{"redis with cache", redisBackend(1000)},
		{"redis cluster with cache", clusterBackend},
		{"redis over tls", tlsBackend},
		{"redis cluster over tls", tlsClusterBackend},
	}
}

// tlsBackend is a TLS-only standalone server that requires a client
// certificate.
func tlsBackend(t *testing.T) (store.Store, func() store.Store) {
	pki := redistest.NewTLS(t)
	pki.AuthClients = true
	srv := redistest.StartTLS(t, pki)
	open := func() store.Store {
		opts := &redis.UniversalOptions{Addrs: []string{srv.Addr}, TLSConfig: pki.ClientConfig()}
		return openUniversal(t, opts, 1000)
	}
	s := open()
	return s, func() store.Store { s.Close(); srv.Kill(); srv.Restart(); return open() }
}

// tlsClusterBackend is a three-master TLS-only Redis Cluster.
func tlsClusterBackend(t *testing.T) (store.Store, func() store.Store) {
	pki := redistest.NewTLS(t)
	nodes := redistest.StartTLSCluster(t, pki, 3)
	open := func() store.Store {
		opts := &redis.UniversalOptions{Addrs: nodeAddrs(nodes), IsClusterMode: true, TLSConfig: pki.ClientConfig()}
		return openUniversal(t, opts, 1000)
	}
	s := open()
	return s, func() store.Store {
		s.Close()
		for _, n := range nodes {
			n.Kill()
		}
		for _, n := range nodes {
			n.Restart()
		}
		redistest.WaitCluster(t, nodes)
		return open()
	}
}

func nodeAddrs(nodes []*redistest.Server) []string {
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	return addrs
}

// openUniversal opens a store on a client with opts.
func openUniversal(t *testing.T, opts *redis.UniversalOptions, cacheSize int) *store.Redis {
	s := store.NewRedis(redis.NewUniversalClient(opts), store.RedisOptions{Prefix: "test:", CacheSize: cacheSize})
	t.Cleanup(func() { s.Close() })
	return s
}

// clusterBackend is a three-master Redis Cluster; reopening restarts every
// node from its AOF and cluster config.
func clusterBackend(t *testing.T) (store.Store, func() store.Store) {
	nodes := redistest.StartCluster(t, 3)
	open := func() store.Store { return openCluster(t, nodes, 1000) }
	s := open()
	return s, func() store.Store {
		s.Close()
		for _, n := range nodes {
			n.Kill()
		}
		for _, n := range nodes {
			n.Restart()
		}
		redistest.WaitCluster(t, nodes)
		return open()
	}
}

func openCluster(t *testing.T, nodes []*redistest.Server, cacheSize int) *store.Redis {
	var addrs []string
	for _, n := range nodes {
		addrs = append(addrs, n.Addr)
	}
	// Two or more addresses make a ClusterClient.
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs, IsClusterMode: true})
	s := store.NewRedis(client, store.RedisOptions{Prefix: "test:", CacheSize: cacheSize})
	t.Cleanup(func() { s.Close() })
	return s
}

func boltBackend(cacheSize int) func(t *testing.T) (store.Store, func() store.Store) {
	return func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "acmedns.db")
		open := func() store.Store {
			s, err := store.OpenBolt(path, store.BoltOptions{CacheSize: cacheSize})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		s := open()
		return s, func() store.Store { s.Close(); return open() }
	}
}

func redisBackend(cacheSize int) func(t *testing.T) (store.Store, func() store.Store) {
	return func(t *testing.T) (store.Store, func() store.Store) {
		srv := redistest.Start(t)
		open := func() store.Store {
			return openRedis(t, srv.Addr, cacheSize)
		}
		s := open()
		return s, func() store.Store { s.Close(); srv.Kill(); srv.Restart(); return open() }
	}
}

func openRedis(t *testing.T, addr string, cacheSize int) *store.Redis {
	client := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}})
	s := store.NewRedis(client, store.RedisOptions{Prefix: "test:", CacheSize: cacheSize})
	t.Cleanup(func() { s.Close() })
	return s
}

func account(sub string) store.Account {
	return store.Account{
		Username:     "user-" + sub,
		PasswordHash: []byte("$2a$10$hash-of-" + sub),
		Subdomain:    sub,
		AllowFrom:    []string{"192.0.2.0/24", "::1/128"},
	}
}

// TestConformance runs one suite on every backend: the plugin relies on
// nothing that is not checked here.
func TestConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, reopen := b.open(t)
			ctx := context.Background()
			for _, tc := range slices.Concat(suite, lifecycleSuite, listSuite) {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, ctx, s) })
			}
			t.Run("survives restart", func(t *testing.T) {
				if err := s.Register(ctx, account("durable")); err != nil {
					t.Fatal(err)
				}
				if err := s.AddTXT(ctx, "durable", "v1", 2, 0); err != nil {
					t.Fatal(err)
				}
				s2 := reopen()
				got, err := s2.TXT(ctx, "durable")
				if err != nil || !slices.Equal(texts(got), []string{"v1"}) {
					t.Fatalf("after restart TXT = %v, %v; want [v1]", got, err)
				}
				if a, err := s2.Account(ctx, "durable"); err != nil || !reflect.DeepEqual(a, account("durable")) {
					t.Fatalf("after restart Account = %+v, %v", a, err)
				}
			})
		})
	}
}

// suiteCase is one test of the conformance suite, run on a store that the
// earlier cases of the suite used too.
type suiteCase struct {
	name string
	run  func(t *testing.T, ctx context.Context, s store.Store)
}

// texts are the texts of values, in their order.
func texts(values []store.Value) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v.Text
	}
	return out
}

var suite = []suiteCase{
	{"ping", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
	}},
	{"register then read", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("reg")); err != nil {
			t.Fatal(err)
		}
		got, err := s.TXT(ctx, "reg")
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("TXT = %#v, %v; want empty non-nil", got, err)
		}
		a, err := s.Account(ctx, "reg")
		if err != nil || !reflect.DeepEqual(a, account("reg")) {
			t.Fatalf("Account = %+v, %v; want %+v", a, err, account("reg"))
		}
	}},
	{"empty allowfrom reads back empty", func(t *testing.T, ctx context.Context, s store.Store) {
		a := account("noallow")
		a.AllowFrom = nil
		if err := s.Register(ctx, a); err != nil {
			t.Fatal(err)
		}
		got, err := s.Account(ctx, "noallow")
		if err != nil || len(got.AllowFrom) != 0 {
			t.Fatalf("Account = %+v, %v", got, err)
		}
	}},
	{"register twice keeps the first", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("dup")); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTXT(ctx, "dup", "keep-me", 2, 0); err != nil {
			t.Fatal(err)
		}
		other := account("dup")
		other.Username = "intruder"
		if err := s.Register(ctx, other); !errors.Is(err, store.ErrExists) {
			t.Fatalf("second Register = %v; want ErrExists", err)
		}
		a, _ := s.Account(ctx, "dup")
		got, _ := s.TXT(ctx, "dup")
		if a.Username != "user-dup" || !slices.Equal(texts(got), []string{"keep-me"}) {
			t.Fatalf("after second Register: %+v %v", a, got)
		}
	}},
	{"unknown subdomain", func(t *testing.T, ctx context.Context, s store.Store) {
		if _, err := s.TXT(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TXT = %v", err)
		}
		if _, err := s.Account(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Account = %v", err)
		}
		if err := s.AddTXT(ctx, "nobody", "x", 2, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("AddTXT = %v", err)
		}
		if _, err := s.TXT(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("AddTXT created the subdomain: %v", err)
		}
	}},
	{"invalid names are not found", func(t *testing.T, ctx context.Context, s store.Store) {
		for _, sub := range []string{"", "UPPER", "a.b", "a b", "-x", "x-", string(make([]byte, 64))} {
			if _, err := s.TXT(ctx, sub); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TXT(%q) = %v", sub, err)
			}
		}
		if err := s.Register(ctx, account("Bad.Label")); err == nil {
			t.Error("Register accepted an invalid label")
		}
	}},
	{"newest first, oldest dropped", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("roll")); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			value string
			keep  int
			want  []string
		}{
			{"a", 2, []string{"a"}},
			{"b", 2, []string{"b", "a"}},
			{"c", 2, []string{"c", "b"}},
			{"d", 3, []string{"d", "c", "b"}},
			{"e", 1, []string{"e"}},
			{"f", 10, []string{"f", "e"}},
		}
		for _, st := range steps {
			if err := s.AddTXT(ctx, "roll", st.value, st.keep, 0); err != nil {
				t.Fatal(err)
			}
			got, err := s.TXT(ctx, "roll")
			if err != nil || !slices.Equal(texts(got), st.want) {
				t.Fatalf("after %s/%d: TXT = %v, %v; want %v", st.value, st.keep, got, err, st.want)
			}
		}
	}},
	{"a repeated value is not kept twice", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("retry")); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"base", "wild", "wild"} {
			if err := s.AddTXT(ctx, "retry", v, 2, 0); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.TXT(ctx, "retry"); !slices.Equal(texts(got), []string{"wild", "base"}) {
			t.Fatalf("after a retried update TXT = %v, want [wild base]", got)
		}
	}},
	{"bad values change nothing", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("badval")); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"", "has space", "tab\t", "\x00", string(make([]byte, 256))} {
			if err := s.AddTXT(ctx, "badval", v, 2, 0); err == nil {
				t.Errorf("AddTXT(%q, 0) accepted", v)
			}
		}
		for _, keep := range []int{0, -1, store.MaxKeep + 1} {
			if err := s.AddTXT(ctx, "badval", "ok", keep, 0); err == nil {
				t.Errorf("AddTXT keep=%d accepted", keep)
			}
		}
		if got, _ := s.TXT(ctx, "badval"); len(got) != 0 {
			t.Fatalf("TXT = %v after rejected writes", got)
		}
	}},
	{"concurrent updates lose nothing", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("race")); err != nil {
			t.Fatal(err)
		}
		const n = store.MaxKeep
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.AddTXT(ctx, "race", fmt.Sprintf("v%d", i), n, 0)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.TXT(ctx, "race")
		seen := map[string]bool{}
		for _, v := range got {
			seen[v.Text] = true
		}
		if len(got) != n || len(seen) != n {
			t.Fatalf("after %d concurrent updates TXT = %v", n, got)
		}
		// A further burst with keep 2 leaves exactly the two newest.
		for i := range 20 {
			wg.Add(1)
			go func() { defer wg.Done(); s.AddTXT(ctx, "race", fmt.Sprintf("w%d", i), 2, 0) }()
		}
		wg.Wait()
		if got, _ := s.TXT(ctx, "race"); len(got) != 2 || got[0].Text[0] != 'w' || got[1].Text[0] != 'w' || got[0].Text == got[1].Text {
			t.Fatalf("after burst TXT = %v", got)
		}
	}},
	{"cancelled context writes nothing", func(t *testing.T, _ context.Context, s store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Register(ctx, account("cancelled")); err == nil {
			t.Fatal("Register with a cancelled context succeeded")
		}
		if _, err := s.TXT(context.Background(), "cancelled"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("TXT = %v", err)
		}
	}},
}

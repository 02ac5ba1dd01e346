package acmedns

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
)

// TestCoreDNSRedisOutageLog: with Redis stopped under a running API, every
// update is a 503 storage_unavailable and the log says why, but once per
// operation per ten seconds, not once per request; the next line counts the
// failures held back meanwhile. No line holds a password, an API key or a
// username.
func TestCoreDNSRedisOutageLog(t *testing.T) {
	const redisPassword = "outage-log-s3cret-redis-password"
	logs := captureLog(t)
	redis := redistest.Start(t, "--requirepass", redisPassword)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+redis.Addr+" {\n\t\t\tpassword "+redisPassword+"\n\t\t}"))
	acc := register(t, p.apiURL(), "")
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}

	redis.Kill()
	// An update reads the account first: with Redis gone, that read (op
	// account) is the store call that fails.
	unavailable := `{"error": "storage_unavailable"}`
	const workers, updates = 6, 60
	start := time.Now()
	var wg sync.WaitGroup
	var first sync.Once
	var firstDone time.Time // the first line was written before this answer
	for range workers {
		wg.Go(func() {
			for range updates / workers {
				if status, body := postUpdate(acc, p.apiURL(), txtB); status != 503 || body != unavailable {
					t.Errorf("update with Redis down: %d %s", status, body)
				}
				first.Do(func() { firstDone = time.Now() })
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if t.Failed() {
		t.FailNow()
	}
	if elapsed >= 9*time.Second {
		t.Skipf("%d failed updates took %s: too slow a machine to test a 10 s window", updates, elapsed)
	}
	line := regexp.MustCompile(`\[WARNING\] plugin/acmedns: storage_unavailable op=account suppressed=(\d+) cause="([^"]*)"`)
	lines := line.FindAllStringSubmatch(logs(), -1)
	if len(lines) != 1 || lines[0][1] != "0" {
		t.Fatalf("%d lines for %d failed updates within %s, want 1 with suppressed=0:\n%s", len(lines), updates, elapsed, logs())
	}
	if cause := lines[0][2]; !strings.Contains(cause, redis.Addr) && !strings.Contains(cause, "EOF") && !strings.Contains(cause, "connection") {
		t.Errorf("the cause %q says nothing of the connection to Redis", cause)
	}

	time.Sleep(time.Until(firstDone.Add(10*time.Second + 100*time.Millisecond)))
	if r := acc.update(t, p.apiURL(), txtB); r.status != 503 {
		t.Fatalf("update with Redis down: %d %s", r.status, r.body)
	}
	out := logs()
	lines = line.FindAllStringSubmatch(out, -1)
	if len(lines) != 2 || lines[1][1] != strconv.Itoa(updates-1) {
		t.Fatalf("after the window: %d lines, want 2, the second with suppressed=%d:\n%s", len(lines), updates-1, out)
	}
	if !strings.Contains(lines[1][2], "connection refused") {
		t.Errorf("the cause %q is not a refused connection", lines[1][2])
	}
	for name, secret := range map[string]string{"Redis password": redisPassword, "API key": acc.Password, "username": acc.Username} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds the %s:\n%s", name, out)
		}
	}
}

// postUpdate is acc.update for any goroutine: a failed request is status 0
// and the error.
func postUpdate(acc account, url, txt string) (int, string) {
	req, err := http.NewRequest("POST", url+"/update", strings.NewReader(`{"subdomain":"`+acc.Subdomain+`","txt":"`+txt+`"}`))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("X-Api-User", acc.Username)
	req.Header.Set("X-Api-Key", acc.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

package httpapi

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// failingStore is a working store whose writes and pings fail with err
// once it is set.
type failingStore struct {
	store.Store
	mu  sync.Mutex
	err error
}

func (f *failingStore) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *failingStore) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *failingStore) AddTXT(ctx context.Context, subdomain, value string, keep int, maxAge time.Duration) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.Store.AddTXT(ctx, subdomain, value, keep, maxAge)
}

func (f *failingStore) Register(ctx context.Context, a store.Account) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.Store.Register(ctx, a)
}

func (f *failingStore) Ping(ctx context.Context) error {
	if err := f.failure(); err != nil {
		return err
	}
	return f.Store.Ping(ctx)
}

// TestStoreErrorLog: every 503 storage_unavailable is caused by a store
// error that is logged, but once per operation per window, the next line
// telling how many were not.
func TestStoreErrorLog(t *testing.T) {
	logs := captureLog(t)
	fs := &failingStore{Store: boltStore(t)}
	svc := newTestService(t, testConfig(), fs)
	clock := time.Now()
	var clockMu sync.Mutex
	svc.storeLog.now = func() time.Time {
		clockMu.Lock()
		defer clockMu.Unlock()
		return clock
	}
	url := apiServer(t, svc)
	acc := register(t, url, "")
	fs.fail(errors.New("dial tcp 127.0.0.1:6379: connect: connection refused"))

	unavailable := `{"error": "storage_unavailable"}`
	for range 20 {
		if r := acc.update(t, url, txtA); r.status != 503 || r.body != unavailable {
			t.Fatalf("update on a failing store: %d %s", r.status, r.body)
		}
	}
	if r := call(t, "GET", url+"/health", ""); r.status != 503 {
		t.Fatalf("health on a failing store: %d", r.status)
	}
	out := logs()
	want := `[WARNING] plugin/acmedns: storage_unavailable op=update suppressed=0 cause="dial tcp 127.0.0.1:6379: connect: connection refused"`
	if n := strings.Count(out, "op=update"); n != 1 || !strings.Contains(out, want) {
		t.Errorf("%d lines of op=update for 20 failed updates, want 1 line %s:\n%s", n, want, out)
	}
	if n := strings.Count(out, "storage_unavailable op=ping suppressed=0"); n != 1 {
		t.Errorf("the failed health check is logged %d times, want once (its own operation):\n%s", n, out)
	}

	clockMu.Lock()
	clock = clock.Add(storeLogWindow)
	clockMu.Unlock()
	fs.fail(errors.New("store: write not acknowledged by enough Redis replicas"))
	acc.update(t, url, txtB)
	if out := logs(); !strings.Contains(out, `op=update suppressed=19 cause="store: write not acknowledged by enough Redis replicas"`) {
		t.Errorf("no line with the 19 failures held back in the window:\n%s", out)
	}
}

// TestRedactCause: whatever could be a secret in a store error is cut out,
// and the rest kept for the operator.
func TestRedactCause(t *testing.T) {
	key := newPassword()
	hash := "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	tests := []struct{ in, want string }{
		{"dial tcp 127.0.0.1:6379: connect: connection refused", "dial tcp 127.0.0.1:6379: connect: connection refused"},
		{"WRONGPASS invalid username-password pair or user is disabled.", "WRONGPASS invalid username-password pair or user is disabled."},
		{"context deadline exceeded", "context deadline exceeded"},
		{"dial tcp: lookup redis-0.redis.acmedns.svc.cluster.local: no such host", "dial tcp: lookup redis-0.redis.acmedns.svc.cluster.local: no such host"},
		{"store: corrupt account \"0b9a2f4e-3c1d-4e5f-8a6b-7c8d9e0f1a2b\"", "store: corrupt account \"0b9a2f4e-3c1d-4e5f-8a6b-7c8d9e0f1a2b\""},
		{"ERR unknown command 'EVALSHA', with args beginning with: 'abc' '" + hash + "' ", "ERR unknown command 'EVALSHA', with args beginning with: [redacted]"},
		{"redis: invalid URL redis://default:hunter2-s3cret@10.0.0.1:6379/0", "redis: invalid URL redis://[redacted]@10.0.0.1:6379/0"},
		{"hash " + hash + " refused", "hash [redacted] refused"},
		{"key " + key + " refused", "key [redacted] refused"},
		{"NOPERM on acmedns:user:0b9a2f4e-3c1d-4e5f-8a6b-7c8d9e0f1a2b", "NOPERM on acmedns:user:[redacted]"},
		{"line\nbreak", "line\nbreak"}, // the log line quotes it
	}
	for _, tc := range tests {
		if got := redactCause(tc.in); got != tc.want {
			t.Errorf("redactCause(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("timeout; ", 100)
	if got := redactCause(long); len(got) > maxCause+3 || !strings.HasPrefix(got, "timeout; timeout;") {
		t.Errorf("a long cause is %d bytes: %q", len(got), got)
	}
}

package httpapi

import (
	"bytes"
	golog "log"
	"net/netip"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"
)

func init() {
	clog.Discard()
	tarpitDelay = 0 // tests of the limits need not wait; TestTarpit sets it
}

// testZone is the zone the tests serve.
const testZone = "auth.example.org."

// testConfig returns the HTTP side's configuration of a bare acmedns block
// for auth.example.org: the defaults every test starts from.
func testConfig() Config {
	return Config{
		Zone:      testZone,
		TXTLimit:  2,
		Timeout:   500 * time.Millisecond,
		Limits:    DefaultLimits(),
		AuthCache: AuthCache{TTL: DefaultAuthCacheTTL, Entries: DefaultAuthCacheEntries},
		Audit:     true,
	}
}

// newTestService returns the HTTP side of cfg over s, with no hooks (a
// test that observes them calls NewService with a hookRecorder's).
func newTestService(t testing.TB, cfg Config, s store.Store) *Service {
	t.Helper()
	if s == nil {
		t.Fatal("newTestService: no store")
	}
	return NewService(cfg, s, Hooks{})
}

// boltStore opens an embedded store in a temporary directory, closed when
// the test ends.
func boltStore(t testing.TB) store.Store {
	t.Helper()
	s, err := store.OpenBolt(filepath.Join(t.TempDir(), "acmedns.db"), store.BoltOptions{CacheSize: 10000})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// redisStore opens a Redis store on addr under prefix, as a "redis ADDR"
// block does (its timeouts and TXT cache), closed when the test ends.
func redisStore(t testing.TB, addr, prefix string) store.Store {
	t.Helper()
	client := redis.NewClient(&redis.Options{
		Addr:                  addr,
		DialTimeout:           500 * time.Millisecond,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		MaxRetries:            1,
		ContextTimeoutEnabled: true,
	})
	s := store.NewRedis(client, store.RedisOptions{Prefix: prefix, CacheSize: 10000})
	t.Cleanup(func() { s.Close() })
	return s
}

// backend opens a store for one subtest.
type backend func(t testing.TB) store.Store

// bothBackends are the stores the tests that cover both run on: the
// embedded one, and a Redis started for the test, each store under a
// prefix of its own.
func bothBackends(t *testing.T, prefix string) map[string]backend {
	t.Helper()
	srv := redistest.Start(t)
	return map[string]backend{
		"bolt":  boltStore,
		"redis": func(t testing.TB) store.Store { return redisStore(t, srv.Addr, prefix) },
	}
}

// hookRecorder counts what the Service tells through its Hooks.
type hookRecorder struct {
	mu          sync.Mutex
	changed     int
	storeErrors []string
}

func (h *hookRecorder) hooks() Hooks {
	return Hooks{
		Changed: func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.changed++
		},
		StoreError: func(op string) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.storeErrors = append(h.storeErrors, op)
		},
	}
}

// counts returns how many times Changed was called and the ops StoreError
// was told of, in order.
func (h *hookRecorder) counts() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed, append([]string(nil), h.storeErrors...)
}

// prefixList parses CIDRs as the Corefile's options do.
func prefixList(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		pp, err := ParsePrefix(p)
		if err != nil {
			panic(err)
		}
		out[i] = pp
	}
	return out
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) string { return strconv.Itoa(redistest.FreePort(t)) }

// metricValue reads a counter's or gauge's current value.
func metricValue(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		panic(err)
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// captureLog collects CoreDNS's log output (the package logs through clog)
// for the rest of the test.
func captureLog(t *testing.T) func() string {
	t.Helper()
	var mu sync.Mutex
	var buf bytes.Buffer
	golog.SetOutput(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}))
	t.Cleanup(func() { golog.SetOutput(discard{}) })
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return buf.String()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

package acmedns

import (
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
)

// TestIndexTrustedMetric: index_trusted is 1 while the open store's index is
// trusted, 0 from the moment Redis goes away (its subscription may miss
// changes), and 1 again once Redis is back and the index reloaded.
func TestIndexTrustedMetric(t *testing.T) {
	if got := metricValue(indexTrustedGauge); got != 1 {
		t.Fatalf("index_trusted with no Redis store open = %v, want 1", got)
	}
	redis := redistest.Start(t)
	a := testPlugin(t, "acmedns {\n\tapi :8053\n\tredis "+redis.Addr+"\n}")
	seed(t, a, "trusted")
	trusted := func(want float64) func() bool {
		return func() bool { return metricValue(indexTrustedGauge) == want }
	}
	eventually(t, 5*time.Second, "index_trusted 1 once the index is loaded", trusted(1))
	if got := metricValue(indexEntriesGauge); got != 1 {
		t.Errorf("index_entries = %v, want 1", got)
	}

	redis.Kill()
	eventually(t, 5*time.Second, "index_trusted 0 once Redis is gone", trusted(0))
	redis.Restart()
	eventually(t, 10*time.Second, "index_trusted 1 once Redis is back", trusted(1))
}

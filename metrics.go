package acmedns

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics, exported by the prometheus plugin. No label carries a name.
var (
	registrations = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "registrations_total",
		Help:      "Counter of POST /register calls by result.",
	}, []string{"result"})

	updates = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "updates_total",
		Help:      "Counter of POST /update calls by result.",
	}, []string{"result"})

	dnsAnswers = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "dns_answers_total",
		Help:      "Counter of DNS answers for acmedns zones by result (answer, nodata, nxdomain, servfail).",
	}, []string{"server", "result"})

	cacheLookups = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "cache_lookups_total",
		Help:      "Counter of TXT lookups through the Redis store's in-process cache by result (hit, miss).",
	}, []string{"result"})

	storeErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "store_errors_total",
		Help:      "Counter of failed store calls by operation.",
	}, []string{"op"})
)

// countCacheLookup feeds cacheLookups; the store calls it on every lookup.
func countCacheLookup(hit bool) {
	if hit {
		cacheHits.Inc()
	} else {
		cacheMisses.Inc()
	}
}

// The two children, resolved once: the DNS hot path skips the label lookup.
var (
	cacheHits   = cacheLookups.WithLabelValues("hit")
	cacheMisses = cacheLookups.WithLabelValues("miss")
)

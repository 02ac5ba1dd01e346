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

	transfers = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "transfers_total",
		Help:      "Counter of zone transfers served, by zone and type (axfr, ixfr, current: the secondary was up to date).",
	}, []string{"zone", "type"})

	notifies = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "notifies_total",
		Help:      "Counter of NOTIFY rounds to a zone's secondaries, by zone and result (sent, failed).",
	}, []string{"zone", "result"})

	apiRejections = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "api_rejections_total",
		Help:      "Counter of API requests and connections refused by a limit, by reason (rate_limit, busy, connections).",
	}, []string{"reason"})

	authentications = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "authentications_total",
		Help:      "Counter of API authentications by path (cached, bcrypt, failed).",
	}, []string{"path"})

	bcryptSlotsInUse = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "bcrypt_slots_in_use",
		Help:      "Number of bcrypt operations running now, process-wide.",
	})

	_ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "index_entries",
		Help:      "Number of registered subdomains in the in-memory index of the open stores.",
	}, indexEntries)
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

// Metrics of the account lifecycle.
var (
	adminCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "admin_requests_total",
		Help:      "Counter of admin API requests by action (list, show, create, delete, rotate, allowfrom, clear, unauthorized) and result (ok or the error code).",
	}, []string{"action", "result"})

	unregistrations = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "unregistrations_total",
		Help:      "Counter of POST /unregister calls by result.",
	}, []string{"result"})
)

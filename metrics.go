package acmedns

import (
	"slices"
	"sync"
	"time"

	"github.com/coredns/coredns/plugin"

	"github.com/acmedns/acmedns/internal/httpapi"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the DNS side and the store, exported by the prometheus plugin
// (the HTTP side's are in internal/httpapi). No label carries a name.
var (
	dnsAnswers = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "dns_answers_total",
		Help:      "Counter of DNS answers for acmedns zones by server, zone, view and result (answer, nodata, nxdomain, servfail, notimp).",
	}, []string{"server", "zone", "view", "result"})

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

	transferRefusals = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "transfer_refusals_total",
		Help:      "Counter of zone transfers refused, by zone and reason (udp, acl: not in the transfer plugin's to list, limit: the process's bound, client_limit: the client address's bound).",
	}, []string{"zone", "reason"})

	transferAborts = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "transfer_aborts_total",
		Help:      "Counter of zone transfers cut off part way, by zone and reason (stalled: a message not taken within the idle bound, closed: the client went away, store: the store failed).",
	}, []string{"zone", "reason"})

	certificateExpiry = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "certificate_expiry_seconds",
		Help:      "Expiry of the API certificate served for a tls acme name, in unix seconds.",
	}, []string{"name"})

	certificateOrders = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "certificate_orders_total",
		Help:      "Counter of tls acme certificate orders this replica made, by type (obtain, renew) and result (ok, failed).",
	}, []string{"type", "result"})

	transferSlotsInUse = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "transfer_slots_in_use",
		Help:      "Zone transfer slots taken now, process-wide: transfers under way, and those cut off for stalling in the minutes after.",
	})

	notifies = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "notifies_total",
		Help:      "Counter of NOTIFY rounds to a zone's secondaries, by zone and result (sent, failed).",
	}, []string{"zone", "result"})

	indexEntriesGauge = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "index_entries",
		Help:      "Number of registered subdomains in the in-memory index of the open stores.",
	}, indexEntries)

	indexTrustedGauge = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "index_trusted",
		Help:      "1 when the in-memory index of every open store is trusted (a name it lacks is answered NXDOMAIN without asking the store), 0 while one is not: its store may have missed changes (a lost Redis subscription) and every lookup asks the store until the index is loaded again.",
	}, indexTrusted)
)

// dnsStoreOps are the values of store_errors_total's op label counted on
// the DNS side.
var dnsStoreOps = []string{"txt", "serial", "transfer", "expire"}

// The series that alerts and dashboards read exist from the start, at
// zero: a CounterVec exports nothing until a child is made, and rate() or
// increase() over a series that appears with its first increment misses
// that increment. Those labelled by zone are made when the zone's
// transfers are set up (zeroTransferMetrics).
func init() {
	for _, op := range slices.Concat(dnsStoreOps, httpapi.StoreOps) {
		storeErrors.WithLabelValues(op)
	}
}

// zeroTransferMetrics makes the transfer and NOTIFY series of zones.
func zeroTransferMetrics(zones []string) {
	for _, z := range zones {
		for _, kind := range []string{"axfr", "ixfr", "current"} {
			transfers.WithLabelValues(z, kind)
		}
		for _, reason := range []string{refusedUDP, refusedACL, refusedLimit, refusedClientLimit} {
			transferRefusals.WithLabelValues(z, reason)
		}
		for _, reason := range []string{"stalled", "closed", "store"} {
			transferAborts.WithLabelValues(z, reason)
		}
		for _, result := range []string{"sent", "failed"} {
			notifies.WithLabelValues(z, result)
		}
	}
}

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

// countStoreError counts a failed store call by operation.
func countStoreError(op string) { storeErrors.WithLabelValues(op).Inc() }

// answerLabels are the labels of dns_answers_total but the result.
type answerLabels struct{ server, zone, view string }

// answerResults are the results of dns_answers_total.
var answerResults = [...]string{"answer", "nodata", "nxdomain", "servfail", "notimp"}

// answerCounters holds, per answerLabels, the counter of each result, so
// that the DNS path finds it with one map lookup (the label set of a server
// block is fixed; a few are ever seen).
var answerCounters sync.Map // answerLabels -> *[len(answerResults)]prometheus.Counter

// answerCounter returns the counter of result (one of answerResults) for l.
func answerCounter(l answerLabels, result string) prometheus.Counter {
	cs, ok := answerCounters.Load(l)
	if !ok {
		var fresh [len(answerResults)]prometheus.Counter
		for i, r := range answerResults {
			fresh[i] = dnsAnswers.WithLabelValues(l.server, l.zone, l.view, r)
		}
		cs, _ = answerCounters.LoadOrStore(l, &fresh)
	}
	counters := cs.(*[len(answerResults)]prometheus.Counter)
	for i, r := range answerResults {
		if r == result {
			return counters[i]
		}
	}
	return dnsAnswers.WithLabelValues(l.server, l.zone, l.view, result)
}

// countOrder counts a tls acme order.
func countOrder(renewal, ok bool) {
	certificateOrders.WithLabelValues(map[bool]string{false: "obtain", true: "renew"}[renewal], map[bool]string{false: "failed", true: "ok"}[ok]).Inc()
}

// noteExpiry records the expiry of the certificate served for name.
func noteExpiry(name string, notAfter time.Time) {
	certificateExpiry.WithLabelValues(name).Set(float64(notAfter.Unix()))
}

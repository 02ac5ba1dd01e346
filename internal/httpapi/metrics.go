package httpapi

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics of the HTTP side, exported by the prometheus plugin beside the
// plugin's own. No label carries a name or a secret.
var (
	registrations = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "registrations_total",
		Help:      "Counter of POST /register calls by result.",
	}, []string{"result"})

	updates = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "updates_total",
		Help:      "Counter of POST /update calls by result.",
	}, []string{"result"})

	persists = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "persist_total",
		Help:      "Counter of POST /persist and /unpersist calls by action (persist, unpersist) and result.",
	}, []string{"action", "result"})

	apiRejections = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "api_rejections_total",
		Help:      "Counter of API requests and connections refused by a limit, by reason (rate_limit, busy, connections, connections_dropped).",
	}, []string{"reason"})

	authentications = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "authentications_total",
		Help:      "Counter of API authentications by path (cached, bcrypt, failed).",
	}, []string{"path"})

	bcryptSlotsInUse = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "bcrypt_slots_in_use",
		Help:      "Number of bcrypt operations running now, process-wide.",
	})

	bcryptQueued = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "bcrypt_queued",
		Help:      "Number of requests waiting for a bcrypt slot now, process-wide.",
	})

	bcryptQueueCapacity = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "bcrypt_queue_capacity",
		Help:      "Number of requests that may wait for a bcrypt slot at once (limits bcrypt QUEUE).",
	})

	bcryptOperations = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "bcrypt_operations_total",
		Help:      "Counter of bcrypt operations run, by operation (hash, compare).",
	}, []string{"operation"})

	adminCalls = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "admin_requests_total",
		Help:      "Counter of admin API requests by action (list, show, create, delete, rotate, allowfrom, clear, unauthorized) and result (ok or the error code).",
	}, []string{"action", "result"})

	unregistrations = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: "acmedns",
		Name:      "unregistrations_total",
		Help:      "Counter of POST /unregister calls by result.",
	}, []string{"result"})
)

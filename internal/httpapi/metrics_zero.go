package httpapi

// The series that alerts and dashboards read exist from the start, at zero:
// a CounterVec exports nothing until a child is made, and rate() or
// increase() over a series that appears with its first increment misses
// that increment.

// StoreOps are the values of store_errors_total's op label that the HTTP
// side counts through Hooks.StoreError.
var StoreOps = []string{
	"register", "update", "unregister", "persist", "unpersist", "account", "ping",
	"admin_list", "admin_show", "admin_create", "admin_delete", "admin_rotate",
	"admin_allowfrom", "admin_clear", "admin_replace", "admin_persist", "admin_unpersist",
}

func init() {
	for _, result := range []string{"ok", "unavailable", "busy", "rate_limited"} {
		registrations.WithLabelValues(result)
		updates.WithLabelValues(result)
		persists.WithLabelValues("persist", result)
		persists.WithLabelValues("unpersist", result)
	}
	for _, reason := range []string{"rate_limit", "busy", "connections"} {
		apiRejections.WithLabelValues(reason)
	}
	for _, path := range []string{"cached", "bcrypt", "failed"} {
		authentications.WithLabelValues(path)
	}
	for _, op := range []string{"hash", "compare"} {
		bcryptOperations.WithLabelValues(op)
	}
}

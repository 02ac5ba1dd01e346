package httpapi

import (
	"runtime"
	"time"
)

// Limits bounds what the HTTP API may cost the process, so that no API load
// can starve the DNS server it shares the CPU with.
type Limits struct {
	// BcryptSlots bounds concurrent bcrypt work process-wide; BcryptQueue
	// requests may wait for a slot, served round-robin across clients, and
	// a request joins them only when its expected wait is at most
	// BcryptWait.
	BcryptSlots int
	BcryptQueue int
	BcryptWait  time.Duration
	// Register and AuthFailures are per-client token buckets: every
	// registration takes a token, and so does every failed authentication.
	Register     Rate
	AuthFailures Rate
	// Clients bounds the clients each bucket table tracks.
	Clients int
	// Connections bounds the API's concurrent connections, and
	// ClientConnections those of one client address (trusted proxies
	// exempt).
	Connections       int
	ClientConnections int
}

// Rate is a token bucket: PerSecond tokens refill a bucket of Burst. A zero
// Rate is off: nothing is limited.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond == 0 }

// Defaults of the limits block.
const (
	// DefaultBcryptQueue bounds the requests waiting for bcrypt: a quarter
	// of it (256) may be one client's burst.
	DefaultBcryptQueue = 1024
	DefaultBcryptWait  = 30 * time.Second
	DefaultClients     = 10000
	DefaultConnections = 1024
	// DefaultClientConnections bounds one client's concurrent connections:
	// as many as its share of the bcrypt queue.
	DefaultClientConnections = 256
	// DefaultAuthCacheTTL and DefaultAuthCacheEntries bound the
	// verified-credential cache.
	DefaultAuthCacheTTL     = 10 * time.Minute
	DefaultAuthCacheEntries = 10000
	// MaxAllowFrom bounds the CIDRs of one account, after duplicates are
	// removed.
	MaxAllowFrom = 64
)

var (
	// DefaultRegisterRate is 10 registrations a minute per client, 30 at once.
	DefaultRegisterRate = Rate{PerSecond: 10.0 / 60, Burst: 30}
	// DefaultAuthFailureRate is 10 failed authentications a minute per
	// client, 30 at once.
	DefaultAuthFailureRate = Rate{PerSecond: 10.0 / 60, Burst: 30}
)

// DefaultLimits returns the limits of a block that sets none: one CPU
// always stays for DNS.
func DefaultLimits() Limits {
	slots := max(1, runtime.GOMAXPROCS(0)-1)
	return Limits{
		BcryptSlots:       slots,
		BcryptQueue:       DefaultBcryptQueue,
		BcryptWait:        DefaultBcryptWait,
		Register:          DefaultRegisterRate,
		AuthFailures:      DefaultAuthFailureRate,
		Clients:           DefaultClients,
		Connections:       DefaultConnections,
		ClientConnections: DefaultClientConnections,
	}
}

// AuthCache configures the verified-credential cache; TTL 0 turns it off.
type AuthCache struct {
	TTL     time.Duration
	Entries int
}

package httpapi

import (
	"errors"
	"net/netip"
	"strings"
	"time"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/acmedns/acmedns/store"
)

// log writes as the plugin does: the audit log and listener failures.
var log = clog.NewWithPlugin("acmedns")

// Config is what the HTTP side serves by: the parts of an acmedns block
// that concern the API.
type Config struct {
	Zone           string         // the first zone, fully qualified: accounts' fulldomain is <subdomain>.<Zone>
	CORS           []string       // allowed browser origins; "*" for any
	Registration   Registration   // who may call POST /register
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed
	Timeout        time.Duration  // bound of /health's store check
	TXTLimit       int            // TXT values kept per subdomain
	TXTExpire      time.Duration  // values older than this are not shown; 0: kept
	Limits         Limits         // what the API may cost
	AuthCache      AuthCache      // verified-credential cache
	Audit          bool           // one log line per state change and refused authentication
	Reserved       []string       // labels the zone serves itself (in-zone nameservers): no account may have one
}

// Registration says who may call POST /register.
type Registration struct {
	Closed bool           // no /register at all: 404
	Allow  []netip.Prefix // when set, only these source networks; others get 403
	Tokens []string       // when set, /register only under /<token>/
}

// Hooks are what the HTTP side tells the rest of acmedns. Either may be nil.
type Hooks struct {
	// Changed is called after every write that may have changed the zone
	// (one that succeeded, or failed in a way that does not prove nothing
	// was written), so that secondaries hear of it.
	Changed func()
	// StoreError counts a failed store call by operation.
	StoreError func(op string)
}

// Service is the HTTP side of one acmedns instance over its store.
type Service struct {
	cfg   Config
	store store.Store
	hooks Hooks
	gate  *admission // bcrypt admission: the process-wide gate

	storeLog *throttle // bounds the log lines of failed store calls
}

// NewService returns the HTTP side for cfg over s.
func NewService(cfg Config, s store.Store, hooks Hooks) *Service {
	return &Service{cfg: cfg, store: s, hooks: hooks, gate: bcryptGate, storeLog: newThrottle(storeLogWindow)}
}

// changed reports a write whose result was err to the Changed hook, unless
// err proves that nothing was written.
func (s *Service) changed(err error) {
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrExists) || errors.Is(err, store.ErrUsernameTaken) ||
		errors.Is(err, store.ErrInvalidRecord) {
		return
	}
	if s.hooks.Changed != nil {
		s.hooks.Changed()
	}
}

// storeError counts a failed store call, whose error was err, and logs
// its cause (at most once per operation per storeLogWindow).
func (s *Service) storeError(op string, err error) {
	if s.hooks.StoreError != nil {
		s.hooks.StoreError(op)
	}
	s.logStoreError(op, err)
}

// fulldomain is the name a subdomain's TXT record is served at, without
// the final dot, as acme-dns writes it.
func (s *Service) fulldomain(subdomain string) string {
	return subdomain + "." + strings.TrimSuffix(s.cfg.Zone, ".")
}

// live returns the values txt_expire still serves.
func (s *Service) live(values []store.Value) []store.Value {
	return store.Live(values, s.cfg.TXTExpire, time.Now())
}

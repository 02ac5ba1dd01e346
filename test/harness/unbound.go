package harness

import (
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// UnboundConfig configures StartUnbound.
type UnboundConfig struct {
	// Stubs maps zones to the authoritative server Unbound asks for them,
	// as host:port or ip@port (loopback is allowed).
	Stubs map[string]string
	// TrustAnchors are DS or DNSKEY RRs in zone file text (one line each,
	// as Secondary.DS or DNSSECKey.DS give them). Names under a trust
	// anchor are validated; others are insecure (there is no root key).
	TrustAnchors []string
	// Verbosity is Unbound's verbosity (0 to 5); 0 means 1 (operational
	// information). Validation failures are logged whatever it is
	// (val-log-level 2).
	Verbosity int
}

// Unbound is a validating recursive Unbound on a loopback port that only
// knows the stub zones it was given.
type Unbound struct {
	*Process
	Dir  string // its directory, with unbound.conf
	Addr string // 127.0.0.1:PORT, UDP and TCP
}

// StartUnbound starts Unbound in the foreground (-d -d: logs to stderr)
// as the current user, no chroot, no remote control, one thread, and
// returns once it answers queries.
//
// Every stub zone gets stub-addr ip@port, stub-no-cache (answers from the
// stubs are not cached, so tests see updates at once) and a transparent
// local-zone (stubs under "test." would otherwise be answered NXDOMAIN by
// Unbound's default local zone for test.). Negative and bogus answers
// are cached for at most 1s. Clients asking for any other name get
// REFUSED at once (local-zone "." refuse). Root hints point at
// 127.0.0.254, where nothing listens, so that what Unbound looks up on
// its own outside the stubs (a CNAME target, say) stays on loopback and
// fails (after its retries, seconds); there is no root trust anchor and
// so no root priming of keys (nor RFC 8145 key tag queries:
// trust-anchor-signaling no). target-fetch-policy "0 0 0 0 0" keeps
// Unbound from chasing nameserver addresses it does not need.
func StartUnbound(t testing.TB, cfg UnboundConfig) *Unbound {
	t.Helper()
	bin, err := exec.LookPath("unbound")
	if err != nil {
		t.Fatalf("unbound not found (apt-get install unbound): %v", err)
	}
	dir := t.TempDir()
	port := FreePort(t)
	u := &Unbound{Dir: dir, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	verbosity := cfg.Verbosity
	if verbosity == 0 {
		verbosity = 1
	}
	hints := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hints, []byte(".  3600000 IN NS a.root.invalid.\na.root.invalid. 3600000 IN A 127.0.0.254\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `server:
    verbosity: %d
    interface: 127.0.0.1@%d
    port: %d
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    num-threads: 1
    so-reuseport: no
    outgoing-range: 64
    msg-cache-size: 1m
    rrset-cache-size: 1m
    key-cache-size: 1m
    infra-cache-numhosts: 100
    directory: %q
    chroot: ""
    username: ""
    pidfile: %q
    use-syslog: no
    logfile: ""
    log-time-ascii: yes
    log-servfail: yes
    val-log-level: 2
    trust-anchor-signaling: no
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    root-hints: %q
    module-config: "validator iterator"
    qname-minimisation: no
    target-fetch-policy: "0 0 0 0 0"
    harden-dnssec-stripped: yes
    harden-below-nxdomain: yes
    harden-referral-path: no
    harden-algo-downgrade: no
    aggressive-nsec: no
    prefetch: no
    cache-max-negative-ttl: 1
    val-bogus-ttl: 1
    infra-host-ttl: 60
    infra-keep-probing: yes
    minimal-responses: no
`, verbosity, port, port, dir, filepath.Join(dir, "unbound.pid"), hints)
	for _, ta := range cfg.TrustAnchors {
		fmt.Fprintf(&b, "    trust-anchor: %q\n", strings.Join(strings.Fields(ta), " "))
	}
	b.WriteString("    local-zone: \".\" refuse\n")
	zones := slices.Sorted(maps.Keys(cfg.Stubs))
	for _, zone := range zones {
		fmt.Fprintf(&b, "    local-zone: %q transparent\n", dns.Fqdn(zone))
	}
	for _, zone := range zones {
		addr := cfg.Stubs[zone]
		if host, p, err := net.SplitHostPort(addr); err == nil {
			addr = host + "@" + p
		}
		fmt.Fprintf(&b, "stub-zone:\n    name: %q\n    stub-addr: %s\n    stub-no-cache: yes\n", dns.Fqdn(zone), addr)
	}
	b.WriteString("remote-control:\n    control-enable: no\n")
	conf := filepath.Join(dir, "unbound.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("unbound-checkconf", conf).CombinedOutput(); err != nil {
		t.Fatalf("unbound-checkconf %s: %v\n%s\n%s", conf, err, out, b.String())
	}
	u.Process = start(t, dir, "unbound", nil, bin, "-d", "-d", "-c", conf)
	u.Process.stopGently(t, "")
	waitFor(t, 10*time.Second, "Unbound answering on "+u.Addr, func() bool {
		m := new(dns.Msg)
		m.SetQuestion("version.server.", dns.TypeTXT)
		m.Question[0].Qclass = dns.ClassCHAOS
		c := &dns.Client{Timeout: 200 * time.Millisecond}
		_, _, err := c.Exchange(m, u.Addr)
		return err == nil
	})
	return u
}

// Log returns Unbound's log so far.
func (u *Unbound) Log() string {
	b, _ := os.ReadFile(u.LogPath)
	return string(b)
}

// Query asks Unbound for name and qtype over UDP with the DO bit set (and
// RD, as a stub resolver does), retrying over TCP when the answer is
// truncated. It fails the test on a network error, not on an rcode.
func (u *Unbound) Query(t testing.TB, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(4096, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, u.Addr)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.Exchange(m, u.Addr)
	}
	if err != nil {
		t.Fatalf("querying Unbound for %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

package acmedns

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/acl"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/dnssec"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/file"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/metrics"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
	_ "github.com/coredns/coredns/plugin/root"
	_ "github.com/coredns/coredns/plugin/transfer"
	_ "github.com/coredns/coredns/plugin/tsig"
	_ "github.com/coredns/coredns/plugin/whoami"

	"github.com/acmedns/acmedns/internal/redistest"

	"github.com/miekg/dns"
)

// The whole-server tests run a real CoreDNS in this process, built from the
// plugins above plus acmedns at the place cmd/coredns gives it.
func init() {
	i := slices.Index(dnsserver.Directives, "file")
	dnsserver.Directives = slices.Insert(dnsserver.Directives, i, pluginName)
}

// coreDNS is a running server; reload replaces its instance.
type coreDNS struct {
	t    *testing.T
	inst *caddy.Instance
}

func startCoreDNS(t *testing.T, corefile string) *coreDNS {
	t.Helper()
	inst, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
	if err != nil {
		t.Fatalf("starting CoreDNS: %v\n%s", err, corefile)
	}
	s := &coreDNS{t: t, inst: inst}
	t.Cleanup(s.stop)
	return s
}

func (s *coreDNS) stop() {
	if s.inst != nil {
		s.inst.Stop()
		s.inst.ShutdownCallbacks()
		s.inst = nil
	}
}

// reload replaces the Corefile as the reload plugin does.
func (s *coreDNS) reload(corefile string) error {
	inst, err := s.inst.Restart(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
	if err == nil {
		s.inst = inst
	}
	return err
}

func freePort(t *testing.T) string { return strconv.Itoa(redistest.FreePort(t)) }

// exchange asks addr over proto ("udp" or "tcp").
func exchange(t *testing.T, proto, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: proto, Timeout: 3 * time.Second}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", proto, name, dns.TypeToString[qtype], err)
	}
	return resp
}

// txtOver returns the rcode and TXT values of name over proto.
func txtOver(t *testing.T, proto, addr, name string) (int, []string) {
	t.Helper()
	resp := exchange(t, proto, addr, name, dns.TypeTXT)
	var values []string
	for _, rr := range resp.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			values = append(values, txt.Txt...)
		}
	}
	return resp.Rcode, values
}

// checkTXT asserts the same answer over UDP and TCP.
func checkTXT(t *testing.T, addr, name string, rcode int, want ...string) {
	t.Helper()
	for _, proto := range []string{"udp", "tcp"} {
		code, got := txtOver(t, proto, addr, name)
		if code != rcode || !slices.Equal(got, want) {
			t.Errorf("%s %s: %s %v, want %s %v", proto, name, dns.RcodeToString[code], got, dns.RcodeToString[rcode], want)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond every 50 ms for up to limit.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type ports struct{ dns, api, metrics, ready string }

func newPorts(t *testing.T) ports {
	return ports{freePort(t), freePort(t), freePort(t), freePort(t)}
}

func (p ports) dnsAddr() string { return "127.0.0.1:" + p.dns }
func (p ports) apiURL() string  { return "http://127.0.0.1:" + p.api }

// corefile returns a server for auth.example.test with the given acmedns
// options.
func (p ports) corefile(options string) string {
	return fmt.Sprintf(`auth.example.test:%s {
	bind 127.0.0.1
	prometheus 127.0.0.1:%s
	ready 127.0.0.1:%s
	acmedns {
		api 127.0.0.1:%s
		nameserver ns1.auth.example.test 127.0.0.1
		%s
	}
}
`, p.dns, p.metrics, p.ready, p.api, options)
}

func TestCoreDNSEmbeddedStore(t *testing.T) {
	p := newPorts(t)
	startCoreDNS(t, p.corefile("db "+t.TempDir()+"/acmedns.db"))

	acc := register(t, p.apiURL(), "")
	name := acc.Subdomain + ".auth.example.test."
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess)
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	acc.update(t, p.apiURL(), txtB)
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
	checkTXT(t, p.dnsAddr(), strings.ToUpper(name), dns.RcodeSuccess, txtB, txtA)
	checkTXT(t, p.dnsAddr(), "nobody.auth.example.test.", dns.RcodeNameError)

	for _, proto := range []string{"udp", "tcp"} {
		resp := exchange(t, proto, p.dnsAddr(), "auth.example.test.", dns.TypeSOA)
		if len(resp.Answer) != 1 || !resp.Authoritative {
			t.Errorf("%s SOA: %v", proto, resp)
		}
		resp = exchange(t, proto, p.dnsAddr(), "ns1.auth.example.test.", dns.TypeA)
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
			t.Errorf("%s ns1 A: %v", proto, resp)
		}
	}

	if code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready"); code != 200 {
		t.Errorf("ready: %d", code)
	}
	_, metrics := get(t, "http://127.0.0.1:"+p.metrics+"/metrics")
	for _, m := range []string{
		`coredns_acmedns_registrations_total{result="ok"}`,
		`coredns_acmedns_updates_total{result="ok"}`,
		`coredns_acmedns_dns_answers_total{result="answer",server="dns://127.0.0.1:` + p.dns + `",view="",zone="auth.example.test."}`,
		`coredns_acmedns_dns_answers_total{result="nxdomain",server="dns://127.0.0.1:` + p.dns + `",view="",zone="auth.example.test."}`,
	} {
		if v, _ := scrapedValue(metrics, m); v == 0 {
			t.Errorf("metrics lack %s above 0", m)
		}
	}
}

// TestCoreDNSRedisOutage: with Redis gone, DNS is SERVFAIL (never NXDOMAIN)
// and the API 503; when it is back, service resumes by itself with every
// acknowledged update.
func TestCoreDNSRedisOutage(t *testing.T) {
	redis := redistest.Start(t)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+redis.Addr))

	acc := register(t, p.apiURL(), "")
	name := acc.Subdomain + ".auth.example.test."
	for _, v := range []string{txtA, txtB} {
		if r := acc.update(t, p.apiURL(), v); r.status != 200 {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
	}
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
	_, metrics := get(t, "http://127.0.0.1:"+p.metrics+"/metrics")
	if hits, _ := scrapedValue(metrics, `coredns_acmedns_cache_lookups_total{result="hit"}`); hits == 0 {
		t.Error("no cache hits in the metrics after repeated queries")
	}

	redis.Kill()
	// The cache answers until the replica notices its subscription died,
	// which a closed connection tells at once.
	eventually(t, 3*time.Second, "SERVFAIL once Redis is gone", func() bool {
		code, _ := txtOver(t, "udp", p.dnsAddr(), name)
		return code == dns.RcodeServerFailure
	})
	checkTXT(t, p.dnsAddr(), name, dns.RcodeServerFailure)
	checkTXT(t, p.dnsAddr(), "nobody.auth.example.test.", dns.RcodeServerFailure)
	unavailable := `{"error": "storage_unavailable"}`
	if r := acc.update(t, p.apiURL(), txtC); r.status != 503 || r.body != unavailable {
		t.Errorf("update with Redis down: %d %s", r.status, r.body)
	}
	if r := call(t, "POST", p.apiURL()+"/register", ""); r.status != 503 || r.body != unavailable {
		t.Errorf("register with Redis down: %d %s", r.status, r.body)
	}
	if code, body := get(t, p.apiURL()+"/health"); code != 503 || body != unavailable {
		t.Errorf("health with Redis down: %d %s", code, body)
	}
	if code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready"); code == 200 {
		t.Error("ready while Redis is down")
	}

	redis.Restart()
	eventually(t, 10*time.Second, "DNS answers again", func() bool {
		code, _ := txtOver(t, "udp", p.dnsAddr(), name)
		return code == dns.RcodeSuccess
	})
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
	if r := acc.update(t, p.apiURL(), txtC); r.status != 200 {
		t.Errorf("update after Redis came back: %d %s", r.status, r.body)
	}
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtC, txtB)
	eventually(t, 5*time.Second, "ready again", func() bool {
		code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready")
		return code == 200
	})
}

// TestCoreDNSRedisDownAtStart: a Redis that is not there yet is a warning,
// not a failed start.
func TestCoreDNSRedisDownAtStart(t *testing.T) {
	redisPort := freePort(t)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis 127.0.0.1:"+redisPort))
	checkTXT(t, p.dnsAddr(), "nobody.auth.example.test.", dns.RcodeServerFailure)

	redis := redistest.StartOn(t, redisPort)
	_ = redis
	eventually(t, 10*time.Second, "answers once Redis is up", func() bool {
		code, _ := txtOver(t, "udp", p.dnsAddr(), "nobody.auth.example.test.")
		return code == dns.RcodeNameError
	})
	acc := register(t, p.apiURL(), "")
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d", r.status)
	}
	checkTXT(t, p.dnsAddr(), acc.Subdomain+".auth.example.test.", dns.RcodeSuccess, txtA)
}

func TestCoreDNSDuplicateAPI(t *testing.T) {
	api := freePort(t)
	corefile := fmt.Sprintf(`a.example.test:%s {
	acmedns {
		api 127.0.0.1:%s
		db %s/a.db
	}
}
b.example.test:%s {
	acmedns {
		api 127.0.0.1:%s
		db %s/b.db
	}
}
`, freePort(t), api, t.TempDir(), freePort(t), api, t.TempDir())
	_, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
	if err == nil || !strings.Contains(err.Error(), "Corefile:9") || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("two blocks on one api address: %v", err)
	}
}

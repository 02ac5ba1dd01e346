package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// adminToken is the admin API token of every test CoreDNS.
const adminToken = "test-admin-token-0123456789"

// server is a real ../../coredns serving the customer zone example.test
// (file plugin) and auth.example.test (acmedns), DNS on one loopback port.
type server struct {
	dir      string
	DNS      string // 127.0.0.1:PORT, UDP and TCP
	API      string // http://127.0.0.1:PORT
	Admin    string // http://127.0.0.1:PORT
	mu       sync.Mutex
	serial   int
	lastZone string
}

// serverOpts selects the store and the customer zone's first content.
type serverOpts struct {
	redis string // a redis-server address; "" is the embedded store
	zone  string // records of example.test beyond SOA and NS
	extra string // more lines inside the acmedns block
}

const corefileTemplate = `example.test:{DNS} {
    bind 127.0.0.1
    file db.example.test {
        reload 200ms
    }
    errors
}
auth.example.test:{DNS} {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:{API}
        {STORE}
        nameserver ns1.auth.example.test 127.0.0.1
        admin 127.0.0.1:{ADMIN} {
            token ` + adminToken + `
        }
        limits {
            register off
        }
        {EXTRA}
    }
    errors
}
.:{DNS} {
    bind 127.0.0.1
    template ANY ANY {
        rcode NXDOMAIN
    }
}
`

// startServer starts CoreDNS and waits until DNS, the API and the admin
// API answer. The binary is ../../coredns (`make build`).
func startServer(t testing.TB, o serverOpts) *server {
	t.Helper()
	bin := filepath.Join(repoRoot(t), "coredns")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s not found (%v): run `make build` first", bin, err)
	}
	s := &server{dir: t.TempDir(), serial: 1}
	dnsPort, apiPort, adminPort := distinctPorts(t)
	store := "db " + filepath.Join(s.dir, "acmedns.db")
	if o.redis != "" {
		store = "redis " + o.redis
	}
	corefile := strings.NewReplacer("{DNS}", strconv.Itoa(dnsPort), "{API}", strconv.Itoa(apiPort),
		"{ADMIN}", strconv.Itoa(adminPort), "{STORE}", store, "{EXTRA}", o.extra).Replace(corefileTemplate)
	if err := os.WriteFile(filepath.Join(s.dir, "Corefile"), []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	s.writeZone(t, o.zone)
	s.DNS = fmt.Sprintf("127.0.0.1:%d", dnsPort)
	s.API = fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	s.Admin = fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	startProc(t, s.dir, "coredns", bin, "-conf", "Corefile")
	client := &http.Client{Timeout: time.Second}
	waitFor(t, 20*time.Second, "CoreDNS", func() bool {
		if !dialable(s.DNS) {
			return false
		}
		req, _ := http.NewRequest("GET", s.Admin+"/health", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return s
}

// distinctPorts are three free loopback ports, no two the same: a port
// just closed may be handed out again at once.
func distinctPorts(t testing.TB) (int, int, int) {
	t.Helper()
	for {
		a, b, c := freePort(t), freePort(t), freePort(t)
		if a != b && b != c && a != c {
			return a, b, c
		}
	}
}

// writeZone replaces the records of example.test (a higher serial, so the
// file plugin reloads it).
func (s *server) writeZone(t testing.TB, records string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.serial++
	zone := fmt.Sprintf("$ORIGIN example.test.\n@ 60 IN SOA ns1.example.test. hostmaster.example.test. %d 3600 600 604800 60\n"+
		"@ 60 IN NS ns1.example.test.\nns1 60 IN A 127.0.0.1\n%s\n", s.serial, records)
	if err := os.WriteFile(filepath.Join(s.dir, "db.example.test"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	s.lastZone = zone
}

// setZone replaces the records and waits until the SOA serial is served.
func (s *server) setZone(t testing.TB, records string) {
	t.Helper()
	s.writeZone(t, records)
	want := uint32(s.serial)
	c := &dns.Client{Net: "tcp", Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	waitFor(t, 15*time.Second, "the file plugin reloading example.test", func() bool {
		r, _, err := c.Exchange(m, s.DNS)
		if err != nil || len(r.Answer) == 0 {
			return false
		}
		soa, ok := r.Answer[0].(*dns.SOA)
		return ok && soa.Serial == want
	})
}

// txt asks for name TXT over net ("udp" or "tcp") and returns the values.
func (s *server) txt(t testing.TB, netw, name string) []string {
	t.Helper()
	c := &dns.Client{Net: netw, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeTXT)
	r, _, err := c.Exchange(m, s.DNS)
	if err != nil {
		t.Fatalf("%s TXT over %s: %v", name, netw, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		t.Fatalf("%s TXT over %s: %s", name, netw, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		if tx, ok := rr.(*dns.TXT); ok {
			out = append(out, strings.Join(tx.Txt, ""))
		}
	}
	return out
}

// admin is an admin API client whose connections close with the test.
func (s *server) admin(t testing.TB) *adminClient {
	c := newAdminClient(s.Admin, adminToken, 1)
	t.Cleanup(c.close)
	return c
}

// create makes an account in acmedns through the admin API, as an import
// would.
func (s *server) create(t testing.TB, e entry) {
	t.Helper()
	if err := s.admin(t).do(context.Background(), http.MethodPost, "/accounts", e, nil); err != nil {
		t.Fatalf("creating %s: %v", e.Subdomain, err)
	}
}

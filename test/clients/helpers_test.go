package clients

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
)

// zone is the acmedns zone every server in this package serves.
const zone = "auth.example.test"

// corefile is one acmedns on loopback with the embedded store.
const corefile = `auth.example.test:{DNS} {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:{API}
        nameserver ns1.auth.example.test 127.0.0.1
    }
}
`

// token returns a fresh value of the form a CA's DNS-01 digest takes: 43
// characters of the base64url alphabet.
func token(t testing.TB) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// expectTXT asks dnsAddr for the TXT records of name over UDP and over TCP
// and requires an authoritative NOERROR answer holding exactly want, in that
// order (newest first). With no want it requires NODATA.
func expectTXT(t testing.TB, dnsAddr, name string, want ...string) {
	t.Helper()
	fqdn := dns.Fqdn(name)
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 3 * time.Second}
		m := new(dns.Msg)
		m.SetQuestion(fqdn, dns.TypeTXT)
		r, _, err := c.Exchange(m, dnsAddr)
		if err != nil {
			t.Fatalf("%s TXT over %s: %v", fqdn, network, err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.Authoritative {
			t.Fatalf("%s TXT over %s: rcode %s, aa %v, want an authoritative NOERROR\n%s",
				fqdn, network, dns.RcodeToString[r.Rcode], r.Authoritative, r)
		}
		got := []string{}
		for _, rr := range r.Answer {
			txt, ok := rr.(*dns.TXT)
			if !ok || !strings.EqualFold(txt.Hdr.Name, fqdn) {
				t.Fatalf("%s TXT over %s: unexpected answer record %s", fqdn, network, rr)
			}
			got = append(got, strings.Join(txt.Txt, ""))
		}
		if want == nil {
			want = []string{}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s TXT over %s = %q, want %q (newest first)", fqdn, network, got, want)
		}
	}
}

var (
	uuidRE     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	passwordRE = regexp.MustCompile(`^[A-Za-z0-9_-]{40}$`)
)

// checkAccount requires the four fields every client reads from /register.
func checkAccount(t testing.TB, username, password, subdomain, fulldomain string) {
	t.Helper()
	if !uuidRE.MatchString(username) || !passwordRE.MatchString(password) || !uuidRE.MatchString(subdomain) ||
		fulldomain != subdomain+"."+zone {
		t.Fatalf("account username=%q password=%q subdomain=%q fulldomain=%q: want two UUIDs, "+
			"40 characters, and <subdomain>.%s", username, password, subdomain, fulldomain, zone)
	}
}

// wrongPassword returns a well-formed password that is not p.
func wrongPassword(p string) string {
	if p[0] == 'A' {
		return "B" + p[1:]
	}
	return "A" + p[1:]
}

// registerAllow registers over plain HTTP with body {"allowfrom": allow}, for
// the clients that never register themselves.
func registerAllow(t testing.TB, apiURL string, allow []string) harness.Account {
	t.Helper()
	body, _ := json.Marshal(map[string][]string{"allowfrom": allow})
	resp, err := http.Post(apiURL+"/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a harness.Account
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(resp.Body).Decode(&a) != nil {
		t.Fatalf("register %s: %s", body, resp.Status)
	}
	return a
}

// exchange is one request seen by a recorder and the answer it got.
type exchange struct {
	Method        string
	URI           string // as sent, e.g. "//register"
	Header        http.Header
	ContentLength int64
	Body          []byte
	Status        int
	Reply         []byte
}

// recorder is a pass-through HTTP proxy in front of the API that keeps a
// copy of every request and response, to see what a client puts on the wire.
// It changes neither (no X-Forwarded-For is added, and the API does not
// trust one anyway).
type recorder struct {
	URL string
	mu  sync.Mutex
	log []exchange
}

func newRecorder(t testing.TB, apiURL string) *recorder {
	t.Helper()
	target, err := url.Parse(apiURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(target) }}
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := exchange{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), ContentLength: r.ContentLength}
		x.Body, _ = io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(x.Body))
		cw := &captureWriter{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(cw, r)
		x.Status, x.Reply = cw.status, cw.buf.Bytes()
		rec.mu.Lock()
		rec.log = append(rec.log, x)
		rec.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// take returns the exchanges recorded since the last take; there must be n.
func (r *recorder) take(t testing.TB, n int) []exchange {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.log
	r.log = nil
	if len(got) != n {
		t.Fatalf("recorded %d requests, want %d: %+v", len(got), n, got)
	}
	return got
}

type captureWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (c *captureWriter) WriteHeader(code int) {
	c.status = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	c.buf.Write(b)
	return c.ResponseWriter.Write(b)
}

// wantExchange checks one recorded exchange.
func wantExchange(t testing.TB, x exchange, uri, contentType, body string, status int, reply string) {
	t.Helper()
	if x.Method != http.MethodPost || x.URI != uri {
		t.Errorf("request %s %s, want POST %s", x.Method, x.URI, uri)
	}
	if got := x.Header.Get("Content-Type"); got != contentType {
		t.Errorf("%s: Content-Type %q, want %q", uri, got, contentType)
	}
	if string(x.Body) != body {
		t.Errorf("%s: body %q, want %q", uri, x.Body, body)
	}
	if x.Status != status {
		t.Errorf("%s: answered %d %q, want %d", uri, x.Status, x.Reply, status)
	}
	if reply != "" && string(x.Reply) != reply {
		t.Errorf("%s: reply %q, want %q", uri, x.Reply, reply)
	}
}

// decodeAccount parses a recorded /register reply.
func decodeAccount(t testing.TB, reply []byte) harness.Account {
	t.Helper()
	var a harness.Account
	if err := json.Unmarshal(reply, &a); err != nil {
		t.Fatalf("register reply %q: %v", reply, err)
	}
	return a
}

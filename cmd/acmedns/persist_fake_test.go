package main

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// fakePersist stands in for the dns-persist-01 calls of the acmedns
// server, written to the API the server branch is adding (POST /persist
// and /unpersist with the credentials of /update; GET /accounts/SUB, PUT
// /accounts/SUB/persist and DELETE /accounts/SUB/persist/ISSUER on the
// admin API), and serves the account's TXT RRset over DNS. It is a fake of
// a real part, acceptable only while that server is not merged: the tests
// against ./coredns (persist_e2e_test.go) skip until it answers /persist.
type fakePersist struct {
	t          *testing.T
	sub, full  string
	user, key  string
	token      string
	api, admin string // base URLs
	dns        string // HOST:PORT
	mu         sync.Mutex
	records    map[string]string // issuer -> record
	tokens     []string          // dns-01 values beside the records
	requests   []fakeRequest
	refuse     string // when set, every /persist answers 400 with this code
}

// fakeRequest is one request the fake received.
type fakeRequest struct {
	Method, Path, ContentType string
	Header                    http.Header
	Body                      map[string]string
}

// newFakePersist starts the fake APIs and DNS server and writes the
// account's credentials into a storage file under domain.
func newFakePersist(t *testing.T, domain string) (*fakePersist, string) {
	f := &fakePersist{t: t, sub: "d420c923-bbd7-4056-ab64-c3ca54c9b3cf", full: "d420c923-bbd7-4056-ab64-c3ca54c9b3cf.auth.example.test",
		user: "c36f50e8-4632-44f0-83fe-e070fef28a10", key: "htB9mR9DYgcu9bX_afHF62erXaH2TS7bg9KW3F7Z", token: "fake-admin-token-0123456789",
		records: map[string]string{}, tokens: []string{"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"}}
	api := httptest.NewServer(http.HandlerFunc(f.servePublic))
	admin := httptest.NewServer(http.HandlerFunc(f.serveAdmin))
	t.Cleanup(api.Close)
	t.Cleanup(admin.Close)
	f.api, f.admin = api.URL, admin.URL
	f.dns = f.startDNS()
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	cred, _ := json.Marshal(map[string]credentials{domain: {FullDomain: f.full, SubDomain: f.sub, Username: f.user, Password: f.key, ServerURL: f.api}})
	if err := os.WriteFile(storage, cred, 0o600); err != nil {
		t.Fatal(err)
	}
	return f, storage
}

// record notes a request and decodes its JSON body.
func (f *fakePersist) record(r *http.Request) fakeRequest {
	req := fakeRequest{Method: r.Method, Path: r.URL.EscapedPath(), ContentType: r.Header.Get("Content-Type"), Header: r.Header.Clone()}
	json.NewDecoder(r.Body).Decode(&req.Body)
	f.requests = append(f.requests, req)
	return req
}

// reply writes a JSON answer as the server does.
func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

// servePublic answers POST /persist and /unpersist.
func (f *fakePersist) servePublic(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req := f.record(r)
	if r.Method != http.MethodPost || (req.Path != "/persist" && req.Path != "/unpersist") {
		reply(w, http.StatusNotFound, `{"error": "not_found"}`)
		return
	}
	if r.Header.Get("X-Api-User") != f.user || r.Header.Get("X-Api-Key") != f.key || req.Body["subdomain"] != f.sub {
		reply(w, http.StatusUnauthorized, `{"error": "forbidden"}`)
		return
	}
	if req.Path == "/unpersist" {
		delete(f.records, strings.ToLower(req.Body["issuer"]))
		reply(w, http.StatusOK, `{}`)
		return
	}
	f.store(w, req.Body["record"])
}

// store keeps record under its issuer: 400 bad_record without one or an
// accounturi, 400 too_many_records for a fifth issuer.
func (f *fakePersist) store(w http.ResponseWriter, record string) {
	issuer, params, _ := strings.Cut(record, ";")
	issuer = strings.ToLower(strings.TrimSpace(issuer))
	switch _, known := f.records[issuer]; {
	case f.refuse != "":
		b, _ := json.Marshal(map[string]string{"error": f.refuse})
		reply(w, http.StatusBadRequest, string(b))
	case issuer == "" || !strings.Contains(strings.ToLower(params), "accounturi="):
		reply(w, http.StatusBadRequest, `{"error": "bad_record"}`)
	case !known && len(f.records) == 4:
		reply(w, http.StatusBadRequest, `{"error": "too_many_records"}`)
	default:
		f.records[issuer] = record
		b, _ := json.Marshal(map[string]string{"record": record})
		reply(w, http.StatusOK, string(b))
	}
}

// serveAdmin answers the admin API's account and persist calls.
func (f *fakePersist) serveAdmin(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	req := f.record(r)
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		reply(w, http.StatusUnauthorized, `{"error": "unauthorized"}`)
		return
	}
	rest, ok := strings.CutPrefix(req.Path, "/accounts/"+f.sub)
	switch {
	case !ok:
		reply(w, http.StatusNotFound, `{"error": "not_found"}`)
	case rest == "" && r.Method == http.MethodGet:
		b, _ := json.Marshal(account{Subdomain: f.sub, Username: f.user, Fulldomain: f.full, TXT: []txtValue{}, Persist: f.list()})
		reply(w, http.StatusOK, string(b))
	case rest == "/persist" && r.Method == http.MethodPut:
		f.store(w, req.Body["record"])
	case strings.HasPrefix(rest, "/persist/") && r.Method == http.MethodDelete:
		delete(f.records, strings.ToLower(strings.TrimPrefix(rest, "/persist/")))
		reply(w, http.StatusOK, `{}`)
	default:
		reply(w, http.StatusNotFound, `{"error": "not_found"}`)
	}
}

// list is the records, in no particular order.
func (f *fakePersist) list() []string {
	out := []string{}
	for _, r := range f.records {
		out = append(out, r)
	}
	return out
}

// startDNS serves the fulldomain's TXT RRset (the dns-01 values and the
// records) over UDP and returns its address.
func (f *fakePersist) startDNS() string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if !strings.EqualFold(q.Question[0].Name, dns.Fqdn(f.full)) {
			m.Rcode = dns.RcodeNameError
		} else if q.Question[0].Qtype == dns.TypeTXT {
			f.mu.Lock()
			for _, v := range append(append([]string{}, f.tokens...), f.list()...) {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: dns.Fqdn(f.full), Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: splitTXT(v)})
			}
			f.mu.Unlock()
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	f.t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// splitTXT cuts a value into character-strings of 255 octets at most.
func splitTXT(v string) []string {
	var out []string
	for len(v) > 255 {
		out, v = append(out, v[:255]), v[255:]
	}
	return append(out, v)
}

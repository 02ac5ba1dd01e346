package httpapi

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// Records of the tests, for four issuers and a fifth.
const (
	recA = "ca.example; accounturi=https://ca.example/acct/1; policy=wildcard"
	recB = "b.example; accounturi=https://b.example/acct/1"
	recC = "c.example; accounturi=" + hashedURI
	recD = "d.example; accounturi=https://d.example/acct/1?a=1&b=2"
	recE = "e.example; accounturi=https://e.example/acct/1"
)

// post sends body, with acc's credentials, to path.
func (acc account) post(t *testing.T, url, path, body string) reply {
	t.Helper()
	return call(t, "POST", url+path, body, "X-Api-User", acc.Username, "X-Api-Key", acc.Password)
}

// persistBody is the /persist body for sub and record.
func persistBody(sub, record string) string {
	return `{"subdomain":"` + sub + `","record":"` + record + `"}`
}

// servedPersist returns the persistent records the store serves for sub.
func servedPersist(t *testing.T, svc *Service, sub string) []string {
	t.Helper()
	rec, err := svc.store.Record(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return rec.Persist
}

func TestPersist(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	acc := register(t, url, "")
	in := "  CA.Example;accounturi=https://ca.example/acct/1 ;policy=wildcard"
	r := acc.post(t, url, "/persist", persistBody(acc.Subdomain, in))
	if r.status != 200 || r.body != `{"record":"`+recA+`"}` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("persist: %d %q", r.status, r.body)
	}
	for _, rec := range []string{recB, recC, recD, recA} {
		if r := acc.post(t, url, "/persist", persistBody(acc.Subdomain, rec)); r.status != 200 {
			t.Fatalf("persist %q: %d %s", rec, r.status, r.body)
		}
	}
	want := []string{recA, recB, recC, recD}
	if got := servedPersist(t, svc, acc.Subdomain); !reflect.DeepEqual(got, want) {
		t.Fatalf("records %q; want %q", got, want)
	}
	acc.update(t, url, txtA)
	values, _ := svc.store.TXT(context.Background(), acc.Subdomain)
	if got := texts(values); !reflect.DeepEqual(got, append([]string{txtA}, want...)) {
		t.Fatalf("served %q", got)
	}
	r = acc.post(t, url, "/unpersist", `{"subdomain":"`+acc.Subdomain+`","issuer":"B.example"}`)
	if r.status != 200 || r.body != `{"unpersisted": "b.example"}` {
		t.Fatalf("unpersist: %d %q", r.status, r.body)
	}
	r = acc.post(t, url, "/unpersist", `{"subdomain":"`+acc.Subdomain+`","issuer":"b.example"}`)
	if r.status != 200 || r.body != `{"unpersisted": "b.example"}` {
		t.Fatalf("unpersist again: %d %q", r.status, r.body)
	}
	if got := servedPersist(t, svc, acc.Subdomain); !reflect.DeepEqual(got, []string{recA, recC, recD}) {
		t.Fatalf("after unpersist: %q", got)
	}
}

func TestPersistErrors(t *testing.T) {
	svc := newTestService(t, testConfig(), boltStore(t))
	url := apiServer(t, svc)
	acc := register(t, url, "")
	other := register(t, url, "")
	restricted := register(t, url, `{"allowfrom":["192.0.2.0/24"]}`)
	full := register(t, url, "")
	for _, rec := range []string{recA, recB, recC, recD} {
		if r := full.post(t, url, "/persist", persistBody(full.Subdomain, rec)); r.status != 200 {
			t.Fatal(r)
		}
	}
	forbidden, badRecord := `{"error": "forbidden"}`, `{"error": "bad_record"}`
	cases := []struct {
		name, path, user, key, body string
		status                      int
		want                        string
	}{
		{"no headers", "/persist", "", "", persistBody(acc.Subdomain, recA), 401, forbidden},
		{"unknown user", "/persist", uuid.NewString(), acc.Password, persistBody(acc.Subdomain, recA), 401, forbidden},
		{"wrong key", "/persist", acc.Username, other.Password, persistBody(acc.Subdomain, recA), 401, forbidden},
		{"other subdomain", "/persist", acc.Username, acc.Password, persistBody(other.Subdomain, recA), 401, forbidden},
		{"source not allowed", "/persist", restricted.Username, restricted.Password, persistBody(restricted.Subdomain, recA), 401, forbidden},
		{"bad record, wrong key", "/persist", acc.Username, other.Password, persistBody(acc.Subdomain, "x"), 401, forbidden},
		{"no record", "/persist", acc.Username, acc.Password, `{"subdomain":"` + acc.Subdomain + `"}`, 400, badRecord},
		{"no accounturi", "/persist", acc.Username, acc.Password, persistBody(acc.Subdomain, "ca.example; policy=wildcard"), 400, badRecord},
		{"http accounturi", "/persist", acc.Username, acc.Password, persistBody(acc.Subdomain, "ca.example; accounturi=http://ca.example/1"), 400, badRecord},
		{"other policy", "/persist", acc.Username, acc.Password, persistBody(acc.Subdomain, "ca.example; accounturi=https://ca.example/1; policy=x"), 400, badRecord},
		{"too long", "/persist", acc.Username, acc.Password, persistBody(acc.Subdomain, "ca.example; accounturi=https://ca.example/"+strings.Repeat("x", 1024)), 400, badRecord},
		{"a fifth issuer", "/persist", full.Username, full.Password, persistBody(full.Subdomain, recE), 400, `{"error": "too_many_records"}`},
		{"unpersist, wrong key", "/unpersist", full.Username, acc.Password, `{"subdomain":"` + full.Subdomain + `","issuer":"ca.example"}`, 401, forbidden},
		{"unpersist, other subdomain", "/unpersist", acc.Username, acc.Password, `{"subdomain":"` + full.Subdomain + `","issuer":"ca.example"}`, 401, forbidden},
		{"unpersist, source not allowed", "/unpersist", restricted.Username, restricted.Password, `{"subdomain":"` + restricted.Subdomain + `","issuer":"ca.example"}`, 401, forbidden},
		{"unpersist, bad issuer", "/unpersist", full.Username, full.Password, `{"subdomain":"` + full.Subdomain + `","issuer":"ca.example; x=y"}`, 400, `{"error": "bad_issuer"}`},
		{"unpersist, no issuer", "/unpersist", full.Username, full.Password, `{"subdomain":"` + full.Subdomain + `"}`, 400, `{"error": "bad_issuer"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, "POST", url+tc.path, tc.body, "X-Api-User", tc.user, "X-Api-Key", tc.key)
			if r.status != tc.status || r.body != tc.want {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tc.status, tc.want)
			}
		})
	}
	for _, a := range []account{acc, other, restricted} {
		if got := servedPersist(t, svc, a.Subdomain); len(got) != 0 {
			t.Errorf("%s changed by rejected calls: %q", a.Subdomain, got)
		}
	}
	if got := servedPersist(t, svc, full.Subdomain); !reflect.DeepEqual(got, []string{recA, recB, recC, recD}) {
		t.Errorf("%s changed by rejected calls: %q", full.Subdomain, got)
	}
	for _, path := range []string{"/persist", "/unpersist"} {
		if r := call(t, "GET", url+path, ""); r.status != 405 || r.header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d %v", path, r.status, r.header)
		}
	}
	svc.store.Close()
	for _, path := range []string{"/persist", "/unpersist"} {
		r := acc.post(t, url, path, `{"subdomain":"`+acc.Subdomain+`","record":"`+recB+`","issuer":"b.example"}`)
		if r.status != 503 || r.body != `{"error": "storage_unavailable"}` {
			t.Errorf("%s on a closed store: %d %q", path, r.status, r.body)
		}
	}
}

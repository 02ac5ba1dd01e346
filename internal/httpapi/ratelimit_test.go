package httpapi

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (127.0.0.2, ...).
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

func callFrom(t *testing.T, c *http.Client, method, url, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

func (acc account) updateFrom(t *testing.T, c *http.Client, url, key string) reply {
	t.Helper()
	return callFrom(t, c, "POST", url+"/update", `{"subdomain":"`+acc.Subdomain+`","txt":"`+txtA+`"}`,
		"X-Api-User", acc.Username, "X-Api-Key", key)
}

const tooMany = `{"error": "too_many_requests"}`

// TestFailureLimit: a client that spends its failure budget gets 429 with
// Retry-After and no bcrypt; another address with valid credentials gets
// 200 throughout; successes never spend the budget.
func TestFailureLimit(t *testing.T) {
	cfg := testConfig()
	cfg.AuthCache = AuthCache{}
	cfg.Limits.AuthFailures = Rate{PerSecond: 1.0 / 60, Burst: 3}
	h, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	acc := register(t, url, "")
	attacker, legit := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")

	for i := range 3 {
		if r := acc.updateFrom(t, attacker, url, newPassword()); r.status != 401 {
			t.Fatalf("wrong key %d within the budget: %d %s", i, r.status, r.body)
		}
	}
	runs := h.gate.runs.Load()
	for i := range 5 {
		r := acc.updateFrom(t, attacker, url, newPassword())
		if r.status != 429 || r.body != tooMany || r.header.Get("Retry-After") == "" {
			t.Fatalf("wrong key %d over the budget: %d %s %v", i, r.status, r.body, r.header)
		}
		if ra, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
			t.Errorf("Retry-After %q, want 1 to 60 s at 1/m", r.header.Get("Retry-After"))
		}
		// The legitimate client on another address is not affected.
		if r := acc.updateFrom(t, legit, url, acc.Password); r.status != 200 {
			t.Fatalf("valid update from 127.0.0.2 while 127.0.0.1 is limited: %d %s", r.status, r.body)
		}
	}
	if got := h.gate.runs.Load() - runs; got != 5 {
		t.Errorf("%d bcrypt compares for 5 limited and 5 valid requests, want 5 (the valid ones)", got)
	}
	// The limited address is refused even with valid credentials, as that
	// would take a compare: its budget is shared by whoever uses it.
	if r := acc.updateFrom(t, attacker, url, acc.Password); r.status != 429 {
		t.Errorf("valid key from the limited address: %d", r.status)
	}
	// 127.0.0.2 made 5 successful updates above: its budget is whole.
	for i := range 3 {
		if r := acc.updateFrom(t, legit, url, newPassword()); r.status != 401 {
			t.Errorf("wrong key %d from 127.0.0.2 after its successes: %d (successes spent the budget)", i, r.status)
		}
	}
	if r := acc.updateFrom(t, legit, url, newPassword()); r.status != 429 {
		t.Errorf("fourth failure from 127.0.0.2: %d, want 429", r.status)
	}
	// Malformed credentials spend the budget too, without bcrypt.
	c3 := clientFrom(t, "127.0.0.3")
	for i, want := range []int{401, 401, 401, 429} {
		if r := callFrom(t, c3, "POST", url+"/update", "{}", "X-Api-User", "nobody", "X-Api-Key", "x"); r.status != want {
			t.Errorf("malformed credentials %d: %d, want %d", i, r.status, want)
		}
	}
}

// TestFailureLimitCachedSuccess: a client whose address is over its budget
// still updates when its credentials were verified before: the cached
// check costs no bcrypt.
func TestFailureLimitCachedSuccess(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.AuthFailures = Rate{PerSecond: 1.0 / 60, Burst: 2}
	_, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	acc := register(t, url, "")
	c := clientFrom(t, "127.0.0.1")
	if r := acc.updateFrom(t, c, url, acc.Password); r.status != 200 {
		t.Fatal(r)
	}
	for range 2 {
		acc.updateFrom(t, c, url, newPassword())
	}
	if r := acc.updateFrom(t, c, url, newPassword()); r.status != 429 {
		t.Fatalf("over budget: %d", r.status)
	}
	if r := acc.updateFrom(t, c, url, acc.Password); r.status != 200 {
		t.Errorf("verified credentials over budget: %d %s", r.status, r.body)
	}
}

func TestRegisterLimit(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.Register = Rate{PerSecond: 1.0 / 3600, Burst: 2}
	h, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	one, two := clientFrom(t, "127.0.0.1"), clientFrom(t, "127.0.0.2")
	for i := range 2 {
		if r := callFrom(t, one, "POST", url+"/register", ""); r.status != 201 {
			t.Fatalf("registration %d: %d", i, r.status)
		}
	}
	runs := h.gate.runs.Load()
	r := callFrom(t, one, "POST", url+"/register", "")
	if r.status != 429 || r.body != tooMany || r.header.Get("Retry-After") == "" {
		t.Fatalf("third registration: %d %s %v", r.status, r.body, r.header)
	}
	if h.gate.runs.Load() != runs {
		t.Error("a limited registration spent bcrypt")
	}
	if r := callFrom(t, two, "POST", url+"/register", ""); r.status != 201 {
		t.Errorf("registration from 127.0.0.2: %d", r.status)
	}
}

func TestClientKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"::ffff:192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{"2001:db8:1:2::1", "2001:db8:1:2::"},
		{"fe80::1%eth0", "fe80::"},
	}
	for _, tc := range tests {
		if got := ClientKey(netip.MustParseAddr(tc.in)); got != netip.MustParseAddr(tc.want) {
			t.Errorf("ClientKey(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestClientLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newClientLimiter(Rate{PerSecond: 1, Burst: 2}, 3)
	l.now = func() time.Time { return now }
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }

	// One /64 shares a bucket; another /64 has its own.
	for i, want := range []bool{true, true, false} {
		if ok, _ := l.take(ip("2001:db8::" + string(rune('1'+i)))); ok != want {
			t.Errorf("take %d in one /64: %v, want %v", i, ok, want)
		}
	}
	if ok, _ := l.take(ip("2001:db8:0:1::1")); !ok {
		t.Error("another /64 was limited")
	}
	_, retry := l.take(ip("2001:db8::9"))
	if retry != time.Second {
		t.Errorf("retry after %s, want 1s", retry)
	}
	now = now.Add(1500 * time.Millisecond)
	if ok, _ := l.take(ip("2001:db8::1")); !ok {
		t.Error("no refill after 1.5 s")
	}
	l.refund(ip("2001:db8::1"))
	l.refund(ip("2001:db8::1"))
	if ok, _ := l.take(ip("2001:db8::1")); !ok {
		t.Error("refund lost")
	}
	// The table never holds more than its bound.
	for _, s := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5"} {
		l.take(ip(s))
	}
	if n := l.tracked(); n != 3 {
		t.Errorf("%d clients tracked, bound 3", n)
	}
	var off *clientLimiter = newClientLimiter(Rate{}, 3)
	if ok, _ := off.take(ip("192.0.2.1")); !ok || off != nil {
		t.Error("an off limiter limited")
	}
}

// TestTarpit: a refusal by a limit is held back, so a client repeating at
// once is slowed to one request per delay on its connection; a client that
// hangs up is let go at once.
func TestTarpit(t *testing.T) {
	defer func(d time.Duration) { tarpitDelay = d }(tarpitDelay)
	tarpitDelay = 300 * time.Millisecond
	cfg := testConfig()
	cfg.Limits.Register = Rate{PerSecond: 1.0 / 3600, Burst: 1}
	_, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	register(t, url, "")
	start := time.Now()
	n := 0
	for time.Since(start) < time.Second {
		if r := call(t, "POST", url+"/register", ""); r.status != 429 {
			t.Fatalf("over the budget: %d", r.status)
		}
		n++
	}
	if n > 4 {
		t.Errorf("%d refusals within a second, want at most 4 with a 300 ms tarpit", n)
	}
}

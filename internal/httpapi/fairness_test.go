package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// setCost makes the gate assume that one operation takes d.
func (a *admission) setCost(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.cost = d
}

// TestFairAdmissionRoundRobin: with the slot busy, a client that queued a
// burst first and another that queued two later are served in turn, not
// one after the other.
func TestFairAdmissionRoundRobin(t *testing.T) {
	g := newAdmission(Limits{BcryptSlots: 1, BcryptQueue: 100, BcryptWait: time.Minute})
	hold, err := g.grab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	burst, other := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	order := make(chan string, 8)
	queue := func(client netip.Addr, name string) {
		n := g.waiting()
		go func() {
			release, err := g.grabFor(context.Background(), client)
			if err != nil {
				order <- name + " " + err.Error()
				return
			}
			order <- name
			release()
		}()
		eventuallyTrue(t, name+" queued", func() bool { return g.waiting() == n+1 })
	}
	for i := range 4 {
		queue(burst, fmt.Sprintf("a%d", i))
	}
	queue(other, "b0")
	// Another address of the same /64 is the same client.
	queue(netip.MustParseAddr("2001:db8::2"), "b1")
	hold()
	var got []string
	for range 6 {
		got = append(got, <-order)
	}
	want := []string{"a0", "b0", "a1", "b1", "a2", "a3"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("served %v, want %v", got, want)
	}
}

// TestAdmissionRefusesAtOnce: a request whose expected wait is over the
// bound is refused before it waits, with a Retry-After of that wait;
// another client, with less ahead of it in the round-robin order, still
// gets a place.
func TestAdmissionRefusesAtOnce(t *testing.T) {
	g := newAdmission(Limits{BcryptSlots: 1, BcryptQueue: 100, BcryptWait: 2500 * time.Millisecond})
	g.setCost(time.Second)
	hold, _ := g.grab(context.Background())
	defer hold()
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	wait := func(client netip.Addr) {
		n := g.waiting()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.grabFor(ctx, client); !errors.Is(err, errGone) {
				t.Errorf("queued request: %v, want errGone when its client leaves", err)
			}
		}()
		eventuallyTrue(t, "request queued", func() bool { return g.waiting() == n+1 })
	}
	wait(a) // expected 1s
	wait(a) // expected 2s
	start := time.Now()
	_, err := g.grabFor(context.Background(), a) // expected 3s: over the bound
	var busy *busyError
	if !errors.As(err, &busy) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("third request of a: %v after %s, want busy at once", err, time.Since(start))
	}
	if busy.retryAfter != 3*time.Second {
		t.Errorf("Retry-After %s, want the 3s the queue ahead takes", busy.retryAfter)
	}
	wait(b) // one of a's ahead of it, then b: expected 2s
	if n := g.waiting(); n != 3 {
		t.Errorf("%d waiting, want 3", n)
	}
}

// seedAccounts stores n accounts of one cost-4 hash of password, so that
// tests under the race detector need not hash.
func seedAccounts(t *testing.T, s store.Store, n int, password string) []account {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	accts := make([]account, n)
	for i := range accts {
		a := store.Account{Username: uuid.NewString(), PasswordHash: hash, Subdomain: uuid.NewString(), AllowFrom: []string{}}
		if err := s.Register(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		accts[i] = account{Username: a.Username, Password: password, Subdomain: a.Subdomain}
	}
	return accts
}

// TestBurstWithinFailureBudget: a burst of valid, uncached updates from one
// address, many more than its failure budget, all succeed: a compare holds
// a token only while it runs.
func TestBurstWithinFailureBudget(t *testing.T) {
	cfg := testConfig()
	cfg.AuthCache = AuthCache{}
	cfg.Limits.BcryptSlots = 1
	cfg.Limits.AuthFailures = Rate{PerSecond: 1.0 / 3600, Burst: 2}
	svc := newTestService(t, cfg, boltStore(t))
	_, url := limitedAPI(t, svc)
	accts := seedAccounts(t, svc.store, 12, newPassword())
	c := clientFrom(t, "127.0.0.4")
	var wg sync.WaitGroup
	statuses := make([]int, len(accts))
	for i, acc := range accts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = acc.updateFrom(t, c, url, acc.Password).status
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("update %d of the burst: %d, want 200 (all: %v)", i, s, statuses)
			break
		}
	}
}

// TestUnknownCredentialsRunNoBcrypt: updates naming no account (an unknown
// username, an unknown subdomain, a body that cannot be read) are refused
// without a bcrypt operation, after about as long as a compare takes; a
// wrong key for a real account is compared.
func TestUnknownCredentialsRunNoBcrypt(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.AuthFailures = Rate{}
	svc := newTestService(t, cfg, boltStore(t))
	h, url := limitedAPI(t, svc)
	acc := seedAccounts(t, svc.store, 1, newPassword())[0]
	h.gate.setCost(300 * time.Millisecond)
	runs := h.gate.runs.Load()
	hdr := func(user string) []string { return []string{"X-Api-User", user, "X-Api-Key", newPassword()} }
	body := func(sub string) string { return `{"subdomain": "` + sub + `", "txt": "` + txtA + `"}` }
	cases := []struct {
		name, body string
		headers    []string
	}{
		{"unknown username", body(acc.Subdomain), hdr(uuid.NewString())},
		{"unknown subdomain", body(uuid.NewString()), hdr(acc.Username)},
		{"unreadable body", `{"subdomain": `, hdr(acc.Username)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := call(t, "POST", url+"/update", tc.body, tc.headers...)
			took := time.Since(start)
			if r.status != 401 || r.body != `{"error": "forbidden"}` {
				t.Errorf("%d %s, want 401 forbidden", r.status, r.body)
			}
			if took < 250*time.Millisecond {
				t.Errorf("answered after %s: not delayed like a compare of 300ms", took)
			}
		})
	}
	if got := h.gate.runs.Load() - runs; got != 0 {
		t.Errorf("%d bcrypt operations for credentials naming no account", got)
	}
	if r := acc.update(t, url, txtA); r.status != 200 {
		t.Fatalf("valid update: %d %s", r.status, r.body)
	}
	if got := h.gate.runs.Load() - runs; got != 1 {
		t.Errorf("%d bcrypt operations for a real account's update, want 1", got)
	}
}

// TestQueuedAnswerOutlivesServerTimeouts: a request that waits for its slot
// longer than the server's read and write timeouts is still answered (and
// its update stored), not cut off by a deadline that passed while it
// waited.
func TestQueuedAnswerOutlivesServerTimeouts(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptWait = 1, 30*time.Second
	svc := newTestService(t, cfg, boltStore(t))
	svc.gate = newAdmission(cfg.Limits)
	srv := httptest.NewUnstartedServer(svc.newAPI())
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	acc := seedAccounts(t, svc.store, 1, newPassword())[0]
	hold, _ := svc.gate.grab(context.Background())
	done := make(chan reply)
	c := clientFrom(t, "127.0.0.1") // gives up after 30s
	go func() { done <- acc.updateFrom(t, c, srv.URL, acc.Password) }()
	eventuallyTrue(t, "update queued", func() bool { return svc.gate.waiting() == 1 })
	time.Sleep(time.Second) // past both timeouts
	hold()
	if r := <-done; r.status != 200 {
		t.Errorf("update answered after waiting past the server's timeouts: %d %q", r.status, r.body)
	}
	if got, _ := svc.store.TXT(context.Background(), acc.Subdomain); len(got) != 1 {
		t.Errorf("stored %v, want the update's value", got)
	}
}

// TestAdminBusy: an admin create or rotate that cannot have a bcrypt slot
// in time is answered 503 busy with the gate's Retry-After, and changes
// nothing.
func TestAdminBusy(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptQueue = 1, 0
	svc := newTestService(t, cfg, boltStore(t))
	svc.gate = newAdmission(cfg.Limits)
	svc.gate.setCost(2 * time.Second)
	url := adminServer(t, svc)
	hold, _ := svc.gate.grab(context.Background())
	defer hold()
	for _, c := range []struct{ method, path string }{{"POST", "/accounts"}, {"POST", "/accounts/nobody/password"}} {
		r := adminCall(t, c.method, url+c.path, "")
		if r.status != 503 || r.body != `{"error": "busy"}` || r.header.Get("Retry-After") != "2" {
			t.Errorf("%s %s with the gate full: %d %s Retry-After %q, want 503 busy after 2", c.method, c.path, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	if accts, _, err := svc.store.List(context.Background(), "", 10); err == nil && len(accts) != 0 {
		t.Errorf("a refused create stored %d accounts", len(accts))
	}
}

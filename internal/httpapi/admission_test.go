package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// limitedAPI serves s's API over real HTTP with a bcrypt gate of its own
// (configured from s's limits), so tests running at once do not share it.
func limitedAPI(t *testing.T, s *Service) (*api, string) {
	t.Helper()
	s.gate = newAdmission(s.cfg.Limits)
	h := s.newAPI()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestAdmissionGate(t *testing.T) {
	g := newAdmission(Limits{BcryptSlots: 1, BcryptQueue: 1, BcryptWait: 100 * time.Millisecond})
	ctx := context.Background()
	release, err := g.grab(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One waiter fits in the queue and gives up at twice the bound; a
	// second is refused at once.
	done := make(chan error)
	go func() { _, err := g.grab(ctx); done <- err }()
	eventuallyTrue(t, "waiter queued", func() bool { return g.waiting() == 1 })
	start := time.Now()
	if _, err := g.grab(ctx); !errors.Is(err, errBusy) || time.Since(start) > 50*time.Millisecond {
		t.Errorf("full queue: %v after %s, want errBusy at once", err, time.Since(start))
	}
	if err := <-done; !errors.Is(err, errBusy) {
		t.Errorf("waiter past twice its bound: %v, want errBusy", err)
	}
	// A waiter whose context ends leaves the queue with errGone.
	cctx, cancel := context.WithCancel(ctx)
	go func() { _, err := g.grab(cctx); done <- err }()
	eventuallyTrue(t, "waiter queued", func() bool { return g.waiting() == 1 })
	cancel()
	if err := <-done; err != errGone {
		t.Errorf("cancelled waiter: %v, want errGone", err)
	}
	// A released slot goes to the next waiter.
	go func() {
		r, err := g.grab(ctx)
		if err == nil {
			r()
		}
		done <- err
	}()
	eventuallyTrue(t, "waiter queued", func() bool { return g.waiting() == 1 })
	release()
	if err := <-done; err != nil {
		t.Errorf("waiter handed the slot: %v", err)
	}
	if _, err := g.grab(cctx); err != errGone {
		t.Errorf("acquire with an ended context: %v, want errGone", err)
	}
	if g.peak.Load() != 1 {
		t.Errorf("peak %d, want 1", g.peak.Load())
	}
}

// TestBcryptAdmissionFlood: 32 concurrent wrong-key updates never run more
// bcrypt compares at once than the limit; the overflow is 503 busy with
// Retry-After, and nothing is stored.
func TestBcryptAdmissionFlood(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptQueue, cfg.Limits.BcryptWait = 2, 4, time.Second
	cfg.Limits.AuthFailures = Rate{}
	svc := newTestService(t, cfg, boltStore(t))
	h, url := limitedAPI(t, svc)
	acc := register(t, url, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	for i := range 32 {
		wg.Add(1)
		c := clientFrom(t, fmt.Sprintf("127.0.1.%d", i+1)) // 32 clients: no one's share binds
		go func() {
			defer wg.Done()
			wrong := account{Username: acc.Username, Password: newPassword(), Subdomain: acc.Subdomain}
			r := wrong.updateFrom(t, c, url, wrong.Password)
			key := fmt.Sprintf("%d %s retry=%s", r.status, r.body, r.header.Get("Retry-After"))
			mu.Lock()
			statuses[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if p := h.gate.peak.Load(); p > 2 || p < 1 {
		t.Errorf("bcrypt concurrency peaked at %d, limit 2", p)
	}
	busy := 0 // Retry-After is the expected wait: 1 s or more
	for k, n := range statuses {
		if strings.HasPrefix(k, `503 {"error": "busy"} retry=`) && !strings.HasSuffix(k, "retry=") {
			busy += n
		}
	}
	forbidden := statuses[`401 {"error": "forbidden"} retry=`]
	if busy == 0 || forbidden < 2 || busy+forbidden != 32 {
		t.Errorf("statuses %v: want some 503 busy with Retry-After and at least 2 compares answered 401", statuses)
	}
	if runs := h.gate.runs.Load(); runs != uint64(forbidden)+1 { // +1: the registration's hash
		t.Errorf("%d bcrypt operations for %d answered compares", runs, forbidden)
	}
	if got, _ := svc.store.TXT(context.Background(), acc.Subdomain); len(got) != 0 {
		t.Errorf("rejected updates stored %v", got)
	}
}

// TestBcryptAdmissionClientGone: a request whose client hung up while it
// waited for a slot never spends a compare.
func TestBcryptAdmissionClientGone(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptQueue, cfg.Limits.BcryptWait = 1, 8, 5*time.Second
	cfg.Limits.AuthFailures = Rate{}
	h, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	acc := register(t, url, "")
	hold, err := h.gate.grab(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	runs := h.gate.runs.Load()
	for range 5 {
		c, err := net.Dial("tcp", url[len("http://"):])
		if err != nil {
			t.Fatal(err)
		}
		body := `{"subdomain":"` + acc.Subdomain + `","txt":"` + txtA + `"}`
		fmt.Fprintf(c, "POST /update HTTP/1.1\r\nHost: x\r\nX-Api-User: %s\r\nX-Api-Key: %s\r\nContent-Length: %d\r\n\r\n%s",
			acc.Username, newPassword(), len(body), body)
		eventuallyTrue(t, "request queued", func() bool { return h.gate.waiting() == 1 })
		c.Close()
		eventuallyTrue(t, "abandoned request left the queue", func() bool { return h.gate.waiting() == 0 })
	}
	hold()
	time.Sleep(100 * time.Millisecond)
	if got := h.gate.runs.Load(); got != runs {
		t.Errorf("%d compares ran for abandoned requests", got-runs)
	}
	// The gate still works for a client that stays.
	if r := acc.update(t, url, txtA); r.status != 200 {
		t.Errorf("update after the abandoned ones: %d %s", r.status, r.body)
	}
}

// TestStoreTimeoutAfterAdmission: a request that waited for bcrypt longer
// than the store timeout is still stored, not answered storage_unavailable.
func TestStoreTimeoutAfterAdmission(t *testing.T) {
	cfg := testConfig()
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptQueue, cfg.Limits.BcryptWait = 1, 8, 20*time.Second
	h, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	acc := register(t, url, "")
	hold, _ := h.gate.grab(context.Background())
	done := make(chan reply)
	go func() { done <- acc.update(t, url, txtA) }()
	eventuallyTrue(t, "update queued", func() bool { return h.gate.waiting() == 1 })
	time.Sleep(apiTimeout + 500*time.Millisecond)
	hold()
	if r := <-done; r.status != 200 {
		t.Errorf("update queued past the store timeout: %d %s", r.status, r.body)
	}
}

// TestBcryptClientShare: one client flooding with wrong keys holds at most
// its share of the slots and queue; another client still gets a place and
// its valid update through.
func TestBcryptClientShare(t *testing.T) {
	cfg := testConfig()
	cfg.AuthCache = AuthCache{}
	// The wait bound covers the flood's two queued compares before the
	// other client's: 2s did not under the race detector, where a compare
	// takes over a second. No assertion depends on it.
	cfg.Limits.BcryptSlots, cfg.Limits.BcryptQueue, cfg.Limits.BcryptWait = 1, 7, 20*time.Second
	cfg.Limits.AuthFailures = Rate{}
	h, url := limitedAPI(t, newTestService(t, cfg, boltStore(t)))
	acc := register(t, url, "")
	if share := h.gate.share(); share != 2 {
		t.Fatalf("share %d, want 2 of 1 slot and 7 queue places", share)
	}
	hold, _ := h.gate.grab(context.Background()) // the slot is busy
	flood := clientFrom(t, "127.0.0.3")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := acc.updateFrom(t, flood, url, newPassword())
			mu.Lock()
			statuses[r.status]++
			mu.Unlock()
		}()
	}
	eventuallyTrue(t, "the flood's share queued", func() bool { return h.gate.waiting() == 2 })
	time.Sleep(50 * time.Millisecond)
	if w := h.gate.waiting(); w != 2 {
		t.Errorf("%d waiting, want the flood's share of 2", w)
	}
	done := make(chan reply)
	go func() { done <- acc.updateFrom(t, clientFrom(t, "127.0.0.2"), url, acc.Password) }()
	eventuallyTrue(t, "the other client queued", func() bool { return h.gate.waiting() == 3 })
	hold()
	if r := <-done; r.status != 200 {
		t.Errorf("the other client's valid update: %d %s", r.status, r.body)
	}
	wg.Wait()
	if statuses[503] != 4 || statuses[401] != 2 {
		t.Errorf("flood statuses %v, want 4 busy and 2 compared", statuses)
	}
}

package acmedns

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// healthPoller asks /health every 10 ms and counts what was not a 200.
type healthPoller struct {
	ok, failed atomic.Int64
	stop       chan struct{}
	wg         sync.WaitGroup
	lastErr    atomic.Value
}

func pollHealth(url string) *healthPoller {
	h := &healthPoller{stop: make(chan struct{})}
	client := &http.Client{Timeout: 2 * time.Second}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for {
			select {
			case <-h.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			resp, err := client.Get(url + "/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					h.ok.Add(1)
					continue
				}
				err = &net.AddrError{Err: resp.Status}
			}
			h.lastErr.Store(err.Error())
			h.failed.Add(1)
		}
	}()
	return h
}

func (h *healthPoller) done(t *testing.T) {
	t.Helper()
	close(h.stop)
	h.wg.Wait()
	if h.failed.Load() != 0 || h.ok.Load() == 0 {
		t.Errorf("API during reloads: %d answered, %d failed (last: %v)", h.ok.Load(), h.failed.Load(), h.lastErr.Load())
	}
}

// TestReload drives reloads as the reload plugin does: the API keeps
// answering on its port throughout, a good Corefile takes effect, a bad one
// leaves the old configuration serving.
func TestReload(t *testing.T) {
	p := newPorts(t)
	db := "db " + t.TempDir() + "/acmedns.db"
	srv := startCoreDNS(t, p.corefile(db))
	acc := register(t, p.apiURL(), "")
	acc.update(t, p.apiURL(), txtA)
	name := acc.Subdomain + ".auth.example.test."

	poll := pollHealth(p.apiURL())

	// 1. A good reload: new TTL and registration closed, same API port.
	if err := srv.reload(p.corefile(db + "\nttl 300\nregistration closed")); err != nil {
		t.Fatalf("reload: %v", err)
	}
	if r := call(t, "POST", p.apiURL()+"/register", ""); r.status != 404 {
		t.Errorf("after reload, register: %d (want 404: registration closed)", r.status)
	}
	resp := exchange(t, "udp", p.dnsAddr(), name, dns.TypeTXT)
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Ttl != 300 {
		t.Errorf("after reload: %v", resp.Answer)
	}
	if r := acc.update(t, p.apiURL(), txtB); r.status != 200 {
		t.Errorf("update after reload: %d", r.status)
	}

	// 2. A Corefile that does not parse: the old one keeps serving.
	if err := srv.reload(p.corefile(db + "\nbogus_option")); err == nil {
		t.Fatal("reload with a bad Corefile succeeded")
	}
	if r := call(t, "POST", p.apiURL()+"/register", ""); r.status != 404 {
		t.Errorf("after failed reload, register: %d (want the old config's 404)", r.status)
	}
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)

	// 3. A Corefile that parses but cannot start (its DNS port is taken,
	// after acmedns has started): the old one keeps serving, including its
	// API handler, and the next reload still works.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.LocalAddr().(*net.UDPAddr).Port
	bad := ports{dns: strconv.Itoa(busyPort), api: p.api, metrics: p.metrics, ready: p.ready}
	if err := srv.reload(bad.corefile(db)); err == nil {
		t.Fatal("reload onto a busy port succeeded")
	}
	if r := call(t, "POST", p.apiURL()+"/register", ""); r.status != 404 {
		t.Errorf("after failed start, register: %d (want the old config's 404)", r.status)
	}
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)

	// 4. Registration open again.
	if err := srv.reload(p.corefile(db)); err != nil {
		t.Fatalf("reload after failures: %v", err)
	}
	register(t, p.apiURL(), "")
	poll.done(t)

	// 5. The API moves to another port: the old one is let go.
	moved := p
	moved.api = freePort(t)
	if err := srv.reload(moved.corefile(db)); err != nil {
		t.Fatalf("reload to a new API port: %v", err)
	}
	register(t, moved.apiURL(), "")
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+p.api, time.Second); err == nil {
		t.Error("the old API port still accepts connections")
	}
	// And the old port can be taken back by a later reload.
	if err := srv.reload(p.corefile(db)); err != nil {
		t.Fatalf("reload back to the first API port: %v", err)
	}
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
	if r := call(t, "GET", p.apiURL()+"/health", ""); r.status != 200 {
		t.Errorf("health on the first port again: %d", r.status)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+moved.api, time.Second); err == nil {
		t.Error("the second API port still accepts connections after moving back")
	}
}

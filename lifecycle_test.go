package acmedns

import (
	"errors"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"

	"github.com/miekg/dns"
)

// failstart is a plugin whose OnStartup fails, placed after acmedns: it
// stands for any later plugin whose start fails after acmedns has started.
func init() {
	plugin.Register("failstart", func(c *caddy.Controller) error {
		c.Next()
		c.OnStartup(func() error { return errors.New("failstart: refusing to start") })
		return nil
	})
	i := slices.Index(dnsserver.Directives, "file")
	dnsserver.Directives = slices.Insert(dnsserver.Directives, i+1, "failstart")
}

// goroutinesIn counts the goroutines whose stack holds fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

const (
	sweeperFunc  = "acmedns.(*ACMEDNS).startSweep"
	notifierFunc = "acmedns.(*notifier).run"
)

// burstBusy starts n registrations at once and returns how many were
// refused 503 busy by bcrypt admission.
func burstBusy(t *testing.T, url string, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy := 0
	for range n {
		wg.Go(func() {
			r := call(t, "POST", url+"/register", "")
			if r.status == 503 && r.body == `{"error": "busy"}` {
				mu.Lock()
				busy++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return busy
}

// TestFailedReloadLeavesNothing: a reload rejected after acmedns's
// OnStartup ran (a later plugin fails to start, or a server block's port is
// taken) leaves no sweeper, notifier or bcrypt bound of the rejected
// instance behind. The rejected Corefile expires values after 2 s; the one
// that keeps serving keeps them an hour.
func TestFailedReloadLeavesNothing(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.LocalAddr().(*net.UDPAddr).Port
	for _, tc := range []struct {
		name string
		bad  func(corefile string) string
	}{
		{"later plugin fails", func(c string) string {
			return strings.Replace(c, "\tacmedns {", "\tfailstart\n\tacmedns {", 1)
		}},
		{"port taken", func(c string) string {
			return c + "other.test:" + strconv.Itoa(takenPort) + " {\n\tbind 127.0.0.1\n\twhoami\n}\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := startNotifySink(t)
			p := newPorts(t)
			db := "db " + filepath.Join(t.TempDir(), "acmedns.db")
			good := p.transferCorefile(sink.addr, db+"\ntxt_expire 1h\nlimits {\nbcrypt 1 0\n}")
			srv := startCoreDNS(t, good)
			acc := register(t, p.apiURL(), "")
			if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
				t.Fatal(r)
			}
			name := acc.Subdomain + ".auth.example.test."
			if n := goroutinesIn(sweeperFunc); n != 1 {
				t.Fatalf("%d sweepers before the reload, want 1", n)
			}
			if busy := burstBusy(t, p.apiURL(), 6); busy == 0 {
				t.Fatal("one bcrypt slot and no queue refused none of 6 registrations at once")
			}

			bad := p.transferCorefile(sink.addr, db+"\ntxt_expire 2s\nlimits {\nbcrypt 16 64\n}")
			if err := srv.reload(tc.bad(bad)); err == nil {
				t.Fatal("the bad reload succeeded")
			}
			if n := goroutinesIn(sweeperFunc); n != 1 {
				t.Errorf("%d sweepers after the failed reload, want the old one only", n)
			}
			eventually(t, 2*time.Second, "the rejected notifier ends", func() bool { return goroutinesIn(notifierFunc) == 0 })
			if busy := burstBusy(t, p.apiURL(), 6); busy == 0 {
				t.Error("after the failed reload, 6 registrations at once all got a bcrypt slot: the rejected bounds stayed")
			}
			// Past the rejected txt_expire and its sweep interval (1 s):
			// the value is still stored and served.
			time.Sleep(3500 * time.Millisecond)
			checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtA)

			// The next reload works, and a shutdown leaves nothing.
			if err := srv.reload(good); err != nil {
				t.Fatalf("reload after the failure: %v", err)
			}
			if n := goroutinesIn(sweeperFunc); n != 1 {
				t.Errorf("%d sweepers after a good reload, want 1", n)
			}
			srv.stop()
			if n := goroutinesIn(sweeperFunc); n != 0 {
				t.Errorf("%d sweepers after shutdown", n)
			}
			eventually(t, 2*time.Second, "notifiers end at shutdown", func() bool { return goroutinesIn(notifierFunc) == 0 })
		})
	}
}

// TestReadyDuringStartup: the ready plugin asks Ready from its own
// goroutine while OnStartup may be running (run under -race).
func TestReadyDuringStartup(t *testing.T) {
	a := testPlugin(t, "acmedns {\napi 127.0.0.1:0\n}")
	a.store = nil // OnStartup opens it
	a.cfg.DB = filepath.Join(t.TempDir(), "ready.db")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	readies := 0
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if a.Ready() {
				readies++
			}
		}
	})
	if a.Ready() {
		t.Error("ready before OnStartup")
	}
	if err := a.OnStartup(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "ready after OnStartup", a.Ready)
	close(stop)
	wg.Wait()
	if err := a.OnShutdown(); err != nil {
		t.Fatal(err)
	}
	if a.Ready() {
		t.Error("ready after OnShutdown")
	}
}

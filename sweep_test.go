package acmedns

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestTXTExpirySweep: with txt_expire, an expired value is removed from the
// store as a change of the zone: the serial moves, an IXFR removes it, the
// secondaries are notified; on both stores.
func TestTXTExpirySweep(t *testing.T) {
	for name, backend := range transferBackends(t) {
		t.Run(name, func(t *testing.T) {
			sink := startNotifySink(t)
			p := newPorts(t)
			startCoreDNS(t, p.transferCorefile(sink.addr, backend+"\n\t\ttxt_expire 2s"))
			addr := p.dnsAddr()
			acc := register(t, p.apiURL(), "")
			if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
				t.Fatalf("update: %d %s", r.status, r.body)
			}
			set := soaSerial(t, addr)
			notified := sink.count()
			eventually(t, 6*time.Second, "the expired value swept from the store", func() bool { return soaSerial(t, addr) == set+1 })
			checkIXFR(t, addr, set, set+1, []string{acc.Subdomain + " " + txtA}, nil)
			checkTXT(t, addr, acc.Subdomain+"."+zoneName, dns.RcodeSuccess)
			eventually(t, 2*time.Second, "a NOTIFY for the expiry", func() bool { return sink.count() > notified })
			time.Sleep(1500 * time.Millisecond)
			if got := soaSerial(t, addr); got != set+1 {
				t.Errorf("the serial moved to %d with nothing left to expire, want %d", got, set+1)
			}
		})
	}
}

func TestSweepInterval(t *testing.T) {
	for _, c := range []struct{ expire, want time.Duration }{
		{2 * time.Second, time.Second}, {5 * time.Minute, 30 * time.Second}, {24 * time.Hour, time.Minute},
	} {
		if got := sweepInterval(c.expire); got != c.want {
			t.Errorf("sweepInterval(%s) = %s, want %s", c.expire, got, c.want)
		}
	}
}

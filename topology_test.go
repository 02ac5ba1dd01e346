package acmedns

import (
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"

	"github.com/miekg/dns"
)

// TestCoreDNSSentinelFailover: behind Sentinel, with wait_replicas 1, an
// update acknowledged just before the master is killed survives the
// failover; DNS is SERVFAIL only during the failover window, and updates
// resume without a restart.
func TestCoreDNSSentinelFailover(t *testing.T) {
	master := redistest.Start(t)
	redistest.StartReplica(t, master)
	redistest.StartReplica(t, master)
	sentinel := redistest.StartSentinel(t, "acmedns", master)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+sentinel.Addr+" {\n master acmedns\n wait_replicas 1\n}"))

	acc := register(t, p.apiURL(), "")
	name := acc.Subdomain + ".auth.example.test."
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	master.Kill() // right after the 200
	killed := time.Now()

	var servfails, answers int
	var firstFail, lastFail time.Time
	deadline := killed.Add(30 * time.Second)
	for answers < 20 && time.Now().Before(deadline) {
		code, values := txtOver(t, "udp", p.dnsAddr(), name)
		switch {
		case code == dns.RcodeServerFailure:
			servfails++
			if firstFail.IsZero() {
				firstFail = time.Now()
			}
			lastFail = time.Now()
			answers = 0
		case code == dns.RcodeSuccess && len(values) == 1 && values[0] == txtA:
			answers++
		default:
			t.Fatalf("during failover: %s %v (only SERVFAIL or the acknowledged value may be answered)", dns.RcodeToString[code], values)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if answers < 20 {
		t.Fatalf("no steady answers within 30 s of killing the master (%d SERVFAIL)", servfails)
	}
	if servfails > 0 {
		t.Logf("failover window: %d SERVFAIL answers, from %s to %s after the kill",
			servfails, firstFail.Sub(killed).Round(time.Millisecond), lastFail.Sub(killed).Round(time.Millisecond))
	} else {
		t.Log("failover window: no SERVFAIL seen")
	}

	eventually(t, 15*time.Second, "updates resume on the new master", func() bool {
		return acc.update(t, p.apiURL(), txtB).status == 200
	})
	checkTXT(t, p.dnsAddr(), name, dns.RcodeSuccess, txtB, txtA)
}

// TestCoreDNSCluster: several redis addresses are a Cluster; registrations
// spread over its masters and every one is answered.
func TestCoreDNSCluster(t *testing.T) {
	nodes := redistest.StartCluster(t, 3)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+nodes[0].Addr+" "+nodes[1].Addr+" "+nodes[2].Addr))
	for range 6 {
		acc := register(t, p.apiURL(), "")
		if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
			t.Fatalf("update: %d %s", r.status, r.body)
		}
		checkTXT(t, p.dnsAddr(), acc.Subdomain+".auth.example.test.", dns.RcodeSuccess, txtA)
	}
	checkTXT(t, p.dnsAddr(), "nobody.auth.example.test.", dns.RcodeNameError)
}

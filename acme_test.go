package acmedns

import (
	"context"
	"crypto/tls"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
	"github.com/redis/go-redis/v9"
)

// acmeOptions is tls acme with a CA that is not there: no certificate.
const acmeOptions = "tls acme {\n\t\tca https://127.0.0.1:1/directory\n\t}"

// TestACMEChallengeFromStore: a challenge value written to Redis by
// another replica is answered at once at the certificate name's
// _acme-challenge; without one the name is NODATA; without a certificate
// the server is not ready and the API refuses TLS, while DNS serves.
func TestACMEChallengeFromStore(t *testing.T) {
	srv := redistest.Start(t)
	p := newPorts(t)
	startCoreDNS(t, p.corefile("redis "+srv.Addr+" {\n\t\tprefix t:\n\t}\n\t\t"+acmeOptions))
	owner := "_acme-challenge.ns1.auth.example.test."
	checkTXT(t, p.dnsAddr(), owner, dns.RcodeSuccess)

	other := store.NewRedis(redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr}}), store.RedisOptions{Prefix: "t:"})
	defer other.Close()
	value := "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
	if err := other.PutBlob(context.Background(), "challenge/"+owner+"/"+value, []byte(value)); err != nil {
		t.Fatal(err)
	}
	checkTXT(t, p.dnsAddr(), owner, dns.RcodeSuccess, value)
	checkTXT(t, p.dnsAddr(), "_acme-challenge.auth.example.test.", dns.RcodeNameError)
	if r := exchange(t, "udp", p.dnsAddr(), owner, dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
		t.Errorf("A at the challenge name: %v, want NODATA", r)
	}
	if code, _ := get(t, "http://127.0.0.1:"+p.ready+"/ready"); code == 200 {
		t.Error("ready without a certificate")
	}
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+p.api, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tc := tls.Client(conn, &tls.Config{ServerName: "ns1.auth.example.test", InsecureSkipVerify: true})
	tc.SetDeadline(time.Now().Add(3 * time.Second))
	if err := tc.Handshake(); err == nil {
		t.Error("the API completed a TLS handshake without a certificate")
	}
}

// TestFailedReloadStopsACME: a rejected instance's certificate manager
// and its certmagic cache stop; the old one's keep running; a shutdown
// stops them all.
func TestFailedReloadStopsACME(t *testing.T) {
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	p := newPorts(t)
	good := p.corefile("db " + t.TempDir() + "/acmedns.db\n\t\t" + acmeOptions)
	srv := startCoreDNS(t, good)
	count := func() (int, int) { return goroutinesIn(managerFunc), goroutinesIn(maintenanceFunc) }
	if m, c := count(); m != 1 || c != 1 {
		t.Fatalf("%d managers and %d certmagic maintenances running, want 1 and 1", m, c)
	}
	bad := good + "other.test:" + strconv.Itoa(taken.LocalAddr().(*net.UDPAddr).Port) + " {\n\tbind 127.0.0.1\n\twhoami\n}\n"
	if err := srv.reload(bad); err == nil {
		t.Fatal("the bad reload succeeded")
	}
	eventually(t, 2*time.Second, "the rejected manager stops", func() bool { m, c := count(); return m == 1 && c == 1 })
	if err := srv.reload(good); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Second, "one manager after a good reload", func() bool { m, c := count(); return m == 1 && c == 1 })
	srv.stop()
	eventually(t, 2*time.Second, "managers stop at shutdown", func() bool { m, c := count(); return m == 0 && c == 0 })
}

const (
	managerFunc     = "autotls.(*Manager).run"
	maintenanceFunc = "certmagic.(*Cache).maintainAssets"
)

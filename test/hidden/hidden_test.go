// Package hidden runs acmedns as a hidden primary: real NSD and Knot
// secondaries transfer its zone (AXFR, then IXFR after each NOTIFY), a real
// validator checks DNSSEC answers signed by the dnssec plugin and by a
// signing secondary, and the benchmarks time the path from an update to the
// secondaries.
package hidden

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/acmedns/acmedns/test/harness"
)

const zone = "auth.example.test."

// primaryCorefile is acmedns with a transfer block that lets 127.0.0.1
// transfer the zone and notifies the secondaries; store is a db or redis
// line.
func primaryCorefile(store string, secondaries ...int) string {
	var to []string
	for _, p := range secondaries {
		to = append(to, fmt.Sprintf("127.0.0.1:%d", p))
	}
	if len(to) == 0 {
		to = []string{"*"}
	}
	return `auth.example.test:{DNS} {
    bind 127.0.0.1
    transfer {
        to ` + strings.Join(to, " ") + `
    }
    acmedns {
        api 127.0.0.1:{API}
        ` + store + `
        nameserver ns1.auth.example.test 127.0.0.1
    }
}
`
}

// txt asks addr for name's TXT values over UDP.
func txt(t testing.TB, addr, name string) (int, []string) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeTXT)
	resp, _, err := (&dns.Client{Net: "udp", Timeout: time.Second}).Exchange(m, addr)
	if err != nil {
		return -1, nil
	}
	var values []string
	for _, rr := range resp.Answer {
		if v, ok := rr.(*dns.TXT); ok {
			values = append(values, v.Txt...)
		}
	}
	return resp.Rcode, values
}

// post calls the API and returns the status.
func post(t testing.TB, url string, acc harness.Account, body map[string]string) int {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("X-Api-User", acc.Username)
	req.Header.Set("X-Api-Key", acc.Password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func update(t testing.TB, apiURL string, acc harness.Account, value string) {
	t.Helper()
	if s := post(t, apiURL+"/update", acc, map[string]string{"subdomain": acc.Subdomain, "txt": value}); s != 200 {
		t.Fatalf("update: %d", s)
	}
}

// value is the i-th TXT value a test sets: 43 characters, as ACME's.
func value(i int) string { return fmt.Sprintf("%043d", i) }

// waitTXT polls a secondary until name has exactly want (in any order) and
// returns how long that took.
func waitTXT(t testing.TB, addr, name string, limit time.Duration, rcode int, want ...string) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		code, got := txt(t, addr, name)
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if code == rcode && slices.Equal(got, w) {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: %s %v after %s, want %s %v", addr, dns.RcodeToString[code], got, limit, dns.RcodeToString[rcode], want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startSecondaries starts the primary on store and an NSD and a Knot
// secondary of it that learn of changes by NOTIFY alone (their refresh is
// an hour).
func startSecondaries(t *testing.T, store string) (*harness.CoreDNS, []*harness.Secondary) {
	nsdPort, knotPort := harness.FreePort(t), harness.FreePort(t)
	primary := harness.StartCoreDNS(t, primaryCorefile(store, nsdPort, knotPort), nil)
	cfg := harness.SecondaryConfig{Zone: zone, Primary: primary.DNSAddr, Refresh: time.Hour}
	cfg.Port = nsdPort
	nsd := harness.StartNSD(t, cfg)
	cfg.Port = knotPort
	knot := harness.StartKnot(t, cfg)
	return primary, []*harness.Secondary{nsd, knot}
}

// TestHiddenPrimary: NSD and Knot load the zone by AXFR, then follow every
// registration, update and deletion by NOTIFY and IXFR, on both stores.
func TestHiddenPrimary(t *testing.T) {
	redis := harness.StartRedis(t)
	for name, store := range map[string]string{"bolt": "db acmedns.db", "redis": "redis " + redis.Addr} {
		t.Run(name, func(t *testing.T) {
			primary, secondaries := startSecondaries(t, store)
			serial := soa(t, primary.DNSAddr)
			for _, s := range secondaries {
				s.WaitSerial(t, serial, 10*time.Second)
			}

			acc := harness.Register(t, primary.APIURL)
			serial++
			fqdn := acc.Subdomain + "." + zone
			for _, s := range secondaries {
				s.WaitSerial(t, serial, 5*time.Second) // the registration travels too
			}
			for i := range 6 {
				update(t, primary.APIURL, acc, value(i))
				want := []string{value(i)}
				if i > 0 {
					want = append(want, value(i-1))
				}
				for _, s := range secondaries {
					waitTXT(t, s.DNSAddr, fqdn, 5*time.Second, dns.RcodeSuccess, want...)
				}
			}

			if s := post(t, primary.APIURL+"/unregister", acc, map[string]string{"subdomain": acc.Subdomain}); s != 200 {
				t.Fatalf("unregister: %d", s)
			}
			for _, s := range secondaries {
				waitTXT(t, s.DNSAddr, fqdn, 5*time.Second, dns.RcodeNameError)
				tr := s.Transfers(t)
				if tr.AXFR != 1 || tr.IXFR < 7 || tr.IXFRFailed != 0 {
					t.Errorf("%s: transfers %+v, want the first by AXFR and every later one by IXFR", s.Kind, tr)
				}
			}
			if got := soa(t, primary.DNSAddr); got != serial+7 {
				t.Errorf("the primary's serial after 6 updates and a deletion is %d, want %d", got, serial+7)
			}
		})
	}
}

func soa(t testing.TB, addr string) uint32 {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(zone, dns.TypeSOA)
	resp, _, err := (&dns.Client{Net: "udp", Timeout: 2 * time.Second}).Exchange(m, addr)
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("SOA from %s: %v %v", addr, resp, err)
	}
	return resp.Answer[0].(*dns.SOA).Serial
}

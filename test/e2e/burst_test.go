package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

// burstServer is a CoreDNS with acmedns on the embedded store, default
// limits, its admin API and its metrics.
type burstServer struct {
	*harness.CoreDNS
	admin, metrics string
}

const burstToken = "burst-test-admin-token-0123456789"

func startBurstServer(t *testing.T) *burstServer {
	t.Helper()
	admin := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
	metrics := "127.0.0.1:" + strconv.Itoa(harness.FreePort(t))
	c := harness.StartCoreDNS(t, `auth.example.org:{DNS} {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:{API}
        nameserver ns1.auth.example.org 127.0.0.1
        admin `+admin+` {
            token `+burstToken+`
        }
    }
    prometheus `+metrics+`
}
`, nil)
	return &burstServer{CoreDNS: c, admin: "http://" + admin, metrics: "http://" + metrics + "/metrics"}
}

// accounts creates n accounts through the admin API, all with hash (of
// key): none has been compared, so none is in the credential cache.
func (s *burstServer) accounts(t *testing.T, n int, hash string) []harness.Account {
	t.Helper()
	accts := make([]harness.Account, n)
	for i := range accts {
		a := harness.Account{Username: uuid.NewString(), Subdomain: uuid.NewString()}
		body, _ := json.Marshal(map[string]string{"username": a.Username, "subdomain": a.Subdomain, "password_hash": hash})
		req, _ := http.NewRequest("POST", s.admin+"/accounts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+burstToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("admin create: %s", resp.Status)
		}
		accts[i] = a
	}
	return accts
}

// metric reads one sample of the server's /metrics.
func (s *burstServer) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get(s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// clientAt is an HTTP client whose connections come from ip, one per
// request at most (a burst of N requests opens N connections, as N
// certificate renewals do).
func clientAt(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 200}}
}

// postUpdate posts one update and returns its status, or -1 when no HTTP
// answer came.
func postUpdate(c *http.Client, api, user, key, sub string) int {
	body := `{"subdomain": "` + sub + `", "txt": "` + strings.Repeat("b", 43) + `"}`
	req, _ := http.NewRequest("POST", api+"/update", strings.NewReader(body))
	req.Header.Set("X-Api-User", user)
	req.Header.Set("X-Api-Key", key)
	resp, err := c.Do(req)
	if err != nil {
		return -1
	}
	resp.Body.Close()
	return resp.StatusCode
}

// compareTime is the median time of one bcrypt compare of hash here.
func compareTime(hash, key string) time.Duration {
	var times []time.Duration
	for range 5 {
		start := time.Now()
		bcrypt.CompareHashAndPassword([]byte(hash), []byte(key))
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[2]
}

// burst sends one update for each account at the same moment from ip and
// returns the statuses and the slowest answer's time.
func burst(c *http.Client, api string, accts []harness.Account, key string) (map[int]int, time.Duration) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	var slowest time.Duration
	start := make(chan struct{})
	for _, a := range accts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			s := postUpdate(c, api, a.Username, key, a.Subdomain)
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			statuses[s]++
			slowest = max(slowest, d)
		}()
	}
	close(start)
	wg.Wait()
	return statuses, slowest
}

// TestLegitimateBurst: N updates started at once from one address, each for
// its own account with valid credentials that are not cached (as a
// cluster's cert-manager renewing many certificates), all answer 200, the
// slowest within N compares over the slots plus a second; then the same
// while another address floods random credentials, which run no bcrypt.
func TestLegitimateBurst(t *testing.T) {
	s := startBurstServer(t)
	key := strings.Repeat("k", 40)
	hash, err := bcrypt.GenerateFromPassword([]byte(key), 10) // acme-dns's cost
	if err != nil {
		t.Fatal(err)
	}
	slots := max(1, runtime.NumCPU()-1) // the server's default
	one := compareTime(string(hash), key)
	c := clientAt("127.0.0.1")
	compares := `coredns_acmedns_bcrypt_operations_total{operation="compare"}`
	for _, n := range []int{5, 20, 100} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			accts := s.accounts(t, n, string(hash))
			statuses, slowest := burst(c, s.APIURL, accts, key)
			bound := time.Duration(n)*one/time.Duration(slots) + time.Second
			t.Logf("N=%d: %v, slowest %s (bound %s: one compare %s, %d slots)", n, statuses, slowest.Round(time.Millisecond), bound.Round(time.Millisecond), one.Round(time.Millisecond), slots)
			if statuses[200] != n {
				t.Errorf("statuses %v, want all %d answered 200", statuses, n)
			}
			if slowest > bound {
				t.Errorf("slowest answer after %s, want within %s", slowest, bound)
			}
		})
	}
	t.Run("N=100 beside a flood", func(t *testing.T) {
		accts := s.accounts(t, 100, string(hash))
		before := s.metric(t, compares)
		stop := make(chan struct{})
		floodStatuses := flood(s.APIURL, accts, stop)
		statuses, slowest := burst(c, s.APIURL, accts, key)
		close(stop)
		fs := <-floodStatuses
		ran := s.metric(t, compares) - before
		t.Logf("burst %v, slowest %s; flood %v; compares %v", statuses, slowest.Round(time.Millisecond), fs, ran)
		if statuses[200] != 100 {
			t.Errorf("burst statuses %v beside the flood, want all 100 answered 200", statuses)
		}
		if ran != 100 {
			t.Errorf("%v bcrypt compares, want the burst's 100 and none for the flood", ran)
		}
		if fs[401]+fs[429] == 0 || fs[-1] > 0 {
			t.Errorf("flood statuses %v: want 401 and 429 answers, no dropped request", fs)
		}
	})
}

// flood sends updates with random usernames and keys for the accounts'
// subdomains from 127.0.0.2, with 32 connections, until stop; the statuses
// come on the returned channel.
func flood(api string, accts []harness.Account, stop chan struct{}) chan map[int]int {
	out := make(chan map[int]int, 1)
	c := clientAt("127.0.0.2")
	go func() {
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for w := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					s := postUpdate(c, api, uuid.NewString(), strings.Repeat("x", 40), accts[i%len(accts)].Subdomain)
					mu.Lock()
					statuses[s]++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		out <- statuses
	}()
	return out
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// maxBurst bounds the burst's requests, each on a connection of its own.
const maxBurst = 2048

// compareSeries is the server's count of bcrypt compares (absent from
// builds older than the fair admission).
const compareSeries = `coredns_acmedns_bcrypt_operations_total{operation="compare"}`

// --- burst-accounts ----------------------------------------------------------

type burstAccountsResult struct {
	Role     string         `json:"role"`
	Scenario string         `json:"scenario,omitempty"`
	Wanted   int            `json:"wanted"`
	Created  int            `json:"created"`
	Cost     int            `json:"cost"`
	Seconds  float64        `json:"seconds"`
	Statuses map[string]int `json:"statuses"`
}

// burstAccountsMain creates -n accounts through the admin API, each with a
// random username and subdomain and the same stored bcrypt hash of one
// random key: nothing compares them until the burst, so none is in the
// server's credential cache. The key goes into -creds with each account.
func burstAccountsMain(args []string) {
	c := newCommon(5 * time.Minute)
	admin := c.fs.String("admin", "", "admin API base URL")
	tokenFile := c.fs.String("token-file", "", "file holding the admin API's bearer token")
	n := c.fs.Int("n", 100, "accounts to create")
	cost := c.fs.Int("cost", 10, "bcrypt cost of the stored hash (acme-dns's is 10)")
	zone := c.fs.String("zone", "", "the zone, for the accounts' fulldomain")
	credsPath := c.fs.String("creds", "", "write the credentials here (JSON lines)")
	workers := c.fs.Int("workers", 4, "concurrent requests")
	c.parse(args)
	api := loopbackURL(*admin)
	if *n < 1 || *n > maxBurst || *workers < 1 || *workers > 64 || *credsPath == "" || *tokenFile == "" ||
		*cost < bcrypt.MinCost || *cost > 14 {
		log.Fatal("burst-accounts: need -creds, -token-file, 1 <= -n <= 2048, 1 <= -workers <= 64, 4 <= -cost <= 14")
	}
	tb, err := os.ReadFile(*tokenFile)
	if err != nil {
		log.Fatal(err)
	}
	token := strings.TrimSpace(string(tb))
	r := newRand()
	key := randToken(r, 40)
	hash, err := bcrypt.GenerateFromPassword([]byte(key), *cost)
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(*c.duration)
	var (
		next     atomic.Int64
		statuses counter
		mu       sync.Mutex
		got      []creds
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range *workers {
		wg.Go(func() {
			r := newRand()
			for time.Now().Before(deadline) && next.Add(1) <= int64(*n) {
				a := creds{Username: randUUID(r), Password: key, Subdomain: randUUID(r)}
				a.Fulldomain = a.Subdomain + "." + strings.TrimSuffix(*zone, ".")
				body, _ := json.Marshal(map[string]string{"username": a.Username, "subdomain": a.Subdomain, "password_hash": string(hash)})
				// A few tries each: the store may be briefly busy.
				for try := 0; try < 5 && time.Now().Before(deadline); try++ {
					req, _ := http.NewRequest(http.MethodPost, api+"/accounts", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/json")
					st, _, _ := do(client, req)
					statuses.add(st)
					if st == "201" {
						mu.Lock()
						got = append(got, a)
						mu.Unlock()
						break
					}
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	var cb bytes.Buffer
	for _, a := range got {
		line, _ := json.Marshal(a)
		cb.Write(append(line, '\n'))
	}
	if err := os.WriteFile(*credsPath, cb.Bytes(), 0o600); err != nil {
		log.Fatal(err)
	}
	c.emit(burstAccountsResult{Role: currentRole, Scenario: *c.scenario, Wanted: *n, Created: len(got), Cost: *cost,
		Seconds: time.Since(start).Seconds(), Statuses: statuses.snapshot()})
	if len(got) == 0 {
		os.Exit(1)
	}
}

// --- burst -------------------------------------------------------------------

// burstResult is the burst's summary. Statuses holds the answers: "200",
// "503_busy" (the API's busy answer, or "503_" and whatever other error
// code it gave), "503_refused" (the busy answer of a refused connection,
// written before any HTTP server saw the request), "429" and any other
// code; Errors the requests that got no answer, by kind (reset, eof,
// timeout, dial_*: see failureKind). The latencies are over the answered
// requests. Compares is the server's bcrypt compare count over the burst
// window (scraped just before the burst and after its last answer), nil
// when the server has no such counter.
type burstResult struct {
	Role        string         `json:"role"`
	Scenario    string         `json:"scenario,omitempty"`
	Src         string         `json:"src"`
	Requests    int            `json:"requests"`
	Seconds     float64        `json:"seconds"` // from the start to the last answer
	Completed   int            `json:"completed"`
	OK          int            `json:"ok"`
	Busy        int            `json:"busy"`         // 503 busy from the API
	Refused     int            `json:"refused"`      // 503 of refused connections
	RateLimited int            `json:"rate_limited"` // 429
	NoAnswer    int            `json:"no_answer"`    // connection errors, resets, timeouts
	Statuses    map[string]int `json:"statuses"`
	Errors      map[string]int `json:"errors"`
	Compares    *float64       `json:"compares"`
	MetricsErr  string         `json:"metrics_error,omitempty"`
	latencies
}

// burstMain sends one POST /update for each account of -creds (at most
// -n), all started at the same instant -at, each on a connection of its
// own from -src, and waits for every answer (each bounded by -timeout).
func burstMain(args []string) {
	c := newCommon(2 * time.Minute)
	base := c.fs.String("api", "", "API base URL")
	credsPath := c.fs.String("creds", "", "the burst's accounts (JSON lines), one request each")
	src := c.fs.String("src", "127.0.0.4", "source address")
	n := c.fs.Int("n", 100, "requests (the first -n accounts of -creds)")
	timeout := c.fs.Duration("timeout", 90*time.Second, "per-request timeout")
	metrics := c.fs.String("metrics", "", "the server's /metrics URL, scraped before and after for its bcrypt compares")
	c.parse(args)
	api := loopbackURL(*base)
	if *n < 1 || *n > maxBurst || *timeout <= 0 || *timeout > *c.duration {
		log.Fatal("burst: 1 <= -n <= 2048, 0 < -timeout <= -duration")
	}
	accts := readCreds(*credsPath)
	if len(accts) < *n {
		log.Printf("burst: only %d accounts in %s, sending %d requests", len(accts), *credsPath, len(accts))
	} else {
		accts = accts[:*n]
	}
	srcAddr := loopbackAddr(*src, "-src")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: srcAddr.AsSlice()}, Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout:       *timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	ctx, cancel := context.WithTimeout(context.Background(), *c.duration)
	defer cancel()

	// Wait for -at (up to -duration ahead), scraping the compare count
	// just before it.
	if *c.at > 0 {
		t := time.Unix(0, int64(*c.at*1e9))
		if w := time.Until(t) - 300*time.Millisecond; w > 0 && w < *c.duration {
			time.Sleep(w)
		}
	}
	var metricsURL string
	if *metrics != "" {
		metricsURL = loopbackURL(*metrics)
	}
	before, okBefore, errBefore := scrapeSeries(metricsURL, compareSeries)
	if *c.at > 0 {
		t := time.Unix(0, int64(*c.at*1e9))
		if w := time.Until(t); w > 0 && w < *c.duration {
			time.Sleep(w)
		}
	}

	r := newRand()
	var (
		statuses, errs counter
		mu             sync.Mutex
		lats           []time.Duration
		last           time.Time
		wg             sync.WaitGroup
	)
	fire := make(chan struct{})
	for _, a := range accts {
		req := updateRequest(ctx, api, a.Username, a.Password, a.Subdomain, randToken(r, 43))
		wg.Go(func() {
			<-fire
			t0 := time.Now()
			st, err := burstExchange(client, req)
			done := time.Now()
			if err != nil {
				errs.add(failureKind(err))
				return
			}
			statuses.add(st)
			mu.Lock()
			lats = append(lats, done.Sub(t0))
			if done.After(last) {
				last = done
			}
			mu.Unlock()
		})
	}
	start := time.Now()
	close(fire)
	wg.Wait()
	end := time.Now()
	if !last.IsZero() {
		end = last
	}

	res := burstResult{Role: currentRole, Scenario: *c.scenario, Src: *src, Requests: len(accts), Seconds: end.Sub(start).Seconds(),
		Completed: len(lats), Statuses: statuses.snapshot(), Errors: errs.snapshot(), latencies: summarise(lats)}
	res.OK = res.Statuses["200"]
	res.Busy = res.Statuses["503_busy"]
	res.Refused = res.Statuses["503_refused"]
	res.RateLimited = res.Statuses["429"]
	res.NoAnswer = total(res.Errors)
	after, okAfter, errAfter := scrapeSeries(metricsURL, compareSeries)
	switch {
	case errBefore != nil:
		res.MetricsErr = errBefore.Error()
	case errAfter != nil:
		res.MetricsErr = errAfter.Error()
	case okBefore && okAfter:
		v := after - before
		res.Compares = &v
	}
	c.emit(res)
}

// burstExchange sends req on a new connection and names its answer: the
// status code, "503_refused" for a refused connection's busy answer (see
// connExchange), "503_<code>" for the API's own 503 with its error code.
func burstExchange(client *http.Client, req *http.Request) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusServiceUnavailable {
		return strconv.Itoa(resp.StatusCode), nil
	}
	if resp.Close && resp.Header.Get("Date") == "" {
		return "503_refused", nil
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" && isWord(e.Error) {
		return "503_" + e.Error, nil
	}
	return "503", nil
}

func isWord(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c == '_') {
			return false
		}
	}
	return len(s) <= 40
}

// scrapeSeries reads one sample of a prometheus /metrics page: its value,
// and whether the series is there ("" url: nothing to read).
func scrapeSeries(url, series string) (float64, bool, error) {
	if url == "" {
		return 0, false, nil
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return f, err == nil, nil
		}
	}
	return 0, false, sc.Err()
}

// --- report ------------------------------------------------------------------

// burstTable writes the burst scenarios' own table: how the burst's
// requests ended, its slowest answer, the flood beside it, and the
// server's bcrypt compares.
func burstTable(w *bytes.Buffer, lines []map[string]any) {
	var rows []string
	for _, sc := range []string{"burst", "burst-flood"} {
		b := find(lines, sc, "burst")
		if b == nil {
			continue
		}
		f := find(lines, sc, "flood-update")
		flood := "none"
		if f != nil {
			flood = fmt.Sprintf("%s clients, %s req/s: %s", fmtNum(f, "workers", "%.0f"), fmtNum(f, "rps", "%.1f"), statuses(f, "statuses"))
		}
		// Compares in the burst window beyond one per burst request
		// answered 200: the flood's (the legitimate client's account is
		// cached by then).
		window, beyond := "–", "–"
		if v, ok := num(b, "compares"); ok {
			window = fmt.Sprintf("%.0f", v)
			if okN, ok := num(b, "ok"); ok {
				beyond = fmt.Sprintf("%.0f", v-okN)
			}
		}
		whole := "–"
		if m := find(lines, sc, "metrics"); m != nil {
			if cs, _ := m["counters"].(map[string]any); cs != nil {
				if v, ok := cs["bcrypt_operations_total{operation=compare}"].(float64); ok {
					whole = fmt.Sprintf("%.0f", v)
				}
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", sc,
			fmtNum(b, "requests", "%.0f"), fmtNum(b, "ok", "%.0f"), fmtNum(b, "busy", "%.0f"), fmtNum(b, "rate_limited", "%.0f"),
			fmtNum(b, "refused", "%.0f"), statuses(b, "statuses"), fmtNum(b, "no_answer", "%.0f")+noAnswerKinds(b),
			fmtNum(b, "p50_ms", "%.0f"), fmtNum(b, "max_ms", "%.0f"), window, beyond, whole, flood))
	}
	if len(rows) == 0 {
		return
	}
	w.WriteString("Burst: N `/update` requests started at the same instant, midway through the dnsperf run, from\n" +
		"127.0.0.4, one connection each, each for a different account whose credentials are valid but not\n" +
		"cached (created through the admin API with one stored cost-10 hash), so each needs a bcrypt compare.\n" +
		"In burst-flood, 127.0.0.3 floods `/update` with random credentials meanwhile. `503 busy` is the API's\n" +
		"busy answer, `503 refused` a refused connection's; no answer counts connection errors, resets and\n" +
		"timeouts. Compares: the server's `bcrypt_operations_total{operation=\"compare\"}` over the burst (scraped\n" +
		"just before it and after its last answer), those beyond one per burst request answered 200 (the\n" +
		"flood's: the legitimate client's account is cached by then), and over the whole scenario (the\n" +
		"legitimate client's first update is one); \"–\" where the build has no such counter.\n\n")
	w.WriteString("| scenario | burst requests | 200 | 503 busy | 429 | 503 refused | answers | no answer | p50 ms | slowest answer ms | compares in burst | of them not the burst's | compares in scenario | flood beside it |\n")
	w.WriteString("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|\n")
	w.WriteString(strings.Join(rows, "\n") + "\n\n")
}

// noAnswerKinds is " (kind×n ...)" for a result's failures, or "".
func noAnswerKinds(m map[string]any) string {
	if e, _ := m["errors"].(map[string]any); len(e) > 0 {
		return " (" + statuses(m, "errors") + ")"
	}
	return ""
}

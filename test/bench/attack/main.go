// Command attack drives the roles of test/bench/attack.sh, which measures
// whether load on acmedns's HTTP API can take its DNS down. Every role is
// bounded in time and in count, talks to 127.0.0.0/8 only, and prints one
// JSON summary line on stdout (also appended to -out when given):
//
//	attack seed           -api URL -n N -creds FILE -queries FILE   register N accounts (and set a TXT on each)
//	attack names          -n N -zone Z -out FILE                    N random unregistered names, as a dnsperf file
//	attack legit          -api URL -creds FILE -src 127.0.0.2       one valid /update every -interval
//	attack flood-update   -api URL -creds FILE -src 127.0.0.3       -workers clients: /update with random credentials
//	attack flood-register -api URL -src 127.0.0.3                   -workers clients: /register
//	attack abandon        -api URL -src 127.0.0.3 -rate 100         /update written on a new connection, closed unread
//	attack conn-flood     -api URL -src 127.0.0.3 -workers 400      /update with random credentials, each on a new connection
//	attack burst-accounts -admin URL -token-file F -n N -creds FILE  N accounts through the admin API, one stored hash, none cached
//	attack burst          -api URL -creds FILE -src 127.0.0.4 -at T  one /update per account, all at once, a connection each
//	attack probe          -dns ADDR -name NAME -split 10s           one DNS query every -every, answered or not
//	attack dnsperf        -in FILE                                  summarise dnsperf -v output (lost, p50, p99)
//	attack metrics        -url http://127.0.0.1:P/metrics           the server's acmedns counters (prometheus plugin)
//	attack report         -dir DIR -md FILE                         the markdown tables of every run under DIR
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Hard ceilings whatever the flags say.
const (
	maxDuration = 10 * time.Minute
	maxWorkers  = 256
	maxRequests = 10_000_000
)

type creds struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	Fulldomain string `json:"fulldomain"`
	Subdomain  string `json:"subdomain"`
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("attack: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: attack seed|names|legit|flood-update|flood-register|abandon|conn-flood|burst-accounts|burst|probe|dnsperf|metrics|report [flags]")
	}
	role, args := os.Args[1], os.Args[2:]
	roles := map[string]func([]string){
		"seed":           seedMain,
		"names":          namesMain,
		"legit":          legitMain,
		"flood-update":   floodMain,
		"flood-register": floodMain,
		"abandon":        abandonMain,
		"conn-flood":     connFloodMain,
		"burst-accounts": burstAccountsMain,
		"burst":          burstMain,
		"probe":          probeMain,
		"dnsperf":        dnsperfMain,
		"metrics":        metricsMain,
		"report":         reportMain,
	}
	fn, ok := roles[role]
	if !ok {
		log.Fatalf("unknown role %q", role)
	}
	currentRole = role
	fn(args)
}

var currentRole string

// common are the flags every load role shares.
type common struct {
	fs       *flag.FlagSet
	scenario *string
	out      *string
	at       *float64
	duration *time.Duration
}

func newCommon(defDuration time.Duration) *common {
	fs := flag.NewFlagSet(currentRole, flag.ExitOnError)
	return &common{
		fs:       fs,
		scenario: fs.String("scenario", "", "scenario label copied into the summary"),
		out:      fs.String("out", "", "also append the JSON summary line to this file"),
		at:       fs.Float64("at", 0, "start at this Unix time (seconds; 0: now)"),
		duration: fs.Duration("duration", defDuration, "how long to run"),
	}
}

func (c *common) parse(args []string) {
	c.fs.Parse(args)
	if *c.duration <= 0 || *c.duration > maxDuration {
		log.Fatalf("-duration must be in (0, %s]", maxDuration)
	}
}

// wait sleeps until -at (at most a minute ahead).
func (c *common) wait() {
	if *c.at <= 0 {
		return
	}
	t := time.Unix(0, int64(*c.at*1e9))
	if d := time.Until(t); d > 0 && d < time.Minute {
		time.Sleep(d)
	}
}

// emit prints v as one JSON line, and appends it to -out.
func (c *common) emit(v any) {
	emitTo(*c.out, v)
}

func emitTo(path string, v any) {
	line, err := json.Marshal(v)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(line))
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		f.Write(append(line, '\n'))
		f.Close()
	}
}

// --- loopback guards -------------------------------------------------------

var loopback = netip.MustParsePrefix("127.0.0.0/8")

func loopbackAddr(s, what string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil || !loopback.Contains(a.Unmap()) {
		log.Fatalf("%s must be an address in 127.0.0.0/8, got %q", what, s)
	}
	return a.Unmap()
}

func loopbackURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "http" {
		log.Fatalf("-api must be an http:// URL, got %q", s)
	}
	loopbackAddr(u.Hostname(), "-api's host")
	return strings.TrimSuffix(s, "/")
}

func loopbackHostPort(s, what string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		log.Fatalf("%s must be HOST:PORT, got %q", what, s)
	}
	loopbackAddr(host, what)
	return s
}

// --- HTTP ------------------------------------------------------------------

// newClient returns a client whose connections come from src, at most conns
// of them, each request bounded by timeout.
func newClient(src netip.Addr, conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src.AsSlice()}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxConnsPerHost:     conns,
			MaxIdleConnsPerHost: conns,
			MaxIdleConns:        conns,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func randToken(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randUUID(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newRand() *rand.Rand {
	return rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
}

func updateRequest(ctx context.Context, base, user, key, sub, txt string) *http.Request {
	body := fmt.Sprintf(`{"subdomain": %q, "txt": %q}`, sub, txt)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/update", strings.NewReader(body))
	req.Header.Set("X-Api-User", user)
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("Content-Type", "application/json")
	return req
}

// outcome names a request's result: its status code, or the kind of failure.
func outcome(resp *http.Response, err error) string {
	switch {
	case err == nil:
		return strconv.Itoa(resp.StatusCode)
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	default:
		return "conn_error"
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// do sends req and reads the whole reply.
func do(c *http.Client, req *http.Request) (string, []byte, time.Duration) {
	t0 := time.Now()
	resp, err := c.Do(req)
	var body []byte
	if err == nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			resp, body = nil, nil
		}
	}
	return outcome(resp, err), body, time.Since(t0)
}

func readCreds(path string) []creds {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []creds
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c creds
		if json.Unmarshal(sc.Bytes(), &c) == nil && c.Subdomain != "" && c.Username != "" {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		log.Fatalf("no credentials in %s", path)
	}
	return out
}

// latencies summarises request durations in milliseconds.
type latencies struct {
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

func summarise(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return latencies{
		MeanMS: ms(sum / time.Duration(len(s))),
		P50MS:  ms(s[rank(len(s), 0.50)]),
		P99MS:  ms(s[rank(len(s), 0.99)]),
		MaxMS:  ms(s[len(s)-1]),
	}
}

// rank is the index of the q-quantile of n sorted values (nearest rank).
func rank(n int, q float64) int {
	i := int(float64(n)*q+0.999999) - 1
	return max(0, min(n-1, i))
}

// counter counts outcomes by name, safely from many goroutines.
type counter struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps(c.m)
}

func maps(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// --- seed ------------------------------------------------------------------

type seedResult struct {
	Role       string         `json:"role"`
	Scenario   string         `json:"scenario,omitempty"`
	Wanted     int            `json:"wanted"`
	Registered int            `json:"registered"`
	TXTSet     int            `json:"txt_set"`
	Seconds    float64        `json:"seconds"`
	Statuses   map[string]int `json:"statuses"`
}

func seedMain(args []string) {
	c := newCommon(5 * time.Minute)
	base := c.fs.String("api", "", "API base URL")
	n := c.fs.Int("n", 1000, "accounts to register")
	workers := c.fs.Int("workers", 8, "concurrent requests")
	src := c.fs.String("src", "127.0.0.1", "source address")
	credsPath := c.fs.String("creds", "", "write the credentials here (JSON lines)")
	queries := c.fs.String("queries", "", "write a dnsperf file of the accounts' names here")
	setTXT := c.fs.Bool("txt", true, "also set one TXT value on each account with /update")
	spread := c.fs.Int("spread", 0, "register at most this many accounts per source address, from 127.0.1.1 on (0: all from -src), so that per-client registration budgets allow the seeding")
	c.parse(args)
	api := loopbackURL(*base)
	if *n < 1 || *n > 1_000_000 || *workers < 1 || *workers > maxWorkers || *credsPath == "" || *queries == "" {
		log.Fatal("seed: need -creds, -queries, 1 <= -n <= 1e6, 1 <= -workers <= 256")
	}
	client := newClient(loopbackAddr(*src, "-src"), *workers, 30*time.Second)
	var spreadClients sync.Map // source address -> *http.Client
	clientFor := func(i int64) *http.Client {
		if *spread <= 0 {
			return client
		}
		k := (i - 1) / int64(*spread)
		addr := netip.AddrFrom4([4]byte{127, byte(1 + k/250), byte(1 + k%250), 1})
		c, _ := spreadClients.LoadOrStore(addr, newClient(addr, 2, 30*time.Second))
		return c.(*http.Client)
	}
	deadline := time.Now().Add(*c.duration)
	var (
		next     atomic.Int64
		statuses counter
		mu       sync.Mutex
		got      []creds
		txtSet   atomic.Int64
		wg       sync.WaitGroup
	)
	start := time.Now()
	// attempt runs fn until it reports success, backing off on 429/503 and
	// failures, until the deadline.
	attempt := func(fn func() (string, bool)) bool {
		backoff := 50 * time.Millisecond
		for tries := 0; tries < 50 && time.Now().Before(deadline); tries++ {
			st, ok := fn()
			statuses.add(st)
			if ok {
				return true
			}
			time.Sleep(backoff)
			backoff = min(2*backoff, 2*time.Second)
		}
		return false
	}
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand()
			for time.Now().Before(deadline) {
				i := next.Add(1)
				if i > int64(*n) {
					break
				}
				client := clientFor(i)
				var cr creds
				ok := attempt(func() (string, bool) {
					req, _ := http.NewRequest(http.MethodPost, api+"/register", nil)
					st, body, _ := do(client, req)
					if st != "201" {
						return "register_" + st, false
					}
					cr = creds{}
					return "register_201", json.Unmarshal(body, &cr) == nil && cr.Subdomain != ""
				})
				if !ok {
					continue
				}
				if *setTXT {
					txt := randToken(r, 43)
					if attempt(func() (string, bool) {
						st, _, _ := do(client, updateRequest(context.Background(), api, cr.Username, cr.Password, cr.Subdomain, txt))
						return "update_" + st, st == "200"
					}) {
						txtSet.Add(1)
					}
				}
				mu.Lock()
				got = append(got, cr)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	var cb, qb bytes.Buffer
	for _, cr := range got {
		line, _ := json.Marshal(cr)
		cb.Write(append(line, '\n'))
		fmt.Fprintf(&qb, "%s TXT\n", cr.Fulldomain)
	}
	if err := os.WriteFile(*credsPath, cb.Bytes(), 0o600); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*queries, qb.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	c.emit(seedResult{Role: "seed", Scenario: *c.scenario, Wanted: *n, Registered: len(got), TXTSet: int(txtSet.Load()),
		Seconds: time.Since(start).Seconds(), Statuses: statuses.snapshot()})
	if len(got) == 0 {
		os.Exit(1)
	}
}

// --- names -----------------------------------------------------------------

func namesMain(args []string) {
	fs := flag.NewFlagSet("names", flag.ExitOnError)
	n := fs.Int("n", 300_000, "names")
	zone := fs.String("zone", "auth.example.test", "zone")
	out := fs.String("out", "", "dnsperf file to write")
	fs.Parse(args)
	if *out == "" || *n < 1 || *n > 10_000_000 {
		log.Fatal("names: need -out and 1 <= -n <= 1e7")
	}
	r := newRand()
	var b bytes.Buffer
	for i := 0; i < *n; i++ {
		fmt.Fprintf(&b, "%s.%s TXT\n", randUUID(r), strings.TrimSuffix(*zone, "."))
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

// --- legit -----------------------------------------------------------------

type legitResult struct {
	Role     string         `json:"role"`
	Scenario string         `json:"scenario,omitempty"`
	Src      string         `json:"src"`
	Seconds  float64        `json:"seconds"`
	Sent     int            `json:"sent"`
	OK       int            `json:"ok"`
	Statuses map[string]int `json:"statuses"`
	latencies
}

func legitMain(args []string) {
	c := newCommon(20 * time.Second)
	base := c.fs.String("api", "", "API base URL")
	credsPath := c.fs.String("creds", "", "credentials (JSON lines); the first account is used")
	account := c.fs.Int("account", 0, "which account of -creds to use")
	src := c.fs.String("src", "127.0.0.2", "source address")
	interval := c.fs.Duration("interval", 500*time.Millisecond, "time between the starts of two updates")
	timeout := c.fs.Duration("timeout", 10*time.Second, "per-request timeout")
	c.parse(args)
	api := loopbackURL(*base)
	all := readCreds(*credsPath)
	a := all[*account%len(all)]
	if *interval < 10*time.Millisecond {
		log.Fatal("-interval must be at least 10ms")
	}
	client := newClient(loopbackAddr(*src, "-src"), 1, *timeout)
	r := newRand()
	var (
		statuses counter
		lats     []time.Duration
		sent     int
	)
	c.wait()
	start := time.Now()
	end := start.Add(*c.duration)
	// One update at a time: the next starts -interval after the last one
	// started, or at once if that one took longer.
	for next := start; next.Before(end) && sent < maxRequests; {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = time.Now().Add(*interval)
		st, _, lat := do(client, updateRequest(context.Background(), api, a.Username, a.Password, a.Subdomain, randToken(r, 43)))
		sent++
		statuses.add(st)
		lats = append(lats, lat)
	}
	st := statuses.snapshot()
	c.emit(legitResult{Role: "legit", Scenario: *c.scenario, Src: *src, Seconds: time.Since(start).Seconds(),
		Sent: sent, OK: st["200"], Statuses: st, latencies: summarise(lats)})
}

// --- floods ----------------------------------------------------------------

type floodResult struct {
	Role      string         `json:"role"`
	Scenario  string         `json:"scenario,omitempty"`
	Src       string         `json:"src"`
	Workers   int            `json:"workers"`
	Seconds   float64        `json:"seconds"`
	Completed int            `json:"completed"` // requests that got a status code
	RPS       float64        `json:"rps"`       // of those
	Statuses  map[string]int `json:"statuses"`
	latencies
}

func floodMain(args []string) {
	c := newCommon(20 * time.Second)
	base := c.fs.String("api", "", "API base URL")
	credsPath := c.fs.String("creds", "", "flood-update: existing accounts, whose subdomains are used for half the requests")
	src := c.fs.String("src", "127.0.0.3", "source address")
	workers := c.fs.Int("workers", 32, "concurrent clients")
	maxReq := c.fs.Int("max", 1_000_000, "stop after this many requests")
	timeout := c.fs.Duration("timeout", 10*time.Second, "per-request timeout")
	c.parse(args)
	api := loopbackURL(*base)
	if *workers < 1 || *workers > maxWorkers || *maxReq < 1 || *maxReq > maxRequests {
		log.Fatal("flood: 1 <= -workers <= 256, 1 <= -max <= 1e7")
	}
	var subs []string
	if currentRole == "flood-update" && *credsPath != "" {
		for _, a := range readCreds(*credsPath) {
			subs = append(subs, a.Subdomain)
		}
	}
	client := newClient(loopbackAddr(*src, "-src"), *workers, *timeout)
	c.wait()
	start := time.Now()
	// Requests in flight at the end are cancelled, so the flood stops on time.
	// SIGTERM ends it early the same way, with its summary.
	sig, stopSig := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stopSig()
	ctx, cancel := context.WithDeadline(sig, start.Add(*c.duration))
	defer cancel()
	var (
		issued   atomic.Int64
		statuses counter
		mu       sync.Mutex
		lats     []time.Duration
		wg       sync.WaitGroup
	)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := newRand()
			for ctx.Err() == nil && issued.Add(1) <= int64(*maxReq) {
				var req *http.Request
				if currentRole == "flood-register" {
					req, _ = http.NewRequestWithContext(ctx, http.MethodPost, api+"/register", nil)
				} else {
					sub := randUUID(r)
					if len(subs) > 0 && r.IntN(2) == 0 {
						sub = subs[r.IntN(len(subs))]
					}
					req = updateRequest(ctx, api, randUUID(r), randToken(r, 40), sub, randToken(r, 43))
				}
				st, _, lat := do(client, req)
				if !isCode(st) && ctx.Err() != nil {
					st = "cancelled_at_end" // in flight when the time was up
				}
				statuses.add(st)
				if isCode(st) {
					mu.Lock()
					lats = append(lats, lat)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	c.emit(floodResult{Role: currentRole, Scenario: *c.scenario, Src: *src, Workers: *workers, Seconds: elapsed,
		Completed: len(lats), RPS: float64(len(lats)) / elapsed, Statuses: statuses.snapshot(), latencies: summarise(lats)})
}

func isCode(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// --- abandon ---------------------------------------------------------------

type abandonResult struct {
	Role       string  `json:"role"`
	Scenario   string  `json:"scenario,omitempty"`
	Src        string  `json:"src"`
	Rate       float64 `json:"rate"`
	Seconds    float64 `json:"seconds"`
	Written    int64   `json:"written"`     // requests written in full, then closed unread
	DialErrors int64   `json:"dial_errors"` // connections refused or timed out
	WriteErrs  int64   `json:"write_errors"`
}

func abandonMain(args []string) {
	c := newCommon(10 * time.Second)
	base := c.fs.String("api", "", "API base URL")
	credsPath := c.fs.String("creds", "", "existing accounts, whose subdomains are used for half the requests")
	src := c.fs.String("src", "127.0.0.3", "source address")
	rate := c.fs.Float64("rate", 100, "requests per second")
	c.parse(args)
	api := loopbackURL(*base)
	u, _ := url.Parse(api)
	target := loopbackHostPort(u.Host, "-api's host:port")
	if *rate <= 0 || *rate > 10_000 {
		log.Fatal("-rate must be in (0, 10000]")
	}
	var subs []string
	if *credsPath != "" {
		for _, a := range readCreds(*credsPath) {
			subs = append(subs, a.Subdomain)
		}
	}
	srcAddr := loopbackAddr(*src, "-src")
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: srcAddr.AsSlice()}, Timeout: time.Second}
	total := int(*rate * c.duration.Seconds())
	every := time.Duration(float64(time.Second) / *rate)
	r := newRand()
	var written, dialErrs, writeErrs atomic.Int64
	var wg sync.WaitGroup
	c.wait()
	start := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d)
		}
		sub := randUUID(r)
		if len(subs) > 0 && r.IntN(2) == 0 {
			sub = subs[r.IntN(len(subs))]
		}
		body := fmt.Sprintf(`{"subdomain": %q, "txt": %q}`, sub, randToken(r, 43))
		msg := fmt.Sprintf("POST /update HTTP/1.1\r\nHost: %s\r\nUser-Agent: attack-abandon\r\nX-Api-User: %s\r\nX-Api-Key: %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", target, randUUID(r), randToken(r, 40), len(body), body)
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := dialer.Dial("tcp", target)
			if err != nil {
				dialErrs.Add(1)
				return
			}
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := io.WriteString(conn, msg); err != nil {
				writeErrs.Add(1)
			} else {
				written.Add(1)
			}
			conn.Close() // at once, without reading the reply
		}()
	}
	wg.Wait()
	c.emit(abandonResult{Role: "abandon", Scenario: *c.scenario, Src: *src, Rate: *rate, Seconds: time.Since(start).Seconds(),
		Written: written.Load(), DialErrors: dialErrs.Load(), WriteErrs: writeErrs.Load()})
}

// --- probe -----------------------------------------------------------------

type phase struct {
	Name        string  `json:"name"`
	From        float64 `json:"from_s"`
	To          float64 `json:"to_s"`
	Sent        int     `json:"sent"`
	Answered    int     `json:"answered"`
	AnsweredPct float64 `json:"answered_pct"`
	latencies
}

type probeResult struct {
	Role     string  `json:"role"`
	Scenario string  `json:"scenario,omitempty"`
	Seconds  float64 `json:"seconds"`
	Split    float64 `json:"split_s"`
	Phases   []phase `json:"phases"`
	// LastUnanswered is when, in seconds after -split, the last probe that
	// got no answer was sent (-1: every probe after the split was answered).
	LastUnanswered float64        `json:"last_unanswered_after_split_s"`
	AfterWindow    float64        `json:"after_window_s"` // how long probing went on after -split
	Rcodes         map[string]int `json:"rcodes"`
}

func probeMain(args []string) {
	c := newCommon(40 * time.Second)
	server := c.fs.String("dns", "", "DNS server HOST:PORT")
	name := c.fs.String("name", "", "name to ask (TXT)")
	every := c.fs.Duration("every", 10*time.Millisecond, "time between two probes")
	timeout := c.fs.Duration("timeout", time.Second, "a probe unanswered after this is lost")
	split := c.fs.Duration("split", 0, "report before and after this offset separately (0: one phase), and 10 s windows after it")
	timeline := c.fs.String("timeline", "", "write answered/sent per second here (TSV)")
	c.parse(args)
	addr := loopbackHostPort(*server, "-dns")
	if *name == "" || *every < time.Millisecond {
		log.Fatal("probe: need -name and -every >= 1ms")
	}
	type sample struct {
		at  time.Duration
		lat time.Duration
		ok  bool
		rc  string
	}
	n := int(*c.duration / *every)
	samples := make([]sample, n)
	client := &dns.Client{Net: "udp", Timeout: *timeout}
	var wg sync.WaitGroup
	c.wait()
	start := time.Now()
	for i := 0; i < n; i++ {
		at := time.Duration(i) * *every
		if d := time.Until(start.Add(at)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func(i int, at time.Duration) {
			defer wg.Done()
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(*name), dns.TypeTXT)
			resp, rtt, err := client.Exchange(m, addr)
			s := sample{at: at, lat: rtt, ok: err == nil && resp != nil}
			if s.ok {
				s.rc = dns.RcodeToString[resp.Rcode]
			}
			samples[i] = s
		}(i, time.Since(start))
	}
	wg.Wait()
	elapsed := time.Since(start)
	res := probeResult{Role: "probe", Scenario: *c.scenario, Seconds: elapsed.Seconds(), Split: split.Seconds(), LastUnanswered: -1,
		AfterWindow: max(0, (*c.duration - *split).Seconds()), Rcodes: map[string]int{}}
	mk := func(name string, from, to time.Duration) phase {
		p := phase{Name: name, From: from.Seconds(), To: to.Seconds()}
		var lats []time.Duration
		for _, s := range samples {
			if s.at < from || s.at >= to && to < *c.duration {
				continue
			}
			p.Sent++
			if s.ok {
				p.Answered++
				lats = append(lats, s.lat)
			}
		}
		if p.Sent > 0 {
			p.AnsweredPct = 100 * float64(p.Answered) / float64(p.Sent)
		}
		p.latencies = summarise(lats)
		return p
	}
	end := *c.duration
	if *split > 0 {
		res.Phases = append(res.Phases, mk("during", 0, *split), mk("after", *split, end))
		for w := *split; w < *c.duration; w += 10 * time.Second {
			res.Phases = append(res.Phases, mk(fmt.Sprintf("after+%d-%ds", int((w-*split).Seconds()), int((w-*split).Seconds())+10), w, w+10*time.Second))
		}
	} else {
		res.Phases = append(res.Phases, mk("all", 0, end))
	}
	for _, s := range samples {
		if s.ok {
			res.Rcodes[s.rc]++
		} else if *split > 0 && s.at >= *split {
			res.LastUnanswered = max(res.LastUnanswered, (s.at - *split).Seconds())
		}
	}
	if *timeline != "" {
		var b bytes.Buffer
		b.WriteString("second\tsent\tanswered\n")
		secs := int(c.duration.Seconds()) + 1
		sent, ans := make([]int, secs), make([]int, secs)
		for _, s := range samples {
			k := min(secs-1, int(s.at.Seconds()))
			sent[k]++
			if s.ok {
				ans[k]++
			}
		}
		for k := range secs {
			if sent[k] > 0 {
				fmt.Fprintf(&b, "%d\t%d\t%d\n", k, sent[k], ans[k])
			}
		}
		os.WriteFile(*timeline, b.Bytes(), 0o644)
	}
	c.emit(res)
}

// --- dnsperf ---------------------------------------------------------------

type dnsResult struct {
	Role      string         `json:"role"`
	Scenario  string         `json:"scenario,omitempty"`
	Label     string         `json:"label,omitempty"`
	Sent      int            `json:"sent"`
	Completed int            `json:"completed"`
	Lost      int            `json:"lost"`
	LostPct   float64        `json:"lost_pct"`
	QPS       float64        `json:"qps"`
	RunTime   float64        `json:"run_time_s"`
	Rcodes    map[string]int `json:"rcodes"`
	// Latencies of the answered queries, from dnsperf -v's per-query lines.
	Answered int `json:"answered_lines"`
	latencies
}

// dnsperfMain summarises the output of dnsperf -v: its statistics block and
// the per-query lines "> RCODE NAME TYPE SECONDS" (answered queries only).
func dnsperfMain(args []string) {
	fs := flag.NewFlagSet("dnsperf", flag.ExitOnError)
	in := fs.String("in", "", "dnsperf -v output")
	scenario := fs.String("scenario", "", "scenario label")
	label := fs.String("label", "", "what was queried")
	out := fs.String("out", "", "also append the JSON line here")
	fs.Parse(args)
	f, err := os.Open(*in)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	res := dnsResult{Role: "dns", Scenario: *scenario, Label: *label, Rcodes: map[string]int{}}
	var lats []time.Duration
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	field := func(line string, i int) string {
		f := strings.Fields(line)
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	atoi := func(s string) int { v, _ := strconv.Atoi(s); return v }
	atof := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "> "):
			f := strings.Fields(line)
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && len(f) >= 3 {
				lats = append(lats, time.Duration(v*1e9))
			}
		case strings.HasPrefix(line, "Queries sent:"):
			res.Sent = atoi(field(line, 2))
		case strings.HasPrefix(line, "Queries completed:"):
			res.Completed = atoi(field(line, 2))
		case strings.HasPrefix(line, "Queries lost:"):
			res.Lost = atoi(field(line, 2))
		case strings.HasPrefix(line, "Queries per second:"):
			res.QPS = atof(field(line, 3))
		case strings.HasPrefix(line, "Run time (s):"):
			res.RunTime = atof(field(line, 3))
		case strings.HasPrefix(line, "Response codes:"):
			f := strings.Fields(strings.TrimPrefix(line, "Response codes:"))
			for i := 0; i+1 < len(f); i += 3 {
				res.Rcodes[f[i]] = atoi(f[i+1])
			}
		}
	}
	if res.Sent > 0 {
		res.LostPct = 100 * float64(res.Lost) / float64(res.Sent)
	}
	res.Answered = len(lats)
	res.latencies = summarise(lats)
	emitTo(*out, res)
}

// --- metrics ---------------------------------------------------------------

type metricsResult struct {
	Role     string             `json:"role"`
	Scenario string             `json:"scenario,omitempty"`
	Error    string             `json:"error,omitempty"`
	Counters map[string]float64 `json:"counters"`
}

// metricsMain scrapes the prometheus plugin once and keeps acmedns's own
// series plus a few of the Go runtime's.
func metricsMain(args []string) {
	fs := flag.NewFlagSet("metrics", flag.ExitOnError)
	u := fs.String("url", "", "metrics URL")
	scenario := fs.String("scenario", "", "scenario label")
	out := fs.String("out", "", "also append the JSON line here")
	fs.Parse(args)
	base := loopbackURL(*u)
	res := metricsResult{Role: "metrics", Scenario: *scenario, Counters: map[string]float64{}}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(base)
	if err != nil {
		res.Error = err.Error()
		emitTo(*out, res)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 16<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "coredns_acmedns_") && !strings.HasPrefix(line, "go_goroutines ") &&
			!strings.HasPrefix(line, "process_cpu_seconds_total ") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			continue
		}
		name := strings.TrimPrefix(line[:i], "coredns_acmedns_")
		name = strings.ReplaceAll(strings.ReplaceAll(name, `server="dns://127.0.0.1:`, `server="`), `"`, "")
		res.Counters[name] = v
	}
	emitTo(*out, res)
}

// --- report ----------------------------------------------------------------

// reportMain reads every DIR/*/results.jsonl (one directory per measured
// build and store, with a meta.tsv) and writes the markdown tables.
func reportMain(args []string) {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	dir := fs.String("dir", "test/bench/results/attack", "results directory")
	md := fs.String("md", "", "markdown file to write (all runs)")
	only := fs.String("only", "", "print only this run's tables on stdout (a subdirectory name)")
	fs.Parse(args)
	entries, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatal(err)
	}
	var all bytes.Buffer
	all.WriteString("# API load against DNS: attack scenarios\n\n")
	all.WriteString("Written by `test/bench/attack.sh` from the runs under `test/bench/results/attack/`; one section per\n" +
		"measured build and store (the directory name). Figures are raw, from one run each.\n\n")
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := *dir + "/" + e.Name()
		lines, err := readLines(p + "/results.jsonl")
		if err != nil || len(lines) == 0 {
			continue
		}
		var sec bytes.Buffer
		section(&sec, e.Name(), readMeta(p+"/meta.tsv"), lines)
		all.Write(sec.Bytes())
		if *only == e.Name() {
			os.Stdout.Write(sec.Bytes())
		}
	}
	if *md != "" {
		if err := os.WriteFile(*md, all.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *only == "" {
		os.Stdout.Write(all.Bytes())
	}
}

func readLines(path string) ([]map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, l := range bytes.Split(b, []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil {
			out = append(out, m)
		}
	}
	return out, nil
}

type kv struct{ k, v string }

func readMeta(path string) []kv {
	b, _ := os.ReadFile(path)
	var out []kv
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, "\t"); ok {
			out = append(out, kv{k, v})
		}
	}
	return out
}

func find(lines []map[string]any, scenario, role string, label ...string) map[string]any {
	for _, l := range lines {
		if l["scenario"] == scenario && l["role"] == role && (len(label) == 0 || l["label"] == label[0]) {
			return l
		}
	}
	return nil
}

func num(m map[string]any, k string) (float64, bool) {
	if m == nil {
		return 0, false
	}
	v, ok := m[k].(float64)
	return v, ok
}

func fmtNum(m map[string]any, k, format string) string {
	v, ok := num(m, k)
	if !ok {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

func statuses(m map[string]any, k string) string {
	if m == nil {
		return "–"
	}
	s, _ := m[k].(map[string]any)
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s×%v", k, s[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

// afterWindow is how long a probe went on after its split, in seconds.
func afterWindow(p map[string]any) float64 {
	if w, ok := num(p, "after_window_s"); ok {
		return w
	}
	a := phaseOf(p, "after")
	from, ok1 := num(a, "from_s")
	to, ok2 := num(a, "to_s")
	if !ok1 || !ok2 {
		return 0
	}
	return to - from
}

func phaseOf(m map[string]any, name string) map[string]any {
	if m == nil {
		return nil
	}
	ps, _ := m["phases"].([]any)
	for _, p := range ps {
		if pm, ok := p.(map[string]any); ok && pm["name"] == name {
			return pm
		}
	}
	return nil
}

func section(w *bytes.Buffer, name string, meta []kv, lines []map[string]any) {
	fmt.Fprintf(w, "## %s\n\n", name)
	for _, m := range meta {
		fmt.Fprintf(w, "- %s: %s\n", m.k, m.v)
	}
	w.WriteString("\n")

	scen := []struct{ key, what string }{
		{"baseline", "1 baseline"},
		{"update-flood", "2 update flood (32 clients, 127.0.0.3)"},
		{"burst", "7 burst (" + fmtNum(find(lines, "burst", "burst"), "requests", "%.0f") + " uncached updates at once, 127.0.0.4)"},
		{"burst-flood", "8 burst beside an update flood (" + fmtNum(find(lines, "burst-flood", "flood-update"), "workers", "%.0f") + " clients, 127.0.0.3)"},
		{"register-flood", "3 register flood (32 clients, 127.0.0.3)"},
		{"conn-flood", "6 connection flood (" + fmtNum(find(lines, "conn-flood", "conn-flood"), "workers", "%.0f") + " clients, 127.0.0.3)"},
	}
	var any1 bool
	for _, s := range scen {
		if find(lines, s.key, "legit") != nil || find(lines, s.key, "dns") != nil {
			any1 = true
		}
	}
	if any1 {
		w.WriteString("DNS: dnsperf at a fixed rate, timeout 1 s; p50/p99 over the answered queries. Legit: one valid\n" +
			"/update every 500 ms from 127.0.0.2 (latency over every request, failures included).\n\n")
		w.WriteString("| scenario | DNS sent | DNS lost % | DNS p50 ms | DNS p99 ms | DNS max ms | legit ok / sent | legit statuses | legit mean ms | legit max ms | attack req/s | attack statuses |\n")
		w.WriteString("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|\n")
		for _, s := range scen {
			d, l := find(lines, s.key, "dns"), find(lines, s.key, "legit")
			if d == nil && l == nil {
				continue
			}
			var f map[string]any
			switch s.key {
			case "update-flood", "burst-flood":
				f = find(lines, s.key, "flood-update")
			case "register-flood":
				f = find(lines, s.key, "flood-register")
			case "conn-flood":
				f = find(lines, s.key, "conn-flood")
			}
			attackRate, attackSt := "–", "–"
			if f != nil {
				attackRate, attackSt = fmtNum(f, "rps", "%.1f"), statuses(f, "statuses")
			}
			if _, ok := f["errors"]; ok {
				attackSt += "; no answer: " + statuses(f, "errors")
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s |\n", s.what,
				fmtNum(d, "sent", "%.0f"), fmtNum(d, "lost_pct", "%.2f"), fmtNum(d, "p50_ms", "%.2f"), fmtNum(d, "p99_ms", "%.2f"), fmtNum(d, "max_ms", "%.1f"),
				fmtNum(l, "ok", "%.0f"), fmtNum(l, "sent", "%.0f"), statuses(l, "statuses"), fmtNum(l, "mean_ms", "%.1f"), fmtNum(l, "max_ms", "%.1f"),
				attackRate, attackSt)
		}
		w.WriteString("\n")
	}
	burstTable(w, lines)
	connFloodTable(w, find(lines, "conn-flood", "conn-flood"))

	if p := find(lines, "abandon", "probe"); p != nil {
		a, l := find(lines, "abandon", "abandon"), find(lines, "abandon", "legit")
		w.WriteString("Scenario 4, abandoned requests: /update requests each written in full on a new connection from\n" +
			"127.0.0.3 and closed unread; a DNS probe every 10 ms (timeout 1 s) during the flood and after it.\n\n")
		w.WriteString("| abandoned written | probes answered during % | after % | after 0–10 s % | 10–20 s % | 20–30 s % | last unanswered probe, s after flood | probe p99 ms during | probe rcodes | legit ok / sent | legit statuses | legit mean ms | legit max ms |\n")
		w.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---:|---:|\n")
		last := fmtNum(p, "last_unanswered_after_split_s", "%.2f")
		if v, ok := num(p, "last_unanswered_after_split_s"); ok && v < 0 {
			last = "none"
		} else if win := afterWindow(p); win > 0 && v >= win-0.5 {
			last = fmt.Sprintf("%.2f (still failing when probing ended, %.0f s after)", v, win)
		}
		fmt.Fprintf(w, "| %s (%s/s) | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |\n\n",
			fmtNum(a, "written", "%.0f"), fmtNum(a, "rate", "%.0f"),
			fmtNum(phaseOf(p, "during"), "answered_pct", "%.1f"), fmtNum(phaseOf(p, "after"), "answered_pct", "%.1f"),
			fmtNum(phaseOf(p, "after+0-10s"), "answered_pct", "%.1f"), fmtNum(phaseOf(p, "after+10-20s"), "answered_pct", "%.1f"),
			fmtNum(phaseOf(p, "after+20-30s"), "answered_pct", "%.1f"), last, fmtNum(phaseOf(p, "during"), "p99_ms", "%.1f"),
			statuses(p, "rcodes"), fmtNum(l, "ok", "%.0f"), fmtNum(l, "sent", "%.0f"), statuses(l, "statuses"), fmtNum(l, "mean_ms", "%.1f"), fmtNum(l, "max_ms", "%.1f"))
	}

	var mlines []string
	for _, sc := range []string{"seed", "baseline", "update-flood", "burst", "burst-flood", "register-flood", "conn-flood", "abandon", "random-names"} {
		m := find(lines, sc, "metrics")
		if m == nil {
			continue
		}
		if e, ok := m["error"].(string); ok && e != "" {
			mlines = append(mlines, fmt.Sprintf("- %s: scrape failed (%s)", sc, e))
			continue
		}
		cs, _ := m["counters"].(map[string]any)
		keys := make([]string, 0, len(cs))
		for k := range cs {
			if strings.HasPrefix(k, "dns_answers") || strings.HasPrefix(k, "cache_lookups") || strings.HasPrefix(k, "process_") {
				continue // per-query counts, shown by dnsperf already
			}
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("`%s` %v", k, cs[k]))
		}
		mlines = append(mlines, fmt.Sprintf("- %s: %s", sc, strings.Join(parts, ", ")))
	}
	if len(mlines) > 0 {
		w.WriteString("Server-side counters at the end of each scenario (prometheus plugin; each scenario starts a fresh server):\n\n")
		w.WriteString(strings.Join(mlines, "\n") + "\n\n")
	}

	reg, rnd := find(lines, "random-names", "dns", "registered"), find(lines, "random-names", "dns", "random")
	if reg != nil || rnd != nil {
		w.WriteString("Scenario 5, random names: dnsperf at saturation (`-c 8 -q 100`); the random names are unregistered,\n" +
			"each asked once (`-n 1`), the registered names loop for the time limit.\n\n")
		w.WriteString("| names | qps | sent | lost | rcodes | p50 ms | p99 ms |\n|---|---:|---:|---:|---|---:|---:|\n")
		for _, d := range []map[string]any{reg, rnd} {
			if d == nil {
				continue
			}
			fmt.Fprintf(w, "| %v | %s | %s | %s | %s | %s | %s |\n", d["label"], fmtNum(d, "qps", "%.0f"), fmtNum(d, "sent", "%.0f"),
				fmtNum(d, "lost", "%.0f"), statuses(d, "rcodes"), fmtNum(d, "p50_ms", "%.3f"), fmtNum(d, "p99_ms", "%.3f"))
		}
		if a, ok1 := num(rnd, "qps"); ok1 {
			if b, ok2 := num(reg, "qps"); ok2 && b > 0 {
				fmt.Fprintf(w, "\nratio random / registered: **%.2f×**\n", a/b)
			}
		}
		w.WriteString("\n")
	}
}

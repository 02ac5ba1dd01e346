package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxConnWorkers bounds the connection flood's clients, which are meant to
// outnumber the per-client connection bound many times over.
const maxConnWorkers = 2048

// connFloodResult is the connection flood's summary. Statuses holds the
// answers by status code, a refused connection's 503 apart as
// "503_refused"; Errors the requests that got no answer, by kind: "reset"
// (connection reset, broken pipe) and "eof" (closed before any answer) are
// what a refused connection looks like when it is closed unanswered.
type connFloodResult struct {
	Role      string         `json:"role"`
	Scenario  string         `json:"scenario,omitempty"`
	Src       string         `json:"src"`
	Workers   int            `json:"workers"`
	Seconds   float64        `json:"seconds"`
	Requests  int            `json:"requests"`
	Completed int            `json:"completed"` // requests that got a status code
	RPS       float64        `json:"rps"`       // of those
	Refused   int            `json:"refused"`   // 503 busy answers of refused connections
	Resets    int            `json:"resets"`    // reset or closed unanswered
	Statuses  map[string]int `json:"statuses"`
	Errors    map[string]int `json:"errors"`
	latencies
}

// connFloodMain runs -workers clients from -src, each looping: connect,
// POST /update with random credentials (on an existing subdomain half the
// time, given -creds), read the answer, close.
func connFloodMain(args []string) {
	c := newCommon(20 * time.Second)
	base := c.fs.String("api", "", "API base URL")
	credsPath := c.fs.String("creds", "", "existing accounts, whose subdomains are used for half the requests")
	src := c.fs.String("src", "127.0.0.3", "source address")
	workers := c.fs.Int("workers", 400, "concurrent clients, each on a new connection per request")
	maxReq := c.fs.Int("max", 1_000_000, "stop after this many requests")
	timeout := c.fs.Duration("timeout", 10*time.Second, "per-request timeout")
	c.parse(args)
	api := loopbackURL(*base)
	if *workers < 1 || *workers > maxConnWorkers || *maxReq < 1 || *maxReq > maxRequests {
		log.Fatal("conn-flood: 1 <= -workers <= 2048, 1 <= -max <= 1e7")
	}
	srcAddr := loopbackAddr(*src, "-src")
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: srcAddr.AsSlice()}, Timeout: 5 * time.Second}
	client := &http.Client{
		Timeout:       *timeout,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.wait()
	start := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), start.Add(*c.duration))
	defer cancel()
	var f connFlood
	if *credsPath != "" {
		for _, a := range readCreds(*credsPath) {
			f.subs = append(f.subs, a.Subdomain)
		}
	}
	var wg sync.WaitGroup
	for range *workers {
		wg.Go(func() { f.loop(ctx, client, api, int64(*maxReq)) })
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	st, errs := f.statuses.snapshot(), f.errors.snapshot()
	c.emit(connFloodResult{Role: currentRole, Scenario: *c.scenario, Src: *src, Workers: *workers, Seconds: elapsed,
		Requests: total(st) + total(errs), Completed: len(f.lats), RPS: float64(len(f.lats)) / elapsed,
		Refused: st["503_refused"], Resets: errs["reset"] + errs["eof"], Statuses: st, Errors: errs,
		latencies: summarise(f.lats)})
}

// connFlood is what the connection flood's workers share.
type connFlood struct {
	subs     []string // existing subdomains, for half the requests
	issued   atomic.Int64
	statuses counter
	errors   counter
	mu       sync.Mutex
	lats     []time.Duration
}

// loop sends requests, each on a connection of its own, until ctx ends or
// limit requests were issued by all workers.
func (f *connFlood) loop(ctx context.Context, client *http.Client, api string, limit int64) {
	r := newRand()
	for ctx.Err() == nil && f.issued.Add(1) <= limit {
		sub := randUUID(r)
		if len(f.subs) > 0 && r.IntN(2) == 0 {
			sub = f.subs[r.IntN(len(f.subs))]
		}
		req := updateRequest(ctx, api, randUUID(r), randToken(r, 40), sub, randToken(r, 43))
		t0 := time.Now()
		st, err := connExchange(client, req)
		lat := time.Since(t0)
		switch {
		case err == nil:
			f.statuses.add(st)
			f.mu.Lock()
			f.lats = append(f.lats, lat)
			f.mu.Unlock()
		case ctx.Err() != nil:
			f.errors.add("cancelled_at_end") // in flight when the time was up
		default:
			f.errors.add(failureKind(err))
		}
	}
}

// connExchange sends req on a new connection and reads the whole answer.
// A 503 of a refused connection, written before any HTTP server saw the
// request, is told apart by its Connection: close and its lack of a Date
// header (the API's own answers always carry one).
func connExchange(client *http.Client, req *http.Request) (string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return "", err
	}
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Close && resp.Header.Get("Date") == "" {
		return "503_refused", nil
	}
	return strconv.Itoa(resp.StatusCode), nil
}

// failureKind names why a request got no answer; "dial_" prefixes the
// failures to connect.
func failureKind(err error) string {
	kind := "other"
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		kind = "timeout"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		kind = "reset"
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "refused"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		kind = "no_local_port"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		kind = "eof"
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return "dial_" + kind
	}
	return kind
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// connFloodTable writes the connection flood's own table: how its requests
// ended, a refused connection's 503 apart from the resets and the
// connections closed unanswered.
func connFloodTable(w *bytes.Buffer, f map[string]any) {
	if f == nil {
		return
	}
	w.WriteString("Scenario 6, connection flood: clients from 127.0.0.3, each looping connect, `/update` with random\n" +
		"credentials, read the answer, close; most of their connections are beyond the per-client connection\n" +
		"bound. `503_refused` is the busy answer of a refused connection (`Connection: close`, no `Date`);\n" +
		"`reset` and `eof` are connections closed without an answer.\n\n")
	w.WriteString("| clients | requests | answered/s | refused, answered 503 | reset or closed unanswered | answers | no answer | p50 ms | p99 ms |\n")
	w.WriteString("|---:|---:|---:|---:|---:|---|---|---:|---:|\n")
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n\n", fmtNum(f, "workers", "%.0f"), fmtNum(f, "requests", "%.0f"),
		fmtNum(f, "rps", "%.1f"), fmtNum(f, "refused", "%.0f"), fmtNum(f, "resets", "%.0f"), statuses(f, "statuses"),
		statuses(f, "errors"), fmtNum(f, "p50_ms", "%.2f"), fmtNum(f, "p99_ms", "%.2f"))
}

// Command apiload drives acmedns's HTTP API for a bounded time: W workers
// POST /register (saving the credentials they get) or POST /update (with
// credentials saved by a register run), then it prints one JSON line with
// the request rate and the latency percentiles of successful requests.
// It only talks to loopback.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type creds struct {
	Username  string `json:"username"`
	Password  string `json:"password"`
	Subdomain string `json:"subdomain"`
}

type result struct {
	Mode     string  `json:"mode"`
	Workers  int     `json:"workers"`
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	OK       int     `json:"ok"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"`
	AvgMS    float64 `json:"avg_ms"`
	P50MS    float64 `json:"p50_ms"`
	P99MS    float64 `json:"p99_ms"`
	MaxMS    float64 `json:"max_ms"`
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func main() {
	base := flag.String("url", "http://127.0.0.1:8053", "API base URL (loopback only)")
	mode := flag.String("mode", "register", "register or update")
	workers := flag.Int("workers", 4, "concurrent workers")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	maxReq := flag.Int("max", 100_000, "stop after this many requests in all")
	credsFile := flag.String("creds", "", "register: append credentials here; update: read them from here")
	flag.Parse()

	u, err := url.Parse(*base)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		log.Fatalf("apiload: -url must be on loopback, got %q", *base)
	}
	var accounts []creds
	var out *bufio.Writer
	switch *mode {
	case "update":
		accounts, err = readCreds(*credsFile)
		if err != nil || len(accounts) == 0 {
			log.Fatalf("apiload: no credentials in %q: %v", *credsFile, err)
		}
	case "register":
		if *credsFile != "" {
			f, err := os.OpenFile(*credsFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
			if err != nil {
				log.Fatal(err)
			}
			defer f.Close()
			out = bufio.NewWriter(f)
			defer out.Flush()
		}
	default:
		log.Fatalf("apiload: unknown -mode %q", *mode)
	}

	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: *workers, MaxConnsPerHost: *workers},
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		requests  int
		errs      int
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(*duration)
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for time.Now().Before(deadline) {
				mu.Lock()
				if requests >= *maxReq {
					mu.Unlock()
					return
				}
				requests++
				mu.Unlock()

				var req *http.Request
				var want int
				switch *mode {
				case "register":
					req, _ = http.NewRequest(http.MethodPost, *base+"/register", nil)
					want = http.StatusCreated
				case "update":
					a := accounts[r.IntN(len(accounts))]
					txt := make([]byte, 43)
					for i := range txt {
						txt[i] = alphabet[r.IntN(len(alphabet))]
					}
					body := fmt.Sprintf(`{"subdomain": %q, "txt": %q}`, a.Subdomain, txt)
					req, _ = http.NewRequest(http.MethodPost, *base+"/update", strings.NewReader(body))
					req.Header.Set("X-Api-User", a.Username)
					req.Header.Set("X-Api-Key", a.Password)
					want = http.StatusOK
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				lat := time.Since(t0)
				mu.Lock()
				if err != nil || resp.StatusCode != want {
					errs++
					if errs <= 3 {
						log.Printf("apiload: %s: %v %s", *mode, err, bytes.TrimSpace(body))
					}
				} else {
					latencies = append(latencies, lat)
					if out != nil {
						var c creds
						if json.Unmarshal(body, &c) == nil {
							line, _ := json.Marshal(c)
							out.Write(append(line, '\n'))
						}
					}
				}
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()

	res := result{Mode: *mode, Workers: *workers, Seconds: elapsed, Requests: requests, OK: len(latencies), Errors: errs, RPS: float64(len(latencies)) / elapsed}
	if n := len(latencies); n > 0 {
		slices.Sort(latencies)
		var sum time.Duration
		for _, l := range latencies {
			sum += l
		}
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		res.AvgMS = ms(sum / time.Duration(n))
		res.P50MS = ms(latencies[n/2])
		res.P99MS = ms(latencies[min(n-1, n*99/100)])
		res.MaxMS = ms(latencies[n-1])
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
}

func readCreds(path string) ([]creds, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []creds
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var c creds
		if err := json.Unmarshal(sc.Bytes(), &c); err == nil && c.Subdomain != "" {
			out = append(out, c)
		}
	}
	return out, sc.Err()
}

package httpapi

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConnBusyAnswer: the refusal's answer is writeError's busy answer, with
// Retry-After and Connection: close.
func TestConnBusyAnswer(t *testing.T) {
	rec := httptest.NewRecorder()
	writeError(rec, http.StatusServiceUnavailable, "busy")
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(busyAnswer)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, rec.Body.Bytes()) || resp.Header.Get("Content-Type") != rec.Header().Get("Content-Type") {
		t.Errorf("answer %q %q, writeError %q %q", body, resp.Header.Get("Content-Type"), rec.Body.Bytes(), rec.Header().Get("Content-Type"))
	}
	checkBusy(t, resp, body)
}

// TestRefusedConnectionAnswered: beyond a bound (per client or in all), a
// client reads 503 busy with Retry-After, over plain HTTP and over TLS
// (where an HTTP/2 client is answered HTTP/1.1), not a reset; the held
// connections still work, and another address is still served.
func TestRefusedConnectionAnswered(t *testing.T) {
	cases := []struct {
		name    string
		policy  ConnPolicy
		hold    []string // sources of the connections held, up to the bound
		refused []string // sources answered 503 busy meanwhile
		served  []string // sources served meanwhile
	}{
		{"per client", ConnPolicy{Max: 10, PerClient: 2},
			[]string{"127.0.0.1", "127.0.0.1"}, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, []string{"127.0.0.2"}},
		{"in all", ConnPolicy{Max: 3, PerClient: 2},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.2"}, []string{"127.0.0.2", "127.0.0.3", "127.0.0.1"}, nil},
	}
	cert, pool := selfSignedCert(t)
	for _, tc := range cases {
		for _, withTLS := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s tls=%v", tc.name, withTLS), func(t *testing.T) {
				target := &Target{Handler: handlerOK(), Conns: tc.policy}
				var trust *x509.CertPool
				if withTLS {
					target.Cert, trust = cert, pool
				}
				addr := "127.0.0.1:" + freePort(t)
				release, err := Listen(addr, target)
				if err != nil {
					t.Fatal(err)
				}
				defer release()
				testRefusedAnswered(t, addr, trust, tc.hold, tc.refused, tc.served)
			})
		}
	}
}

func testRefusedAnswered(t *testing.T, addr string, pool *x509.CertPool, hold, refused, served []string) {
	answered := metricValue(apiRejections.WithLabelValues("connections"))
	dropped := metricValue(apiRejections.WithLabelValues("connections_dropped"))
	var held []*apiConn
	for _, src := range hold {
		c := dialAPI(t, addr, src, pool)
		if code, err := c.get(); err != nil || code != 200 {
			t.Fatalf("held connection from %s: %d %v", src, code, err)
		}
		held = append(held, c)
	}
	for _, src := range refused {
		resp, body, err := postUpdate(oneShotClient(src, pool), addr, pool != nil)
		if err != nil {
			t.Fatalf("refused client from %s: %v", src, err)
		}
		checkBusy(t, resp, body)
	}
	for _, src := range served {
		resp, _, err := postUpdate(oneShotClient(src, pool), addr, pool != nil)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("client from %s: %v %v", src, resp, err)
		}
	}
	for i, c := range held {
		if code, err := c.get(); err != nil || code != 200 {
			t.Errorf("held connection %d after the refusals: %d %v", i, code, err)
		}
	}
	if got := metricValue(apiRejections.WithLabelValues("connections")) - answered; got != float64(len(refused)) {
		t.Errorf("api_rejections_total{reason=connections} grew by %v, want %d", got, len(refused))
	}
	if got := metricValue(apiRejections.WithLabelValues("connections_dropped")) - dropped; got != 0 {
		t.Errorf("api_rejections_total{reason=connections_dropped} grew by %v, want 0", got)
	}
}

// TestConnRefusalEndsCleanly: a refused client that wrote a request with a
// body (read by the server only in part before it answers) reads the whole
// answer and then the end of the stream, not a reset.
func TestConnRefusalEndsCleanly(t *testing.T) {
	cert, pool := selfSignedCert(t)
	for _, withTLS := range []bool{false, true} {
		for _, size := range []int{0, 32 << 10} {
			t.Run(fmt.Sprintf("tls=%v body=%d", withTLS, size), func(t *testing.T) {
				target := &Target{Handler: handlerOK(), Conns: ConnPolicy{Max: 1, PerClient: 1}}
				var trust *x509.CertPool
				if withTLS {
					target.Cert, trust = cert, pool
				}
				addr := "127.0.0.1:" + freePort(t)
				release, err := Listen(addr, target)
				if err != nil {
					t.Fatal(err)
				}
				defer release()
				if code, err := dialAPI(t, addr, "127.0.0.1", trust).get(); err != nil || code != 200 {
					t.Fatalf("held connection: %d %v", code, err)
				}
				c := dialAPI(t, addr, "127.0.0.1", trust)
				c.SetDeadline(time.Now().Add(5 * time.Second))
				fmt.Fprintf(c, "POST /update HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", size, strings.Repeat("a", size))
				got, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(got, busyAnswer) {
					t.Errorf("read %q, %v; want the answer and the end of the stream", got, err)
				}
			})
		}
	}
}

// TestConnRefusalFlood: refusals beyond the bound of those in progress are
// closed and counted apart; refusals held by silent clients block neither
// Accept nor the admitted connections; a burst of refused clients each get
// either the answer or a closed connection, as counted; and once it is
// over no refusal goroutine or slot is left.
func TestConnRefusalFlood(t *testing.T) {
	const bound, burst = 4, 100
	baseline := runtime.NumGoroutine()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := newCapListener(ln, ConnPolicy{Max: 1, PerClient: 1}, nil)
	var answered, dropped atomic.Int64
	cl.refusal = newRefusal(bound, nil)
	cl.refusal.wait, cl.refusal.total = time.Minute, time.Minute // silent clients hold their slot
	cl.refusal.answered = func() { answered.Add(1) }
	cl.refusal.dropped = func() { dropped.Add(1) }
	srv := &http.Server{Handler: handlerOK(), ReadHeaderTimeout: ReadHeaderTimeout}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(cl) }()
	addr := ln.Addr().String()

	admitted := dialAPI(t, addr, "127.0.0.1", nil)
	if code, err := admitted.get(); err != nil || code != 200 {
		t.Fatalf("first connection: %d %v", code, err)
	}
	silent := make([]*apiConn, bound)
	for i := range silent {
		silent[i] = dialAPI(t, addr, "127.0.0.1", nil)
	}
	eventuallyTrue(t, "silent refusals hold every slot", func() bool { return len(cl.refusal.slots) == bound })
	for i := range 16 {
		c := dialAPI(t, addr, "127.0.0.1", nil)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil || timedOut(err) {
			t.Fatalf("connection %d beyond the refusal bound: read %d bytes, %v", i, n, err)
		}
	}
	if answered.Load() != bound || dropped.Load() != 16 {
		t.Fatalf("answered %d, dropped %d; want %d and 16", answered.Load(), dropped.Load(), bound)
	}
	admitted.Close()
	eventuallyTrue(t, "admitted slot freed", func() bool { return cl.open.Load() == 0 })
	admitted = dialAPI(t, addr, "127.0.0.1", nil)
	if code, err := admitted.get(); err != nil || code != 200 {
		t.Fatalf("a connection while the refusals are held: %d %v", code, err)
	}
	for i, c := range silent {
		resp, err := c.roundTrip()
		if err != nil {
			t.Fatalf("silent refused connection %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		checkBusy(t, resp, body)
		c.Close() // as a client does after Connection: close; the refusal ends on it
	}
	busy, failed := burstRefused(t, addr, burst)
	t.Logf("burst of %d: %d answered, %d closed unanswered", burst, busy, failed)
	if busy+failed != burst || int64(busy) != answered.Load()-bound || int64(failed) != dropped.Load()-16 {
		t.Errorf("burst of %d: %d busy, %d failed; counted %d answered, %d dropped",
			burst, busy, failed, answered.Load()-bound, dropped.Load()-16)
	}
	if code, err := admitted.get(); err != nil || code != 200 {
		t.Errorf("the admitted connection after the burst: %d %v", code, err)
	}
	admitted.Close()
	srv.Close()
	<-done
	eventuallyTrue(t, "refusals ended", func() bool {
		return goroutinesIn("httpapi.(*refusal).answer") == 0 && len(cl.refusal.slots) == 0 && cl.open.Load() == 0
	})
	eventuallyTrue(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= baseline })
}

// burstRefused sends n requests at once, each on a connection of its own,
// and returns how many read 503 busy and how many failed.
func burstRefused(t *testing.T, addr string, n int) (busy, failed int) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	client := oneShotClient("127.0.0.1", nil)
	for range n {
		wg.Go(func() {
			resp, body, err := postUpdate(client, addr, false)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failed++
			case resp.StatusCode == http.StatusServiceUnavailable && string(body) == busyBody:
				busy++
			default:
				t.Errorf("burst: %d %q", resp.StatusCode, body)
			}
		})
	}
	wg.Wait()
	client.CloseIdleConnections()
	return busy, failed
}

// checkBusy checks a refused connection's answer.
func checkBusy(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Proto != "HTTP/1.1" || !resp.Close ||
		resp.Header.Get("Retry-After") != "1" || resp.Header.Get("Content-Type") != "application/json" ||
		resp.ContentLength != int64(len(busyBody)) || string(body) != busyBody {
		t.Errorf("refused: %s %s close=%v %v %q", resp.Proto, resp.Status, resp.Close, resp.Header, body)
	}
}

func handlerOK() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
}

// apiConn is a connection held to the API, with its reader.
type apiConn struct {
	net.Conn
	br *bufio.Reader
}

// dialAPI connects to addr from src, over TLS trusting pool if pool is not
// nil; the connection is closed when the test ends.
func dialAPI(t *testing.T, addr, src string, pool *x509.CertPool) *apiConn {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	var c net.Conn
	var err error
	if pool != nil {
		c, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{RootCAs: pool}}).Dial("tcp", addr)
	} else {
		c, err = d.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &apiConn{Conn: c, br: bufio.NewReader(c)}
}

// roundTrip sends GET /health and reads the answer's head.
func (c *apiConn) roundTrip() (*http.Response, error) {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return nil, err
	}
	return http.ReadResponse(c.br, nil)
}

// get sends GET /health and returns the status code, the body read.
func (c *apiConn) get() (int, error) {
	resp, err := c.roundTrip()
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

// oneShotClient returns a client whose connections come from src, one per
// request; over TLS it trusts pool and offers HTTP/2 too.
func oneShotClient(src string, pool *x509.CertPool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		tr.ForceAttemptHTTP2 = true
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// postUpdate sends POST /update with a body and reads the whole answer.
func postUpdate(c *http.Client, addr string, withTLS bool) (*http.Response, []byte, error) {
	scheme := "http"
	if withTLS {
		scheme = "https"
	}
	resp, err := c.Post(scheme+"://"+addr+"/update", "application/json", strings.NewReader(`{"subdomain": "x", "txt": "y"}`))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
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

// selfSignedCert returns a self-signed certificate for 127.0.0.1 and a pool
// that trusts it.
func selfSignedCert(t *testing.T) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "acmedns test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

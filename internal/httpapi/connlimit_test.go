package httpapi

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionCap: past the cap a new connection is answered 503 busy
// and counted; the held ones keep working, and a freed slot is usable again.
func TestConnectionCap(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	release, err := Listen(addr, &Target{Handler: ok, Conns: ConnPolicy{Max: 3, PerClient: 3}})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	rejected := metricValue(apiRejections.WithLabelValues("connections"))

	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	eventuallyTrue(t, "held connections accepted", func() bool {
		l, ok := listeners.Get(addr)
		return ok && l.conns.open.Load() == 3
	})
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := getHealth(extra); err != nil || got != "HTTP/1.1 503" {
		t.Fatalf("a fourth connection: %q %v, want a 503", got, err)
	}
	extra.Close()
	if got := metricValue(apiRejections.WithLabelValues("connections")) - rejected; got != 1 {
		t.Errorf("api_rejections_total{reason=connections} grew by %v, want 1", got)
	}
	if got, err := getHealth(held[0]); err != nil || got != "HTTP/1.1 200" {
		t.Errorf("a held connection: %q %v", got, err)
	}
	held[1].Close()
	eventuallyTrue(t, "slot freed", func() bool {
		l, ok := listeners.Get(addr)
		return ok && l.conns.open.Load() == 2
	})
	again, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got, err := getHealth(again); err != nil || got != "HTTP/1.1 200" {
		t.Errorf("a connection in a freed slot: %q %v", got, err)
	}
}

// TestHeaderBound: oversized headers are refused before any handler runs.
func TestHeaderBound(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	called := false
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true })
	release, err := Listen(addr, &Target{Handler: h, Conns: ConnPolicy{Max: 10, PerClient: 10}})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	req, _ := http.NewRequest("POST", "http://"+addr+"/update", nil)
	req.Header.Set("X-Api-Key", strings.Repeat("k", 16<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || called {
		t.Errorf("16 KiB header: %d, handler called %v", resp.StatusCode, called)
	}
}

// TestClientConnectionCap: one address cannot take more than its share of
// the connections (the next is answered 503); another address still
// connects; a trusted proxy is exempt.
func TestClientConnectionCap(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	policy := ConnPolicy{Max: 10, PerClient: 2, Exempt: prefixList("127.0.0.9/32")}
	release, err := Listen(addr, &Target{Handler: ok, Conns: policy})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	dialFrom := func(src string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	status := func(c net.Conn) string {
		status, err := getHealth(c)
		if err != nil {
			return err.Error()
		}
		return status
	}
	served := func(c net.Conn) bool { return status(c) == "HTTP/1.1 200" }
	one, two := dialFrom("127.0.0.1"), dialFrom("127.0.0.1")
	if !served(one) || !served(two) {
		t.Fatal("the first two connections of 127.0.0.1 were not served")
	}
	if got := status(dialFrom("127.0.0.1")); got != "HTTP/1.1 503" {
		t.Errorf("a third connection from 127.0.0.1: %q, want a 503", got)
	}
	if !served(dialFrom("127.0.0.2")) {
		t.Error("127.0.0.2 was refused")
	}
	for i := range 3 {
		if !served(dialFrom("127.0.0.9")) {
			t.Errorf("connection %d of the trusted proxy was refused", i)
		}
	}
}

// getHealth sends GET /health on c and returns the status line's first 12
// bytes ("HTTP/1.1 200").
func getHealth(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	b := make([]byte, 12)
	_, err := io.ReadFull(c, b)
	return string(b), err
}

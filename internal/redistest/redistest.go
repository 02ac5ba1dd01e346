// Package redistest starts real redis-server processes on free loopback ports
// for tests. It fails the test, rather than skipping it, when redis-server is
// not installed: `make test` installs it.
package redistest

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is one redis-server process with AOF on (fsync always), so a killed
// and restarted server has every acknowledged write.
type Server struct {
	t     testing.TB
	Addr  string // 127.0.0.1:PORT
	port  int
	dir   string
	extra []string
	cmd   *exec.Cmd
	tls   *TLS // nil: plain text
}

// Start starts a redis-server on a free port and stops it when the test
// ends. extra are more redis-server options ("--replicaof", "HOST", "PORT").
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	return StartOn(t, strconv.Itoa(FreePort(t)), extra...)
}

// StartOn starts a redis-server on the given loopback port.
func StartOn(t testing.TB, port string, extra ...string) *Server {
	t.Helper()
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return startServer(t, p, nil, extra)
}

// startServer starts a redis-server on port, TLS-only with p unless p is nil.
func startServer(t testing.TB, port int, p *TLS, extra []string) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found (run `make test`, which installs it): %v", err)
	}
	s := &Server{t: t, port: port, dir: t.TempDir(), extra: extra, tls: p}
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port))
	s.Restart()
	t.Cleanup(s.Kill)
	return s
}

// Kill stops the server with SIGKILL, as a crash would.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same port and data directory.
func (s *Server) Restart() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("redis-server on %s is already running", s.Addr)
	}
	args := []string{
		"--bind", "127.0.0.1",
		"--dir", s.dir, "--appendonly", "yes", "--appendfsync", "always",
		"--save", "", "--protected-mode", "no", "--logfile", "redis.log"}
	cmd := exec.Command("redis-server", slices.Concat(args, s.listenArgs(), s.extra)...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.cmd = cmd
	if err := waitRedisTLS(s.Addr, s.clientTLS(), 10*time.Second); err != nil {
		log, _ := os.ReadFile(s.dir + "/redis.log")
		s.t.Fatalf("redis-server on %s did not come up: %v\n%s", s.Addr, err, log)
	}
}

// Port is the server's TCP port.
func (s *Server) Port() string { return strconv.Itoa(s.port) }

// listenArgs are the options that make the server listen on its port, in
// plain text or TLS alone.
func (s *Server) listenArgs() []string {
	if s.tls == nil {
		return []string{"--port", strconv.Itoa(s.port)}
	}
	return slices.Concat([]string{"--port", "0", "--tls-port", strconv.Itoa(s.port)}, s.tls.serverArgs())
}

// waitRedis waits until a PING on addr is answered with PONG (or NOAUTH).
func waitRedis(addr string, limit time.Duration) error { return waitRedisTLS(addr, nil, limit) }

// waitRedisTLS waits until a PING on addr, over TLS unless conf is nil, is
// answered with PONG.
func waitRedisTLS(addr string, conf *tls.Config, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var err error
	for time.Now().Before(deadline) {
		var c net.Conn
		c, err = dialTest(addr, conf)
		if err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			_, err = c.Write([]byte("PING\r\n"))
			buf := make([]byte, 16)
			var n int
			if err == nil {
				n, err = c.Read(buf)
			}
			c.Close()
			// A server that wants a password first is up, too.
			if reply := string(buf[:n]); err == nil && (reply == "+PONG\r\n" || strings.HasPrefix(reply, "-NOAUTH")) {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("unexpected reply %q", buf[:n])
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

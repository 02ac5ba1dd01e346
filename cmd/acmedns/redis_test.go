package main

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startRedis starts a redis-server on a free loopback port, without
// persistence, and returns its address.
func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (`make deps` installs it): %v", err)
	}
	port := strconv.Itoa(freePort(t))
	dir := t.TempDir()
	startProc(t, dir, "redis", bin, "--port", port, "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "no")
	addr := net.JoinHostPort("127.0.0.1", port)
	waitFor(t, 10*time.Second, "redis-server", func() bool { return dialable(addr) })
	return addr
}

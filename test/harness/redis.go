package harness

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a redis-server process on a free loopback port.
type Redis struct {
	*Process
	Addr string
}

// StartRedis starts a redis-server with AOF (fsync always) in a new
// directory. redis-server must be installed (`make test` installs it).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (run `make test`, which installs it): %v", err)
	}
	port := strconv.Itoa(FreePort(t))
	dir := t.TempDir()
	r := &Redis{Addr: net.JoinHostPort("127.0.0.1", port)}
	r.Process = start(t, dir, "redis", nil, bin, "--port", port, "--bind", "127.0.0.1",
		"--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no")
	waitFor(t, 10*time.Second, "redis-server", func() bool {
		c, err := net.DialTimeout("tcp", r.Addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return r
}

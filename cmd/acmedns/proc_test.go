package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// repoRoot is the plugin's checkout: the directory above cmd/acmedns.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cmd", "coredns")); err != nil {
		t.Fatalf("cannot find the repository root above cmd/acmedns: %v", err)
	}
	return dir
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	p, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// pickPort is freePort outside a test.
func pickPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// proc is a child process stopped at the end of the test, whose log is
// printed when the test fails.
type proc struct {
	cmd  *exec.Cmd
	once sync.Once
}

// startProc starts bin in dir with its output in dir/name.log.
func startProc(t testing.TB, dir, name string, bin string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{cmd: cmd}
	t.Cleanup(func() {
		p.stop()
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- %s log ---\n%s", name, b)
		}
	})
	return p
}

// stop kills the process and waits for it.
func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	})
}

// waitFor polls ok every 50 ms until it holds or limit passes.
func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not ready within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dialable reports whether a TCP connection to addr opens.
func dialable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

package harness

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stopGently registers a cleanup (run before the one start registered,
// which then finds the process stopped) that sends SIGTERM to the process,
// or to the pid in pidFile when there is one (NSD's main process, a child
// of the one started), waits up to two seconds for the started process to
// exit, and kills it if it has not.
func (p *Process) stopGently(t testing.TB, pidFile string) {
	t.Cleanup(func() {
		p.once.Do(func() {
			target := p.cmd.Process
			if pidFile != "" {
				if b, err := os.ReadFile(pidFile); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
						if proc, err := os.FindProcess(pid); err == nil {
							target = proc
						}
					}
				}
			}
			target.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() {
				p.cmd.Wait()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(2 * time.Second):
				p.cmd.Process.Kill()
				target.Kill()
				<-done
			}
		})
	})
}

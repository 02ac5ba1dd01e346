package acmedns

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coredns/caddy"

	"github.com/acmedns/acmedns/store"
)

const childCorefileEnv = "ACMEDNS_TEST_CHILD_COREFILE"

// TestMain lets a test run CoreDNS in a child process (this test binary
// again) that it can SIGKILL, as a crash would.
func TestMain(m *testing.M) {
	if corefile := os.Getenv(childCorefileEnv); corefile != "" {
		if _, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), ServerTypeName: "dns"}); err != nil {
			fmt.Println("child:", err)
			os.Exit(1)
		}
		fmt.Println("child: serving")
		select {}
	}
	os.Exit(m.Run())
}

// TestEmbeddedStoreCrash: every update acknowledged with 200 is in the
// database after the process is killed without a chance to close it.
func TestEmbeddedStoreCrash(t *testing.T) {
	p := newPorts(t)
	db := filepath.Join(t.TempDir(), "acmedns.db")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childCorefileEnv+"="+p.corefile("db "+db+"\ntxt_limit 10"))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	for lines.Scan() && lines.Text() != "child: serving" {
	}

	acc := register(t, p.apiURL(), "")
	var acked []string
	for i := range 10 {
		v := fmt.Sprintf("%042d%d", 0, i)
		if r := acc.update(t, p.apiURL(), v); r.status == 200 {
			acked = append(acked, v)
		}
	}
	cmd.Process.Kill() // SIGKILL: no shutdown, no close
	cmd.Wait()

	s, err := store.OpenBolt(db, store.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	values, err := s.TXT(ctx, acc.Subdomain)
	if err != nil {
		t.Fatal(err)
	}
	got := texts(values)
	slices.Reverse(got)
	if len(acked) != 10 || !slices.Equal(got, acked) {
		t.Fatalf("after a crash the store has %v, acknowledged were %v", got, acked)
	}
}

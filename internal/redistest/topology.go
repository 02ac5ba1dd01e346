package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// StartReplica starts a redis-server replicating master.
func StartReplica(t testing.TB, master *Server) *Server {
	t.Helper()
	r := Start(t, "--replicaof", "127.0.0.1", master.Port())
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	waitFor(t, 10*time.Second, "replica in sync", func() bool {
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	return r
}

// Sentinel is a redis-sentinel process watching one master.
type Sentinel struct {
	Addr string
	cmd  *exec.Cmd
}

// StartSentinel starts a sentinel monitoring master as name, with quorum 1
// and a short down-after (500 ms) so failovers take about a second.
func StartSentinel(t testing.TB, name string, master *Server) *Sentinel {
	t.Helper()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Fatalf("redis-sentinel not found (run `make test`, which installs it): %v", err)
	}
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`port %d
bind 127.0.0.1
protected-mode no
dir %s
logfile sentinel.log
sentinel monitor %s 127.0.0.1 %s 1
sentinel down-after-milliseconds %s 500
sentinel failover-timeout %s 5000
sentinel parallel-syncs %s 1
`, port, dir, name, master.Port(), name, name, name)), 0o600)
	cmd := exec.Command("redis-sentinel", conf)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Sentinel{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := waitRedis(s.Addr, 10*time.Second); err != nil {
		t.Fatalf("sentinel did not come up: %v", err)
	}
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	waitFor(t, 10*time.Second, "sentinel sees the replica", func() bool {
		replicas, err := c.Replicas(context.Background(), name).Result()
		return err == nil && len(replicas) > 0
	})
	return s
}

// StartCluster starts n masters and joins them into a Redis Cluster with
// redis-cli --cluster create. It returns the nodes.
func StartCluster(t testing.TB, n int) []*Server {
	t.Helper()
	return startCluster(t, n, nil)
}

// StartTLSCluster is StartCluster with TLS-only nodes, whose cluster bus
// and replication use TLS too.
func StartTLSCluster(t testing.TB, p *TLS, n int) []*Server {
	t.Helper()
	return startCluster(t, n, p)
}

func startCluster(t testing.TB, n int, p *TLS) []*Server {
	t.Helper()
	opts := []string{"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}
	var cli []string
	if p != nil {
		opts = append(opts, "--tls-cluster", "yes", "--tls-replication", "yes")
		cli = []string{"--tls", "--cacert", p.CAFile, "--cert", p.ClientCertFile, "--key", p.ClientKeyFile}
	}
	var nodes []*Server
	var addrs []string
	for range n {
		s := startServer(t, FreePort(t), p, opts)
		nodes = append(nodes, s)
		addrs = append(addrs, s.Addr)
	}
	args := slices.Concat(cli, []string{"--cluster", "create"}, addrs, []string{"--cluster-replicas", "0", "--cluster-yes"})
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	WaitCluster(t, nodes)
	return nodes
}

// WaitCluster waits until every node reports cluster_state:ok.
func WaitCluster(t testing.TB, nodes []*Server) {
	t.Helper()
	for _, s := range nodes {
		c := s.Client()
		waitFor(t, 20*time.Second, "cluster state ok on "+s.Addr, func() bool {
			info, err := c.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		c.Close()
	}
}

func waitFor(t testing.TB, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartTLSSentinel starts a sentinel that speaks only TLS (p's server
// certificate) and reaches master over TLS, monitoring it as name.
func StartTLSSentinel(t testing.TB, p *TLS, name string, master *Server) *Sentinel {
	t.Helper()
	if _, err := exec.LookPath("redis-sentinel"); err != nil {
		t.Fatalf("redis-sentinel not found (run `make test`, which installs it): %v", err)
	}
	port := FreePort(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`port 0
tls-port %d
tls-cert-file %s
tls-key-file %s
tls-ca-cert-file %s
tls-auth-clients no
tls-replication yes
bind 127.0.0.1
protected-mode no
dir %s
logfile sentinel.log
sentinel monitor %s 127.0.0.1 %s 1
sentinel down-after-milliseconds %s 500
`, port, p.CertFile, p.KeyFile, p.CAFile, dir, name, master.Port(), name)), 0o600)
	cmd := exec.Command("redis-sentinel", conf)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &Sentinel{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := waitRedisTLS(s.Addr, p.ClientConfig(), 10*time.Second); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "sentinel.log"))
		t.Fatalf("sentinel did not come up: %v\n%s", err, log)
	}
	c := redis.NewSentinelClient(&redis.Options{Addr: s.Addr, TLSConfig: p.ClientConfig()})
	defer c.Close()
	waitFor(t, 10*time.Second, "sentinel knows the master", func() bool {
		_, err := c.GetMasterAddrByName(context.Background(), name).Result()
		return err == nil
	})
	return s
}

package image

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
	"sigs.k8s.io/yaml"
)

// manifest is the part of a Kubernetes object the test reads.
type manifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Data map[string]string `json:"data"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `json:"matchLabels"`
		} `json:"selector"`
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Containers []container `json:"containers"`
				Volumes    []struct {
					Name      string `json:"name"`
					ConfigMap struct {
						Name string `json:"name"`
					} `json:"configMap"`
				} `json:"volumes"`
			} `json:"spec"`
		} `json:"template"`
		Ports []struct {
			Port int `json:"port"`
		} `json:"ports"`
	} `json:"spec"`
}

type container struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Args  []string `json:"args"`
	Env   []struct {
		Name      string `json:"name"`
		Value     string `json:"value"`
		ValueFrom struct {
			SecretKeyRef struct {
				Name string `json:"name"`
				Key  string `json:"key"`
			} `json:"secretKeyRef"`
		} `json:"valueFrom"`
	} `json:"env"`
	Ports []struct {
		ContainerPort int    `json:"containerPort"`
		Protocol      string `json:"protocol"`
	} `json:"ports"`
	ReadinessProbe probe `json:"readinessProbe"`
	LivenessProbe  probe `json:"livenessProbe"`
	VolumeMounts   []struct {
		Name      string `json:"name"`
		MountPath string `json:"mountPath"`
	} `json:"volumeMounts"`
}

type probe struct {
	HTTPGet struct {
		Path string `json:"path"`
		Port int    `json:"port"`
	} `json:"httpGet"`
}

// readmeManifests parses every ~~~ yaml block of README.md and docs/*.md,
// checking the fields Kubernetes requires of each document.
func readmeManifests(t *testing.T) []manifest {
	t.Helper()
	var out []manifest
	for _, d := range harness.Docs(t) {
		blocks := regexp.MustCompile("(?s)~~~ yaml\n(.*?)~~~").FindAllStringSubmatch(d.Text, -1)
		for _, block := range blocks {
			for _, doc := range strings.Split(block[1], "\n---\n") {
				var m manifest
				if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
					t.Fatalf("%s: a manifest does not parse: %v\n%s", d.Path, err, doc)
				}
				if m.APIVersion == "" || m.Kind == "" || m.Metadata.Name == "" {
					t.Fatalf("%s: a manifest lacks apiVersion, kind or metadata.name:\n%s", d.Path, doc)
				}
				checkKind(t, m, doc)
				out = append(out, m)
			}
		}
		if len(blocks) > 0 {
			t.Logf("%s: %d yaml blocks", d.Path, len(blocks))
		}
	}
	if len(out) == 0 {
		t.Fatal("neither README.md nor docs/*.md has yaml manifests")
	}
	return out
}

func checkKind(t *testing.T, m manifest, doc string) {
	t.Helper()
	switch m.Kind {
	case "Deployment":
		if len(m.Spec.Selector.MatchLabels) == 0 || len(m.Spec.Template.Spec.Containers) == 0 {
			t.Fatalf("Deployment %s needs a selector and containers:\n%s", m.Metadata.Name, doc)
		}
		for k, v := range m.Spec.Selector.MatchLabels {
			if m.Spec.Template.Metadata.Labels[k] != v {
				t.Fatalf("Deployment %s: the selector %s=%s does not match the template's labels", m.Metadata.Name, k, v)
			}
		}
		for _, c := range m.Spec.Template.Spec.Containers {
			if c.Name == "" || c.Image == "" {
				t.Fatalf("Deployment %s: a container needs a name and an image", m.Metadata.Name)
			}
		}
	case "Service":
		if len(m.Spec.Ports) == 0 {
			t.Fatalf("Service %s has no ports", m.Metadata.Name)
		}
	case "ConfigMap", "Secret", "Issuer", "ClusterIssuer":
	default:
		t.Fatalf("unexpected kind %s in the documentation", m.Kind)
	}
}

// TestReadmeDeployment starts the container the documented Deployment
// describes, with exactly its args, env and ConfigMap Corefile (and a Redis
// for its redis:6379), and probes the readiness and liveness endpoints and
// the DNS port the manifest names.
func TestReadmeDeployment(t *testing.T) {
	docs := readmeManifests(t)
	var dep *manifest
	configMaps := map[string]manifest{}
	for i, m := range docs {
		switch m.Kind {
		case "Deployment":
			dep = &docs[i]
		case "ConfigMap":
			configMaps[m.Metadata.Name] = m
		}
	}
	if dep == nil {
		t.Fatal("neither README.md nor docs/*.md has a Deployment")
	}
	c := dep.Spec.Template.Spec.Containers[0]
	// The Corefile comes from the ConfigMap mounted where the container
	// expects it.
	dir := t.TempDir()
	mountPath := ""
	for _, v := range dep.Spec.Template.Spec.Volumes {
		cm, ok := configMaps[v.ConfigMap.Name]
		if !ok {
			continue
		}
		for _, vm := range c.VolumeMounts {
			if vm.Name == v.Name {
				mountPath = vm.MountPath
			}
		}
		for name, content := range cm.Data {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if mountPath == "" {
		t.Fatal("the Deployment mounts no ConfigMap")
	}
	os.Chmod(dir, 0o755)

	// The Secret's password, and a Redis that requires it, where the
	// Corefile looks for one (redis:6379).
	const password = "readme-redis-password"
	env := []string{}
	for _, e := range c.Env {
		v := e.Value
		if e.ValueFrom.SecretKeyRef.Name == "redis" {
			v = password
		}
		env = append(env, "-e", e.Name+"="+v)
	}
	if ln, err := net.Listen("tcp", "127.0.0.1:6379"); err != nil {
		t.Fatalf("port 6379 is taken; the documented Corefile names redis:6379: %v", err)
	} else {
		ln.Close()
	}
	redis := exec.Command("redis-server", "--port", "6379", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password)
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { redis.Process.Kill(); redis.Wait() }()

	ctr := buildah(t, "from", "--pull-never", "--add-host", "redis:127.0.0.1", imageName())
	t.Cleanup(func() { exec.Command("buildah", "rm", ctr).Run() })
	args := append([]string{"run", "--isolation", "chroot", "--network", "host", "-v", dir + ":" + mountPath + ":ro"}, env...)
	args = append(append(args, ctr, "--", "/usr/local/bin/coredns"), c.Args...)
	stop := startProcess(t, "buildah", args...)
	defer stop()

	for _, p := range []probe{c.ReadinessProbe, c.LivenessProbe} {
		url := fmt.Sprintf("http://127.0.0.1:%d%s", p.HTTPGet.Port, p.HTTPGet.Path)
		waitOK(t, url)
	}
	for _, p := range c.Ports {
		if p.Protocol != "UDP" {
			continue
		}
		m := new(dns.Msg)
		m.SetQuestion("auth.example.org.", dns.TypeSOA)
		r, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, fmt.Sprintf("127.0.0.1:%d", p.ContainerPort))
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("SOA on the manifest's DNS port %d: %v %v", p.ContainerPort, r, err)
		}
	}
}

func waitOK(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within 30 s: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadmeClusterDNS starts the documented Corefile for the cluster's own
// CoreDNS (the first ~~~ txt block after the heading "In the cluster's own
// CoreDNS", in README.md or docs/*.md), without the kubernetes plugin (it
// needs an API server) and with forward pointed at a stub resolver this
// test runs, on free ports, and checks that one server answers both a
// forwarded name and the acmedns zone.
func TestReadmeClusterDNS(t *testing.T) {
	heading := regexp.MustCompile("(?ms)^#+ In the cluster's own CoreDNS$.*?~~~ txt\n(.*?)~~~")
	var section []string
	for _, d := range harness.Docs(t) {
		if section = heading.FindStringSubmatch(d.Text); section != nil {
			t.Logf("the cluster-DNS Corefile is in %s", d.Path)
			break
		}
	}
	if section == nil {
		t.Fatal("neither README.md nor docs/*.md has a cluster-DNS Corefile")
	}
	corefile := dedent(section[1])
	if !strings.Contains(corefile, "kubernetes cluster.local") || !strings.Contains(corefile, "acmedns {") {
		t.Fatalf("the cluster-DNS Corefile lacks the kubernetes or the acmedns block:\n%s", corefile)
	}
	stub := startStub(t)
	redisPort := harness.FreePort(t)
	redis := exec.Command("redis-server", "--port", fmt.Sprint(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", "cluster-dns")
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { redis.Process.Kill(); redis.Wait() }()

	dnsPort, apiPort := harness.FreePort(t), harness.FreePort(t)
	corefile = regexp.MustCompile(`(?s)\n\s*kubernetes [^\n]*\{.*?\n\s*\}`).ReplaceAllString(corefile, "")
	corefile = strings.NewReplacer(
		":53 {", fmt.Sprintf(":%d {\n    bind 127.0.0.1", dnsPort),
		"forward . /etc/resolv.conf", "forward . "+stub,
		"api :8053", fmt.Sprintf("api 127.0.0.1:%d", apiPort),
		"redis.acmedns.svc.cluster.local:6379", fmt.Sprintf("127.0.0.1:%d", redisPort),
		"prometheus :9153", fmt.Sprintf("prometheus 127.0.0.1:%d", harness.FreePort(t)),
		"ready\n", fmt.Sprintf("ready 127.0.0.1:%d\n", harness.FreePort(t)),
		"health {", fmt.Sprintf("health 127.0.0.1:%d {", harness.FreePort(t)),
	).Replace(corefile)
	if strings.Contains(corefile, "kubernetes") || strings.Contains(corefile, ":53 ") || strings.Contains(corefile, " :") {
		t.Fatalf("the Corefile still has the kubernetes plugin or a fixed port:\n%s", corefile)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Corefile"), []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(harness.RepoRoot(t), "coredns")
	cmd := exec.Command(bin, "-conf", filepath.Join(dir, "Corefile"))
	cmd.Env = append(os.Environ(), "REDIS_PASSWORD=cluster-dns")
	cmd.Dir = dir
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitOK(t, fmt.Sprintf("http://127.0.0.1:%d/health", apiPort))

	addr := fmt.Sprintf("127.0.0.1:%d", dnsPort)
	ask := func(name string, qtype uint16) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, qtype)
		r, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, addr)
		if err != nil {
			t.Fatalf("%s: %v\n%s\n%s", name, err, corefile, out)
		}
		return r
	}
	if r := ask("service.example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.80" {
		t.Errorf("forwarded name: %v", r)
	}
	if r := ask("auth.example.org.", dns.TypeSOA); r.Rcode != dns.RcodeSuccess || !r.Authoritative || len(r.Answer) != 1 {
		t.Errorf("acmedns zone: %v", r)
	}
	if r := ask("nobody.auth.example.org.", dns.TypeTXT); r.Rcode != dns.RcodeNameError {
		t.Errorf("an unregistered name in the acmedns zone: %v", r)
	}
}

// dedent removes a Markdown list's indentation from a code block.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// startStub runs a resolver on loopback that answers every A query with
// 192.0.2.80, and returns its address.
func startStub(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		if r.Question[0].Qtype == dns.TypeA {
			rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A 192.0.2.80")
			m.Answer = append(m.Answer, rr)
		}
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

// Package image starts the container image that `make image` built and
// uses it as a user would: register, update, and the TXT answer over DNS.
// It runs the image with `buildah run --isolation chroot`, which works in
// unprivileged sandboxes where `podman run` may not.
package image

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/miekg/dns"
)

func buildah(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("buildah", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestImage(t *testing.T) {
	image := imageName()
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Fatal("buildah not found: `make image-test` installs it and builds the image")
	}
	ctr := buildah(t, "from", "--pull-never", image)
	t.Cleanup(func() { exec.Command("buildah", "rm", ctr).Run() })

	dnsPort, apiPort, healthPort := harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)
	dir := t.TempDir()
	corefile := fmt.Sprintf(`auth.example.org:%d {
    bind 127.0.0.1
    acmedns {
        api 127.0.0.1:%d
        db /data/acmedns.db
    }
    health 127.0.0.1:%d
}
`, dnsPort, apiPort, healthPort)
	if err := os.WriteFile(filepath.Join(dir, "Corefile"), []byte(corefile), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	stop := startProcess(t, "buildah", "run", "--isolation", "chroot", "--network", "host",
		"-v", dir+":/config:ro", ctr, "--", "/usr/local/bin/coredns", "-conf", "/config/Corefile")
	defer stop()
	api := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The API's own /health: the health plugin may answer before acmedns has started.
		resp, err := http.Get(api + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the image did not become healthy")
		}
		time.Sleep(100 * time.Millisecond)
	}

	resp, err := http.Post(api+"/register", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var acc struct{ Username, Password, Fulldomain, Subdomain string }
	json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if resp.StatusCode != 201 || acc.Subdomain == "" {
		t.Fatalf("register: %s", resp.Status)
	}
	const value = "___validation_token_received_from_the_ca___"
	req, _ := http.NewRequest("POST", api+"/update", strings.NewReader(`{"subdomain":"`+acc.Subdomain+`","txt":"`+value+`"}`))
	req.Header.Set("X-Api-User", acc.Username)
	req.Header.Set("X-Api-Key", acc.Password)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("update: %s", resp.Status)
	}
	for _, proto := range []string{"udp", "tcp"} {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(acc.Fulldomain), dns.TypeTXT)
		r, _, err := (&dns.Client{Net: proto, Timeout: 3 * time.Second}).Exchange(m, fmt.Sprintf("127.0.0.1:%d", dnsPort))
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Answer[0].(*dns.TXT).Txt[0] != value {
			t.Fatalf("TXT over %s: %v %v", proto, r, err)
		}
	}
	// The server runs as the image's non-root user.
	out, err := exec.Command("pgrep", "-f", "^/usr/local/bin/coredns -conf /config/Corefile").Output()
	if err != nil {
		t.Fatalf("no coredns process: %v", err)
	}
	pid := strings.Fields(string(out))[0]
	status, _ := os.ReadFile("/proc/" + pid + "/status")
	for _, line := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(line, "Uid:") && strings.Fields(line)[1] != "65532" {
			t.Errorf("coredns runs as uid %s, want 65532", strings.Fields(line)[1])
		}
	}
	if user := buildah(t, "inspect", "--type", "image", "--format", "{{.OCIv1.Config.User}}", image); user != "65532:65532" {
		t.Errorf("image user %q", user)
	}
}

// imageName is the image make image built ($IMAGE, default acmedns:latest).
func imageName() string {
	if image := os.Getenv("IMAGE"); image != "" {
		return image
	}
	return "acmedns:latest"
}

// startProcess starts name with args in a process group of its own, its
// output in the test log on failure, and returns the function that stops it.
func startProcess(t *testing.T, name string, args ...string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, name, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		cmd.Wait()
		cancel()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	}
	t.Cleanup(stop)
	return stop
}

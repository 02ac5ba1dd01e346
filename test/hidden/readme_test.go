package hidden

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/test/harness"
)

// readmeBlock returns the first ~~~ txt block after the line that starts
// with marker in the README.
func readmeBlock(t *testing.T, readme, marker string) string {
	t.Helper()
	i := strings.Index(readme, "\n"+marker)
	if i < 0 {
		t.Fatalf("README has no %q", marker)
	}
	m := regexp.MustCompile("(?s)~~~ txt\n(.*?)~~~").FindStringSubmatch(readme[i:])
	if m == nil {
		t.Fatalf("no txt block after %q", marker)
	}
	return m[1]
}

// TestReadmeSecondaryConfigs: the NSD and Knot configurations the README's
// "Hidden primary" and "DNSSEC" sections give are accepted by the daemons'
// own checkers (nsd-checkconf, knotc conf-check).
func TestReadmeSecondaryConfigs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	knot := readmeBlock(t, readme, "**Knot** (`knot.conf`)")
	signing := readmeBlock(t, readme, "secondary takes the zone by transfer")
	// The signing example replaces the zone section of the plain one.
	signed := knot[:strings.Index(knot, "zone:")] + signing
	dir := t.TempDir()
	for _, c := range []struct{ name, text, checker string }{
		{"nsd.conf", readmeBlock(t, readme, "**NSD** (`nsd.conf`)"), "nsd-checkconf"},
		{"knot.conf", knot, "knotc"},
		{"knot-signing.conf", signed, "knotc"},
	} {
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{path}
		if c.checker == "knotc" {
			args = []string{"-c", path, "conf-check"}
		}
		if out, err := exec.Command(c.checker, args...).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s\n%s", c.name, err, out, c.text)
		}
	}
}

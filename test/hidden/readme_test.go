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

// docBlock returns the first ~~~ txt block after the line that starts with
// marker, in README.md or one of the guides docs/*.md.
func docBlock(t *testing.T, docs []harness.Doc, marker string) string {
	t.Helper()
	for _, d := range docs {
		i := strings.Index(d.Text, "\n"+marker)
		if i < 0 {
			continue
		}
		m := regexp.MustCompile("(?s)~~~ txt\n(.*?)~~~").FindStringSubmatch(d.Text[i:])
		if m == nil {
			t.Fatalf("%s: no txt block after %q", d.Path, marker)
		}
		t.Logf("%q is in %s", marker, d.Path)
		return m[1]
	}
	t.Fatalf("neither README.md nor docs/*.md has a line starting %q", marker)
	return ""
}

// TestReadmeSecondaryConfigs: the NSD and Knot configurations the guide
// docs/hidden-primary.md gives (secondaries, and Knot signing the zone) are
// accepted by the daemons' own checkers (nsd-checkconf, knotc conf-check).
func TestReadmeSecondaryConfigs(t *testing.T) {
	docs := harness.Docs(t)
	knot := docBlock(t, docs, "**Knot** (`knot.conf`)")
	signing := docBlock(t, docs, "**Knot, signing**")
	// The signing example replaces the zone section of the plain one.
	signed := knot[:strings.Index(knot, "zone:")] + signing
	dir := t.TempDir()
	for _, c := range []struct{ name, text, checker string }{
		{"nsd.conf", docBlock(t, docs, "**NSD** (`nsd.conf`)"), "nsd-checkconf"},
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

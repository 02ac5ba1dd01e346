package acmedns

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"

	"github.com/miekg/dns"
)

// generatedDocs are documents written by a program, not by hand: their
// Corefiles record a benchmark run (that machine's paths and ports), so they
// are not examples to start.
var generatedDocs = map[string]bool{"docs/benchmarks.md": true}

// docFiles returns the hand-written documentation: README.md, then the
// guides docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	guides, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, g := range guides {
		if !generatedDocs[filepath.ToSlash(g)] {
			files = append(files, g)
		}
	}
	return files
}

// corefileBlocks returns the ~~~ corefile blocks of a Markdown file.
func corefileBlocks(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile("(?s)~~~ corefile\n(.*?)~~~")
	var blocks []string
	for _, m := range re.FindAllStringSubmatch(string(b), -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// TestReadmeExamples starts every Corefile in README.md and the guides in
// docs/, and Corefile.example, as a reader would: zone files it names exist,
// the environment variables it names are set.
func TestReadmeExamples(t *testing.T) {
	type example struct{ from, corefile string }
	var examples []example
	for _, f := range docFiles(t) {
		blocks := corefileBlocks(t, f)
		if f == "README.md" && len(blocks) < 3 {
			t.Fatalf("README.md has %d corefile examples", len(blocks))
		}
		t.Logf("%s: %d corefile examples", f, len(blocks))
		for _, b := range blocks {
			examples = append(examples, example{f, b})
		}
	}
	// The README alone had nine before the guides were split from it.
	if len(examples) < 9 {
		t.Fatalf("README.md and docs/*.md have %d corefile examples, want at least 9", len(examples))
	}
	b, err := os.ReadFile("Corefile.example")
	if err != nil {
		t.Fatal(err)
	}
	examples = append(examples, example{"Corefile.example", string(b)})

	// tls acme examples order from a CA that is not there, never from
	// Let's Encrypt.
	defer func(ca string) { defaultCA = ca }(defaultCA)
	defaultCA = "https://127.0.0.1:1/directory"
	defer func(p string) { dnsserver.Port = p }(dnsserver.Port)
	dnsserver.Port = freePort(t)
	t.Setenv("REDIS_PASSWORD", "secret")
	t.Setenv("ACMEDNS_REGISTRATION_TOKEN", "readme-registration-token-0123")
	t.Setenv("ACMEDNS_ADMIN_TOKEN", "readme-admin-token-0123456789")
	zoneFile := regexp.MustCompile(`(?m)^\s*file\s+(\S+)`)
	tlsFiles := regexp.MustCompile(`(?m)^\s*tls\s+(\S+)\s+(\S+)\s*$`)
	keyFiles := regexp.MustCompile(`(?m)^\s*key file\s+(\S+)\s*$`)
	certPath, keyPath, _ := selfSigned(t)
	// Loopback listeners (api, prometheus, ready, health) move to free
	// ports, so that nothing else on the machine can make an example fail.
	loopback := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	for i, ex := range examples {
		corefile := loopback.ReplaceAllStringFunc(ex.corefile, func(string) string { return "127.0.0.1:" + freePort(t) })
		dir := t.TempDir()
		t.Chdir(dir)
		// The files an example names are written into its own directory.
		for _, m := range slices.Concat(zoneFile.FindAllStringSubmatch(corefile, -1), tlsFiles.FindAllStringSubmatch(corefile, -1), keyFiles.FindAllStringSubmatch(corefile, -1)) {
			for _, p := range m[1:] {
				if filepath.IsAbs(p) {
					t.Fatalf("%s: example %d names the file %s: examples use relative paths", ex.from, i+1, p)
				}
			}
		}
		for _, m := range zoneFile.FindAllStringSubmatch(corefile, -1) {
			zone := strings.TrimPrefix(filepath.Base(m[1]), "db.")
			rr := zone + ". 3600 IN SOA ns1." + zone + ". hostmaster." + zone + ". 1 3600 600 604800 60\n"
			if err := os.WriteFile(m[1], []byte(rr), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range tlsFiles.FindAllStringSubmatch(corefile, -1) {
			for i, src := range []string{certPath, keyPath} {
				b, err := os.ReadFile(src)
				if err != nil || os.WriteFile(m[1+i], b, 0o600) != nil {
					t.Fatalf("writing %s: %v", m[1+i], err)
				}
			}
		}
		for _, m := range keyFiles.FindAllStringSubmatch(corefile, -1) {
			writeDNSSECKey(t, m[1])
		}
		inst, err := caddy.Start(caddy.CaddyfileInput{Contents: []byte(corefile), Filepath: "Corefile", ServerTypeName: "dns"})
		if err != nil {
			t.Errorf("%s: example %d does not start: %v\n%s", ex.from, i+1, err, corefile)
			continue
		}
		inst.Stop()
		inst.ShutdownCallbacks()
	}
}

// TestReadmeSections checks the CoreDNS plugin README form.
func TestReadmeSections(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Quick start", "Name", "Description", "Syntax", "Metrics", "Ready", "Examples", "See Also"}
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			for _, w := range want {
				if h == w {
					got = append(got, h)
				}
			}
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("README sections %v, want %v in that order", got, want)
	}
	for _, cmd := range []string{"make run", "make test"} {
		if !strings.Contains(string(b), cmd) {
			t.Errorf("README does not show %q", cmd)
		}
	}
	// The README is the plugin's reference page; the long explanations
	// belong in the guides under docs/.
	if n := strings.Count(string(b), "\n"); n > 400 {
		t.Errorf("README.md has %d lines, want at most 400: move explanations to docs/", n)
	}
}

// TestReadmeLinks checks the relative links of README.md and docs/*.md: the
// file each names exists, an anchor names a heading of its Markdown file,
// and every guide in docs/ can be reached from the README.
func TestReadmeLinks(t *testing.T) {
	guides, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files := append([]string{"README.md"}, guides...)
	anchors := map[string]map[string]bool{} // by cleaned path
	links := map[string][]string{}          // file -> relative link targets
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		headings, targets := markdownOutline(string(b))
		anchors[filepath.Clean(f)] = headings
		links[filepath.Clean(f)] = targets
	}
	reached := map[string]bool{"README.md": true}
	queue := []string{"README.md"}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, target := range links[f] {
			path, anchor, _ := strings.Cut(target, "#")
			dest := f
			if path != "" {
				dest = filepath.Clean(filepath.Join(filepath.Dir(f), path))
				if _, err := os.Stat(dest); err != nil {
					t.Errorf("%s links to %s, which does not exist", f, target)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(dest, ".md") {
				headings, ok := anchors[dest]
				if !ok {
					b, err := os.ReadFile(dest)
					if err != nil {
						t.Fatal(err)
					}
					headings, _ = markdownOutline(string(b))
					anchors[dest] = headings
				}
				if !headings[anchor] {
					t.Errorf("%s links to %s: %s has no heading #%s", f, target, dest, anchor)
				}
			}
			if _, ok := links[dest]; ok && !reached[dest] {
				reached[dest] = true
				queue = append(queue, dest)
			}
		}
	}
	for _, g := range guides {
		if !reached[filepath.Clean(g)] {
			t.Errorf("%s is not linked from the README, nor from a document it links to", g)
		}
	}
}

// markdownOutline returns the anchors of a Markdown text's headings, as
// GitHub makes them, and the targets of its relative links; fenced code
// blocks are skipped.
func markdownOutline(text string) (anchors map[string]bool, links []string) {
	anchors = map[string]bool{}
	seen := map[string]int{}
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading := regexp.MustCompile(`^#{1,6} +(.*?)\s*$`)
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "~~~") || strings.HasPrefix(trimmed, "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		if m := heading.FindStringSubmatch(line); m != nil {
			slug := headingAnchor(m[1])
			if n := seen[slug]; n > 0 {
				anchors[fmt.Sprintf("%s-%d", slug, n)] = true
			} else {
				anchors[slug] = true
			}
			seen[slug]++
		}
		for _, m := range link.FindAllStringSubmatch(line, -1) {
			if !strings.Contains(m[1], "://") && !strings.HasPrefix(m[1], "mailto:") {
				links = append(links, m[1])
			}
		}
	}
	return anchors, links
}

// headingAnchor is GitHub's anchor for a heading: lower case, spaces as
// hyphens, punctuation other than hyphens and underscores dropped.
func headingAnchor(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writeDNSSECKey writes a new ECDSA P-256 key pair as base.key and
// base.private, the files dnssec-keygen makes, for the zone base names.
func writeDNSSECKey(t *testing.T, base string) {
	t.Helper()
	zone := strings.TrimPrefix(strings.SplitN(filepath.Base(base), "+", 2)[0], "K")
	key := &dns.DNSKEY{Hdr: dns.RR_Header{Name: dns.Fqdn(zone), Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags: 257, Protocol: 3, Algorithm: dns.ECDSAP256SHA256}
	priv, err := key.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	if os.WriteFile(base+".key", []byte(key.String()+"\n"), 0o644) != nil ||
		os.WriteFile(base+".private", []byte(key.PrivateKeyString(priv)), 0o600) != nil {
		t.Fatalf("writing the key %s", base)
	}
}

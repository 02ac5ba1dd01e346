package acmedns

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseTLSACME(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	le := DefaultACMECA
	tests := []struct {
		name  string
		input string
		root  string
		want  *ACMEConfig
		ttl   uint32 // the option after tls acme is still read
	}{
		{"defaults: the first nameserver", block("tls acme"), "", &ACMEConfig{Names: []string{"auth.example.org"}, CA: le}, 1},
		{"a nameserver given later", block("tls acme", "nameserver NS1.auth.example.org. 192.0.2.1"), "",
			&ACMEConfig{Names: []string{"ns1.auth.example.org"}, CA: le}, 1},
		{"names, deduplicated and lower-cased", block("tls acme API.example.com. api.example.com *.auth.example.org"), "",
			&ACMEConfig{Names: []string{"api.example.com", "*.auth.example.org"}, CA: le}, 1},
		{"no block, next option read", block("tls acme auth.example.org", "ttl 5"), "", &ACMEConfig{Names: []string{"auth.example.org"}, CA: le}, 5},
		{"empty block", block("tls acme {", "}", "ttl 7"), "", &ACMEConfig{Names: []string{"auth.example.org"}, CA: le}, 7},
		{"full block", block("tls acme auth.example.org {", "ca https://ca.example.net:14000/dir", "ca_root /etc/ca.pem", "email ops@example.org", "}", "ttl 9"), "",
			&ACMEConfig{Names: []string{"auth.example.org"}, CA: "https://ca.example.net:14000/dir", CARoot: "/etc/ca.pem", Email: "ops@example.org"}, 9},
		{"ca_root relative to root", block("tls acme {", "ca_root certs/ca.pem", "}"), "/srv/dns",
			&ACMEConfig{Names: []string{"auth.example.org"}, CA: le, CARoot: "/srv/dns/certs/ca.pem"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(newTestController(tc.input, []string{testZone}, tc.root))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg.ACME, tc.want) {
				t.Errorf("ACME = %+v, want %+v", cfg.ACME, tc.want)
			}
			if cfg.TTL != tc.ttl {
				t.Errorf("ttl = %d, want %d", cfg.TTL, tc.ttl)
			}
			if cfg.TLSCert != "" {
				t.Errorf("TLSCert = %q", cfg.TLSCert)
			}
		})
	}
}

func TestParseTLSACMEErrors(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	tests := []struct {
		name, input string
		line        int
		want        string
	}{
		{"tls with one file", block("tls cert.pem"), 3, "tls needs CERT and KEY, or acme [NAME...]"},
		{"tls twice", block("tls acme", "tls a.pem b.pem"), 4, "tls specified more than once"},
		{"ip address", block("tls acme 192.0.2.1"), 3, `tls acme: invalid name "192.0.2.1"`},
		{"single label", block("tls acme localhost"), 3, `tls acme: invalid name "localhost": want a fully qualified host name`},
		{"underscore", block("tls acme _x.auth.example.org"), 3, `tls acme: invalid name "_x.auth.example.org"`},
		{"wildcard inside", block("tls acme a.*.example.org"), 3, `tls acme: invalid name "a.*.example.org"`},
		{"too long for the challenge", block("tls acme " + strings.Repeat("a123456789.", 21) + "example.com"), 3, "too long for its challenge name"},
		{"ca not https", block("tls acme {", "ca http://ca.example.net/dir", "}"), 4, `tls acme ca: want the https:// URL of an ACME directory, got "http://ca.example.net/dir"`},
		{"ca missing", block("tls acme {", "ca", "}"), 4, "tls acme ca needs one value"},
		{"ca twice", block("tls acme {", "ca https://a/dir", "ca https://b/dir", "}"), 5, "tls acme ca specified more than once"},
		{"email invalid", block("tls acme {", "email ops", "}"), 4, `tls acme email: want an e-mail address, got "ops"`},
		{"email two values", block("tls acme {", "email a@example.org b@example.org", "}"), 4, "tls acme email needs one value"},
		{"unknown option", block("tls acme {", "key_type rsa", "}"), 4, "tls acme key_type: unknown option (want ca, ca_root or email)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(newTestController(tc.input, []string{testZone}, ""))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf(":%d ", tc.line)) {
				t.Errorf("error %q does not name line %d", err, tc.line)
			}
		})
	}
}

// FuzzParseTLS: any tls line and block parses or fails cleanly, and what
// parses names valid certificate names.
func FuzzParseTLS(f *testing.F) {
	for _, s := range []string{"acme", "acme auth.example.org *.x.example.com {\n ca https://ca/dir\n email a@b\n}", "cert.pem key.pem", "acme {\n ca_root x\n}", "acme {", "acme }"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tail string) {
		cfg, err := parse(newTestController("acmedns {\n\tapi :8053\n\ttls "+tail+"\n}\n", []string{testZone}, ""))
		if err != nil || cfg.ACME == nil {
			return
		}
		if len(cfg.ACME.Names) == 0 || !strings.HasPrefix(cfg.ACME.CA, "https://") {
			t.Fatalf("parsed %+v", cfg.ACME)
		}
		for _, n := range cfg.ACME.Names {
			if _, err := acmeName(n, cfg.Zones); err != nil || n != strings.ToLower(n) || strings.HasSuffix(n, ".") {
				t.Fatalf("name %q: %v", n, err)
			}
		}
	})
}

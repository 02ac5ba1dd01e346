package main

import (
	"strings"
	"testing"
)

// TestCheckTLSName: check --tls-zone looks for the CNAME that lets acmedns
// answer the DNS-01 challenge of its own certificate for a tls acme NAME
// outside its zone, and needs no credentials file.
func TestCheckTLSName(t *testing.T) {
	s := startServer(t, serverOpts{})
	const target = "_acme-challenge.api.example.test.auth.example.test."
	record := "_acme-challenge.api.example.test. CNAME " + target
	cases := []struct {
		name, zone, domain string
		code               int
		want               []string
	}{
		{"no CNAME", "", "api.example.test", 1, []string{"FAIL CNAME _acme-challenge.api.example.test. has no record at all (NXDOMAIN)", "fix:  create in the zone of api.example.test: " + record}},
		{"the account's CNAME", "_acme-challenge.api 60 IN CNAME x.auth.example.test.\n", "api.example.test", 1, []string{"is a CNAME to x.auth.example.test., not to acmedns's challenge name " + target, "replace that record with: " + record}},
		{"good", "_acme-challenge.api 60 IN CNAME " + target + "\n", "api.example.test", 0, []string{"ok   CNAME " + record, "ok   CAA"}},
		{"wildcard", "_acme-challenge.api 60 IN CNAME " + target + "\n", "*.api.example.test", 0, []string{"ok   CNAME " + record}},
		{"inside the zone", "", "api.auth.example.test", 0, []string{"ok   CNAME _acme-challenge.api.auth.example.test. is inside auth.example.test.: acmedns answers it, no CNAME needed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.setZone(t, c.zone)
			code, out, errOut := cli(t, "check", "--domain", c.domain, "--tls-zone", "auth.example.test", "--storage", "/nonexistent/acmedns.json", "--resolver", s.DNS)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s%s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

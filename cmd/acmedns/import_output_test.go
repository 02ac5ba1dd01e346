package main

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostileNames are subdomains that would act on a terminal or forge lines
// of a report if printed raw.
var hostileNames = []string{
	"\x1b]0;pwned\x07\x1b[2J\x1b[31mred", // OSC retitle, CSI clear, colour
	"fake\nimported: 999",                // a forged report line
	"c1\u009b2J",                         // a C1 CSI
	"bad\xff\xfeutf8",                    // invalid UTF-8
	"del\x7fete\r",                       // DEL and carriage return
}

// TestImportOutputInert: the summary escapes control characters of the
// source's text (they stay as they are in --json, which escapes them).
func TestImportOutputInert(t *testing.T) {
	db := newSQLiteDB(t, nil)
	for _, sub := range hostileNames {
		h, _ := newHash(t)
		db.insert(t, newUUID(), h, sub, `[]`)
	}
	db.register(t, `[]`)
	s := startServer(t, serverOpts{})
	code, out, errOut := cli(t, "import", "--from", db.from, "--admin", s.Admin, "--token", adminToken, "--dry-run")
	if code != exitOK || !strings.Contains(out, "skipped: 5") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if bad := unsafeText(out + errOut); bad != "" {
		t.Errorf("the summary holds %s:\n%q", bad, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "imported: 999") {
			t.Errorf("a forged line: %q", line)
		}
	}
	_, rep := importJSON(t, s, db.from, "--dry-run")
	got := reasons(rep.Skipped)
	for _, sub := range hostileNames {
		if _, ok := got[sub]; !ok && utf8.ValidString(sub) {
			t.Errorf("--json does not name %q as it is: %v", sub, got)
		}
	}
}

// unsafeText names the first character of s a terminal would act on: a C0
// control other than newline, DEL, a C1 control or invalid UTF-8; "" if
// none.
func unsafeText(s string) string {
	if !utf8.ValidString(s) {
		return "invalid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f {
			return fmt.Sprintf("the control character %U", r)
		}
	}
	return ""
}

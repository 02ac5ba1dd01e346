package main

import (
	"bytes"
	"encoding/json"
	"testing"
)

// cli runs the command line in-process and returns its exit code, stdout
// and stderr.
func cli(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// importJSON runs import --json with extra flags and decodes its report.
func importJSON(t testing.TB, s *server, from string, extra ...string) (int, report) {
	t.Helper()
	args := append([]string{"import", "--from", from, "--admin", s.Admin, "--token", adminToken, "--json"}, extra...)
	code, out, errOut := cli(t, args...)
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("import %v: exit %d, not a JSON report: %v\nstdout: %s\nstderr: %s", extra, code, err, out, errOut)
	}
	return code, r
}

// reasons maps subdomain to reason.
func reasons(list []outcome) map[string]string {
	m := map[string]string{}
	for _, o := range list {
		m[o.Subdomain] = o.Reason
	}
	return m
}

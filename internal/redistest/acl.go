package redistest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// ACLUser is the user the documented ACL rule is for.
const ACLUser = "acmedns"

// ACLPassword is the password SetACL gives ACLUser.
const ACLPassword = "acl-test-password"

// ReadmeACL returns the documented ACL rule for acmedns's user: the line
// that starts "ACL SETUSER acmedns" in README.md or in one of the guides
// docs/*.md (the stores guide holds it). Its key and channel patterns are
// moved from the default prefix acmedns: to prefix, and PASSWORD is replaced
// by ACLPassword. REDISTEST_ACL_DROP, when set, removes that one rule (such
// as "+wait"), to check that each rule is needed.
func ReadmeACL(t testing.TB, prefix string) []string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	guides, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	head := "ACL SETUSER " + ACLUser + " "
	for _, path := range append([]string{filepath.Join(root, "README.md")}, guides...) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), head); ok {
				return rewriteACL(strings.Fields(rest), prefix, os.Getenv("REDISTEST_ACL_DROP"))
			}
		}
	}
	t.Fatalf("neither README.md nor docs/*.md has a line starting %q", head)
	return nil
}

// rewriteACL adapts the documented rules to a test: prefix and password.
func rewriteACL(rules []string, prefix, drop string) []string {
	var out []string
	for _, r := range rules {
		switch {
		case drop != "" && strings.EqualFold(r, drop):
			continue
		case r == ">PASSWORD":
			r = ">" + ACLPassword
		case strings.HasPrefix(r, "~acmedns:"), strings.HasPrefix(r, "&acmedns:"):
			r = r[:1] + prefix + r[len("~acmedns:"):]
		}
		out = append(out, r)
	}
	return out
}

// SetACL creates (or replaces) ACLUser on s with rules, as the default user.
func (s *Server) SetACL(rules []string) {
	s.t.Helper()
	c := s.Client()
	defer c.Close()
	args := slices.Concat([]any{"ACL", "SETUSER", ACLUser, "reset"}, toAny(rules))
	if err := c.Do(context.Background(), args...).Err(); err != nil {
		s.t.Fatalf("ACL SETUSER %v: %v", rules, err)
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

package autotls

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mholt/acmez/v3/acme"
	"go.uber.org/zap/zapcore"
)

func TestChallengeOwner(t *testing.T) {
	zones := []string{"auth.example.org.", "auth.example.net."}
	for name, want := range map[string]string{
		"auth.example.org":      "_acme-challenge.auth.example.org.",
		"NS1.Auth.Example.org.": "_acme-challenge.ns1.auth.example.org.",
		"x.auth.example.net":    "_acme-challenge.x.auth.example.net.",
		"*.auth.example.org":    "_acme-challenge.auth.example.org.",
		"api.example.com":       "_acme-challenge.api.example.com.auth.example.org.",
		"example.org":           "_acme-challenge.example.org.auth.example.org.",
	} {
		if got := ChallengeOwner(name, zones); got != want {
			t.Errorf("ChallengeOwner(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSolverPresentsInStore(t *testing.T) {
	blobs := backends(t)["bolt"](t)
	s := solver{blobs: blobs, zones: []string{"auth.example.org."}}
	ctx := context.Background()
	c := NewChallenges(blobs)
	chal := func(name, ka string) acme.Challenge {
		return acme.Challenge{Identifier: acme.Identifier{Type: "dns", Value: name}, KeyAuthorization: ka}
	}
	// A name and its wildcard share the owner: both values are served.
	a, b := chal("auth.example.org", "token-a.thumb"), chal("*.auth.example.org", "token-b.thumb")
	for _, ch := range []acme.Challenge{a, b} {
		if err := s.Present(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	got, err := c.TXT(ctx, "_acme-challenge.auth.example.org.")
	want := []string{a.DNS01KeyAuthorization(), b.DNS01KeyAuthorization()}
	slices.Sort(want)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("TXT = %q, %v, want %q", got, err, want)
	}
	if err := s.CleanUp(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.TXT(ctx, "_acme-challenge.auth.example.org."); !slices.Equal(got, []string{b.DNS01KeyAuthorization()}) {
		t.Fatalf("after CleanUp TXT = %q", got)
	}
	if got, err := c.TXT(ctx, "_acme-challenge.other.auth.example.org."); err != nil || len(got) != 0 {
		t.Fatalf("TXT of another owner = %q, %v", got, err)
	}
}

// TestLogFilter: fields that could carry keys never reach a log line.
func TestLogFilter(t *testing.T) {
	line := formatEntry(zapcore.Entry{Message: "obtained"}, []zapcore.Field{
		{Key: "identifier", Type: zapcore.StringType, String: "auth.example.org"},
		{Key: "private_key_path", Type: zapcore.StringType, String: "SECRET1"},
		{Key: "csr_pem", Type: zapcore.StringType, String: "SECRET2"},
		{Key: "account_key", Type: zapcore.StringType, String: "SECRET3"},
		{Key: "jws_payload", Type: zapcore.StringType, String: "SECRET4"},
	})
	if line != "certificates: obtained (identifier=auth.example.org)" {
		t.Fatalf("line = %q", line)
	}
	if strings.Contains(line, "SECRET") {
		t.Fatal("a secret field was written")
	}
}

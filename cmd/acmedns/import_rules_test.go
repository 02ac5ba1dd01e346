package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// TestImportSkips skips every row acme-dns could never use, with its
// reason, and imports the good one beside them.
func TestImportSkips(t *testing.T) {
	h10, _ := hashes()
	hash := func() string { h, _ := newHash(t); return h }
	var nets []string
	for i := range 65 {
		nets = append(nets, fmt.Sprintf("%q", fmt.Sprintf("10.0.%d.0/24", i)))
	}
	rows := []struct {
		user, pass, sub string
		allow           any // nil is NULL
		reason          string
	}{
		{newUUID(), h10, "good-one", `["10.0.0.0/8", "[2001:db8::]/32", "10.0.0.0/8", "::ffff:192.0.2.0/120"]`, ""},
		{newUUID(), hash(), "null-allowfrom", nil, skipAllowNull},
		{newUUID(), hash(), "bad-json", `["10.0.0.0/8"`, skipAllowJSON},
		{newUUID(), hash(), "not-array", `{"a": 1}`, skipAllowJSON},
		{newUUID(), hash(), "bad-cidr", `["10.0.0.300/8"]`, skipAllowCIDR},
		{newUUID(), hash(), "many-networks", "[" + strings.Join(nets, ",") + "]", skipAllowLong},
		{"not-a-uuid", hash(), "bad-user", `[]`, skipUsername},
		{newUUID(), hash(), "bad_label", `[]`, skipSubdomain},
		{newUUID(), "plaintext-password", "bad-hash", `[]`, skipPassword},
		{newUUID(), h10 + "x", "long-hash", `[]`, skipPassword},
		{newUUID(), "$2a$10$" + strings.Repeat("!", 53), "bad-salt", `[]`, skipPassword},
		{newUUID(), withCost(hash(), 13), "cost-13", `[]`, skipHashCost(13)},
		{newUUID(), withCost(hash(), 16), "cost-16", `[]`, skipHashCost(16)},
		{newUUID(), withCost(hash(), 32), "cost-32", `[]`, skipPassword},
	}
	db := newSQLiteDB(t, nil)
	for _, r := range rows {
		if _, err := db.db.Exec(`INSERT INTO records(Username, Password, Subdomain, AllowFrom) VALUES (?, ?, ?, ?)`, r.user, []byte(r.pass), r.sub, r.allow); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, serverOpts{})
	code, rep := importJSON(t, s, db.from)
	if code != exitOK || rep.Imported != 1 {
		t.Fatalf("exit %d, report %+v", code, rep)
	}
	got := reasons(rep.Skipped)
	for _, r := range rows {
		if got[r.sub] != r.reason {
			t.Errorf("%s: skipped with %q, want %q", r.sub, got[r.sub], r.reason)
		}
	}
	// The skip predicts the server: it refuses the hash, and the import
	// would fail.
	costly := entry{Subdomain: "posted-cost-13", Username: newUUID(), PasswordHash: withCost(h10, 13)}
	if err := s.admin(t).do(context.Background(), "POST", "/accounts", costly, nil); !isCode(err, 400, "password_hash_cost") {
		t.Errorf("the admin API given a cost-13 hash: %v, want 400 password_hash_cost", err)
	}
	a, err := s.admin(t).get(context.Background(), "good-one")
	if err != nil || strings.Join(a.AllowFrom, " ") != "10.0.0.0/8 2001:db8::/32 192.0.2.0/24" {
		t.Errorf("good-one: %+v, %v", a, err)
	}
	code, out, _ := cli(t, "import", "--from", db.from, "--admin", s.Admin, "--token", adminToken)
	for _, r := range rows[1:] {
		if !strings.Contains(out, fmt.Sprintf("  %s: %s", r.sub, r.reason)) {
			t.Errorf("the summary does not name %s with %q:\n%s", r.sub, r.reason, out)
		}
	}
	if code != exitOK || !strings.Contains(out, "unchanged: 1") || !strings.Contains(out, "nothing changed") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
}

// withCost is hash with its two cost digits rewritten: a hash of a high
// cost made without computing one.
func withCost(hash string, cost int) string {
	return fmt.Sprintf("%s%02d%s", hash[:4], cost, hash[6:])
}

// TestValidateHashCost: a row's hash is imported up to cost 12, skipped
// with its cost above it, and not a bcrypt hash beyond bcrypt's 31.
func TestValidateHashCost(t *testing.T) {
	hash, _ := newHash(t)
	for _, c := range []struct {
		hash   string
		reason string
	}{
		{hash, ""},
		{withCost(hash, 10), ""},
		{withCost(hash, 12), ""},
		{"$2y" + withCost(hash, 12)[3:], ""},
		{withCost(hash, 13), "bcrypt cost 13 is above 12, the most acmedns accepts"},
		{withCost(hash, 16), skipHashCost(16)},
		{"$2b" + withCost(hash, 31)[3:], skipHashCost(31)},
		{withCost(hash, 32), skipPassword},
		{withCost(hash, 13) + "x", skipPassword},
	} {
		r := row{Username: newUUID(), Password: []byte(c.hash), Subdomain: "sub", AllowFrom: sql.NullString{String: "[]", Valid: true}}
		if _, reason := validate(r); reason != c.reason {
			t.Errorf("%s: skipped with %q, want %q", c.hash, reason, c.reason)
		}
	}
}

// TestImportConflicts reports an account that differs (exit 1) without
// touching it, replaces it with --overwrite, and --dry-run writes nothing.
func TestImportConflicts(t *testing.T) {
	db := newSQLiteDB(t, nil)
	data := seed(t, db)
	s := startServer(t, serverOpts{})
	admin := []string{"--admin", s.Admin, "--token", adminToken}

	code, rep := importJSON(t, s, db.from, "--dry-run")
	if code != exitOK || rep.Imported != len(data.accounts) || !rep.DryRun {
		t.Fatalf("dry run: exit %d, %+v", code, rep)
	}
	if code, out, _ := cli(t, append([]string{"accounts", "list"}, admin...)...); code != 0 || !strings.Contains(out, "0 accounts") {
		t.Fatalf("the dry run wrote accounts: exit %d\n%s", code, out)
	}

	if code, rep = importJSON(t, s, db.from); code != exitOK {
		t.Fatalf("import: exit %d, %+v", code, rep)
	}
	changed := data.accounts[0].Subdomain
	if code, out, errOut := cli(t, append([]string{"accounts", "allow", changed, "198.51.100.0/24"}, admin...)...); code != 0 {
		t.Fatalf("accounts allow: exit %d %s %s", code, out, errOut)
	}

	code, rep = importJSON(t, s, db.from)
	if code != exitFailed || len(rep.Conflicts) != 1 || rep.Conflicts[0].Subdomain != changed ||
		!strings.Contains(rep.Conflicts[0].Reason, "allowfrom") || rep.Unchanged != len(data.accounts)-1 {
		t.Fatalf("conflict run: exit %d, %+v", code, rep)
	}
	if allowOf(t, s, changed) != "198.51.100.0/24" {
		t.Fatal("a conflicting account was overwritten without --overwrite")
	}

	code, rep = importJSON(t, s, db.from, "--overwrite", "--dry-run")
	if code != exitOK || rep.Replaced != 1 || allowOf(t, s, changed) != "198.51.100.0/24" {
		t.Fatalf("--overwrite --dry-run: exit %d, %+v, allowfrom %s", code, rep, allowOf(t, s, changed))
	}

	code, rep = importJSON(t, s, db.from, "--overwrite")
	if code != exitOK || rep.Replaced != 1 || allowOf(t, s, changed) != "" {
		t.Fatalf("--overwrite: exit %d, %+v, allowfrom %q", code, rep, allowOf(t, s, changed))
	}
	if code, rep = importJSON(t, s, db.from); code != exitOK || rep.Unchanged != len(data.accounts) {
		t.Fatalf("after --overwrite: exit %d, %+v", code, rep)
	}
}

func allowOf(t *testing.T, s *server, sub string) string {
	t.Helper()
	a, err := s.admin(t).get(context.Background(), sub)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(a.AllowFrom, ",")
}

// TestImportErrors: usage errors exit 2, an unreachable database or admin
// API exits 3.
func TestImportErrors(t *testing.T) {
	db := newSQLiteDB(t, nil)
	dead := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"no --from", []string{"import", "--admin", dead, "--token", "x"}, exitUsage},
		{"bad --from", []string{"import", "--from", "mysql://x", "--admin", dead, "--token", "x"}, exitUsage},
		{"no token", []string{"import", "--from", db.from, "--admin", dead}, exitUsage},
		{"unknown flag", []string{"import", "--nope"}, exitUsage},
		{"missing file", []string{"import", "--from", "sqlite:/nonexistent/acme-dns.db", "--admin", dead, "--token", "x"}, exitRuntime},
		{"admin down", []string{"import", "--from", db.from, "--admin", dead, "--token", "x"}, exitRuntime},
		{"postgres down", []string{"import", "--from", fmt.Sprintf("postgres://u@127.0.0.1:%d/db?sslmode=disable&connect_timeout=2", freePort(t)), "--admin", dead, "--token", "x"}, exitRuntime},
		{"help", []string{"import", "--help"}, exitOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("ACMEDNS_ADMIN_TOKEN", "")
			if code, out, errOut := cli(t, c.args...); code != c.want {
				t.Errorf("exit %d, want %d\n%s%s", code, c.want, out, errOut)
			}
		})
	}
}

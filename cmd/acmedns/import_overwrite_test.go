package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestImportOverwriteKeepsAccount: --overwrite replaces an account in
// place when its username is the source's, credentials included; an
// account whose username in the source belongs to another account of
// acmedns is a conflict and stays exactly as it was (it used to be
// deleted, not re-created, and lost). The dry run predicts both.
func TestImportOverwriteKeepsAccount(t *testing.T) {
	s := startServer(t, serverOpts{})
	db := newSQLiteDB(t, nil)
	kept := txtValueOf("kept")
	// In acmedns: sub (owned by u1) and another account owning u2.
	sub, u1, u2 := newUUID(), newUUID(), newUUID()
	h1, _ := newHash(t)
	h2, _ := newHash(t)
	s.create(t, entry{Subdomain: sub, Username: u1, PasswordHash: h1, AllowFrom: []string{}, TXT: []string{kept}})
	s.create(t, entry{Subdomain: newUUID(), Username: u2, PasswordHash: h2, AllowFrom: []string{}, TXT: []string{}})
	// In the source: sub owned by u2, and an account acmedns changed since.
	h3, _ := newHash(t)
	db.insert(t, u2, h3, sub, `["192.0.2.0/24"]`)
	moved := db.register(t, `[]`)
	db.update(t, moved.Subdomain, txtValueOf("moved"), 1700000000)
	if code, rep := importJSON(t, s, db.from); code != exitFailed || rep.Imported != 1 {
		t.Fatalf("first import: exit %d, %+v", code, rep)
	}
	admin := []string{"--admin", s.Admin, "--token", adminToken}
	for _, args := range [][]string{{"allow", moved.Subdomain, "198.51.100.0/24"}, {"clear", moved.Subdomain}, {"rotate", moved.Subdomain}} {
		if code, out, errOut := cli(t, append(append([]string{"accounts"}, args...), admin...)...); code != 0 {
			t.Fatalf("accounts %v: exit %d %s%s", args, code, out, errOut)
		}
	}

	code, dry := importJSON(t, s, db.from, "--overwrite", "--dry-run")
	if code != exitFailed || dry.Replaced != 1 || len(dry.Conflicts) != 1 || dry.Conflicts[0].Subdomain != sub {
		t.Errorf("dry run: exit %d, %+v; want %s replaced and %s a conflict", code, dry, moved.Subdomain, sub)
	}
	code, rep := importJSON(t, s, db.from, "--overwrite")
	if code != exitFailed || rep.Replaced != 1 || len(rep.Conflicts) != 1 || rep.Conflicts[0].Subdomain != sub ||
		!strings.Contains(rep.Conflicts[0].Reason, "username") {
		t.Errorf("--overwrite: exit %d, %+v", code, rep)
	}
	a, err := s.admin(t).get(context.Background(), sub)
	if err != nil || a.Username != u1 || len(a.TXT) != 1 || a.TXT[0].Value != kept {
		t.Fatalf("%s after --overwrite: %+v, %v; want it as it was (username %s, value %s)", sub, a, err, u1, kept)
	}
	if got := s.txt(t, "udp", sub+".auth.example.test"); !slices.Equal(got, []string{kept}) {
		t.Errorf("%s: DNS answers %q after --overwrite, want [%s]", sub, got, kept)
	}
	if code := publicUpdate(t, s, moved.Username, moved.Password, moved.Subdomain, txtValueOf("after")); code != http.StatusOK {
		t.Errorf("the replaced account refuses its source credentials: %d", code)
	}
	if allowOf(t, s, moved.Subdomain) != "" {
		t.Errorf("the replaced account's allowfrom is %q, want the source's (any)", allowOf(t, s, moved.Subdomain))
	}
}

package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestImportCaseTwins: two accounts whose subdomains, or usernames, differ
// only in case are both reported with the reason and neither is imported
// (acmedns keeps both in lower case: one would shadow the other and serve
// its values); the accounts beside them are imported.
func TestImportCaseTwins(t *testing.T) {
	db := newSQLiteDB(t, nil)
	twin := newUUID()
	twins := []string{twin, strings.ToUpper(twin)}
	for i, sub := range twins {
		h, _ := newHash(t)
		db.insert(t, newUUID(), h, sub, `[]`)
		db.insertTXT(t, sub, txtValueOf([]string{"lower", "upper"}[i]), 1700000000)
	}
	user := newUUID()
	userTwins := []string{newUUID(), newUUID()}
	for i, u := range []string{user, strings.ToUpper(user)} {
		h, _ := newHash(t)
		db.insert(t, u, h, userTwins[i], `[]`)
	}
	good := db.register(t, `[]`)
	s := startServer(t, serverOpts{})

	code, rep := importJSON(t, s, db.from)
	if code != exitOK || rep.Imported != 1 {
		t.Fatalf("exit %d, %+v; want only %s imported", code, rep, good.Subdomain)
	}
	got := reasons(rep.Skipped)
	for _, sub := range twins {
		if got[sub] != skipCaseTwin {
			t.Errorf("%s: skipped with %q, want %q", sub, got[sub], skipCaseTwin)
		}
	}
	for _, sub := range userTwins {
		if got[sub] != skipUserTwin {
			t.Errorf("%s: skipped with %q, want %q", sub, got[sub], skipUserTwin)
		}
	}
	for _, sub := range append([]string{twin}, userTwins...) {
		if _, err := s.admin(t).get(context.Background(), sub); !isCode(err, http.StatusNotFound, "") {
			t.Errorf("%s was imported: %v", sub, err)
		}
	}
}

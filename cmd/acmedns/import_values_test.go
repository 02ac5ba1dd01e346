package main

import (
	"context"
	"slices"
	"testing"
)

// TestImportRepeatedValues: acme-dns leaves two equal txt rows when a
// client repeats an update. The account is imported with the value once
// (its newest copy), beside the other accounts of the run; the dry run
// counts what the run does, and a second run finds it unchanged.
func TestImportRepeatedValues(t *testing.T) {
	db := newSQLiteDB(t, nil)
	data := seed(t, db)
	retried := db.register(t, `[]`)
	v := txtValueOf("retry")
	db.update(t, retried.Subdomain, v, 1700000100)
	db.update(t, retried.Subdomain, v, 1700000200) // the retry: both rows hold v
	all := len(data.accounts) + 1
	s := startServer(t, serverOpts{})

	if code, dry := importJSON(t, s, db.from, "--dry-run"); code != exitOK || dry.Imported != all {
		t.Fatalf("dry run: exit %d, %+v; want %d to be imported", code, dry, all)
	}
	code, rep := importJSON(t, s, db.from)
	if code != exitOK || rep.Imported != all || rep.FailedN != 0 || rep.NotTried != 0 || len(rep.Skipped) != 0 {
		t.Fatalf("import: exit %d, %+v; want all %d imported", code, rep, all)
	}
	a, err := s.admin(t).get(context.Background(), retried.Subdomain)
	if err != nil || len(a.TXT) != 1 || a.TXT[0].Value != v {
		t.Fatalf("the retried account: %+v, %v; want the one value %s", a, err, v)
	}
	if got := s.txt(t, "udp", retried.Subdomain+".auth.example.test"); !slices.Equal(got, []string{v}) {
		t.Errorf("DNS answers %q, want [%s]", got, v)
	}
	if code, rep = importJSON(t, s, db.from); code != exitOK || rep.Unchanged != all {
		t.Errorf("second run: exit %d, %+v; want all %d unchanged", code, rep, all)
	}
}

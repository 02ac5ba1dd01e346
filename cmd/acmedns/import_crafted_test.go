package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// craftedCounts is what an import of craft's database does.
type craftedCounts struct {
	imported, replaced, unchanged, conflicts, skipped int
}

// craft writes an acme-dns database holding every case an import must
// predict, and creates in s the acmedns accounts some of them meet.
func craft(t *testing.T, s *server) *acmeDB {
	t.Helper()
	db := newSQLiteDB(t, nil)
	for range 2 { // plain accounts
		a := db.register(t, `[]`)
		db.update(t, a.Subdomain, txtValueOf("plain"+a.Subdomain[:4]), 1700000000)
	}
	retried := db.register(t, `[]`) // a retried update: two equal rows
	db.update(t, retried.Subdomain, txtValueOf("retried"), 1700000100)
	db.update(t, retried.Subdomain, txtValueOf("retried"), 1700000200)
	row := func(user, sub, allow string) string {
		h, _ := newHash(t)
		db.insert(t, user, h, sub, allow)
		return h
	}
	twin, user := newUUID(), newUUID() // case twins: subdomains, usernames
	row(newUUID(), twin, `[]`)
	row(newUUID(), strings.ToUpper(twin), `[]`)
	row(user, newUUID(), `[]`)
	row(strings.ToUpper(user), newUUID(), `[]`)
	row(newUUID(), "ctl\x1b[2J\x1b]0;title\x07", `[]`) // control characters in each field
	row("\x1b"+newUUID(), newUUID(), `[]`)
	row(newUUID(), newUUID(), `["10.0.0.0/8\u001b"]`)
	ctlValue := newUUID()
	row(newUUID(), ctlValue, `[]`)
	db.insertTXT(t, ctlValue, "tok\x1b[2Jen", 1700000000)
	h, _ := newHash(t)
	db.insert(t, newUUID(), h+"\x1b[2J", newUUID(), `[]`)
	var nets []string // more networks than acmedns keeps
	for i := range 65 {
		nets = append(nets, fmt.Sprintf(`"192.0.2.%d/32"`, i))
	}
	row(newUUID(), newUUID(), "["+strings.Join(nets, ",")+"]")
	craftAcmedns(t, s, row)
	return db
}

// craftAcmedns writes the source rows that meet accounts of acmedns, and
// those accounts: one the same (unchanged), one with another allowfrom
// (a conflict, replaced with --overwrite), and two whose username belongs
// to another account of acmedns (conflicts, with or without --overwrite).
func craftAcmedns(t *testing.T, s *server, row func(user, sub, allow string) string) {
	t.Helper()
	account := func(sub, user, hash string, allow ...string) {
		if hash == "" {
			hash, _ = newHash(t)
		}
		s.create(t, entry{Subdomain: sub, Username: user, PasswordHash: hash, AllowFrom: append([]string{}, allow...), TXT: []string{}})
	}
	same, sameUser := newUUID(), newUUID()
	account(same, sameUser, row(sameUser, same, `[]`))
	other, otherUser := newUUID(), newUUID()
	account(other, otherUser, row(otherUser, other, `[]`), "198.51.100.0/24")
	owners := []string{newUUID(), newUUID()}
	for _, o := range owners {
		account(newUUID(), o, "")
	}
	row(owners[0], newUUID(), `[]`) // on a subdomain acmedns does not have
	held := newUUID()
	account(held, newUUID(), "")
	row(owners[1], held, `[]`) // on one acmedns has under another username
}

// summary is what a report says, without times.
func summary(r report) string {
	var lines []string
	for _, l := range []struct {
		name string
		list []outcome
	}{{"conflict", r.Conflicts}, {"skipped", r.Skipped}, {"failed", r.Failed}} {
		for _, o := range l.list {
			lines = append(lines, fmt.Sprintf("%s %q: %s", l.name, o.Subdomain, o.Reason))
		}
	}
	slices.Sort(lines)
	return fmt.Sprintf("imported %d, replaced %d, unchanged %d, failed %d, not attempted %d\n%s",
		r.Imported, r.Replaced, r.Unchanged, r.FailedN, r.NotTried, strings.Join(lines, "\n"))
}

// TestImportDryRunPredicts: on a crafted acme-dns database (repeated
// values, case twins, control characters in every field, too many
// networks, usernames that belong to other accounts of acmedns) the dry
// run's report is the real run's, with and without --overwrite, and a
// second real run imports and replaces nothing.
func TestImportDryRunPredicts(t *testing.T) {
	cases := []struct {
		name  string
		flags []string
		want  craftedCounts
	}{
		{"plain", nil, craftedCounts{imported: 3, unchanged: 1, conflicts: 3, skipped: 10}},
		{"overwrite", []string{"--overwrite"}, craftedCounts{imported: 3, replaced: 1, unchanged: 1, conflicts: 2, skipped: 10}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startServer(t, serverOpts{})
			db := craft(t, s)
			dryCode, dry := importJSON(t, s, db.from, append(c.flags, "--dry-run")...)
			code, rep := importJSON(t, s, db.from, c.flags...)
			if dryCode != code || summary(dry) != summary(rep) {
				t.Errorf("the dry run (exit %d) said\n%s\n\nthe run (exit %d) did\n%s", dryCode, summary(dry), code, summary(rep))
			}
			got := craftedCounts{rep.Imported, rep.Replaced, rep.Unchanged, len(rep.Conflicts), len(rep.Skipped)}
			if got != c.want || code != exitFailed {
				t.Errorf("exit %d, counts %+v, want exit 1 and %+v\n%s", code, got, c.want, summary(rep))
			}
			code, again := importJSON(t, s, db.from, c.flags...)
			if again.Imported+again.Replaced != 0 || len(again.Conflicts) != c.want.conflicts || code != exitFailed {
				t.Errorf("second run: exit %d\n%s", code, summary(again))
			}
		})
	}
}

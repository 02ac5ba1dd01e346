package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestImportBench imports 100,000 accounts from SQLite into a CoreDNS on
// the embedded store and logs the time. It runs with ACMEDNS_IMPORT_BENCH=1
// (ACMEDNS_IMPORT_BENCH=N for another count):
//
//	ACMEDNS_IMPORT_BENCH=1 go test -count=1 -v -run TestImportBench -timeout 30m .
func TestImportBench(t *testing.T) {
	n := 100000
	switch v := os.Getenv("ACMEDNS_IMPORT_BENCH"); v {
	case "":
		t.Skip("set ACMEDNS_IMPORT_BENCH=1 to import 100,000 accounts")
	case "1":
	default:
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("ACMEDNS_IMPORT_BENCH=%q: want 1 or a count", v)
		}
	}
	db := newSQLiteDB(t, nil)
	start := time.Now()
	seedBulk(t, db, n)
	t.Logf("seeded %d accounts in %s", n, time.Since(start).Round(time.Millisecond))
	s := startServer(t, serverOpts{})
	start = time.Now()
	code, rep := importJSON(t, s, db.from)
	took := time.Since(start)
	if code != exitOK || rep.Imported != n {
		t.Fatalf("exit %d, imported %d of %d, failed %v", code, rep.Imported, n, rep.Failed)
	}
	t.Logf("imported %d accounts in %s (%.0f accounts/s, 8 workers, embedded store)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
	start = time.Now()
	if code, rep = importJSON(t, s, db.from); code != exitOK || rep.Unchanged != n {
		t.Fatalf("second run: exit %d, unchanged %d of %d", code, rep.Unchanged, n)
	}
	t.Logf("second run (all unchanged) in %s", time.Since(start).Round(time.Millisecond))
}

// seedBulk writes n acme-dns registrations in one transaction, each with
// one TXT value. Records.Password is UNIQUE, so each account gets one
// precomputed cost-4 hash with its last six characters made unique: a
// well-formed hash that is kept verbatim (only the first verifies).
func seedBulk(t *testing.T, db *acmeDB, n int) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte("bench-password-0123456789-0123456789-abc"), 4)
	if err != nil {
		t.Fatal(err)
	}
	const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	tx, err := db.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := tx.Prepare(`INSERT INTO records(Username, Password, Subdomain, AllowFrom) VALUES (?, ?, ?, '[]')`)
	txt, _ := tx.Prepare(`INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES (?, ?, ?)`)
	for i := range n {
		hash := append([]byte{}, h...)
		for j, k := 0, i; j < 6; j, k = j+1, k/64 {
			hash[len(hash)-1-j] = alphabet[k%64]
		}
		sub := fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i)
		user := fmt.Sprintf("%08x-1111-4000-8000-%012x", i, i)
		if _, err := rec.Exec(user, hash, sub); err != nil {
			t.Fatal(err)
		}
		if _, err := txt.Exec(sub, txtValueOf(fmt.Sprintf("v%07d", i)), 1700000000+i); err != nil {
			t.Fatal(err)
		}
		if _, err := txt.Exec(sub, "", 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

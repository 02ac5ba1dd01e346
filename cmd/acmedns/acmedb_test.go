package main

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// acmeDB is an acme-dns database written the way acme-dns writes it.
type acmeDB struct {
	db       *sql.DB
	postgres bool
	from     string // the importer's --from
}

// acmeAccount is a registration with its plain password.
type acmeAccount struct {
	Username, Password, Subdomain string
	AllowFrom                     []string
}

// newSQLiteDB creates an acme-dns SQLite file in a temp dir with the
// schema statements given (nil: version 1).
func newSQLiteDB(t testing.TB, schema []string) *acmeDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "acme-dns.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	a := &acmeDB{db: db, from: "sqlite:" + path}
	a.exec(t, schemaOr(schema, v1SQLite)...)
	return a
}

// newPostgresDB creates a database on the shared PostgreSQL with the
// schema statements given (nil: version 1).
func newPostgresDB(t testing.TB, schema []string) *acmeDB {
	t.Helper()
	dsn := startPostgres(t)
	a := &acmeDB{db: openPG(t, dsn), postgres: true, from: dsn}
	a.exec(t, schemaOr(schema, v1Postgres)...)
	return a
}

func schemaOr(schema, def []string) []string {
	if schema == nil {
		return def
	}
	return schema
}

// openPG opens a PostgreSQL database closed at the end of the test.
func openPG(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// acme-dns's version 1 schema (db.go, v0.2 to v1.1) on each engine.
var (
	v1SQLite = []string{
		`CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT)`,
		`CREATE TABLE IF NOT EXISTS records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`,
		`CREATE TABLE IF NOT EXISTS txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`,
		`INSERT INTO acmedns (Name, Value) values('db_version', '1')`,
	}
	v1Postgres = []string{
		`CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT)`,
		`CREATE TABLE IF NOT EXISTS records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`,
		`CREATE TABLE IF NOT EXISTS txt(rowid SERIAL, Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`,
		`INSERT INTO acmedns (Name, Value) values('db_version', '1')`,
	}
)

// exec runs statements, with $N placeholders turned into ? on SQLite.
func (a *acmeDB) exec(t testing.TB, stmts ...string) {
	t.Helper()
	for _, s := range splitSQL(stmts) {
		if _, err := a.db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// q adapts a $N query to the engine.
func (a *acmeDB) q(query string) string {
	if a.postgres {
		return query
	}
	for i := 9; i >= 1; i-- {
		query = strings.ReplaceAll(query, fmt.Sprintf("$%d", i), "?")
	}
	return query
}

// password is a random 40-character acme-dns password.
func password() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	b := make([]byte, 40)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// newUUID is a random lower-case version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// register writes a registration as acme-dns does: one records row (the
// bcrypt hash of cost 10 as bytes: a BLOB on SQLite) and two empty txt
// rows with LastUpdate 0.
func (a *acmeDB) register(t testing.TB, allowFrom string) acmeAccount {
	t.Helper()
	acct := acmeAccount{Username: newUUID(), Password: password(), Subdomain: newUUID()}
	hash, err := bcrypt.GenerateFromPassword([]byte(acct.Password), 10)
	if err != nil {
		t.Fatal(err)
	}
	var pass any = hash
	if a.postgres {
		pass = string(hash)
	}
	if _, err := a.db.Exec(a.q(`INSERT INTO records(Username, Password, Subdomain, AllowFrom) values($1, $2, $3, $4)`),
		acct.Username, pass, acct.Subdomain, allowFrom); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := a.db.Exec(a.q(`INSERT INTO txt (Subdomain, LastUpdate) values($1, 0)`), acct.Subdomain); err != nil {
			t.Fatal(err)
		}
	}
	return acct
}

// update writes a TXT value as acme-dns does: over the subdomain's row
// with the smallest LastUpdate.
func (a *acmeDB) update(t testing.TB, sub, value string, at int64) {
	t.Helper()
	q := `UPDATE txt SET Value=$1, LastUpdate=$2 WHERE rowid=(SELECT rowid FROM txt WHERE Subdomain=$3 ORDER BY LastUpdate LIMIT 1)`
	if _, err := a.db.Exec(a.q(q), value, at, sub); err != nil {
		t.Fatal(err)
	}
}

// txtValue is a valid 43-character TXT value derived from a word.
func txtValueOf(word string) string {
	v := strings.Repeat(word, 43/len(word)+1)
	return v[:43]
}

// insert writes one records row as given: pass as bytes (a BLOB on
// SQLite, as acme-dns writes it), allow nil for NULL.
func (a *acmeDB) insert(t testing.TB, user, pass, sub string, allow any) {
	t.Helper()
	var p any = []byte(pass)
	if a.postgres {
		p = pass
	}
	if _, err := a.db.Exec(a.q(`INSERT INTO records(Username, Password, Subdomain, AllowFrom) VALUES ($1, $2, $3, $4)`), user, p, sub, allow); err != nil {
		t.Fatal(err)
	}
}

// insertTXT writes one txt row.
func (a *acmeDB) insertTXT(t testing.TB, sub, value string, at int64) {
	t.Helper()
	if _, err := a.db.Exec(a.q(`INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES ($1, $2, $3)`), sub, value, at); err != nil {
		t.Fatal(err)
	}
}

// newHash is a bcrypt hash of cost 4 (quick; any cost up to 12 imports)
// of a new password, and that password.
func newHash(t testing.TB) (hash, pass string) {
	t.Helper()
	pass = password()
	h, err := bcrypt.GenerateFromPassword([]byte(pass), 4)
	if err != nil {
		t.Fatal(err)
	}
	return string(h), pass
}

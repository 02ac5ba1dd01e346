package main

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// fixtureUser is the username of every layout fixture, as imported; the
// version 0 fixture stores it in upper case.
const fixtureUser = "6f1c2a0e-4d1b-4c7a-9f3e-2b8d5e7a1c90"

// fixture is one database layout written from SQL.
type fixture struct {
	name   string
	layout layout
	schema func(postgres bool) []string
	rows   func(sub string) []string
	values []string // the values acmedns must get, newest first
}

var (
	hashOnce     sync.Once
	hash10       string // cost 10, as upstream
	hash12       string // cost 12, as ZPascal's fork
	fixtureValue = [3]string{txtValueOf("old"), txtValueOf("mid"), txtValueOf("new")}
)

func hashes() (string, string) {
	hashOnce.Do(func() {
		h, _ := bcrypt.GenerateFromPassword([]byte(strings.Repeat("p", 40)), 10)
		hash10 = string(h)
		h, _ = bcrypt.GenerateFromPassword([]byte(strings.Repeat("p", 40)), 12)
		hash12 = string(h)
	})
	return hash10, hash12
}

// txtTable is acme-dns's txt table on each engine.
func txtTable(postgres bool) string {
	if postgres {
		return `CREATE TABLE txt(rowid SERIAL, Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`
	}
	return `CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`
}

const recordsV1 = `CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`

// txtRows are two rows (new first written, then old) and an empty one.
func txtRows(sub string, tie bool) []string {
	newAt := 1700000200
	if tie {
		newAt = 1700000100 // the same LastUpdate: the later row (higher rowid) is the newer
	}
	return []string{
		fmt.Sprintf(`INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES ('%s', '%s', 1700000100)`, sub, fixtureValue[1]),
		fmt.Sprintf(`INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES ('%s', '%s', %d)`, sub, fixtureValue[2], newAt),
		fmt.Sprintf(`INSERT INTO txt (Subdomain, Value, LastUpdate) VALUES ('%s', '', 0)`, sub),
	}
}

func layoutFixtures() []fixture {
	h10, h12 := hashes()
	version := func(v string) string {
		return `CREATE TABLE acmedns(Name TEXT, Value TEXT); INSERT INTO acmedns VALUES ('db_version', '` + v + `')`
	}
	record := func(sub, hash string) string {
		return fmt.Sprintf(`INSERT INTO records (Username, Password, Subdomain, AllowFrom) VALUES ('%s', '%s', '%s', '["192.0.2.0/24"]')`, fixtureUser, hash, sub)
	}
	return []fixture{
		{
			name: "v0", layout: layoutV0,
			schema: func(bool) []string {
				return []string{`CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, Value TEXT, LastActive INT, AllowFrom TEXT)`}
			},
			rows: func(sub string) []string {
				return []string{fmt.Sprintf(`INSERT INTO records VALUES ('%s', '%s', '%s', '%s', 1600000000, '["192.0.2.0/24"]')`, strings.ToUpper(fixtureUser), h10, sub, fixtureValue[0])}
			},
			values: []string{fixtureValue[0]},
		},
		{
			name: "v1-upgraded-from-v0", layout: layoutV1,
			schema: func(pg bool) []string {
				return []string{version("1"), `CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, Value TEXT, LastActive INT, AllowFrom TEXT)`, txtTable(pg)}
			},
			rows: func(sub string) []string {
				return append([]string{fmt.Sprintf(`INSERT INTO records VALUES ('%s', '%s', '%s', '%s', 1600000000, '["192.0.2.0/24"]')`, fixtureUser, h10, sub, fixtureValue[0])}, txtRows(sub, false)...)
			},
			values: []string{fixtureValue[2], fixtureValue[1]},
		},
		{
			name: "v1-tie", layout: layoutV1,
			schema: func(pg bool) []string { return []string{version("1"), recordsV1, txtTable(pg)} },
			rows:   func(sub string) []string { return append([]string{record(sub, h10)}, txtRows(sub, true)...) },
			values: []string{fixtureValue[2], fixtureValue[1]},
		},
		{
			name: "zpascal", layout: layoutZPascal,
			schema: func(pg bool) []string {
				return []string{version("2"), recordsV1, txtTable(pg),
					`CREATE TABLE dns_records(id TEXT PRIMARY KEY, name TEXT NOT NULL, type TEXT NOT NULL, value TEXT NOT NULL, ttl INTEGER NOT NULL DEFAULT 300, created INTEGER NOT NULL)`,
					`INSERT INTO dns_records VALUES ('1', 'www', 'A', '192.0.2.1', 300, 1700000000)`}
			},
			rows:   func(sub string) []string { return append([]string{record(sub, h12)}, txtRows(sub, false)...) },
			values: []string{fixtureValue[2], fixtureValue[1]},
		},
		{
			name: "netzint", layout: layoutNetzint,
			schema: func(pg bool) []string {
				return []string{version("3"), `CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT, DomainName TEXT, CreatedAt INT, UpdatedAt INT, EncPassword TEXT)`, txtTable(pg)}
			},
			rows: func(sub string) []string {
				return append([]string{fmt.Sprintf(`INSERT INTO records VALUES ('%s', '%s', '%s', '["192.0.2.0/24"]', 'customer.example', 1700000000, 1700000000, 'ZW5jcnlwdGVk')`, fixtureUser, h10, sub)}, txtRows(sub, false)...)
			},
			values: []string{fixtureValue[2], fixtureValue[1]},
		},
	}
}

// splitSQL lets a fixture statement hold several statements.
func splitSQL(stmts []string) []string {
	var out []string
	for _, s := range stmts {
		for _, part := range strings.Split(s, "; ") {
			out = append(out, part)
		}
	}
	return out
}

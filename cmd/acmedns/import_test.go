package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// seeded is an acme-dns database with accounts in each state acme-dns
// leaves them: never updated, updated once, twice, three times (the first
// value overwritten), and limited to loopback.
type seeded struct {
	db       *acmeDB
	accounts []acmeAccount
	values   map[string][]string // subdomain → current values, newest first
}

func seed(t *testing.T, db *acmeDB) *seeded {
	t.Helper()
	s := &seeded{db: db, values: map[string][]string{}}
	allow := []string{`[]`, `[]`, `["127.0.0.1/32"]`, `[]`}
	for i, a := range allow {
		acct := db.register(t, a)
		s.accounts = append(s.accounts, acct)
		var vals []string
		for j := 0; j < i; j++ {
			v := txtValueOf(string(rune('a'+i)) + string(rune('k'+j)))
			db.update(t, acct.Subdomain, v, int64(1700000000+j))
			vals = append([]string{v}, vals...)
		}
		if len(vals) > 2 {
			vals = vals[:2]
		}
		s.values[acct.Subdomain] = vals
	}
	return s
}

// TestImportEndToEnd imports acme-dns databases on SQLite and PostgreSQL
// into acmedns on the embedded store and on Redis; the imported values are
// served, the same credentials update through the public /update, and a
// second run changes nothing.
func TestImportEndToEnd(t *testing.T) {
	sources := []struct {
		name string
		open func(*testing.T) *acmeDB
	}{
		{"sqlite", func(t *testing.T) *acmeDB { return newSQLiteDB(t, nil) }},
		{"postgres", func(t *testing.T) *acmeDB { return newPostgresDB(t, nil) }},
	}
	stores := []struct {
		name string
		opts func(*testing.T) serverOpts
	}{
		{"embedded", func(*testing.T) serverOpts { return serverOpts{} }},
		{"redis", func(t *testing.T) serverOpts { return serverOpts{redis: startRedis(t)} }},
	}
	for _, src := range sources {
		for _, st := range stores {
			t.Run(src.name+"/"+st.name, func(t *testing.T) {
				data := seed(t, src.open(t))
				s := startServer(t, st.opts(t))
				code, r := importJSON(t, s, data.db.from)
				if code != exitOK || r.Imported != len(data.accounts) || r.Layout != string(layoutV1) {
					t.Fatalf("first import: exit %d, report %+v", code, r)
				}
				checkImported(t, s, data)
				code, r = importJSON(t, s, data.db.from)
				if code != exitOK || r.Unchanged != len(data.accounts) || r.Imported != 0 {
					t.Fatalf("second import: exit %d, want all %d unchanged: %+v", code, len(data.accounts), r)
				}
				updateAll(t, s, data)
			})
		}
	}
}

// checkImported compares each account in acmedns with the source and asks
// DNS for its values over UDP and TCP.
func checkImported(t *testing.T, s *server, data *seeded) {
	t.Helper()
	c := s.admin(t)
	for _, acct := range data.accounts {
		a, err := c.get(context.Background(), acct.Subdomain)
		if err != nil {
			t.Fatalf("GET %s: %v", acct.Subdomain, err)
		}
		var got []string
		for _, v := range a.TXT {
			got = append(got, v.Value)
		}
		if a.Username != acct.Username || !slices.Equal(got, data.values[acct.Subdomain]) {
			t.Errorf("%s: username %s values %q, want %s %q", acct.Subdomain, a.Username, got, acct.Username, data.values[acct.Subdomain])
		}
		for _, netw := range []string{"udp", "tcp"} {
			dnsVals := s.txt(t, netw, acct.Subdomain+".auth.example.test")
			if want := data.values[acct.Subdomain]; !sameSet(dnsVals, want) {
				t.Errorf("%s over %s: DNS answers %q, want %q", acct.Subdomain, netw, dnsVals, want)
			}
		}
	}
}

// updateAll updates every account through the public API with its acme-dns
// password and checks DNS serves the new value.
func updateAll(t *testing.T, s *server, data *seeded) {
	t.Helper()
	for _, acct := range data.accounts {
		v := txtValueOf("new" + acct.Subdomain[:4])
		if code := publicUpdate(t, s, acct.Username, acct.Password, acct.Subdomain, v); code != 200 {
			t.Fatalf("update of %s with its acme-dns credentials: %d", acct.Subdomain, code)
		}
		for _, netw := range []string{"udp", "tcp"} {
			if got := s.txt(t, netw, acct.Subdomain+".auth.example.test"); !slices.Contains(got, v) {
				t.Errorf("after /update %s over %s answers %q, want %q among them", acct.Subdomain, netw, got, v)
			}
		}
	}
}

func sameSet(a, b []string) bool {
	return slices.Equal(sortedCopy(a), sortedCopy(b))
}

// TestImportLayouts reads version 0 and the forks' layouts, written from
// SQL fixtures, on both engines.
func TestImportLayouts(t *testing.T) {
	s := startServer(t, serverOpts{})
	for _, f := range layoutFixtures() {
		for _, engine := range []string{"sqlite", "postgres"} {
			t.Run(f.name+"/"+engine, func(t *testing.T) {
				var db *acmeDB
				if engine == "sqlite" {
					db = newSQLiteDB(t, f.schema(false))
				} else {
					db = newPostgresDB(t, f.schema(true))
				}
				sub := newUUID()
				db.exec(t, f.rows(sub)...)
				code, r := importJSON(t, s, db.from)
				if code != exitOK || r.Layout != string(f.layout) || r.Imported != 1 {
					t.Fatalf("exit %d, report %+v; want layout %q, 1 imported", code, r, f.layout)
				}
				a, err := s.admin(t).get(context.Background(), sub)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, v := range a.TXT {
					got = append(got, v.Value)
				}
				if !slices.Equal(got, f.values) || a.Username != fixtureUser || strings.Join(a.AllowFrom, ",") != "192.0.2.0/24" {
					t.Errorf("imported %+v, want values %q, username %s", a, f.values, fixtureUser)
				}
				s.deleteAccount(t, sub)
			})
		}
	}
}

// deleteAccount removes an account (so the next fixture's username is
// free).
func (s *server) deleteAccount(t testing.TB, sub string) {
	t.Helper()
	if err := s.admin(t).delete(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
}

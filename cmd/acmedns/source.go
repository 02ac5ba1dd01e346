package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	_ "modernc.org/sqlite"             // the "sqlite" database/sql driver
)

// source is an open acme-dns database.
type source struct {
	db       *sql.DB
	postgres bool
	tables   map[string]map[string]bool // lower-case table → lower-case columns
}

// openSource opens --from: "sqlite:PATH" (read-only) or a postgres:// or
// postgresql:// URL, and reads its tables and columns.
func openSource(ctx context.Context, from string) (*source, error) {
	s := &source{}
	var err error
	switch {
	case strings.HasPrefix(from, "sqlite:"):
		path := strings.TrimPrefix(from, "sqlite:")
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		s.db, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	case strings.HasPrefix(from, "postgres://"), strings.HasPrefix(from, "postgresql://"):
		s.postgres = true
		s.db, err = sql.Open("pgx", from)
	default:
		return nil, errBadSource
	}
	if err != nil {
		return nil, err
	}
	if err := s.readSchema(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// errBadSource is a --from that names no supported database.
var errBadSource = errors.New("--from must be sqlite:PATH or postgres://USER@HOST:PORT/DB")

// readSchema fills s.tables.
func (s *source) readSchema(ctx context.Context) error {
	q := `SELECT lower(m.name), lower(p.name) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
	if s.postgres {
		q = `SELECT lower(table_name), lower(column_name) FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	s.tables = map[string]map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return err
		}
		if s.tables[t] == nil {
			s.tables[t] = map[string]bool{}
		}
		s.tables[t][c] = true
	}
	return rows.Err()
}

// has reports whether table exists with every one of columns.
func (s *source) has(table string, columns ...string) bool {
	cols, ok := s.tables[table]
	if !ok {
		return false
	}
	for _, c := range columns {
		if !cols[c] {
			return false
		}
	}
	return true
}

// Close closes the database.
func (s *source) Close() error { return s.db.Close() }

// layout names an acme-dns database layout.
type layout string

// The layouts the importer reads.
const (
	layoutV0      layout = "acme-dns version 0"
	layoutV1      layout = "acme-dns version 1"
	layoutZPascal layout = "ZPascal/acme-dns (version 1 with dns_records)"
	layoutNetzint layout = "netzint/acme-dns (version 1 with extra records columns)"
)

// detect names the layout from the tables and columns present, never from
// db_version alone (forks reuse its numbers).
func (s *source) detect() (layout, error) {
	if !s.has("records", "username", "password", "subdomain", "allowfrom") {
		return "", errors.New("not an acme-dns database: no records table with Username, Password, Subdomain and AllowFrom")
	}
	if !s.has("txt", "subdomain", "value", "lastupdate") {
		if s.has("records", "value", "lastactive") {
			return layoutV0, nil
		}
		return "", errors.New("unknown acme-dns layout: no txt table and no records.Value/LastActive")
	}
	switch {
	case s.has("dns_records"):
		return layoutZPascal, nil
	case s.has("records", "domainname", "encpassword") || s.has("records", "createdat", "updatedat"):
		return layoutNetzint, nil
	}
	return layoutV1, nil
}

func (l layout) String() string { return string(l) }

// describe is a short name of the source for messages.
func describeSource(from string) string {
	if i := strings.Index(from, "@"); i >= 0 && strings.HasPrefix(from, "postgres") {
		scheme, _, _ := strings.Cut(from, "://")
		return fmt.Sprintf("%s://…%s", scheme, from[i:])
	}
	return from
}

package main

import (
	"context"
	"database/sql"
)

// row is one acme-dns account as stored, before validation.
type row struct {
	Username  string
	Password  []byte // TEXT or BLOB
	Subdomain string
	AllowFrom sql.NullString
	TXT       []string // non-empty values, newest first
}

// readRows reads every account of the database in layout l, with its
// current TXT values.
func (s *source) readRows(ctx context.Context, l layout) ([]row, error) {
	q := `SELECT Username, Password, Subdomain, AllowFrom FROM records`
	if l == layoutV0 {
		q = `SELECT Username, Password, Subdomain, AllowFrom, COALESCE(Value, '') FROM records`
	}
	rows, err := s.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var user, sub sql.NullString
		dest := []any{&user, &r.Password, &sub, &r.AllowFrom}
		var value string
		if l == layoutV0 {
			dest = append(dest, &value)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.Username, r.Subdomain = user.String, sub.String
		if value != "" {
			r.TXT = []string{value}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if l == layoutV0 {
		return out, nil
	}
	return out, s.attachTXT(ctx, out)
}

// attachTXT fills each row's TXT from the txt table: non-empty values,
// newest first by LastUpdate, ties broken by rowid (newest row first).
// Rows are matched on the subdomain as written, case included, as acme-dns
// reads them: values are never moved to an account of another case.
func (s *source) attachTXT(ctx context.Context, out []row) error {
	order := "COALESCE(LastUpdate, 0) DESC"
	if !s.postgres || s.has("txt", "rowid") {
		order += ", rowid DESC"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT Subdomain, Value FROM txt WHERE Value IS NOT NULL AND Value <> '' ORDER BY `+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	bySub := map[string][]string{}
	for rows.Next() {
		var sub, value string
		if err := rows.Scan(&sub, &value); err != nil {
			return err
		}
		bySub[sub] = append(bySub[sub], value)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range out {
		out[i].TXT = bySub[out[i].Subdomain]
	}
	return nil
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// fakeClock is a clock the test moves; every store reads it while it is
// installed with store.SetClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock(t *testing.T) *fakeClock {
	c := &fakeClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	store.SetClock(t, c.Now)
	return c
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new time.
func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// mustRecord returns the record of sub, failing the test without one.
func mustRecord(t *testing.T, ctx context.Context, s store.Store, sub string) store.Record {
	t.Helper()
	rec, err := s.Record(ctx, sub)
	if err != nil {
		t.Fatalf("Record(%s): %v", sub, err)
	}
	return rec
}

// gone fails unless every read and write of sub answers ErrNotFound.
func gone(t *testing.T, ctx context.Context, s store.Store, sub string) {
	t.Helper()
	checks := map[string]func() error{
		"TXT":          func() error { _, err := s.TXT(ctx, sub); return err },
		"Account":      func() error { _, err := s.Account(ctx, sub); return err },
		"Record":       func() error { _, err := s.Record(ctx, sub); return err },
		"AddTXT":       func() error { return s.AddTXT(ctx, sub, "x", 2, 0) },
		"ClearTXT":     func() error { return s.ClearTXT(ctx, sub) },
		"SetPassword":  func() error { _, err := s.SetPassword(ctx, sub, []byte("h")); return err },
		"SetAllowFrom": func() error { _, err := s.SetAllowFrom(ctx, sub, nil); return err },
		"Delete":       func() error { return s.Delete(ctx, sub) },
	}
	for name, check := range checks {
		if err := check(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s(%s) = %v; want ErrNotFound", name, sub, err)
		}
	}
}

// equalValues reports whether got and want have the same texts and times.
func equalValues(got, want []store.Value) bool {
	return slices.EqualFunc(got, want, func(a, b store.Value) bool { return a.Text == b.Text && a.Set.Equal(b.Set) })
}

var lifecycleSuite = []suiteCase{
	{"delete", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("del")); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTXT(ctx, "del", "v1", 2, 0); err != nil {
			t.Fatal(err)
		}
		for range 2 { // cached, where there is a cache
			if got, err := s.TXT(ctx, "del"); err != nil || len(got) != 1 {
				t.Fatalf("TXT = %v, %v", got, err)
			}
		}
		if err := s.Delete(ctx, "del"); err != nil {
			t.Fatal(err)
		}
		gone(t, ctx, s, "del")
		// The subdomain and the username are free again, and nothing of
		// the deleted account comes back.
		if err := s.Register(ctx, account("del")); err != nil {
			t.Fatalf("Register after Delete: %v", err)
		}
		if got, err := s.TXT(ctx, "del"); err != nil || len(got) != 0 {
			t.Fatalf("TXT of the new registration = %v, %v", got, err)
		}
		if err := s.Delete(ctx, "del"); err != nil {
			t.Fatal(err)
		}
		other := account("del-again")
		other.Username = account("del").Username
		if err := s.Register(ctx, other); err != nil {
			t.Fatalf("the username of a deleted account: %v", err)
		}
	}},
	{"rotate password", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("rot")); err != nil {
			t.Fatal(err)
		}
		if err := s.AddTXT(ctx, "rot", "kept", 2, 0); err != nil {
			t.Fatal(err)
		}
		hash := []byte("$2a$10$rotated")
		rec, err := s.SetPassword(ctx, "rot", hash)
		if err != nil {
			t.Fatal(err)
		}
		want := account("rot")
		want.PasswordHash = hash
		if !equalAccounts(rec.Account, want) || !slices.Equal(texts(rec.TXT), []string{"kept"}) {
			t.Fatalf("SetPassword returned %+v", rec)
		}
		if a, err := s.Account(ctx, "rot"); err != nil || !equalAccounts(a, want) {
			t.Fatalf("Account after SetPassword = %+v, %v", a, err)
		}
		if rec := mustRecord(t, ctx, s, "rot"); string(rec.PasswordHash) != string(hash) {
			t.Fatalf("Record after SetPassword has %q", rec.PasswordHash)
		}
	}},
	{"set allowfrom", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("allow")); err != nil {
			t.Fatal(err)
		}
		tests := [][]string{{"198.51.100.0/24"}, nil, {"2001:db8::/32", "203.0.113.7/32"}}
		for _, allow := range tests {
			rec, err := s.SetAllowFrom(ctx, "allow", allow)
			if err != nil || !slices.Equal(rec.AllowFrom, allow) || rec.Username != "user-allow" {
				t.Fatalf("SetAllowFrom(%v) = %+v, %v", allow, rec, err)
			}
			if a, err := s.Account(ctx, "allow"); err != nil || !slices.Equal(a.AllowFrom, allow) {
				t.Fatalf("Account after SetAllowFrom(%v) = %+v, %v", allow, a, err)
			}
		}
	}},
	{"clear", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("clear")); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"a", "b"} {
			if err := s.AddTXT(ctx, "clear", v, 2, 0); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := s.TXT(ctx, "clear"); len(got) != 2 { // cached, where there is a cache
			t.Fatalf("TXT = %v", got)
		}
		if err := s.ClearTXT(ctx, "clear"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TXT(ctx, "clear"); err != nil || got == nil || len(got) != 0 {
			t.Fatalf("TXT after ClearTXT = %#v, %v; want empty, registered", got, err)
		}
		if rec := mustRecord(t, ctx, s, "clear"); len(rec.TXT) != 0 || rec.Username != "user-clear" {
			t.Fatalf("Record after ClearTXT = %+v", rec)
		}
		if err := s.AddTXT(ctx, "clear", "c", 2, 0); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.TXT(ctx, "clear"); !slices.Equal(texts(got), []string{"c"}) {
			t.Fatalf("TXT after a new value = %v", got)
		}
	}},
	{"create a whole record", func(t *testing.T, ctx context.Context, s store.Store) {
		at := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
		rec := store.Record{
			Account: store.Account{Username: "imported", PasswordHash: []byte("$2a$12$verbatim/hash.Of.Import"), Subdomain: "imp", AllowFrom: []string{"10.0.0.0/8"}},
			TXT:     []store.Value{{Text: "newer", Set: at.Add(time.Hour)}, {Text: "unknown"}, {Text: "older", Set: at}},
			Created: at.Add(-24 * time.Hour),
			Updated: at.Add(time.Hour),
		}
		if err := s.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		got := mustRecord(t, ctx, s, "imp")
		if !equalRecords(got, rec) {
			t.Fatalf("Record = %+v\nwant %+v", got, rec)
		}
		if values, err := s.TXT(ctx, "imp"); err != nil || !equalValues(values, rec.TXT) {
			t.Fatalf("TXT = %v, %v", values, err)
		}
		if a, err := s.Account(ctx, "imp"); err != nil || !equalAccounts(a, rec.Account) {
			t.Fatalf("Account = %+v, %v", a, err)
		}
	}},
	{"create conflicts write nothing", func(t *testing.T, ctx context.Context, s store.Store) {
		if err := s.Register(ctx, account("owner")); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			rec  store.Record
			want error
		}{
			{"subdomain taken", store.Record{Account: store.Account{Username: "newcomer", PasswordHash: []byte("h"), Subdomain: "owner"}}, store.ErrExists},
			{"username taken", store.Record{Account: store.Account{Username: "user-owner", PasswordHash: []byte("h"), Subdomain: "squatter"}, TXT: []store.Value{{Text: "v"}}}, store.ErrUsernameTaken},
			{"too many values", store.Record{Account: account("many"), TXT: distinctValues(store.MaxKeep + 1)}, store.ErrInvalidRecord},
			{"a value twice", store.Record{Account: account("twice"), TXT: []store.Value{{Text: "v"}, {Text: "v"}}}, store.ErrInvalidRecord},
			{"a bad value", store.Record{Account: account("badtxt"), TXT: []store.Value{{Text: "has space"}}}, store.ErrInvalidRecord},
			{"a bad subdomain", store.Record{Account: store.Account{Username: "u-bad", PasswordHash: []byte("h"), Subdomain: "Bad.Label"}}, store.ErrInvalidRecord},
			{"no hash", store.Record{Account: store.Account{Username: "u-nohash", Subdomain: "nohash"}}, store.ErrInvalidRecord},
		}
		for _, tc := range tests {
			err := s.Create(ctx, tc.rec)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s: Create = %v; want %v", tc.name, err, tc.want)
			}
		}
		if a, err := s.Account(ctx, "owner"); err != nil || !equalAccounts(a, account("owner")) {
			t.Fatalf("the owner's account changed: %+v, %v", a, err)
		}
		gone(t, ctx, s, "squatter")
		// Both failed names are free: the creates claimed nothing.
		for _, a := range []store.Account{
			{Username: "newcomer", PasswordHash: []byte("h"), Subdomain: "newcomer"},
			{Username: "squatter", PasswordHash: []byte("h"), Subdomain: "squatter"},
		} {
			if err := s.Register(ctx, a); err != nil {
				t.Errorf("Register(%s) after the failed creates: %v", a.Subdomain, err)
			}
		}
		other := account("squatter-2")
		other.Username = "user-owner"
		if err := s.Register(ctx, other); !errors.Is(err, store.ErrUsernameTaken) {
			t.Errorf("Register with a taken username = %v", err)
		}
	}},
	{"concurrent creates keep one", func(t *testing.T, ctx context.Context, s store.Store) {
		tests := []struct {
			name string
			sub  func(i int) string
		}{
			{"one subdomain, one username", func(int) string { return "race-same" }},
			{"one username, many subdomains", func(i int) string { return fmt.Sprintf("race-many-%d", i) }},
		}
		for round, tc := range tests {
			user := fmt.Sprintf("racer-%d", round)
			won := raceCreates(t, ctx, s, user, tc.sub)
			if len(won) != 1 {
				t.Fatalf("%s: %d creates succeeded: %v", tc.name, len(won), won)
			}
			other := store.Account{Username: user, PasswordHash: []byte("h"), Subdomain: "race-late"}
			if err := s.Register(ctx, other); !errors.Is(err, store.ErrUsernameTaken) {
				t.Errorf("%s: a later Register with the username = %v", tc.name, err)
			}
		}
	}},
	{"timestamps", func(t *testing.T, ctx context.Context, s store.Store) {
		clock := newFakeClock(t)
		created := clock.Now()
		if err := s.Register(ctx, account("ts")); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name  string
			write func() error
			txt   []string // the values' set times: minutes after created
		}{
			{"register", func() error { return nil }, nil},
			{"add a", func() error { return s.AddTXT(ctx, "ts", "a", 3, 0) }, []string{"a"}},
			{"add b", func() error { return s.AddTXT(ctx, "ts", "b", 3, 0) }, []string{"b", "a"}},
			{"set password", func() error { _, err := s.SetPassword(ctx, "ts", []byte("h2")); return err }, []string{"b", "a"}},
			{"set allowfrom", func() error { _, err := s.SetAllowFrom(ctx, "ts", nil); return err }, []string{"b", "a"}},
			{"clear", func() error { return s.ClearTXT(ctx, "ts") }, nil},
		}
		set := map[string]time.Time{}
		for i, st := range steps {
			updated := created
			if i > 0 {
				updated = clock.Advance(time.Minute)
			}
			if err := st.write(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			rec := mustRecord(t, ctx, s, "ts")
			if !rec.Created.Equal(created) || !rec.Updated.Equal(updated) {
				t.Fatalf("after %s: created %v updated %v; want %v %v", st.name, rec.Created, rec.Updated, created, updated)
			}
			if len(st.txt) > 0 && set[st.txt[0]].IsZero() {
				set[st.txt[0]] = updated
			}
			var want []store.Value
			for _, v := range st.txt {
				want = append(want, store.Value{Text: v, Set: set[v]})
			}
			if !equalValues(rec.TXT, want) {
				t.Fatalf("after %s: TXT %v; want %v", st.name, rec.TXT, want)
			}
		}
		// Create fills in the times it is not given.
		if err := s.Create(ctx, store.Record{Account: account("ts-create")}); err != nil {
			t.Fatal(err)
		}
		if rec := mustRecord(t, ctx, s, "ts-create"); !rec.Created.Equal(clock.Now()) || !rec.Updated.Equal(clock.Now()) {
			t.Fatalf("Create without times: created %v updated %v; want %v", rec.Created, rec.Updated, clock.Now())
		}
	}},
	{"expiry", func(t *testing.T, ctx context.Context, s store.Store) {
		clock := newFakeClock(t)
		at := clock.Now()
		old := []store.Value{{Text: "recent", Set: at.Add(-10 * time.Minute)}, {Text: "stale", Set: at.Add(-2 * time.Hour)}, {Text: "unknown"}}
		tests := []struct {
			sub    string
			maxAge time.Duration
			want   []string
		}{
			{"exp-none", 0, []string{"fresh", "recent", "stale", "unknown"}},
			{"exp-hour", time.Hour, []string{"fresh", "recent", "unknown"}},
			{"exp-minute", time.Minute, []string{"fresh", "unknown"}},
		}
		for _, tc := range tests {
			if err := s.Create(ctx, store.Record{Account: account(tc.sub), TXT: old}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddTXT(ctx, tc.sub, "fresh", store.MaxKeep, tc.maxAge); err != nil {
				t.Fatal(err)
			}
			got, err := s.TXT(ctx, tc.sub)
			if err != nil || !slices.Equal(texts(got), tc.want) || !got[0].Set.Equal(at) {
				t.Errorf("maxAge %v: TXT = %v, %v; want %v, fresh set at %v", tc.maxAge, got, err, tc.want, at)
			}
		}
	}},
}

// equalAccounts compares accounts, taking a nil and an empty allowfrom for
// the same.
func equalAccounts(a, b store.Account) bool {
	return a.Username == b.Username && string(a.PasswordHash) == string(b.PasswordHash) &&
		a.Subdomain == b.Subdomain && slices.Equal(a.AllowFrom, b.AllowFrom)
}

// equalRecords compares records field by field, times to the instant.
func equalRecords(a, b store.Record) bool {
	return equalAccounts(a.Account, b.Account) && equalValues(a.TXT, b.TXT) &&
		a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated)
}

// distinctValues are n different valid values of unknown time.
func distinctValues(n int) []store.Value {
	out := make([]store.Value, n)
	for i := range out {
		out[i] = store.Value{Text: fmt.Sprintf("value-%d", i)}
	}
	return out
}

// raceCreates registers 8 accounts of username user, on sub(0) to sub(7),
// at once, and returns the subdomains of those that succeeded.
func raceCreates(t *testing.T, ctx context.Context, s store.Store, user string, sub func(i int) string) []string {
	t.Helper()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Register(ctx, store.Account{Username: user, PasswordHash: []byte("h"), Subdomain: sub(i)})
		})
	}
	wg.Wait()
	var won []string
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, sub(i))
		case !errors.Is(err, store.ErrExists) && !errors.Is(err, store.ErrUsernameTaken):
			t.Fatalf("Register: %v", err)
		}
	}
	return won
}

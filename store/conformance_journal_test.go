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

// journalEnv is a store under the journal suite, with the serial it had
// when the suite began, before any write.
type journalEnv struct {
	s       store.Store
	j       store.Journal
	initial uint32
}

// journalCase is one test of the journal suite.
type journalCase struct {
	name string
	run  func(t *testing.T, ctx context.Context, e journalEnv)
}

// TestJournalConformance runs the journal suite on every backend, then
// checks that the serial and the journal survive a restart.
func TestJournalConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, reopen := b.open(t)
			ctx := context.Background()
			j := s.(store.Journal)
			e := journalEnv{s: s, j: j, initial: serialOf(t, ctx, j)}
			nearNow(t, e.initial)
			for _, tc := range journalSuite {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, ctx, e) })
			}
			t.Run("survives restart", func(t *testing.T) { journalRestart(t, ctx, s, reopen) })
		})
	}
}

// nearNow fails unless serial is the current Unix time, give or take a
// minute, as a store's first serial is.
func nearNow(t *testing.T, serial uint32) {
	t.Helper()
	now := time.Now().Unix()
	if int64(serial) < now-60 || int64(serial) > now+60 {
		t.Fatalf("initial serial %d; want about %d (now)", serial, now)
	}
}

// serialOf returns j's serial, failing the test on an error.
func serialOf(t *testing.T, ctx context.Context, j store.Journal) uint32 {
	t.Helper()
	serial, err := j.Serial(ctx)
	if err != nil {
		t.Fatalf("Serial: %v", err)
	}
	return serial
}

// changesSince returns the changes after from, failing unless the journal
// has them all and the current serial is want.
func changesSince(t *testing.T, ctx context.Context, j store.Journal, from, want uint32) []store.Change {
	t.Helper()
	changes, cur, ok, err := j.Changes(ctx, from, store.DefaultJournalSize)
	if err != nil || !ok || cur != want {
		t.Fatalf("Changes(%d) = %d changes, serial %d, ok %v, %v; want ok at %d", from, len(changes), cur, ok, err, want)
	}
	for i, c := range changes {
		if c.Serial != from+uint32(i)+1 {
			t.Fatalf("Changes(%d): change %d has serial %d", from, i, c.Serial)
		}
	}
	return changes
}

// noChanges fails unless Changes(from) answers that it cannot tell.
func noChanges(t *testing.T, ctx context.Context, j store.Journal, from uint32, why string) {
	t.Helper()
	changes, cur, ok, err := j.Changes(ctx, from, store.DefaultJournalSize)
	if err != nil || ok || changes != nil {
		t.Errorf("%s: Changes(%d) = %v, serial %d, ok %v, %v; want not ok", why, from, changes, cur, ok, err)
	}
}

// sameChange reports whether got is want, nil and empty sides alike.
func sameChange(got, want store.Change) bool {
	return got.Serial == want.Serial && got.Kind == want.Kind && got.Subdomain == want.Subdomain &&
		slices.Equal(got.Old, want.Old) && slices.Equal(got.New, want.New)
}

// errAnyFailure, as a journalStep's err, means any error.
var errAnyFailure = errors.New("any error")

// journalStep is one call of the serial test: the error it returns and the
// change it journals (nil: none, the serial stays).
type journalStep struct {
	name  string
	write func() error
	err   error
	want  *store.Change
}

// journalSteps are a call of every kind, successful and failed, on s.
func journalSteps(ctx context.Context, s store.Store) []journalStep {
	ch := func(kind store.ChangeKind, sub string, old, new []string) *store.Change {
		return &store.Change{Kind: kind, Subdomain: sub, Old: old, New: new}
	}
	taken := account("jr-b")
	taken.Username = account("jr-a").Username
	rec := store.Record{Account: account("jr-b"), TXT: []store.Value{{Text: "x", Set: time.Unix(1700000000, 0)}, {Text: "y"}}}
	return []journalStep{
		{"register", func() error { return s.Register(ctx, account("jr-a")) }, nil, ch('c', "jr-a", nil, nil)},
		{"add v1", func() error { return s.AddTXT(ctx, "jr-a", "v1", 2, 0) }, nil, ch('t', "jr-a", nil, []string{"v1"})},
		{"add v2", func() error { return s.AddTXT(ctx, "jr-a", "v2", 2, 0) }, nil, ch('t', "jr-a", []string{"v1"}, []string{"v2", "v1"})},
		{"set password", func() error { _, err := s.SetPassword(ctx, "jr-a", []byte("h2")); return err }, nil, nil},
		{"set allowfrom", func() error { _, err := s.SetAllowFrom(ctx, "jr-a", nil); return err }, nil, nil},
		{"clear", func() error { return s.ClearTXT(ctx, "jr-a") }, nil, ch('t', "jr-a", []string{"v2", "v1"}, nil)},
		{"register taken", func() error { return s.Register(ctx, account("jr-a")) }, store.ErrExists, nil},
		{"username taken", func() error { return s.Create(ctx, store.Record{Account: taken}) }, store.ErrUsernameTaken, nil},
		{"create", func() error { return s.Create(ctx, rec) }, nil, ch('c', "jr-b", nil, []string{"x", "y"})},
		{"add unregistered", func() error { return s.AddTXT(ctx, "jr-none", "v", 2, 0) }, store.ErrNotFound, nil},
		{"clear unregistered", func() error { return s.ClearTXT(ctx, "jr-none") }, store.ErrNotFound, nil},
		{"delete unregistered", func() error { return s.Delete(ctx, "jr-none") }, store.ErrNotFound, nil},
		{"password unregistered", func() error { _, err := s.SetPassword(ctx, "jr-none", []byte("h")); return err }, store.ErrNotFound, nil},
		{"bad value", func() error { return s.AddTXT(ctx, "jr-a", "has space", 2, 0) }, errAnyFailure, nil},
		{"delete", func() error { return s.Delete(ctx, "jr-b") }, nil, ch('d', "jr-b", []string{"x", "y"}, nil)},
	}
}

var journalSuite = []journalCase{
	{"every change moves the serial by one", func(t *testing.T, ctx context.Context, e journalEnv) {
		start := serialOf(t, ctx, e.j)
		var want []store.Change
		for _, st := range journalSteps(ctx, e.s) {
			before := serialOf(t, ctx, e.j)
			err := st.write()
			if st.err == errAnyFailure && err == nil || st.err != errAnyFailure && !errors.Is(err, st.err) {
				t.Fatalf("%s: %v; want %v", st.name, err, st.err)
			}
			after := before
			if st.want != nil {
				after++
				c := *st.want
				c.Serial = after
				want = append(want, c)
			}
			if got := serialOf(t, ctx, e.j); got != after {
				t.Fatalf("%s: serial %d, was %d; want %d", st.name, got, before, after)
			}
		}
		got := changesSince(t, ctx, e.j, start, start+uint32(len(want)))
		if !slices.EqualFunc(got, want, sameChange) {
			t.Fatalf("Changes(%d) =\n%+v\nwant\n%+v", start, got, want)
		}
		if mid := changesSince(t, ctx, e.j, start+2, start+uint32(len(want))); !slices.EqualFunc(mid, want[2:], sameChange) {
			t.Fatalf("Changes(%d) = %+v; want %+v", start+2, mid, want[2:])
		}
	}},
	{"from the current serial", func(t *testing.T, ctx context.Context, e journalEnv) {
		cur := serialOf(t, ctx, e.j)
		if changes := changesSince(t, ctx, e.j, cur, cur); changes == nil || len(changes) != 0 {
			t.Fatalf("Changes(current) = %#v; want empty", changes)
		}
	}},
	{"from a serial not older", func(t *testing.T, ctx context.Context, e journalEnv) {
		cur := serialOf(t, ctx, e.j)
		for _, ahead := range []uint32{1, 2, 1<<31 - 1, 1 << 31} {
			noChanges(t, ctx, e.j, cur+ahead, fmt.Sprintf("%d ahead", ahead))
		}
	}},
	{"more changes behind than the limit", func(t *testing.T, ctx context.Context, e journalEnv) {
		start := serialOf(t, ctx, e.j)
		for _, sub := range []string{"jr-lim-a", "jr-lim-b", "jr-lim-c"} {
			if err := e.s.Register(ctx, account(sub)); err != nil {
				t.Fatal(err)
			}
		}
		if changes, cur, ok, err := e.j.Changes(ctx, start, 3); err != nil || !ok || len(changes) != 3 || cur != start+3 {
			t.Fatalf("Changes(%d, 3) = %d changes, serial %d, ok %v, %v; want the 3", start, len(changes), cur, ok, err)
		}
		changes, cur, ok, err := e.j.Changes(ctx, start, 2)
		if err != nil || ok || changes != nil || cur != start+3 {
			t.Fatalf("Changes(%d, 2) = %v, serial %d, ok %v, %v; want not ok at %d", start, changes, cur, ok, err, start+3)
		}
		if changes, _, ok, err := e.j.Changes(ctx, start+3, 0); err != nil || !ok || len(changes) != 0 {
			t.Fatalf("Changes(current, 0) = %v, ok %v, %v; want empty", changes, ok, err)
		}
	}},
	{"from before the journal", func(t *testing.T, ctx context.Context, e journalEnv) {
		cur := serialOf(t, ctx, e.j)
		changesSince(t, ctx, e.j, e.initial, cur) // every change since the store began
		noChanges(t, ctx, e.j, e.initial-1, "before the first change")
		noChanges(t, ctx, e.j, cur-(1<<31-1), "the oldest serial still older")
	}},
	{"concurrent changes are each journaled once", func(t *testing.T, ctx context.Context, e journalEnv) {
		if err := e.s.Register(ctx, account("jr-conc")); err != nil {
			t.Fatal(err)
		}
		start := serialOf(t, ctx, e.j)
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() { e.s.AddTXT(ctx, "jr-conc", fmt.Sprintf("v%d", i), 2, 0) })
			wg.Go(func() { e.s.Register(ctx, account(fmt.Sprintf("jr-conc-%d", i))) })
		}
		wg.Wait()
		changes := changesSince(t, ctx, e.j, start, start+16)
		kinds := map[store.ChangeKind]int{}
		for _, c := range changes {
			kinds[c.Kind]++
		}
		if kinds['t'] != 8 || kinds['c'] != 8 {
			t.Fatalf("16 concurrent changes journaled as %v", kinds)
		}
	}},
}

// journalRestart: the serial and the journal survive a restart.
func journalRestart(t *testing.T, ctx context.Context, s store.Store, reopen func() store.Store) {
	if err := s.Register(ctx, account("jr-durable")); err != nil {
		t.Fatal(err)
	}
	j := s.(store.Journal)
	before := serialOf(t, ctx, j)
	j2 := reopen().(store.Journal)
	if after := serialOf(t, ctx, j2); after != before {
		t.Fatalf("serial %d after restart; was %d", after, before)
	}
	c := changesSince(t, ctx, j2, before-1, before)
	if len(c) != 1 || c[0].Kind != store.ChangeCreated || c[0].Subdomain != "jr-durable" {
		t.Fatalf("after restart the last change is %+v", c)
	}
}

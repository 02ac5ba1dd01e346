package store_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// Persistent records of the tests, of four issuers and a fifth.
const (
	persistA  = "ca.example; accounturi=https://ca.example/acct/1"
	persistA2 = "CA.Example; accounturi=https://ca.example/acct/2; policy=wildcard"
	persistB  = "b.example; accounturi=https://b.example/acct/1"
	persistC  = "c.example; accounturi=https://c.example/acct/1"
	persistD  = "d.example; accounturi=https://d.example/acct/1"
	persistE  = "e.example; accounturi=https://e.example/acct/1"
)

// TestPersistConformance runs the persistent records' suite on every
// backend.
func TestPersistConformance(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			s, _ := b.open(t)
			ctx := context.Background()
			for _, tc := range persistSuite {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, ctx, s) })
			}
		})
	}
}

var persistSuite = []suiteCase{
	{"set, replace, limit and remove", persistSetRemove},
	{"dns-01 values never rotate them out", persistBesideTXT},
	{"journaled with the dns-01 values", persistJournal},
	{"long values and deletion", persistLongAndDelete},
}

// served fails unless TXT(sub) is the dns-01 values txt, newest first,
// then the persistent records persist, flagged, and Record agrees.
func served(t *testing.T, ctx context.Context, s store.Store, sub string, txt, persist []string) {
	t.Helper()
	got, err := s.TXT(ctx, sub)
	if err != nil {
		t.Fatalf("TXT(%s): %v", sub, err)
	}
	var gotTXT, gotPersist []string
	for _, v := range got {
		if v.Persist {
			gotPersist = append(gotPersist, v.Text)
		} else if gotPersist != nil {
			t.Fatalf("TXT(%s) = %v: a dns-01 value after a persistent record", sub, got)
		} else {
			gotTXT = append(gotTXT, v.Text)
		}
	}
	if !slices.Equal(gotTXT, txt) || !slices.Equal(gotPersist, persist) {
		t.Fatalf("TXT(%s) = %+v; want %q then persistent %q", sub, got, txt, persist)
	}
	rec, err := s.Record(ctx, sub)
	if err != nil || !slices.Equal(texts(rec.TXT), txt) || !slices.Equal(rec.Persist, persist) {
		t.Fatalf("Record(%s) = %+v, %v; want TXT %q, Persist %q", sub, rec, err, txt, persist)
	}
}

// setPersist stores record in sub.
func setPersist(t *testing.T, ctx context.Context, s store.Store, sub, record string) {
	t.Helper()
	if err := s.SetPersist(ctx, sub, record); err != nil {
		t.Fatalf("SetPersist(%s, %q): %v", sub, record, err)
	}
}

// sameSerial fails unless the serial is still before.
func sameSerial(t *testing.T, ctx context.Context, s store.Store, before uint32, what string) {
	t.Helper()
	if after := serialOf(t, ctx, s); after != before {
		t.Fatalf("%s moved the serial from %d to %d", what, before, after)
	}
}

func persistSetRemove(t *testing.T, ctx context.Context, s store.Store) {
	if err := s.Register(ctx, account("ps-a")); err != nil {
		t.Fatal(err)
	}
	setPersist(t, ctx, s, "ps-a", persistA)
	served(t, ctx, s, "ps-a", nil, []string{persistA})
	before := serialOf(t, ctx, s)
	setPersist(t, ctx, s, "ps-a", persistA)
	sameSerial(t, ctx, s, before, "storing the same record again")
	setPersist(t, ctx, s, "ps-a", persistA2) // the same issuer, in another case
	served(t, ctx, s, "ps-a", nil, []string{persistA2})
	for _, r := range []string{persistB, persistC, persistD} {
		setPersist(t, ctx, s, "ps-a", r)
	}
	four := []string{persistA2, persistB, persistC, persistD}
	served(t, ctx, s, "ps-a", nil, four)
	before = serialOf(t, ctx, s)
	if err := s.SetPersist(ctx, "ps-a", persistE); !errors.Is(err, store.ErrTooManyPersist) {
		t.Fatalf("a fifth issuer: %v; want ErrTooManyPersist", err)
	}
	sameSerial(t, ctx, s, before, "a refused fifth issuer")
	setPersist(t, ctx, s, "ps-a", persistB+"; policy=wildcard") // replacing is not adding
	served(t, ctx, s, "ps-a", nil, []string{persistA2, persistB + "; policy=wildcard", persistC, persistD})
	if removed, err := s.RemovePersist(ctx, "ps-a", "Ca.EXAMPLE"); !removed || err != nil {
		t.Fatalf("RemovePersist = %v, %v; want true", removed, err)
	}
	before = serialOf(t, ctx, s)
	if removed, err := s.RemovePersist(ctx, "ps-a", "ca.example"); removed || err != nil {
		t.Fatalf("RemovePersist again = %v, %v; want false, nil", removed, err)
	}
	sameSerial(t, ctx, s, before, "removing an absent record")
	served(t, ctx, s, "ps-a", nil, []string{persistB + "; policy=wildcard", persistC, persistD})
	if err := s.SetPersist(ctx, "ps-none", persistA); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetPersist on an unregistered subdomain: %v", err)
	}
	if _, err := s.RemovePersist(ctx, "ps-none", "ca.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RemovePersist on an unregistered subdomain: %v", err)
	}
	if err := s.SetPersist(ctx, "ps-a", "no issuer"); err == nil {
		t.Fatal("SetPersist stored a value without ';'")
	}
}

// persistBesideTXT: AddTXT keeping one value, with an expiry, and ClearTXT
// leave the persistent records, which Create ignores.
func persistBesideTXT(t *testing.T, ctx context.Context, s store.Store) {
	if err := s.Register(ctx, account("ps-b")); err != nil {
		t.Fatal(err)
	}
	setPersist(t, ctx, s, "ps-b", persistA)
	for _, v := range []string{"tok-1", "tok-2", "tok-3"} {
		if err := s.AddTXT(ctx, "ps-b", v, 1, time.Nanosecond); err != nil {
			t.Fatal(err)
		}
	}
	served(t, ctx, s, "ps-b", []string{"tok-3"}, []string{persistA})
	if err := s.AddTXT(ctx, "ps-b", "tok-4", 2, 0); err != nil {
		t.Fatal(err)
	}
	served(t, ctx, s, "ps-b", []string{"tok-4", "tok-3"}, []string{persistA})
	if err := s.ClearTXT(ctx, "ps-b"); err != nil {
		t.Fatal(err)
	}
	served(t, ctx, s, "ps-b", nil, []string{persistA})
	rec := store.Record{Account: account("ps-c"), Persist: []string{persistA}}
	if err := s.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	served(t, ctx, s, "ps-c", nil, nil)
}

// persistJournal: each change of the persistent records moves the serial
// by one and is journaled with the whole RRset, dns-01 values first.
func persistJournal(t *testing.T, ctx context.Context, s store.Store) {
	if err := s.Register(ctx, account("ps-j")); err != nil {
		t.Fatal(err)
	}
	if err := s.AddTXT(ctx, "ps-j", "tok-j", 2, 0); err != nil {
		t.Fatal(err)
	}
	from := serialOf(t, ctx, s)
	setPersist(t, ctx, s, "ps-j", persistA)
	if err := s.AddTXT(ctx, "ps-j", "tok-k", 2, 0); err != nil {
		t.Fatal(err)
	}
	setPersist(t, ctx, s, "ps-j", persistB)
	if _, err := s.RemovePersist(ctx, "ps-j", "ca.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.ClearTXT(ctx, "ps-j"); err != nil {
		t.Fatal(err)
	}
	want := [][2][]string{
		{{"tok-j"}, {"tok-j", persistA}},
		{{"tok-j", persistA}, {"tok-k", "tok-j", persistA}},
		{{"tok-k", "tok-j", persistA}, {"tok-k", "tok-j", persistA, persistB}},
		{{"tok-k", "tok-j", persistA, persistB}, {"tok-k", "tok-j", persistB}},
		{{"tok-k", "tok-j", persistB}, {persistB}},
	}
	got := changesSince(t, ctx, s, from, from+uint32(len(want)))
	for i, c := range got {
		if c.Kind != store.ChangeTXT || c.Subdomain != "ps-j" || !slices.Equal(c.Old, want[i][0]) || !slices.Equal(c.New, want[i][1]) {
			t.Fatalf("change %d = %+v; want %q -> %q", i, c, want[i][0], want[i][1])
		}
	}
}

// persistLongAndDelete: a record of MaxPersistLen octets round-trips, and
// a deletion journals the persistent records as removed.
func persistLongAndDelete(t *testing.T, ctx context.Context, s store.Store) {
	if err := s.Register(ctx, account("ps-l")); err != nil {
		t.Fatal(err)
	}
	long := "ca.example; accounturi=https://ca.example/" + strings.Repeat("x", store.MaxPersistLen-42)
	if len(long) != store.MaxPersistLen {
		t.Fatalf("the long record is %d octets", len(long))
	}
	setPersist(t, ctx, s, "ps-l", long)
	if err := s.SetPersist(ctx, "ps-l", long+"x"); err == nil {
		t.Fatal("SetPersist stored a record over MaxPersistLen")
	}
	served(t, ctx, s, "ps-l", nil, []string{long})
	from := serialOf(t, ctx, s)
	if err := s.Delete(ctx, "ps-l"); err != nil {
		t.Fatal(err)
	}
	c := changesSince(t, ctx, s, from, from+1)[0]
	if c.Kind != store.ChangeDeleted || !slices.Equal(c.Old, []string{long}) || len(c.New) != 0 {
		t.Fatalf("deletion journaled %+v", c)
	}
}

package store

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestSerialLess(t *testing.T) {
	tests := []struct {
		a, b uint32
		want bool
	}{
		{5, 5, false},
		{5, 6, true},
		{6, 5, false},
		{0xFFFFFFFF, 0, true},
		{0, 0xFFFFFFFF, false},
		{0, 0x7FFFFFFF, true},  // the farthest newer
		{0, 0x80000000, false}, // undefined in RFC 1982: neither is older
		{0x80000000, 0, false},
		{0xFFFFFFF0, 0x10, true},
		{1700000000, 1700000001, true},
	}
	for _, tc := range tests {
		if got := SerialLess(tc.a, tc.b); got != tc.want {
			t.Errorf("SerialLess(%#x, %#x) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestEncodeDecodeChange(t *testing.T) {
	tests := []struct {
		counter  uint64
		kind     ChangeKind
		sub      string
		old, new []string
		form     string
	}{
		{1700000001, ChangeCreated, "a", nil, nil, "1700000001\tc\ta\t\t"},
		{1700000002, ChangeCreated, "b", nil, []string{"x", "y"}, "1700000002\tc\tb\t\tx y"},
		{1700000003, ChangeTXT, "a", []string{"v1"}, []string{"v2", "v1"}, "1700000003\tt\ta\tv1\tv2 v1"},
		{1700000004, ChangeTXT, "a", []string{"v2", "v1"}, []string{}, "1700000004\tt\ta\tv2 v1\t"},
		{1 << 32, ChangeDeleted, "b", []string{"x", "y"}, nil, "4294967296\td\tb\tx y\t"},
	}
	for _, tc := range tests {
		form := encodeChange(tc.counter, tc.kind, tc.sub, tc.old, tc.new)
		if form != tc.form {
			t.Errorf("encodeChange = %q; want %q", form, tc.form)
		}
		counter, c, err := decodeChange(form)
		if err != nil || counter != tc.counter || c.Serial != uint32(tc.counter) || c.Kind != tc.kind ||
			c.Subdomain != tc.sub || !slices.Equal(c.Old, tc.old) || !slices.Equal(c.New, tc.new) {
			t.Errorf("decodeChange(%q) = %d, %+v, %v", form, counter, c, err)
		}
		if c.Old == nil || c.New == nil {
			t.Errorf("decodeChange(%q) has a nil side: %+v", form, c)
		}
	}
	for _, bad := range []string{"", "1\tc\ta\t", "1\tc\ta\t\t\t", "x\tc\ta\t\t", "1\tcc\ta\t\t", "1\t\ta\t\t", "-1\tc\ta\t\t"} {
		if _, _, err := decodeChange(bad); err == nil {
			t.Errorf("decodeChange(%q) accepted", bad)
		}
	}
}

func TestPendingChanges(t *testing.T) {
	entry := func(n uint64) string { return encodeChange(n, ChangeTXT, "s", nil, []string{"v"}) }
	tests := []struct {
		name    string
		entries []string
		from    uint32
		current uint64
		ok      bool
	}{
		{"all of them", []string{entry(11), entry(12), entry(13)}, 10, 13, true},
		{"across the 32-bit wrap", []string{entry(1<<32 - 1), entry(1 << 32), entry(1<<32 + 1)}, 0xFFFFFFFE, 1<<32 + 1, true},
		{"one missing", []string{entry(11), entry(13)}, 10, 13, false},
		{"a counter skipped", []string{entry(11), entry(13), entry(14)}, 10, 13, false},
		{"not ending at current", []string{entry(10), entry(11), entry(12)}, 9, 13, false},
		{"too few", []string{entry(12), entry(13)}, 10, 13, false},
		{"none for a newer from", nil, 14, 13, false},
		{"more lacking than ever counted", []string{entry(1), entry(2)}, 0xFFFFFFFF, 1, false},
	}
	for _, tc := range tests {
		changes, ok, err := pendingChanges(tc.entries, tc.from, tc.current)
		if err != nil || ok != tc.ok {
			t.Errorf("%s: ok %v, %v; want %v", tc.name, ok, err, tc.ok)
			continue
		}
		for i, c := range changes {
			if want := tc.from + uint32(i) + 1; c.Serial != want {
				t.Errorf("%s: change %d has serial %d; want %d", tc.name, i, c.Serial, want)
			}
		}
	}
	if _, _, err := pendingChanges([]string{"garbage"}, 10, 11); err == nil {
		t.Error("a corrupt entry is no error")
	}
}

func TestJournalSpan(t *testing.T) {
	tests := []struct {
		from    uint32
		current uint64
		limit   int
		lacking uint32
		older   bool
	}{
		{10, 13, 100, 3, true},
		{10, 13, 3, 3, true},
		{10, 13, 2, 0, false},
		{10, 13, 0, 0, false},
		{13, 13, 100, 0, false},
		{14, 13, 100, 0, false},
		{0xFFFFFFFF, 1 << 32, 100, 1, true},
		{10, 10 + 1<<31, 1 << 40, 0, false},
	}
	for _, tc := range tests {
		if lacking, older := journalSpan(tc.from, tc.current, tc.limit); lacking != tc.lacking || older != tc.older {
			t.Errorf("journalSpan(%d, %d, %d) = %d, %v; want %d, %v", tc.from, tc.current, tc.limit, lacking, older, tc.lacking, tc.older)
		}
	}
}

// openTestBolt opens a Bolt store in a temporary directory.
func openTestBolt(t *testing.T, opts BoltOptions) *Bolt {
	t.Helper()
	b, err := OpenBolt(filepath.Join(t.TempDir(), "acmedns.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestBoltJournalGap: a journal that lacks a change, or a counter that
// moved without one, answers that it cannot tell.
func TestBoltJournalGap(t *testing.T) {
	ctx := context.Background()
	b := openTestBolt(t, BoltOptions{})
	if err := b.Register(ctx, testAccount("gap")); err != nil {
		t.Fatal(err)
	}
	s0, _ := b.Serial(ctx)
	for _, v := range []string{"a", "b", "c"} {
		if err := b.AddTXT(ctx, "gap", v, 2, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, ok, err := b.Changes(ctx, s0, DefaultJournalSize); !ok || err != nil {
		t.Fatalf("Changes before the gap: %v, %v", ok, err)
	}
	counter := func() uint64 {
		var c uint64
		b.db.View(func(tx *bolt.Tx) error { c, _ = readCounter(tx); return nil })
		return c
	}()
	b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(journalBucket).Delete(counterKey(counter - 1)) })
	if _, _, ok, err := b.Changes(ctx, s0, DefaultJournalSize); ok || err != nil {
		t.Errorf("Changes over a missing entry: %v, %v; want not ok", ok, err)
	}
	if c, _, ok, err := b.Changes(ctx, s0+2, DefaultJournalSize); !ok || err != nil || len(c) != 1 {
		t.Errorf("Changes after the missing entry: %v, %v, %v", c, ok, err)
	}
	b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(zoneBucket).Put(serialKey, counterKey(counter+1)) })
	if c, cur, ok, err := b.Changes(ctx, s0+3, DefaultJournalSize); ok || err != nil || cur != s0+4 {
		t.Errorf("Changes over a skipped counter: %v, %d, %v, %v; want not ok at %d", c, cur, ok, err, s0+4)
	}
	if c, cur, ok, err := b.Changes(ctx, s0+4, DefaultJournalSize); !ok || err != nil || len(c) != 0 || cur != s0+4 {
		t.Errorf("Changes from the current serial after the gap: %v, %d, %v, %v", c, cur, ok, err)
	}
}

// TestBoltJournalAtomic: a change whose journal step fails is not made.
func TestBoltJournalAtomic(t *testing.T) {
	ctx := context.Background()
	b := openTestBolt(t, BoltOptions{CacheSize: 100})
	if err := b.Register(ctx, testAccount("atomic")); err != nil {
		t.Fatal(err)
	}
	b.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(zoneBucket).Put(serialKey, []byte("bad")) })
	if err := b.AddTXT(ctx, "atomic", "v", 2, 0); !errors.Is(err, errCorruptSerial) {
		t.Fatalf("AddTXT with a corrupt serial = %v", err)
	}
	if err := b.Delete(ctx, "atomic"); !errors.Is(err, errCorruptSerial) {
		t.Fatalf("Delete with a corrupt serial = %v", err)
	}
	if err := b.Register(ctx, testAccount("atomic-2")); !errors.Is(err, errCorruptSerial) {
		t.Fatalf("Register with a corrupt serial = %v", err)
	}
	if got, err := b.TXT(ctx, "atomic"); err != nil || len(got) != 0 {
		t.Errorf("TXT after the failed AddTXT = %v, %v", got, err)
	}
	if _, err := b.TXT(ctx, "atomic-2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("the failed Register registered: %v", err)
	}
	if _, err := b.Serial(ctx); !errors.Is(err, errCorruptSerial) {
		t.Errorf("Serial = %v", err)
	}
}

// TestBoltJournalTrim: the journal bucket holds at most the bound, also
// after a reopen with a smaller one.
func TestBoltJournalTrim(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "acmedns.db")
	entries := func(b *Bolt) (n int) {
		b.db.View(func(tx *bolt.Tx) error {
			n = tx.Bucket(journalBucket).Stats().KeyN
			return nil
		})
		return n
	}
	for _, size := range []int{5, 2} {
		b, err := OpenBolt(path, BoltOptions{JournalSize: size})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 7 {
			sub := "trim-" + string(rune('a'+i)) + string(rune('0'+size))
			if err := b.Register(ctx, testAccount(sub)); err != nil {
				t.Fatal(err)
			}
		}
		if n := entries(b); n != size {
			t.Errorf("JournalSize %d: %d entries", size, n)
		}
		b.Close()
	}
}

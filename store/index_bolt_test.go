package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

func testAccount(sub string) Account {
	return Account{Username: "user-" + sub, PasswordHash: []byte("hash-" + sub), Subdomain: sub}
}

// TestBoltIndex: reopened, the embedded store has an index of what the file
// holds, answers random names from it without a read transaction, and adds
// what it registers.
func TestBoltIndex(t *testing.T) {
	for _, cacheSize := range []int{0, 1000} {
		t.Run(fmt.Sprintf("cache %d", cacheSize), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "acmedns.db")
			b, err := OpenBolt(path, BoltOptions{CacheSize: cacheSize})
			if err != nil {
				t.Fatal(err)
			}
			var subs []string
			for i := range 50 {
				subs = append(subs, fmt.Sprintf("before-%d", i))
				if err := b.Register(ctx, testAccount(subs[i])); err != nil {
					t.Fatal(err)
				}
			}
			b.Close()

			b, err = OpenBolt(path, BoltOptions{CacheSize: cacheSize})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if !b.IndexTrusted() || b.IndexLen() != len(subs) || b.IndexLoads() != 1 {
				t.Fatalf("index at open: trusted %v, len %d, loads %d", b.IndexTrusted(), b.IndexLen(), b.IndexLoads())
			}
			reads := b.db.Stats().TxN
			for i := range 100 {
				if _, err := b.TXT(ctx, fmt.Sprintf("junk-%d", i)); !errors.Is(err, ErrNotFound) {
					t.Fatalf("random name: %v", err)
				}
			}
			if n := b.db.Stats().TxN - reads; n != 0 {
				t.Errorf("random names cost %d read transactions", n)
			}
			if err := b.Register(ctx, testAccount("after")); err != nil {
				t.Fatal(err)
			}
			for _, sub := range append(subs, "after") {
				if got, err := b.TXT(ctx, sub); err != nil || got == nil || len(got) != 0 {
					t.Fatalf("TXT(%s) = %#v, %v", sub, got, err)
				}
			}
			if b.IndexLen() != len(subs)+1 {
				t.Errorf("IndexLen = %d after a registration", b.IndexLen())
			}
			if err := b.Delete(ctx, "after"); err != nil {
				t.Fatal(err)
			}
			reads = b.db.Stats().TxN
			if _, err := b.TXT(ctx, "after"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("TXT after Delete: %v", err)
			}
			if n := b.db.Stats().TxN - reads; n != 0 || b.IndexLen() != len(subs) {
				t.Errorf("after Delete: IndexLen %d, a lookup cost %d read transactions", b.IndexLen(), n)
			}
		})
	}
}

// TestBoltIndexFailedRegistration: a registration that writes nothing
// leaves the index alone.
func TestBoltIndexFailedRegistration(t *testing.T) {
	b, err := OpenBolt(filepath.Join(t.TempDir(), "acmedns.db"), BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.Register(ctx, testAccount("cancelled")); err == nil {
		t.Fatal("Register with a cancelled context succeeded")
	}
	if b.index.has("cancelled") || b.IndexLen() != 0 {
		t.Fatal("a registration that wrote nothing is in the index")
	}
}

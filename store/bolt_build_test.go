package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// writeOldFile writes a bbolt file as an earlier release left it: n
// accounts and their TXT values, without the usernames' bucket, the zone,
// journal or expiry buckets. Accounts 0 and 1 share a username.
func writeOldFile(tb testing.TB, path string, n int) {
	tb.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		accts, _ := tx.CreateBucket(accountsBucket)
		txt, _ := tx.CreateBucket(txtV2Bucket)
		for i := range n {
			sub := fmt.Sprintf("%08x-old", uint32(i)*2654435761) // keys in random order
			user := fmt.Sprintf("user-%08x", uint32(i)*40503)
			if i == 1 {
				user = fmt.Sprintf("user-%08x", 0)
			}
			a, _ := json.Marshal(boltAccount{Username: user, Password: []byte("x")})
			v, _ := json.Marshal([]boltValue{{Text: "v", Set: int64(1000 + i)}})
			if err := accts.Put([]byte(sub), a); err != nil {
				return err
			}
			if err := txt.Put([]byte(sub), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// TestBoltUpgradeBuildsBuckets: opening an earlier release's file builds
// the usernames' bucket (the first account of a shared username keeps it)
// and the expiry index, in key order.
func TestBoltUpgradeBuildsBuckets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	writeOldFile(t, path, 1000)
	b, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.db.View(func(tx *bolt.Tx) error {
		if got := tx.Bucket(usersBucket).Stats().KeyN; got != 999 {
			t.Errorf("%d usernames, want 999 (two accounts share one)", got)
		}
		first := fmt.Sprintf("%08x-old", uint32(0))
		if got := string(tx.Bucket(usersBucket).Get([]byte("user-00000000"))); got != first {
			t.Errorf("the shared username names %q", got)
		}
		if got := tx.Bucket(expiryBucket).Stats().KeyN; got != 1000 {
			t.Errorf("%d expiry entries, want 1000", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkBoltOpenUpgrade opens an earlier release's file of 100,000
// accounts, building the usernames' bucket and the expiry index. Built in
// random key order this was quadratic (over five minutes at a million
// accounts); in key order, seconds.
func BenchmarkBoltOpenUpgrade(b *testing.B) {
	dir := b.TempDir()
	for i := range b.N {
		path := filepath.Join(dir, fmt.Sprintf("old-%d.db", i))
		b.StopTimer()
		writeOldFile(b, path, 100000)
		b.StartTimer()
		s, err := OpenBolt(path, BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

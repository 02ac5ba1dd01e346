package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// TestBlobs checks the blob and lock semantics on the embedded store, a
// standalone Redis and a Redis Cluster, and that blobs survive a restart.
func TestBlobs(t *testing.T) {
	for _, b := range []backend{{"bolt", boltBackend(0)}, {"redis", redisBackend(0)}, {"redis cluster", clusterBackend}} {
		t.Run(b.name, func(t *testing.T) {
			s, reopen := b.open(t)
			ctx := context.Background()
			bl := s.(store.Blobs)
			t.Run("put get list delete", func(t *testing.T) { blobRoundTrip(t, ctx, bl) })
			t.Run("lock", func(t *testing.T) { blobLock(t, ctx, bl) })
			if err := bl.PutBlob(ctx, "durable", []byte("kept")); err != nil {
				t.Fatal(err)
			}
			v, _, err := reopen().(store.Blobs).GetBlob(ctx, "durable")
			if err != nil || string(v) != "kept" {
				t.Fatalf("after restart: %q, %v", v, err)
			}
		})
	}
}

func blobRoundTrip(t *testing.T, ctx context.Context, bl store.Blobs) {
	if _, _, err := bl.GetBlob(ctx, "certs/a"); !errors.Is(err, store.ErrNoBlob) {
		t.Fatalf("GetBlob of nothing: %v, want ErrNoBlob", err)
	}
	before := time.Now()
	value := []byte("-----BEGIN\x00binary:\xff")
	for _, n := range []string{"certs/b", "certs/a", "certs/a/x", "certsz", "other"} {
		if err := bl.PutBlob(ctx, n, value); err != nil {
			t.Fatal(err)
		}
	}
	v, mtime, err := bl.GetBlob(ctx, "certs/a")
	if err != nil || string(v) != string(value) {
		t.Fatalf("GetBlob = %q, %v", v, err)
	}
	if mtime.Before(before.Add(-time.Second)) || mtime.After(time.Now().Add(time.Second)) {
		t.Fatalf("modified %v, want about %v", mtime, before)
	}
	names, err := bl.BlobNames(ctx, "certs/")
	if want := []string{"certs/a", "certs/a/x", "certs/b"}; err != nil || !slices.Equal(names, want) {
		t.Fatalf("BlobNames = %q, %v, want %q", names, err, want)
	}
	if err := bl.DeleteBlob(ctx, "certs/a"); err != nil {
		t.Fatal(err)
	}
	if err := bl.DeleteBlob(ctx, "certs/a"); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if _, _, err := bl.GetBlob(ctx, "certs/a"); !errors.Is(err, store.ErrNoBlob) {
		t.Fatalf("GetBlob after delete: %v", err)
	}
	names, err = bl.BlobNames(ctx, "certs/")
	if want := []string{"certs/a/x", "certs/b"}; err != nil || !slices.Equal(names, want) {
		t.Fatalf("BlobNames after delete = %q, %v, want %q", names, err, want)
	}
	if names, err := bl.BlobNames(ctx, "none/"); err != nil || len(names) != 0 {
		t.Fatalf("BlobNames of nothing = %q, %v", names, err)
	}
}

// blobLock: one holder at a time; the holder extends its lease; a lock
// whose holder stopped renewing it (it died) expires and can be taken; a
// former holder's Unlock does not free its successor's lock.
func blobLock(t *testing.T, ctx context.Context, bl store.Blobs) {
	lock := func(token string, ttl time.Duration) bool {
		t.Helper()
		ok, err := bl.Lock(ctx, "issue", token, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lock("a", 300*time.Millisecond) {
		t.Fatal("a free lock was refused")
	}
	if lock("b", time.Minute) {
		t.Fatal("b took a's lock")
	}
	time.Sleep(200 * time.Millisecond)
	if !lock("a", 300*time.Millisecond) {
		t.Fatal("a could not extend its own lock")
	}
	time.Sleep(200 * time.Millisecond)
	if lock("b", time.Minute) {
		t.Fatal("b took a lock a had extended")
	}
	time.Sleep(300 * time.Millisecond) // a died: no more renewals
	if !lock("b", time.Minute) {
		t.Fatal("b could not take a's expired lock")
	}
	if err := bl.Unlock(ctx, "issue", "a"); err != nil {
		t.Fatal(err)
	}
	if lock("a", time.Minute) {
		t.Fatal("a's late Unlock freed b's lock")
	}
	if err := bl.Unlock(ctx, "issue", "b"); err != nil {
		t.Fatal(err)
	}
	if !lock("a", time.Minute) {
		t.Fatal("the lock b freed was refused")
	}
	if err := bl.Unlock(ctx, "issue", "a"); err != nil {
		t.Fatal(err)
	}
}

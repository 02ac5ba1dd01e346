package autotls

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// backends returns the blobs of an embedded store and of a real Redis.
func backends(t *testing.T) map[string]func(t *testing.T) store.Blobs {
	return map[string]func(t *testing.T) store.Blobs{
		"bolt": func(t *testing.T) store.Blobs {
			s, err := store.OpenBolt(filepath.Join(t.TempDir(), "acmedns.db"), store.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"redis": func(t *testing.T) store.Blobs {
			srv := redistest.Start(t)
			s := store.NewRedis(redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr}}), store.RedisOptions{Prefix: "test:"})
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

func TestStorage(t *testing.T) {
	for name, open := range backends(t) {
		t.Run(name, func(t *testing.T) {
			s := NewStorage(open(t), time.Second)
			defer s.Close()
			ctx := context.Background()
			t.Run("keys", func(t *testing.T) { storageKeys(t, ctx, s) })
			t.Run("lock", func(t *testing.T) { storageLock(t, ctx, s) })
		})
	}
}

func storageKeys(t *testing.T, ctx context.Context, s *Storage) {
	if _, err := s.Load(ctx, "acme/a.crt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of nothing: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "acme"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Stat of nothing: %v, want fs.ErrNotExist", err)
	}
	if _, err := s.List(ctx, "acme", true); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("List of nothing: %v, want fs.ErrNotExist", err)
	}
	for _, k := range []string{"acme/ca/users/a/a.json", "acme/ca/users/a/a.key", "acme/ca/sites/x/x.crt", "acmez/other"} {
		if err := s.Store(ctx, k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := s.Load(ctx, "acme/ca/sites/x/x.crt"); err != nil || string(v) != "acme/ca/sites/x/x.crt" {
		t.Fatalf("Load = %q, %v", v, err)
	}
	if !s.Exists(ctx, "acme/ca/users") || !s.Exists(ctx, "acme/ca/users/a/a.key") || s.Exists(ctx, "acme/c") {
		t.Fatal("Exists is wrong")
	}
	if ki, err := s.Stat(ctx, "acme/ca/users/a/a.key"); err != nil || !ki.IsTerminal || ki.Size != 21 || time.Since(ki.Modified) > time.Minute {
		t.Fatalf("Stat of a key = %+v, %v", ki, err)
	}
	if ki, err := s.Stat(ctx, "acme/ca"); err != nil || ki.IsTerminal {
		t.Fatalf("Stat of a directory = %+v, %v", ki, err)
	}
	keys, err := s.List(ctx, "acme/ca", false)
	if want := []string{"acme/ca/sites", "acme/ca/users"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("List = %q, %v, want %q", keys, err, want)
	}
	keys, err = s.List(ctx, "acme/ca/users/", true)
	if want := []string{"acme/ca/users/a/a.json", "acme/ca/users/a/a.key"}; err != nil || !slices.Equal(keys, want) {
		t.Fatalf("List recursive = %q, %v, want %q", keys, err, want)
	}
	if err := s.Delete(ctx, "acme/ca/users"); err != nil {
		t.Fatal(err)
	}
	if s.Exists(ctx, "acme/ca/users/a/a.json") || !s.Exists(ctx, "acme/ca/sites/x/x.crt") || !s.Exists(ctx, "acmez/other") {
		t.Fatal("Delete of a directory removed the wrong keys")
	}
}

// storageLock: a second holder waits; one whose holder died (stopped
// renewing without unlocking) gets the lock once it expires; a live holder
// keeps its lock past the TTL by renewing it.
func storageLock(t *testing.T, ctx context.Context, s *Storage) {
	other := NewStorage(s.blobs, time.Second)
	defer other.Close()
	if err := s.Lock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
	defer cancel()
	if err := other.Lock(short, "issue_cert_x"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a live holder's lock was taken after 2.5 TTLs: %v", err)
	}
	if err := s.Unlock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	if ok, err := other.TryLock(ctx, "issue_cert_x"); !ok || err != nil {
		t.Fatalf("a freed lock was refused: %v", err)
	}
	// The holder dies: its renewer stops, its lock stays in the store.
	other.mu.Lock()
	close(other.held["issue_cert_x"].stop)
	delete(other.held, "issue_cert_x")
	other.mu.Unlock()
	start := time.Now()
	if err := s.Lock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 3*time.Second {
		t.Fatalf("a dead holder's lock was taken after %v, want about its TTL", d)
	}
	if err := s.Unlock(ctx, "issue_cert_x"); err != nil {
		t.Fatal(err)
	}
	if err := s.Unlock(ctx, "issue_cert_x"); err == nil {
		t.Fatal("unlocking a lock not held: no error")
	}
}

// TestStorageCloseFreesLocks: a replica that shuts down frees its locks at
// once.
func TestStorageCloseFreesLocks(t *testing.T) {
	blobs := backends(t)["bolt"](t)
	s := NewStorage(blobs, time.Minute)
	if err := s.Lock(context.Background(), "l"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	other := NewStorage(blobs, time.Minute)
	defer other.Close()
	if ok, err := other.TryLock(context.Background(), "l"); !ok || err != nil {
		t.Fatalf("a closed Storage's lock is still held: %v", err)
	}
}

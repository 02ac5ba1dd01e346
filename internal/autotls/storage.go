package autotls

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/caddyserver/certmagic"
)

// storagePrefix starts the blob name of every key certmagic stores.
const storagePrefix = "certmagic/"

// Lock timing: a held lock is renewed every LockTTL/3; one whose holder
// died expires LockTTL after its last renewal; a waiter tries again every
// lockPoll.
const (
	DefaultLockTTL = 30 * time.Second
	lockPoll       = time.Second
)

// Storage is certmagic's Storage over the store's blobs, so every replica
// on one store shares the ACME account, the certificates and their keys,
// and one lock per operation.
type Storage struct {
	blobs   store.Blobs
	lockTTL time.Duration

	mu   sync.Mutex
	held map[string]*heldLock // by lock name
	wg   sync.WaitGroup       // the lease renewers
}

// heldLock is a lock this Storage holds, and the renewer of its lease.
type heldLock struct {
	token string
	stop  chan struct{}
}

// NewStorage returns a Storage over blobs whose locks expire lockTTL after
// their holder stops renewing them (DefaultLockTTL if 0).
func NewStorage(blobs store.Blobs, lockTTL time.Duration) *Storage {
	if lockTTL <= 0 {
		lockTTL = DefaultLockTTL
	}
	return &Storage{blobs: blobs, lockTTL: lockTTL, held: map[string]*heldLock{}}
}

var (
	_ certmagic.Storage   = (*Storage)(nil)
	_ certmagic.TryLocker = (*Storage)(nil)
)

// Store implements certmagic.Storage.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	return s.blobs.PutBlob(ctx, storagePrefix+key, value)
}

// Load implements certmagic.Storage.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	v, _, err := s.blobs.GetBlob(ctx, storagePrefix+key)
	if errors.Is(err, store.ErrNoBlob) {
		return nil, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return v, err
}

// Delete implements certmagic.Storage: the key and everything below it.
func (s *Storage) Delete(ctx context.Context, key string) error {
	below, err := s.blobs.BlobNames(ctx, storagePrefix+key+"/")
	if err != nil {
		return err
	}
	for _, n := range append(below, storagePrefix+key) {
		if err := s.blobs.DeleteBlob(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// Exists implements certmagic.Storage.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// List implements certmagic.Storage: the keys below path, or only its
// direct children (files and directories) unless recursive.
func (s *Storage) List(ctx context.Context, path string, recursive bool) ([]string, error) {
	dir := strings.TrimSuffix(path, "/") + "/"
	if path == "" {
		dir = ""
	}
	names, err := s.blobs.BlobNames(ctx, storagePrefix+dir)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	var keys []string
	seen := map[string]bool{}
	for _, n := range names {
		rest := strings.TrimPrefix(n, storagePrefix+dir)
		if !recursive {
			rest, _, _ = strings.Cut(rest, "/")
		}
		if k := dir + rest; !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// Stat implements certmagic.Storage. A key with keys below it is a
// directory.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	v, mtime, err := s.blobs.GetBlob(ctx, storagePrefix+key)
	if err == nil {
		return certmagic.KeyInfo{Key: key, Modified: mtime, Size: int64(len(v)), IsTerminal: true}, nil
	}
	if !errors.Is(err, store.ErrNoBlob) {
		return certmagic.KeyInfo{}, err
	}
	below, err := s.blobs.BlobNames(ctx, storagePrefix+key+"/")
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if len(below) == 0 {
		return certmagic.KeyInfo{}, fmt.Errorf("%s: %w", key, fs.ErrNotExist)
	}
	return certmagic.KeyInfo{Key: key}, nil
}

// newToken returns a random lock token.
func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

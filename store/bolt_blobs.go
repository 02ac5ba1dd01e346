package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Blobs in the embedded store: two buckets, made by the first write.
//
//	acmedns-blobs-v1  name -> modification time (unix nanoseconds, 8 bytes
//	                  big-endian), then the value
//	acmedns-locks-v1  name -> expiry (unix nanoseconds, 8 bytes big-endian),
//	                  then the holder's token
var (
	blobsBucket = []byte("acmedns-blobs-v1")
	locksBucket = []byte("acmedns-locks-v1")
)

// PutBlob implements Blobs.
func (b *Bolt) PutBlob(ctx context.Context, name string, value []byte) error {
	v := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
	return b.updateBucket(ctx, blobsBucket, func(bk *bolt.Bucket) error {
		return bk.Put([]byte(name), append(v, value...))
	})
}

// GetBlob implements Blobs.
func (b *Bolt) GetBlob(ctx context.Context, name string) ([]byte, time.Time, error) {
	var value []byte
	var mtime time.Time
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(blobsBucket)
		if bk == nil {
			return ErrNoBlob
		}
		v := bk.Get([]byte(name))
		if v == nil {
			return ErrNoBlob
		}
		if len(v) < 8 {
			return fmt.Errorf("store: corrupt blob %q", name)
		}
		mtime = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
		value = bytes.Clone(v[8:])
		return nil
	})
	return value, mtime, err
}

// DeleteBlob implements Blobs.
func (b *Bolt) DeleteBlob(ctx context.Context, name string) error {
	return b.updateBucket(ctx, blobsBucket, func(bk *bolt.Bucket) error { return bk.Delete([]byte(name)) })
}

// BlobNames implements Blobs.
func (b *Bolt) BlobNames(ctx context.Context, prefix string) ([]string, error) {
	names := []string{}
	err := b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(blobsBucket)
		if bk == nil {
			return nil
		}
		c := bk.Cursor()
		p := []byte(prefix)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			names = append(names, string(k))
		}
		return nil
	})
	return names, err
}

// Lock implements Blobs.
func (b *Bolt) Lock(ctx context.Context, name, token string, ttl time.Duration) (bool, error) {
	taken := false
	err := b.updateBucket(ctx, locksBucket, func(bk *bolt.Bucket) error {
		t := time.Now()
		if v := bk.Get([]byte(name)); len(v) >= 8 && string(v[8:]) != token &&
			t.Before(time.Unix(0, int64(binary.BigEndian.Uint64(v)))) {
			return nil
		}
		taken = true
		v := binary.BigEndian.AppendUint64(nil, uint64(t.Add(ttl).UnixNano()))
		return bk.Put([]byte(name), append(v, token...))
	})
	return taken, err
}

// Unlock implements Blobs.
func (b *Bolt) Unlock(ctx context.Context, name, token string) error {
	return b.updateBucket(ctx, locksBucket, func(bk *bolt.Bucket) error {
		if v := bk.Get([]byte(name)); len(v) >= 8 && string(v[8:]) == token {
			return bk.Delete([]byte(name))
		}
		return nil
	})
}

// updateBucket runs fn on the bucket name, made if needed, in a write
// transaction, unless ctx is already done.
func (b *Bolt) updateBucket(ctx context.Context, name []byte, fn func(*bolt.Bucket) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(name)
		if err != nil {
			return err
		}
		return fn(bk)
	})
}

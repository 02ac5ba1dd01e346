package autotls

import (
	"context"
	"errors"
	"time"
)

// Lock implements certmagic.Locker: it waits until the lock is free, or
// its holder stopped renewing it for the lock's TTL, then holds it,
// renewing its lease, until Unlock or Close.
func (s *Storage) Lock(ctx context.Context, name string) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		ok, err := s.TryLock(ctx, name)
		if err != nil && ctx.Err() != nil {
			return err
		}
		if ok {
			return nil
		}
		// A store error is waited out like a taken lock.
		t.Reset(lockPoll)
	}
}

// TryLock implements certmagic.TryLocker.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	token := newToken()
	ok, err := s.blobs.Lock(ctx, storagePrefix+name, token, s.lockTTL)
	if err != nil || !ok {
		return false, err
	}
	h := &heldLock{token: token, stop: make(chan struct{})}
	s.mu.Lock()
	if old := s.held[name]; old != nil {
		// The store says the lock was free: ours had expired.
		close(old.stop)
	}
	s.held[name] = h
	s.wg.Add(1)
	s.mu.Unlock()
	go s.renew(name, h)
	return true, nil
}

// renew extends the lease of h every third of the TTL until h stops.
func (s *Storage) renew(name string, h *heldLock) {
	defer s.wg.Done()
	tick := time.NewTicker(s.lockTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.lockTTL/3)
			ok, err := s.blobs.Lock(ctx, storagePrefix+name, h.token, s.lockTTL)
			cancel()
			if err == nil && !ok {
				log.Warningf("lost the certificate lock %q to another replica (its lease expired)", name)
				return // every later renewal would fail the same way
			}
		}
	}
}

// Unlock implements certmagic.Locker.
func (s *Storage) Unlock(ctx context.Context, name string) error {
	s.mu.Lock()
	h := s.held[name]
	delete(s.held, name)
	s.mu.Unlock()
	if h == nil {
		return errors.New("autotls: unlocking a lock not held: " + name)
	}
	close(h.stop)
	return s.blobs.Unlock(ctx, storagePrefix+name, h.token)
}

// Close stops renewing every lock still held and frees them, so another
// replica need not wait for their expiry.
func (s *Storage) Close() {
	s.mu.Lock()
	held := s.held
	s.held = map[string]*heldLock{}
	s.mu.Unlock()
	for name, h := range held {
		close(h.stop)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := s.blobs.Unlock(ctx, storagePrefix+name, h.token); err != nil {
			log.Warningf("freeing the certificate lock %q: %v", name, err)
		}
		cancel()
	}
	s.wg.Wait()
}

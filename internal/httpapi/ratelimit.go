package httpapi

import (
	"container/list"
	"context"
	"math"
	"net/netip"
	"sync"
	"time"
)

// A clientLimiter holds one token bucket per client address, IPv6 clients
// by their /64 (one host usually holds a whole /64). The table is bounded:
// past Clients entries the least recently seen client is dropped, so an
// attacker with many addresses costs a fixed amount of memory (and merely
// gets fresh buckets, while bcrypt admission still bounds the CPU).
type clientLimiter struct {
	rate Rate
	max  int
	now  func() time.Time

	mu      sync.Mutex
	clients map[netip.Addr]*list.Element
	lru     list.List // of *bucket, most recently seen at the front
}

type bucket struct {
	client netip.Addr
	tokens float64
	last   time.Time
}

// newClientLimiter returns a limiter, or nil when rate is off: a nil
// limiter allows everything.
func newClientLimiter(rate Rate, clients int) *clientLimiter {
	if rate.Off() {
		return nil
	}
	return &clientLimiter{rate: rate, max: clients, now: time.Now, clients: make(map[netip.Addr]*list.Element)}
}

// ClientKey is the address a client is limited by: an IPv4 address as it
// is, an IPv6 address by its /64 (one host usually holds a whole /64).
func ClientKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// take spends one token of ip's bucket. When the bucket is empty it spends
// nothing and returns how long until a token is back.
func (l *clientLimiter) take(ip netip.Addr) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ClientKey(ip))
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
}

// has reports whether ip's bucket holds a token, spending none; when it
// is empty, how long until one is back.
func (l *clientLimiter) has(ip netip.Addr) (ok bool, retryAfter time.Duration) {
	if l == nil {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ClientKey(ip))
	if b.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate.PerSecond * float64(time.Second))
}

// refund gives back a token that take spent (a success after all).
func (l *clientLimiter) refund(ip netip.Addr) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.clients[ClientKey(ip)]; ok {
		b := e.Value.(*bucket)
		b.tokens = math.Min(b.tokens+1, float64(l.rate.Burst))
	}
}

// bucket returns key's bucket refilled to now, creating it full; l.mu is held.
func (l *clientLimiter) bucket(key netip.Addr) *bucket {
	now := l.now()
	if e, ok := l.clients[key]; ok {
		l.lru.MoveToFront(e)
		b := e.Value.(*bucket)
		if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
			b.tokens = math.Min(b.tokens+elapsed*l.rate.PerSecond, float64(l.rate.Burst))
		}
		b.last = now
		return b
	}
	if l.lru.Len() >= l.max {
		oldest := l.lru.Back()
		delete(l.clients, oldest.Value.(*bucket).client)
		l.lru.Remove(oldest)
	}
	b := &bucket{client: key, tokens: float64(l.rate.Burst), last: now}
	l.clients[key] = l.lru.PushFront(b)
	return b
}

// retryAfterSeconds is a Retry-After value: whole seconds, at least 1.
func retryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// tarpitDelay is how long a refusal by a limit is held back (a variable so
// that tests of other things need not wait).
var tarpitDelay = time.Second

// tarpit waits tarpitDelay, or until the client has gone.
func tarpit(ctx context.Context) {
	if tarpitDelay <= 0 {
		return
	}
	t := time.NewTimer(tarpitDelay)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// deletedMark starts the invalidation payload of a deleted subdomain.
const deletedMark = "-"

// subscribe keeps the TXT cache and the index coherent with what other
// writers publish. From the moment the subscription may have missed a
// message it distrusts both; once subscribed again it flushes the cache and
// reloads the index.
func (r *Redis) subscribe() {
	defer r.done.Done()
	ctx, cancel := context.WithCancel(context.Background())
	ps := r.client.Subscribe(ctx, r.channel)
	closed := make(chan struct{})
	go func() { // closing ps ends a receive at once, rather than at its timeout
		<-r.stop
		cancel()
		ps.Close()
		close(closed)
	}()
	defer func() { <-closed }()
	defer r.index.distrust() // closed, the store hears of no more changes
	defer r.serial.trust(false)

	stopLoad := func() {}
	defer func() { stopLoad() }()
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, pubsubHealth)
		if err == nil {
			if r.receive(msg) {
				stopLoad()
				r.serial.trust(true)
				r.cache.flush(true)
				stopLoad = r.reload(ctx)
			}
			continue
		}
		if ctx.Err() != nil || stillSubscribed(ctx, ps, err) {
			continue
		}
		r.index.distrust()
		r.serial.trust(false)
		r.cache.flush(false)
		stopLoad()
		select { // go-redis reconnects and resubscribes on the next Receive
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stillSubscribed tells a quiet subscription, whose receive timed out, from
// a broken one: it pings, and the Pong arrives in the next receive.
func stillSubscribed(ctx context.Context, ps *redis.PubSub, err error) bool {
	var netErr interface{ Timeout() bool }
	if !errors.As(err, &netErr) || !netErr.Timeout() {
		return false
	}
	pctx, cancel := context.WithTimeout(ctx, pubsubHealth)
	defer cancel()
	return ps.Ping(pctx) == nil
}

// receive applies one message of the subscription, and reports whether it
// confirms the subscription.
func (r *Redis) receive(msg any) (subscribed bool) {
	switch m := msg.(type) {
	case *redis.Subscription:
		return m.Kind == "subscribe"
	case *redis.Message:
		r.apply(m.Payload)
	}
	return false
}

// apply applies one invalidation payload (see Redis). The index changes
// first, so that a lookup that misses the cache sees the change.
func (r *Redis) apply(payload string) {
	r.serial.changed() // a change of a record may have moved the serial
	if payload == serialMark {
		return
	}
	if sub, deleted := strings.CutPrefix(payload, deletedMark); deleted {
		if ValidSubdomain(sub) {
			r.index.remove(sub)
		}
		r.cache.invalidate(sub)
		return
	}
	if ValidSubdomain(payload) {
		r.index.add(payload)
	}
	r.cache.invalidate(payload)
}

package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// journalTimeout bounds a Cluster's journal step, which runs even when the
// write's context is done: the record has changed by then.
const journalTimeout = 5 * time.Second

// serialKey is the key of the zone's change counter; the hash tag keeps it
// in the journal's Cluster slot.
func (r *Redis) serialKey() string { return r.opts.Prefix + "{zone}serial" }

// journalKey is the key of the journal, a list of encodeChange entries,
// oldest first.
func (r *Redis) journalKey() string { return r.opts.Prefix + "{zone}journal" }

// expiryKey is the key of the expiry index, a sorted set of the subdomains
// with a value of known set time, each scored by the unix seconds of its
// oldest such value; the hash tag keeps it in the journal's Cluster slot.
func (r *Redis) expiryKey() string { return r.opts.Prefix + "{zone}expiry" }

// isCluster reports whether the client is a Cluster's, whose scripts cannot
// reach the zone's keys beside a record's.
func (r *Redis) isCluster() bool {
	_, ok := r.client.(*redis.ClusterClient)
	return ok
}

// initArg is the counter's initial value, should it be absent.
func initArg() string { return strconv.FormatUint(initialSerial(now()), 10) }

// errRefused is journaled's answer to a script that refused its change.
var errRefused = errors.New("store: change refused")

// journaled runs the record script s (journaledLua) on the record of sub
// and journals its change of kind and moves the record's expiry entry: in
// the script's own call, or, in a Cluster, in a journal step right after
// it. It returns the script's reply, {old t, new t, oldest, ...}, {oldest}
// when the script changed only the expiry entry, or nil when it changed
// nothing (replied 0), or errRefused when it refused the change (replied
// -1) and changed nothing. It returns the reply beside ErrNotReplicated, and
// beside the error of a failed journal step: the record has changed then.
func (r *Redis) journaled(ctx context.Context, s *redis.Script, kind ChangeKind, sub string, args ...any) ([]any, error) {
	// This replica forgets the serial when the write returns, before its
	// own message comes back on the channel: a NOTIFY it sends after the
	// write is never answered with the serial from before.
	defer r.serial.changed()
	keys := []string{r.Key(sub)}
	cluster := r.isCluster()
	if !cluster {
		keys = append(keys, r.serialKey(), r.journalKey(), r.expiryKey())
		args = append(args, sub, initArg(), journalBound(r.opts.JournalSize))
	}
	res, err := r.run(ctx, s, keys, args...)
	if err != nil && !errors.Is(err, ErrNotReplicated) {
		if cluster { // the record may have changed all the same
			r.leaveGap(ctx)
		}
		return nil, err
	}
	if n, ok := res.(int64); ok && n == 0 {
		return nil, err
	}
	if n, ok := res.(int64); ok && n == -1 {
		return nil, errRefused
	}
	reply, ok := res.([]any)
	if !ok || len(reply) != 1 && len(reply) < 3 {
		return nil, fmt.Errorf("store: unexpected script reply %v", res)
	}
	if cluster {
		if jerr := r.clusterStep(ctx, kind, sub, reply); jerr != nil && (err == nil || !errors.Is(jerr, ErrNotReplicated)) {
			err = jerr
		}
	}
	return reply, err
}

// clusterStep is a Cluster's second step after a record script's reply: the
// journal step for a change, or the expiry entry alone for {oldest}.
func (r *Redis) clusterStep(ctx context.Context, kind ChangeKind, sub string, reply []any) error {
	if len(reply) == 1 {
		oldest, _ := reply[0].(string)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
		defer cancel()
		_, err := r.run(ctx, reindexScript, []string{r.expiryKey()}, sub, oldest)
		return err
	}
	old, _ := reply[0].(string)
	new, _ := reply[1].(string)
	oldest, _ := reply[2].(string)
	return r.journalStep(ctx, kind, sub, old, new, oldest)
}

// journalStep journals, in a Cluster, the change a record script made, and
// moves the record's expiry entry to oldest. If that fails it leaves a gap
// and returns the failure.
func (r *Redis) journalStep(ctx context.Context, kind ChangeKind, sub, old, new, oldest string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	keys := []string{r.serialKey(), r.journalKey(), r.expiryKey()}
	_, err := r.run(ctx, journalScript, keys, string(kind), sub, old, new, initArg(), journalBound(r.opts.JournalSize), oldest)
	if err == nil || errors.Is(err, ErrNotReplicated) {
		r.announceSerial(ctx)
		return err
	}
	r.leaveGap(ctx)
	return fmt.Errorf("store: journaling the change of %s: %w", sub, err)
}

// leaveGap moves the counter on without a journal entry, after a Cluster's
// write may have changed a record unjournaled: the serial moves, and Changes
// over the gap answers it cannot tell. It is best effort, and a gap left for
// a write that changed nothing costs secondaries only a whole transfer.
func (r *Redis) leaveGap(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	r.run(ctx, gapScript, []string{r.serialKey()}, initArg())
	r.announceSerial(ctx)
}

// Serial implements Journal. It reads the counter and, the first time, sets
// it to the current Unix time.
func (r *Redis) Serial(ctx context.Context) (uint32, error) {
	token := r.serial.begin()
	counter, err := r.counter(ctx)
	if err == nil {
		r.serial.note(token, counter)
	}
	return uint32(counter), err
}

// CachedSerial implements Journal: the serial last read, until the
// invalidation channel carries any change (or, while the subscription is
// down, for at most a second).
func (r *Redis) CachedSerial() (uint32, bool) { return r.serial.get() }

// serialMark is the invalidation payload of a change of the serial alone:
// a Cluster's journal step, or a gap.
const serialMark = "{serial}"

// announceSerial tells every replica, in a Cluster, that the serial moved
// in a step of its own (the record script's message came before it).
func (r *Redis) announceSerial(ctx context.Context) {
	r.client.Publish(ctx, r.channel, serialMark)
}

// counter reads the zone's change counter, setting it if it is absent.
func (r *Redis) counter(ctx context.Context) (uint64, error) {
	v, err := r.client.Get(ctx, r.serialKey()).Result()
	if errors.Is(err, redis.Nil) {
		v, err = serialScript.Run(ctx, r.client, []string{r.serialKey()}, initArg()).Text()
	}
	if err != nil {
		return 0, err
	}
	return parseCounter(v)
}

// parseCounter reads the stored form of the counter.
func parseCounter(v any) (uint64, error) {
	s, _ := v.(string)
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: corrupt zone serial %q", s)
	}
	return n, nil
}

// Changes implements Journal: one script reads the counter and the tail of
// the journal the caller lacks.
func (r *Redis) Changes(ctx context.Context, from uint32, limit int) ([]Change, uint32, bool, error) {
	res, err := changesScript.Run(ctx, r.client, []string{r.serialKey(), r.journalKey()}, from, max(limit, 0)).Slice()
	if err != nil {
		return nil, 0, false, err
	}
	var counter uint64
	if len(res) == 0 { // no counter yet: nothing journaled
		counter, err = r.counter(ctx)
	} else {
		counter, err = parseCounter(res[0])
	}
	if err != nil {
		return nil, 0, false, err
	}
	if uint32(counter) == from {
		return []Change{}, from, true, nil
	}
	var entries []string
	if len(res) == 2 {
		list, _ := res[1].([]any)
		for _, e := range list {
			s, _ := e.(string)
			entries = append(entries, s)
		}
	}
	changes, ok, err := pendingChanges(entries, from, counter)
	if err != nil || !ok {
		return nil, uint32(counter), false, err
	}
	return changes, uint32(counter), true, nil
}

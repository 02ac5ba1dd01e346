package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// write runs a write script on key that returns an integer.
func (r *Redis) write(ctx context.Context, s *redis.Script, key string, args ...any) (int64, error) {
	res, err := r.run(ctx, s, []string{key}, args...)
	if err != nil && !errors.Is(err, ErrNotReplicated) {
		return 0, err
	}
	n, ok := res.(int64)
	if !ok {
		return 0, fmt.Errorf("store: unexpected script reply %T", res)
	}
	return n, err
}

// run runs a write script on keys, which share a Cluster slot, and returns
// its reply. With WaitReplicas it sends the script and WAIT on one
// connection to the keys' master (WAIT counts the writes of its own
// connection) and fails with ErrNotReplicated, beside the reply, unless
// enough replicas acknowledged.
func (r *Redis) run(ctx context.Context, s *redis.Script, keys []string, args ...any) (any, error) {
	if r.opts.WaitReplicas <= 0 {
		return s.Run(ctx, r.client, keys, args...).Result()
	}
	var node redis.Cmdable = r.client
	if cc, ok := r.client.(*redis.ClusterClient); ok {
		master, err := cc.MasterForKey(ctx, keys[0])
		if err != nil {
			return nil, err
		}
		node = master
	}
	var res, acked *redis.Cmd
	_, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
		res = s.Eval(ctx, p, keys, args...)
		acked = p.Do(ctx, "WAIT", r.opts.WaitReplicas, r.opts.WaitTimeout.Milliseconds())
		return nil
	})
	if err != nil {
		return nil, err
	}
	reply := res.Val()
	if replicas, err := acked.Int64(); err != nil || replicas < int64(r.opts.WaitReplicas) {
		return reply, ErrNotReplicated
	}
	return reply, nil
}

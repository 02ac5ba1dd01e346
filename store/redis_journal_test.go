package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
)

// The zone's keys under the tests' prefix.
const (
	serialKey  = "test:{zone}serial"
	journalKey = "test:{zone}journal"
)

// redisEnv is a running Redis topology the journal tests open stores on.
type redisEnv struct {
	name    string
	addrs   []string
	cluster bool
	nodes   []*redistest.Server
	admin   redis.UniversalClient // the default user
}

// redisEnvs starts a standalone server and a three-master Cluster.
func redisEnvs(t *testing.T) []redisEnv {
	srv := redistest.Start(t)
	nodes := redistest.StartCluster(t, 3)
	envs := []redisEnv{
		{name: "redis", addrs: []string{srv.Addr}, nodes: []*redistest.Server{srv}},
		{name: "redis cluster", addrs: nodeAddrs(nodes), cluster: true, nodes: nodes},
	}
	for i := range envs {
		envs[i].admin = envs[i].client("")
		t.Cleanup(func() { envs[i].admin.Close() })
	}
	return envs
}

// client is a client of e, logged in as user (redistest.ACLUser) if set.
func (e redisEnv) client(user string) redis.UniversalClient {
	o := &redis.UniversalOptions{Addrs: e.addrs, IsClusterMode: e.cluster}
	if user != "" {
		o.Username, o.Password = user, redistest.ACLPassword
	}
	return redis.NewUniversalClient(o)
}

// open opens a store on e with opts, under the prefix test: unless opts
// has one, logged in as user if set.
func (e redisEnv) open(t *testing.T, opts store.RedisOptions, user string) *store.Redis {
	if opts.Prefix == "" {
		opts.Prefix = "test:"
	}
	s := store.NewRedis(e.client(user), opts)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestRedisJournalShared: two stores on one Redis share the serial, and
// each one's changes are in the other's journal.
func TestRedisJournalShared(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			a, b := e.open(t, store.RedisOptions{}, ""), e.open(t, store.RedisOptions{CacheSize: 100}, "")
			start := serialOf(t, ctx, a)
			if got := serialOf(t, ctx, b); got != start {
				t.Fatalf("the stores' serials: %d and %d", start, got)
			}
			if err := a.Register(ctx, account("shared")); err != nil {
				t.Fatal(err)
			}
			if err := b.AddTXT(ctx, "shared", "v1", 2, 0); err != nil {
				t.Fatal(err)
			}
			want := []store.Change{
				{Serial: start + 1, Kind: store.ChangeCreated, Subdomain: "shared"},
				{Serial: start + 2, Kind: store.ChangeTXT, Subdomain: "shared", New: []string{"v1"}},
			}
			for name, j := range map[string]store.Journal{"a": a, "b": b} {
				if got := changesSince(t, ctx, j, start, start+2); !slices.EqualFunc(got, want, sameChange) {
					t.Errorf("%s: Changes = %+v; want %+v", name, got, want)
				}
			}
		})
	}
}

// TestRedisJournalKeys: the counter and the journal are the documented
// keys, in one Cluster slot, the journal's entries in their documented form.
func TestRedisJournalKeys(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t, store.RedisOptions{}, "")
			if err := s.Register(ctx, account("keys")); err != nil {
				t.Fatal(err)
			}
			if err := s.AddTXT(ctx, "keys", "v1", 2, 0); err != nil {
				t.Fatal(err)
			}
			cur := serialOf(t, ctx, s)
			if got := e.admin.Get(ctx, serialKey).Val(); got != strconv.FormatUint(uint64(cur), 10) {
				t.Errorf("%s = %q; want %d", serialKey, got, cur)
			}
			if kind := e.admin.Type(ctx, journalKey).Val(); kind != "list" {
				t.Fatalf("%s is a %s", journalKey, kind)
			}
			want := []string{fmt.Sprintf("%d\tc\tkeys\t\t", cur-1), fmt.Sprintf("%d\tt\tkeys\t\tv1", cur)}
			if got := e.admin.LRange(ctx, journalKey, 0, -1).Val(); !slices.Equal(got, want) {
				t.Errorf("%s = %q; want %q", journalKey, got, want)
			}
			if e.cluster {
				a, b := e.admin.ClusterKeySlot(ctx, serialKey).Val(), e.admin.ClusterKeySlot(ctx, journalKey).Val()
				if a != b {
					t.Errorf("the zone's keys are in slots %d and %d", a, b)
				}
			}
		})
	}
}

// TestRedisSerialLazy: the counter is set, to the current time, by the
// first Serial, Changes or journaled write, never read as absent.
func TestRedisSerialLazy(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			first := map[string]func(s *store.Redis) error{
				"serial":   func(s *store.Redis) error { _, err := s.Serial(ctx); return err },
				"changes":  func(s *store.Redis) error { return expectNoChanges(ctx, s, 12345) },
				"register": func(s *store.Redis) error { return s.Register(ctx, account("lazy")) },
			}
			for name, call := range first {
				prefix := "lazy-" + name + ":"
				s := e.open(t, store.RedisOptions{Prefix: prefix}, "")
				key := prefix + "{zone}serial"
				if n := e.admin.Exists(ctx, key).Val(); n != 0 {
					t.Fatalf("%s: %s exists before any use", name, key)
				}
				if err := call(s); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				counter, err := strconv.ParseInt(e.admin.Get(ctx, key).Val(), 10, 64)
				if err != nil || counter < time.Now().Unix()-60 || counter > time.Now().Unix()+60 {
					t.Errorf("%s: the counter is %d (%v) after it; want about now", name, counter, err)
				}
				if got := serialOf(t, ctx, s); int64(got) != counter {
					t.Errorf("%s: Serial %d; the counter is %d", name, got, counter)
				}
			}
		})
	}
}

// expectNoChanges fails (returns an error) unless Changes(from) is not ok.
func expectNoChanges(ctx context.Context, j store.Journal, from uint32) error {
	changes, _, ok, err := j.Changes(ctx, from, store.DefaultJournalSize)
	if err == nil && (ok || changes != nil) {
		err = fmt.Errorf("Changes(%d) = %v, %v; want not ok", from, changes, ok)
	}
	return err
}

// TestRedisJournalGap: a journal entry missing, or a counter moved without
// one, makes Changes over it answer that it cannot tell.
func TestRedisJournalGap(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			s := e.open(t, store.RedisOptions{}, "")
			if err := s.Register(ctx, account("gap")); err != nil {
				t.Fatal(err)
			}
			s0 := serialOf(t, ctx, s)
			for _, v := range []string{"a", "b", "c"} {
				if err := s.AddTXT(ctx, "gap", v, 2, 0); err != nil {
					t.Fatal(err)
				}
			}
			changesSince(t, ctx, s, s0, s0+3)
			middle := e.admin.LIndex(ctx, journalKey, -2).Val()
			if err := e.admin.LRem(ctx, journalKey, 1, middle).Err(); err != nil {
				t.Fatal(err)
			}
			noChanges(t, ctx, s, s0, "over a missing entry")
			noChanges(t, ctx, s, s0+1, "from just before a missing entry")
			changesSince(t, ctx, s, s0+2, s0+3)
			if err := e.admin.Incr(ctx, serialKey).Err(); err != nil {
				t.Fatal(err)
			}
			noChanges(t, ctx, s, s0+3, "over a skipped counter")
			changesSince(t, ctx, s, s0+4, s0+4)
			if err := s.ClearTXT(ctx, "gap"); err != nil {
				t.Fatal(err)
			}
			if c := changesSince(t, ctx, s, s0+4, s0+5); c[0].Kind != store.ChangeTXT || !slices.Equal(c[0].Old, []string{"c", "b"}) {
				t.Errorf("the change after the gap: %+v", c[0])
			}
		})
	}
}

// TestRedisJournalStepFails: a write whose journal step fails (here its
// user may not RPUSH) returns the error, and the gap it leaves makes Changes
// over it answer that it cannot tell. The record keeps the change: in a
// Cluster it was made in a step of its own, and a standalone server keeps
// what a script wrote before it failed.
func TestRedisJournalStepFails(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			s, limited := deniedStores(t, e, "rpush")
			if err := s.Register(ctx, account("failing")); err != nil {
				t.Fatal(err)
			}
			before := serialOf(t, ctx, s)
			if err := limited.AddTXT(ctx, "failing", "v1", 2, 0); err == nil {
				t.Fatal("AddTXT succeeded without its journal step")
			}
			after := serialOf(t, ctx, s)
			if !store.SerialLess(before, after) {
				t.Fatalf("the serial did not move: %d then %d", before, after)
			}
			noChanges(t, ctx, s, before, "over the failed journal step")
			if rec := mustRecord(t, ctx, s, "failing"); !slices.Equal(texts(rec.TXT), []string{"v1"}) {
				t.Errorf("the record lost its change: %v", rec.TXT)
			}
			if err := s.AddTXT(ctx, "failing", "v2", 2, 0); err != nil {
				t.Fatal(err)
			}
			changesSince(t, ctx, s, after, after+1)
		})
	}
}

// TestJournalBound: a journal keeps the newest JournalSize changes.
func TestJournalBound(t *testing.T) {
	ctx := context.Background()
	const size = 3
	bolt, err := store.OpenBolt(filepath.Join(t.TempDir(), "acmedns.db"), store.BoltOptions{JournalSize: size})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bolt.Close() })
	journals := map[string]store.Store{"bolt": bolt}
	envs := redisEnvs(t)
	for _, e := range envs {
		journals[e.name] = e.open(t, store.RedisOptions{JournalSize: size}, "")
	}
	for name, s := range journals {
		t.Run(name, func(t *testing.T) {
			j := s.(store.Journal)
			for i := range 5 {
				if err := s.Register(ctx, account(fmt.Sprintf("bound-%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			cur := serialOf(t, ctx, j)
			if c := changesSince(t, ctx, j, cur-size, cur); c[0].Subdomain != "bound-2" {
				t.Errorf("the oldest change kept is %+v", c[0])
			}
			noChanges(t, ctx, j, cur-size-1, "beyond the bound")
		})
	}
	for _, e := range envs {
		if n := e.admin.LLen(ctx, journalKey).Val(); n != size {
			t.Errorf("%s: the journal has %d entries; want %d", e.name, n, size)
		}
	}
}

// TestRedisJournalWaitReplicas: with WaitReplicas an acknowledged change is
// journaled on the replica too; a change that reached too few replicas is
// journaled all the same.
func TestRedisJournalWaitReplicas(t *testing.T) {
	master := redistest.Start(t)
	replica := redistest.StartReplica(t, master)
	ctx := context.Background()
	open := func(n int) *store.Redis {
		client := redis.NewClient(&redis.Options{Addr: master.Addr})
		s := store.NewRedis(client, store.RedisOptions{Prefix: "test:", WaitReplicas: n, WaitTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open(1)
	rc := redis.NewClient(&redis.Options{Addr: replica.Addr})
	defer rc.Close()
	if err := s.Register(ctx, account("waited")); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if err := s.AddTXT(ctx, "waited", fmt.Sprintf("v%d", i), 2, 0); err != nil {
			t.Fatal(err)
		}
		// Read the replica at once: WAIT made it have the journal step.
		cur := strconv.FormatUint(uint64(serialOf(t, ctx, s)), 10)
		got, last := rc.Get(ctx, serialKey).Val(), rc.LIndex(ctx, journalKey, -1).Val()
		if got != cur || !strings.HasPrefix(last, cur+"\t") {
			t.Fatalf("the replica has serial %q, last entry %q; the master %s", got, last, cur)
		}
	}
	before := serialOf(t, ctx, s)
	if err := open(2).AddTXT(ctx, "waited", "few", 2, 0); !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("WAIT for 2 replicas with 1: %v", err)
	}
	if c := changesSince(t, ctx, s, before, before+1); !slices.Equal(c[0].New, []string{"few", "v9"}) {
		t.Errorf("the unreplicated change journaled as %+v", c[0])
	}
}

// TestRedisRecordStepFails: a write whose record script fails (here its
// user may not HSET) journals nothing. In a Cluster, where the record may
// have changed all the same as far as the replica knows, it leaves a gap;
// on a standalone server the serial stays, as nothing changed.
func TestRedisRecordStepFails(t *testing.T) {
	ctx := context.Background()
	for _, e := range redisEnvs(t) {
		t.Run(e.name, func(t *testing.T) {
			s, limited := deniedStores(t, e, "hset")
			if err := s.Register(ctx, account("refused")); err != nil {
				t.Fatal(err)
			}
			before := serialOf(t, ctx, s)
			if err := limited.AddTXT(ctx, "refused", "v1", 2, 0); err == nil {
				t.Fatal("AddTXT succeeded without HSET")
			}
			if !e.cluster {
				changesSince(t, ctx, s, before, before)
				return
			}
			if after := serialOf(t, ctx, s); after != before+1 {
				t.Fatalf("serial %d after the failed write; want the gap at %d", after, before+1)
			}
			noChanges(t, ctx, s, before, "over the gap")
		})
	}
}

// deniedStores opens two stores on e: one as the default user, and one as
// a user that may run every command but denied.
func deniedStores(t *testing.T, e redisEnv, denied string) (s, limited *store.Redis) {
	t.Helper()
	for _, n := range e.nodes {
		n.SetACL([]string{"on", ">" + redistest.ACLPassword, "~*", "&*", "+@all", "-" + denied})
	}
	return e.open(t, store.RedisOptions{}, ""), e.open(t, store.RedisOptions{}, redistest.ACLUser)
}

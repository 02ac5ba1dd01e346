package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/redis/go-redis/v9"
	bolt "go.etcd.io/bbolt"
)

// oldAccount is a registration as the previous release stored it.
type oldAccount struct {
	store.Account
	values []string
}

var oldAccounts = []oldAccount{
	{account("old-vals"), []string{"v1", "v2"}},
	{account("old-empty"), nil},
}

// oldBackend writes oldAccounts in the previous release's form, opens a
// store on them, and checks the stored form of a record this release has
// written since.
type oldBackend struct {
	name string
	// open writes the old data and opens the store on it.
	open func(t *testing.T) store.Store
	// converted fails unless sub is stored in this release's form; it may
	// close s.
	converted func(t *testing.T, s store.Store, sub string)
	// uniqueOld tells whether usernames are unique against old accounts.
	uniqueOld bool
}

func oldBackends() []oldBackend {
	var path string
	var client redis.UniversalClient
	return []oldBackend{
		{"bolt", func(t *testing.T) store.Store {
			path = filepath.Join(t.TempDir(), "acmedns.db")
			writeOldBolt(t, path)
			s, err := store.OpenBolt(path, store.BoltOptions{CacheSize: 1000})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}, func(t *testing.T, s store.Store, sub string) { s.Close(); checkBoltConverted(t, path, sub) }, true},
		{"redis", func(t *testing.T) store.Store {
			srv := redistest.Start(t)
			client = redis.NewClient(&redis.Options{Addr: srv.Addr})
			t.Cleanup(func() { client.Close() })
			writeOldRedis(t, client)
			return openRedis(t, srv.Addr, 1000)
		}, func(t *testing.T, _ store.Store, sub string) { checkRedisConverted(t, client, sub) }, false},
		{"redis cluster", func(t *testing.T) store.Store {
			nodes := redistest.StartCluster(t, 3)
			client = redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{nodes[0].Addr}})
			t.Cleanup(func() { client.Close() })
			writeOldRedis(t, client)
			return openCluster(t, nodes, 1000)
		}, func(t *testing.T, _ store.Store, sub string) { checkRedisConverted(t, client, sub) }, false},
	}
}

// TestOldForm: what the previous release stored reads with unknown times,
// is listed, and is written in the new form by its next write.
func TestOldForm(t *testing.T) {
	for _, b := range oldBackends() {
		t.Run(b.name, func(t *testing.T) {
			clock := newFakeClock(t)
			ctx := context.Background()
			s := b.open(t)
			if x, ok := s.(store.Indexed); ok {
				eventually(t, "index loaded", x.IndexTrusted)
			}
			for _, old := range oldAccounts {
				rec := mustRecord(t, ctx, s, old.Subdomain)
				want := store.Record{Account: old.Account, TXT: valuesOf(old.values)}
				if !equalRecords(rec, want) {
					t.Fatalf("Record = %+v; want %+v", rec, want)
				}
			}
			if got, err := s.TXT(ctx, "old-empty"); err != nil || got == nil || len(got) != 0 {
				t.Fatalf("TXT(old-empty) = %#v, %v", got, err)
			}
			if got := subdomains(listAll(t, ctx, s, 1, nil)); !slices.Equal(got, []string{"old-empty", "old-vals"}) {
				t.Fatalf("List = %v", got)
			}
			if err := s.AddTXT(ctx, "old-vals", "v3", 3, time.Minute); err != nil {
				t.Fatal(err)
			}
			rec := mustRecord(t, ctx, s, "old-vals")
			want := []store.Value{{Text: "v3", Set: clock.Now()}, {Text: "v1"}, {Text: "v2"}}
			if !equalValues(rec.TXT, want) || !rec.Updated.Equal(clock.Now()) || !rec.Created.IsZero() {
				t.Fatalf("after AddTXT: %+v; want TXT %v, updated now, created unknown", rec, want)
			}
			if b.uniqueOld {
				taken := account("new-sub")
				taken.Username = account("old-vals").Username
				if err := s.Register(ctx, taken); !errors.Is(err, store.ErrUsernameTaken) {
					t.Errorf("the username of an old account: Register = %v", err)
				}
			}
			if err := s.Delete(ctx, "old-empty"); err != nil {
				t.Fatal(err)
			}
			gone(t, ctx, s, "old-empty")
			b.converted(t, s, "old-vals")
		})
	}
}

func valuesOf(texts []string) []store.Value {
	out := []store.Value{}
	for _, v := range texts {
		out = append(out, store.Value{Text: v})
	}
	return out
}

func subdomains(recs []store.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Subdomain)
	}
	return out
}

// writeOldRedis stores oldAccounts as the previous release did: HSET u p a
// t, no times, no username claim, no sorted set.
func writeOldRedis(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	for _, old := range oldAccounts {
		allow, _ := json.Marshal(old.AllowFrom)
		err := c.HSet(context.Background(), "test:sub:"+old.Subdomain,
			"u", old.Username, "p", old.PasswordHash, "a", allow, "t", strings.Join(old.values, " ")).Err()
		if err != nil {
			t.Fatal(err)
		}
	}
}

func checkRedisConverted(t *testing.T, c redis.UniversalClient, sub string) {
	t.Helper()
	fields, err := c.HGetAll(context.Background(), "test:sub:"+sub).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"s", "h", "m"} {
		if fields[f] == "" {
			t.Errorf("field %s missing after a write: %v", f, fields)
		}
	}
	if _, ok := fields["c"]; ok || !strings.HasSuffix(fields["s"], " 0 0") {
		t.Errorf("old values got times, or the creation a time: %v", fields)
	}
}

// writeOldBolt creates a file as the previous release did: the accounts
// and acmedns-txt-v1 buckets, no times, no usernames bucket.
func writeOldBolt(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		accts, _ := tx.CreateBucket([]byte("acmedns-accounts-v1"))
		txt, _ := tx.CreateBucket([]byte("acmedns-txt-v1"))
		for _, old := range oldAccounts {
			v, _ := json.Marshal(map[string]any{"u": old.Username, "p": old.PasswordHash, "a": old.AllowFrom})
			if err := accts.Put([]byte(old.Subdomain), v); err != nil {
				return err
			}
			if err := txt.Put([]byte(old.Subdomain), []byte(strings.Join(old.values, " "))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func checkBoltConverted(t *testing.T, path, sub string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte("acmedns-txt-v1")).Get([]byte(sub)); v != nil {
			t.Errorf("acmedns-txt-v1 still has %q", v)
		}
		var values []map[string]any
		if err := json.Unmarshal(tx.Bucket([]byte("acmedns-txt-v2")).Get([]byte(sub)), &values); err != nil || len(values) != 3 {
			t.Errorf("acmedns-txt-v2: %v, %v", values, err)
		}
		var acct map[string]any
		json.Unmarshal(tx.Bucket([]byte("acmedns-accounts-v1")).Get([]byte(sub)), &acct)
		if _, ok := acct["m"]; !ok {
			t.Errorf("account without its update time: %v", acct)
		}
		return nil
	})
}

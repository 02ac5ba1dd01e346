package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"

	"github.com/redis/go-redis/v9"
)

// confirmCase is a state of a username's claim once a create of "mine" has
// created its record, and what confirmClaim must make of it.
type confirmCase struct {
	name      string
	claim     string        // what the claim names once the record is created
	pending   bool          // the claim is a pending takeover
	prev      string        // the holder the create took the claim over from
	prevLive  bool          // whether that holder turned out live
	later     string        // what the other create does with its pending claim meanwhile: "give back", "keep"
	want      error         // what confirmClaim returns
	wantClaim string        // what the claim names afterwards
	wantTTL   time.Duration // its PTTL afterwards
}

// TestRedisConfirmClaim: once its record is created, a create keeps it only
// if the claim still names it (waiting for another create's pending takeover
// to end) and the holder it took the claim over from is not live after all;
// otherwise the record goes again, and a claim it took over goes back to the
// former holder. A kept claim is permanent.
func TestRedisConfirmClaim(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	r := NewRedis(client, RedisOptions{Prefix: "test:"})
	defer r.Close()
	tests := []confirmCase{
		{"claim held", "mine", false, "", false, "", nil, "mine", -1},
		{"taken over from a stale holder", "mine", true, "stale", false, "", nil, "mine", -1},
		{"taken over from its own stale claim", "mine", true, "mine", false, "", nil, "mine", -1},
		{"taken over from a create in flight", "mine", true, "inflight", true, "", ErrUsernameTaken, "inflight", -1},
		{"taken from it", "other", false, "", false, "", ErrUsernameTaken, "other", -1},
		{"taken over from it, given back", "other", true, "", false, "give back", nil, "mine", -1},
		{"taken over from it for good", "other", true, "", false, "keep", ErrUsernameTaken, "other", -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, r, client) })
	}
}

func (tc confirmCase) run(t *testing.T, r *Redis, client *redis.Client) {
	ctx := context.Background()
	key := r.userKey("U")
	defer func() {
		r.Delete(ctx, "mine")
		r.Delete(ctx, tc.prev)
		client.Del(ctx, key)
	}()
	mine := Record{Account: Account{Username: "U", PasswordHash: []byte("h"), Subdomain: "mine"}}
	if err := r.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	if tc.prevLive {
		holder := mine
		holder.Subdomain = tc.prev
		client.Del(ctx, key) // its create claimed before ours
		if err := r.Create(ctx, holder); err != nil {
			t.Fatal(err)
		}
	}
	client.Set(ctx, key, tc.claim, 0)
	if tc.pending {
		client.PExpire(ctx, key, time.Minute)
	}
	switch tc.later {
	case "give back":
		time.AfterFunc(50*time.Millisecond, func() { client.Set(ctx, key, "mine", 0) })
	case "keep":
		time.AfterFunc(50*time.Millisecond, func() { client.Persist(ctx, key) })
	}
	c := userClaim{key: key, user: "U", sub: "mine", owned: true, prev: tc.prev}
	if err := r.confirmClaim(ctx, c); !errors.Is(err, tc.want) {
		t.Fatalf("confirmClaim = %v; want %v", err, tc.want)
	}
	_, err := r.Record(ctx, "mine")
	if kept := err == nil; kept != (tc.want == nil) {
		t.Errorf("record kept: %v (%v)", kept, err)
	}
	if got, ttl := client.Get(ctx, key).Val(), client.PTTL(ctx, key).Val(); got != tc.wantClaim || ttl != tc.wantTTL {
		t.Errorf("the claim names %q, PTTL %v; want %q, %v", got, ttl, tc.wantClaim, tc.wantTTL)
	}
}

// TestRedisRollbackJournalsBoth: a create that loses its username after
// creating its record journals the creation and the deletion that undoes it.
func TestRedisRollbackJournalsBoth(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr})
	r := NewRedis(client, RedisOptions{Prefix: "test:"})
	defer r.Close()
	ctx := context.Background()
	start, err := r.Serial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, Record{Account: Account{Username: "U", PasswordHash: []byte("h"), Subdomain: "loser"}}); err != nil {
		t.Fatal(err)
	}
	client.Set(ctx, r.userKey("U"), "winner", 0) // another create took the username
	c := userClaim{key: r.userKey("U"), user: "U", sub: "loser", owned: true}
	if err := r.confirmClaim(ctx, c); !errors.Is(err, ErrUsernameTaken) {
		t.Fatalf("confirmClaim = %v; want ErrUsernameTaken", err)
	}
	changes, cur, ok, err := r.Changes(ctx, start, DefaultJournalSize)
	if err != nil || !ok || cur != start+2 || len(changes) != 2 ||
		changes[0].Kind != ChangeCreated || changes[1].Kind != ChangeDeleted || changes[1].Subdomain != "loser" {
		t.Fatalf("Changes = %+v, %d, %v, %v; want the creation and the deletion of loser", changes, cur, ok, err)
	}
}

package store_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"
)

// listed is the number of accounts the list tests register, list-000 to
// list-099.
const listed = 100

func listName(i int) string { return fmt.Sprintf("list-%03d", i) }

// listAll pages through every record of s, limit at a time, calling
// between (if set) between pages, and fails unless each page but the last
// is full and the subdomains ascend strictly (so none is listed twice).
func listAll(t *testing.T, ctx context.Context, s store.Store, limit int, between func()) []store.Record {
	t.Helper()
	var all []store.Record
	after := ""
	for {
		page, next, err := s.List(ctx, after, limit)
		if err != nil {
			t.Fatalf("List(%q, %d): %v", after, limit, err)
		}
		if len(page) > limit || next != "" && len(page) != limit {
			t.Fatalf("List(%q, %d) returned %d records, next %q", after, limit, len(page), next)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		if next != page[len(page)-1].Subdomain {
			t.Fatalf("next = %q after a page ending at %q", next, page[len(page)-1].Subdomain)
		}
		after = next
		if between != nil {
			between()
		}
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Subdomain >= all[i].Subdomain {
			t.Fatalf("listing not strictly ascending: %q then %q", all[i-1].Subdomain, all[i].Subdomain)
		}
	}
	return all
}

// stableNames are the subdomains list-NNN among recs, in their order.
func stableNames(recs []store.Record) []string {
	var out []string
	for _, r := range recs {
		var n int
		if _, err := fmt.Sscanf(r.Subdomain, "list-%03d", &n); err == nil && r.Subdomain == listName(n) {
			out = append(out, r.Subdomain)
		}
	}
	return out
}

func wantStable() []string {
	out := make([]string, listed)
	for i := range out {
		out[i] = listName(i)
	}
	return out
}

var listSuite = []suiteCase{
	{"list pages", func(t *testing.T, ctx context.Context, s store.Store) {
		for i := range listed {
			if err := s.Register(ctx, account(listName(i))); err != nil {
				t.Fatal(err)
			}
			if err := s.AddTXT(ctx, listName(i), fmt.Sprintf("v-%d", i), 2, 0); err != nil {
				t.Fatal(err)
			}
		}
		all := listAll(t, ctx, s, 7, nil)
		if got := stableNames(all); !slices.Equal(got, wantStable()) {
			t.Fatalf("listed %d of the %d accounts: %v", len(got), listed, got)
		}
		i := slices.IndexFunc(all, func(r store.Record) bool { return r.Subdomain == "list-042" })
		if rec := all[i]; !equalAccounts(rec.Account, account("list-042")) || !slices.Equal(texts(rec.TXT), []string{"v-42"}) || rec.Created.IsZero() {
			t.Fatalf("listed record %+v", rec)
		}
		tests := []struct {
			after string
			limit int
			want  []string
			next  string
		}{
			{"list-049", 3, []string{"list-050", "list-051", "list-052"}, "list-052"},
			{"list-0495", 1, []string{"list-050"}, "list-050"},
			{"zzzzzzzz", 5, nil, ""},
		}
		for _, tc := range tests {
			page, next, err := s.List(ctx, tc.after, tc.limit)
			var got []string
			for _, r := range page {
				got = append(got, r.Subdomain)
			}
			if err != nil || !slices.Equal(got, tc.want) || next != tc.next {
				t.Errorf("List(%q, %d) = %v, %q, %v; want %v, %q", tc.after, tc.limit, got, next, err, tc.want, tc.next)
			}
		}
		if _, _, err := s.List(ctx, "", 0); err == nil {
			t.Error("List with limit 0 succeeded")
		}
	}},
	{"list under churn", func(t *testing.T, ctx context.Context, s store.Store) {
		// Accounts that exist when the listing starts and are deleted
		// during it, and others registered and deleted during it, all
		// sorting among list-NNN.
		var doomed []string
		for i := range 20 {
			doomed = append(doomed, fmt.Sprintf("%s-doomed", listName(i*5)))
			if err := s.Register(ctx, account(doomed[i])); err != nil {
				t.Fatal(err)
			}
		}
		stop := make(chan struct{})
		var ops atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() { churn(t, ctx, s, doomed, stop, &ops) })
		seen := int64(0)
		waitChurn := func() { // at least one change between two pages
			for ops.Load() == seen {
				time.Sleep(100 * time.Microsecond)
			}
			seen = ops.Load()
		}
		for pass := range 3 {
			if got := stableNames(listAll(t, ctx, s, 7, waitChurn)); !slices.Equal(got, wantStable()) {
				t.Errorf("pass %d under churn listed %v", pass, got)
			}
		}
		close(stop)
		wg.Wait()
		t.Logf("%d registrations and deletions during the listings", ops.Load())
	}},
}

// churn registers and deletes accounts among the list-NNN ones, and deletes
// doomed, until stop is closed.
func churn(t *testing.T, ctx context.Context, s store.Store, doomed []string, stop chan struct{}, ops *atomic.Int64) {
	var live []string
	defer func() {
		for _, sub := range live {
			s.Delete(ctx, sub)
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		sub := fmt.Sprintf("%s-churn-%d", listName(i*37%listed), i)
		if err := s.Register(ctx, account(sub)); err != nil {
			t.Errorf("churn: %v", err)
			return
		}
		live = append(live, sub)
		if len(live) > 5 {
			if err := s.Delete(ctx, live[0]); err != nil {
				t.Errorf("churn: %v", err)
				return
			}
			live = live[1:]
		}
		if i < len(doomed) {
			if err := s.Delete(ctx, doomed[i]); err != nil {
				t.Errorf("churn: %v", err)
				return
			}
		}
		ops.Add(1)
	}
}

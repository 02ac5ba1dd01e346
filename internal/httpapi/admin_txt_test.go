package httpapi

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/acmedns/acmedns/store"
)

// TestAdminCreateRepeatedTXT: a TXT value given twice (acme-dns keeps two
// equal rows after a retried update) is one value, at the place of its
// first, newest, copy; the create succeeds on both stores and counts no
// store error.
func TestAdminCreateRepeatedTXT(t *testing.T) {
	cases := []struct {
		name      string
		txt, want []string
	}{
		{"newest repeated last", []string{txtA, txtB, txtA}, []string{txtA, txtB}},
		{"repeated first", []string{txtA, txtA, txtB}, []string{txtA, txtB}},
		{"one value twice", []string{txtC, txtC}, []string{txtC}},
	}
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			var hooks hookRecorder
			svc := NewService(testConfig(), open(t), hooks.hooks())
			url := adminServer(t, svc)
			for i, c := range cases {
				sub := fmt.Sprintf("retried-%d", i)
				body, _ := json.Marshal(map[string]any{"subdomain": sub, "txt": c.txt})
				if r := adminCall(t, "POST", url+"/accounts", string(body)); r.status != 201 {
					t.Errorf("%s: %d %s, want 201", c.name, r.status, r.body)
					continue
				}
				if values, err := lookupTXT(svc, sub); err != nil || !slices.Equal(texts(values), c.want) {
					t.Errorf("%s: %v, values %q, want %q", c.name, err, texts(values), c.want)
				}
			}
			if _, errs := hooks.counts(); len(errs) != 0 {
				t.Errorf("store errors counted: %v", errs)
			}
		})
	}
}

// TestAdminCreateRefused: a record the store refuses, which the admin API's
// own checks let through (here: more values than the store keeps, under a
// txt_limit setup would not allow), is 400 invalid_record, not a storage
// failure, and counts no store error.
func TestAdminCreateRefused(t *testing.T) {
	cfg := testConfig()
	cfg.TXTLimit = store.MaxKeep + 1
	var hooks hookRecorder
	url := adminServer(t, NewService(cfg, boltStore(t), hooks.hooks()))
	var values []string
	for i := range store.MaxKeep + 1 {
		values = append(values, fmt.Sprintf("value-%d", i))
	}
	body, _ := json.Marshal(map[string]any{"subdomain": "too-many", "txt": values})
	if r := adminCall(t, "POST", url+"/accounts", string(body)); r.status != 400 || r.body != `{"error": "invalid_record"}` {
		t.Errorf("%d %s, want 400 invalid_record", r.status, r.body)
	}
	if changed, errs := hooks.counts(); changed != 0 || len(errs) != 0 {
		t.Errorf("a refused create told of %d changes and store errors %v", changed, errs)
	}
	if r := adminCall(t, "GET", url+"/accounts/too-many", ""); r.status != 404 {
		t.Errorf("the refused account exists: %d %s", r.status, r.body)
	}
}

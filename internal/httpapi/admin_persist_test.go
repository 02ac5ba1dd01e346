package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestAdminPersist: the admin API shows, sets and removes an account's
// persistent records, with the public API's checks, on both stores.
func TestAdminPersist(t *testing.T) {
	for name, open := range adminBackends(t) {
		t.Run(name, func(t *testing.T) {
			svc := newTestService(t, testConfig(), open(t))
			admin, public := adminServer(t, svc), apiServer(t, svc)
			acc := register(t, public, "")
			base := admin + "/accounts/" + acc.Subdomain
			shown := func(want ...string) {
				t.Helper()
				r := adminCall(t, "GET", base, "")
				var got accountJSON
				if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || got.Persist == nil ||
					!reflect.DeepEqual(got.Persist, append([]string{}, want...)) {
					t.Fatalf("show: %d %s; want persist %q", r.status, r.body, want)
				}
			}
			shown()
			r := adminCall(t, "PUT", base+"/persist", `{"record": "CA.example;accounturi=https://ca.example/acct/1;policy=wildcard"}`)
			var got accountJSON
			if r.status != 200 || json.Unmarshal([]byte(r.body), &got) != nil || !reflect.DeepEqual(got.Persist, []string{recA}) {
				t.Fatalf("put: %d %s", r.status, r.body)
			}
			for _, rec := range []string{recB, recC, recD} {
				if r := adminCall(t, "PUT", base+"/persist", `{"record": "`+rec+`"}`); r.status != 200 {
					t.Fatalf("put %q: %d %s", rec, r.status, r.body)
				}
			}
			shown(recA, recB, recC, recD)
			cases := []struct {
				name, method, path, body string
				status                   int
				want                     string
			}{
				{"a fifth issuer", "PUT", base + "/persist", `{"record": "` + recE + `"}`, 400, `{"error": "too_many_records"}`},
				{"bad record", "PUT", base + "/persist", `{"record": "ca.example"}`, 400, `{"error": "bad_record"}`},
				{"malformed", "PUT", base + "/persist", `{"record": `, 400, `{"error": "malformed_json_payload"}`},
				{"unknown account", "PUT", admin + "/accounts/nothere/persist", `{"record": "` + recE + `"}`, 404, `{"error": "not_found"}`},
				{"bad issuer", "DELETE", base + "/persist/ca_example", "", 400, `{"error": "bad_issuer"}`},
				{"no issuer", "DELETE", base + "/persist/", "", 405, `{"error": "method_not_allowed"}`},
				{"unknown account, delete", "DELETE", admin + "/accounts/nothere/persist/ca.example", "", 404, `{"error": "not_found"}`},
				{"remove", "DELETE", base + "/persist/CA.example", "", 204, ""},
				{"remove again", "DELETE", base + "/persist/ca.example", "", 204, ""},
				{"wrong method", "GET", base + "/persist", "", 405, `{"error": "method_not_allowed"}`},
				{"deeper path", "DELETE", base + "/persist/ca.example/x", "", 404, `{"error": "not_found"}`},
			}
			for _, tc := range cases {
				r := adminCall(t, tc.method, tc.path, tc.body)
				if r.status != tc.status || r.body != tc.want {
					t.Errorf("%s: %d %q; want %d %q", tc.name, r.status, r.body, tc.status, tc.want)
				}
			}
			shown(recB, recC, recD)
		})
	}
}

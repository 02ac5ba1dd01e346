package httpapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestHooks: every write that may have changed the zone calls Changed (so
// that secondaries hear of it), refused calls and writes that prove nothing
// was written do not, and each failed store call is told to StoreError by
// its operation.
func TestHooks(t *testing.T) {
	var rec hookRecorder
	svc := NewService(testConfig(), boltStore(t), rec.hooks())
	admin, public := adminServer(t, svc), apiServer(t, svc)
	expect := func(what string, want int, do func() reply, status int) {
		t.Helper()
		before, _ := rec.counts()
		if r := do(); r.status != status {
			t.Fatalf("%s: %d %s, want %d", what, r.status, r.body, status)
		}
		if after, _ := rec.counts(); after-before != want {
			t.Errorf("%s: Changed called %d times, want %d", what, after-before, want)
		}
	}
	var acc account
	expect("register", 1, func() reply {
		r := call(t, "POST", public+"/register", "")
		json.Unmarshal([]byte(r.body), &acc)
		return r
	}, 201)
	expect("update", 1, func() reply { return acc.update(t, public, txtA) }, 200)
	wrong := acc
	wrong.Password = newPassword()
	expect("update with a wrong key", 0, func() reply { return wrong.update(t, public, txtB) }, 401)
	expect("update with a bad txt", 0, func() reply { return acc.update(t, public, "short") }, 400)
	expect("admin create", 1, func() reply { return adminCall(t, "POST", admin+"/accounts", `{"subdomain": "hooked"}`) }, 201)
	expect("admin create of a taken subdomain", 0, func() reply { return adminCall(t, "POST", admin+"/accounts", `{"subdomain": "hooked"}`) }, 409)
	expect("admin clear", 1, func() reply { return adminCall(t, "DELETE", admin+"/accounts/hooked/txt", "") }, 204)
	expect("admin delete", 1, func() reply { return adminCall(t, "DELETE", admin+"/accounts/hooked", "") }, 204)
	expect("admin delete of a missing account", 0, func() reply { return adminCall(t, "DELETE", admin+"/accounts/hooked", "") }, 404)
	unregister := func(key string) func() reply {
		return func() reply {
			return call(t, "POST", public+"/unregister", `{"subdomain": "`+acc.Subdomain+`"}`, "X-Api-User", acc.Username, "X-Api-Key", key)
		}
	}
	expect("unregister with a wrong key", 0, unregister(wrong.Password), 401)
	other := register(t, public, "")
	expect("unregister", 1, unregister(acc.Password), 200)
	if _, errs := rec.counts(); len(errs) != 0 {
		t.Fatalf("store errors reported while the store worked: %v", errs)
	}

	// A failed store write may have been written: it is reported as a
	// change, and as a store error, as every failed store call is.
	svc.store.Close()
	expect("register on a failed store", 1, func() reply { return call(t, "POST", public+"/register", "") }, 503)
	expect("update on a failed store", 0, func() reply { return other.update(t, public, txtA) }, 503)
	expect("health on a failed store", 0, func() reply { return call(t, "GET", public+"/health", "") }, 503)
	expect("admin list on a failed store", 0, func() reply { return adminCall(t, "GET", admin+"/accounts", "") }, 503)
	if _, errs := rec.counts(); !reflect.DeepEqual(errs, []string{"register", "account", "ping", "admin_list"}) {
		t.Errorf("store errors %v, want register, account, ping, admin_list", errs)
	}
}

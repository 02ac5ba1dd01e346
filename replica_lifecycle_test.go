package acmedns

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/redistest"

	"github.com/miekg/dns"
)

// TestLifecycleAcrossReplicas: two replicas on one Redis (their own
// clients, caches and indexes). A rotation and a deletion made through A's
// admin API are seen by B at once, on DNS and on /update, also after B had
// cached a successful authentication.
func TestLifecycleAcrossReplicas(t *testing.T) {
	srv := redistest.Start(t)
	block := func(pool int) string {
		// Distinct pool sizes give each replica its own store and client.
		return fmt.Sprintf("acmedns auth.example.org {\napi 127.0.0.1:0\nredis %s {\npool_size %d\n}\n}", srv.Addr, pool)
	}
	a, b := testPlugin(t, block(5)), testPlugin(t, block(6))
	if a.store == b.store {
		t.Fatal("the replicas share a store")
	}
	admin, public := adminServer(t, a), apiServer(t, b)
	acc := register(t, public, "")
	for range 3 { // B caches the credentials and the answer
		if r := acc.update(t, public, txtA); r.status != 200 {
			t.Fatal(r)
		}
		if code, n := askTXT(t, b, acc.Subdomain); code != dns.RcodeSuccess || n != 1 {
			t.Fatalf("B before: %d %d", code, n)
		}
	}

	r := adminCall(t, "POST", admin+"/accounts/"+acc.Subdomain+"/password", "")
	var rotated account
	if r.status != 200 || json.Unmarshal([]byte(r.body), &rotated) != nil {
		t.Fatalf("rotate through A: %d %s", r.status, r.body)
	}
	if r := acc.update(t, public, txtB); r.status != 401 {
		t.Errorf("B accepted the old password after the rotation: %d", r.status)
	}
	acc.Password = rotated.Password
	if r := acc.update(t, public, txtB); r.status != 200 {
		t.Errorf("B refused the new password: %d", r.status)
	}

	if r := adminCall(t, "DELETE", admin+"/accounts/"+acc.Subdomain, ""); r.status != 204 {
		t.Fatalf("delete through A: %d %s", r.status, r.body)
	}
	if r := acc.update(t, public, txtA); r.status != 401 {
		t.Errorf("B accepted an update of the deleted account: %d", r.status)
	}
	deadline := time.Now().Add(time.Second)
	for {
		code, _ := askTXT(t, b, acc.Subdomain)
		if code == dns.RcodeNameError {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B still answers rcode %d a second after the delete", code)
		}
		time.Sleep(time.Millisecond)
	}
}

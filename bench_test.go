package acmedns

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
	"golang.org/x/crypto/bcrypt"
)

var benchRuns int

// BenchmarkServeDNS measures the handler alone (no network) answering a
// registered name's TXT, on each store. Run: go test -run '^$' -bench ServeDNS -benchmem
func BenchmarkServeDNS(b *testing.B) {
	stores := []struct{ name, block string }{
		{"bolt", "acmedns auth.example.org {\napi 127.0.0.1:0\n}"},
		{"redis-cache", "acmedns auth.example.org {\napi 127.0.0.1:0\nredis %s\n}"},
		{"redis-nocache", "acmedns auth.example.org {\napi 127.0.0.1:0\nredis %s {\ncache 0\n}\n}"},
	}
	redisAddr := redistest.Start(b).Addr
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			block := st.block
			if st.name != "bolt" {
				block = fmt.Sprintf(block, redisAddr)
			}
			a := testPlugin(b, block)
			benchRuns++ // one Redis serves every sub-benchmark and -count run
			sub := fmt.Sprintf("bench-%s-%d", st.name, benchRuns)
			if err := seedStore(a, sub, "first-value", "second-value"); err != nil {
				b.Fatal(err)
			}
			m := new(dns.Msg)
			m.SetQuestion(sub+".auth.example.org.", dns.TypeTXT)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rec := dnstest.NewRecorder(&test.ResponseWriter{})
				if code, err := a.ServeDNS(ctx, rec, m); code != dns.RcodeSuccess || err != nil {
					b.Fatal(code, err)
				}
			}
		})
	}
}

// BenchmarkUpdate compares one bcrypt comparison with a whole /update over
// loopback HTTP (the store's write included: an fsync on the embedded store)
// when the verified-credential cache knows the credentials and when it is off.
// Run: go test -run '^$' -bench Update -benchtime 3s
func BenchmarkUpdate(b *testing.B) {
	b.Run("bcrypt-compare", func(b *testing.B) {
		key := newPassword()
		hash, _ := bcrypt.GenerateFromPassword([]byte(key), BcryptCost)
		for b.Loop() {
			if bcrypt.CompareHashAndPassword(hash, []byte(key)) != nil {
				b.Fatal("mismatch")
			}
		}
	})
	redisAddr := redistest.Start(b).Addr
	for _, tc := range []struct{ name, opts string }{
		{"update-cached-bolt", ""},
		{"update-uncached-bolt", "auth_cache 0\n"},
		{"update-cached-redis", "redis " + redisAddr + "\n"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			a := testPlugin(b, "acmedns auth.example.org {\napi 127.0.0.1:0\n"+tc.opts+"limits {\nauth_failures off\n}\n}")
			srv := httptest.NewServer(newAPI(a))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/register", "", nil)
			if err != nil {
				b.Fatal(err)
			}
			var acc account
			json.NewDecoder(resp.Body).Decode(&acc)
			resp.Body.Close()
			body := `{"subdomain":"` + acc.Subdomain + `","txt":"` + txtA + `"}`
			b.ResetTimer()
			for b.Loop() {
				req, _ := http.NewRequest("POST", srv.URL+"/update", strings.NewReader(body))
				req.Header.Set("X-Api-User", acc.Username)
				req.Header.Set("X-Api-Key", acc.Password)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatal(resp.Status)
				}
			}
		})
	}
}

// BenchmarkServeDNSUnregistered measures the handler answering names that
// are not registered (NXDOMAIN from the index), on each store.
// Run: go test -run '^$' -bench ServeDNSUnregistered -benchmem
func BenchmarkServeDNSUnregistered(b *testing.B) {
	stores := []struct{ name, block string }{
		{"bolt", "acmedns auth.example.org {\napi 127.0.0.1:0\n}"},
		{"redis-cache", "acmedns auth.example.org {\napi 127.0.0.1:0\nredis %s {\nprefix unreg:\n}\n}"},
	}
	redisAddr := redistest.Start(b).Addr
	for _, st := range stores {
		b.Run(st.name, func(b *testing.B) {
			block := st.block
			if st.name != "bolt" {
				block = fmt.Sprintf(block, redisAddr)
			}
			a := testPlugin(b, block)
			if ix, ok := a.store.(store.Indexed); ok {
				for !ix.IndexTrusted() {
					time.Sleep(time.Millisecond)
				}
			}
			msgs := make([]*dns.Msg, 1024)
			for i := range msgs {
				msgs[i] = new(dns.Msg)
				msgs[i].SetQuestion(fmt.Sprintf("junk-%d.auth.example.org.", i), dns.TypeTXT)
			}
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				rec := dnstest.NewRecorder(&test.ResponseWriter{})
				if code, err := a.ServeDNS(ctx, rec, msgs[i%len(msgs)]); code != dns.RcodeNameError || err != nil {
					b.Fatal(code, err)
				}
				i++
			}
		})
	}
}

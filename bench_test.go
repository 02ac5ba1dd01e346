package acmedns

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/acmedns/acmedns/internal/redistest"
	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
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

package acmedns

import (
	"context"
	"fmt"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/acmedns/acmedns/internal/redistest"

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

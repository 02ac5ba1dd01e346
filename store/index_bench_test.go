package store

import (
	"fmt"
	"testing"
)

// BenchmarkIndex measures the index's memory per account, bulk loaded as a
// store loads it, and the time of a lookup of a registered name (hit) and of
// an unregistered one (miss).
func BenchmarkIndex(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		perAccount, x := measureIndex(func() *subIndex { return loadedIndex(n) })
		const probes = 1 << 16 // more names than the CPU caches hold paths for
		for _, lookup := range []struct {
			name string
			kind string
			want bool
		}{
			{"hit", "acct", true},
			{"miss", "junk", false},
		} {
			names := make([]string, probes)
			for i := range names {
				names[i] = benchName(lookup.kind, (i*7919)%n)
			}
			b.Run(fmt.Sprintf("accounts=%d/%s", n, lookup.name), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if x.has(names[i%probes]) != lookup.want {
						b.Fatalf("has(%q) != %v", names[i%probes], lookup.want)
					}
					i++
				}
				b.ReportMetric(perAccount, "bytes/account")
			})
		}
	}
}

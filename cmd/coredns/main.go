// Command coredns is stock CoreDNS with every in-tree plugin plus acmedns,
// which runs just before the file plugin.
package main

import (
	"slices"

	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every in-tree plugin
	"github.com/coredns/coredns/coremain"

	_ "github.com/acmedns/acmedns"
)

func init() {
	i := slices.Index(dnsserver.Directives, "file")
	if i < 0 {
		panic("acmedns: the file directive, which acmedns goes before, is missing from CoreDNS's directives")
	}
	dnsserver.Directives = slices.Insert(dnsserver.Directives, i, "acmedns")
}

func main() { coremain.Run() }

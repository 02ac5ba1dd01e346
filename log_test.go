package acmedns

import clog "github.com/coredns/coredns/plugin/pkg/log"

func init() {
	clog.Discard()
	tarpitDelay = 0 // tests of the limits need not wait; TestTarpit sets it
}

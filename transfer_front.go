package acmedns

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/transfer"
	"github.com/coredns/coredns/request"

	"github.com/miekg/dns"
)

// xfrFront stands just ahead of the server block's transfer plugin and
// answers AXFR and IXFR for acmedns's zones itself, within the transfer
// bounds, with the transfer plugin's to lists; every other request goes on
// to the transfer plugin, which also still sends the NOTIFY messages.
//
// The transfer plugin cannot bound a transfer: its Transferer interface
// shows neither the client's address nor whether anyone still reads, it
// reads the rest of the zone after a client has gone, and its writes wait
// for a client that never reads for ever. It comes before acmedns in the
// plugin order, so acmedns puts this handler in front of it.
type xfrFront struct {
	a    *ACMEDNS
	next *transfer.Transfer
}

// Name implements plugin.Handler.
func (f *xfrFront) Name() string { return pluginName + "_transfer" }

// ServeDNS implements plugin.Handler.
func (f *xfrFront) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	if z, x, ok := f.a.transferOf(state); ok {
		return f.a.serveTransfer(ctx, state, z, x)
	}
	return f.next.ServeDNS(ctx, w, r)
}

// aheadOfTransfer makes the server block's handler chain pass through an
// xfrFront just before the transfer plugin, wherever that plugin stands:
// every plugin set up so far (acmedns comes after transfer) is given the
// front instead of the transfer plugin as its next handler, and, for a
// transfer plugin first in the chain, a first step returns the front.
// Called from setup; the chain is built after every setup has run.
func (a *ACMEDNS) aheadOfTransfer(cfg *dnsserver.Config) {
	front := func(next plugin.Handler) plugin.Handler {
		t, ok := next.(*transfer.Transfer)
		if !ok {
			return next
		}
		f := &xfrFront{a: a, next: t}
		a.front = f
		return f
	}
	for i, p := range cfg.Plugin {
		cfg.Plugin[i] = func(next plugin.Handler) plugin.Handler { return p(front(next)) }
	}
	cfg.Plugin = slices.Insert(cfg.Plugin, 0, plugin.Plugin(front))
}

// errBehindTransfer: the transfer plugin comes after acmedns in this
// build's plugin order, so the front could not be put ahead of it.
var errBehindTransfer = errors.New("transfer: acmedns must come after the transfer plugin in the plugin order (insert it before file)")

// startTransfers reads the to lists of the server block's transfer plugin,
// for the front, and starts the notifier; without a transfer plugin there
// are neither transfers nor NOTIFY.
func (a *ACMEDNS) startTransfers() error {
	if a.server == nil {
		return nil
	}
	t, ok := a.server.Handler("transfer").(*transfer.Transfer)
	if !ok {
		return nil
	}
	if a.front == nil {
		return errBehindTransfer
	}
	acl, err := readTransferACL(t)
	if err != nil {
		return err
	}
	a.xfrACL = acl
	var settle time.Duration
	if a.cfg.Redis != nil {
		settle = notifySettle
	}
	a.notify = newNotifier(t, a.cfg.Zones, settle)
	a.hold(a.notify.close)
	zeroTransferMetrics(a.cfg.Zones)
	return nil
}

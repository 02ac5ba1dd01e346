package acmedns

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/request"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// transferPage is how many registrations an AXFR reads from the store at a
// time: the zone is streamed page by page, never held whole, and the next
// page is read only once the previous one has been written to the
// connection.
const transferPage = 1000

// ixfrMaxChanges is how many changes an IXFR may be behind: one further
// behind gets the zone by AXFR (as RFC 1995 allows), so that no answer
// holds more than about a page of the store in memory.
const ixfrMaxChanges = transferPage

// transferPageTimeout bounds each store call of a transfer: reading a page
// of a thousand records takes longer than answering one query.
const transferPageTimeout = 10 * time.Second

// transferOf returns the zone and the transfer plugin's block of an AXFR
// or IXFR for one of the zones; ok is false for any other request, which
// is the transfer plugin's to answer.
func (a *ACMEDNS) transferOf(state request.Request) (z *zone, x *xfrBlock, ok bool) {
	if qtype := state.QType(); qtype != dns.TypeAXFR && qtype != dns.TypeIXFR {
		return nil, nil, false
	}
	z, ok = a.zones[state.Name()]
	x = a.xfrACL.block(state.Name())
	return z, x, ok && x != nil
}

// serveTransfer answers an AXFR or IXFR for zone z, which block x of the
// transfer plugin covers, within the transfer bounds. As the transfer
// plugin does, it refuses transfers over UDP and from clients not in x's
// to list; a client beyond a bound is refused too. A refusal, or a failure
// before anything was written, is returned unwritten.
func (a *ACMEDNS) serveTransfer(ctx context.Context, state request.Request, z *zone, x *xfrBlock) (int, error) {
	refused := ""
	switch {
	case state.Proto() != "tcp":
		refused = refusedUDP
	case !x.allows(state.IP()):
		refused = refusedACL
	}
	var serial uint32
	if refused == "" && state.QType() == dns.TypeIXFR {
		var ok bool
		if serial, ok = ixfrSerial(state.Req); !ok {
			return dns.RcodeFormatError, nil
		}
	}
	var release func()
	if refused == "" {
		client, _ := netip.ParseAddr(state.IP())
		release, refused = takeTransferSlot(client, a.cfg.Transfer)
	}
	if refused != "" {
		transferRefusals.WithLabelValues(z.name, refused).Inc()
		return dns.RcodeRefused, nil
	}
	out := newXfrWriter(state.W, state.Req, a.cfg.Transfer.Idle)
	rcode, err := a.transfer(ctx, z, serial, out)
	if out.stalled {
		time.AfterFunc(stalledSlotHold, release)
	} else {
		release()
	}
	return rcode, err
}

// stalledSlotHold is how long a transfer cut off for stalling keeps its
// slot. The kernel keeps what was queued for a client that reads nothing,
// up to its send buffer (a few MiB), until it gives up on the closed
// connection: Linux does so once its zero-window probes have backed off to
// two minutes apart, 5.7 minutes after the close as measured on loopback
// with the default sysctls (tcp_orphan_retries 0). The slot stands for
// that memory until then, so that a client cannot pile it up by stalling
// again and again.
var stalledSlotHold = 6 * time.Minute

// ixfrSerial is the serial of the SOA an IXFR request carries in its
// authority section.
func ixfrSerial(r *dns.Msg) (uint32, bool) {
	if len(r.Ns) != 1 {
		return 0, false
	}
	soa, ok := r.Ns[0].(*dns.SOA)
	if !ok {
		return 0, false
	}
	return soa.Serial, true
}

// transfer sends zone z to a secondary at serial (0: none, an AXFR): a
// single SOA when it is current, the changes since in RFC 1995's
// incremental form when the journal has them all and they are few enough,
// and the whole zone otherwise. A transfer that stops part way (the client
// stalled or went away, or the store failed) has its connection closed, so
// the secondary sees it fail and tries again.
func (a *ACMEDNS) transfer(ctx context.Context, z *zone, serial uint32, out *xfrWriter) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, transferPageTimeout)
	kind, diff, current, err := a.transferKind(ctx, serial)
	cancel()
	if err != nil {
		countStoreError("transfer")
		return dns.RcodeServerFailure, plugin.Error(pluginName, err)
	}
	a.noteSerial(current)
	transfers.WithLabelValues(z.name, kind).Inc()
	switch kind {
	case "current":
		err = out.add(z.soaAt(current))
	case "ixfr":
		err = z.writeIncremental(out, serial, current, diff, a.cfg.TTL)
	default:
		err = a.streamZone(z, current, out)
	}
	if err == nil {
		err = out.flush()
	}
	if err == nil {
		return dns.RcodeSuccess, nil
	}
	return a.abortTransfer(z, out, err)
}

// abortTransfer ends a transfer that failed part way and counts why. A
// store failure before anything was written is SERVFAIL; otherwise the
// connection is closed, mid-stream.
func (a *ACMEDNS) abortTransfer(z *zone, out *xfrWriter, err error) (int, error) {
	reason := "store"
	switch {
	case errors.Is(err, errStalled):
		reason = "stalled"
	case errors.Is(err, errClientGone):
		reason = "closed"
	default:
		countStoreError("transfer")
	}
	transferAborts.WithLabelValues(z.name, reason).Inc()
	if reason == "store" && !out.wrote {
		return dns.RcodeServerFailure, plugin.Error(pluginName, err)
	}
	out.w.Close()
	if reason != "store" {
		return dns.RcodeSuccess, nil // the client's doing, not the server's
	}
	return dns.RcodeSuccess, plugin.Error(pluginName, err)
}

// transferKind decides how a secondary at serial (0: none) is brought up
// to date, and returns the zone's current serial: "current", "ixfr" with
// the changes to send, or "axfr" to stream the whole zone.
func (a *ACMEDNS) transferKind(ctx context.Context, serial uint32) (kind string, diff []delta, current uint32, err error) {
	if serial == 0 {
		current, err = a.store.Serial(ctx)
		return "axfr", nil, current, err
	}
	changes, current, ok, err := a.store.Changes(ctx, serial, ixfrMaxChanges)
	switch {
	case err != nil:
		return "", nil, 0, err
	case !store.SerialLess(serial, current):
		return "current", nil, current, nil
	}
	if diff, ok := condense(changes, ok); ok {
		return "ixfr", diff, current, nil
	}
	return "axfr", nil, current, nil
}

// streamZone sends the whole zone at serial, page by page: the SOA, the
// apex NS records, the nameservers' addresses, every registered
// subdomain's TXT values, and the SOA again. A store failure ends it
// without the closing SOA, so the secondary discards the incomplete
// transfer.
//
// The zone is read as it is while it streams: a change made meanwhile may
// already be in it, and the secondary receives it again by its next IXFR.
func (a *ACMEDNS) streamZone(z *zone, serial uint32, out *xfrWriter) error {
	soa := z.soaAt(serial)
	if err := out.add(soa); err != nil {
		return err
	}
	if err := out.add(z.ns...); err != nil {
		return err
	}
	if err := out.add(z.glue...); err != nil {
		return err
	}
	for after := ""; ; {
		ctx, cancel := context.WithTimeout(context.Background(), transferPageTimeout)
		recs, next, err := a.store.List(ctx, after, transferPage)
		cancel()
		if err != nil {
			return err
		}
		for _, rec := range recs {
			texts := append(values(rec.TXT), rec.Persist...)
			if err := out.add(z.txtRecords(rec.Subdomain, texts, a.cfg.TTL)...); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		after = next
	}
	return out.add(soa)
}

// values returns the texts of vs.
func values(vs []store.Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Text
	}
	return out
}

// txtRecords returns the TXT records of subdomain holding texts: none
// where the zone serves a nameserver (or a name on the way to one) itself,
// as the DNS answers there do not come from the store either.
func (z *zone) txtRecords(subdomain string, texts []string, ttl uint32) []dns.RR {
	owner := subdomain + "." + z.name
	if _, ok := z.addrs[owner]; ok || z.ents[owner] {
		return nil
	}
	rrs := make([]dns.RR, len(texts))
	for i, t := range texts {
		rrs[i] = txtRecord(owner, t, ttl)
	}
	return rrs
}

// soaAt returns a copy of the zone's SOA at serial.
func (z *zone) soaAt(serial uint32) *dns.SOA {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Serial = serial
	return soa
}

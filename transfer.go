package acmedns

import (
	"context"
	"time"

	"github.com/coredns/coredns/plugin/transfer"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// transferPage is how many registrations an AXFR reads from the store at a
// time: the zone is streamed page by page, never held whole.
const transferPage = 1000

// transferPageTimeout bounds each store call of a transfer: reading a page
// of a thousand records takes longer than answering one query.
const transferPageTimeout = 10 * time.Second

// Transfer implements the transfer plugin's Transferer. With serial 0 it
// streams the whole zone (AXFR): the SOA, the apex NS records, the
// nameservers' addresses, every registered subdomain's TXT values, and the
// SOA again. With the serial a secondary holds it sends a single SOA when
// that is current, the changes since it in RFC 1995's incremental form when
// the store's journal still has them all, and the whole zone otherwise.
func (a *ACMEDNS) Transfer(zone string, serial uint32) (<-chan []dns.RR, error) {
	z, ok := a.zones[zone]
	if !ok {
		return nil, transfer.ErrNotAuthoritative
	}
	ctx, cancel := context.WithTimeout(context.Background(), transferPageTimeout)
	defer cancel()
	kind, rrs, current, err := a.transferKind(ctx, z, serial)
	if err != nil {
		countStoreError("transfer")
		return nil, err
	}
	a.noteSerial(current)
	transfers.WithLabelValues(zone, kind).Inc()
	if kind != "axfr" {
		return sendAll(rrs), nil
	}
	ch := make(chan []dns.RR, 1)
	go a.streamZone(z, current, ch)
	return ch, nil
}

// transferKind decides how a secondary at serial (0: none) is brought up
// to date, and returns the zone's current serial: "current" or "ixfr" with
// the records to send, or "axfr" to stream the whole zone.
func (a *ACMEDNS) transferKind(ctx context.Context, z *zone, serial uint32) (kind string, rrs []dns.RR, current uint32, err error) {
	if serial == 0 {
		current, err = a.store.Serial(ctx)
		return "axfr", nil, current, err
	}
	changes, current, ok, err := a.store.Changes(ctx, serial, store.DefaultJournalSize)
	switch {
	case err != nil:
		return "", nil, 0, err
	case !store.SerialLess(serial, current):
		return "current", []dns.RR{z.soaAt(current)}, current, nil
	}
	if diff, ok := condense(changes, ok); ok {
		return "ixfr", z.incremental(serial, current, diff, a.cfg.TTL), current, nil
	}
	return "axfr", nil, current, nil
}

// sendAll returns a closed channel holding rrs.
func sendAll(rrs []dns.RR) <-chan []dns.RR {
	ch := make(chan []dns.RR, 1)
	ch <- rrs
	close(ch)
	return ch
}

// streamZone sends the whole zone at serial on ch, page by page, and closes
// it. A store failure ends the stream without the closing SOA, so the
// secondary discards the incomplete transfer and tries again.
//
// The zone is read as it is while it streams: a change made meanwhile may
// already be in it, and the secondary receives it again by its next IXFR.
func (a *ACMEDNS) streamZone(z *zone, serial uint32, ch chan<- []dns.RR) {
	defer close(ch)
	soa := z.soaAt(serial)
	head := append([]dns.RR{soa}, z.ns...)
	ch <- append(head, z.glue...)
	for after := ""; ; {
		ctx, cancel := context.WithTimeout(context.Background(), transferPageTimeout)
		recs, next, err := a.store.List(ctx, after, transferPage)
		cancel()
		if err != nil {
			countStoreError("transfer")
			log.Errorf("transfer of %s aborted: %v", z.name, err)
			return
		}
		var rrs []dns.RR
		for _, rec := range recs {
			rrs = append(rrs, z.txtRecords(rec.Subdomain, values(rec.TXT), a.cfg.TTL)...)
		}
		if len(rrs) > 0 {
			ch <- rrs
		}
		if next == "" {
			break
		}
		after = next
	}
	ch <- []dns.RR{soa}
}

// values returns the texts of vs.
func values(vs []store.Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Text
	}
	return out
}

// txtRecords returns the TXT records of subdomain holding texts.
func (z *zone) txtRecords(subdomain string, texts []string, ttl uint32) []dns.RR {
	owner := subdomain + "." + z.name
	rrs := make([]dns.RR, len(texts))
	for i, t := range texts {
		rrs[i] = &dns.TXT{
			Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
			Txt: []string{t},
		}
	}
	return rrs
}

// soaAt returns a copy of the zone's SOA at serial.
func (z *zone) soaAt(serial uint32) *dns.SOA {
	soa := dns.Copy(z.soa).(*dns.SOA)
	soa.Serial = serial
	return soa
}

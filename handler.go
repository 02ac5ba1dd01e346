package acmedns

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"
	"github.com/coredns/coredns/request"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler. It answers authoritatively for its
// zones: TXT values of registered subdomains, the zone's SOA and NS, and the
// nameservers' addresses. A store failure is SERVFAIL, never NXDOMAIN.
func (a *ACMEDNS) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	state := request.Request{W: w, Req: r}
	qname := state.Name()
	zname := plugin.Zones(a.cfg.Zones).Matches(qname)
	if zname == "" || state.QClass() != dns.ClassINET {
		return plugin.NextOrFailure(a.Name(), a.Next, ctx, w, r)
	}
	q := &query{w: w, r: r, z: a.zones[zname], qname: qname, owner: state.QName(), a: a,
		labels: answerLabels{metrics.WithServer(ctx), zname, metrics.WithView(ctx)}}
	if r.Opcode != dns.OpcodeQuery {
		// A NOTIFY or an UPDATE: acmedns's zones change through its API
		// alone. The server answers NOTIMP, as it does for an opcode no
		// plugin takes.
		q.count("notimp")
		return dns.RcodeNotImplemented, nil
	}
	qtype := state.QType()
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true

	if qname == zname && qtype == dns.TypeSOA {
		return a.apexSOA(ctx, q, m)
	}
	if a.owners != nil && strings.HasPrefix(qname, "_") && a.owners[qname] { // owners are _acme-challenge.…
		return a.challengeTXT(ctx, q, m, qtype)
	}
	if answer, extra, ok := q.z.static(qname, q.owner, qtype); ok {
		m.Answer, m.Extra = answer, extra
		return q.write(m)
	}

	sub, ok := singleLabel(qname, zname)
	if !ok {
		return a.nxdomain(ctx, q, m)
	}
	values, err := a.lookup(ctx, sub)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return a.nxdomain(ctx, q, m)
	case err != nil:
		countStoreError("txt")
		q.count("servfail")
		return dns.RcodeServerFailure, plugin.Error(pluginName, err)
	}
	if qtype == dns.TypeTXT || qtype == dns.TypeANY {
		if a.cfg.TXTExpire > 0 {
			values = store.Live(values, a.cfg.TXTExpire, time.Now())
		}
		for _, v := range values {
			m.Answer = append(m.Answer, txtRecord(q.owner, v.Text, a.cfg.TTL))
		}
	}
	return q.write(m)
}

// lookup returns a subdomain's TXT values: from the store's cache when it
// has them, else from the store within the configured timeout.
func (a *ACMEDNS) lookup(ctx context.Context, sub string) ([]store.Value, error) {
	if values, hit, err := a.store.CachedTXT(sub); hit {
		return values, err
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
	defer cancel()
	return a.store.FetchTXT(ctx, sub)
}

// query is one question being answered inside a zone.
type query struct {
	w      dns.ResponseWriter
	r      *dns.Msg
	z      *zone
	qname  string       // lower-cased, for lookups
	owner  string       // as asked, for owner names
	labels answerLabels // for metrics
	a      *ACMEDNS     // for the serial of negative answers, read only for them
	serial uint32       // the serial an apex SOA answer read; 0: not read
}

// count counts the query's answer by result.
func (q *query) count(result string) { answerCounter(q.labels, result).Inc() }

// write sends m; an empty answer is NODATA with the SOA in authority.
func (q *query) write(m *dns.Msg) (int, error) {
	result := "answer"
	if len(m.Answer) == 0 {
		result = "nodata"
		m.Ns = []dns.RR{q.soa()}
	}
	q.count(result)
	q.w.WriteMsg(m)
	return dns.RcodeSuccess, nil
}

// nxdomain sends NXDOMAIN with the SOA, or hands the query on with fallthrough.
func (a *ACMEDNS) nxdomain(ctx context.Context, q *query, m *dns.Msg) (int, error) {
	if a.cfg.Fall.Through(q.qname) {
		return plugin.NextOrFailure(a.Name(), a.Next, ctx, q.w, q.r)
	}
	q.count("nxdomain")
	m.Rcode = dns.RcodeNameError
	m.Ns = []dns.RR{q.soa()}
	q.w.WriteMsg(m)
	return dns.RcodeNameError, nil
}

// soa returns the zone's SOA named with the query's own spelling of the
// zone, so a 0x20-randomised query sees its case throughout.
func (q *query) soa() dns.RR {
	serial := q.serial
	if serial == 0 {
		serial = q.a.lastSerial()
	}
	return withOwner(q.z.soaAt(serial), q.owner[len(q.owner)-len(q.z.name):])
}

// singleLabel returns the one label of qname below zone, if that is all
// there is.
func singleLabel(qname, zone string) (string, bool) {
	rest := strings.TrimSuffix(qname, "."+zone)
	if rest == qname || rest == "" || strings.Contains(rest, ".") {
		return "", false
	}
	return rest, true
}

// apexSOA answers the zone's SOA with the current serial: from the store's
// memory when it knows it current (it forgets it at every change it hears
// of, from whichever replica), else read from the store now, so that a
// secondary checking it after a NOTIFY sees the change and a flood of SOA
// queries costs the store one read per change. A store failure is SERVFAIL.
func (a *ACMEDNS) apexSOA(ctx context.Context, q *query, m *dns.Msg) (int, error) {
	serial, ok := a.store.CachedSerial()
	var err error
	if !ok {
		ctx, cancel := context.WithTimeout(ctx, a.cfg.Timeout)
		serial, err = a.store.Serial(ctx)
		cancel()
	}
	if err != nil {
		countStoreError("serial")
		q.count("servfail")
		return dns.RcodeServerFailure, plugin.Error(pluginName, err)
	}
	a.noteSerial(serial)
	q.serial = serial
	m.Answer = []dns.RR{withOwner(q.z.soaAt(q.serial), q.owner)}
	return q.write(m)
}

// noteSerial keeps the serial last read from the store, which negative
// answers carry in their SOA.
func (a *ACMEDNS) noteSerial(serial uint32) { a.serial.Store(serial) }

// lastSerial is the serial negative answers carry: the store's, when it
// knows it current, else the last one read.
func (a *ACMEDNS) lastSerial() uint32 {
	if serial, ok := a.store.CachedSerial(); ok {
		return serial
	}
	return a.serial.Load()
}

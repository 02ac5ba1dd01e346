package acmedns

import (
	"strings"

	"github.com/coredns/coredns/plugin"

	"github.com/miekg/dns"
)

// zone holds the static records of one zone, built once from the Corefile.
type zone struct {
	name  string
	soa   *dns.SOA            // serial 0: answers take it from the store (soaAt)
	ns    []dns.RR            // the apex NS set
	addrs map[string][]dns.RR // A/AAAA of nameservers inside this zone, by name
	ents  map[string]bool     // names between the apex and a nameserver: they exist, empty
	glue  []dns.RR            // all of addrs, for the additional section of NS answers
}

func newZone(name string, cfg *Config) *zone {
	z := &zone{name: name, addrs: map[string][]dns.RR{}, ents: map[string]bool{}}
	mbox := cfg.Hostmaster
	if mbox == "" {
		mbox = "hostmaster." + name
	}
	z.soa = &dns.SOA{
		Hdr:     dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: cfg.NegativeTTL},
		Ns:      cfg.Nameservers[0].Name,
		Mbox:    mbox,
		Refresh: 3600,
		Retry:   600,
		Expire:  604800,
		Minttl:  cfg.NegativeTTL,
	}
	for _, ns := range cfg.Nameservers {
		z.ns = append(z.ns, &dns.NS{
			Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: staticTTL},
			Ns:  ns.Name,
		})
		if !dns.IsSubDomain(name, ns.Name) || plugin.Zones(cfg.Zones).Matches(ns.Name) != name {
			continue
		}
		for _, ip := range ns.Addrs {
			var rr dns.RR
			hdr := dns.RR_Header{Name: ns.Name, Class: dns.ClassINET, Ttl: staticTTL}
			if ip.Is4() {
				hdr.Rrtype = dns.TypeA
				rr = &dns.A{Hdr: hdr, A: ip.AsSlice()}
			} else {
				hdr.Rrtype = dns.TypeAAAA
				rr = &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()}
			}
			z.addrs[ns.Name] = append(z.addrs[ns.Name], rr)
			z.glue = append(z.glue, rr)
		}
		if _, ok := z.addrs[ns.Name]; !ok {
			z.addrs[ns.Name] = nil // an in-zone name that exists, with no addresses
		}
		for parent := ns.Name; ; {
			i, end := dns.NextLabel(parent, 0)
			if end {
				break
			}
			if parent = parent[i:]; parent == name {
				break
			}
			z.ents[parent] = true
		}
	}
	return z
}

// static answers a query for the apex or a nameserver name. ok is false when
// qname is neither.
func (z *zone) static(qname, owner string, qtype uint16) (answer, extra []dns.RR, ok bool) {
	addrs, isNS := z.addrs[qname]
	if qname != z.name && !isNS && !z.ents[qname] {
		return nil, nil, false
	}
	if qname == z.name {
		switch qtype {
		case dns.TypeNS:
			answer = withOwners(z.ns, owner)
			extra = z.glue
		}
	}
	for _, rr := range addrs {
		if rr.Header().Rrtype == qtype || qtype == dns.TypeANY {
			answer = append(answer, withOwner(rr, owner))
		}
	}
	return answer, extra, true
}

// withOwner returns a copy of rr named owner, so answers echo the query's case.
func withOwner(rr dns.RR, owner string) dns.RR {
	c := dns.Copy(rr)
	c.Header().Name = owner
	return c
}

func withOwners(rrs []dns.RR, owner string) []dns.RR {
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = withOwner(rr, owner)
	}
	return out
}

// txtRecord is the TXT record of owner holding value byte for byte: one
// character-string, or, for a value over 255 octets (a persistent record),
// several of 255 octets but the last, which a reader concatenates. The DNS
// library reads a TXT string as zone-file text, where a backslash starts an
// escape ("a\065b" would go out as "aAb"), so each backslash is doubled; a
// stored value has no other byte it would read otherwise (values are
// printable ASCII and spaces, and quotes are sent as they are).
func txtRecord(owner, value string, ttl uint32) *dns.TXT {
	strs := make([]string, 0, len(value)/maxCharString+1)
	for len(value) > maxCharString {
		strs = append(strs, strings.ReplaceAll(value[:maxCharString], `\`, `\\`))
		value = value[maxCharString:]
	}
	return &dns.TXT{
		Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: ttl},
		Txt: append(strs, strings.ReplaceAll(value, `\`, `\\`)),
	}
}

// maxCharString is the most octets a DNS character-string holds.
const maxCharString = 255

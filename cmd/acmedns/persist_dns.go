package main

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// maxCNAMEs bounds the CNAME chain followed to a TXT RRset.
const maxCNAMEs = 8

// txtLookup is the TXT RRset at the end of a name's CNAME chain.
type txtLookup struct {
	Chain  []string // the CNAME targets followed, in order
	Rcode  int      // of the last answer
	Values []string // each record's character-strings joined
}

// final is the name whose TXT RRset Values are.
func (l txtLookup) final(name string) string {
	if len(l.Chain) == 0 {
		return dns.Fqdn(name)
	}
	return l.Chain[len(l.Chain)-1]
}

// lookupTXT asks for name TXT and follows CNAMEs: those in one answer (a
// recursive resolver's) and, when the answer stops at a CNAME, by asking
// again for its target (an authoritative server outside the target's
// zone). An error is a resolver that did not answer, or a loop.
func lookupTXT(res *resolver, name string) (txtLookup, error) {
	var l txtLookup
	cur := strings.ToLower(dns.Fqdn(name))
	for range maxCNAMEs + 1 {
		resp, err := res.query(cur, dns.TypeTXT)
		if err != nil {
			return l, fmt.Errorf("no answer from the resolver %s for %s TXT: %v", res.addr, cur, err)
		}
		l.Rcode = resp.Rcode
		if resp.Rcode != dns.RcodeSuccess {
			return l, nil
		}
		cur = followCNAMEs(resp.Answer, cur, &l)
		if len(l.Chain) > maxCNAMEs {
			return l, fmt.Errorf("more than %d CNAMEs from %s", maxCNAMEs, dns.Fqdn(name))
		}
		for _, rr := range resp.Answer {
			if t, ok := rr.(*dns.TXT); ok && strings.EqualFold(t.Hdr.Name, cur) {
				l.Values = append(l.Values, strings.Join(t.Txt, ""))
			}
		}
		if len(l.Values) > 0 || len(l.Chain) == 0 || !endsInCNAME(resp.Answer, l.Chain) {
			return l, nil
		}
	}
	return l, fmt.Errorf("more than %d CNAMEs from %s", maxCNAMEs, dns.Fqdn(name))
}

// followCNAMEs walks the CNAMEs of answer from cur, adding each target to
// l.Chain, and returns the last name.
func followCNAMEs(answer []dns.RR, cur string, l *txtLookup) string {
	for hops := 0; hops <= maxCNAMEs; hops++ {
		next := ""
		for _, rr := range answer {
			if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, cur) {
				next = strings.ToLower(cn.Target)
			}
		}
		if next == "" {
			return cur
		}
		l.Chain = append(l.Chain, next)
		cur = next
	}
	return cur
}

// endsInCNAME reports whether this answer held a CNAME to the chain's last
// name, so that name's TXT must be asked for again.
func endsInCNAME(answer []dns.RR, chain []string) bool {
	last := chain[len(chain)-1]
	for _, rr := range answer {
		if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Target, last) {
			return true
		}
	}
	return false
}

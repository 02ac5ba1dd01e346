package acmedns

import (
	"slices"

	"github.com/acmedns/acmedns/store"
)

// delta is what a run of journaled changes did to one subdomain's TXT
// values: the values it lost and those it gained.
type delta struct {
	subdomain      string
	removed, added []string
}

// condense folds changes, oldest first, into one delta per subdomain, in
// the order the subdomains first changed. ok is false (and the caller sends
// the whole zone) when the journal did not have them all, or when they do
// not follow one another: a change that does not start from the values the
// previous one left means a change is missing.
func condense(changes []store.Change, ok bool) ([]delta, bool) {
	if !ok {
		return nil, false
	}
	type run struct{ first, last store.Change }
	runs := map[string]*run{}
	var order []string
	for _, c := range changes {
		r, seen := runs[c.Subdomain]
		if !seen {
			runs[c.Subdomain] = &run{first: c, last: c}
			order = append(order, c.Subdomain)
			continue
		}
		if !slices.Equal(r.last.New, c.Old) {
			return nil, false
		}
		r.last = c
	}
	out := make([]delta, 0, len(order))
	for _, sub := range order {
		r := runs[sub]
		d := delta{subdomain: sub, removed: without(r.first.Old, r.last.New), added: without(r.last.New, r.first.Old)}
		if len(d.removed) > 0 || len(d.added) > 0 {
			out = append(out, d)
		}
	}
	return out, true
}

// without returns the values of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// writeIncremental sends an IXFR answer (RFC 1995) from serial from to
// serial to in one difference sequence: the new SOA, the old SOA, the
// records removed, the new SOA, the records added, and the new SOA to end
// it. The records are made as they are written.
func (z *zone) writeIncremental(out *xfrWriter, from, to uint32, deltas []delta, ttl uint32) error {
	newSOA := z.soaAt(to)
	if err := out.add(newSOA, z.soaAt(from)); err != nil {
		return err
	}
	for _, d := range deltas {
		if err := out.add(z.txtRecords(d.subdomain, d.removed, ttl)...); err != nil {
			return err
		}
	}
	if err := out.add(newSOA); err != nil {
		return err
	}
	for _, d := range deltas {
		if err := out.add(z.txtRecords(d.subdomain, d.added, ttl)...); err != nil {
			return err
		}
	}
	return out.add(newSOA)
}

package store

// Indexed is implemented by stores that keep an in-memory index of their
// registered subdomains, which answers lookups of unregistered names.
type Indexed interface {
	// IndexLen is the number of subdomains in the index.
	IndexLen() int
	// IndexTrusted reports whether a name missing from the index is
	// answered "not registered" without asking the backend.
	IndexTrusted() bool
	// IndexLoads counts the bulk loads of the index completed so far.
	IndexLoads() uint64
}

// answer implements CachedTXT for a store with the TXT cache c (nil: none)
// and the index x; report, if set, is told whether the TXT cache answered.
//
// A TXT cache hit answers. Otherwise a trusted index that lacks subdomain
// answers ErrNotFound, leaving the TXT cache alone: lookups of random names
// neither reach the backend nor evict cached registrations. Anything else is
// a miss, for the caller to FetchTXT.
func answer(c *txtCache, x *subIndex, subdomain string, report func(hit bool)) (values []Value, hit bool, err error) {
	if !ValidSubdomain(subdomain) {
		return nil, true, ErrNotFound
	}
	if c != nil {
		values, registered, hit := c.get(subdomain)
		if report != nil {
			report(hit)
		}
		if hit && !registered {
			return nil, true, ErrNotFound
		}
		if hit {
			return values, true, nil
		}
	}
	if x.isTrusted() && !x.has(subdomain) {
		return nil, true, ErrNotFound
	}
	return nil, false, nil
}

package httpapi

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientIP returns the address a request comes from. X-Forwarded-For is read
// only when the TCP peer is a trusted proxy, and then from the right: the
// first entry that is not itself a trusted proxy is the client. Entries to the
// left of it were written by the client and prove nothing.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := addrOf(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	hops := forwardedHops(r.Header.Values("X-Forwarded-For"))
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			// Garbage from the left of the chain: the last good hop is
			// as far as the trusted proxies vouch.
			return client
		}
		client = ip.Unmap().WithZone("")
		if !contains(trusted, client) {
			return client
		}
	}
	return client
}

func forwardedHops(headers []string) []string {
	var hops []string
	for _, h := range headers {
		hops = append(hops, strings.Split(h, ",")...)
	}
	return hops
}

// addrOf parses "host:port" into an address, IPv4-mapped IPv6 unmapped.
func addrOf(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return ip.Unmap().WithZone("")
}

func contains(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParsePrefix parses one CIDR (a prefix length is required); brackets
// around the address are dropped. Host bits are kept as written
// ("10.0.0.1/8"). An IPv4-mapped prefix ("::ffff:10.0.0.0/104") becomes the
// IPv4 prefix it means, as client addresses are compared unmapped.
func ParsePrefix(s string) (netip.Prefix, error) {
	clean := strings.NewReplacer("[", "", "]", "").Replace(s)
	p, err := netip.ParsePrefix(clean)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

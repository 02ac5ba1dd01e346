package acmedns

import (
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

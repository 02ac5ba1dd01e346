package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := prefixList("10.0.0.0/8", "::1/128", "2001:db8:ffff::/48")
	tests := []struct {
		name    string
		peer    string         // RemoteAddr
		xff     []string       // X-Forwarded-For header lines
		trusted []netip.Prefix // trusted proxies
		want    string         // "" for the invalid address
	}{
		{
			name: "no header",
			peer: "192.0.2.1:4321",
			want: "192.0.2.1",
		},
		{
			name: "no trusted proxies ignores the header",
			peer: "192.0.2.1:4321",
			xff:  []string{"198.51.100.9"},
			want: "192.0.2.1",
		},
		{
			name:    "empty trusted list ignores the header",
			peer:    "10.0.0.1:4321",
			xff:     []string{"198.51.100.9"},
			trusted: []netip.Prefix{},
			want:    "10.0.0.1",
		},
		{
			name:    "untrusted peer with the header",
			peer:    "192.0.2.1:4321",
			xff:     []string{"198.51.100.9, 10.0.0.2"},
			trusted: proxies,
			want:    "192.0.2.1",
		},
		{
			name:    "untrusted peer claiming a trusted address",
			peer:    "192.0.2.1:4321",
			xff:     []string{"10.0.0.5"},
			trusted: proxies,
			want:    "192.0.2.1",
		},
		{
			name:    "trusted peer without header",
			peer:    "10.0.0.1:4321",
			trusted: proxies,
			want:    "10.0.0.1",
		},
		{
			name:    "trusted peer, one hop",
			peer:    "10.0.0.1:4321",
			xff:     []string{"198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "trusted peer takes the right-most untrusted entry",
			peer:    "10.0.0.1:4321",
			xff:     []string{"203.0.113.66, 198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "spoofed left entries are ignored",
			peer:    "10.0.0.1:4321",
			xff:     []string{"10.0.0.99, 127.0.0.1, 198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "chain of trusted proxies",
			peer:    "10.0.0.1:4321",
			xff:     []string{"203.0.113.66, 198.51.100.9, 2001:db8:ffff::7, 10.1.2.3, 10.0.0.2"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "all entries trusted gives the left-most",
			peer:    "10.0.0.1:4321",
			xff:     []string{"10.9.9.9, 10.0.0.3,10.0.0.2"},
			trusted: proxies,
			want:    "10.9.9.9",
		},
		{
			name:    "garbage entry gives the last good hop",
			peer:    "10.0.0.1:4321",
			xff:     []string{"198.51.100.9, not-an-ip, 10.0.0.3, 10.0.0.2"},
			trusted: proxies,
			want:    "10.0.0.3",
		},
		{
			name:    "garbage right-most entry gives the peer",
			peer:    "10.0.0.1:4321",
			xff:     []string{"198.51.100.9, garbage"},
			trusted: proxies,
			want:    "10.0.0.1",
		},
		{
			name:    "entry with a port is garbage",
			peer:    "10.0.0.1:4321",
			xff:     []string{"198.51.100.9:5555"},
			trusted: proxies,
			want:    "10.0.0.1",
		},
		{
			name:    "empty header value",
			peer:    "10.0.0.1:4321",
			xff:     []string{""},
			trusted: proxies,
			want:    "10.0.0.1",
		},
		{
			name:    "garbage left of the client is not reached",
			peer:    "10.0.0.1:4321",
			xff:     []string{"<script>, 198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "multiple header lines read in order",
			peer:    "10.0.0.1:4321",
			xff:     []string{"203.0.113.66, 198.51.100.9", "10.0.0.4", "10.0.0.3"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "multiple header lines, client in the last",
			peer:    "10.0.0.1:4321",
			xff:     []string{"10.0.0.7", "198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "multiple header lines, all trusted",
			peer:    "10.0.0.1:4321",
			xff:     []string{"10.0.0.8, 10.0.0.7", "10.0.0.6"},
			trusted: proxies,
			want:    "10.0.0.8",
		},
		{
			name:    "IPv6 peer",
			peer:    "[::1]:1234",
			trusted: proxies,
			want:    "::1",
		},
		{
			name:    "IPv6 trusted peer with IPv6 client",
			peer:    "[::1]:1234",
			xff:     []string{"2001:db8:1::5"},
			trusted: proxies,
			want:    "2001:db8:1::5",
		},
		{
			name:    "IPv6 untrusted peer",
			peer:    "[2001:db8:1::1]:1234",
			xff:     []string{"198.51.100.9"},
			trusted: proxies,
			want:    "2001:db8:1::1",
		},
		{
			name: "IPv6 peer with zone",
			peer: "[fe80::1%eth0]:1234",
			want: "fe80::1",
		},
		{
			name: "IPv4-mapped peer is unmapped",
			peer: "[::ffff:192.0.2.1]:1234",
			want: "192.0.2.1",
		},
		{
			name:    "IPv4-mapped peer matches IPv4 trusted proxies",
			peer:    "[::ffff:10.0.0.1]:1234",
			xff:     []string{"198.51.100.9"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name:    "IPv4-mapped entries are unmapped",
			peer:    "10.0.0.1:4321",
			xff:     []string{"::ffff:198.51.100.9, ::ffff:10.0.0.2"},
			trusted: proxies,
			want:    "198.51.100.9",
		},
		{
			name: "peer without port",
			peer: "192.0.2.1",
			want: "192.0.2.1",
		},
		{
			name:    "unparsable peer",
			peer:    "pipe",
			xff:     []string{"198.51.100.9"},
			trusted: proxies,
			want:    "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/register", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := clientIP(r, tc.trusted)
			var want netip.Addr
			if tc.want != "" {
				want = netip.MustParseAddr(tc.want)
			}
			if got != want {
				t.Errorf("clientIP(peer %s, X-Forwarded-For %q) = %v, want %v", tc.peer, tc.xff, got, want)
			}
		})
	}
}

package main

import (
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"
)

// resolver asks one DNS server, over UDP and again over TCP when the
// answer is truncated.
type resolver struct {
	addr string
}

// newResolver uses addr, or the first nameserver of /etc/resolv.conf.
func newResolver(addr string) (*resolver, error) {
	if addr != "" {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, "53")
		}
		return &resolver{addr: addr}, nil
	}
	conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return nil, err
	}
	if len(conf.Servers) == 0 {
		return nil, errors.New("/etc/resolv.conf names no nameserver: give --resolver HOST:PORT")
	}
	return &resolver{addr: net.JoinHostPort(conf.Servers[0], conf.Port)}, nil
}

// query asks for name and type with recursion desired.
func (r *resolver) query(name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.SetEdns0(1232, false)
	c := &dns.Client{Net: "udp", Timeout: 3 * time.Second}
	resp, _, err := c.Exchange(m, r.addr)
	if err == nil && !resp.Truncated {
		return resp, nil
	}
	c.Net = "tcp"
	resp, _, err = c.Exchange(m, r.addr)
	return resp, err
}

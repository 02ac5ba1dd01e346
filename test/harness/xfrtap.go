package harness

import (
	bin "encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// xfrTap relays DNS between a secondary and its primary on a loopback port
// (TCP and UDP), passing every byte on unchanged, and classifies each
// complete zone transfer it sees the primary send: incremental when the
// second RR of the answer is a SOA with another serial than the first.
type xfrTap struct {
	addr       string
	mu         sync.Mutex
	axfr, ixfr int
}

func (x *xfrTap) counts() (axfr, ixfr int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.axfr, x.ixfr
}

func startXFRTap(t testing.TB, primary string) *xfrTap {
	t.Helper()
	var (
		tl net.Listener
		ul net.PacketConn
	)
	for i := 0; ; i++ {
		var err error
		tl, err = net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ul, err = net.ListenPacket("udp", tl.Addr().String())
		if err == nil {
			break
		}
		tl.Close()
		if i == 20 {
			t.Fatalf("no loopback port free for both TCP and UDP: %v", err)
		}
	}
	x := &xfrTap{addr: tl.Addr().String()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, add bool) bool {
		mu.Lock()
		defer mu.Unlock()
		if conns == nil {
			c.Close()
			return false
		}
		if add {
			conns[c] = true
		} else {
			delete(conns, c)
		}
		return true
	}
	t.Cleanup(func() {
		tl.Close()
		ul.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		conns = nil
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				x.relayTCP(c, primary, track)
			}()
		}
	}()
	go func() {
		defer wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := ul.ReadFrom(buf)
			if err != nil {
				return
			}
			q := append([]byte(nil), buf[:n]...)
			wg.Add(1)
			go func() {
				defer wg.Done()
				up, err := net.DialTimeout("udp", primary, time.Second)
				if err != nil {
					return
				}
				defer up.Close()
				up.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := up.Write(q); err != nil {
					return
				}
				r := make([]byte, 65535)
				n, err := up.Read(r)
				if err != nil {
					return
				}
				ul.WriteTo(r[:n], from)
			}()
		}
	}()
	return x
}

// relayTCP copies down's queries to a new connection to primary and the
// primary's messages back, watching the transfers in them.
func (x *xfrTap) relayTCP(down net.Conn, primary string, track func(net.Conn, bool) bool) {
	defer down.Close()
	up, err := net.DialTimeout("tcp", primary, 2*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	if !track(down, true) || !track(up, true) {
		return
	}
	defer track(down, false)
	defer track(up, false)
	go func() {
		io.Copy(up, down)
		up.(*net.TCPConn).CloseWrite()
	}()
	var s xfrStream
	var hdr [2]byte
	for {
		if _, err := io.ReadFull(up, hdr[:]); err != nil {
			return
		}
		msg := make([]byte, bin.BigEndian.Uint16(hdr[:]))
		if _, err := io.ReadFull(up, msg); err != nil {
			return
		}
		if _, err := down.Write(append(hdr[:], msg...)); err != nil {
			return
		}
		m := new(dns.Msg)
		if m.Unpack(msg) != nil || len(m.Question) != 1 {
			continue
		}
		if qt := m.Question[0].Qtype; qt != dns.TypeAXFR && qt != dns.TypeIXFR {
			continue
		}
		if m.Rcode != dns.RcodeSuccess {
			s = xfrStream{}
			continue
		}
		if done, incremental := s.add(m.Answer); done {
			x.mu.Lock()
			if incremental {
				x.ixfr++
			} else {
				x.axfr++
			}
			x.mu.Unlock()
			s = xfrStream{}
		}
	}
}

// xfrStream follows the answer RRs of one AXFR or IXFR response stream
// (RFC 5936, RFC 1995): SOA(N) ... SOA(N) for a whole zone, SOA(N)
// SOA(old) deletions SOA(new) additions ... SOA(N) for increments.
type xfrStream struct {
	n           int    // RRs seen
	serial      uint32 // of the first SOA
	incremental bool
	seenN       int // SOAs with serial N seen, the first included
}

// add feeds RRs; done is true when the stream is complete (a lone SOA, the
// "up to date" answer to an IXFR, is not a transfer and resets it).
func (s *xfrStream) add(rrs []dns.RR) (done, incremental bool) {
	for _, rr := range rrs {
		soa, isSOA := rr.(*dns.SOA)
		switch {
		case s.n == 0:
			if !isSOA {
				return false, false
			}
			s.serial, s.seenN = soa.Serial, 1
		case s.n == 1 && isSOA && soa.Serial != s.serial:
			s.incremental = true
		case isSOA && soa.Serial == s.serial:
			s.seenN++
			if !s.incremental || s.seenN == 3 {
				return true, s.incremental
			}
		}
		s.n++
	}
	if s.n == 1 && len(rrs) == 1 {
		*s = xfrStream{}
	}
	return false, false
}

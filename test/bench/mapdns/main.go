// Command mapdns is the benchmark's "limit": the least a DNS server can do to
// answer the same TXT queries, a miekg/dns UDP responder that looks names up
// in a Go map. It reads the records from the TSV file the seed program
// writes (name, then the TXT values, tab-separated).
package main

import (
	"bufio"
	"flag"
	"log"
	"os"
	"strings"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:5300", "UDP address to serve on")
	records := flag.String("records", "", "TSV file: FQDN<TAB>value<TAB>value...")
	flag.Parse()

	f, err := os.Open(*records)
	if err != nil {
		log.Fatal(err)
	}
	txt := map[string][]dns.RR{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		name := dns.CanonicalName(fields[0])
		for _, v := range fields[1:] {
			txt[name] = append(txt[name], &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{v}})
		}
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	f.Close()
	log.Printf("mapdns: %d names on %s", len(txt), *addr)

	dns.HandleFunc(".", func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		if rrs, ok := txt[strings.ToLower(r.Question[0].Name)]; ok {
			m.Answer = rrs
		} else {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	log.Fatal((&dns.Server{Addr: *addr, Net: "udp"}).ListenAndServe())
}

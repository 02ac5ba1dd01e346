package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/miekg/dns"
)

// DNSSECKey is a key pair written in BIND's file format.
type DNSSECKey struct {
	// Base is the files' name without extension, K<zone>+013+<tag> (the
	// zone fully qualified, as dnssec-keygen names them), in the directory
	// given to NewDNSSECKey: CoreDNS's `dnssec { key file Base }` with
	// the Corefile in that directory, or `key file Path` anywhere.
	Base string
	// Path is the directory joined with Base.
	Path string
	// Key is the public key.
	Key *dns.DNSKEY
	// DNSKEY is Key as zone file text (one line), and DS its SHA-256 DS:
	// either is a trust anchor for UnboundConfig.TrustAnchors.
	DNSKEY, DS string
}

// NewDNSSECKey generates an ECDSAP256SHA256 key with flags 257 (a KSK; the
// dnssec plugin signs everything with a lone key, as a CSK) for zone and
// writes Base.key (the DNSKEY RR) and Base.private (Private-key-format
// v1.3) into dir.
func NewDNSSECKey(t testing.TB, dir, zone string) DNSSECKey {
	t.Helper()
	zone = dns.CanonicalName(zone)
	k := &dns.DNSKEY{
		Hdr:       dns.RR_Header{Name: zone, Rrtype: dns.TypeDNSKEY, Class: dns.ClassINET, Ttl: 3600},
		Flags:     257,
		Protocol:  3,
		Algorithm: dns.ECDSAP256SHA256,
	}
	priv, err := k.Generate(256)
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("K%s+%03d+%05d", zone, k.Algorithm, k.KeyTag())
	path := filepath.Join(dir, base)
	if err := os.WriteFile(path+".key", []byte(k.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".private", []byte(k.PrivateKeyString(priv)), 0o600); err != nil {
		t.Fatal(err)
	}
	return DNSSECKey{Base: base, Path: path, Key: k, DNSKEY: k.String(), DS: k.ToDS(dns.SHA256).String()}
}

package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TLS is a test PKI, as PEM files in a temporary directory: a CA, a server
// certificate for 127.0.0.1 and localhost (usable as a client certificate
// too, as a Cluster's bus needs), and a client certificate.
type TLS struct {
	CAFile, CertFile, KeyFile     string // the CA, and the server's certificate and key
	ClientCertFile, ClientKeyFile string
	// AuthClients makes servers started with it require a client
	// certificate (--tls-auth-clients yes).
	AuthClients bool

	pool   *x509.CertPool
	client tls.Certificate
}

// NewTLS makes a new CA and its certificates. Two calls make unrelated CAs.
func NewTLS(t testing.TB) *TLS {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "acmedns test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER := sign(t, ca, ca, caKey, caKey)
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &TLS{pool: x509.NewCertPool()}
	p.pool.AddCert(caCert)
	p.CAFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	server := leaf(2, "redis", x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth)
	server.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	server.DNSNames = []string{"localhost"}
	p.CertFile, p.KeyFile = issue(t, dir, "server", server, caCert, caKey)
	client := leaf(3, "acmedns", x509.ExtKeyUsageClientAuth)
	p.ClientCertFile, p.ClientKeyFile = issue(t, dir, "client", client, caCert, caKey)
	if p.client, err = tls.LoadX509KeyPair(p.ClientCertFile, p.ClientKeyFile); err != nil {
		t.Fatal(err)
	}
	return p
}

// ClientConfig trusts the CA and presents the client certificate.
func (p *TLS) ClientConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: p.pool, Certificates: []tls.Certificate{p.client}}
}

// serverArgs are the redis-server options of a TLS-only server.
func (p *TLS) serverArgs() []string {
	auth := "no"
	if p.AuthClients {
		auth = "yes"
	}
	return []string{"--tls-cert-file", p.CertFile, "--tls-key-file", p.KeyFile,
		"--tls-ca-cert-file", p.CAFile, "--tls-auth-clients", auth}
}

// StartTLS starts a redis-server that only speaks TLS, with p's server
// certificate, on a free port.
func StartTLS(t testing.TB, p *TLS, extra ...string) *Server {
	t.Helper()
	return startServer(t, FreePort(t), p, extra)
}

// Client returns a go-redis client of the server, over TLS if it speaks it.
func (s *Server) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.Addr, TLSConfig: s.clientTLS()})
}

// clientTLS is the TLS configuration of a client of s; nil for plain text.
func (s *Server) clientTLS() *tls.Config {
	if s.tls == nil {
		return nil
	}
	return s.tls.ClientConfig()
}

// dialTest connects to addr, over TLS unless conf is nil.
func dialTest(addr string, conf *tls.Config) (net.Conn, error) {
	d := &net.Dialer{Timeout: 200 * time.Millisecond}
	if conf == nil {
		return d.Dial("tcp", addr)
	}
	return tls.DialWithDialer(d, "tcp", addr, conf)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// leaf is a certificate template for the given uses.
func leaf(serial int64, name string, uses ...x509.ExtKeyUsage) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  uses,
	}
}

// issue signs tmpl with the CA and writes NAME.pem and NAME-key.pem.
func issue(t testing.TB, dir, name string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certFile, keyFile string) {
	t.Helper()
	key := newKey(t)
	der := sign(t, tmpl, ca, key, caKey)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "PRIVATE KEY", keyDER)
}

func sign(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func writePEM(t testing.TB, dir, name, kind string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

package acmedns

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
)

// RedisTLS is the tls and tls_server_name options of the redis block. There
// is deliberately no way to skip verification.
type RedisTLS struct {
	CA         string // PEM file of the CAs to trust; "": the system roots
	Cert, Key  string // PEM client certificate and key, for mutual TLS; "": none
	ServerName string // name to verify; "": the host of the first address
}

// config returns the client TLS configuration for a client of addrs, reading
// the CA, certificate and key files. Errors name the file.
func (t *RedisTLS) config(addrs []string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if conf.ServerName == "" && len(addrs) > 0 {
		host, _, err := net.SplitHostPort(addrs[0])
		if err != nil {
			return nil, fmt.Errorf("redis tls: address %q: %w", addrs[0], err)
		}
		conf.ServerName = host
	}
	if t.CA != "" {
		pool, err := loadCAs(t.CA)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = pool
	}
	if t.Cert != "" {
		cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("redis tls: certificate %s, key %s: %w", t.Cert, t.Key, err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	return conf, nil
}

// loadCAs reads a PEM file of CA certificates.
func loadCAs(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("redis tls: CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("redis tls: CA file %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// failDialer is the dialer of a client whose TLS files could not be read:
// every connection fails with that error, so that the store fails closed
// (SERVFAIL, 503) and never falls back to plain text.
func failDialer(err error) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) { return nil, err }
}

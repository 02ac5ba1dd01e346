package acmedns

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/httpapi"
)

// selfSigned writes a certificate for 127.0.0.1 and returns the cert and key
// paths and a pool that trusts it.
func selfSigned(t *testing.T) (string, string, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "acmedns test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return certPath, keyPath, pool
}

func TestAPITLS(t *testing.T) {
	certPath, keyPath, pool := selfSigned(t)
	p := newPorts(t)
	db := "db " + t.TempDir() + "/acmedns.db"
	srv := startCoreDNS(t, p.corefile(db+"\ntls "+certPath+" "+keyPath))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	resp, err := client.Post("https://127.0.0.1:"+p.api+"/register", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"username":`) {
		t.Fatalf("register over HTTPS: %d %s", resp.StatusCode, body)
	}
	if resp, err := http.Post("http://127.0.0.1:"+p.api+"/register", "", nil); err == nil && resp.StatusCode == 201 {
		t.Error("plain HTTP registered on the TLS listener")
	}

	// Turning TLS off needs a restart; the reload fails and HTTPS goes on.
	if err := srv.reload(p.corefile(db)); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("reload switching TLS off: %v", err)
	}
	resp, err = client.Get("https://127.0.0.1:" + p.api + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTPS after the refused reload: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestAPISlowClient: a client that never finishes its headers is cut off.
func TestAPISlowClient(t *testing.T) {
	p := newPorts(t)
	startCoreDNS(t, p.corefile("db "+t.TempDir()+"/acmedns.db"))
	conn, err := net.Dial("tcp", "127.0.0.1:"+p.api)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("POST /update HTTP/1.1\r\nHost: x\r\n"))
	conn.SetReadDeadline(time.Now().Add(httpapi.ReadHeaderTimeout + 5*time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("connection with unfinished headers was held open: %v", err)
	}
}

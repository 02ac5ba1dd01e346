package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/acmedns/acmedns/test/harness"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"
)

// TestMigrateFromAcmeDNS is the move an acme-dns operator makes: an acme-dns
// SQLite database (written as acme-dns writes it) is imported with `acmedns
// import` through the admin API, and lego, holding the credentials and the
// fulldomain acme-dns gave it, issues a certificate from Pebble without
// registering again or changing its CNAME.
func TestMigrateFromAcmeDNS(t *testing.T) {
	cli := filepath.Join(harness.RepoRoot(t), "acmedns")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("%s not found: `make build` builds it", cli)
	}
	adminPort := harness.FreePort(t)
	const token = "e2e-admin-token-0123456789"
	w := &world{t: t}
	w.dns = harness.StartDelegationWith(t, fmt.Sprintf("        admin 127.0.0.1:%d {\n            token %s\n        }\n", adminPort, token))
	w.pebble = harness.StartPebble(t, w.dns.DNSAddr)
	setDNSClient(w)

	// The acme-dns side: one account registered long ago, version 1 schema.
	user, sub, key := uuid.NewString(), uuid.NewString(), "OldAcmeDnsPasswordFromTheClient012345678"
	hash, _ := bcrypt.GenerateFromPassword([]byte(key), 10)
	db := filepath.Join(t.TempDir(), "acme-dns.db")
	writeAcmeDNS(t, db, user, string(hash), sub)

	out, err := exec.Command(cli, "import", "--from", "sqlite:"+db, "--admin", fmt.Sprintf("http://127.0.0.1:%d", adminPort), "--token", token).CombinedOutput()
	if err != nil {
		t.Fatalf("acmedns import: %v\n%s", err, out)
	}

	// The client side: lego's storage as acme-dns's registration left it.
	const domain = "moved.example.test"
	fulldomain := sub + ".auth.example.test"
	storage := filepath.Join(t.TempDir(), "acmedns.json")
	b, _ := json.Marshal(map[string]any{domain: map[string]any{
		"fulldomain": fulldomain, "subdomain": sub, "username": user, "password": key, "server_url": w.dns.APIURL,
	}})
	if err := os.WriteFile(storage, b, 0o600); err != nil {
		t.Fatal(err)
	}
	w.dns.AddCNAME(t, "_acme-challenge."+domain, fulldomain) // the CNAME the customer already has

	res, err := obtain(w.newLego(storage, false), domain)
	if err != nil {
		t.Fatalf("issuance with the imported credentials: %v", err)
	}
	w.checkCert(res, domain)
}

// writeAcmeDNS writes a version-1 acme-dns SQLite database holding one
// account, as acme-dns's register does: the records row with the hash as a
// BLOB, two empty txt rows.
func writeAcmeDNS(t *testing.T, path, user, hash, sub string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS acmedns(Name TEXT, Value TEXT)`,
		`INSERT INTO acmedns (Name, Value) VALUES ('db_version', '1')`,
		`CREATE TABLE IF NOT EXISTS records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)`,
		`CREATE TABLE IF NOT EXISTS txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO records(Username, Password, Subdomain, AllowFrom) VALUES(?, ?, ?, ?)`, user, []byte(hash), sub, "[]"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := db.Exec(`INSERT INTO txt (Subdomain, LastUpdate) VALUES(?, 0)`, sub); err != nil {
			t.Fatal(err)
		}
	}
	// An update acme-dns made before the move: it overwrote the oldest row.
	if _, err := db.Exec(`UPDATE txt SET Value = ?, LastUpdate = ? WHERE rowid = (SELECT rowid FROM txt WHERE Subdomain = ? ORDER BY LastUpdate LIMIT 1)`,
		"oldvalueoldvalueoldvalueoldvalueoldvalue123", time.Now().Add(-24*time.Hour).Unix(), sub); err != nil {
		t.Fatal(err)
	}
}

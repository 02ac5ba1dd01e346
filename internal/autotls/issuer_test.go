package autotls

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// TestIssuerNeverPrompts: certmagic's ACME issuer, asked interactively
// (as ManageSync does) with no e-mail address anywhere, prompts on
// standard output and reads standard input; ours prints nothing.
func TestIssuerNeverPrompts(t *testing.T) {
	s := NewStorage(backends(t)["bolt"](t), time.Second)
	defer s.Close()
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return nil, nil },
		Logger:           zap.NewNop(),
	})
	defer cache.Stop()
	cfg := certmagic.New(cache, certmagic.Config{Storage: s})
	iss := quietIssuer{certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{CA: "https://127.0.0.1:1/dir", Agreed: true})}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	err = iss.PreCheck(context.Background(), []string{"ns1.auth.example.org"}, true)
	os.Stdout = stdout
	w.Close()
	printed, _ := io.ReadAll(r)
	if err != nil {
		t.Errorf("PreCheck: %v", err)
	}
	if len(printed) != 0 {
		t.Errorf("the issuer printed %q: a server must never prompt", printed)
	}
}

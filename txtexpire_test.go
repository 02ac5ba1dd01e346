package acmedns

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/store"

	"github.com/miekg/dns"
)

// TestTXTExpire: with txt_expire, values older than it are not served and
// are dropped at the next write; values of unknown time are kept. Without
// it, old values are served as acme-dns serves them.
func TestTXTExpire(t *testing.T) {
	old := time.Now().Add(-2 * time.Hour)
	rec := store.Record{
		Account: store.Account{Username: "u", PasswordHash: []byte("x"), Subdomain: "aging"},
		TXT:     []store.Value{{Text: "fresh", Set: time.Now()}, {Text: "stale", Set: old}, {Text: "unknown"}},
	}
	for _, tc := range []struct {
		name, block string
		want        int
	}{
		{"off", "acmedns auth.example.org {\napi 127.0.0.1:0\ntxt_limit 3\n}", 3},
		{"1h", "acmedns auth.example.org {\napi 127.0.0.1:0\ntxt_limit 3\ntxt_expire 1h\n}", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testPlugin(t, tc.block)
			if err := a.store.Create(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if code, n := askTXT(t, a, "aging"); code != dns.RcodeSuccess || n != tc.want {
				t.Errorf("rcode %d, %d values served, want %d", code, n, tc.want)
			}
			if err := a.store.AddTXT(context.Background(), "aging", "newest", a.cfg.TXTLimit, a.cfg.TXTExpire); err != nil {
				t.Fatal(err)
			}
			values, _ := a.store.TXT(context.Background(), "aging")
			want := []string{"newest", "fresh", "stale"}
			if tc.name == "1h" {
				want = []string{"newest", "fresh", "unknown"}
			}
			if got := texts(values); !reflect.DeepEqual(got, want) {
				t.Errorf("stored after a write: %v, want %v", got, want)
			}
		})
	}
}

func TestParseTXTExpireAndAdmin(t *testing.T) {
	parseBlock := func(lines string) (*Config, error) {
		return parse(newTestController("acmedns {\napi :8053\n"+lines+"\n}", []string{testZone}, ""))
	}
	cfg, err := parseBlock("txt_expire 24h")
	if err != nil || cfg.TXTExpire != 24*time.Hour {
		t.Errorf("txt_expire 24h: %v %v", cfg, err)
	}
	cfg, err = parseBlock("admin 127.0.0.1:8054 {\ntoken " + adminToken + "\ntoken " + adminToken2 + "\ntoken_file /run/secrets/admin\n}")
	if err != nil || cfg.Admin == nil || cfg.Admin.Addr != "127.0.0.1:8054" || len(cfg.Admin.Tokens) != 2 || cfg.Admin.TokenFiles[0] != "/run/secrets/admin" {
		t.Errorf("admin: %+v %v", cfg.Admin, err)
	}
	for _, tc := range []struct{ lines, want string }{
		{"txt_expire soon", "txt_expire: want a duration"},
		{"txt_expire -1h", "txt_expire: want a duration"},
		{"admin", "admin needs one ADDRESS"},
		{"admin 127.0.0.1:8054", "admin needs at least one token"},
		{"admin 127.0.0.1:8054 {\n}", "admin needs at least one token"},
		{"admin nowhere {\ntoken " + adminToken + "\n}", "admin: invalid address"},
		{"admin :8053 {\ntoken " + adminToken + "\n}", "address :8053 is already used"},
		{"admin 127.0.0.1:8054 {\ntoken short\n}", "admin token 1: want at least 16 characters"},
		{"admin 127.0.0.1:8054 {\ntoken_file\n}", "Wrong argument count"},
		{"admin 127.0.0.1:8054 {\npassword x\n}", `unknown admin property "password"`},
	} {
		_, err := parseBlock(tc.lines)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.lines, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "short") && tc.want != "" && strings.Contains(tc.lines, "token short") {
			t.Errorf("the error shows the token: %v", err)
		}
	}
}

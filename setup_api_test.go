package acmedns

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/acmedns/acmedns/internal/httpapi"
)

func TestDefaultLimits(t *testing.T) {
	l := httpapi.DefaultLimits()
	slots := max(1, runtime.GOMAXPROCS(0)-1)
	want := httpapi.Limits{
		BcryptSlots: slots, BcryptQueue: 1024, BcryptWait: 30 * time.Second,
		Register:     httpapi.Rate{PerSecond: 10.0 / 60, Burst: 30},
		AuthFailures: httpapi.Rate{PerSecond: 10.0 / 60, Burst: 30},
		Clients:      10000, Connections: 1024, ClientConnections: 256,
	}
	if l != want {
		t.Errorf("defaults: %+v, want %+v", l, want)
	}
}

func TestParseLimits(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	tests := []struct {
		name  string
		input string
		want  func(l *httpapi.Limits, ac *httpapi.AuthCache)
	}{
		{"bcrypt slots", block("limits {", "bcrypt 3", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.BcryptSlots = 3 }},
		{"bcrypt slots queue wait", block("limits {", "bcrypt 2 0 250ms", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) {
			l.BcryptSlots, l.BcryptQueue, l.BcryptWait = 2, 0, 250*time.Millisecond
		}},
		{"register per hour", block("limits {", "register 100/h 5", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) {
			l.Register = httpapi.Rate{PerSecond: 100.0 / 3600, Burst: 5}
		}},
		{"register per second, burst from rate", block("limits {", "register 4/s", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.Register = httpapi.Rate{PerSecond: 4, Burst: 4} }},
		{"register off", block("limits {", "register off", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.Register = httpapi.Rate{} }},
		{"auth_failures", block("limits {", "auth_failures 5/m 10", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) {
			l.AuthFailures = httpapi.Rate{PerSecond: 5.0 / 60, Burst: 10}
		}},
		{"auth_failures off", block("limits {", "auth_failures off", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.AuthFailures = httpapi.Rate{} }},
		{"clients and connections", block("limits {", "clients 50", "connections 20", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) {
			l.Clients, l.Connections, l.ClientConnections = 50, 20, 20
		}},
		{"connections per client", block("limits {", "connections 20 4", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.Connections, l.ClientConnections = 20, 4 }},
		{"connections below the per-client default", block("limits {", "connections 8", "}"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.Connections, l.ClientConnections = 8, 8 }},
		{"limits then another option", block("limits {", "clients 7", "}", "ttl 5"), func(l *httpapi.Limits, _ *httpapi.AuthCache) { l.Clients = 7 }},
		{"auth_cache duration", block("auth_cache 1h"), func(_ *httpapi.Limits, ac *httpapi.AuthCache) { ac.TTL = time.Hour }},
		{"auth_cache duration entries", block("auth_cache 30s 50"), func(_ *httpapi.Limits, ac *httpapi.AuthCache) {
			*ac = httpapi.AuthCache{TTL: 30 * time.Second, Entries: 50}
		}},
		{"auth_cache 0", block("auth_cache 0"), func(_ *httpapi.Limits, ac *httpapi.AuthCache) { *ac = httpapi.AuthCache{} }},
		{"auth_cache off", block("auth_cache off"), func(_ *httpapi.Limits, ac *httpapi.AuthCache) { *ac = httpapi.AuthCache{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(newTestController(tc.input, []string{testZone}, ""))
			if err != nil {
				t.Fatal(err)
			}
			wantL, wantAC := httpapi.DefaultLimits(), httpapi.AuthCache{TTL: httpapi.DefaultAuthCacheTTL, Entries: httpapi.DefaultAuthCacheEntries}
			tc.want(&wantL, &wantAC)
			if cfg.Limits != wantL || cfg.AuthCache != wantAC {
				t.Errorf("got %+v %+v\nwant %+v %+v", cfg.Limits, cfg.AuthCache, wantL, wantAC)
			}
		})
	}
}

func TestParseLimitsErrors(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	tests := []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{"limits without block", block("limits"), 3, "limits needs a block"},
		{"limits with argument", block("limits 5 {", "}"), 3, "limits needs a block"},
		{"unknown limit", block("limits {", "speed 5", "}"), 4, `unknown limits property "speed"`},
		{"limit twice", block("limits {", "clients 5", "clients 6", "}"), 5, "limits clients specified more than once"},
		{"bcrypt no args", block("limits {", "bcrypt", "}"), 4, "Wrong argument count"},
		{"bcrypt zero", block("limits {", "bcrypt 0", "}"), 4, "want 1 to 1024 slots"},
		{"bcrypt bad queue", block("limits {", "bcrypt 1 -1", "}"), 4, "want a queue of 0 to 100000"},
		{"bcrypt bad wait", block("limits {", "bcrypt 1 2 forever", "}"), 4, "want a wait up to 5m"},
		{"bcrypt too many args", block("limits {", "bcrypt 1 2 1s x", "}"), 4, "Wrong argument count"},
		{"rate without unit", block("limits {", "register 10", "}"), 4, "want a rate like 10/m"},
		{"rate bad unit", block("limits {", "register 10/d", "}"), 4, "want a rate like 10/m"},
		{"rate zero", block("limits {", "auth_failures 0/s", "}"), 4, "want a rate like 10/m"},
		{"burst zero", block("limits {", "auth_failures 1/s 0", "}"), 4, "want a burst of 1 to 1000000"},
		{"rate no args", block("limits {", "register", "}"), 4, "Wrong argument count"},
		{"clients zero", block("limits {", "clients 0", "}"), 4, "want an integer from 1"},
		{"connections bad", block("limits {", "connections many", "}"), 4, "want an integer from 1"},
		{"connections per client over the total", block("limits {", "connections 8 9", "}"), 4, "want a per-client bound from 1 to 8"},
		{"auth_cache no args", block("auth_cache"), 3, "Wrong argument count"},
		{"auth_cache bad duration", block("auth_cache soon"), 3, "want a duration up to 24h"},
		{"auth_cache too long", block("auth_cache 48h"), 3, "want a duration up to 24h"},
		{"auth_cache bad entries", block("auth_cache 1m 0"), 3, "want 1 to 10000000 entries"},
		{"auth_cache 0 with entries", block("auth_cache 0 5"), 3, "Wrong argument count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(newTestController(tc.input, []string{testZone}, ""))
			if err == nil {
				t.Fatal("no error")
			}
			if loc := fmt.Sprintf("Testfile:%d - ", tc.line); !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), loc) {
				t.Errorf("error %q: want %q at line %d", err, tc.want, tc.line)
			}
		})
	}
}

const (
	regToken  = "s3cret-Registration_token.1"
	regToken2 = "another~registration~token~2"
)

func TestParseRegistrationToken(t *testing.T) {
	cfg, err := parse(newTestController("acmedns {\napi :8053\nregistration token "+regToken+" "+regToken2+"\n}", []string{testZone}, ""))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registration.Tokens; len(got) != 2 || got[0] != regToken || got[1] != regToken2 {
		t.Errorf("tokens %v", got)
	}
	for _, bad := range []string{"short-secret", strings.Repeat("x", 129), "with/slash-in-it-0123", "percent%20encoded-xx"} {
		_, err := parse(newTestController("acmedns {\napi :8053\nregistration token "+regToken+" "+bad+"\n}", []string{testZone}, ""))
		if err == nil || !strings.Contains(err.Error(), "registration token 2: want 16 to 128 characters") {
			t.Errorf("token %q: %v", bad, err)
		}
		if err != nil && strings.Contains(err.Error(), bad) {
			t.Errorf("the error shows the token: %v", err)
		}
	}
	if _, err := parse(newTestController("acmedns {\napi :8053\nregistration token\n}", []string{testZone}, "")); err == nil {
		t.Error("registration token without a token parsed")
	}
	for in, want := range map[string]bool{"audit on": true, "audit off": false} {
		cfg, err := parse(newTestController("acmedns {\napi :8053\n"+in+"\n}", []string{testZone}, ""))
		if err != nil || cfg.Audit != want {
			t.Errorf("%s: %v %v", in, cfg, err)
		}
	}
	if _, err := parse(newTestController("acmedns {\napi :8053\naudit maybe\n}", []string{testZone}, "")); err == nil || !strings.Contains(err.Error(), "audit: want on or off") {
		t.Errorf("audit maybe: %v", err)
	}
}

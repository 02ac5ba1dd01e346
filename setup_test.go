package acmedns

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/caddy/caddyfile"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"

	"github.com/acmedns/acmedns/internal/httpapi"
)

// testZone is the server block key the parse tests run under.
const testZone = "auth.example.org."

// newTestController returns a controller for input in a server block keyed
// by keys, with the server's root directory set to root.
func newTestController(input string, keys []string, root string) *caddy.Controller {
	c := caddy.NewTestController("dns", input)
	c.ServerBlockKeys = keys
	if root != "" {
		dnsserver.GetConfig(c).Root = root
	}
	return c
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func prefixList(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

func addrList(s ...string) []netip.Addr {
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

// redisDefaults is what a bare "redis ADDRESS..." line gives, written out
// rather than taken from defaultRedisConfig so that the defaults are tested.
func redisDefaults(addrs ...string) *RedisConfig {
	return &RedisConfig{
		Addrs:        addrs,
		Prefix:       "acmedns:",
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		CacheSize:    DefaultCacheSize,
		WaitTimeout:  DefaultWaitTimeout,
	}
}

func TestParse(t *testing.T) {
	// expected returns the Config of a block that only sets api :8053 in
	// the zone testZone with the embedded store; each case adjusts it.
	expected := func(t *testing.T) *Config {
		return &Config{
			Zones:       []string{testZone},
			API:         ":8053",
			DB:          mustAbs(t, "acmedns.db"),
			Nameservers: []Nameserver{{Name: testZone}},
			TTL:         1,
			NegativeTTL: 60,
			TXTLimit:    2,
			Timeout:     500 * time.Millisecond,
			Limits:      httpapi.DefaultLimits(),
			AuthCache:   httpapi.AuthCache{TTL: 10 * time.Minute, Entries: 10000},
			Audit:       true,
			Transfer:    TransferLimits{Max: 16, PerClient: 4, Idle: 10 * time.Second},
		}
	}
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}

	tests := []struct {
		name  string
		input string
		keys  []string // server block keys; nil means {testZone}
		root  string   // dnsserver root directory
		want  func(t *testing.T, c *Config)
	}{
		{
			name:  "defaults",
			input: "acmedns {\n\tapi :8053\n}",
			want:  func(*testing.T, *Config) {},
		},
		{
			name:  "api with host",
			input: "acmedns {\n\tapi 127.0.0.1:8053\n}",
			want:  func(_ *testing.T, c *Config) { c.API = "127.0.0.1:8053" },
		},
		{
			name:  "api with IPv6 host",
			input: "acmedns {\n\tapi [::1]:8053\n}",
			want:  func(_ *testing.T, c *Config) { c.API = "[::1]:8053" },
		},
		{
			name:  "zone from server block with port",
			input: block(),
			keys:  []string{"Auth.Example.ORG:1053"},
			want:  func(*testing.T, *Config) {},
		},
		{
			name:  "zones from server block keys",
			input: block(),
			keys:  []string{"auth.example.org.", "dns://acme.example.net.:53"},
			want: func(_ *testing.T, c *Config) {
				c.Zones = []string{"auth.example.org.", "acme.example.net."}
				c.Nameservers = []Nameserver{{Name: "auth.example.org."}, {Name: "acme.example.net."}}
			},
		},
		{
			name:  "zones from arguments override the server block",
			input: "acmedns Acme.Example.COM example.net. {\n\tapi :8053\n}",
			want: func(_ *testing.T, c *Config) {
				c.Zones = []string{"acme.example.com.", "example.net."}
				c.Nameservers = []Nameserver{{Name: "acme.example.com."}, {Name: "example.net."}}
			},
		},
		{
			name:  "zones from arguments without server block keys",
			input: "acmedns acme.example.com {\n\tapi :8053\n}",
			keys:  []string{},
			want: func(_ *testing.T, c *Config) {
				c.Zones = []string{"acme.example.com."}
				c.Nameservers = []Nameserver{{Name: "acme.example.com."}}
			},
		},
		{
			name:  "tls absolute",
			input: block("tls /etc/acmedns/cert.pem /etc/acmedns/key.pem"),
			want: func(_ *testing.T, c *Config) {
				c.TLSCert, c.TLSKey = "/etc/acmedns/cert.pem", "/etc/acmedns/key.pem"
			},
		},
		{
			name:  "tls relative without root is kept",
			input: block("tls cert.pem key.pem"),
			want: func(_ *testing.T, c *Config) {
				c.TLSCert, c.TLSKey = "cert.pem", "key.pem"
			},
		},
		{
			name:  "tls relative to root",
			input: block("tls cert.pem tls/key.pem"),
			root:  "/srv/dns",
			want: func(_ *testing.T, c *Config) {
				c.TLSCert, c.TLSKey = "/srv/dns/cert.pem", "/srv/dns/tls/key.pem"
				c.DB = "/srv/dns/acmedns.db"
			},
		},
		{
			name:  "tls absolute with root",
			input: block("tls /etc/cert.pem key.pem"),
			root:  "/srv/dns",
			want: func(_ *testing.T, c *Config) {
				c.TLSCert, c.TLSKey = "/etc/cert.pem", "/srv/dns/key.pem"
				c.DB = "/srv/dns/acmedns.db"
			},
		},
		{
			name:  "redis single address, defaults",
			input: block("redis 127.0.0.1:6379"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				c.Redis = redisDefaults("127.0.0.1:6379")
			},
		},
		{
			name:  "redis cluster with empty block",
			input: block("redis 10.0.0.1:6379 10.0.0.2:6379 [2001:db8::3]:6379 {\n\t}"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				c.Redis = redisDefaults("10.0.0.1:6379", "10.0.0.2:6379", "[2001:db8::3]:6379")
			},
		},
		{
			name: "redis with every property",
			input: block(
				"redis redis.example.org:6379 {",
				"\tusername acme",
				"\tpassword s3cret",
				"\tprefix test:",
				"\tdb 3",
				"\tpool_size 20",
				"\tdial_timeout 2s",
				"\tread_timeout 250ms",
				"\twrite_timeout 1m",
				"\tcache 500",
				"\twait_replicas 1 100ms",
				"}",
				"ttl 5",
			),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				c.TTL = 5
				c.Redis = &RedisConfig{
					Addrs:        []string{"redis.example.org:6379"},
					Username:     "acme",
					Password:     "s3cret",
					Prefix:       "test:",
					DB:           3,
					PoolSize:     20,
					DialTimeout:  2 * time.Second,
					ReadTimeout:  250 * time.Millisecond,
					WriteTimeout: time.Minute,
					CacheSize:    500,
					WaitReplicas: 1,
					WaitTimeout:  100 * time.Millisecond,
				}
			},
		},
		{
			name: "redis sentinel",
			input: block(
				"redis 10.0.0.1:26379 10.0.0.2:26379 {",
				"\tmaster mymaster",
				"\tsentinel_username sentinel",
				"\tsentinel_password sentinel-pw",
				"\tpassword data-pw",
				"}",
			),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("10.0.0.1:26379", "10.0.0.2:26379")
				r.MasterName = "mymaster"
				r.SentinelUsername = "sentinel"
				r.SentinelPassword = "sentinel-pw"
				r.Password = "data-pw"
				c.Redis = r
			},
		},
		{
			name:  "redis db bounds",
			input: block("redis 127.0.0.1:6379 {", "\tdb 0", "\tpool_size 1", "}"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("127.0.0.1:6379")
				r.PoolSize = 1
				c.Redis = r
			},
		},
		{
			name:  "redis with root leaves db empty",
			input: block("redis 127.0.0.1:6379"),
			root:  "/srv/dns",
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				c.Redis = redisDefaults("127.0.0.1:6379")
			},
		},
		{
			name:  "redis tls with the system roots",
			input: block("redis redis.example.org:6380 {", "\ttls", "}"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("redis.example.org:6380")
				r.TLS = &RedisTLS{}
				c.Redis = r
			},
		},
		{
			name:  "redis tls with a CA file and a server name",
			input: block("redis 10.0.0.1:6380 10.0.0.2:6380 {", "\ttls /etc/redis/ca.pem", "\ttls_server_name redis.example.org", "}"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("10.0.0.1:6380", "10.0.0.2:6380")
				r.TLS = &RedisTLS{CA: "/etc/redis/ca.pem", ServerName: "redis.example.org"}
				c.Redis = r
			},
		},
		{
			name:  "redis mutual tls, relative paths from root",
			input: block("redis r:6380 {", "\ttls_server_name r.example.org", "\ttls ca.pem /etc/redis/client.pem keys/client.key", "}"),
			root:  "/srv/dns",
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("r:6380")
				r.TLS = &RedisTLS{CA: "/srv/dns/ca.pem", Cert: "/etc/redis/client.pem", Key: "/srv/dns/keys/client.key", ServerName: "r.example.org"}
				c.Redis = r
			},
		},
		{
			name:  "redis tls relative paths without root",
			input: block("redis r:6380 {", "\ttls ca.pem", "}"),
			want: func(_ *testing.T, c *Config) {
				c.DB = ""
				r := redisDefaults("r:6380")
				r.TLS = &RedisTLS{CA: "ca.pem"}
				c.Redis = r
			},
		},
		{
			name:  "db absolute",
			input: block("db /var/lib/acmedns/acme.db"),
			want:  func(_ *testing.T, c *Config) { c.DB = "/var/lib/acmedns/acme.db" },
		},
		{
			name:  "db relative is made absolute",
			input: block("db data/acme.db"),
			want:  func(t *testing.T, c *Config) { c.DB = mustAbs(t, "data/acme.db") },
		},
		{
			name:  "db relative to root",
			input: block("db data/acme.db"),
			root:  "/srv/dns",
			want:  func(_ *testing.T, c *Config) { c.DB = "/srv/dns/data/acme.db" },
		},
		{
			name:  "db absolute with root",
			input: block("db /var/lib/acme.db"),
			root:  "/srv/dns",
			want:  func(_ *testing.T, c *Config) { c.DB = "/var/lib/acme.db" },
		},
		{
			name:  "db default relative to root",
			input: block(),
			root:  "/srv/dns",
			want:  func(_ *testing.T, c *Config) { c.DB = "/srv/dns/acmedns.db" },
		},
		{
			name:  "db relative to relative root",
			input: block("db acme.db"),
			root:  "srv",
			want:  func(t *testing.T, c *Config) { c.DB = mustAbs(t, "srv/acme.db") },
		},
		{
			name: "nameservers repeated with addresses",
			input: block(
				"nameserver NS1.Auth.Example.ORG 192.0.2.1 2001:db8::1",
				"nameserver ns2.auth.example.org. ::ffff:192.0.2.2",
				"nameserver auth.example.org 192.0.2.3",
				"nameserver ns.example.net",
			),
			want: func(_ *testing.T, c *Config) {
				c.Nameservers = []Nameserver{
					{Name: "ns1.auth.example.org.", Addrs: addrList("192.0.2.1", "2001:db8::1")},
					{Name: "ns2.auth.example.org.", Addrs: addrList("192.0.2.2")},
					{Name: "auth.example.org.", Addrs: addrList("192.0.2.3")},
					{Name: "ns.example.net."},
				}
			},
		},
		{
			name:  "nameserver addresses in the second zone",
			input: "acmedns auth.example.org acme.example.net {\n\tapi :8053\n\tnameserver ns.acme.example.net 198.51.100.7\n}",
			want: func(_ *testing.T, c *Config) {
				c.Zones = []string{"auth.example.org.", "acme.example.net."}
				c.Nameservers = []Nameserver{{Name: "ns.acme.example.net.", Addrs: addrList("198.51.100.7")}}
			},
		},
		{
			name:  "hostmaster e-mail",
			input: block("hostmaster dns.admin@example.org"),
			want:  func(_ *testing.T, c *Config) { c.Hostmaster = `dns\.admin.example.org.` },
		},
		{
			name:  "hostmaster e-mail upper case",
			input: block("hostmaster Hostmaster@Example.ORG"),
			want:  func(_ *testing.T, c *Config) { c.Hostmaster = "hostmaster.example.org." },
		},
		{
			name:  "hostmaster domain form",
			input: block("hostmaster admin.example.org"),
			want:  func(_ *testing.T, c *Config) { c.Hostmaster = "admin.example.org." },
		},
		{
			name:  "hostmaster domain form qualified",
			input: block("hostmaster admin.example.org."),
			want:  func(_ *testing.T, c *Config) { c.Hostmaster = "admin.example.org." },
		},
		{
			name:  "ttl, negative_ttl and txt_limit",
			input: block("ttl 30", "negative_ttl 300", "txt_limit 5"),
			want: func(_ *testing.T, c *Config) {
				c.TTL, c.NegativeTTL, c.TXTLimit = 30, 300, 5
			},
		},
		{
			name:  "numeric lower bounds",
			input: block("ttl 0", "negative_ttl 0", "txt_limit 1"),
			want: func(_ *testing.T, c *Config) {
				c.TTL, c.NegativeTTL, c.TXTLimit = 0, 0, 1
			},
		},
		{
			name:  "numeric upper bounds",
			input: block("ttl 86400", "negative_ttl 86400", "txt_limit 10"),
			want: func(_ *testing.T, c *Config) {
				c.TTL, c.NegativeTTL, c.TXTLimit = 86400, 86400, 10
			},
		},
		{
			name:  "timeout",
			input: block("timeout 2s"),
			want:  func(_ *testing.T, c *Config) { c.Timeout = 2 * time.Second },
		},
		{
			name:  "timeout maximum",
			input: block("timeout 1m"),
			want:  func(_ *testing.T, c *Config) { c.Timeout = time.Minute },
		},
		{
			name:  "registration open",
			input: block("registration open"),
			want:  func(*testing.T, *Config) {},
		},
		{
			name:  "registration closed",
			input: block("registration closed"),
			want:  func(_ *testing.T, c *Config) { c.Registration.Closed = true },
		},
		{
			name:  "registration allow",
			input: block("registration allow 10.0.0.0/8 192.0.2.7/32 [2001:db8::]/32 fd00::/8"),
			want: func(_ *testing.T, c *Config) {
				c.Registration.Allow = prefixList("10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "fd00::/8")
			},
		},
		{
			name:  "trusted_proxies",
			input: block("trusted_proxies 127.0.0.1/32 [::1]/128 172.16.0.0/12 2001:db8::/48"),
			want: func(_ *testing.T, c *Config) {
				c.TrustedProxies = prefixList("127.0.0.1/32", "::1/128", "172.16.0.0/12", "2001:db8::/48")
			},
		},
		{
			name:  "cors wildcard",
			input: block("cors *"),
			want:  func(_ *testing.T, c *Config) { c.CORS = []string{"*"} },
		},
		{
			name:  "cors origins",
			input: block("cors https://app.example.org http://localhost:3000"),
			want: func(_ *testing.T, c *Config) {
				c.CORS = []string{"https://app.example.org", "http://localhost:3000"}
			},
		},
		{
			name:  "fallthrough all zones",
			input: block("fallthrough"),
			want:  func(_ *testing.T, c *Config) { c.Fall.Zones = []string{"."} },
		},
		{
			name:  "fallthrough some zones",
			input: block("fallthrough sub.auth.example.org Other.Example.ORG."),
			want: func(_ *testing.T, c *Config) {
				c.Fall.Zones = []string{"sub.auth.example.org.", "other.example.org."}
			},
		},
		{
			name: "everything at once",
			input: "acmedns {\n" +
				"\tapi 127.0.0.1:8443\n" +
				"\ttls cert.pem key.pem\n" +
				"\tdb acme.db\n" +
				"\tnameserver ns1.auth.example.org 192.0.2.53\n" +
				"\tnameserver ns2.auth.example.org 2001:db8::53\n" +
				"\thostmaster dns.admin@example.org\n" +
				"\tttl 10\n" +
				"\tnegative_ttl 120\n" +
				"\ttxt_limit 3\n" +
				"\ttimeout 1s\n" +
				"\tregistration allow 192.0.2.0/24\n" +
				"\ttrusted_proxies [::1]/128 127.0.0.1/32\n" +
				"\tcors *\n" +
				"\tfallthrough\n" +
				"}\n",
			root: "/srv/dns",
			want: func(_ *testing.T, c *Config) {
				c.API = "127.0.0.1:8443"
				c.TLSCert, c.TLSKey = "/srv/dns/cert.pem", "/srv/dns/key.pem"
				c.DB = "/srv/dns/acme.db"
				c.Nameservers = []Nameserver{
					{Name: "ns1.auth.example.org.", Addrs: addrList("192.0.2.53")},
					{Name: "ns2.auth.example.org.", Addrs: addrList("2001:db8::53")},
				}
				c.Hostmaster = `dns\.admin.example.org.`
				c.TTL, c.NegativeTTL, c.TXTLimit = 10, 120, 3
				c.Timeout = time.Second
				c.Registration.Allow = prefixList("192.0.2.0/24")
				c.TrustedProxies = prefixList("::1/128", "127.0.0.1/32")
				c.CORS = []string{"*"}
				c.Fall.Zones = []string{"."}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []string{testZone}
			}
			c := newTestController(tc.input, keys, tc.root)
			got, err := parse(c)
			if err != nil {
				t.Fatalf("parse:\n%s\nerror: %v", tc.input, err)
			}
			want := expected(t)
			tc.want(t, want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("parse:\n%s\ngot  %+v\nwant %+v", tc.input, describe(got), describe(want))
			}
		})
	}
}

// describe prints a Config with its Redis block expanded.
func describe(c *Config) string {
	if c == nil || c.Redis == nil {
		return fmt.Sprintf("%+v", c)
	}
	cc := *c
	r := *c.Redis
	cc.Redis = nil
	return fmt.Sprintf("%+v Redis:%+v", cc, r)
}

func TestParseErrors(t *testing.T) {
	// block puts lines inside an acmedns block after "api :8053": the
	// first of lines is on line 3 of Testfile.
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}

	tests := []struct {
		name  string
		input string
		keys  []string // nil means {testZone}
		line  int      // line the error must name
		want  string   // substring of the error
	}{
		// The block itself.
		{"missing api", "acmedns {\n\tttl 5\n}", nil, 3, "api ADDRESS is required"},
		{"missing api, no block", "acmedns", nil, 1, "api ADDRESS is required"},
		{"no zones", "acmedns {\n\tapi :8053\n}", []string{}, 1, "no zones"},
		{"root zone as argument", "acmedns . {\n\tapi :8053\n}", nil, 1, `invalid zone "."`},
		{"root zone from server block", "acmedns {\n\tapi :8053\n}", []string{"."}, 1, `invalid zone "."`},
		{"unknown property", block("bogus 1"), nil, 3, `unknown property "bogus"`},
		{"unknown property after a valid one", block("ttl 5", "nameservers ns1.example.org"), nil, 4, `unknown property "nameservers"`},
		{"option twice: api", block("api :8054"), nil, 3, "api specified more than once"},
		{"option twice: ttl", block("ttl 5", "ttl 6"), nil, 4, "ttl specified more than once"},
		{"option twice: redis", block("redis a.example:6379 {", "}", "redis b.example:6379"), nil, 5, "redis specified more than once"},
		{"option twice: hostmaster", block("hostmaster a@example.org", "hostmaster b@example.org"), nil, 4, "hostmaster specified more than once"},
		{"option twice: registration", block("registration open", "registration closed"), nil, 4, "registration specified more than once"},
		{"option twice: fallthrough", block("fallthrough", "fallthrough"), nil, 4, "fallthrough specified more than once"},

		// api
		{"api without address", "acmedns {\n\tapi\n}", nil, 2, "Wrong argument count"},
		{"api with two addresses", "acmedns {\n\tapi :8053 :8054\n}", nil, 2, "Wrong argument count"},
		{"api without port", "acmedns {\n\tapi 127.0.0.1\n}", nil, 2, `api: invalid address "127.0.0.1"`},
		{"api port only number", "acmedns {\n\tapi 8053\n}", nil, 2, `api: invalid address "8053"`},
		{"api empty port", "acmedns {\n\tapi 127.0.0.1:\n}", nil, 2, `api: invalid address "127.0.0.1:"`},
		{"api unbracketed IPv6", "acmedns {\n\tapi ::1:8053\n}", nil, 2, `api: invalid address "::1:8053"`},

		// tls
		{"tls with one argument", block("tls cert.pem"), nil, 3, "tls needs CERT and KEY"},
		{"tls without arguments", block("tls"), nil, 3, "tls needs CERT and KEY"},
		{"tls with three arguments", block("tls a b c"), nil, 3, "tls needs CERT and KEY"},

		// redis
		{"redis without addresses", block("redis"), nil, 3, "redis needs at least one ADDRESS"},
		{"redis block without addresses", block("redis {", "\tpassword x", "}"), nil, 3, "redis needs at least one ADDRESS"},
		{"redis address without port", block("redis localhost"), nil, 3, `redis: invalid address "localhost"`},
		{"redis second address without port", block("redis a.example:6379 b.example"), nil, 3, `redis: invalid address "b.example"`},
		{"redis address with empty port", block("redis localhost:"), nil, 3, `redis: invalid address "localhost:"`},
		{"unknown redis property", block("redis r:6379 {", "\tsentinel s:26379", "}"), nil, 4, `unknown redis property "sentinel"`},
		{"redis cache negative", block("redis r:6379 {", "\tcache -1", "}"), nil, 4, "redis cache: want an integer from 0 to 10000000"},
		{"redis wait_replicas zero", block("redis r:6379 {", "\twait_replicas 0", "}"), nil, 4, "redis wait_replicas: want 1 to 100 replicas"},
		{"redis wait_replicas bad timeout", block("redis r:6379 {", "\twait_replicas 1 soon", "}"), nil, 4, "redis wait_replicas: want a positive duration"},
		{"redis wait_replicas without count", block("redis r:6379 {", "\twait_replicas", "}"), nil, 4, "Wrong argument count"},
		{"redis wait longer than reads", block("redis r:6379 {", "\twait_replicas 1 1s", "}"), nil, 5, "must be shorter than read_timeout"},
		{"redis property twice", block("redis r:6379 {", "\tpassword a", "\tpassword b", "}"), nil, 5, "redis password specified more than once"},
		{"redis db twice", block("redis r:6379 {", "\tdb 1", "\tdb 2", "}"), nil, 5, "redis db specified more than once"},
		{"redis username without value", block("redis r:6379 {", "\tusername", "}"), nil, 4, "Wrong argument count"},
		{"redis password with two values", block("redis r:6379 {", "\tpassword a b", "}"), nil, 4, "Wrong argument count"},
		{"redis master without value", block("redis r:6379 {", "\tmaster", "}"), nil, 4, "Wrong argument count"},
		{"redis prefix without value", block("redis r:6379 {", "\tprefix", "}"), nil, 4, "Wrong argument count"},
		{"redis sentinel_username without value", block("redis r:6379 {", "\tsentinel_username", "}"), nil, 4, "Wrong argument count"},
		{"redis db negative", block("redis r:6379 {", "\tdb -1", "}"), nil, 4, `redis db: want an integer from 0 to 1048576, got "-1"`},
		{"redis db not a number", block("redis r:6379 {", "\tdb one", "}"), nil, 4, `redis db: want an integer`},
		{"redis db without value", block("redis r:6379 {", "\tdb", "}"), nil, 4, "Wrong argument count"},
		{"redis pool_size zero", block("redis r:6379 {", "\tpool_size 0", "}"), nil, 4, `redis pool_size: want an integer from 1 to 65536, got "0"`},
		{"redis pool_size too big", block("redis r:6379 {", "\tpool_size 65537", "}"), nil, 4, `redis pool_size: want an integer from 1 to 65536`},
		{"redis dial_timeout garbage", block("redis r:6379 {", "\tdial_timeout fast", "}"), nil, 4, `redis dial_timeout: want a positive duration, got "fast"`},
		{"redis read_timeout zero", block("redis r:6379 {", "\tread_timeout 0s", "}"), nil, 4, `redis read_timeout: want a positive duration, got "0s"`},
		{"redis write_timeout negative", block("redis r:6379 {", "\twrite_timeout -1s", "}"), nil, 4, `redis write_timeout: want a positive duration, got "-1s"`},
		{"redis write_timeout without unit", block("redis r:6379 {", "\twrite_timeout 5", "}"), nil, 4, `redis write_timeout: want a positive duration`},
		{"redis dial_timeout without value", block("redis r:6379 {", "\tdial_timeout", "}"), nil, 4, "Wrong argument count"},
		{"redis tls with two files", block("redis r:6380 {", "\ttls ca.pem cert.pem", "}"), nil, 4, "redis tls: want [CA_FILE [CERT_FILE KEY_FILE]]"},
		{"redis tls with four files", block("redis r:6380 {", "\ttls ca.pem c.pem k.pem x.pem", "}"), nil, 4, "redis tls: want [CA_FILE [CERT_FILE KEY_FILE]]"},
		{"redis tls empty file name", block("redis r:6380 {", "\ttls \"\"", "}"), nil, 4, "redis tls: empty file name"},
		{"redis tls twice", block("redis r:6380 {", "\ttls", "\ttls ca.pem", "}"), nil, 5, "redis tls specified more than once"},
		{"redis tls_server_name without value", block("redis r:6380 {", "\ttls", "\ttls_server_name", "}"), nil, 5, "Wrong argument count"},
		{"redis tls_server_name with two values", block("redis r:6380 {", "\ttls", "\ttls_server_name a b", "}"), nil, 5, "Wrong argument count"},
		{"redis tls_server_name twice", block("redis r:6380 {", "\ttls", "\ttls_server_name a", "\ttls_server_name b", "}"), nil, 6, "redis tls_server_name specified more than once"},
		{"redis tls_server_name without tls", block("redis r:6380 {", "\ttls_server_name a", "}"), nil, 5, "redis tls_server_name needs tls"},
		{"redis tls_insecure is not an option", block("redis r:6380 {", "\ttls", "\ttls_insecure", "}"), nil, 5, `unknown redis property "tls_insecure"`},
		{"sentinel_password without master", block("redis r:26379 {", "\tsentinel_password pw", "}"), nil, 5, "sentinel_username and sentinel_password need master"},
		{"sentinel_username without master", block("redis r:26379 {", "\tsentinel_username u", "\tpassword pw", "}"), nil, 6, "sentinel_username and sentinel_password need master"},

		// db
		{"db together with redis", block("db acme.db", "redis r:6379"), nil, 5, "db and redis exclude each other"},
		{"db together with redis block", block("db acme.db", "redis r:6379 {", "\tdb 2", "}"), nil, 7, "db and redis exclude each other"},
		{"db without path", block("db"), nil, 3, "Wrong argument count"},
		{"db with two paths", block("db a.db b.db"), nil, 3, "Wrong argument count"},
		{"db empty path", block(`db ""`), nil, 3, "Wrong argument count"},

		// nameserver
		{"nameserver without name", block("nameserver"), nil, 3, "Wrong argument count"},
		{"nameserver root", block("nameserver ."), nil, 3, `nameserver: invalid name "."`},
		{"nameserver empty label", block("nameserver ns1..example.org"), nil, 3, `nameserver: invalid name "ns1..example.org"`},
		{"nameserver label too long", block("nameserver " + strings.Repeat("a", 64) + ".example.org"), nil, 3, "nameserver: invalid name"},
		{"nameserver bad IPv4", block("nameserver ns1.auth.example.org 192.0.2.300"), nil, 3, `nameserver ns1.auth.example.org: invalid address "192.0.2.300"`},
		{"nameserver hostname as address", block("nameserver ns1.auth.example.org ns2.auth.example.org"), nil, 3, `invalid address "ns2.auth.example.org"`},
		{"nameserver CIDR as address", block("nameserver ns1.auth.example.org 192.0.2.0/24"), nil, 3, `invalid address "192.0.2.0/24"`},
		{"nameserver zoned IPv6", block("nameserver ns1.auth.example.org fe80::1%eth0"), nil, 3, `invalid address "fe80::1%eth0"`},
		{"nameserver bad second address", block("nameserver ns1.auth.example.org 192.0.2.1 nope"), nil, 3, `invalid address "nope"`},
		{"nameserver addresses outside the zone", block("nameserver ns1.example.net 192.0.2.1"), nil, 3, "nameserver ns1.example.net: addresses are only served for names inside [auth.example.org.]"},
		{"nameserver addresses in the parent", block("nameserver example.org 192.0.2.1"), nil, 3, "addresses are only served for names inside"},
		{"bad nameserver after a good one", block("nameserver ns1.auth.example.org 192.0.2.1", "nameserver ns2.auth.example.org 2001:db8::zz"), nil, 4, `invalid address "2001:db8::zz"`},

		// hostmaster
		{"hostmaster without value", block("hostmaster"), nil, 3, "Wrong argument count"},
		{"hostmaster two values", block("hostmaster a@example.org b@example.org"), nil, 3, "Wrong argument count"},
		{"hostmaster empty local part", block("hostmaster @example.org"), nil, 3, `hostmaster: invalid e-mail address "@example.org"`},
		{"hostmaster empty domain", block("hostmaster admin@"), nil, 3, `hostmaster: invalid e-mail address "admin@"`},
		{"hostmaster two @", block("hostmaster a@b@example.org"), nil, 3, `hostmaster: invalid e-mail address "a@b@example.org"`},
		{"hostmaster empty label", block("hostmaster admin..example.org"), nil, 3, `hostmaster: invalid mailbox "admin..example.org"`},
		{"hostmaster bad domain in e-mail", block("hostmaster admin@example..org"), nil, 3, `hostmaster: invalid mailbox "admin@example..org"`},
		{"hostmaster root", block("hostmaster ."), nil, 3, `hostmaster: invalid mailbox "."`},

		// numbers
		{"ttl negative", block("ttl -1"), nil, 3, `ttl: want an integer from 0 to 86400, got "-1"`},
		{"ttl too big", block("ttl 86401"), nil, 3, `ttl: want an integer from 0 to 86400, got "86401"`},
		{"ttl not a number", block("ttl 1h"), nil, 3, `ttl: want an integer from 0 to 86400, got "1h"`},
		{"ttl without value", block("ttl"), nil, 3, "Wrong argument count"},
		{"ttl two values", block("ttl 1 2"), nil, 3, "Wrong argument count"},
		{"negative_ttl too big", block("negative_ttl 86401"), nil, 3, `negative_ttl: want an integer from 0 to 86400, got "86401"`},
		{"negative_ttl negative", block("negative_ttl -5"), nil, 3, `negative_ttl: want an integer from 0 to 86400, got "-5"`},
		{"negative_ttl without value", block("negative_ttl"), nil, 3, "Wrong argument count"},
		{"txt_limit zero", block("txt_limit 0"), nil, 3, `txt_limit: want an integer from 1 to 10, got "0"`},
		{"txt_limit eleven", block("txt_limit 11"), nil, 3, `txt_limit: want an integer from 1 to 10, got "11"`},
		{"txt_limit not a number", block("txt_limit two"), nil, 3, `txt_limit: want an integer from 1 to 10, got "two"`},
		{"txt_limit without value", block("txt_limit"), nil, 3, "Wrong argument count"},

		// timeout
		{"timeout garbage", block("timeout soon"), nil, 3, `timeout: want a duration up to 1m, got "soon"`},
		{"timeout without unit", block("timeout 500"), nil, 3, `timeout: want a duration up to 1m, got "500"`},
		{"timeout zero", block("timeout 0s"), nil, 3, `timeout: want a duration up to 1m, got "0s"`},
		{"timeout negative", block("timeout -1s"), nil, 3, `timeout: want a duration up to 1m, got "-1s"`},
		{"timeout too long", block("timeout 61s"), nil, 3, `timeout: want a duration up to 1m, got "61s"`},
		{"timeout without value", block("timeout"), nil, 3, "Wrong argument count"},
		{"timeout two values", block("timeout 1s 2s"), nil, 3, "Wrong argument count"},

		// registration
		{"registration without mode", block("registration"), nil, 3, "Wrong argument count"},
		{"registration bad mode", block("registration maybe"), nil, 3, `registration: want open, closed, allow CIDR... or token TOKEN..., got "maybe"`},
		{"registration mode case", block("registration Open"), nil, 3, `registration: want open, closed, allow CIDR... or token TOKEN..., got "Open"`},
		{"registration open with argument", block("registration open 10.0.0.0/8"), nil, 3, "Wrong argument count"},
		{"registration closed with argument", block("registration closed now"), nil, 3, "Wrong argument count"},
		{"registration allow without CIDR", block("registration allow"), nil, 3, "registration allow needs at least one CIDR"},
		{"registration allow without prefix length", block("registration allow 10.0.0.1"), nil, 3, `registration allow: invalid CIDR "10.0.0.1"`},
		{"registration allow garbage", block("registration allow 10.0.0.0/8 garbage"), nil, 3, `registration allow: invalid CIDR "garbage"`},
		{"registration allow bad length", block("registration allow 10.0.0.0/33"), nil, 3, `registration allow: invalid CIDR "10.0.0.0/33"`},

		// trusted_proxies
		{"trusted_proxies without CIDR", block("trusted_proxies"), nil, 3, "Wrong argument count"},
		{"trusted_proxies without prefix length", block("trusted_proxies 127.0.0.1"), nil, 3, `trusted_proxies: invalid CIDR "127.0.0.1"`},
		{"trusted_proxies bracketed without length", block("trusted_proxies [::1]"), nil, 3, `trusted_proxies: invalid CIDR "[::1]"`},
		{"trusted_proxies garbage", block("trusted_proxies 10.0.0.0/8 proxy.example.org/32"), nil, 3, `trusted_proxies: invalid CIDR "proxy.example.org/32"`},
		{"trusted_proxies bad IPv6 length", block("trusted_proxies [::1]/129"), nil, 3, `trusted_proxies: invalid CIDR "[::1]/129"`},
		{"trusted_proxies zoned", block("trusted_proxies fe80::%eth0/64"), nil, 3, `trusted_proxies: invalid CIDR "fe80::%eth0/64"`},

		// cors
		{"cors without origin", block("cors"), nil, 3, "Wrong argument count"},
		{"cors bare host", block("cors app.example.org"), nil, 3, `cors: origin "app.example.org" must be * or start with http:// or https://`},
		{"cors other scheme", block("cors https://ok.example.org ftp://files.example.org"), nil, 3, `cors: origin "ftp://files.example.org"`},
		{"cors partial wildcard", block("cors *.example.org"), nil, 3, `cors: origin "*.example.org"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []string{testZone}
			}
			c := newTestController(tc.input, keys, "")
			cfg, err := parse(c)
			if err == nil {
				t.Fatalf("parse:\n%s\nno error, got %+v", tc.input, describe(cfg))
			}
			if cfg != nil {
				t.Errorf("parse returned a config with the error: %+v", describe(cfg))
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if loc := fmt.Sprintf("Testfile:%d - ", tc.line); !strings.Contains(err.Error(), loc) {
				t.Errorf("error %q does not name %q", err, loc)
			}
		})
	}
}

// TestParseOnce: a second acmedns directive in one server block is refused
// with plugin.ErrOnce, whatever the two blocks hold.
func TestParseOnce(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"two blocks", "acmedns {\n\tapi :8053\n}\nacmedns {\n\tapi :8054\n}"},
		{"block then bare directive", "acmedns {\n\tapi :8053\n}\nacmedns"},
		{"two bare directives", "acmedns\nacmedns"},
		{"different zones", "acmedns a.example.org {\n\tapi :8053\n}\nacmedns b.example.org {\n\tapi :8054\n}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestController(tc.input, []string{testZone}, "")
			cfg, err := parse(c)
			if !errors.Is(err, plugin.ErrOnce) {
				t.Fatalf("parse: got %v (config %+v), want plugin.ErrOnce", err, describe(cfg))
			}
		})
	}
}

// TestParseRedisWithoutBlock: a redis line without a { block, followed by
// further acmedns options, must leave those options to the acmedns block.
func TestParseRedisWithoutBlock(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string // "" for success
	}{
		{"followed by ttl and api", "acmedns {\n\tredis r:6379\n\tttl 5\n\tapi :8053\n}", ""},
		{"followed by db", "acmedns {\n\tapi :8053\n\tredis r:6379\n\tdb 3\n}", "Testfile:5 - Error during parsing: db and redis exclude each other"},
		{"twice", "acmedns {\n\tapi :8053\n\tredis a:6379\n\tredis b:6379\n}", "Testfile:4 - Error during parsing: redis specified more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestController(tc.input, []string{testZone}, "")
			cfg, err := parse(c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v (%+v), want an error containing %q", err, describe(cfg), tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.TTL != 5 || cfg.API != ":8053" || !reflect.DeepEqual(cfg.Redis, redisDefaults("r:6379")) {
				t.Errorf("got %+v", describe(cfg))
			}
		})
	}
}

func TestSetup(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string // "" for success; else a substring of the error
	}{
		{"minimal", "acmedns {\n\tapi :8053\n}", ""},
		{"redis", "acmedns {\n\tapi :8053\n\tredis 127.0.0.1:6379 {\n\t\tprefix x:\n\t}\n}", ""},
		{"parse error is wrapped", "acmedns {\n\tapi :8053\n\tttl x\n}", "plugin/acmedns: Testfile:3 - Error during parsing: ttl: want an integer"},
		{"missing api", "acmedns {\n}", "plugin/acmedns: Testfile:2 - Error during parsing: api ADDRESS is required"},
		{"twice in a block", "acmedns {\n\tapi :8053\n}\nacmedns {\n\tapi :8054\n}", plugin.ErrOnce.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestController(tc.input, []string{testZone}, "")
			err := setup(c)
			plugins := dnsserver.GetConfig(c).Plugin
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("setup: got %v, want an error containing %q", err, tc.wantErr)
				}
				if len(plugins) != 0 {
					t.Errorf("setup failed but added %d plugins", len(plugins))
				}
				return
			}
			if err != nil {
				t.Fatalf("setup: %v", err)
			}
			// The first step puts acmedns's transfer handler ahead of a
			// transfer plugin that would be first in the chain; without
			// one it hands the chain on as it is.
			if len(plugins) != 2 {
				t.Fatalf("setup added %d plugins, want 2", len(plugins))
			}
			if next := (&ACMEDNS{}); plugins[0](next) != plugin.Handler(next) {
				t.Errorf("the first step changed a chain without a transfer plugin")
			}
			h := plugins[1](nil)
			a, ok := h.(*ACMEDNS)
			if !ok {
				t.Fatalf("plugin is %T, want *ACMEDNS", h)
			}
			if a.Name() != "acmedns" {
				t.Errorf("Name() = %q", a.Name())
			}
			if a.cfg.API != ":8053" || !reflect.DeepEqual(a.cfg.Zones, []string{testZone}) {
				t.Errorf("config %+v", describe(a.cfg))
			}
			if _, ok := a.zones[testZone]; !ok {
				t.Errorf("zone %s not prepared: %v", testZone, a.zones)
			}
		})
	}
}

// TestSetupDuplicateAPI runs setup on two blocks of one instance: the second
// may not use the API address of the first.
func TestSetupDuplicateAPI(t *testing.T) {
	tests := []struct {
		name          string
		first, second string
		wantErr       string // "" when the second setup must succeed
		line          int    // line of the second block the error names
	}{
		{
			name:    "same address",
			first:   "acmedns {\n\tapi 127.0.0.1:8053\n}",
			second:  "acmedns other.example.org {\n\tttl 5\n\tapi 127.0.0.1:8053\n}",
			wantErr: "address 127.0.0.1:8053 is already used by another acmedns api or admin listener",
			line:    3,
		},
		{
			name:    "same wildcard address",
			first:   "acmedns {\n\tapi :8053\n}",
			second:  "acmedns {\n\tapi :8053\n}",
			wantErr: "address :8053 is already used",
			line:    2,
		},
		{
			name:   "different port",
			first:  "acmedns {\n\tapi 127.0.0.1:8053\n}",
			second: "acmedns {\n\tapi 127.0.0.1:8054\n}",
		},
		{
			name:   "different host",
			first:  "acmedns {\n\tapi 127.0.0.1:8053\n}",
			second: "acmedns {\n\tapi 127.0.0.2:8053\n}",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestController(tc.first, []string{testZone}, "")
			if err := setup(c); err != nil {
				t.Fatalf("first setup: %v", err)
			}
			c.Dispenser = caddyfile.NewDispenser("Testfile", strings.NewReader(tc.second))
			err := setup(c)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("second setup: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("second setup: no error, want %q", tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("second setup: error %q does not contain %q", err, tc.wantErr)
			}
			if loc := fmt.Sprintf("Testfile:%d - ", tc.line); !strings.Contains(err.Error(), loc) {
				t.Errorf("second setup: error %q does not name %q", err, loc)
			}
		})
	}
}

package acmedns

import (
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
)

// parseRedis reads "redis ADDRESS... [{ ... }]".
func parseRedis(c *caddy.Controller, cfg *Config) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return c.Err("redis needs at least one ADDRESS")
	}
	for _, a := range args {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return c.Errf("redis: invalid address %q, want HOST:PORT", a)
		}
	}
	r := defaultRedisConfig(args)
	textOpts := map[string]*string{
		"username": &r.Username, "password": &r.Password, "master": &r.MasterName, "prefix": &r.Prefix,
		"sentinel_username": &r.SentinelUsername, "sentinel_password": &r.SentinelPassword,
	}
	durations := map[string]*time.Duration{
		"dial_timeout": &r.DialTimeout, "read_timeout": &r.ReadTimeout, "write_timeout": &r.WriteTimeout,
	}
	// A block may follow the addresses on this line. Without one, NextBlock
	// (already inside the acmedns block) would take the next acmedns option
	// as a redis property: peek on a copy of the dispenser first.
	peek := c.Dispenser
	hasBlock := peek.NextArg() && peek.Val() == "{"
	seen := map[string]bool{}
	for hasBlock && c.NextBlock() {
		opt := c.Val()
		if seen[opt] {
			return c.Errf("redis %s specified more than once", opt)
		}
		seen[opt] = true
		switch opt {
		case "username", "password", "sentinel_username", "sentinel_password", "master", "prefix":
			v := c.RemainingArgs()
			if len(v) != 1 {
				return c.ArgErr()
			}
			*textOpts[opt] = v[0]
		case "db":
			n, err := intArg(c, "redis db", 0, 1<<20)
			if err != nil {
				return err
			}
			r.DB = n
		case "pool_size":
			n, err := intArg(c, "redis pool_size", 1, 1<<16)
			if err != nil {
				return err
			}
			r.PoolSize = n
		case "cache":
			n, err := intArg(c, "redis cache", 0, 10_000_000)
			if err != nil {
				return err
			}
			r.CacheSize = n
		case "wait_replicas":
			v := c.RemainingArgs()
			if len(v) < 1 || len(v) > 2 {
				return c.ArgErr()
			}
			n, err := strconv.Atoi(v[0])
			if err != nil || n < 1 || n > 100 {
				return c.Errf("redis wait_replicas: want 1 to 100 replicas, got %q", v[0])
			}
			r.WaitReplicas = n
			if len(v) == 2 {
				d, err := time.ParseDuration(v[1])
				if err != nil || d <= 0 {
					return c.Errf("redis wait_replicas: want a positive duration, got %q", v[1])
				}
				r.WaitTimeout = d
			}
		case "tls":
			if err := parseRedisTLS(c, r); err != nil {
				return err
			}
		case "tls_server_name":
			if err := parseRedisServerName(c, r); err != nil {
				return err
			}
		case "dial_timeout", "read_timeout", "write_timeout":
			v := c.RemainingArgs()
			if len(v) != 1 {
				return c.ArgErr()
			}
			d, err := time.ParseDuration(v[0])
			if err != nil || d <= 0 {
				return c.Errf("redis %s: want a positive duration, got %q", opt, v[0])
			}
			*durations[opt] = d
		default:
			return c.Errf("unknown redis property %q", opt)
		}
	}
	if r.WaitReplicas > 0 && r.WaitTimeout >= r.ReadTimeout {
		return c.Errf("redis wait_replicas: the timeout (%s) must be shorter than read_timeout (%s)", r.WaitTimeout, r.ReadTimeout)
	}
	if r.MasterName == "" && (r.SentinelUsername != "" || r.SentinelPassword != "") {
		return c.Err("redis: sentinel_username and sentinel_password need master")
	}
	if err := checkRedisTLS(c, seen); err != nil {
		return err
	}
	cfg.Redis = r
	return nil
}

// parseRedisTLS reads "tls [CA_FILE [CERT_FILE KEY_FILE]]". Relative paths
// are taken from the root plugin's directory; the files are read at start.
func parseRedisTLS(c *caddy.Controller, r *RedisConfig) error {
	args := c.RemainingArgs()
	if len(args) == 2 || len(args) > 3 {
		return c.Err("redis tls: want [CA_FILE [CERT_FILE KEY_FILE]]")
	}
	for _, a := range args {
		if a == "" {
			return c.Err("redis tls: empty file name")
		}
	}
	if r.TLS == nil {
		r.TLS = &RedisTLS{}
	}
	paths := []*string{&r.TLS.CA, &r.TLS.Cert, &r.TLS.Key}
	root := dnsserver.GetConfig(c).Root
	for i, a := range args {
		if root != "" && !filepath.IsAbs(a) {
			a = filepath.Join(root, a)
		}
		*paths[i] = a
	}
	return nil
}

// parseRedisServerName reads "tls_server_name NAME".
func parseRedisServerName(c *caddy.Controller, r *RedisConfig) error {
	args := c.RemainingArgs()
	if len(args) != 1 || args[0] == "" {
		return c.ArgErr()
	}
	if r.TLS == nil {
		r.TLS = &RedisTLS{}
	}
	r.TLS.ServerName = args[0]
	return nil
}

// checkRedisTLS validates the TLS options once the block is read.
func checkRedisTLS(c *caddy.Controller, seen map[string]bool) error {
	if seen["tls_server_name"] && !seen["tls"] {
		return c.Err("redis tls_server_name needs tls")
	}
	return nil
}

package acmedns

import (
	"net"
	"path/filepath"
	"strings"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
)

// AdminConfig is the admin block: the admin API's address and who may use it.
type AdminConfig struct {
	Addr       string   // host:port
	Tokens     []string // bearer tokens given in the Corefile
	TokenFiles []string // files holding one token each, read at startup
}

// minAdminToken is the shortest admin token accepted.
const minAdminToken = 16

// parseAdmin reads "admin ADDRESS { token TOKEN | token_file PATH ... }".
func parseAdmin(c *caddy.Controller, cfg *Config) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return c.Err("admin needs one ADDRESS and a block with at least one token or token_file")
	}
	if _, port, err := net.SplitHostPort(args[0]); err != nil || port == "" {
		return c.Errf("admin: invalid address %q, want HOST:PORT", args[0])
	}
	if err := claimAddress(c, args[0]); err != nil {
		return err
	}
	ac := &AdminConfig{Addr: args[0]}
	for c.NextBlock() {
		switch opt := c.Val(); opt {
		case "token":
			v := c.RemainingArgs()
			if len(v) != 1 {
				return c.ArgErr()
			}
			if len(v[0]) < minAdminToken || strings.ContainsAny(v[0], " \t") {
				return c.Errf("admin token %d: want at least %d characters", len(ac.Tokens)+1, minAdminToken)
			}
			ac.Tokens = append(ac.Tokens, v[0])
		case "token_file":
			v := c.RemainingArgs()
			if len(v) != 1 || v[0] == "" {
				return c.ArgErr()
			}
			p := v[0]
			if root := dnsserver.GetConfig(c).Root; root != "" && !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			ac.TokenFiles = append(ac.TokenFiles, p)
		default:
			return c.Errf("unknown admin property %q", opt)
		}
	}
	if len(ac.Tokens)+len(ac.TokenFiles) == 0 {
		return c.Err("admin needs at least one token or token_file")
	}
	cfg.Admin = ac
	return nil
}

// claimAddress refuses an address that another api or admin listener of
// this Corefile already uses: two blocks would silently share it.
func claimAddress(c *caddy.Controller, addr string) error {
	addrs, _ := c.Get(apiAddrsKey{}).(map[string]bool)
	if addrs == nil {
		addrs = map[string]bool{}
		c.Set(apiAddrsKey{}, addrs)
	}
	if addrs[addr] {
		return c.Errf("address %s is already used by another acmedns api or admin listener", addr)
	}
	addrs[addr] = true
	return nil
}

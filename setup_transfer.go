package acmedns

import (
	"strconv"
	"time"

	"github.com/coredns/caddy"
)

// TransferLimits bounds what zone transfers may cost, whatever the clients
// do.
type TransferLimits struct {
	// Max is how many transfers may be under way at once in the whole
	// process (those of every block count).
	Max int
	// PerClient is how many of them one client address may have (IPv6
	// by /64).
	PerClient int
	// Idle cuts a transfer off, closing its connection, when its client
	// has not taken its next message (up to 64 KB) within this long.
	Idle time.Duration
}

// Defaults of transfer_limits: a few secondaries, each with a few
// transfers under way, fit within them.
const (
	DefaultTransfers       = 16
	DefaultClientTransfers = 4
	DefaultTransferIdle    = 10 * time.Second
)

// defaultTransferLimits are the bounds without transfer_limits.
func defaultTransferLimits() TransferLimits {
	return TransferLimits{Max: DefaultTransfers, PerClient: DefaultClientTransfers, Idle: DefaultTransferIdle}
}

// parseTransferLimits reads "transfer_limits MAX [PER_CLIENT [IDLE]]".
func parseTransferLimits(c *caddy.Controller, l *TransferLimits) error {
	args := c.RemainingArgs()
	if len(args) < 1 || len(args) > 3 {
		return c.ArgErr()
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 10000 {
		return c.Errf("transfer_limits: want an integer from 1 to 10000, got %q", args[0])
	}
	l.Max, l.PerClient = n, min(n, DefaultClientTransfers)
	if len(args) >= 2 {
		p, err := strconv.Atoi(args[1])
		if err != nil || p < 1 || p > n {
			return c.Errf("transfer_limits: want a per-client bound from 1 to %d, got %q", n, args[1])
		}
		l.PerClient = p
	}
	if len(args) == 3 {
		d, err := time.ParseDuration(args[2])
		if err != nil || d < time.Second || d > time.Hour {
			return c.Errf("transfer_limits: want an idle bound from 1s to 1h, got %q", args[2])
		}
		l.Idle = d
	}
	return nil
}

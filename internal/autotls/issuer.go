package autotls

import (
	"context"

	"github.com/caddyserver/certmagic"
)

// quietIssuer is certmagic's ACME issuer, never interactive. certmagic
// treats a first order through ManageSync as interactive and, when it has
// no e-mail address for the account, prints a prompt and reads one from
// standard input, setting process-wide defaults as it goes: a server must
// do neither. Even asked not to prompt, its check takes the first address
// any issuer of the process saw (or the last one in storage); an account
// without a contact is what `email` left out means, so without one the
// check is skipped (its only other test, that an IP address is allowed by
// a public CA, is made by setup, which takes names only).
type quietIssuer struct{ *certmagic.ACMEIssuer }

// PreCheck implements certmagic.PreChecker, never interactively.
func (q quietIssuer) PreCheck(ctx context.Context, names []string, _ bool) error {
	if q.Email == "" {
		return nil
	}
	return q.ACMEIssuer.PreCheck(ctx, names, false)
}

package autotls

import (
	"context"

	"github.com/caddyserver/certmagic"
)

// quietIssuer is certmagic's ACME issuer, never interactive. certmagic
// treats a first order through ManageSync as interactive and, when it has
// no e-mail address for the account, prints a prompt and reads one from
// standard input, setting process-wide defaults as it goes: a server must
// do neither. An account without a contact is what `email` left out means.
type quietIssuer struct{ *certmagic.ACMEIssuer }

// PreCheck implements certmagic.PreChecker, never interactively.
func (q quietIssuer) PreCheck(ctx context.Context, names []string, _ bool) error {
	return q.ACMEIssuer.PreCheck(ctx, names, false)
}

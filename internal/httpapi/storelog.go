package httpapi

import (
	"regexp"
	"strings"
	"time"
)

// A request answered 503 storage_unavailable logs why, as a warning:
//
//	[WARNING] plugin/acmedns: storage_unavailable op=update suppressed=41 cause="dial tcp 127.0.0.1:6379: connect: connection refused"
//
// op is the store call's operation, as in store_errors_total; each one is
// logged at most once per storeLogWindow, and suppressed counts the failures
// of op not logged since its previous line, so that a dead Redis under
// steady traffic writes a line per operation every ten seconds. The
// failures after the last line of an outage are counted in
// store_errors_total only.
//
// The cause is the store's error. Neither go-redis nor the stores put a
// password in one (Redis answers a wrong one with WRONGPASS, not echoing
// it), and the API key never reaches the store, but redactCause removes
// whatever could be a secret all the same.

// storeLogWindow is how often at most each operation's store failures are
// logged.
const storeLogWindow = 10 * time.Second

// maxCause bounds the length of the cause in a log line.
const maxCause = 300

// logStoreError logs the cause of a failed store call, unless a failure of
// the same operation was logged within storeLogWindow.
func (s *Service) logStoreError(op string, err error) {
	if err == nil {
		return
	}
	ok, suppressed := s.storeLog.allow(op)
	if !ok {
		return
	}
	log.Warningf("storage_unavailable op=%s suppressed=%d cause=%q", op, suppressed, redactCause(err.Error()))
}

// The parts of an error's text that may hold a secret.
var (
	// Redis echoes the arguments of a command it does not know (one that
	// renamed-command or ACL setups hide): keys, hashes, values.
	argsEcho = "with args beginning with:"
	// user:password@ in a URL.
	urlUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^@/\s]*@`)
	// A bcrypt hash.
	bcryptHash = regexp.MustCompile(`\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}`)
	// A username's claim key (prefix user:<username>).
	userKey = regexp.MustCompile(`user:[0-9A-Fa-f-]{36}`)
	// A long token: an API key (40 characters), a TXT value, a password
	// or an admin token in base64.
	longToken = regexp.MustCompile(`[A-Za-z0-9_+/=-]{40,}`)
)

// redactCause returns msg, an error's text, without anything that could be
// a secret, at most maxCause bytes long.
func redactCause(msg string) string {
	if i := strings.Index(msg, argsEcho); i >= 0 {
		msg = msg[:i+len(argsEcho)] + " [redacted]"
	}
	msg = urlUserinfo.ReplaceAllString(msg, "${1}[redacted]@")
	msg = bcryptHash.ReplaceAllString(msg, "[redacted]")
	msg = userKey.ReplaceAllString(msg, "user:[redacted]")
	msg = longToken.ReplaceAllString(msg, "[redacted]")
	if len(msg) > maxCause {
		msg = strings.ToValidUTF8(msg[:maxCause], "") + "..."
	}
	return msg
}

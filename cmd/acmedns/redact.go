package main

import (
	"net/url"
	"strings"
)

// redactor keeps the path of an API URL, where a registration token goes
// (https://auth.example.org/TOKEN), out of what register prints.
type redactor struct {
	secrets []string // path segments long enough to be a token, userinfo
}

// minSecret is the length from which a path segment is hidden in text too
// (registration tokens have 16 to 128 characters).
const minSecret = 8

func newRedactor(api string) redactor {
	var r redactor
	u, err := url.Parse(api)
	if err != nil {
		return redactor{secrets: []string{api}}
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if len(seg) >= minSecret {
			r.secrets = append(r.secrets, seg)
			if dec, err := url.PathUnescape(seg); err == nil && dec != seg {
				r.secrets = append(r.secrets, dec)
			}
		}
	}
	if u.User != nil {
		r.secrets = append(r.secrets, u.User.String())
	}
	return r
}

// url shows an API URL as scheme and host, with "/…" for any path.
func (r redactor) url(api string) string {
	u, err := url.Parse(api)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "the --api URL"
	}
	shown := u.Scheme + "://" + u.Host
	if strings.Trim(u.Path, "/") != "" {
		shown += "/…"
	}
	return shown
}

// text makes s printable: the secrets replaced by "…", control characters
// escaped.
func (r redactor) text(s string) string {
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, "…")
	}
	return inert(s)
}

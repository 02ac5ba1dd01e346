package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

const persistSynopsis = `acmedns persist set|list|remove --domain DOMAIN [--storage FILE] [--api URL] [--json]
acmedns persist set|list|remove --domain DOMAIN --admin URL [--token TOKEN] [--subdomain SUB] [--json]

  set      --issuer CA --account-uri URI [--wildcard] [--persist-until TIME]
           or --record "ISSUE-VALUE": publishes the dns-persist-01 record
           "CA; accounturi=URI[; policy=wildcard][; persistUntil=SECONDS]"
           in the account's TXT RRset (one record per CA; set again to
           replace it) and prints the CNAME DOMAIN's zone needs:
           _validation-persist.DOMAIN. CNAME <fulldomain>.
  list     [--resolver HOST:PORT]: the account's records. The admin API
           shows them; with the account's credentials alone there is no
           read call, so the TXT RRset of the fulldomain is read over DNS.
  remove   --issuer CA: removes the record of that CA (revokes it).

The account is the one register saved under DOMAIN in FILE: its password
and server_url (or --api URL) are used on the public API. With --admin, the
admin API is used instead, for the account SUB (default: the subdomain
saved under DOMAIN in FILE). A "*.DOMAIN" implies --wildcard. The record is
checked before it is sent: an issuer domain name; "; tag=value" parameters
of printable ASCII without ";" or space; accounturi an https URL (without
user@) or "<prefix>sha-256/<43 base64url>"; policy only wildcard;
persistUntil Unix seconds, not past; 1024 octets at most, as written and
as the server stores it (with "; " between parameters).`

// persistFlags are the flags of persist.
type persistFlags struct {
	adminFlags
	domain, storage, api, sub, resolver string
	spec                                recordSpec
}

// register declares the flags; --admin and --token are those of the
// other admin API commands, but optional here.
func (f *persistFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.domain, "domain", "", "the domain the records authorize, e.g. example.org (required)")
	fs.StringVar(&f.storage, "storage", defaultStorage, "the credentials file register wrote")
	fs.StringVar(&f.api, "api", "", "the public API base URL (default: the account's server_url in FILE)")
	fs.StringVar(&f.adminFlags.url, "admin", "", "the admin API's base URL, e.g. http://127.0.0.1:8054 (instead of the account's credentials)")
	fs.StringVar(&f.adminFlags.token, "token", "", "the admin API token (default $ACMEDNS_ADMIN_TOKEN)")
	fs.StringVar(&f.sub, "subdomain", "", "with --admin: the account (default: the subdomain saved under DOMAIN in FILE)")
	fs.StringVar(&f.spec.issuer, "issuer", "", "set, remove: the CA's issuer domain name, e.g. letsencrypt.org")
	fs.StringVar(&f.spec.accountURI, "account-uri", "", "set: the ACME account URI (or <prefix>sha-256/<digest>)")
	fs.BoolVar(&f.spec.wildcard, "wildcard", false, "set: policy=wildcard, so the record also authorizes *.DOMAIN")
	fs.StringVar(&f.spec.until, "persist-until", "", "set: persistUntil, as Unix seconds, RFC 3339 or YYYY-MM-DD")
	fs.StringVar(&f.spec.raw, "record", "", "set: the whole record (issue-value), instead of --issuer, --account-uri...")
	fs.StringVar(&f.resolver, "resolver", "", "list without --admin: the DNS server to ask, HOST:PORT (default: /etc/resolv.conf)")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
}

func runPersist(args []string, stdout, stderr io.Writer) int {
	var f persistFlags
	fs := newFlags("persist", persistSynopsis, stdout)
	f.register(fs.FlagSet)
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return usageCode(err)
	}
	if len(pos) != 1 {
		return usageError(stderr, "persist", "one subcommand is required: set, list or remove")
	}
	verb := pos[0]
	if err := f.validate(verb, time.Now()); err != nil {
		return usageError(stderr, "persist "+verb, "%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, code := openBackend(ctx, f, stderr)
	if code != exitOK {
		return code
	}
	defer b.client.close()
	switch verb {
	case "set":
		return persistSet(ctx, f, b, stdout, stderr)
	case "remove":
		return persistRemove(ctx, f, b, stdout, stderr)
	}
	return persistList(ctx, f, b, stdout, stderr)
}

// validate checks the flags of verb without any network call; for set it
// builds the record into f.spec.raw.
func (f *persistFlags) validate(verb string, now time.Time) error {
	if verb != "set" && verb != "list" && verb != "remove" {
		return fmt.Errorf("unknown subcommand %q (set, list or remove)", verb)
	}
	if f.domain == "" || !validDomain(baseDomain(f.domain)) {
		return fmt.Errorf("--domain is required, a domain name")
	}
	if f.adminFlags.url != "" {
		if err := f.adminFlags.check(); err != nil {
			return err
		}
	} else if f.sub != "" {
		return fmt.Errorf("--subdomain goes with --admin")
	}
	switch verb {
	case "set":
		return f.validateSet(now)
	case "remove":
		f.spec.issuer = normalIssuer(f.spec.issuer)
		if !validIssuer(f.spec.issuer) {
			return fmt.Errorf("--issuer is required, the CA's issuer domain name")
		}
	}
	return nil
}

// validateSet builds and checks the record of set into f.spec.raw: the
// one built from the flags, or --record as written (spaces trimmed).
func (f *persistFlags) validateSet(now time.Time) error {
	if f.spec.raw != "" && (f.spec.issuer != "" || f.spec.accountURI != "" || f.spec.wildcard || f.spec.until != "") {
		return fmt.Errorf("--record is the whole record: without --issuer, --account-uri, --wildcard or --persist-until")
	}
	wild := strings.HasPrefix(strings.TrimSpace(f.domain), "*.")
	if f.spec.raw == "" && wild {
		f.spec.wildcard = true
	}
	v, err := buildRecord(f.spec, now)
	if err != nil {
		return err
	}
	if wild && !v.Wildcard {
		return fmt.Errorf("%s needs policy=wildcard in the record", f.domain)
	}
	if f.spec.raw == "" {
		f.spec.raw = v.String()
	} else {
		f.spec.raw = trimWSP(f.spec.raw)
	}
	return nil
}

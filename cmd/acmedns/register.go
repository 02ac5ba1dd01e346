package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const registerSynopsis = `acmedns register --api URL --domain DOMAIN [--allow CIDR...] [--storage FILE] [--account-uri URI] [--json]

Registers an account on the public API (POST URL/register; URL may end in a
registration token: https://auth.example.org/TOKEN), saves its credentials
under DOMAIN in FILE (the JSON lego and nrdcg/goacmedns read; 0600; other
domains' accounts are kept) and prints the CNAME to create. FILE is checked
before registering; an answer with a malformed username, subdomain or
fulldomain is refused. The path of URL is never printed.`

// registerFlags are the flags of register.
type registerFlags struct {
	api, domain, storage, accountURI string
	allow                            listFlag
	json                             bool
}

func runRegister(args []string, stdout, stderr io.Writer) int {
	var f registerFlags
	fs := newFlags("register", registerSynopsis, stdout)
	fs.StringVar(&f.api, "api", "", "the acmedns public API base URL (required)")
	fs.StringVar(&f.domain, "domain", "", "the domain the certificate is for, e.g. example.org (required)")
	fs.Var(&f.allow, "allow", "a network updates may come from (repeat, or comma-separated; default any)")
	fs.StringVar(&f.storage, "storage", defaultStorage, "the credentials file")
	fs.StringVar(&f.accountURI, "account-uri", "", "the ACME account URI, to print the dns-account-01 CNAME too")
	fs.BoolVar(&f.json, "json", false, "print JSON for scripts")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return usageCode(err)
	}
	switch {
	case len(pos) > 0:
		return usageError(stderr, "register", "unexpected argument %q", pos[0])
	case f.api == "" || f.domain == "":
		return usageError(stderr, "register", "--api and --domain are required")
	}
	for _, c := range f.allow {
		if _, ok := parseCIDR(c); !ok {
			return usageError(stderr, "register", "--allow %q is not a CIDR", c)
		}
	}
	return doRegister(f, stdout, stderr)
}

// doRegister checks that the credentials file can be written, registers,
// saves the credentials and prints the CNAME. When the save fails after
// all, it prints the credentials instead, so that they are not lost.
func doRegister(f registerFlags, stdout, stderr io.Writer) int {
	domain := baseDomain(f.domain)
	if err := checkStorage(f.storage); err != nil {
		fmt.Fprintf(stderr, "acmedns register: the credentials file %s cannot be written, so nothing was registered: %s\n", inert(f.storage), inert(err.Error()))
		return exitRuntime
	}
	cred, err := register(f.api, []string(f.allow))
	if err != nil {
		fmt.Fprintf(stderr, "acmedns register: %v\n", err)
		return exitRuntime
	}
	if err := saveStorage(f.storage, domain, cred); err != nil {
		printUnsaved(stderr, f.storage, domain, cred, err)
		return exitRuntime
	}
	printRegistered(stdout, f, domain, cred)
	return exitOK
}

// register calls POST /register and checks the answer. Its errors hold
// the server's text escaped, and neither the path of api (where a
// registration token goes) nor anything of it the server echoes.
func register(api string, allow []string) (credentials, error) {
	base := strings.TrimSuffix(api, "/")
	red := newRedactor(base)
	where := "POST " + red.url(base) + "/register"
	var body io.Reader = http.NoBody
	if len(allow) > 0 {
		b, _ := json.Marshal(map[string][]string{"allowfrom": allow})
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/register", body)
	if err != nil {
		return credentials{}, fmt.Errorf("%s: %s", where, red.text(err.Error()))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return credentials{}, fmt.Errorf("%s: %s", where, red.text(transportError(err)))
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return credentials{}, fmt.Errorf("%s: %s %s", where, red.text(resp.Status), red.text(excerpt(b)))
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return credentials{}, fmt.Errorf("%s: the answer is not JSON credentials: %s", where, red.text(excerpt(b)))
	}
	if err := checkAnswer(c); err != nil {
		return credentials{}, fmt.Errorf("%s: refusing the answer: %v", where, err)
	}
	c.ServerURL = base
	return c, nil
}

// transportError is the cause of a failed request, without the URL the
// http package puts in front of it.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// excerpt is the start of an answer's body, for an error message.
func excerpt(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// printUnsaved says that the account exists but could not be saved, and
// prints its credentials as the file would hold them, but for the path of
// server_url, which may hold the registration token.
func printUnsaved(w io.Writer, path, domain string, c credentials, err error) {
	c.ServerURL = newRedactor(c.ServerURL).url(c.ServerURL)
	b, _ := json.MarshalIndent(map[string]credentials{domain: c}, "", "  ")
	fmt.Fprintf(w, "acmedns register: the account is registered, but saving %s failed: %s\n", inert(path), inert(err.Error()))
	fmt.Fprintf(w, "Keep its credentials (server_url is the --api URL given; its path is not shown):\n%s\n", b)
}

// printRegistered tells what to create in the customer's zone.
func printRegistered(w io.Writer, f registerFlags, domain string, c credentials) {
	target := strings.TrimSuffix(c.FullDomain, ".") + "."
	out := map[string]string{
		"domain": domain, "fulldomain": c.FullDomain, "subdomain": c.SubDomain,
		"username": c.Username, "storage": f.storage,
		"cname_name": challengeName(domain), "cname_target": target,
	}
	if f.accountURI != "" {
		out["account_cname_name"] = accountChallengeName(domain, f.accountURI)
	}
	if f.json {
		b, _ := json.MarshalIndent(out, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	fmt.Fprintf(w, "registered %s (username %s); credentials saved in %s under %q\n", c.SubDomain, c.Username, f.storage, domain)
	fmt.Fprintln(w, "Create this record in the zone of", domain+":")
	fmt.Fprintf(w, "%s CNAME %s\n", challengeName(domain), target)
	if f.accountURI != "" {
		fmt.Fprintln(w, "and, for dns-account-01 with the account", f.accountURI+":")
		fmt.Fprintf(w, "%s CNAME %s\n", accountChallengeName(domain, f.accountURI), target)
	}
}

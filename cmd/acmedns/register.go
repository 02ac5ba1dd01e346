package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

const registerSynopsis = `acmedns register --api URL --domain DOMAIN [--allow CIDR...] [--storage FILE] [--account-uri URI] [--json]

Registers an account on the public API (POST URL/register; URL may end in a
registration token: https://auth.example.org/TOKEN), saves its credentials
under DOMAIN in FILE (the JSON lego and nrdcg/goacmedns read; 0600; other
domains' accounts are kept) and prints the CNAME to create.`

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
	cred, err := register(f.api, []string(f.allow))
	if err != nil {
		fmt.Fprintf(stderr, "acmedns register: %v\n", err)
		return exitRuntime
	}
	domain := baseDomain(f.domain)
	if err := saveStorage(f.storage, domain, cred); err != nil {
		fmt.Fprintf(stderr, "acmedns register: saving %s: %v\n", f.storage, err)
		return exitRuntime
	}
	printRegistered(stdout, f, domain, cred)
	return exitOK
}

// register calls POST /register.
func register(api string, allow []string) (credentials, error) {
	base := strings.TrimSuffix(api, "/")
	var body io.Reader = http.NoBody
	if len(allow) > 0 {
		b, _ := json.Marshal(map[string][]string{"allowfrom": allow})
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/register", body)
	if err != nil {
		return credentials{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return credentials{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		return credentials{}, fmt.Errorf("POST %s/register: %s %s", base, resp.Status, bytes.TrimSpace(b))
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil || c.FullDomain == "" || c.Username == "" || c.Password == "" {
		return credentials{}, fmt.Errorf("POST %s/register: an answer without credentials: %s", base, b)
	}
	c.ServerURL = base
	return c, nil
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

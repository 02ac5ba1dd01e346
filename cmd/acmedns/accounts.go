package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

const accountsSynopsis = `acmedns accounts list|show SUB|delete SUB|rotate SUB|allow SUB [CIDR...]|clear SUB --admin URL --token TOKEN [--json]

  list          every account (all pages), a table
  show SUB      one account
  delete SUB    delete the account and its TXT values
  rotate SUB    a new password (same username and subdomain)
  allow SUB     set the networks updates may come from (none given: any)
  clear SUB     delete the account's TXT values`

// accountsCmd is one accounts subcommand.
type accountsCmd struct {
	adminFlags
	client *adminClient
	out    io.Writer
	limit  int
}

func runAccounts(args []string, stdout, stderr io.Writer) int {
	c := &accountsCmd{out: stdout}
	fs := newFlags("accounts", accountsSynopsis, stdout)
	c.adminFlags.register(fs.FlagSet)
	fs.IntVar(&c.limit, "limit", 1000, "list: accounts per admin API call (1 to 1000)")
	pos, err := parseArgs(fs, args, stderr)
	if err != nil {
		return usageCode(err)
	}
	if len(pos) == 0 {
		return usageError(stderr, "accounts", "a subcommand is required: list, show, delete, rotate, allow or clear")
	}
	verb, rest := pos[0], pos[1:]
	want := map[string][2]int{"list": {0, 0}, "show": {1, 1}, "delete": {1, 1}, "rotate": {1, 1}, "allow": {1, 1 << 20}, "clear": {1, 1}}
	n, ok := want[verb]
	if !ok {
		return usageError(stderr, "accounts", "unknown subcommand %q", verb)
	}
	if len(rest) < n[0] || len(rest) > n[1] {
		return usageError(stderr, "accounts", "%s takes %s", verb, map[bool]string{true: "no argument", false: "SUB"}[n[1] == 0])
	}
	if c.limit < 1 || c.limit > 1000 {
		return usageError(stderr, "accounts", "--limit must be 1 to 1000")
	}
	if verb == "allow" {
		for _, cidr := range rest[1:] {
			if _, ok := parseCIDR(cidr); !ok {
				return usageError(stderr, "accounts", "%q is not a CIDR", cidr)
			}
		}
	}
	if err := c.check(); err != nil {
		return usageError(stderr, "accounts", "%v", err)
	}
	c.client = newAdminClient(c.url, c.token, 1)
	defer c.client.close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := c.do(ctx, verb, rest); err != nil {
		fmt.Fprintf(stderr, "acmedns accounts %s: %v\n", verb, err)
		if isCode(err, http.StatusNotFound, "") || isCode(err, http.StatusBadRequest, "") {
			return exitFailed
		}
		return exitRuntime
	}
	return exitOK
}

// do runs one subcommand.
func (c *accountsCmd) do(ctx context.Context, verb string, args []string) error {
	var sub string
	if len(args) > 0 {
		sub = url.PathEscape(args[0])
	}
	switch verb {
	case "list":
		return c.list(ctx)
	case "show":
		a, err := c.client.get(ctx, args[0])
		if err == nil {
			c.show(a)
		}
		return err
	case "delete":
		return c.done(c.client.delete(ctx, args[0]), "deleted", args[0])
	case "clear":
		return c.done(c.client.do(ctx, http.MethodDelete, "/accounts/"+sub+"/txt", nil, nil), "cleared the TXT values of", args[0])
	case "rotate":
		var r struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := c.client.do(ctx, http.MethodPost, "/accounts/"+sub+"/password", nil, &r); err != nil {
			return err
		}
		c.print(r, fmt.Sprintf("new password of %s (username %s):\n%s\n", args[0], inert(r.Username), inert(r.Password)))
		return nil
	case "allow":
		var a account
		body := map[string][]string{"allowfrom": append([]string{}, args[1:]...)}
		if err := c.client.do(ctx, http.MethodPut, "/accounts/"+sub+"/allowfrom", body, &a); err != nil {
			return err
		}
		c.show(a)
		return nil
	}
	return nil
}

// done reports a call without an answer body.
func (c *accountsCmd) done(err error, what, sub string) error {
	if err == nil {
		c.print(map[string]string{"subdomain": sub, "result": "ok"}, fmt.Sprintf("%s %s\n", what, sub))
	}
	return err
}

// print writes v as JSON with --json, else text.
func (c *accountsCmd) print(v any, text string) {
	if c.json {
		b, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
		return
	}
	fmt.Fprint(c.out, text)
}

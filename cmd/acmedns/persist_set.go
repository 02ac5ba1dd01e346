package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// persistSet publishes the record and prints the CNAME to create.
func persistSet(ctx context.Context, f persistFlags, b *persistBackend, stdout, stderr io.Writer) int {
	call := "POST /persist"
	if b.admin {
		call = "PUT /accounts/" + b.sub + "/persist"
	}
	stored, err := b.set(ctx, f.spec.raw)
	if err != nil {
		msg, code := b.explain(err, call)
		fmt.Fprintf(stderr, "acmedns persist set: %s\n", msg)
		return code
	}
	domain := baseDomain(f.domain)
	target := strings.TrimSuffix(strings.ToLower(b.fulldomain), ".") + "."
	if f.json {
		printJSON(stdout, map[string]string{
			"domain": domain, "subdomain": b.sub, "fulldomain": b.fulldomain, "record": stored,
			"source": sourceKind(b), "cname_name": persistName(domain), "cname_target": target,
		})
		return exitOK
	}
	fmt.Fprintf(stdout, "set the dns-persist-01 record of %s (account %s) through %s:\n", domain, inert(b.sub), b.source)
	fmt.Fprintf(stdout, "  %s\n", inert(stored))
	fmt.Fprintln(stdout, "Create this record in the zone of", domain+":")
	fmt.Fprintf(stdout, "%s CNAME %s\n", persistName(domain), inert(target))
	return exitOK
}

// persistRemove removes the record of one issuer.
func persistRemove(ctx context.Context, f persistFlags, b *persistBackend, stdout, stderr io.Writer) int {
	call := "POST /unpersist"
	if b.admin {
		call = "DELETE /accounts/" + b.sub + "/persist/" + f.spec.issuer
	}
	if err := b.remove(ctx, f.spec.issuer); err != nil {
		msg, code := b.explain(err, call)
		fmt.Fprintf(stderr, "acmedns persist remove: %s\n", msg)
		return code
	}
	domain := baseDomain(f.domain)
	if f.json {
		printJSON(stdout, map[string]string{"domain": domain, "subdomain": b.sub, "issuer": f.spec.issuer, "source": sourceKind(b), "result": "ok"})
		return exitOK
	}
	fmt.Fprintf(stdout, "removed the dns-persist-01 record of %s for %s (account %s) through %s, if there was one\n", f.spec.issuer, domain, inert(b.sub), b.source)
	return exitOK
}

// sourceKind names the backend in JSON: "admin" or "public".
func sourceKind(b *persistBackend) string {
	if b.admin {
		return "admin"
	}
	return "public"
}

// printJSON writes v indented.
func printJSON(w io.Writer, v any) {
	out, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintf(w, "%s\n", out)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// report is the summary of an import.
type report struct {
	Layout    string    `json:"layout"`
	DryRun    bool      `json:"dry_run"`
	Overwrite bool      `json:"overwrite"`
	Accounts  int       `json:"accounts"`
	Imported  int       `json:"imported"`
	Replaced  int       `json:"replaced"`
	Unchanged int       `json:"unchanged"`
	Conflicts []outcome `json:"conflicts"`
	Skipped   []outcome `json:"skipped"`
	Failed    []outcome `json:"failed"` // the first maxFailed
	FailedN   int       `json:"failed_count"`
	NotTried  int       `json:"not_attempted"`
	Seconds   float64   `json:"seconds"`
}

// MarshalJSON writes an outcome without its kind.
func (o outcome) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"subdomain": o.Subdomain, "username": o.Username, "reason": o.Reason})
}

// maxFailed bounds the failures listed one by one.
const maxFailed = 20

// screen validates rows, records the skipped ones and returns the rest.
// Rows whose subdomains, or usernames, differ only in case are all
// skipped: acmedns holds both in lower case, so one would shadow the other.
func (r *report) screen(rows []row) []entry {
	r.Accounts = len(rows)
	r.Conflicts, r.Skipped, r.Failed = []outcome{}, []outcome{}, []outcome{}
	exact, subs, users := map[string]int{}, map[string]int{}, map[string]int{}
	for _, row := range rows {
		exact[row.Subdomain]++
		subs[strings.ToLower(row.Subdomain)]++
		if u, ok := normalUUID(row.Username); ok {
			users[u]++
		}
	}
	var out []entry
	for _, row := range rows {
		e, reason := validate(row)
		switch {
		case reason != "":
		case exact[row.Subdomain] > 1:
			reason = skipDuplicateSD
		case subs[e.Subdomain] > 1:
			reason = skipCaseTwin
		case users[e.Username] > 1:
			reason = skipUserTwin
		}
		if reason != "" {
			r.add(outcome{Kind: skipped, Subdomain: row.Subdomain, Username: row.Username, Reason: reason})
			continue
		}
		out = append(out, e)
	}
	return out
}

// add counts one outcome.
func (r *report) add(o outcome) {
	switch o.Kind {
	case imported:
		r.Imported++
	case replaced:
		r.Replaced++
	case unchanged:
		r.Unchanged++
	case conflict:
		r.Conflicts = append(r.Conflicts, o)
	case skipped:
		r.Skipped = append(r.Skipped, o)
	case failed:
		r.FailedN++
		if len(r.Failed) < maxFailed {
			r.Failed = append(r.Failed, o)
		}
	case notTried:
		r.NotTried++
	}
}

// exitCode is 3 when a call failed, 1 on conflicts, else 0.
func (r *report) exitCode() int {
	switch {
	case r.FailedN > 0:
		return exitRuntime
	case len(r.Conflicts) > 0:
		return exitFailed
	}
	return exitOK
}

// print writes the summary, as JSON or for people.
func (r *report) print(w io.Writer, asJSON bool) {
	for _, l := range [][]outcome{r.Conflicts, r.Skipped, r.Failed} {
		slices.SortFunc(l, func(a, b outcome) int { return strings.Compare(a.Subdomain, b.Subdomain) })
	}
	if asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(w, "%s\n", b)
		return
	}
	would := ""
	if r.DryRun {
		would = "would be "
		fmt.Fprintln(w, "dry run: nothing was written")
	}
	fmt.Fprintf(w, "source: %s, %d accounts, %.1fs\n", r.Layout, r.Accounts, r.Seconds)
	fmt.Fprintf(w, "%simported: %d\n", would, r.Imported)
	if r.Overwrite {
		fmt.Fprintf(w, "%sreplaced: %d\n", would, r.Replaced)
	}
	fmt.Fprintf(w, "unchanged: %d\n", r.Unchanged)
	printList(w, "conflicts", r.Conflicts)
	printList(w, "skipped", r.Skipped)
	if r.FailedN > 0 {
		printList(w, "failed", r.Failed)
		fmt.Fprintf(w, "%d calls failed (%d listed), %d accounts not attempted: fix the cause and run again\n", r.FailedN, len(r.Failed), r.NotTried)
	}
	if r.Imported+r.Replaced == 0 && r.FailedN == 0 && !r.DryRun {
		fmt.Fprintln(w, "nothing changed")
	}
	if len(r.Conflicts) > 0 && !r.Overwrite {
		fmt.Fprintln(w, "conflicting accounts were left as they are; run again with --overwrite to replace them")
	}
}

// printList writes a counted list of outcomes with their reasons, the
// source's text escaped.
func printList(w io.Writer, name string, list []outcome) {
	fmt.Fprintf(w, "%s: %d\n", name, len(list))
	for _, o := range list {
		sub := inert(o.Subdomain)
		if sub == "" {
			sub = "(no subdomain)"
		}
		fmt.Fprintf(w, "  %s: %s\n", sub, inert(o.Reason))
	}
}

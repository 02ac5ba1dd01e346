package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
)

// list pages through every account and prints them.
func (c *accountsCmd) list(ctx context.Context) error {
	all := []account{}
	cursor := ""
	for {
		page, next, err := c.client.list(ctx, cursor, c.limit)
		if err != nil {
			return err
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if c.json {
		b, _ := json.MarshalIndent(all, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
		return nil
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBDOMAIN\tUSERNAME\tALLOWFROM\tTXT\tUPDATED")
	for _, a := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", inert(a.Subdomain), inert(a.Username), allowText(a.AllowFrom), len(a.TXT), timeText(a.Updated))
	}
	tw.Flush()
	fmt.Fprintf(c.out, "%d accounts\n", len(all))
	return nil
}

// show prints one account, the server's text escaped.
func (c *accountsCmd) show(a account) {
	if c.json {
		b, _ := json.MarshalIndent(a, "", "  ")
		fmt.Fprintf(c.out, "%s\n", b)
		return
	}
	tw := tabwriter.NewWriter(c.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "subdomain:\t%s\n", inert(a.Subdomain))
	fmt.Fprintf(tw, "fulldomain:\t%s\n", inert(a.Fulldomain))
	fmt.Fprintf(tw, "username:\t%s\n", inert(a.Username))
	fmt.Fprintf(tw, "allowfrom:\t%s\n", allowText(a.AllowFrom))
	fmt.Fprintf(tw, "created:\t%s\n", timeText(a.Created))
	fmt.Fprintf(tw, "updated:\t%s\n", timeText(a.Updated))
	if len(a.TXT) == 0 {
		fmt.Fprintf(tw, "txt:\t(none)\n")
	}
	for _, v := range a.TXT {
		fmt.Fprintf(tw, "txt:\t%s\t%s\n", inert(v.Value), timeText(v.Updated))
	}
	tw.Flush()
}

// allowText is an allowfrom list for people, escaped.
func allowText(list []string) string {
	if len(list) == 0 {
		return "any"
	}
	return inert(strings.Join(list, ","))
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

package main

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// differences lists how an existing account differs from the entry to
// import (the hash cannot be read back, so it is not compared); none means
// the account is unchanged.
func differences(e entry, a account) []string {
	var diffs []string
	if !strings.EqualFold(e.Username, a.Username) {
		diffs = append(diffs, fmt.Sprintf("username %s in acmedns, %s in the source", a.Username, e.Username))
	}
	if want, got := cidrSet(e.AllowFrom), cidrSet(a.AllowFrom); !slices.Equal(want, got) {
		diffs = append(diffs, fmt.Sprintf("allowfrom %v in acmedns, %v in the source", got, want))
	}
	var got []string
	for _, v := range a.TXT {
		got = append(got, v.Value)
	}
	if want := sortedCopy(e.TXT); !slices.Equal(want, sortedCopy(got)) {
		diffs = append(diffs, fmt.Sprintf("TXT values %q in acmedns, %q in the source", got, e.TXT))
	}
	return diffs
}

// cidrSet is a sorted list of canonical prefixes without duplicates.
func cidrSet(list []string) []string {
	out := []string{}
	for _, s := range list {
		if p, err := netip.ParsePrefix(strings.NewReplacer("[", "", "]", "").Replace(s)); err == nil {
			s = p.String()
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedCopy(list []string) []string {
	out := append([]string{}, list...)
	slices.Sort(out)
	return out
}

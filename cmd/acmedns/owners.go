package main

import "context"

// owners maps every username of acmedns to the subdomain of its account.
type owners map[string]string

// listOwners pages through every account of acmedns once, before an
// import, so that the import (and its dry run) knows which usernames
// belong to which account without trying to create anything.
func listOwners(ctx context.Context, c *adminClient) (owners, error) {
	out := owners{}
	cursor := ""
	for {
		page, next, err := c.list(ctx, cursor, 1000)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			out[a.Username] = a.Subdomain
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// elsewhere returns the subdomain of the account of acmedns that owns
// user, when it is not sub.
func (o owners) elsewhere(user, sub string) (string, bool) {
	owner, ok := o[user]
	return owner, ok && owner != sub
}

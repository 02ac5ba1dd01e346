package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminClient calls the acmedns admin API, or with an account's
// credentials the public API (newUserClient).
type adminClient struct {
	base string
	auth http.Header // the authentication headers of every request
	http *http.Client
}

// apiError is an answer the API gave with an error code.
type apiError struct {
	Status int
	Code   string
}

// Error names the status and the code, escaped (the server wrote it).
func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, inert(e.Code))
}

// account is an account as the admin API shows it.
type account struct {
	Subdomain  string     `json:"subdomain"`
	Username   string     `json:"username"`
	Fulldomain string     `json:"fulldomain"`
	AllowFrom  []string   `json:"allowfrom"`
	TXT        []txtValue `json:"txt"`
	Persist    []string   `json:"persist,omitempty"` // dns-persist-01 records
	Created    *time.Time `json:"created,omitempty"`
	Updated    *time.Time `json:"updated,omitempty"`
}

// txtValue is one TXT value of an account.
type txtValue struct {
	Value   string     `json:"value"`
	Updated *time.Time `json:"updated,omitempty"`
}

// newAdminClient is a client for up to conns concurrent calls.
func newAdminClient(base, token string, conns int) *adminClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &adminClient{
		base: strings.TrimSuffix(base, "/"),
		auth: http.Header{"Authorization": {"Bearer " + token}},
		http: &http.Client{Timeout: 30 * time.Second, Transport: tr},
	}
}

// newUserClient is a client of the public API authenticated as one
// account (X-Api-User and X-Api-Key, as /update).
func newUserClient(base, user, key string) *adminClient {
	c := newAdminClient(base, "", 1)
	c.auth = http.Header{"X-Api-User": {user}, "X-Api-Key": {key}}
	return c
}

// do sends one request; a 2xx answer is decoded into out (when not nil),
// anything else is an *apiError. A transport failure is returned as is.
func (c *adminClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	for k, v := range c.auth {
		req.Header[k] = v
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(b, &e)
		if e.Error == "" {
			e.Error = strings.ToLower(strings.ReplaceAll(http.StatusText(resp.StatusCode), " ", "_"))
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error}
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}

// close drops the idle connections (the admin API bounds those of one
// client address).
func (c *adminClient) close() { c.http.CloseIdleConnections() }

// health checks that the admin API answers and accepts the token.
func (c *adminClient) health(ctx context.Context) error {
	return c.do(ctx, http.MethodGet, "/health", nil, nil)
}

// get reads one account.
func (c *adminClient) get(ctx context.Context, sub string) (account, error) {
	var a account
	err := c.do(ctx, http.MethodGet, "/accounts/"+url.PathEscape(sub), nil, &a)
	return a, err
}

// list reads one page of accounts after cursor.
func (c *adminClient) list(ctx context.Context, cursor string, limit int) ([]account, string, error) {
	var page struct {
		Accounts []account `json:"accounts"`
		Next     string    `json:"next"`
	}
	q := url.Values{"limit": {fmt.Sprint(limit)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	err := c.do(ctx, http.MethodGet, "/accounts?"+q.Encode(), nil, &page)
	return page.Accounts, page.Next, err
}

// delete removes one account.
func (c *adminClient) delete(ctx context.Context, sub string) error {
	return c.do(ctx, http.MethodDelete, "/accounts/"+url.PathEscape(sub), nil, nil)
}

// isCode reports whether err is an API answer with that status and code.
func isCode(err error, status int, code string) bool {
	e, ok := err.(*apiError)
	return ok && e.Status == status && (code == "" || e.Code == code)
}

// isRuntime reports whether err means the server could not do the work
// (unreachable, a store failure, a refused token) rather than an answer
// about the data.
func isRuntime(err error) bool {
	e, ok := err.(*apiError)
	if !ok {
		return err != nil
	}
	return e.Status >= 500 || e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAccountsOutputInert: accounts prints what the admin API answers with
// control characters escaped (a fault a real acmedns, which checks what it
// stores, cannot show: this server answers garbage).
func TestAccountsOutputInert(t *testing.T) {
	acct := `{"subdomain": "sub\u001b[2J", "username": "user\u001b]0;pwned\u0007", "fulldomain": "full\nforged: line",
		"allowfrom": ["net\u009b2J"], "txt": [{"value": "val\u007f\r"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/accounts":
			fmt.Fprintf(w, `{"accounts": [%s]}`, acct)
		case r.Method == http.MethodGet:
			fmt.Fprint(w, acct)
		case r.URL.Path == "/accounts/x/password":
			fmt.Fprint(w, `{"username": "u\u001b[2J", "password": "p\nforged: line"}`)
		default:
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error": "code\u001b[2J\nforged: line"}`)
		}
	}))
	t.Cleanup(srv.Close)
	for _, args := range [][]string{{"list"}, {"show", "x"}, {"rotate", "x"}, {"delete", "x"}} {
		code, out, errOut := cli(t, append(append([]string{"accounts"}, args...), "--admin", srv.URL, "--token", "t")...)
		if bad := unsafeText(out + errOut); bad != "" {
			t.Errorf("accounts %v (exit %d) prints %s: %q", args, code, bad, out+errOut)
		}
		for _, line := range strings.Split(out+errOut, "\n") {
			if strings.HasPrefix(line, "forged") {
				t.Errorf("accounts %v: a forged line %q", args, line)
			}
		}
	}
}

package httpapi

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/acmedns/acmedns/store"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
)

func FuzzDecodeRegister(f *testing.F) {
	for _, s := range []string{"", "null", "{}", `{"allowfrom":["192.0.2.0/24","[::1]/128"]}`, `{"AllowFrom":["x"]}`, `{"allowfrom":`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		allow, code := decodeRegister(body)
		if code != "" {
			if allow != nil {
				t.Fatalf("error %s with allowfrom %v", code, allow)
			}
			return
		}
		if allow == nil {
			t.Fatal("nil allowfrom on success: the reply must carry an array")
		}
		for _, s := range allow {
			if _, err := netip.ParsePrefix(s); err != nil || strings.ContainsAny(s, "[]") {
				t.Fatalf("accepted allowfrom entry %q", s)
			}
		}
	})
}

func FuzzDecodeUpdate(f *testing.F) {
	for _, s := range []string{`{"subdomain":"abc","txt":"x"}`, `{"SubDomain":"ABC","Txt":"x"} trailing`, `{`, ``, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := decodeUpdate(body)
		if !ok {
			if req != (updateRequest{}) {
				t.Fatalf("failed decode returned %+v", req)
			}
			return
		}
		if req.Subdomain != strings.ToLower(req.Subdomain) {
			t.Fatalf("subdomain %q not lower-cased", req.Subdomain)
		}
	})
}

// FuzzAdminCreate: whatever POST /accounts is sent, an accepted record is
// one the stores and the public API can use, its hash of a cost of at most
// MaxHashCost.
func FuzzAdminCreate(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"subdomain":"Customer-42","username":"F2DA224C-ECE6-4628-928E-578497D95A1D","allowfrom":["[::1]/128","::1/128"]}`,
		`{"password_hash":"$2a$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"}`, `{"txt":["a","b","c"]}`, `{"subdomain":"-"}`,
		`{"password_hash":"$2a$13$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234"}`,
	} {
		f.Add([]byte(s))
	}
	h := NewService(Config{TXTLimit: 2}, nil, Hooks{}).newAdminAPI(nil)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createRequest
		if json.Unmarshal(body, &req) != nil {
			return
		}
		rec, password, code := h.newRecord(req)
		if code != "" {
			return
		}
		if !store.ValidSubdomain(rec.Subdomain) || len(rec.AllowFrom) > MaxAllowFrom || len(rec.TXT) > 2 {
			t.Fatalf("accepted %+v", rec)
		}
		if u, err := uuid.Parse(rec.Username); err != nil || u.String() != rec.Username {
			t.Fatalf("accepted username %q", rec.Username)
		}
		if (len(rec.PasswordHash) == 0) == (password == "") {
			t.Fatalf("want exactly one of a hash and a password to hash: %q %q", rec.PasswordHash, password)
		}
		if len(rec.PasswordHash) > 0 {
			if cost, err := bcrypt.Cost(rec.PasswordHash); err != nil || cost > MaxHashCost || len(rec.PasswordHash) != 60 {
				t.Fatalf("accepted password_hash %q", rec.PasswordHash)
			}
		}
		if password != "" && !validToken(password, 40) {
			t.Fatalf("password %q cannot authenticate", password)
		}
		for _, v := range rec.TXT {
			if !store.ValidValue(v.Text) {
				t.Fatalf("accepted value %q", v.Text)
			}
		}
	})
}

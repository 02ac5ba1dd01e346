package httpapi

import (
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// bcryptAlphabet is the base64 alphabet of a bcrypt hash's salt and
// checksum.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// bcryptHashLen is the length of every bcrypt hash in the modular crypt
// format: "$2a$", two cost digits, "$", a 22-character salt and a
// 31-character checksum.
const bcryptHashLen = 60

// validHash reports whether s is a well-formed bcrypt hash: exactly 60
// characters, version 2a, 2b or 2y, two digits of a cost bcrypt can run
// (4 to 31), and a salt and checksum in bcrypt's base64 alphabet. It sets
// no bound of its own on the cost.
func validHash(s string) bool {
	if len(s) != bcryptHashLen || !strings.HasPrefix(s, "$2") || strings.IndexByte("aby", s[2]) < 0 || s[3] != '$' || s[6] != '$' {
		return false
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return false
	}
	if cost := int(s[4]-'0')*10 + int(s[5]-'0'); cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return false
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

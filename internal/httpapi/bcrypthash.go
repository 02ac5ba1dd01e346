package httpapi

import (
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// MaxHashCost is the highest bcrypt cost of a password hash acmedns
// stores. acme-dns stores cost 10 and a known fork 12, so every known
// source fits; one compare at 12 takes about 4 times one at cost 10, while
// a hash of cost 31 would hold a bcrypt slot for some 38 hours. The lowest
// cost is bcrypt.MinCost (4).
const MaxHashCost = 12

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
// no bound of its own on the cost: MaxHashCost is checked apart.
func validHash[T string | []byte](s T) bool {
	if len(s) != bcryptHashLen || s[0] != '$' || s[1] != '2' || strings.IndexByte("aby", s[2]) < 0 || s[3] != '$' || s[6] != '$' {
		return false
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return false
	}
	if cost := costDigits(s[4], s[5]); cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return false
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// hashCost returns the cost of a well-formed bcrypt hash, read from its two
// cost digits without computing anything; ok is false when hash is not
// well-formed (validHash).
func hashCost(hash []byte) (cost int, ok bool) {
	if !validHash(hash) {
		return 0, false
	}
	return costDigits(hash[4], hash[5]), true
}

// costDigits is the cost written as the two decimal digits hi and lo.
func costDigits(hi, lo byte) int {
	return int(hi-'0')*10 + int(lo-'0')
}

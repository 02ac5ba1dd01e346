package main

import "strings"

// bcryptAlphabet is the base64 alphabet of a bcrypt hash's salt and
// checksum.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// validHash reports whether s is a well-formed bcrypt hash: exactly 60
// characters, "$2a$", "$2b$" or "$2y$", two digits of a cost of 4 to 31,
// "$", and 53 characters of bcrypt's alphabet (salt, checksum). acmedns's
// admin API also bounds the cost (maxHashCost, checked by validate). The
// import checks it as the server does, so a dry run predicts the run.
func validHash(s string) bool {
	if len(s) != 60 || !strings.HasPrefix(s, "$2") || strings.IndexByte("aby", s[2]) < 0 || s[3] != '$' || s[6] != '$' {
		return false
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return false
	}
	if cost := hashCost(s); cost < 4 || cost > 31 {
		return false
	}
	for i := 7; i < len(s); i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// hashCost is the cost of a well-formed bcrypt hash, read from its two
// cost digits.
func hashCost(s string) int {
	return int(s[4]-'0')*10 + int(s[5]-'0')
}

package main

import (
	"strconv"
	"unicode/utf8"
)

// inert returns text from outside (a source database, a server's answer)
// as it may be printed for people: unchanged when it is valid UTF-8 of
// printable characters, else quoted with Go's escapes (\x1b, \n, \u009b,
// \xff), so that no control character reaches the terminal and no newline
// starts a line of its own. JSON output needs none of this: encoding/json
// escapes control characters.
func inert(s string) string {
	if printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// printable reports whether s is valid UTF-8 of characters strconv.IsPrint
// accepts (letters, marks, numbers, punctuation, symbols, the ASCII space).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

package store

import "testing"

func TestEscapeGlob(t *testing.T) {
	tests := []struct{ in, want string }{
		{"acmedns:", "acmedns:"},
		{"", ""},
		{"a*b?c", `a\*b\?c`},
		{"[x]", `\[x\]`},
		{`back\slash`, `back\\slash`},
	}
	for _, tc := range tests {
		if got := escapeGlob(tc.in); got != tc.want {
			t.Errorf("escapeGlob(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Package format holds the number formatting the benchmark report and chart
// share.
package format

import "strconv"

// Commas writes an integer string with thousands separators ("1000000" →
// "1,000,000"); anything else is returned as it is.
func Commas(s string) string {
	v, err := strconv.Atoi(s)
	if err != nil {
		return s
	}
	str := strconv.Itoa(v)
	var out []byte
	for i := range str {
		if i > 0 && (len(str)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, str[i])
	}
	return string(out)
}

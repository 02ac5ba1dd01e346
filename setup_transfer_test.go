package acmedns

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseTransferLimits(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	tests := []struct {
		input string
		want  TransferLimits
	}{
		{block(), TransferLimits{16, 4, 10 * time.Second}},
		{block("transfer_limits 8"), TransferLimits{8, 4, 10 * time.Second}},
		{block("transfer_limits 2"), TransferLimits{2, 2, 10 * time.Second}},
		{block("transfer_limits 8 1"), TransferLimits{8, 1, 10 * time.Second}},
		{block("transfer_limits 8 8 1s"), TransferLimits{8, 8, time.Second}},
		{block("transfer_limits 10000 10000 1h"), TransferLimits{10000, 10000, time.Hour}},
		{block("transfer_limits 3 2 90s", "ttl 5"), TransferLimits{3, 2, 90 * time.Second}},
	}
	for _, tc := range tests {
		cfg, err := parse(newTestController(tc.input, []string{testZone}, ""))
		if err != nil {
			t.Fatalf("%q: %v", tc.input, err)
		}
		if cfg.Transfer != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.input, cfg.Transfer, tc.want)
		}
	}
}

func TestParseTransferLimitsErrors(t *testing.T) {
	block := func(lines ...string) string {
		return "acmedns {\n\tapi :8053\n\t" + strings.Join(lines, "\n\t") + "\n}\n"
	}
	tests := []struct {
		name  string
		input string
		line  int
		want  string
	}{
		{"no args", block("transfer_limits"), 3, "Wrong argument count"},
		{"too many args", block("transfer_limits 1 1 1s 1"), 3, "Wrong argument count"},
		{"zero", block("transfer_limits 0"), 3, "want an integer from 1 to 10000"},
		{"too many", block("transfer_limits 10001"), 3, "want an integer from 1 to 10000"},
		{"not a number", block("transfer_limits some"), 3, "want an integer from 1 to 10000"},
		{"per client zero", block("transfer_limits 4 0"), 3, "want a per-client bound from 1 to 4"},
		{"per client over the total", block("transfer_limits 4 5"), 3, "want a per-client bound from 1 to 4"},
		{"idle not a duration", block("transfer_limits 4 2 soon"), 3, "want an idle bound from 1s to 1h"},
		{"idle too short", block("transfer_limits 4 2 500ms"), 3, "want an idle bound from 1s to 1h"},
		{"idle too long", block("transfer_limits 4 2 2h"), 3, "want an idle bound from 1s to 1h"},
		{"twice", block("transfer_limits 4", "transfer_limits 5"), 4, "transfer_limits specified more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(newTestController(tc.input, []string{testZone}, ""))
			if err == nil {
				t.Fatal("no error")
			}
			if loc := fmt.Sprintf("Testfile:%d - ", tc.line); !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), loc) {
				t.Errorf("error %q: want %q at line %d", err, tc.want, tc.line)
			}
		})
	}
}

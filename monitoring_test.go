package acmedns

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// The monitoring in contrib/: Prometheus alerting rules and a Grafana
// dashboard. make rules checks the rules with promtool; these tests check
// that what they read is what acmedns exports.

const (
	rulesFile     = "contrib/prometheus/acmedns.rules.yml"
	dashboardFile = "contrib/grafana/acmedns.json"
)

// metricName is a CoreDNS metric name in a PromQL expression (or in the
// text around one).
var metricName = regexp.MustCompile(`\bcoredns_[a-z0-9_]+`)

// metricNames returns the metric names in text, a histogram's series
// (_bucket, _sum, _count) by the histogram's name.
func metricNames(text string) []string {
	var names []string
	for _, n := range metricName.FindAllString(text, -1) {
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			n = strings.TrimSuffix(n, suffix)
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// readDashboard parses the dashboard.
func readDashboard(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// dashboardQueries returns every PromQL expression of the dashboard: its
// panels' targets (rows' nested panels too) and its query variables.
func dashboardQueries(d map[string]any) []string {
	var out []string
	var walk func(v any, key string)
	walk = func(v any, key string) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				walk(x, k)
			}
		case []any:
			for _, x := range v {
				walk(x, key)
			}
		case string:
			if key == "expr" || key == "definition" || key == "query" && strings.Contains(v, "(") {
				out = append(out, v)
			}
		}
	}
	walk(d, "")
	return out
}

// TestDashboard: the dashboard is a JSON object with a title, a uid and
// panels whose every query names a metric and reads the ${DS_PROMETHEUS}
// data source, which is both an import input and a variable.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d["title"] != "acmedns" || d["uid"] != "acmedns" {
		t.Errorf("title %v, uid %v", d["title"], d["uid"])
	}
	inputs, _ := d["__inputs"].([]any)
	if len(inputs) != 1 || inputs[0].(map[string]any)["name"] != "DS_PROMETHEUS" {
		t.Errorf("__inputs = %v, want the DS_PROMETHEUS input", d["__inputs"])
	}
	templating, _ := d["templating"].(map[string]any)
	vars, _ := templating["list"].([]any)
	if !slices.ContainsFunc(vars, func(v any) bool {
		m, _ := v.(map[string]any)
		return m["name"] == "DS_PROMETHEUS" && m["type"] == "datasource" && m["query"] == "prometheus"
	}) {
		t.Error("no DS_PROMETHEUS data source variable")
	}
	panels, _ := d["panels"].([]any)
	ids := map[float64]bool{}
	targets := 0
	for _, p := range panels {
		panel := p.(map[string]any)
		id, _ := panel["id"].(float64)
		if ids[id] {
			t.Errorf("panel id %v twice", id)
		}
		ids[id] = true
		if panel["type"] == "row" {
			continue
		}
		if ds, _ := panel["datasource"].(map[string]any); ds["uid"] != "${DS_PROMETHEUS}" {
			t.Errorf("panel %q reads data source %v", panel["title"], panel["datasource"])
		}
		for _, tg := range panel["targets"].([]any) {
			target := tg.(map[string]any)
			targets++
			if len(metricNames(target["expr"].(string))) == 0 {
				t.Errorf("panel %q: a query without a metric: %v", panel["title"], target["expr"])
			}
			if ds, _ := target["datasource"].(map[string]any); ds["uid"] != "${DS_PROMETHEUS}" {
				t.Errorf("panel %q: a query reads data source %v", panel["title"], target["datasource"])
			}
		}
	}
	if targets < 15 {
		t.Errorf("%d queries in the dashboard, want at least 15", targets)
	}
}

// TestMonitoringMetricNames starts CoreDNS with acmedns, a transfer block
// and the prometheus plugin, registers, updates, queries and transfers the
// zone, then checks that every metric the alerting rules and the dashboard
// name is in the scrape (as a # TYPE line), and so is every series an
// alert compares with zero: they are exported from the start.
func TestMonitoringMetricNames(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	fromRules := metricNames(string(rules))
	fromDashboard := metricNames(strings.Join(dashboardQueries(readDashboard(t)), "\n"))
	if len(fromRules) < 8 || len(fromDashboard) < 15 {
		t.Fatalf("%d metric names in the rules (%v) and %d in the dashboard (%v): too few", len(fromRules), fromRules, len(fromDashboard), fromDashboard)
	}

	p := newPorts(t)
	startCoreDNS(t, p.transferCorefile("*", "db "+t.TempDir()+"/acmedns.db"))
	acc := register(t, p.apiURL(), "")
	if r := acc.update(t, p.apiURL(), txtA); r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	checkTXT(t, p.dnsAddr(), acc.Subdomain+"."+zoneName, dns.RcodeSuccess, txtA)
	if rrs := xfr(t, p.dnsAddr(), 0); len(rrs) == 0 {
		t.Fatal("empty AXFR")
	}
	code, scrape := get(t, "http://127.0.0.1:"+p.metrics+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, scrape)
	}
	exported := map[string]bool{}
	for line := range strings.Lines(scrape) {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "#" && f[1] == "TYPE" {
			exported[f[2]] = true
		}
	}
	for from, names := range map[string][]string{rulesFile: fromRules, dashboardFile: fromDashboard} {
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s reads %s, which the scrape lacks", from, n)
			}
		}
	}

	zone := `zone="` + zoneName + `"`
	for _, series := range []string{
		`coredns_acmedns_updates_total{result="ok"}`,
		`coredns_acmedns_updates_total{result="unavailable"}`,
		`coredns_acmedns_persist_total{action="persist",result="ok"}`,
		`coredns_acmedns_persist_total{action="unpersist",result="unavailable"}`,
		`coredns_acmedns_store_errors_total{op="persist"}`,
		`coredns_acmedns_api_rejections_total{reason="busy"}`,
		`coredns_acmedns_api_rejections_total{reason="connections"}`,
		`coredns_acmedns_api_rejections_total{reason="rate_limit"}`,
		`coredns_acmedns_store_errors_total{op="txt"}`,
		`coredns_acmedns_store_errors_total{op="update"}`,
		`coredns_acmedns_store_errors_total{op="account"}`,
		`coredns_acmedns_store_errors_total{op="admin_replace"}`,
		`coredns_acmedns_bcrypt_operations_total{operation="hash"}`,
		`coredns_acmedns_bcrypt_operations_total{operation="compare"}`,
		`coredns_acmedns_notifies_total{result="failed",` + zone + `}`,
		`coredns_acmedns_transfer_refusals_total{reason="limit",` + zone + `}`,
		`coredns_acmedns_transfer_refusals_total{reason="client_limit",` + zone + `}`,
		`coredns_acmedns_transfer_aborts_total{reason="stalled",` + zone + `}`,
		`coredns_acmedns_transfer_aborts_total{reason="store",` + zone + `}`,
		`coredns_acmedns_index_trusted`,
	} {
		if _, ok := scrapedValue(scrape, series); !ok {
			t.Errorf("the scrape lacks %s", series)
		}
	}
	if v, _ := scrapedValue(scrape, `coredns_acmedns_index_trusted`); v != 1 {
		t.Errorf("index_trusted = %v on the embedded store, want 1", v)
	}
}

// Command chart draws docs/benchmarks.svg, a bar chart of queries per second
// by configuration (pinned runs, medians, with the range of the runs as a
// whisker), one bar per account count. The SVG is written by hand.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"html"
	"log"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/acmedns/acmedns/test/bench/internal/format"
)

type bar struct{ qps, lo, hi float64 }

var order = []string{"file", "file-all", "mapdns", "acmedns-bolt", "acmedns-redis-cache", "acmedns-redis-nocache"}

var labels = map[string][2]string{
	"file":                  {"file plugin", "(ceiling)"},
	"file-all":              {"file plugin", "all records"},
	"mapdns":                {"mapdns", "(limit)"},
	"acmedns-bolt":          {"acmedns", "bbolt"},
	"acmedns-redis-cache":   {"acmedns", "Redis + cache"},
	"acmedns-redis-nocache": {"acmedns", "Redis, cache 0"},
}

var colours = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759"}

func main() {
	summary := flag.String("summary", "test/bench/results/summary.tsv", "medians written by the report program")
	out := flag.String("out", "docs/benchmarks.svg", "SVG to write")
	mode := flag.String("mode", "pinned", "which runs to draw: pinned or unpinned")
	flag.Parse()

	file, err := os.Open(*summary)
	if err != nil {
		log.Fatal(err)
	}
	data := map[string]map[string]bar{} // config -> n -> bar
	var ns []string
	sc := bufio.NewScanner(file)
	for i := 0; sc.Scan(); i++ {
		fields := strings.Split(sc.Text(), "\t")
		if i == 0 || len(fields) < 6 || fields[2] != *mode {
			continue
		}
		n, cfg := fields[0], fields[1]
		var v [3]float64
		for j := range v {
			v[j], _ = strconv.ParseFloat(fields[3+j], 64)
		}
		if data[cfg] == nil {
			data[cfg] = map[string]bar{}
		}
		data[cfg][n] = bar{v[0], v[1], v[2]}
		if !slices.Contains(ns, n) {
			ns = append(ns, n)
		}
	}
	file.Close()
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	slices.SortFunc(ns, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	var cfgs []string
	for _, c := range order {
		if data[c] != nil {
			cfgs = append(cfgs, c)
		}
	}
	if len(cfgs) == 0 {
		log.Fatal("chart: no data")
	}

	max := 0.0
	for _, c := range cfgs {
		for _, b := range data[c] {
			max = math.Max(max, math.Max(b.qps, b.hi))
		}
	}
	step := niceStep(max / 5)
	top := math.Ceil(max/step) * step

	const (
		left, right, topPad, bottom = 70.0, 20.0, 60.0, 70.0
		groupW                      = 120.0
		plotH                       = 300.0
	)
	width := left + right + groupW*float64(len(cfgs))
	height := topPad + plotH + bottom
	y := func(v float64) float64 { return topPad + plotH - v/top*plotH }

	var s strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&s, format, a...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	p(`<text x="%.0f" y="20" font-size="15" font-weight="bold">DNS TXT queries per second, server pinned to one core</text>`+"\n", left)
	p(`<text x="%.0f" y="37" fill="#555">median of the runs; the whiskers span the fastest and slowest run</text>`+"\n", left)
	for v := 0.0; v <= top+step/2; v += step {
		p(`<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/>`+"\n", left, y(v), width-right, y(v))
		p(`<text x="%.0f" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n", left-6, y(v)+4, short(v))
	}
	p(`<text transform="translate(16 %.0f) rotate(-90)" text-anchor="middle" fill="#555">queries per second</text>`+"\n", topPad+plotH/2)
	barW := (groupW - 30) / float64(len(ns))
	for i, c := range cfgs {
		gx := left + groupW*float64(i) + 15
		for j, n := range ns {
			b, ok := data[c][n]
			if !ok {
				continue
			}
			x := gx + barW*float64(j)
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s, %s accounts: %.0f qps</title></rect>`+"\n",
				x+1, y(b.qps), barW-2, y(0)-y(b.qps), colours[j%len(colours)], html.EscapeString(c), n, b.qps)
			if b.hi > b.lo {
				cx := x + barW/2
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333"/>`+"\n", cx, y(b.lo), cx, y(b.hi))
			}
			p(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", x+barW/2, math.Min(y(b.qps), y(b.hi))-4, short(b.qps))
		}
		l := labels[c]
		p(`<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", gx+(groupW-30)/2, topPad+plotH+18, html.EscapeString(l[0]))
		p(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%s</text>`+"\n", gx+(groupW-30)/2, topPad+plotH+33, html.EscapeString(l[1]))
	}
	p(`<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#333"/>`+"\n", left, y(0), width-right, y(0))
	for j, n := range ns {
		x := left + float64(j)*170
		p(`<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/>`+"\n", x, height-22, colours[j%len(colours)])
		p(`<text x="%.0f" y="%.0f">%s accounts</text>`+"\n", x+18, height-12, format.Commas(n))
	}
	p("</svg>\n")
	if err := os.WriteFile(*out, []byte(s.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// niceStep rounds a grid step up to 1, 2 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func short(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.1fk", v/1000)
	}
	return fmt.Sprintf("%.0f", v)
}

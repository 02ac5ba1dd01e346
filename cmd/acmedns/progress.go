package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a bar on a terminal; elsewhere it does nothing.
type progress struct {
	w     io.Writer
	total int
	n     int
	last  time.Time
}

// newProgress draws on w only when w is a terminal.
func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	if !ok || total == 0 {
		return &progress{}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return &progress{}
	}
	return &progress{w: w, total: total}
}

// step counts one account and redraws at most ten times a second.
func (p *progress) step() {
	if p.w == nil {
		return
	}
	p.n++
	if p.n < p.total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	const width = 40
	full := width * p.n / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", full), strings.Repeat(" ", width-full), p.n, p.total)
}

// done ends the bar's line.
func (p *progress) done() {
	if p.w != nil {
		fmt.Fprintln(p.w)
	}
}

package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// HistOptions tune the text renderings of distributions.
type HistOptions struct {
	// Raw: durations are counter ticks, not ns.
	Raw bool
	// Top caps the distributions per kind and the cpuhp states per
	// direction (0: 5 and 12).
	Top int
	// IRQs restricts the device irq distributions to these irqs.
	IRQs []int32
}

// histKinds are the latency kinds of the text rendering, in order.
var histKinds = []struct{ kind, title, what string }{
	{"irq", "device irq handler duration", "irqs"},
	{"sysvec", "system vector handler duration", "vectors"},
	{"softirq", "softirq raise -> entry latency", "softirqs"},
	{"softirq_run", "softirq run time", "softirqs"},
	{"ipi", "IPI send -> receive latency", "IPI kinds"},
}

// HistLatency writes, for each kind of latency in m, a percentile table
// and a bcc-style log2 histogram of each of its top distributions: plain
// text at most 80 columns wide, for a mail.
func HistLatency(w io.Writer, m *analysis.Model, o HistOptions) error {
	top := o.Top
	if top <= 0 {
		top = 5
	}
	ls := m.Latencies()
	hw := &histWriter{w: w}
	hw.f("irqtrace latency: %s\n", m.File)
	any := false
	for _, k := range histKinds {
		var irqs []int32
		if k.kind == "irq" {
			irqs = o.IRQs
		}
		sel, omitted := analysis.HistTop(ls, k.kind, top, irqs)
		if len(sel) == 0 {
			continue
		}
		any = true
		title := k.title
		if omitted > 0 {
			title += fmt.Sprintf(" (top %d of %d %s by total time)", len(sel), len(sel)+omitted, k.what)
		}
		hw.f("\n== %s %s\n", title, strings.Repeat("=", max(3, 76-len(title))))
		histTable(hw, sel, o.Raw)
		for _, l := range sel {
			hw.f("\n%s, %d samples\n", l.Name, l.Count)
			histLog2(hw, l.Values, analysis.HistUnitFor(l.Values, o.Raw))
		}
	}
	if !any {
		hw.f("\nno latency samples: no handler runs, system vectors, softirqs or IPIs\n")
	}
	return hw.err
}

// histTable writes the percentile table of ls.
func histTable(hw *histWriter, ls []analysis.Latency, raw bool) {
	c := clock{raw: raw}
	hw.f("%-26s %8s %10s %10s %10s %10s\n", "", "count", "p50", "p99", "p99.9", "max")
	small := false
	for _, l := range ls {
		name := l.Name
		if len(name) > 26 {
			name = name[:25] + "~"
		}
		hw.f("%-26s %8d %10s %10s %10s %10s\n", name, l.Count, histDur(c, l.P50), histDur(c, l.P99), histDur(c, l.P999), histDur(c, l.Max))
		small = small || l.Count < 1000
	}
	if small {
		hw.f("(nearest rank: with n < 1000 samples p99.9 is the max, n < 100 p99 too)\n")
	}
}

// histDur formats a duration compactly for the tables: "117 us",
// "4.162 ms".
func histDur(c clock, ns int64) string { return c.dur(ns) }

// histLog2 writes a log2 histogram in the layout of bcc's
// print_log2_hist: "     usecs               : count     distribution",
// then one "lo -> hi : count |****|" line per bucket (40 stars wide; 20
// with 20-digit bounds).
func histLog2(hw *histWriter, samples []int64, u analysis.HistUnit) {
	bs := analysis.HistLog2(samples, u)
	if len(bs) == 0 {
		return
	}
	maxCount := 0
	wide := false
	for _, b := range bs {
		maxCount = max(maxCount, b.Count)
		wide = wide || b.Hi >= math.MaxUint32
	}
	valW, stars := 10, 40
	if wide {
		valW, stars = 20, 20
	}
	hw.f("%s%-*s : count     distribution\n", strings.Repeat(" ", valW-5), valW+9, u.Name)
	for _, b := range bs {
		n := stars * b.Count / max(1, maxCount)
		hw.f("%*d -> %-*d : %-8d |%-*s|\n", valW, b.Lo, valW, b.Hi, b.Count, stars, strings.Repeat("*", n))
	}
}

// HistHotplug writes the cpuhp state durations over the hotplug cycles of
// m (median and max per state, the slowest first within each direction)
// and each cycle's take-down and bring-up time, at most 80 columns wide.
func HistHotplug(w io.Writer, m *analysis.Model, o HistOptions) error {
	top := o.Top
	if top <= 0 {
		top = 12
	}
	c := clock{raw: o.Raw}
	hw := &histWriter{w: w}
	hw.f("irqtrace hotplug: %s\n", m.File)
	cycles := analysis.HotplugCycles(m)
	if len(cycles) == 0 {
		hw.f("\nno cpuhp steps in this trace\n")
		return hw.err
	}
	stats := analysis.HotplugStepSummary(cycles)
	for _, down := range []bool{true, false} {
		var sel []analysis.HotplugStepStats
		for _, s := range stats {
			if s.Down == down {
				sel = append(sel, s)
			}
		}
		total := len(sel)
		histSortBy(sel, func(a, b analysis.HotplugStepStats) bool { return a.Max > b.Max })
		if len(sel) > top {
			sel = sel[:top]
		}
		dir := "take-down"
		if !down {
			dir = "bring-up"
		}
		title := fmt.Sprintf("%s states, slowest %d of %d by max", dir, len(sel), total)
		hw.f("\n== %s %s\n", title, strings.Repeat("=", max(3, 76-len(title))))
		hw.f("%5s %-36s %6s %10s %10s\n", "step", "callback", "cycles", "p50", "max")
		for _, s := range sel {
			cb := s.Callback
			if len(cb) > 36 {
				cb = cb[:35] + "~"
			}
			hw.f("%5d %-36s %6d %10s %10s\n", s.Step, cb, s.Cycles, histDur(c, s.P50), histDur(c, s.Max))
		}
	}
	hw.f("\n== cycles %s\n", strings.Repeat("=", 69))
	hw.f("%5s %5s %-10s %12s %6s\n", "cpu", "cycle", "direction", "duration", "states")
	for _, cy := range cycles {
		dir := "bring-up"
		if cy.Down {
			dir = "take-down"
		}
		hw.f("%5d %5d %-10s %12s %6d\n", cy.CPU, cy.N, dir, histDur(c, cy.EndNS-cy.StartNS), len(cy.Steps))
	}
	return hw.err
}

// HistOccupancy writes each CPU's peak and final vector counts (vectors
// the trace saw assigned) and its offline intervals.
func HistOccupancy(w io.Writer, m *analysis.Model, o HistOptions) error {
	hw := &histWriter{w: w}
	c := clock{raw: o.Raw}
	hw.f("irqtrace occupancy: %s\n", m.File)
	hw.f("vectors the trace saw assigned; those in use before it began are not counted\n\n")
	occ := analysis.VectorOccupancy(m)
	if len(occ) == 0 {
		hw.f("no vector assignments in this trace\n")
		return hw.err
	}
	hw.f("%5s %6s %8s %8s %8s %9s %14s\n", "cpu", "peak", "at end", "managed", "moving", "offline", "offline time")
	for _, cp := range occ {
		last := cp.Steps[len(cp.Steps)-1]
		var off int64
		for _, iv := range cp.Offline {
			off += iv[1] - iv[0]
		}
		hw.f("%5d %6d %8d %8d %8d %9d %14s\n", cp.CPU, cp.Peak, last.Allocated(), last.Managed, last.Moving, len(cp.Offline), c.dur(off))
	}
	return hw.err
}

// histSortBy sorts s stably by less.
func histSortBy[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// histWriter keeps the first write error.
type histWriter struct {
	w   io.Writer
	err error
}

func (h *histWriter) f(format string, args ...any) {
	if h.err == nil {
		_, h.err = fmt.Fprintf(h.w, format, args...)
	}
}

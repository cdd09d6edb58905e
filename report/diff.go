package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// DiffOptions tune the before/after report.
type DiffOptions struct {
	// Raw: durations are counter ticks, not ns.
	Raw bool
	// Top caps the distributions per kind, the migrating irqs and the
	// cpuhp states listed (0: 6, 10 and 10).
	Top int
	// MinCount is the number of samples a distribution needs on both
	// sides for its change to be called out in the summary (0: 100).
	MinCount int
	// Threshold is the smallest percentile change (in %) the summary
	// calls out (0: 10).
	Threshold float64
}

// DiffFindingKeys returns the comparison keys of the findings of m: the
// rule and its subject, named so that it survives irq renumbering: the
// irq's action name, or "" for findings about no irq (counted per rule:
// the CPU a finding names differs between runs of one scenario).
func DiffFindingKeys(m *analysis.Model, fs []rules.Finding) []analysis.DiffFindingKey {
	names := map[int32]string{}
	count := map[string]int{}
	for _, q := range m.IRQs {
		count[q.Name]++
	}
	for _, q := range m.IRQs {
		names[q.IRQ] = analysis.DiffIRQKey(q.IRQ, q.Name, count[q.Name])
	}
	out := make([]analysis.DiffFindingKey, 0, len(fs))
	for _, f := range fs {
		k := analysis.DiffFindingKey{Rule: f.Rule}
		switch {
		case f.IRQ != nil:
			k.Subject = names[*f.IRQ]
			if k.Subject == "" {
				k.Subject = fmt.Sprintf("irq %d", *f.IRQ)
			}
		}
		out = append(out, k)
	}
	return out
}

// Diff writes the comparison of two recordings of one scenario as a text a
// patch changelog can quote, at most 80 columns wide: the two recordings,
// a summary of the notable changes, then latency percentiles per kind,
// findings that appeared or disappeared, migrations and hotplug times.
// findings is analysis.DiffFindings of the two recordings' keys.
func Diff(w io.Writer, d *analysis.ModelDiff, findings []analysis.DiffFindingCount, o DiffOptions) error {
	if o.Top <= 0 {
		o.Top = 6
	}
	if o.MinCount <= 0 {
		o.MinCount = 100
	}
	if o.Threshold <= 0 {
		o.Threshold = 10
	}
	c := clock{raw: o.Raw}
	hw := &histWriter{w: w}
	hw.f("irqtrace diff\n\n")
	for _, s := range []struct {
		label string
		side  analysis.DiffSide
	}{{"before", d.Before}, {"after", d.After}} {
		hw.f("%-7s %s\n", s.label, s.side.File)
		hw.f("%-7s %s, %d events, %d irq runs, %d system vector runs\n", "", c.dur(s.side.SpanNS), s.side.Events, s.side.Handlers, s.side.Sysvecs)
	}

	// Summary.
	hw.f("\n== summary %s\n", strings.Repeat("=", 68))
	var lines, lat []string
	for _, l := range d.Latencies {
		if l.Before == nil || l.After == nil || l.Before.Count < o.MinCount || l.After.Count < o.MinCount {
			continue
		}
		var parts []string
		for _, q := range []struct {
			name string
			b, a int64
		}{{"p50", l.Before.P50, l.After.P50}, {"p99", l.Before.P99, l.After.P99}} {
			if pct, ok := analysis.DiffPercent(q.b, q.a); ok && math.Abs(pct) >= o.Threshold {
				parts = append(parts, fmt.Sprintf("%s %s -> %s (%s)", q.name, diffKeep(c.dur(q.b)), diffKeep(c.dur(q.a)), diffPct(q.b, q.a)))
			}
		}
		if len(parts) > 0 {
			lat = append(lat, fmt.Sprintf("%s %s: %s", l.Key, diffKindNoun(l.Kind), strings.Join(parts, ", ")))
		}
	}
	// The latency lines keep Latencies' order (kind, then total time);
	// past maxSummary the tables below have the rest.
	const maxSummary = 8
	if len(lat) > maxSummary {
		lat = append(lat[:maxSummary], fmt.Sprintf("and %d more distributions (tables below)", len(lat)-maxSummary))
	}
	lines = append(lines, lat...)
	var appeared, gone int
	for _, f := range findings {
		if f.After > f.Before {
			appeared++
		} else {
			gone++
		}
	}
	if appeared+gone > 0 {
		lines = append(lines, fmt.Sprintf("findings: %d kinds appeared or grew, %d disappeared or shrank (listed below)", appeared, gone))
	}
	var mb, ma, nb, na int64
	for _, m := range d.Migrations {
		mb += m.Traced.Before + m.Inferred.Before
		ma += m.Traced.After + m.Inferred.After
		nb += m.Never.Before
		na += m.Never.After
	}
	if mb != ma || nb != na {
		s := fmt.Sprintf("migrations: %d -> %d", mb, ma)
		if nb != na {
			s += fmt.Sprintf(", never completed %d -> %d", nb, na)
		}
		lines = append(lines, s)
	}
	for _, wd := range d.Windows {
		if wd.Count.Before == 0 || wd.Count.After == 0 {
			continue
		}
		if pct, ok := analysis.DiffPercent(wd.P50.Before, wd.P50.After); ok && math.Abs(pct) >= o.Threshold {
			lines = append(lines, fmt.Sprintf("CPU %s median: %s -> %s (%s) over %d -> %d cycles", diffDir(wd.Down),
				diffKeep(c.dur(wd.P50.Before)), diffKeep(c.dur(wd.P50.After)), diffPct(wd.P50.Before, wd.P50.After), wd.Count.Before, wd.Count.After))
		}
	}
	if len(lines) == 0 {
		hw.f("No change of %.0f%% or more in p50 or p99 of any distribution with %d or more\nsamples on both sides, no findings appeared or disappeared, and no change\nin migrations or hotplug times.\n", o.Threshold, o.MinCount)
	}
	for _, l := range lines {
		hw.f("%s", strings.ReplaceAll(Wrap("- "+l, "  ", 78)[2:], diffNoBreak, " "))
	}
	if len(lines) > 0 {
		hw.f("(changes of %.0f%% or more in p50/p99 with >= %d samples on both sides)\n", o.Threshold, o.MinCount)
	}

	// Latency tables.
	for _, k := range histKinds {
		var sel []analysis.DiffLatency
		omitted := 0
		for _, l := range d.Latencies {
			if l.Kind != k.kind {
				continue
			}
			if len(sel) >= o.Top {
				omitted++
				continue
			}
			sel = append(sel, l)
		}
		if len(sel) == 0 {
			continue
		}
		title := k.title
		if omitted > 0 {
			title += fmt.Sprintf(" (top %d of %d)", len(sel), len(sel)+omitted)
		}
		hw.f("\n== %s %s\n", title, strings.Repeat("=", max(3, 76-len(title))))
		hw.f("%-26s %8s %10s %10s %10s %10s\n", "", "count", "p50", "p99", "p99.9", "max")
		for i, l := range sel {
			if i > 0 {
				hw.f("\n")
			}
			name := l.Key
			if len(name) > 26 {
				name = name[:25] + "~"
			}
			hw.f("%s\n", name)
			row := func(label string, x *analysis.Latency) {
				if x == nil {
					hw.f("  %-24s %8s\n", label, "none")
					return
				}
				hw.f("  %-24s %8d %10s %10s %10s %10s\n", label, x.Count, c.dur(x.P50), c.dur(x.P99), c.dur(x.P999), c.dur(x.Max))
			}
			row("before"+diffIRQNote(l.Before), l.Before)
			row("after"+diffIRQNote(l.After), l.After)
			if l.Before != nil && l.After != nil {
				hw.f("  %-24s %8s %10s %10s %10s %10s\n", "change", diffPct(int64(l.Before.Count), int64(l.After.Count)),
					diffPct(l.Before.P50, l.After.P50), diffPct(l.Before.P99, l.After.P99), diffPct(l.Before.P999, l.After.P999), diffPct(l.Before.Max, l.After.Max))
			}
		}
	}

	// Findings.
	if len(findings) > 0 {
		hw.f("\n== findings that appeared or disappeared %s\n", strings.Repeat("=", 38))
		hw.f("%-24s %-38s %6s %6s\n", "rule", "subject", "before", "after")
		for _, f := range findings {
			subj := f.Subject
			if subj == "" {
				subj = "(no irq)"
			}
			if len(subj) > 38 {
				subj = subj[:37] + "~"
			}
			hw.f("%-24s %-38s %6d %6d\n", f.Rule, subj, f.Before, f.After)
		}
	}

	// Migrations.
	if len(d.Migrations) > 0 {
		top := 10
		if o.Top > 6 {
			top = o.Top
		}
		hw.f("\n== migrations (traced + inferred from CPU offline) %s\n", strings.Repeat("=", 27))
		hw.f("%-26s %12s %12s %12s\n", "irq", "traced", "inferred", "never done")
		for i, m := range d.Migrations {
			if i == top {
				hw.f("(%d more irqs)\n", len(d.Migrations)-top)
				break
			}
			name := m.Key
			if len(name) > 26 {
				name = name[:25] + "~"
			}
			hw.f("%-26s %12s %12s %12s\n", name, diffArrow(m.Traced), diffArrow(m.Inferred), diffArrow(m.Never))
		}
	}

	// Hotplug.
	if len(d.Hotplug) > 0 {
		hw.f("\n== CPU hotplug %s\n", strings.Repeat("=", 64))
		hw.f("%-34s %8s %10s %10s %10s\n", "", "cycles", "p50", "max", "p50 change")
		for _, wd := range d.Windows {
			hw.f("%-34s %8s %10s %10s\n", "whole "+diffDir(wd.Down)+" before", fmt.Sprint(wd.Count.Before), c.dur(wd.P50.Before), c.dur(wd.Max.Before))
			hw.f("%-34s %8s %10s %10s %10s\n", "whole "+diffDir(wd.Down)+" after", fmt.Sprint(wd.Count.After), c.dur(wd.P50.After), c.dur(wd.Max.After), diffPct(wd.P50.Before, wd.P50.After))
		}
		var both []analysis.DiffHotplugStep
		for _, h := range d.Hotplug {
			if h.Before != nil && h.After != nil {
				both = append(both, h)
			}
		}
		sort.SliceStable(both, func(i, j int) bool {
			return diffAbs(both[i].After.P50-both[i].Before.P50) > diffAbs(both[j].After.P50-both[j].Before.P50)
		})
		top := min(10, len(both))
		if top > 0 {
			hw.f("\ncpuhp states with the largest change of median (%d of %d in both)\n", top, len(both))
			hw.f("%-4s %5s %-26s %10s %10s %10s\n", "", "step", "callback", "p50 before", "p50 after", "change")
			for _, h := range both[:top] {
				dir := "up"
				if h.Down {
					dir = "down"
				}
				cb := h.Callback
				if len(cb) > 26 {
					cb = cb[:25] + "~"
				}
				hw.f("%-4s %5d %-26s %10s %10s %10s\n", dir, h.Step, cb, c.dur(h.Before.P50), c.dur(h.After.P50), diffPct(h.Before.P50, h.After.P50))
			}
		}
		var only []string
		for _, h := range d.Hotplug {
			switch {
			case h.Before == nil:
				only = append(only, fmt.Sprintf("%d %s (after only)", h.Step, h.Callback))
			case h.After == nil:
				only = append(only, fmt.Sprintf("%d %s (before only)", h.Step, h.Callback))
			}
		}
		if len(only) > 0 {
			hw.f("%s", Wrap("states in one recording only: "+strings.Join(only, ", "), "", 78))
		}
	}
	return hw.err
}

// diffPct formats the change from b to a: "+8.3%", "-12%", "0%", or "new"
// when b is 0 and a is not.
func diffPct(b, a int64) string {
	pct, ok := analysis.DiffPercent(b, a)
	switch {
	case !ok && a == 0:
		return "0%"
	case !ok:
		return "new"
	case math.Abs(pct) < 0.05:
		return "0%"
	case math.Abs(pct) >= 10:
		return fmt.Sprintf("%+.0f%%", pct)
	}
	return fmt.Sprintf("%+.1f%%", pct)
}

func diffArrow(c analysis.DiffCount) string { return fmt.Sprintf("%d -> %d", c.Before, c.After) }

func diffAbs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func diffDir(down bool) string {
	if down {
		return "take-down"
	}
	return "bring-up"
}

// diffIRQNote names the irq number of a device irq distribution: " (irq
// 35)".
func diffIRQNote(l *analysis.Latency) string {
	if l == nil || l.IRQ == nil {
		return ""
	}
	return fmt.Sprintf(" (irq %d)", *l.IRQ)
}

func diffKindNoun(kind string) string {
	switch kind {
	case "irq":
		return "handler"
	case "sysvec":
		return "vector handler"
	case "softirq":
		return "softirq raise->entry"
	case "softirq_run":
		return "softirq run"
	case "ipi":
		return "IPI send->receive"
	}
	return kind
}

// diffNoBreak joins a number to its unit so that Wrap keeps them on one
// line; it is replaced by a space after wrapping.
const diffNoBreak = "\x1f"

func diffKeep(s string) string { return strings.ReplaceAll(s, " ", diffNoBreak) }

package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// TraceSummary is what the analyze report says about the input itself
// (filled by the caller from the parser's accounting).
type TraceSummary struct {
	File         string `json:"file"`
	Format       string `json:"format"`
	Clock        string `json:"clock"`
	Unit         string `json:"unit"`
	Lines        int64  `json:"lines"`
	Events       int64  `json:"events"`
	Problems     int64  `json:"problems"`
	DecodeErrors int64  `json:"decode_errors"`
	LostMarkers  int    `json:"lost_markers"`
	LostEvents   int64  `json:"lost_events"`
}

// AnalyzeOptions tune the analyze report.
type AnalyzeOptions struct {
	// InfoPerRule caps the info findings shown per rule (0: 5); the rest
	// are counted.
	InfoPerRule int
	// Latencies caps the latency rows per kind (0: 8).
	Latencies int
}

// Analyze writes the report a person reads top-down: the trace summary,
// the findings grouped by severity and rule with their explanations and
// cited lines, then the key lifecycle facts and latency percentiles. The
// text is at most 80 columns wide (citations excepted) so that it pastes
// into a plain-text mail.
func Analyze(w io.Writer, s TraceSummary, m *analysis.Model, fs []rules.Finding, o AnalyzeOptions) error {
	if o.InfoPerRule == 0 {
		o.InfoPerRule = 5
	}
	if o.Latencies == 0 {
		o.Latencies = 8
	}
	p := &anPrinter{w: w, raw: s.Unit == "raw"}
	p.f("irqtrace analyze: %s\n\n", s.File)
	p.f("trace      %s, clock %s (%s), %d CPUs seen\n", s.Format, s.Clock, s.Unit, len(m.CPUs))
	p.f("           %s .. %s (%s)\n", p.ts(m.FirstNS), p.ts(m.LastNS), p.dur(m.LastNS-m.FirstNS))
	p.f("           %d lines: %d events, %d problems, %d undecodable payloads\n", s.Lines, s.Events, s.Problems, s.DecodeErrors)
	if s.LostMarkers > 0 {
		p.f("           %d LOST/DROPPED markers (%d events lost where counted)\n", s.LostMarkers, s.LostEvents)
	}
	counts := map[rules.Severity]int{}
	for _, f := range fs {
		counts[f.Severity]++
	}
	p.f("findings   %d error, %d warning, %d info\n", counts[rules.Error], counts[rules.Warning], counts[rules.Info])

	for sev := rules.Error; sev >= rules.Info; sev-- {
		var group []rules.Finding
		for _, f := range fs {
			if f.Severity == sev {
				group = append(group, f)
			}
		}
		if len(group) == 0 {
			continue
		}
		p.f("\n== %s (%d) %s\n", strings.ToUpper(sev.String()), len(group), strings.Repeat("=", 60-len(sev.String())))
		sort.SliceStable(group, func(i, j int) bool { return group[i].Rule < group[j].Rule })
		shown := map[string]int{}
		hidden := map[string]int{}
		for _, f := range group {
			if sev == rules.Info && shown[f.Rule] >= o.InfoPerRule {
				hidden[f.Rule]++
				continue
			}
			shown[f.Rule]++
			p.finding(f)
		}
		for _, r := range sortedKeys(hidden) {
			p.f("\n[%s] %d more info findings not shown (see --json)\n", r, hidden[r])
		}
	}

	p.f("\n== LIFECYCLE %s\n", strings.Repeat("=", 56))
	p.facts(m)
	p.f("\n== LATENCY (p50 / p99 / p99.9 / max, count) %s\n", strings.Repeat("=", 25))
	p.latencies(m, o.Latencies)
	return p.err
}

// AnalyzeJSON writes the analyze result as one JSON object.
func AnalyzeJSON(w io.Writer, s TraceSummary, m *analysis.Model, fs []rules.Finding) error {
	counts := map[string]int{"error": 0, "warning": 0, "info": 0}
	for _, f := range fs {
		counts[f.Severity.String()]++
	}
	if fs == nil {
		fs = []rules.Finding{}
	}
	type facts struct {
		Migrations      int64                  `json:"migrations"`
		Inferred        int64                  `json:"inferred_migrations"`
		InProgress      int                    `json:"moves_in_progress_at_end"`
		OfflineCycles   int                    `json:"offline_cycles"`
		Matrix          analysis.MatrixSummary `json:"matrix"`
		Anomalies       int                    `json:"anomalies"`
		HandlerRuns     int64                  `json:"handler_invocations"`
		SysvecRuns      int64                  `json:"sysvec_invocations"`
		IPISends        int64                  `json:"ipi_sends"`
		IPIUnanswered   int64                  `json:"ipi_unanswered"`
		CoverageWindows []analysis.Coverage    `json:"coverage"`
	}
	f := facts{Migrations: m.Counts.Migrations, Inferred: m.Counts.InferredMoves, Matrix: m.Matrix,
		Anomalies: len(m.Anomalies), HandlerRuns: m.Counts.Handlers, SysvecRuns: m.Counts.Sysvecs,
		IPISends: m.Counts.IPISends, IPIUnanswered: m.Counts.IPIUnanswered, CoverageWindows: m.Coverage}
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.Completion == analysis.CompletionNever {
				f.InProgress++
			}
		}
	}
	for _, c := range m.CPUs {
		f.OfflineCycles += len(c.OfflineIntervals)
	}
	lat := m.Latencies()
	if lat == nil {
		lat = []analysis.Latency{}
	}
	out := struct {
		Summary struct {
			TraceSummary
			FirstNS  int64          `json:"first_ts_ns"`
			LastNS   int64          `json:"last_ts_ns"`
			CPUs     int            `json:"cpus"`
			Findings map[string]int `json:"findings"`
		} `json:"summary"`
		Findings  []rules.Finding    `json:"findings"`
		Facts     facts              `json:"lifecycle"`
		Latencies []analysis.Latency `json:"latencies"`
	}{Findings: fs, Facts: f, Latencies: lat}
	out.Summary.TraceSummary = s
	out.Summary.FirstNS, out.Summary.LastNS, out.Summary.CPUs, out.Summary.Findings = m.FirstNS, m.LastNS, len(m.CPUs), counts
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type anPrinter struct {
	w   io.Writer
	raw bool
	err error
}

func (p *anPrinter) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

// ts prints a timestamp as seconds with 6 decimals (integer math), or raw.
func (p *anPrinter) ts(ns int64) string {
	if p.raw {
		return fmt.Sprint(ns)
	}
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	return fmt.Sprintf("%s%d.%06d", neg, ns/1e9, ns%1e9/1e3)
}

func (p *anPrinter) dur(ns int64) string {
	if p.raw {
		return fmt.Sprintf("%d ticks", ns)
	}
	return anDur(ns)
}

func anDur(ns int64) string {
	switch {
	case ns < 10_000:
		return fmt.Sprintf("%d ns", ns)
	case ns < 10_000_000:
		return fmt.Sprintf("%d us", ns/1000)
	case ns < 10_000_000_000:
		return fmt.Sprintf("%d ms", ns/1_000_000)
	}
	return fmt.Sprintf("%.1f s", float64(ns)/1e9)
}

func (p *anPrinter) finding(f rules.Finding) {
	p.f("\n[%s] %s\n", f.Rule, f.Title)
	var at []string
	at = append(at, "at "+p.ts(f.TS))
	if f.CPU != nil {
		at = append(at, fmt.Sprintf("CPU %d", *f.CPU))
	}
	if f.IRQ != nil {
		at = append(at, fmt.Sprintf("irq %d", *f.IRQ))
	}
	if f.Vector != nil {
		at = append(at, fmt.Sprintf("vector %d", *f.Vector))
	}
	ev := f.Evidence + " evidence"
	if f.Weakened {
		ev += ", weakened by a trace gap"
	}
	p.f("  %s; %s\n", strings.Join(at, ", "), ev)
	p.f("%s", anWrap(f.Message, "  ", 78))
	if len(f.Lines) > 0 {
		p.f("  lines: %s\n", strings.Join(f.Lines, " "))
	}
}

// Wrap wraps s into lines of at most width columns, each indented and
// ending in a newline (a word longer than the width gets a line of its own).
func Wrap(s, indent string, width int) string { return anWrap(s, indent, width) }

func anWrap(s, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(s) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if len(line) > len(indent) {
		b.WriteString(line + "\n")
	}
	return b.String()
}

func (p *anPrinter) facts(m *analysis.Model) {
	traced := m.Counts.Migrations - m.Counts.InferredMoves
	inProgress := 0
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.Completion == analysis.CompletionNever {
				inProgress++
			}
		}
	}
	p.f("migrations %d traced, %d inferred from CPU offlines; %d still in progress at the end\n",
		traced, m.Counts.InferredMoves, inProgress)
	var cycles []string
	var down, up []int64
	for _, c := range m.CPUs {
		if n := len(c.OfflineIntervals); n > 0 {
			cycles = append(cycles, fmt.Sprintf("CPU %d x%d", c.CPU, n))
		}
		for _, w := range c.TakeDowns {
			if w.EndNS != nil {
				down = append(down, *w.EndNS-w.StartNS)
			}
		}
		for _, w := range c.BringUps {
			if w.EndNS != nil {
				up = append(up, *w.EndNS-w.StartNS)
			}
		}
	}
	if len(cycles) == 0 {
		p.f("hotplug    no CPU went offline\n")
	} else {
		p.f("hotplug    offline: %s\n", strings.Join(cycles, ", "))
		if len(down) > 0 {
			sortInt64(down)
			p.f("           take-down median %s (max %s)", p.dur(analysis.Quantile(down, .5)), p.dur(down[len(down)-1]))
		}
		if len(up) > 0 {
			sortInt64(up)
			p.f(", bring-up median %s (max %s)", p.dur(analysis.Quantile(up, .5)), p.dur(up[len(up)-1]))
		}
		p.f("\n")
	}
	mm := m.Matrix
	if mm.Events > 0 {
		p.f("matrix     %d irq_matrix events, %d counter checks: %d match, %d explained\n", mm.Events, mm.Checks, mm.Matches, mm.Explained)
		p.f("           by untraced offlines, %d unexplained\n", mm.Unexplained)
	}
	kinds := map[string]int{}
	for _, a := range m.Anomalies {
		if a.Kind == "matrix_mismatch" {
			continue
		}
		kinds[a.Kind]++
	}
	if len(kinds) > 0 {
		var parts []string
		for _, k := range sortedKeys(kinds) {
			parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
		}
		p.f("anomalies  %s (see irqtrace lifecycle)\n", strings.Join(parts, ", "))
	}
	p.f("handlers   %d device irq runs, %d system vector runs, %d softirq runs\n", m.Counts.Handlers, m.Counts.Sysvecs, m.Counts.Softirqs)
	if m.Counts.IPISends > 0 {
		p.f("ipis       %d sends, %d unanswered\n", m.Counts.IPISends, m.Counts.IPIUnanswered)
	}
}

func (p *anPrinter) latencies(m *analysis.Model, per int) {
	names := map[string]string{"irq": "irq handler", "sysvec": "system vector", "softirq": "softirq raise->entry",
		"softirq_run": "softirq run", "ipi": "ipi send->receive"}
	n := map[string]int{}
	last := ""
	for _, l := range m.Latencies() {
		if n[l.Kind] >= per {
			continue
		}
		n[l.Kind]++
		if l.Kind != last {
			p.f("%s\n", names[l.Kind])
			last = l.Kind
		}
		name := l.Name
		if len(name) > 28 {
			name = name[:28]
		}
		p.f("  %-28s %8s %8s %8s %8s %7d\n", name, p.dur(l.P50), p.dur(l.P99), p.dur(l.P999), p.dur(l.Max), l.Count)
	}
	if last == "" {
		p.f("no handler runs in the trace\n")
	}
}

func sortInt64(v []int64) { sort.Slice(v, func(i, j int) bool { return v[i] < v[j] }) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

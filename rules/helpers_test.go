package rules

// Shared test helpers: the pipeline from trace text to findings, the
// conversion of findings for scenario labels, and the check of cited
// lines.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/internal/scenario"
	"github.com/irqtrace/irqtrace/parse"
)

// analyzed is one input run through parse, analysis.Build and Run.
type analyzed struct {
	name  string
	text  []byte
	lines []string // lines[i] is line i+1
	st    *parse.Stats
	m     *analysis.Model
	fs    []Finding
}

// analyze runs the whole pipeline on text with the default rules.
func analyze(t testing.TB, text []byte, name string) *analyzed {
	t.Helper()
	return analyzeWith(t, text, name, DefaultOptions)
}

func analyzeWith(t testing.TB, text []byte, name string, o Options) *analyzed {
	t.Helper()
	a, err := pipeline(text, name, o)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// pipeline is analyzeWith without a testing.TB (safe in any goroutine).
func pipeline(text []byte, name string, o Options) (*analyzed, error) {
	tbl := ftrace.NewTable()
	defer tbl.Release()
	st, err := parse.Parse(context.Background(), bytes.NewReader(text), name, tbl, parse.Options{})
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", name, err)
	}
	recs, err := tbl.Records()
	if err != nil {
		return nil, err
	}
	var marks []analysis.Marker
	for _, ms := range [][]parse.Marker{st.LostMarkers, st.BufferStarted} {
		for _, mk := range ms {
			marks = append(marks, analysis.Marker{Kind: mk.Kind, CPU: mk.CPU, Line: mk.Line, NextTS: mk.NextTS})
		}
	}
	m, err := analysis.Build(recs, analysis.Options{Markers: marks, Perf: st.Format == parse.FormatPerfScript.String()})
	if err != nil {
		return nil, fmt.Errorf("Build %s: %w", name, err)
	}
	fs := Run(Default(o), &Input{Model: m, File: name})
	return &analyzed{name: name, text: text, lines: strings.Split(string(text), "\n"), st: st, m: m, fs: fs}, nil
}

// readTrace reads a (possibly compressed) trace file; it skips the test
// when the file is absent.
func readTrace(t testing.TB, path string) []byte {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("trace not available: %v", err)
	}
	r, _, err := parse.OpenInput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	text, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// lineNos converts a finding's file:line citations to line numbers.
func (a *analyzed) lineNos(t testing.TB, f *Finding) []int64 {
	t.Helper()
	var out []int64
	for _, l := range f.Lines {
		file, n, ok := strings.Cut(l, ":")
		if !ok || file != a.name {
			t.Errorf("%s: finding %s cites %q, not %s:N", a.name, f.Rule, l, a.name)
			continue
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			t.Errorf("%s: finding %s cites %q", a.name, f.Rule, l)
			continue
		}
		out = append(out, v)
	}
	return out
}

// asScenario converts findings for scenario.Label matching.
func (a *analyzed) asScenario(t testing.TB) []scenario.Finding {
	out := make([]scenario.Finding, len(a.fs))
	for i := range a.fs {
		f := &a.fs[i]
		out[i] = scenario.Finding{Rule: f.Rule, Severity: f.Severity.String(), Evidence: f.Evidence, TS: f.TS,
			CPU: f.CPU, IRQ: f.IRQ, Weakened: f.Weakened, Lines: a.lineNos(t, f)}
	}
	return out
}

// citedEvents lists, per rule, the events a cited line may hold: every
// line a finding cites must be an event line of one of these.
var citedEvents = map[string][]string{
	"spurious-vector":      {"spurious_apic_entry", "console", "vector_update", "vector_config"},
	"unhandled-irq":        {"irq_handler_exit", "console"},
	"irr-retrigger":        {"vector_update", "irq_handler_entry", "console", "cpuhp_exit", "cpuhp_enter", "function"},
	"lost-interrupt":       {"vector_update", "irq_handler_entry", "console", "cpuhp_exit", "cpuhp_enter"},
	"move-never-completed": {"vector_update", "irq_handler_entry", "console", "irq_matrix_alloc", "irq_matrix_free", "irq_matrix_online", "irq_matrix_alloc_managed"},
	"ipi-unanswered":       {"ipi_send_cpu", "ipi_send_cpumask", "_entry"},
	"hotplug-lost-wakeup":  {"sched_switch"},
	"trace-data-loss":      {"LOST", "DROPPED", "buffer started"},
}

// eventOf returns the event name of a trace line ("function" for a
// function-tracer line), or the marker text.
func eventOf(line string) string {
	if strings.HasPrefix(line, "CPU:") || strings.HasPrefix(line, "#####") {
		return line
	}
	// "...] flags ts: name: payload" (ftrace), "...] ts: name: payload"
	// (trace-cmd), "...] ts: sys:name: payload" (perf)
	i := strings.Index(line, "]")
	if i < 0 {
		return ""
	}
	rest := line[i+1:]
	j := strings.Index(rest, ": ")
	if j < 0 {
		return ""
	}
	rest = strings.TrimLeft(rest[j+2:], " ")
	k := strings.Index(rest, ":")
	sp := strings.Index(rest, " ")
	if k < 0 || (sp >= 0 && sp < k) {
		if strings.Contains(rest, " <-") {
			return "function"
		}
		return ""
	}
	name := rest[:k]
	if rest[k+1:] != "" && rest[k+1] != ' ' { // perf "sys:name:"
		rest = rest[k+1:]
		if k2 := strings.Index(rest, ":"); k2 > 0 {
			name = rest[:k2]
		}
	}
	return name
}

// checkCitations verifies that each finding has a message and that every
// line it cites exists and holds an event the rule reads; findings about
// one irq must cite only that irq's handler and vector lines.
func (a *analyzed) checkCitations(t testing.TB) {
	t.Helper()
	for i := range a.fs {
		f := &a.fs[i]
		if strings.TrimSpace(f.Message) == "" || strings.TrimSpace(f.Title) == "" {
			t.Errorf("%s: %s finding at %d has no message or title", a.name, f.Rule, f.TS)
		}
		for _, n := range a.lineNos(t, f) {
			if n < 1 || int(n) > len(a.lines) {
				t.Errorf("%s: %s cites line %d of %d", a.name, f.Rule, n, len(a.lines))
				continue
			}
			line := a.lines[n-1]
			ev := eventOf(line)
			ok := false
			for _, want := range citedEvents[f.Rule] {
				if ev == want || strings.Contains(ev, want) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: %s finding cites line %d %q, which holds no event it reads (%v)", a.name, f.Rule, n, line, citedEvents[f.Rule])
				continue
			}
			if f.IRQ != nil && (ev == "irq_handler_entry" || ev == "irq_handler_exit") && f.Rule != "spurious-vector" {
				if !strings.Contains(line, fmt.Sprintf("irq=%d ", *f.IRQ)) {
					t.Errorf("%s: %s finding about irq %d cites line %d of another irq: %q", a.name, f.Rule, *f.IRQ, n, line)
				}
			}
		}
	}
}

// realTraces lists the real recordings: shared/traces/*/ (every format)
// and testdata's live and qemu captures.
func realTraces() []string {
	var out []string
	for _, pat := range []string{"/work/shared/traces/*/ftrace.txt.xz", "/work/shared/traces/*/trace-cmd-report.txt.xz",
		"/work/shared/traces/*/perf-script.txt.xz", "../../shared/traces/*/ftrace.txt.xz", "../../shared/traces/*/trace-cmd-report.txt.xz",
		"../../shared/traces/*/perf-script.txt.xz", "../testdata/live/*.txt", "../testdata/qemu-*/*.txt.xz"} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	// testdata/qemu-* are copies of shared/traces/qemu-*: read each
	// recording once (scenario directory and file name).
	seen := map[string]bool{}
	var uniq []string
	for _, p := range out {
		key := filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p))
		if seen[key] {
			continue
		}
		seen[key] = true
		uniq = append(uniq, p)
	}
	return uniq
}

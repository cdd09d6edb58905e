package parse

// Tests on testdata/qemu-retrigger (see testdata/README.md): a real hotplug
// run recorded with the function tracer on the irq-move, retrigger and
// hotplug-fixup functions, in the ftrace text and trace-cmd report
// renderings. The expectations come from a naive scan of the text written
// here (a regular expression per rendering) and from the run's MANIFEST.md.

import (
	"bytes"
	"maps"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var retriggerTraces = []realTrace{
	{"qemu-retrigger", "ftrace.txt.xz", FormatFtrace, "ftrace"},
	{"qemu-retrigger", "trace-cmd-report.txt.xz", FormatTraceCmd, "trace-cmd"},
}

// loadRetrigger is loadReal that skips the test when the file is absent.
func loadRetrigger(t *testing.T, tr realTrace) ([]byte, *parsed) {
	t.Helper()
	if _, err := os.Stat(tr.path()); err != nil {
		t.Skipf("trace not available: %v", err)
	}
	return loadReal(t, tr)
}

// fnLine is a function-tracer line as the naive scan reads it.
type fnLine struct {
	no     int64
	cpu    int64
	ts     string
	fn     string
	caller string // "" in trace-cmd report (it prints no parent)
}

var (
	// ftrace text: "comm-pid [cpu] flags ts: func <-parent"
	reFtraceFn = regexp.MustCompile(`^.*\[(\d{3})\] \S{5} +(\d+\.\d+): (\S+) <-(\S+)$`)
	// trace-cmd report: "comm-pid [cpu] ts: function: <indent>func"
	reTraceCmdFn = regexp.MustCompile(`^.*\[(\d{3})\] +(\d+\.\d+): function: +(\S+)$`)
)

// scanFunctions returns the function-tracer lines of text. It also counts
// the lines a plain substring search calls function lines (" <-" after the
// timestamp, " function: "): the regular expression must match every one.
func scanFunctions(t *testing.T, text []byte, f Format) []fnLine {
	t.Helper()
	var out []fnLine
	var grep int
	for i, l := range strings.Split(string(text), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		switch f {
		case FormatFtrace:
			if k := strings.Index(l, "]"); k >= 0 {
				if j := strings.Index(l[k:], ": "); j >= 0 && strings.Contains(l[k+j:], " <-") {
					grep++
				}
			}
			if s := reFtraceFn.FindStringSubmatch(l); s != nil {
				cpu, _ := strconv.ParseInt(s[1], 10, 64)
				out = append(out, fnLine{int64(i + 1), cpu, s[2], s[3], s[4]})
			}
		case FormatTraceCmd:
			if strings.Contains(l, " function: ") {
				grep++
			}
			if s := reTraceCmdFn.FindStringSubmatch(l); s != nil {
				cpu, _ := strconv.ParseInt(s[1], 10, 64)
				out = append(out, fnLine{int64(i + 1), cpu, s[2], s[3], ""})
			}
		}
	}
	if grep != len(out) {
		t.Fatalf("substring search finds %d function lines, the regular expression %d", grep, len(out))
	}
	return out
}

// TestRetriggerFunctionCounts: the parser counts exactly the function
// lines a naive scan finds, per function too, and both agree with the
// MANIFEST's "function(NAME)" rows; every other event count agrees with
// the MANIFEST; no line is a problem or an undecodable payload.
func TestRetriggerFunctionCounts(t *testing.T) {
	for _, tr := range retriggerTraces {
		t.Run(tr.name(), func(t *testing.T) {
			text, p := loadRetrigger(t, tr)
			st := p.st
			if st.Format != tr.format.String() {
				t.Fatalf("format %q, want %q", st.Format, tr.format)
			}
			fns := scanFunctions(t, text, tr.format)
			if len(fns) == 0 {
				t.Fatal("naive scan finds no function-tracer line")
			}
			if got := st.EventCounts["function"]; got != int64(len(fns)) {
				t.Errorf("function events = %d, naive scan finds %d", got, len(fns))
			}
			naivePer := map[string]int64{}
			for _, f := range fns {
				naivePer[f.fn]++
			}
			tablePer := map[string]int64{}
			for i := 0; i < p.v.n; i++ {
				if p.v.get(i, "event") == "function" {
					fn, _ := p.v.get(i, "func").(string)
					tablePer[fn]++
				}
			}
			if !maps.Equal(tablePer, naivePer) {
				t.Errorf("function rows per func differ from the naive scan:\n%s", diffCounts(tablePer, naivePer))
			}

			m := readManifest(t, tr.scenario)
			manPer := map[string]int64{}
			want := map[string]int64{}
			for name, n := range m.counts[tr.column] {
				if n == 0 || name == "(header:cpus=N)" {
					continue
				}
				if fn, ok := strings.CutPrefix(name, "function("); ok {
					manPer[strings.TrimSuffix(fn, ")")] = n
					want["function"] += n
					continue
				}
				want[canonicalName(name)] += n
			}
			if !maps.Equal(naivePer, manPer) {
				t.Errorf("naive function counts differ from MANIFEST:\n%s", diffCounts(naivePer, manPer))
			}
			if !maps.Equal(st.EventCounts, want) {
				t.Errorf("event counts differ from MANIFEST:\n%s", diffCounts(st.EventCounts, want))
			}
			if st.Problems != 0 || st.DecodeErrors != 0 || st.GenericEvents != 0 || st.FailedToParse != 0 {
				t.Errorf("problems %d %v, decode errors %d %v, generic %d, failed to parse %d",
					st.Problems, st.ProblemSamples, st.DecodeErrors, st.DecodeErrorSamples, st.GenericEvents, st.FailedToParse)
			}
			if st.Lines != st.Events+st.NonEventLines {
				t.Errorf("Lines %d != Events %d + NonEventLines %d", st.Lines, st.Events, st.NonEventLines)
			}
			if tr.format == FormatFtrace && st.Header.Tracer != "function" {
				t.Errorf("Header.Tracer = %q, the text says function", st.Header.Tracer)
			}
		})
	}
}

// TestRetriggerFunctionRows compares every function row with its line:
// CPU, timestamp, func and caller (null in trace-cmd report, which prints
// no parent).
func TestRetriggerFunctionRows(t *testing.T) {
	for _, tr := range retriggerTraces {
		t.Run(tr.name(), func(t *testing.T) {
			text, p := loadRetrigger(t, tr)
			bad := 0
			for _, f := range scanFunctions(t, text, tr.format) {
				i := p.v.rowAtLine(t, f.no)
				want := map[string]any{"event": "function", "system": "ftrace", "cpu": f.cpu,
					"ts_ns": nsFromText(f.ts), "func": f.fn, "caller": nil}
				if f.caller != "" {
					want["caller"] = f.caller
				}
				for col, w := range want {
					if got := p.v.get(i, col); got != w {
						bad++
						if bad <= 5 {
							t.Errorf("line %d %s = %v, want %v", f.no, col, got, w)
						}
					}
				}
			}
			if bad > 5 {
				t.Errorf("... %d cells differ in all", bad)
			}
		})
	}
}

// TestRetriggerKnownFunctionLines pins the function and caller columns of a
// few lines read off the text by hand: a deferred move in the ack path, the
// dying CPU's fixup_irqs and lapic_offline (function-tracer entries are not
// gated by cpu_online(), unlike the tracepoints), a resend check at
// bring-up, and trace-cmd's depth-indented rendering of the same calls.
func TestRetriggerKnownFunctionLines(t *testing.T) {
	ft, tc := retriggerTraces[0], retriggerTraces[1]
	tests := []struct {
		trace        realTrace
		line         string
		cpu          int64
		ts           int64
		fn, caller   string
		comm         string
		pid          int64
		wantNoCaller bool
	}{
		{ft, "              dd-1024    [002] dNh2.    60.302003: __irq_move_irq <-apic_ack_edge",
			2, 60_302_003_000, "__irq_move_irq", "apic_ack_edge", "dd", 1024, false},
		{ft, "              dd-1024    [002] dNh2.    60.302124: irq_move_masked_irq <-__irq_move_irq",
			2, 60_302_124_000, "irq_move_masked_irq", "__irq_move_irq", "dd", 1024, false},
		{ft, "     migration/2-25      [002] d..2.    61.879541: fixup_irqs <-cpu_disable_common",
			2, 61_879_541_000, "fixup_irqs", "cpu_disable_common", "migration/2", 25, false},
		{ft, "     migration/2-25      [002] d..2.    61.884720: lapic_offline <-native_cpu_disable",
			2, 61_884_720_000, "lapic_offline", "native_cpu_disable", "migration/2", 25, false},
		{ft, "         cpuhp/2-24      [002] d..2.    62.577372: check_irq_resend <-irq_startup",
			2, 62_577_372_000, "check_irq_resend", "irq_startup", "cpuhp/2", 24, false},
		{tc, "              dd-1024  [002]    60.217897: function:             __irq_move_irq",
			2, 60_217_897_000, "__irq_move_irq", "", "dd", 1024, true},
		{tc, "     migration/2-25    [002]    61.795610: function:             fixup_irqs",
			2, 61_795_610_000, "fixup_irqs", "", "migration/2", 25, true},
		{tc, "     migration/2-25    [002]    61.795641: function:                irq_migrate_all_off_this_cpu",
			2, 61_795_641_000, "irq_migrate_all_off_this_cpu", "", "migration/2", 25, true},
		{tc, "         cpuhp/2-24    [002]    62.493482: function:                   check_irq_resend",
			2, 62_493_482_000, "check_irq_resend", "", "cpuhp/2", 24, true},
	}
	for _, tc := range tests {
		t.Run(tc.trace.name()+"/"+tc.fn, func(t *testing.T) {
			text, p := loadRetrigger(t, tc.trace)
			i := bytes.Index(text, []byte("\n"+tc.line+"\n"))
			if i < 0 {
				t.Fatalf("line not in %s", tc.trace.name())
			}
			ln := int64(bytes.Count(text[:i+1], []byte("\n"))) + 1
			row := p.v.rowAtLine(t, ln)
			want := map[string]any{"event": "function", "system": "ftrace", "func": tc.fn, "cpu": tc.cpu,
				"ts_ns": tc.ts, "comm": tc.comm, "pid": tc.pid, "line": ln, "offset": int64(i + 1)}
			if tc.wantNoCaller {
				want["caller"] = nil
			} else {
				want["caller"] = tc.caller
			}
			for col, w := range want {
				if got := p.v.get(row, col); got != w {
					t.Errorf("line %d %s = %#v, want %#v", ln, col, got, w)
				}
			}
		})
	}
}

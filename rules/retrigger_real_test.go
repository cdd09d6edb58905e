package rules

// Tests on testdata/qemu-retrigger (see testdata/README.md): a real hotplug
// run under qemu recorded with the function tracer on the retrigger,
// irq-move and hotplug-fixup functions (apic_retrigger_irq and
// irq_chip_retrigger_hierarchy among them), as ftrace text and as
// trace-cmd report. Expectations come from a naive scan of the text and
// from the run's MANIFEST.md.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/analysis"
)

var retriggerFiles = []string{"ftrace.txt.xz", "trace-cmd-report.txt.xz"}

const retriggerDir = "../testdata/qemu-retrigger"

// naiveCall is a function-tracer line read with a regular expression.
type naiveCall struct {
	line       int64
	cpu        int32
	fn, caller string
}

var (
	reFtraceCall   = regexp.MustCompile(`^.*\[(\d{3})\] \S{5} +\d+\.\d+: (\S+) <-(\S+)$`)
	reTraceCmdCall = regexp.MustCompile(`^.*\[(\d{3})\] +\d+\.\d+: function: +(\S+)$`)
	reManifestFn   = regexp.MustCompile(`^\| function\((\S+)\) \| (\d+) \| (\d+) \| \d+ \|$`)
)

func naiveCalls(lines []string) []naiveCall {
	var out []naiveCall
	for i, l := range lines {
		if s := reFtraceCall.FindStringSubmatch(l); s != nil {
			cpu, _ := strconv.Atoi(s[1])
			out = append(out, naiveCall{int64(i + 1), int32(cpu), s[2], s[3]})
		} else if s := reTraceCmdCall.FindStringSubmatch(l); s != nil {
			cpu, _ := strconv.Atoi(s[1])
			out = append(out, naiveCall{int64(i + 1), int32(cpu), s[2], ""})
		}
	}
	return out
}

// manifestFunctions reads the "function(NAME)" rows of the MANIFEST's
// event-count table: column 0 is the ftrace text, 1 trace-cmd report.
func manifestFunctions(t *testing.T) [2]map[string]int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(retriggerDir, "MANIFEST.md"))
	if err != nil {
		t.Skipf("MANIFEST not available: %v", err)
	}
	out := [2]map[string]int{{}, {}}
	for _, l := range strings.Split(string(b), "\n") {
		if s := reManifestFn.FindStringSubmatch(l); s != nil {
			out[0][s[1]], _ = strconv.Atoi(s[2])
			out[1][s[1]], _ = strconv.Atoi(s[3])
		}
	}
	if len(out[0]) == 0 {
		t.Fatal("MANIFEST has no function(NAME) rows")
	}
	return out
}

// TestRealRetriggerCalls: the model keeps exactly the function-tracer lines
// of analysis.TracedFunctions, with their line, CPU, function and caller,
// and as many per function as the MANIFEST counted.
func TestRealRetriggerCalls(t *testing.T) {
	for col, file := range retriggerFiles {
		t.Run(file, func(t *testing.T) {
			a := analyze(t, readTrace(t, filepath.Join(retriggerDir, file)), file)
			man := manifestFunctions(t)[col]
			all := naiveCalls(a.lines)
			if int64(len(all)) != a.st.EventCounts["function"] {
				t.Errorf("naive scan finds %d function lines, the parser %d", len(all), a.st.EventCounts["function"])
			}
			var want []naiveCall
			wantPer := map[string]int{}
			for _, c := range all {
				if analysis.TracedFunctions[c.fn] {
					want = append(want, c)
					wantPer[c.fn]++
				}
			}
			manPer := map[string]int{}
			for fn, n := range man {
				if analysis.TracedFunctions[fn] && n > 0 {
					manPer[fn] = n
				}
			}
			if len(want) == 0 {
				t.Fatal("no function line of TracedFunctions in the trace")
			}
			if len(a.m.Calls) != len(want) {
				t.Fatalf("model keeps %d calls, the text has %d lines of TracedFunctions", len(a.m.Calls), len(want))
			}
			for fn, n := range manPer {
				if wantPer[fn] != n {
					t.Errorf("%s: %d lines in the text, MANIFEST says %d", fn, wantPer[fn], n)
				}
			}
			if len(wantPer) != len(manPer) {
				t.Errorf("functions in the text %v, MANIFEST %v", wantPer, manPer)
			}
			byLine := map[int64]analysis.Call{}
			for _, c := range a.m.Calls {
				byLine[c.Line] = c
			}
			bad := 0
			for _, w := range want {
				c, ok := byLine[w.line]
				if !ok || c.Func != w.fn || c.Caller != w.caller || c.CPU != w.cpu {
					bad++
					if bad <= 5 {
						t.Errorf("line %d %q: call %+v (found %v), want func %s caller %q cpu %d",
							w.line, a.lines[w.line-1], c, ok, w.fn, w.caller, w.cpu)
					}
				}
			}
			if bad > 5 {
				t.Errorf("... %d calls differ in all", bad)
			}
		})
	}
}

// TestRealRetriggerFindings: the run is clean, so nothing at warning or
// error level; every finding cites lines holding the events it reads. An
// irr-retrigger finding has direct evidence only if it cites a traced
// apic_retrigger_irq / irq_chip_retrigger_hierarchy line; and when the
// trace holds such lines next to a move, the finding says so. (This
// capture has none: both functions were in set_ftrace_filter but never
// ran, because no interrupt was pending in the IRR of a dying CPU; so
// there must be no direct irr-retrigger finding.)
func TestRealRetriggerFindings(t *testing.T) {
	for _, file := range retriggerFiles {
		t.Run(file, func(t *testing.T) {
			a := analyze(t, readTrace(t, filepath.Join(retriggerDir, file)), file)
			a.checkCitations(t)
			retrig := map[int64]naiveCall{}
			for _, c := range naiveCalls(a.lines) {
				if c.fn == "apic_retrigger_irq" || c.fn == "irq_chip_retrigger_hierarchy" {
					retrig[c.line] = c
				}
			}
			direct := 0
			for i := range a.fs {
				f := &a.fs[i]
				if f.Severity >= Warning {
					t.Errorf("false alarm on a clean recording: %s %s irq=%d cpu=%d at %s: %s\n  %s %v",
						f.Rule, f.Severity, deref(f.IRQ), deref(f.CPU), sec(f.TS), f.Title, f.Message, f.Lines)
				}
				if f.Rule != "irr-retrigger" || f.Evidence != Direct {
					continue
				}
				direct++
				if f.IRQ == nil || f.CPU == nil {
					t.Errorf("direct irr-retrigger finding without irq or CPU: %+v", f)
				}
				cited := false
				for _, n := range a.lineNos(t, f) {
					if _, ok := retrig[n]; ok {
						cited = true
						if l := a.lines[n-1]; !strings.Contains(l, "apic_retrigger_irq") && !strings.Contains(l, "irq_chip_retrigger_hierarchy") {
							t.Errorf("cited line %d is no retrigger call: %q", n, l)
						}
					}
				}
				if !cited {
					t.Errorf("direct irr-retrigger finding irq=%d cpu=%d cites no retrigger call: %v", deref(f.IRQ), deref(f.CPU), f.Lines)
				}
			}
			if len(retrig) == 0 && direct != 0 {
				t.Errorf("%d direct irr-retrigger findings, but the trace has no retrigger call", direct)
			}
			t.Logf("%d retrigger calls in the text, %d direct irr-retrigger findings, %d findings", len(retrig), direct, len(a.fs))
		})
	}
}

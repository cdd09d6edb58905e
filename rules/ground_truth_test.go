package rules

// Ground truth: the rules against scenarios with known answers
// (internal/scenario), against mutations of the real traces, and against
// the real traces themselves, which are clean runs.

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/irqtrace/irqtrace/internal/scenario"
)

// variants is the number of seeds per scenario generator
// (IRQTRACE_VARIANTS overrides it; -short uses 3).
func variants(t *testing.T) int {
	if v, err := strconv.Atoi(os.Getenv("IRQTRACE_VARIANTS")); err == nil && v > 0 {
		return v
	}
	if testing.Short() {
		return 3
	}
	return 16
}

// outcome is one scenario's comparison with its labels.
type outcome struct {
	sc     *scenario.Scenario
	a      *analyzed
	res    scenario.Result
	probs  int64
	decode int64
}

// runScenarios generates and analyzes n seeds of every generator in
// parallel.
func runScenarios(t *testing.T, n int) []outcome {
	type job struct {
		g    scenario.Generator
		seed uint64
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var out []outcome
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				sc := scenario.Generate(j.g, j.seed)
				name := fmt.Sprintf("%s-seed%d", j.g.Name, j.seed)
				a, err := pipeline(sc.Text, name, DefaultOptions)
				mu.Lock()
				if err != nil {
					t.Errorf("%s: %v", name, err)
				} else {
					out = append(out, outcome{sc: sc, a: a, probs: a.st.Problems, decode: a.st.DecodeErrors})
				}
				mu.Unlock()
			}
		}()
	}
	for _, g := range scenario.Catalog {
		for i := 0; i < n; i++ {
			jobs <- job{g, uint64(1 + i*7919)}
		}
	}
	close(jobs)
	wg.Wait()
	sort.Slice(out, func(i, j int) bool {
		if out[i].sc.Name != out[j].sc.Name {
			return out[i].sc.Name < out[j].sc.Name
		}
		return out[i].sc.Seed < out[j].sc.Seed
	})
	for i := range out {
		out[i].res = out[i].sc.Check(out[i].a.asScenario(t))
	}
	return out
}

// TestGroundTruth: every labelled finding of every scenario is found, no
// finding at or above a scenario's ceiling matches no label, every
// generated trace parses without a problem, and every finding cites lines
// that hold the events it rests on. It logs recall and false alarms per
// rule.
func TestGroundTruth(t *testing.T) {
	n := variants(t)
	outs := runScenarios(t, n)
	type tally struct {
		labels, found, alarms, infoExtra int
		alarmScen                        map[string]bool
	}
	per := map[string]*tally{}
	get := func(rule string) *tally {
		if per[rule] == nil {
			per[rule] = &tally{alarmScen: map[string]bool{}}
		}
		return per[rule]
	}
	for _, id := range ruleIDs() {
		get(id)
	}
	lookalikes, lookalikeAlarms := 0, 0
	for _, o := range outs {
		sc := o.sc
		replay := fmt.Sprintf("%s seed %d (replay: scenario.ByName(%q, %d))", sc.Name, sc.Seed, sc.Name, sc.Seed)
		if o.probs != 0 || o.decode != 0 {
			t.Errorf("%s: %d problem lines, %d decode errors", replay, o.probs, o.decode)
		}
		o.a.checkCitations(t)
		// The generator plays the kernel faithfully: the model finds no
		// contradiction in its traces (a matrix drift across a hotplug,
		// which the kernel causes without events, is explained).
		for _, an := range o.a.m.Anomalies {
			if inconsistent[an.Kind] || an.Kind == "matrix_mismatch" && !an.Explained {
				t.Errorf("%s: the model finds the generated trace inconsistent: %s line %d: %s", replay, an.Kind, an.Line, an.Message)
			}
		}
		for i, l := range sc.Labels {
			tl := get(l.Rule)
			tl.labels++
			if o.res.Found[i] >= 0 {
				tl.found++
				continue
			}
			t.Errorf("%s: missed %v\n%s", replay, l, near(o.a, l.Rule))
		}
		if sc.LookAlike {
			lookalikes++
			if len(o.res.Extra) > 0 {
				lookalikeAlarms++
			}
		}
		for _, j := range o.res.Extra {
			f := o.a.fs[j]
			tl := get(f.Rule)
			tl.alarms++
			tl.alarmScen[sc.Name] = true
			t.Errorf("%s: false alarm %s %s irq=%d cpu=%d at %s: %s\n  %s", replay, f.Rule, f.Severity, deref(f.IRQ), deref(f.CPU), sec(f.TS), f.Title, f.Message)
		}
		// Info findings besides the labels, for the table.
		matched := map[int]bool{}
		for _, j := range o.res.Found {
			matched[j] = true
		}
		for j, f := range o.a.fs {
			if !matched[j] && f.Severity == Info {
				get(f.Rule).infoExtra++
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ground truth: %d scenarios (%d generators x %d seeds), %d look-alikes (%d with a false alarm)\n",
		len(outs), len(scenario.Catalog), n, lookalikes, lookalikeAlarms)
	fmt.Fprintf(&b, "%-22s %7s %7s %7s %13s %11s\n", "rule", "labels", "found", "recall", "false alarms", "other info")
	for _, id := range ruleIDs() {
		tl := per[id]
		rec := "-"
		if tl.labels > 0 {
			rec = fmt.Sprintf("%.0f%%", 100*float64(tl.found)/float64(tl.labels))
		}
		fmt.Fprintf(&b, "%-22s %7d %7d %7s %13d %11d\n", id, tl.labels, tl.found, rec, tl.alarms, tl.infoExtra)
	}
	t.Log("\n" + b.String())
}

// inconsistent are the model's anomaly kinds that mean the events
// contradict each other.
var inconsistent = map[string]bool{"prev_slot_mismatch": true, "config_slot_mismatch": true, "clear_slot_mismatch": true,
	"orphan_free_moved": true, "handler_on_unexpected_cpu": true, "event_on_offline_cpu": true, "assignment_replaced": true}

// near lists a scenario's findings of one rule, to explain a miss.
func near(a *analyzed, rule string) string {
	var b strings.Builder
	for _, f := range a.fs {
		if f.Rule == rule {
			fmt.Fprintf(&b, "  got %s %s %s irq=%d cpu=%d at %s weakened=%v lines=%v: %s\n", f.Rule, f.Severity, f.Evidence, deref(f.IRQ), deref(f.CPU), sec(f.TS), f.Weakened, f.Lines, f.Message)
		}
	}
	if b.Len() == 0 {
		return "  (no finding of that rule)"
	}
	return b.String()
}

func ruleIDs() []string {
	var out []string
	for _, r := range Default(DefaultOptions) {
		out = append(out, r.Doc().ID)
	}
	return out
}

// TestMutations plants failure modes into the real traces: the handler
// runs that follow a real migration dropped, a "No irq handler" printk on
// a torn slot right after a real vector_update, an ipi_send_cpu nobody
// receives. Each mutated text must parse with no problem and exactly the
// expected number of lines, its labels must be found, and nothing else may
// reach warning.
func TestMutations(t *testing.T) {
	type mut struct {
		name string
		fn   func([]byte, int) (*scenario.Mutation, error)
		srcs []string
	}
	qemu := []string{"../testdata/qemu-hotplug/ftrace.txt.xz", "../testdata/qemu-affinity/ftrace.txt.xz", "../testdata/qemu-iommu/ftrace.txt.xz"}
	muts := []mut{
		{"drop-after-move", scenario.DropAfterMove, qemu},
		{"torn-slot", scenario.InsertTornSlot, qemu},
		{"unanswered-ipi", scenario.InsertUnansweredIPI, append([]string{"../testdata/live/ftrace-irqinfo.txt", "../testdata/live/trace_pipe.txt"}, qemu...)},
	}
	tried := 0
	for _, mu := range muts {
		for _, src := range mu.srcs {
			if _, err := os.Stat(src); err != nil {
				continue
			}
			text := readTrace(t, src)
			orig := strings.Count(string(text), "\n")
			for pick := 0; pick < 3; pick++ {
				name := fmt.Sprintf("%s/%s/%d", mu.name, strings.TrimPrefix(src, "../testdata/"), pick)
				m, err := mu.fn(text, pick)
				if err != nil {
					t.Logf("%s: %v", name, err)
					continue
				}
				tried++
				if got, want := strings.Count(string(m.Text), "\n"), orig+m.Added-m.Dropped; got != want {
					t.Errorf("%s: %d lines, want %d (+%d -%d)", name, got, want, m.Added, m.Dropped)
				}
				a := analyze(t, m.Text, "mutated")
				if a.st.Problems != 0 || a.st.DecodeErrors != 0 {
					t.Errorf("%s: %d problems, %d decode errors: %v", name, a.st.Problems, a.st.DecodeErrors, a.st.ProblemSamples)
				}
				a.checkCitations(t)
				r := m.Check(a.asScenario(t))
				for i, l := range m.Labels {
					if r.Found[i] < 0 {
						t.Errorf("%s: missed %v\n%s", name, l, near(a, l.Rule))
					}
				}
				for _, j := range r.Extra {
					f := a.fs[j]
					t.Errorf("%s: false alarm %s %s irq=%d cpu=%d: %s", name, f.Rule, f.Severity, deref(f.IRQ), deref(f.CPU), f.Message)
				}
				t.Logf("%s: %v", name, m.Facts)
			}
		}
	}
	if tried == 0 {
		t.Skip("no real trace to mutate")
	}
}

package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/internal/scenario"
	"github.com/irqtrace/irqtrace/parse"
)

// TestRealTracesClean: the real recordings are clean runs (shared/traces:
// qemu guests under affinity writes and hotplug; testdata/live: a live
// 6.18 machine), so no rule may find anything at warning or error level.
// The one exception is trace-data-loss on a file that does hold LOST
// markers: the ring buffer really overran there, and saying so is the
// rule's job. Every finding must explain itself and cite lines that hold
// the events it rests on.
func TestRealTracesClean(t *testing.T) {
	paths := realTraces()
	if len(paths) == 0 {
		t.Skip("no real traces")
	}
	for _, p := range paths {
		t.Run(strings.TrimPrefix(p, "../"), func(t *testing.T) {
			text := readTrace(t, p)
			if _, err := parse.Parse(context.Background(), bytes.NewReader(text), p, ftrace.NewTable(), parse.Options{}); err != nil {
				// capture logs, uname.txt, latency-format output: not traces
				t.Skipf("not a trace the parser reads: %v", err)
			}
			a := analyze(t, text, filepath.Base(p))
			if a.st.Problems != 0 {
				t.Errorf("%d problem lines", a.st.Problems)
			}
			a.checkCitations(t)
			counts := map[string]int{}
			for _, f := range a.fs {
				counts[f.Rule+"/"+f.Severity.String()]++
				if os.Getenv("IRQTRACE_SHOW") != "" {
					t.Logf("%s %s irq=%d cpu=%d %s: %s %v", f.Rule, f.Severity, deref(f.IRQ), deref(f.CPU), sec(f.TS), f.Message, f.Lines)
				}
				if f.Severity < Warning {
					continue
				}
				if f.Rule == "trace-data-loss" && len(a.st.LostMarkers) > 0 {
					continue
				}
				t.Errorf("false alarm on a clean recording: %s %s irq=%d cpu=%d at %s: %s\n  %s %v",
					f.Rule, f.Severity, deref(f.IRQ), deref(f.CPU), sec(f.TS), f.Title, f.Message, f.Lines)
			}
			t.Logf("%s: %d events, findings %v", p, a.st.Events, counts)
		})
	}
}

// TestRunOrder: Run returns findings by time, then rule ID, then irq;
// fills Rule and a non-nil Lines; sets Weakened for windows over gaps.
func TestRunOrder(t *testing.T) {
	sc := scenario.Generate(catalog(t, "unhandled-storm"), 3)
	a := analyze(t, sc.Text, "storm")
	if len(a.fs) < 3 {
		t.Fatalf("want several findings, got %d", len(a.fs))
	}
	ok := sort.SliceIsSorted(a.fs, func(i, j int) bool {
		x, y := a.fs[i], a.fs[j]
		if x.TS != y.TS {
			return x.TS < y.TS
		}
		if x.Rule != y.Rule {
			return x.Rule < y.Rule
		}
		return deref(x.IRQ) < deref(y.IRQ)
	})
	if !ok {
		t.Error("findings not sorted by time, rule, irq")
	}
	for _, f := range a.fs {
		if f.Rule == "" || f.Lines == nil {
			t.Errorf("finding without rule or lines: %+v", f)
		}
	}
	// Rule order does not change the result.
	rs := Default(DefaultOptions)
	slices.Reverse(rs)
	again := Run(rs, &Input{Model: a.m, File: "storm"})
	j1, _ := json.Marshal(again)
	j2, _ := json.Marshal(a.fs)
	if !bytes.Equal(j1, j2) {
		t.Error("Run depends on the order of the rules")
	}
	// Equal times: rule ID, then irq.
	fake := []Rule{stub{"b-rule", []Finding{{TS: 5, IRQ: p32(9)}, {TS: 5, IRQ: p32(2)}}}, stub{"a-rule", []Finding{{TS: 5}, {TS: 1}}}}
	got := Run(fake, &Input{Model: a.m})
	var ids []string
	for _, f := range got {
		ids = append(ids, fmt.Sprintf("%d/%s/%d", f.TS, f.Rule, deref(f.IRQ)))
	}
	if want := "1/a-rule/-1 5/a-rule/-1 5/b-rule/2 5/b-rule/9"; strings.Join(ids, " ") != want {
		t.Errorf("order %v, want %s", ids, want)
	}
}

type stub struct {
	id string
	fs []Finding
}

func (s stub) Doc() Doc               { return Doc{ID: s.id} }
func (s stub) Check(*Input) []Finding { return append([]Finding(nil), s.fs...) }

// TestDocs: every rule documents itself, with a stable kebab-case ID.
func TestDocs(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Default(DefaultOptions) {
		d := r.Doc()
		if d.ID == "" || strings.ToLower(d.ID) != d.ID || strings.ContainsAny(d.ID, " _") || seen[d.ID] {
			t.Errorf("bad or duplicate ID %q", d.ID)
		}
		seen[d.ID] = true
		if d.Summary == "" || d.Detects == "" || d.Evidence == "" || d.Thresholds == "" || d.FalsePositives == "" {
			t.Errorf("%s: incomplete documentation %+v", d.ID, d)
		}
	}
}

func catalog(t testing.TB, name string) scenario.Generator {
	for _, g := range scenario.Catalog {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no scenario %s", name)
	return scenario.Generator{}
}

// findings returns the findings of rule in a.
func (a *analyzed) of(rule string) []Finding {
	var out []Finding
	for _, f := range a.fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// maxSeverity is the highest severity of rule's findings (-1: none).
func (a *analyzed) maxSeverity(rule string) Severity {
	m := Severity(-1)
	for _, f := range a.of(rule) {
		m = max(m, f.Severity)
	}
	return m
}

// TestPerRule: for each rule, a positive case (the planted fault gives its
// severity), a negative one (the look-alike gives nothing above info) and
// a clipped one where the rule has a window (events lost in it weaken the
// finding).
func TestPerRule(t *testing.T) {
	type tc struct {
		rule, pos, neg string
		sev            Severity
	}
	cases := []tc{
		{"spurious-vector", "torn-slot", "move-freed", Error},
		{"unhandled-irq", "unhandled-storm", "shared-irq-busy", Error},
		{"irr-retrigger", "retrigger-two-step", "move-never-freed", Info},
		{"lost-interrupt", "silent-after-move", "idle-after-move", Warning},
		{"lost-interrupt", "offline-lost", "offline-retrigger", Warning},
		{"move-never-completed", "move-never-freed", "move-freed", Warning},
		{"ipi-unanswered", "ipi-unanswered", "ipi-answered", Warning},
		{"hotplug-lost-wakeup", "hotplug-lost-wakeup", "hotplug-woken", Warning},
		{"trace-data-loss", "lost-events", "clean-busy", Warning},
	}
	for _, c := range cases {
		t.Run(c.rule+"/"+c.pos, func(t *testing.T) {
			for seed := uint64(100); seed < 103; seed++ {
				pos := analyze(t, scenario.Generate(catalog(t, c.pos), seed).Text, c.pos)
				if got := pos.maxSeverity(c.rule); got != c.sev {
					t.Errorf("seed %d: %s on %s: max severity %v, want %v\n%s", seed, c.rule, c.pos, got, c.sev, near(pos, c.rule))
				}
				neg := analyze(t, scenario.Generate(catalog(t, c.neg), seed).Text, c.neg)
				if got := neg.maxSeverity(c.rule); got > Info {
					t.Errorf("seed %d: %s on look-alike %s: %v\n%s", seed, c.rule, c.neg, got, near(neg, c.rule))
				}
			}
		})
	}
	// irr-retrigger's negative: the same moves with a window shorter than
	// any run's delay give nothing (the scenario has no hotplug).
	t.Run("irr-retrigger/late", func(t *testing.T) {
		o := DefaultOptions
		o.RetriggerWindow = 1000 // 1 us
		a := analyzeWith(t, scenario.Generate(catalog(t, "retrigger-two-step"), 7).Text, "rt", o)
		if fs := a.of("irr-retrigger"); len(fs) > 0 {
			t.Errorf("retrigger reported with a 1 us window: %s", fs[0].Message)
		}
	})
}

// TestClipped: findings whose window overlaps lost events are weakened,
// and the rules with a silence or a missing receive drop to info then.
func TestClipped(t *testing.T) {
	for seed := uint64(200); seed < 204; seed++ {
		a := analyze(t, scenario.Generate(catalog(t, "silent-after-move-clipped"), seed).Text, "clipped")
		var lost []Finding
		for _, f := range a.of("lost-interrupt") {
			if f.Weakened {
				lost = append(lost, f)
			}
		}
		if len(lost) == 0 || lost[0].Severity != Info {
			t.Errorf("seed %d: want a weakened info lost-interrupt, got\n%s", seed, near(a, "lost-interrupt"))
		}
		if a.maxSeverity("trace-data-loss") != Warning {
			t.Errorf("seed %d: the LOST marker is not reported", seed)
		}
	}
	// ipi-unanswered: lose the target's events over the send.
	sc := scenario.Generate(catalog(t, "ipi-unanswered"), 11)
	send := sc.Labels[0]
	text := loseAround(t, sc.Text, send.CPU, send.TS)
	a := analyze(t, text, "ipi-clipped")
	for _, f := range a.of("ipi-unanswered") {
		if f.Severity > Info || !f.Weakened {
			t.Errorf("unanswered IPI over lost events: %v weakened=%v: %s", f.Severity, f.Weakened, f.Message)
		}
	}
	if len(a.of("ipi-unanswered")) == 0 {
		t.Error("the send is no longer reported at all")
	}
	// move-never-completed (the cleanup runs on the old CPU) and
	// hotplug-lost-wakeup (any CPU may wake the task) have windows to the
	// end of the trace: a LOST gap in them sets Weakened.
	for _, name := range []string{"move-never-freed", "hotplug-lost-wakeup"} {
		sc := scenario.Generate(catalog(t, name), 5)
		l := sc.Labels[0]
		cpu := l.CPU
		if name == "hotplug-lost-wakeup" {
			cpu = 0 // the offlined CPU has no events to lose
		}
		text := loseAround(t, sc.Text, cpu, l.TS+500_000_000)
		a := analyze(t, text, name)
		ok := false
		for _, f := range a.of(l.Rule) {
			if f.Weakened {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s: no weakened %s finding after a LOST gap inside its window\n%s", name, l.Rule, near(a, l.Rule))
		}
	}
}

// loseAround inserts "CPU:c [LOST EVENTS]" and drops c's event lines from
// ts-5ms to ts+200ms (or, when c has no event then, the next 20 lines of
// c after ts), keeping the header count honest.
func loseAround(t *testing.T, text []byte, c int32, ts int64) []byte {
	t.Helper()
	lines := strings.Split(string(text), "\n")
	tag := fmt.Sprintf("[%03d]", c)
	var out []string
	dropped, marked := 0, false
	for _, l := range lines {
		if strings.HasPrefix(l, "#") || !strings.Contains(l, tag) {
			out = append(out, l)
			continue
		}
		lts := lineTS(l)
		if lts >= ts-5_000_000 && lts <= ts+200_000_000 {
			dropped++
			continue
		}
		if dropped > 0 && !marked {
			out = append(out, fmt.Sprintf("CPU:%d [LOST EVENTS]", c))
			marked = true
		}
		out = append(out, l)
	}
	if dropped == 0 || !marked {
		t.Fatalf("nothing to lose on CPU %d at %s", c, sec(ts))
	}
	return []byte(strings.Join(out, "\n"))
}

// lineTS reads the timestamp of an ftrace line (0 if none).
func lineTS(l string) int64 {
	i := strings.Index(l, "]")
	if i < 0 {
		return 0
	}
	f := strings.Fields(l[i+1:])
	for _, x := range f {
		if strings.HasSuffix(x, ":") && strings.Contains(x, ".") {
			var s, us int64
			if _, err := fmt.Sscanf(strings.TrimSuffix(x, ":"), "%d.%d", &s, &us); err == nil {
				return s*1e9 + us*1000
			}
		}
	}
	return 0
}

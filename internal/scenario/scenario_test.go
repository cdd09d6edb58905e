package scenario

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

// The kernel's layout (print_trace_fmt with irq-info): "%16s-%-7d [%03d] "
// then 5 flag characters, the timestamp as "%5lu.%06lu: ", the event.
var reLayout = regexp.MustCompile(`^[ -~]{16}-[0-9]+ *\[[0-9]{3}\] [dDbX.][.NnpPlLbB][.hHsSzZ][.0-9a-f][.0-9a-f] +[0-9]+\.[0-9]{6}: [a-z_0-9]+(: | <-)`)

func TestScenariosLookReal(t *testing.T) {
	for _, g := range Catalog {
		for _, seed := range []uint64{1, 2} {
			sc := Generate(g, seed)
			name := fmt.Sprintf("%s/%d", g.Name, seed)
			lines := strings.Split(strings.TrimSuffix(string(sc.Text), "\n"), "\n")
			if !strings.HasPrefix(lines[0], "# tracer: ") || !strings.HasPrefix(lines[2], "# entries-in-buffer/entries-written: ") {
				t.Errorf("%s: header %q", name, lines[:3])
			}
			last := map[string]int64{}
			offline := map[string]bool{}
			events := 0
			for i, l := range lines {
				if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "CPU:") {
					continue
				}
				if !reLayout.MatchString(l) || l[25] != '[' {
					t.Errorf("%s:%d: not the kernel's layout: %q", name, i+1, l)
					continue
				}
				events++
				cpu := l[26:29]
				var s, us int64
				fmt.Sscanf(strings.Fields(l[30:])[1], "%d.%d:", &s, &us)
				ts := s*1e9 + us*1000
				if ts < last[cpu] {
					t.Errorf("%s:%d: CPU %s goes back in time", name, i+1, cpu)
				}
				last[cpu] = ts
				// Nothing is traced on a CPU from its offline to its return.
				if m := reOfflineMsg.FindStringSubmatch(l); m != nil {
					offline[fmt.Sprintf("%03s", m[1])] = true
				}
				if offline[cpu] && !strings.Contains(l, "irq_matrix_online") {
					t.Errorf("%s:%d: event on offline CPU %s: %q", name, i+1, cpu, l)
				}
				if strings.Contains(l, "irq_matrix_online") {
					offline[cpu] = false
				}
			}
			if !strings.Contains(lines[2], fmt.Sprintf("%d/", events)) {
				t.Errorf("%s: header %q, %d events", name, lines[2], events)
			}
			st, err := parse.Parse(context.Background(), bytes.NewReader(sc.Text), name, ftrace.NewTable(), parse.Options{})
			if err != nil || st.Problems != 0 || st.DecodeErrors != 0 || st.GenericEvents != int64(len(reSchedEv.FindAllIndex(sc.Text, -1))) {
				t.Errorf("%s: parse: %v problems=%d decode=%d generic=%d", name, err, st.Problems, st.DecodeErrors, st.GenericEvents)
			}
			if !g.LookAlike && len(sc.Labels) == 0 {
				t.Errorf("%s: a failure scenario without labels", name)
			}
			for _, l := range sc.Labels {
				if SeverityRank(l.Severity) < 0 || l.Rule == "" || l.Why == "" {
					t.Errorf("%s: bad label %+v", name, l)
				}
				for _, c := range l.Cite {
					if c < 1 || int(c) > len(lines) || strings.HasPrefix(lines[c-1], "#") {
						t.Errorf("%s: label cites line %d", name, c)
					}
				}
			}
		}
	}
}

var reSchedEv = regexp.MustCompile(`: sched_(switch|waking|wakeup): `)

var reOfflineMsg = regexp.MustCompile(`console: smpboot: CPU (\d+) is now offline`)

func TestDeterministic(t *testing.T) {
	for _, g := range Catalog {
		a, b := Generate(g, 42), Generate(g, 42)
		if !bytes.Equal(a.Text, b.Text) || fmt.Sprint(a.Labels) != fmt.Sprint(b.Labels) {
			t.Errorf("%s: seed 42 gives two different scenarios", g.Name)
		}
		if c := Generate(g, 43); bytes.Equal(a.Text, c.Text) {
			t.Errorf("%s: seeds 42 and 43 give the same text", g.Name)
		}
	}
	if _, err := ByName("no-such", 1); err == nil {
		t.Error("ByName accepts an unknown name")
	}
}

func TestLabelMatches(t *testing.T) {
	irq, cpu := int32(5), int32(2)
	l := Label{Rule: "r", Severity: "warning", Max: "warning", IRQ: 5, CPU: 2, TS: 1000, Slack: 10, Cite: []int64{7}}
	f := Finding{Rule: "r", Severity: "warning", TS: 1005, IRQ: &irq, CPU: &cpu, Lines: []int64{3, 7}}
	if !l.Matches(&f) {
		t.Fatal("label does not match its finding")
	}
	for _, mod := range []func(*Finding){
		func(f *Finding) { f.Rule = "x" },
		func(f *Finding) { f.Severity = "info" },
		func(f *Finding) { f.Severity = "error" },
		func(f *Finding) { f.TS = 1011 },
		func(f *Finding) { f.IRQ = nil },
		func(f *Finding) { f.Lines = []int64{3} },
	} {
		g := f
		mod(&g)
		if l.Matches(&g) {
			t.Errorf("label matches %+v", g)
		}
	}
	sc := Scenario{Labels: []Label{l}, Ceiling: "warning"}
	other := Finding{Rule: "q", Severity: "error"}
	info := Finding{Rule: "q", Severity: "info"}
	r := sc.Check([]Finding{info, f, other})
	if r.Found[0] != 1 || len(r.Extra) != 1 || r.Extra[0] != 2 {
		t.Errorf("Check = %+v", r)
	}
}

func TestMutateGenerated(t *testing.T) {
	sc := Generate(Catalog[len(Catalog)-1], 3) // clean-busy
	for _, fn := range []func([]byte, int) (*Mutation, error){DropAfterMove, InsertTornSlot, InsertUnansweredIPI} {
		m, err := fn(sc.Text, 0)
		if err == ErrNoCandidate {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, want := bytes.Count(m.Text, []byte("\n")), bytes.Count(sc.Text, []byte("\n"))+m.Added-m.Dropped; got != want {
			t.Errorf("%s: %d lines, want %d", m.Name, got, want)
		}
		st, err := parse.Parse(context.Background(), bytes.NewReader(m.Text), m.Name, ftrace.NewTable(), parse.Options{})
		if err != nil || st.Problems != 0 {
			t.Errorf("%s: %v, %d problems", m.Name, err, st.Problems)
		}
		if len(m.Labels) != 1 || len(m.Labels[0].Cite) != 1 {
			t.Errorf("%s: labels %+v", m.Name, m.Labels)
		}
	}
}

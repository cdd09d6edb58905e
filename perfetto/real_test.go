package perfetto

// Round trips of the real qemu traces (../testdata/README.md). Parsing is
// the test's business only: the package itself never imports parse.

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/internal/tracetest"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

func loadReal(t *testing.T, scenario string) (*analysis.Model, []rules.Finding) {
	t.Helper()
	tr := tracetest.Load(t, tracetest.Real(scenario, "ftrace.txt.xz"), "ftrace.txt.xz")
	return tr.Model, rules.Run(rules.Default(rules.DefaultOptions), &rules.Input{Model: tr.Model, File: tr.Name})
}

// TestReal: everything written is read back (roundTrip), and what is read
// back accounts for the model: one slice per handler run, system vector
// run and softirq run at its exact times, one flow per migration with a
// known destination between the right assignments, one instant per
// finding, and the per-irq, hotplug and offline slices.
func TestReal(t *testing.T) {
	for _, sc := range []string{"qemu-hotplug", "qemu-affinity"} {
		t.Run(sc, func(t *testing.T) {
			m, fs := loadReal(t, sc)
			d, _ := roundTrip(t, m, fs, Options{})

			// Handler runs, exactly, per CPU.
			want := map[string]int{}
			for _, h := range m.Handlers {
				want[fmt.Sprintf("CPU %d irq [%d,%d] irq %d %s", h.CPU, h.StartNS, h.EndNS, h.IRQ, h.Name)]++
			}
			for _, s := range m.Sysvecs {
				want[fmt.Sprintf("CPU %d sysvec [%d,%d] %s", s.CPU, s.StartNS, s.EndNS, s.Name)]++
			}
			for _, s := range m.Softirqs {
				want[fmt.Sprintf("CPU %d softirq [%d,%d] softirq %s", s.CPU, s.StartNS, s.EndNS, s.Action)]++
			}
			got := map[string]int{}
			n := 0
			for _, tr := range d.tracks {
				cpu, ok := cpuTrack(tr.name)
				if !ok {
					continue
				}
				for _, s := range tr.slices {
					name := strings.TrimSuffix(s.name, " (unhandled)")
					got[fmt.Sprintf("%s %s [%d,%d] %s", cpu, s.category, s.start, s.end, name)]++
					n++
				}
			}
			if total := len(m.Handlers) + len(m.Sysvecs) + len(m.Softirqs); n != total {
				t.Errorf("%d slices on the CPU tracks, the model has %d handler + %d system vector + %d softirq runs = %d",
					n, len(m.Handlers), len(m.Sysvecs), len(m.Softirqs), total)
			}
			for k, c := range want {
				if got[k] != c {
					t.Errorf("%s: %d slices, want %d", k, got[k], c)
					break
				}
			}
			if sc == "qemu-affinity" && len(m.Softirqs) == 0 {
				t.Errorf("qemu-affinity has no softirq runs")
			}

			// Flows: one per migration with a known destination, from an
			// assignment on the old CPU to one on the new CPU of that irq.
			known, migrations := 0, 0
			for _, q := range m.IRQs {
				migrations += len(q.Migrations)
				for _, mg := range q.Migrations {
					if mg.ToCPU != nil {
						known++
					}
				}
			}
			if len(d.flows) != known || known == 0 {
				t.Errorf("%d flows, the model has %d migrations with a known destination (of %d)", len(d.flows), known, migrations)
			}
			for id, fl := range d.flows {
				if fl.src != fl.dst || !strings.HasPrefix(fl.src.name, "irq ") || fl.srcSl.end != fl.dstSl.start {
					t.Errorf("flow %d: %q %q [%d,%d] -> %q %q [%d,%d]", id, fl.src.name, fl.srcSl.name, fl.srcSl.start, fl.srcSl.end,
						fl.dst.name, fl.dstSl.name, fl.dstSl.start, fl.dstSl.end)
				}
			}

			// Instants: one per finding, in order, with its annotations.
			ft := d.find("Findings")
			if ft == nil || len(ft.instants) != len(fs) || len(fs) == 0 {
				t.Fatalf("findings track %v: want %d instants", ft, len(fs))
			}
			for i, f := range fs {
				in := ft.instants[i]
				args := map[string]string{}
				for _, a := range in.args {
					args[a.name] = a.s
				}
				if in.ts != f.TS || args["rule"] != f.Rule || args["severity"] != f.Severity.String() ||
					args["evidence"] != f.Evidence || args["message"] != f.Message {
					t.Errorf("finding %d: instant @%d %v, want %s at %d", i, in.ts, in.args, f.Rule, f.TS)
				}
			}

			// Per irq and per CPU.
			for _, q := range m.IRQs {
				if len(q.Assignments) == 0 {
					continue
				}
				name := strings.TrimSpace(fmt.Sprintf("irq %d %s", q.IRQ, q.Name))
				if tr := d.find(name); tr == nil || len(tr.slices) != len(q.Assignments) {
					t.Errorf("%s: want %d assignment slices", name, len(q.Assignments))
				}
				if tr := d.find(name + " moves"); len(q.Migrations) > 0 && (tr == nil || len(tr.slices) != len(q.Migrations)) {
					t.Errorf("%s moves: want %d slices", name, len(q.Migrations))
				}
			}
			for _, c := range m.CPUs {
				hp := d.find(fmt.Sprintf("CPU %d hotplug", c.CPU))
				if n := len(c.HotplugSteps) + len(c.TakeDowns) + len(c.BringUps); n > 0 && (hp == nil || len(hp.slices)+len(hp.instants) != n) {
					t.Errorf("CPU %d hotplug: want %d slices and instants", c.CPU, n)
				}
				if off := d.find(fmt.Sprintf("CPU %d offline", c.CPU)); len(c.OfflineIntervals) > 0 && (off == nil || len(off.slices) != len(c.OfflineIntervals)) {
					t.Errorf("CPU %d offline: want %d slices", c.CPU, len(c.OfflineIntervals))
				}
				// The availability counter repeats the kernel's avl= of every
				// irq_matrix event about this CPU, in order.
				var want []int64
				for _, p := range m.MatrixPoints {
					if p.CPU == c.CPU {
						want = append(want, int64(p.Avl))
					}
				}
				av := d.find(fmt.Sprintf("CPU %d vectors available (irq_matrix)", c.CPU))
				switch {
				case len(want) == 0 && av != nil:
					t.Errorf("CPU %d: availability track without irq_matrix events", c.CPU)
				case len(want) > 0 && (av == nil || len(av.points) != len(want)):
					t.Errorf("CPU %d vectors available: want %d points", c.CPU, len(want))
				case len(want) > 0:
					for i, p := range av.points {
						if p.value != want[i] {
							t.Errorf("CPU %d vectors available point %d = %d, kernel printed avl=%d", c.CPU, i, p.value, want[i])
							break
						}
					}
				}
				// The counter ends at the slots still owned at the end.
				open := int64(0)
				for _, s := range m.Slots {
					if s.CPU == c.CPU && s.EndNS == nil {
						open++
					}
				}
				if ct := d.find(fmt.Sprintf("CPU %d vectors allocated", c.CPU)); ct != nil {
					for _, p := range ct.points {
						if p.value < 0 {
							t.Errorf("CPU %d vectors allocated: %d at %d", c.CPU, p.value, p.ts)
						}
					}
					if last := ct.points[len(ct.points)-1].value; last != open {
						t.Errorf("CPU %d vectors allocated ends at %d, %d slots are open at the end", c.CPU, last, open)
					}
				}
			}
			for _, tr := range d.tracks {
				if strings.Contains(tr.name, "(overlapping") {
					t.Errorf("track %q: slices that do not nest in a real trace", tr.name)
				}
			}
		})
	}
}

var cpuTrackName = regexp.MustCompile(`^(CPU [0-9]+)(?: \(overlapping [0-9]+\))?$`)

// cpuTrack returns "CPU N" for the handler track of CPU N (or one of its
// overlap tracks).
func cpuTrack(name string) (string, bool) {
	if m := cpuTrackName.FindStringSubmatch(name); m != nil {
		return m[1], true
	}
	return "", false
}

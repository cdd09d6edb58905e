package plots_test

import (
	"bytes"
	"fmt"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/plots"
)

// largeModel is a synthetic machine of 64 CPUs and 500 irqs, each irq
// moving a few times and every CPU going offline once, to check that the
// plots aggregate instead of overlapping labels.
func largeModel() *analysis.Model {
	rng := rand.New(rand.NewPCG(1, 2))
	p32 := func(v int32) *int32 { return &v }
	p64 := func(v int64) *int64 { return &v }
	m := &analysis.Model{File: "synthetic-64cpu-500irq", FirstNS: 0, LastNS: 60e9}
	for c := int32(0); c < 64; c++ {
		off := int64(5e9 + int64(c)*700e6)
		cpu := &analysis.CPU{CPU: c, OfflineIntervals: [][2]*int64{{p64(off), p64(off + 300e6)}}}
		for i, cb := range []string{"sched_cpu_deactivate", "workqueue_offline_cpu", "takedown_cpu", "bringup_cpu", "sched_cpu_activate"} {
			down := i < 3
			ts := off - 100e6 + int64(i)*30e6
			if !down {
				ts = off + 300e6 + int64(i)*20e6
			}
			cpu.HotplugSteps = append(cpu.HotplugSteps, analysis.HotplugStep{TS: ts, Callback: cb, Step: int32(200 - i*30),
				DurationNS: p64(int64(1e3 + rng.ExpFloat64()*1e6)), Down: down})
		}
		m.CPUs = append(m.CPUs, cpu)
	}
	for q := int32(0); q < 500; q++ {
		irq := &analysis.IRQ{IRQ: 24 + q, Name: fmt.Sprintf("mlx5_comp%d@pci:0000:81:00.0", q), Class: analysis.ClassManaged}
		ts := int64(0)
		cpu := q % 64
		for k := 0; k < 1+int(q%4); k++ {
			end := ts + int64(rng.IntN(20e9)) + 1e9
			a := analysis.Assignment{CPU: p32(cpu), Vector: p32(33 + q%200), StartNS: ts, EndNS: p64(end)}
			irq.Assignments = append(irq.Assignments, a)
			m.Slots = append(m.Slots, analysis.SlotOwner{CPU: cpu, Vector: 33 + q%200, IRQ: irq.IRQ, StartNS: ts, EndNS: p64(end), State: "owned"})
			next := int32(rng.IntN(64))
			irq.Migrations = append(irq.Migrations, analysis.Migration{TS: end, FromCPU: cpu, ToCPU: p32(next), CompletedNS: p64(end + 2e6), Completion: analysis.CompletionFreeMoved})
			cpu, ts = next, end
		}
		for i := 0; i < 50; i++ {
			s := int64(rng.IntN(59e9))
			m.Handlers = append(m.Handlers, analysis.Invocation{IRQ: irq.IRQ, Name: irq.Name, CPU: cpu, StartNS: s, EndNS: s + int64(500+rng.ExpFloat64()*20e3)})
		}
		irq.HandlerCount = 50
		m.IRQs = append(m.IRQs, irq)
	}
	return m
}

func TestLargeMachine(t *testing.T) {
	m := largeModel()
	for _, kind := range plots.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			var b bytes.Buffer
			if err := plots.Write(&b, "png", kind, m, plots.Options{Trace: m.File}); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if h := img.Bounds().Dy(); h > 2000 {
				t.Errorf("%s is %d pixels high: the plot should aggregate, not grow", kind, h)
			}
			if *keep != "" {
				writeKeep(t, "large."+string(kind)+".png", b.Bytes())
			}
		})
	}
}

package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/analysis"
)

// histSynthetic is a small model with known handler durations, a system
// vector, one hotplug cycle of CPU 1 and two vector slots.
func histSynthetic() *analysis.Model {
	m := &analysis.Model{File: "synthetic.ftrace", FirstNS: 0, LastNS: 10_000_000_000}
	ts := int64(1_000_000_000)
	// irq 30: 100 runs of 10..1000 us; irq 31: 3 runs.
	for i := int64(1); i <= 100; i++ {
		d := i * i * 100_000 / 1000
		m.Handlers = append(m.Handlers, analysis.Invocation{IRQ: 30, Name: "eth0", StartNS: ts, EndNS: ts + d})
		ts += 10_000_000
	}
	for _, d := range []int64{2_000, 3_000, 70_000} {
		m.Handlers = append(m.Handlers, analysis.Invocation{IRQ: 31, Name: "nvme0q1", StartNS: ts, EndNS: ts + d})
	}
	for i := int64(0); i < 20; i++ {
		m.Sysvecs = append(m.Sysvecs, analysis.Invocation{Name: "local_timer", StartNS: ts, EndNS: ts + 500 + i*40})
	}
	d := func(v int64) *int64 { return &v }
	m.CPUs = []*analysis.CPU{{CPU: 1, OfflineIntervals: [][2]*int64{{d(5_100_000_000), d(6_000_000_000)}},
		HotplugSteps: []analysis.HotplugStep{
			{TS: 5_000_000_000, Callback: "sched_cpu_deactivate", Step: 235, Target: 0, DurationNS: d(60_000_000), Down: true},
			{TS: 5_060_000_000, Callback: "blk_mq_hctx_notify_offline", Step: 159, Target: 0, DurationNS: d(10_000), Down: true, Multi: true},
			{TS: 5_060_010_000, Callback: "blk_mq_hctx_notify_offline", Step: 159, Target: 0, DurationNS: d(5_000), Down: true, Multi: true},
			{TS: 6_000_000_000, Callback: "bringup_cpu", Step: 91, Target: 239, DurationNS: d(40_000_000)},
		}}}
	cpu := int32(1)
	m.Slots = []analysis.SlotOwner{
		{CPU: cpu, Vector: 33, IRQ: 30, StartNS: 1_000_000_000, EndNS: d(5_100_000_000), State: "owned"},
		{CPU: cpu, Vector: 34, IRQ: 31, StartNS: 2_000_000_000, EndNS: d(2_000_005_000), State: "moving"},
	}
	return m
}

func TestHistText(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(*bytes.Buffer) error
	}{
		{"latency", func(b *bytes.Buffer) error { return HistLatency(b, histSynthetic(), HistOptions{}) }},
		{"latency-irq31", func(b *bytes.Buffer) error {
			return HistLatency(b, histSynthetic(), HistOptions{IRQs: []int32{31}})
		}},
		{"latency-top1", func(b *bytes.Buffer) error { return HistLatency(b, histSynthetic(), HistOptions{Top: 1}) }},
		{"hotplug", func(b *bytes.Buffer) error { return HistHotplug(b, histSynthetic(), HistOptions{}) }},
		{"occupancy", func(b *bytes.Buffer) error { return HistOccupancy(b, histSynthetic(), HistOptions{}) }},
		{"empty", func(b *bytes.Buffer) error { return HistLatency(b, &analysis.Model{File: "empty"}, HistOptions{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tc.fn(&b); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "hist."+tc.name+".golden", b.Bytes())
			for i, l := range strings.Split(b.String(), "\n") {
				if len(l) > 80 {
					t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
				}
			}
		})
	}
}

package analysis

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestDiffPercent(t *testing.T) {
	for _, tc := range []struct {
		b, a int64
		want float64
		ok   bool
	}{{100, 150, 50, true}, {200, 100, -50, true}, {0, 5, 0, false}, {10, 10, 0, true}} {
		got, ok := DiffPercent(tc.b, tc.a)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DiffPercent(%d, %d) = %v, %v; want %v, %v", tc.b, tc.a, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDiffFindings(t *testing.T) {
	k := func(rule, subj string) DiffFindingKey { return DiffFindingKey{rule, subj} }
	got := DiffFindings(
		[]DiffFindingKey{k("lost-interrupt", "virtio4-req.0"), k("lost-interrupt", "virtio4-req.0"), k("unhandled-irq", "ttyS0")},
		[]DiffFindingKey{k("unhandled-irq", "ttyS0"), k("spurious-vector", "cpu 2")})
	want := []DiffFindingCount{
		{k("lost-interrupt", "virtio4-req.0"), DiffCount{2, 0}},
		{k("spurious-vector", "cpu 2"), DiffCount{0, 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DiffFindings = %v, want %v", got, want)
	}
}

func TestDiffIRQKey(t *testing.T) {
	if got := DiffIRQKey(35, "virtio2-virtqueues", 1); got != "virtio2-virtqueues" {
		t.Errorf("unique name: %q", got)
	}
	if got := DiffIRQKey(35, "eth0", 2); got != "irq 35" {
		t.Errorf("shared name: %q", got)
	}
	if got := DiffIRQKey(44, "", 1); got != "irq 44" {
		t.Errorf("no name: %q", got)
	}
}

// TestCompareGolden dumps the comparison of two real scenarios (irq
// numbers differ between their boots: irqs are matched by name).
func TestCompareGolden(t *testing.T) {
	b := loadTrace(t, "../testdata/qemu-hotplug/ftrace.txt.xz").m
	a := loadTrace(t, "../testdata/qemu-iommu/ftrace.txt.xz").m
	d := Compare(b, a)
	var s strings.Builder
	fmt.Fprintf(&s, "before %+v\nafter %+v\n", d.Before, d.After)
	lat := func(l *Latency) string {
		if l == nil {
			return "none"
		}
		irq := ""
		if l.IRQ != nil {
			irq = fmt.Sprintf(" irq=%d", *l.IRQ)
		}
		return fmt.Sprintf("n=%d p50=%d p99=%d p99.9=%d max=%d%s", l.Count, l.P50, l.P99, l.P999, l.Max, irq)
	}
	for _, l := range d.Latencies {
		fmt.Fprintf(&s, "%s %q: %s | %s\n", l.Kind, l.Key, lat(l.Before), lat(l.After))
	}
	for _, m := range d.Migrations {
		fmt.Fprintf(&s, "migrations %q: traced %v inferred %v never %v\n", m.Key, m.Traced, m.Inferred, m.Never)
	}
	for _, w := range d.Windows {
		fmt.Fprintf(&s, "window down=%v count %v p50 %v max %v\n", w.Down, w.Count, w.P50, w.Max)
	}
	for _, h := range d.Hotplug {
		st := func(x *HotplugStepStats) string {
			if x == nil {
				return "none"
			}
			return fmt.Sprintf("cycles=%d p50=%d max=%d", x.Cycles, x.P50, x.Max)
		}
		fmt.Fprintf(&s, "state down=%v %d %s: %s | %s\n", h.Down, h.Step, h.Callback, st(h.Before), st(h.After))
	}
	golden(t, "diff-qemu-hotplug-vs-iommu.golden", []byte(s.String()))
}

package analysis

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestHistLog2(t *testing.T) {
	us := HistUnit{"usecs", 1000}
	for _, tc := range []struct {
		name string
		in   []int64
		u    HistUnit
		want []HistBucket
	}{
		{"empty", nil, us, nil},
		{"zero and one share a bucket", []int64{0, 999, 1000, 1999}, us, []HistBucket{{0, 1, 4}}},
		{"bucket edges", []int64{2000, 3999, 4000, 7999, 8000}, us, []HistBucket{{2, 3, 2}, {4, 7, 2}, {8, 15, 1}}},
		{"inner empty buckets kept", []int64{1000, 9000}, us, []HistBucket{{0, 1, 1}, {2, 3, 0}, {4, 7, 0}, {8, 15, 1}}},
		{"negative counts as zero", []int64{-5}, HistUnit{"nsecs", 1}, []HistBucket{{0, 1, 1}}},
		{"ticks", []int64{3, 5}, HistUnit{"ticks", 1}, []HistBucket{{2, 3, 1}, {4, 7, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HistLog2(tc.in, tc.u); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("HistLog2(%v) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestHistUnitFor(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		raw  bool
		want string
	}{
		{[]int64{100, 200, 5000}, false, "nsecs"},
		{[]int64{1000, 2000}, false, "usecs"},
		{[]int64{10_000_000, 20_000_000}, false, "msecs"},
		{[]int64{10_000_000}, true, "ticks"},
		{nil, false, "usecs"},
	} {
		if got := HistUnitFor(tc.in, tc.raw).Name; got != tc.want {
			t.Errorf("HistUnitFor(%v, %v) = %s, want %s", tc.in, tc.raw, got, tc.want)
		}
	}
}

func TestHistLogBins(t *testing.T) {
	bins, zeros := HistLogBins([]int64{0, 1, 9, 10, 999, 1000}, 1, 1)
	if zeros != 1 {
		t.Errorf("zeros = %d, want 1", zeros)
	}
	var got []string
	for _, b := range bins {
		got = append(got, fmt.Sprintf("[%g,%g):%d", b.Lo, b.Hi, b.Count))
	}
	want := "[1,10):3 [10,100):1 [100,1000):1 [1000,10000):1"
	if strings.Join(got, " ") != want {
		t.Errorf("HistLogBins = %s, want %s", strings.Join(got, " "), want)
	}
}

func TestHistResolution(t *testing.T) {
	for _, tc := range []struct {
		in   []int64
		want int64
	}{
		{[]int64{0, 1000, 25000}, 1000}, {[]int64{0, 1500}, 100}, {[]int64{30, 40}, 10}, {[]int64{1001}, 1}, {nil, 1000},
	} {
		if got := HistResolution(tc.in); got != tc.want {
			t.Errorf("HistResolution(%v) = %d, want %d", tc.in, got, tc.want)
		}
	}
	if got := HistZeroAt([]int64{0, 3000}); got != 500 {
		t.Errorf("HistZeroAt = %d, want 500", got)
	}
	bins, zeros := HistLogBins([]int64{0, 0, 1000}, 1, 500)
	if zeros != 2 || len(bins) != 2 || bins[0].Lo != 100 || bins[0].Count != 2 {
		t.Errorf("zeros at 500: bins %v, zeros %d", bins, zeros)
	}
}

func TestHistCDF(t *testing.T) {
	got := HistCDF([]int64{1, 1, 2, 3}, 10)
	want := []CDFPoint{{1, .5}, {2, .75}, {3, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("HistCDF = %v, want %v", got, want)
	}
	var many []int64
	for i := range int64(10000) {
		many = append(many, i)
	}
	pts := HistCDF(many, 100)
	if len(pts) > 100 || pts[len(pts)-1] != (CDFPoint{9999, 1}) {
		t.Errorf("thinned CDF has %d points, last %v; want <= 100 ending at the max", len(pts), pts[len(pts)-1])
	}
	tail := 0
	for _, p := range pts {
		if p.Frac >= .99 {
			tail++
		}
	}
	if tail < 40 {
		t.Errorf("thinned CDF keeps %d points in the top 1%%, want the tail's detail (>= 40)", tail)
	}
}

func TestHistMarks(t *testing.T) {
	l := newLatency("irq", "x", nil, []int64{10, 20, 30})
	var got []string
	for _, m := range HistMarks(l) {
		got = append(got, fmt.Sprintf("%s=%d@%.3f", m.Label, m.Value, m.Frac))
	}
	// With 3 samples p99, p99.9 and max coincide: one label.
	want := "p50=20@0.667 p99=p99.9=max=30@1.000"
	if strings.Join(got, " ") != want {
		t.Errorf("HistMarks = %s, want %s", strings.Join(got, " "), want)
	}
}

// TestHistGolden dumps the numbers behind each plot kind for real traces.
func TestHistGolden(t *testing.T) {
	for _, tc := range []struct{ name, path string }{
		{"qemu-hotplug-ftrace", "../testdata/qemu-hotplug/ftrace.txt.xz"},
		{"qemu-affinity-ftrace", "../testdata/qemu-affinity/ftrace.txt.xz"},
		{"live-irqinfo", "../testdata/live/ftrace-irqinfo.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := loadTrace(t, tc.path).m
			golden(t, "hist-"+tc.name+".latency.golden", []byte(histDumpLatency(m)))
			golden(t, "hist-"+tc.name+".timeline.golden", []byte(histDumpTimeline(m)))
			golden(t, "hist-"+tc.name+".occupancy.golden", []byte(histDumpOccupancy(m)))
			golden(t, "hist-"+tc.name+".hotplug.golden", []byte(histDumpHotplug(m)))
		})
	}
}

func histDumpLatency(m *Model) string {
	var b strings.Builder
	ls := m.Latencies()
	for _, kind := range []string{"irq", "sysvec", "softirq", "ipi"} {
		top, omitted := HistTop(ls, kind, 3, nil)
		fmt.Fprintf(&b, "kind %s: %d shown, %d omitted\n", kind, len(top), omitted)
		for _, l := range top {
			fmt.Fprintf(&b, "  %s: n=%d p50=%d p99=%d p99.9=%d max=%d\n", l.Name, l.Count, l.P50, l.P99, l.P999, l.Max)
			u := HistUnitFor(l.Values, false)
			fmt.Fprintf(&b, "    log2 (%s):", u.Name)
			for _, h := range HistLog2(l.Values, u) {
				fmt.Fprintf(&b, " %d-%d:%d", h.Lo, h.Hi, h.Count)
			}
			bins, zeros := HistLogBins(l.Values, 5, HistZeroAt(l.Values))
			fmt.Fprintf(&b, "\n    bins/decade=5 zeros=%d:", zeros)
			for _, h := range bins {
				fmt.Fprintf(&b, " %.4g:%d", h.Lo, h.Count)
			}
			b.WriteString("\n    cdf:")
			for _, p := range HistCDF(l.Values, 12) {
				fmt.Fprintf(&b, " %d:%.4f", p.Value, p.Frac)
			}
			b.WriteString("\n    marks:")
			for _, mk := range HistMarks(l) {
				fmt.Fprintf(&b, " %s=%d@%.4f", mk.Label, mk.Value, mk.Frac)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func histDumpTimeline(m *Model) string {
	var b strings.Builder
	lanes, omitted := TimelineLanes(m, nil, 6)
	fmt.Fprintf(&b, "lanes %d, omitted %d\n", len(lanes), omitted)
	for _, l := range lanes {
		fmt.Fprintf(&b, "irq %d %s (%s): %d handlers, %d migrations\n", l.IRQ, l.Name, l.Class, l.Handlers, l.Migrations)
		for _, s := range l.Segments {
			fmt.Fprintf(&b, "  on %s %s..%s inferred=%v clipped=%v\n", slotOf(s.CPU, s.Vector), secs(s.StartNS), secs(s.EndNS), s.Inferred, s.Clipped)
		}
		for _, mv := range l.Moves {
			fmt.Fprintf(&b, "  move %s..%s %s inferred=%v\n", secs(mv.TS), secs(mv.EndNS), mv.Completion, mv.Inferred)
		}
	}
	for _, s := range OfflineSpans(m) {
		fmt.Fprintf(&b, "offline cpu %d %s..%s open=%v/%v\n", s.CPU, secs(s.StartNS), secs(s.EndNS), s.OpenStart, s.OpenEnd)
	}
	return b.String()
}

func histDumpOccupancy(m *Model) string {
	var b strings.Builder
	for _, o := range VectorOccupancy(m) {
		fmt.Fprintf(&b, "cpu %d: peak %d, %d steps, %d offline intervals\n", o.CPU, o.Peak, len(o.Steps), len(o.Offline))
		for _, s := range o.Steps {
			fmt.Fprintf(&b, "  %s owned=%d managed=%d moving=%d\n", secs(s.TS), s.Owned, s.Managed, s.Moving)
		}
	}
	return b.String()
}

func histDumpHotplug(m *Model) string {
	var b strings.Builder
	cycles := HotplugCycles(m)
	for _, c := range cycles {
		dir := "up"
		if c.Down {
			dir = "down"
		}
		var total int64
		for _, s := range c.Steps {
			total += s.DurationNS
		}
		fmt.Fprintf(&b, "cpu %d %s #%d at %s: %d states, window %d ns, sum of states %d ns\n",
			c.CPU, dir, c.N, secs(c.StartNS), len(c.Steps), c.EndNS-c.StartNS, total)
	}
	for _, s := range HotplugStepSummary(cycles) {
		fmt.Fprintf(&b, "state down=%v %d %s: cycles %d p50 %d max %d sum %d\n", s.Down, s.Step, s.Callback, s.Cycles, s.P50, s.Max, s.Sum)
	}
	return b.String()
}

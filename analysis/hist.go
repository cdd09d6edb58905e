package analysis

import (
	"math"
	"math/bits"
	"sort"
)

// This file computes the numbers behind irqtrace's plots and text
// histograms (package plots draws them, package report prints them):
// histogram buckets, CDF points and percentile marks of a Latency, the
// per-CPU vector occupancy over time, the lanes of the migration timeline
// and the cpuhp step durations of each hotplug cycle. Every function is a
// pure function of the Model's exported fields; durations and instants are
// in the recording's unit (ns, or raw counter ticks for such clocks).

// HistBucket is one bucket of a log2 histogram in bcc's print_log2_hist
// style: Count samples whose value in the histogram's unit lies in
// [Lo, Hi], both inclusive (0 -> 1, 2 -> 3, 4 -> 7, ...).
type HistBucket struct {
	Lo, Hi int64
	Count  int
}

// HistUnit is the unit a text histogram counts in.
type HistUnit struct {
	Name string // "nsecs", "usecs", "msecs" or "ticks"
	NS   int64  // length of one unit in the recording's unit
}

// HistUnitFor picks the unit of a text histogram of sorted: usecs unless
// the median is below 1 us (nsecs) or at least 10 ms (msecs), bcc's
// choices. raw recordings count in ticks.
func HistUnitFor(sorted []int64, raw bool) HistUnit {
	switch {
	case raw:
		return HistUnit{"ticks", 1}
	case len(sorted) == 0:
		return HistUnit{"usecs", 1000}
	}
	switch p50 := Quantile(sorted, .5); {
	case p50 < 1000:
		return HistUnit{"nsecs", 1}
	case p50 >= 10_000_000:
		return HistUnit{"msecs", 1_000_000}
	}
	return HistUnit{"usecs", 1000}
}

// HistLog2 buckets the samples by powers of two of u (a value v falls in
// bucket bits.Len(v/u.NS), with 0 and 1 sharing the first), from the first
// non-empty bucket to the last. Negative samples count as 0.
func HistLog2(samples []int64, u HistUnit) []HistBucket {
	if len(samples) == 0 || u.NS <= 0 {
		return nil
	}
	var counts [65]int
	lo, hi := 64, 0
	for _, v := range samples {
		i := 1
		if v > 0 {
			i = max(1, bits.Len64(uint64(v/u.NS)))
		}
		counts[i]++
		lo, hi = min(lo, i), max(hi, i)
	}
	out := make([]HistBucket, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		b := HistBucket{Lo: int64(1) << (i - 1), Hi: int64(1)<<i - 1, Count: counts[i]}
		if i == 1 {
			b.Lo = 0
		}
		if i == 64 {
			b.Hi = math.MaxInt64
		}
		out = append(out, b)
	}
	return out
}

// HistBin is one bin of a histogram on a logarithmic axis: Count samples
// in [Lo, Hi).
type HistBin struct {
	Lo, Hi float64
	Count  int
}

// HistLogBins bins the samples into perDecade bins per power of ten
// (bin k is [10^(k/p), 10^((k+1)/p))), from the first non-empty bin to the
// last. Samples below 1 (a duration below the clock's resolution reads
// 0) cannot be shown on a log axis: they are counted at zeroAt (>= 1; see
// HistResolution), and zeros says how many there were.
func HistLogBins(samples []int64, perDecade int, zeroAt int64) (out []HistBin, zeros int) {
	if len(samples) == 0 || perDecade <= 0 {
		return nil, 0
	}
	p := float64(perDecade)
	idx := func(v int64) int {
		// The small epsilon keeps exact powers of ten (whose logarithm
		// float64 may round down) in the bin they start.
		return int(math.Floor(math.Log10(float64(v))*p + 1e-9))
	}
	counts := map[int]int{}
	lo, hi := math.MaxInt, math.MinInt
	for _, v := range samples {
		if v < 1 {
			zeros++
			v = max(1, zeroAt)
		}
		i := idx(v)
		counts[i]++
		lo, hi = min(lo, i), max(hi, i)
	}
	for i := lo; i <= hi; i++ {
		out = append(out, HistBin{Lo: math.Pow(10, float64(i)/p), Hi: math.Pow(10, float64(i+1)/p), Count: counts[i]})
	}
	return out, zeros
}

// HistResolution returns the resolution of samples: the largest of 1000,
// 100, 10 and 1 that divides every sample. Durations from a trace printed
// with microsecond timestamps are whole microseconds (1000), and their
// zeros mean "less than 1 us".
func HistResolution(samples []int64) int64 {
	for _, r := range []int64{1000, 100, 10} {
		ok := true
		for _, v := range samples {
			if v%r != 0 {
				ok = false
				break
			}
		}
		if ok {
			return r
		}
	}
	return 1
}

// HistZeroAt is where HistLogBins puts zero samples: half the resolution
// of samples (500 ns for microsecond traces), at least 1.
func HistZeroAt(samples []int64) int64 { return max(1, HistResolution(samples)/2) }

// CDFPoint says that a fraction Frac of the samples is at most Value.
type CDFPoint struct {
	Value int64
	Frac  float64
}

// HistCDF returns the empirical CDF of sorted samples: one point per
// distinct value, thinned to at most maxPoints (>= 2) by keeping evenly
// spaced ranks plus every point at or above the 99th percentile rank and
// the maximum, so that the tail keeps its detail.
func HistCDF(sorted []int64, maxPoints int) []CDFPoint {
	n := len(sorted)
	if n == 0 {
		return nil
	}
	var all []CDFPoint
	for i := 0; i < n; i++ {
		if i+1 < n && sorted[i+1] == sorted[i] {
			continue
		}
		all = append(all, CDFPoint{sorted[i], float64(i+1) / float64(n)})
	}
	if maxPoints < 2 || len(all) <= maxPoints {
		return all
	}
	// At most half the points go to the top 1%, the rest to the body.
	tail := sort.Search(len(all), func(i int) bool { return all[i].Frac >= .99 })
	nt := min(len(all)-tail, maxPoints/2)
	out := histThin(all[:tail], maxPoints-nt)
	return append(out, histThin(all[tail:], nt)...)
}

// histThin keeps k (>= 1 when pts is not empty) evenly spaced points of
// pts, the last one included.
func histThin(pts []CDFPoint, k int) []CDFPoint {
	if len(pts) <= k {
		return pts
	}
	k = max(k, 1)
	out := make([]CDFPoint, 0, k)
	for i := 1; i <= k; i++ {
		out = append(out, pts[i*len(pts)/k-1])
	}
	return out
}

// HistMark is a percentile marked on a plot: Label names it ("p50",
// "p99", "p99.9", "max", or several joined by "=" when they coincide),
// Value is its value and Frac the CDF at that value.
type HistMark struct {
	Label string
	Value int64
	Frac  float64
}

// HistMarks returns the p50, p99, p99.9 and max marks of l, merging marks
// with equal values ("p99.9=max") so that their labels do not overlap.
func HistMarks(l Latency) []HistMark {
	if l.Count == 0 {
		return nil
	}
	in := []struct {
		label string
		v     int64
	}{{"p50", l.P50}, {"p99", l.P99}, {"p99.9", l.P999}, {"max", l.Max}}
	var out []HistMark
	for _, m := range in {
		if k := len(out) - 1; k >= 0 && out[k].Value == m.v {
			out[k].Label += "=" + m.label
			continue
		}
		// The CDF at v: the fraction of samples at or below it.
		at := sort.Search(len(l.Values), func(i int) bool { return l.Values[i] > m.v })
		out = append(out, HistMark{Label: m.label, Value: m.v, Frac: float64(at) / float64(max(1, len(l.Values)))})
	}
	return out
}

// HistTop returns the first n latencies of kind in ls (Latencies orders
// each kind by total time, largest first), or those of the given irqs
// when irqs is not empty, and how many of the kind were left out.
func HistTop(ls []Latency, kind string, n int, irqs []int32) (top []Latency, omitted int) {
	want := map[int32]bool{}
	for _, q := range irqs {
		want[q] = true
	}
	for _, l := range ls {
		if l.Kind != kind {
			continue
		}
		if len(want) > 0 && (l.IRQ == nil || !want[*l.IRQ]) {
			continue
		}
		if n > 0 && len(top) >= n {
			omitted++
			continue
		}
		top = append(top, l)
	}
	return top, omitted
}

// OccupancyStep is the state of one CPU's vector table from TS until the
// next step: Owned slots (an irq targets the vector), of which Managed
// belong to managed irqs, and Moving slots (the old vector of a move in
// progress, still reserved).
type OccupancyStep struct {
	TS      int64
	Owned   int
	Managed int
	Moving  int
}

// Allocated is the number of vectors in use: owned plus moving.
func (s OccupancyStep) Allocated() int { return s.Owned + s.Moving }

// CPUOccupancy is the vector occupancy of one CPU over the trace, from the
// model's Slots: only vectors the trace shows being assigned (slots of
// irqs first seen in use, whose vector is unknown, are not counted).
type CPUOccupancy struct {
	CPU   int32
	Steps []OccupancyStep // the first at the trace's start, the last at its end
	Peak  int             // the largest Allocated
	// Offline are the CPU's offline intervals, clipped to the trace.
	Offline [][2]int64
}

// VectorOccupancy returns the occupancy of every CPU that has slots or
// went offline, by CPU number.
func VectorOccupancy(m *Model) []CPUOccupancy {
	managed := map[int32]bool{}
	for _, q := range m.IRQs {
		managed[q.IRQ] = q.Class == ClassManaged
	}
	type change struct {
		ts                 int64
		owned, mgd, moving int
	}
	byCPU := map[int32][]change{}
	for _, s := range m.Slots {
		end := m.LastNS
		if s.EndNS != nil {
			end = *s.EndNS
		}
		start := max(s.StartNS, m.FirstNS)
		if end < start {
			continue
		}
		var c change
		if s.State == "moving" {
			c.moving = 1
		} else {
			c.owned = 1
			if managed[s.IRQ] {
				c.mgd = 1
			}
		}
		byCPU[s.CPU] = append(byCPU[s.CPU], change{start, c.owned, c.mgd, c.moving})
		if s.EndNS != nil {
			byCPU[s.CPU] = append(byCPU[s.CPU], change{end, -c.owned, -c.mgd, -c.moving})
		}
	}
	offline := map[int32][][2]int64{}
	for _, c := range m.CPUs {
		for _, iv := range c.OfflineIntervals {
			s, e := m.FirstNS, m.LastNS
			if iv[0] != nil {
				s = max(s, *iv[0])
			}
			if iv[1] != nil {
				e = min(e, *iv[1])
			}
			if e >= s {
				offline[c.CPU] = append(offline[c.CPU], [2]int64{s, e})
			}
		}
		if _, ok := byCPU[c.CPU]; !ok && len(offline[c.CPU]) > 0 {
			byCPU[c.CPU] = nil
		}
	}
	var out []CPUOccupancy
	for cpu, cs := range byCPU {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].ts < cs[j].ts })
		o := CPUOccupancy{CPU: cpu, Offline: offline[cpu]}
		cur := OccupancyStep{TS: m.FirstNS}
		for i, c := range cs {
			if c.ts > cur.TS && (len(o.Steps) == 0 || o.Steps[len(o.Steps)-1] != cur) {
				o.Steps = append(o.Steps, cur)
			}
			cur.TS = c.ts
			cur.Owned += c.owned
			cur.Managed += c.mgd
			cur.Moving += c.moving
			if i+1 == len(cs) || cs[i+1].ts != c.ts {
				o.Peak = max(o.Peak, cur.Allocated())
			}
		}
		o.Steps = append(o.Steps, cur)
		if last := o.Steps[len(o.Steps)-1]; last.TS < m.LastNS {
			last.TS = m.LastNS
			o.Steps = append(o.Steps, last)
		}
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CPU < out[j].CPU })
	return out
}

// TimelineSegment is one interval during which an irq targeted CPU
// (and Vector; either is nil while unknown).
type TimelineSegment struct {
	StartNS, EndNS int64
	CPU, Vector    *int32
	Inferred       bool // the move that began it was inferred
	Clipped        bool // it began before the trace
}

// TimelineMove is one migration: from TS until EndNS the move was in
// progress (the old vector still reserved); EndNS is the trace's end for
// a move that never completed.
type TimelineMove struct {
	TS, EndNS  int64
	Completion string
	Inferred   bool
}

// TimelineLane is one irq's lane of the migration timeline.
type TimelineLane struct {
	IRQ        int32
	Name       string
	Class      string
	Handlers   int64
	Migrations int
	Segments   []TimelineSegment
	Moves      []TimelineMove
}

// TimelineLanes returns the lanes of the given irqs (in the given order),
// or when irqs is empty the top n irqs by number of migrations, then
// handler runs, then irq number (n <= 0: all), and how many irqs with
// assignments were left out.
func TimelineLanes(m *Model, irqs []int32, n int) (lanes []TimelineLane, omitted int) {
	var qs []*IRQ
	if len(irqs) > 0 {
		byNum := map[int32]*IRQ{}
		for _, q := range m.IRQs {
			byNum[q.IRQ] = q
		}
		for _, i := range irqs {
			if q := byNum[i]; q != nil {
				qs = append(qs, q)
			}
		}
	} else {
		for _, q := range m.IRQs {
			if len(q.Assignments) > 0 {
				qs = append(qs, q)
			}
		}
		sort.SliceStable(qs, func(i, j int) bool {
			a, b := qs[i], qs[j]
			if len(a.Migrations) != len(b.Migrations) {
				return len(a.Migrations) > len(b.Migrations)
			}
			if a.HandlerCount != b.HandlerCount {
				return a.HandlerCount > b.HandlerCount
			}
			return a.IRQ < b.IRQ
		})
		if n > 0 && len(qs) > n {
			omitted = len(qs) - n
			qs = qs[:n]
		}
	}
	for _, q := range qs {
		l := TimelineLane{IRQ: q.IRQ, Name: q.Name, Class: q.Class, Handlers: q.HandlerCount, Migrations: len(q.Migrations)}
		for _, a := range q.Assignments {
			end := m.LastNS
			if a.EndNS != nil {
				end = *a.EndNS
			}
			l.Segments = append(l.Segments, TimelineSegment{StartNS: max(a.StartNS, m.FirstNS), EndNS: end,
				CPU: a.CPU, Vector: a.Vector, Inferred: a.Inferred, Clipped: a.Clipped})
		}
		for _, mg := range q.Migrations {
			end := m.LastNS
			if mg.CompletedNS != nil {
				end = *mg.CompletedNS
			}
			l.Moves = append(l.Moves, TimelineMove{TS: mg.TS, EndNS: max(end, mg.TS), Completion: mg.Completion, Inferred: mg.Inferred})
		}
		lanes = append(lanes, l)
	}
	return lanes, omitted
}

// OfflineSpan is one interval during which CPU was offline, clipped to
// the trace; OpenStart: offline since before the trace; OpenEnd: still
// offline at its end.
type OfflineSpan struct {
	CPU                int32
	StartNS, EndNS     int64
	OpenStart, OpenEnd bool
}

// OfflineSpans returns every CPU's offline intervals, in time order.
func OfflineSpans(m *Model) []OfflineSpan {
	var out []OfflineSpan
	for _, c := range m.CPUs {
		for _, iv := range c.OfflineIntervals {
			s := OfflineSpan{CPU: c.CPU, StartNS: m.FirstNS, EndNS: m.LastNS, OpenStart: iv[0] == nil, OpenEnd: iv[1] == nil}
			if iv[0] != nil {
				s.StartNS = *iv[0]
			}
			if iv[1] != nil {
				s.EndNS = *iv[1]
			}
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].StartNS != out[j].StartNS {
			return out[i].StartNS < out[j].StartNS
		}
		return out[i].CPU < out[j].CPU
	})
	return out
}

// HotplugStepTime is the time one cpuhp state took in one cycle: the sum
// of its Instances runs (a multi-instance state runs once per instance).
// Open counts runs without a cpuhp_exit (not in DurationNS).
type HotplugStepTime struct {
	Step       int32
	Callback   string
	Instances  int
	DurationNS int64
	Open       int
	Failed     bool // some run returned an error
}

// HotplugCycle is one take-down (Down) or bring-up of one CPU: a run of
// consecutive cpuhp steps in one direction. N counts the CPU's cycles of
// that direction from 1.
type HotplugCycle struct {
	CPU     int32
	Down    bool
	N       int
	StartNS int64
	EndNS   int64 // the last step's exit (its start if none exited)
	Steps   []HotplugStepTime
}

// HotplugCycles returns the hotplug cycles of every CPU, by CPU, then in
// time order. Steps keep their first run's order within a cycle.
func HotplugCycles(m *Model) []HotplugCycle {
	var out []HotplugCycle
	for _, c := range m.CPUs {
		var cur *HotplugCycle
		n := map[bool]int{}
		idx := map[int32]int{}
		for _, st := range c.HotplugSteps {
			if cur == nil || cur.Down != st.Down {
				if cur != nil {
					out = append(out, *cur)
				}
				n[st.Down]++
				cur = &HotplugCycle{CPU: c.CPU, Down: st.Down, N: n[st.Down], StartNS: st.TS, EndNS: st.TS}
				idx = map[int32]int{}
			}
			i, ok := idx[st.Step]
			if !ok {
				i = len(cur.Steps)
				idx[st.Step] = i
				cur.Steps = append(cur.Steps, HotplugStepTime{Step: st.Step, Callback: st.Callback})
			}
			t := &cur.Steps[i]
			t.Instances++
			if st.DurationNS == nil {
				t.Open++
			} else {
				t.DurationNS += *st.DurationNS
				cur.EndNS = max(cur.EndNS, st.TS+*st.DurationNS)
			}
			if st.Ret != nil && *st.Ret < 0 {
				t.Failed = true
			}
		}
		if cur != nil {
			out = append(out, *cur)
		}
	}
	return out
}

// HotplugStepKey names a cpuhp state in one direction.
type HotplugStepKey struct {
	Down     bool
	Step     int32
	Callback string
}

// HotplugStepStats summarises one state's durations over cycles.
type HotplugStepStats struct {
	HotplugStepKey
	Cycles int     // cycles in which it ran (and exited)
	Values []int64 // its duration per cycle, sorted
	P50    int64
	Max    int64
	Sum    int64
}

// HotplugStepSummary returns the duration statistics of every cpuhp state
// over the cycles, in execution order (take-down states by decreasing
// step, then bring-up states by increasing step). Runs without an exit
// are left out.
func HotplugStepSummary(cycles []HotplugCycle) []HotplugStepStats {
	by := map[HotplugStepKey]*HotplugStepStats{}
	for _, c := range cycles {
		for _, t := range c.Steps {
			if t.Instances == t.Open {
				continue
			}
			k := HotplugStepKey{c.Down, t.Step, t.Callback}
			s := by[k]
			if s == nil {
				s = &HotplugStepStats{HotplugStepKey: k}
				by[k] = s
			}
			s.Cycles++
			s.Values = append(s.Values, t.DurationNS)
			s.Sum += t.DurationNS
		}
	}
	out := make([]HotplugStepStats, 0, len(by))
	for _, s := range by {
		sort.Slice(s.Values, func(i, j int) bool { return s.Values[i] < s.Values[j] })
		s.P50, s.Max = Quantile(s.Values, .5), s.Values[len(s.Values)-1]
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Down != b.Down {
			return a.Down
		}
		if a.Step != b.Step {
			return (a.Step > b.Step) == a.Down
		}
		return a.Callback < b.Callback
	})
	return out
}

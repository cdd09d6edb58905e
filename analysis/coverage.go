package analysis

import "sort"

// coverage derives per-CPU windows of complete data: from the CPU's first
// trustworthy event to its last, split at LOST/DROPPED markers, and for a
// perf recording ended at the CPU's first offline.
func (b *builder) coverage() {
	m := b.m
	first := map[int32]int64{}
	last := map[int32]int64{}
	for _, c := range m.cpus {
		if c.seen {
			first[c.CPU], last[c.CPU] = c.firstEvent, c.lastEvent
		}
	}
	for _, mk := range b.opts.Markers {
		if mk.Kind == "buffer_started" && mk.NextTS != nil {
			if *mk.NextTS > first[mk.CPU] {
				first[mk.CPU] = *mk.NextTS
			}
		}
	}
	gaps := map[int32][][2]int64{}
	for cpu, ms := range b.marks {
		for k, mk := range ms {
			prev := b.gapStart[cpu][k]
			if prev == null {
				prev = first[cpu] // the marker precedes the CPU's first event
			}
			next := last[cpu]
			if mk.NextTS != nil {
				next = *mk.NextTS
			}
			gaps[cpu] = append(gaps[cpu], [2]int64{prev, next})
		}
	}
	for _, c := range m.CPUs {
		if !c.seen {
			continue
		}
		start, end := first[c.CPU], last[c.CPU]
		reason := "trace_end"
		if b.opts.Perf && c.firstOff != nil {
			// perf record -a stops recording a CPU at its first offline.
			end, reason = min(end, *c.firstOff), "perf_offline"
		}
		g := gaps[c.CPU]
		sort.Slice(g, func(i, j int) bool { return g[i][0] < g[j][0] })
		for _, gap := range g {
			if gap[0] > start {
				m.Coverage = append(m.Coverage, Coverage{CPU: c.CPU, StartNS: start, EndNS: min(gap[0], end), Reason: "lost_events"})
			}
			start = gap[1]
		}
		if start <= end {
			m.Coverage = append(m.Coverage, Coverage{CPU: c.CPU, StartNS: start, EndNS: end, Reason: reason})
		}
	}
}

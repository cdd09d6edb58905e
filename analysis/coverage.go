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
			if c := m.cpus[cpu]; k >= b.markNext[cpu] && c != nil && c.seen {
				// No event of the CPU after the marker: the gap starts at
				// its last event.
				prev = c.lastEvent
			}
			if prev == null {
				prev = first[cpu] // the marker precedes the CPU's first event
			}
			// No event after the marker: the gap runs to the end.
			next := int64(1<<63 - 1)
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
			if gap[0] >= end {
				// The gap begins at the CPU's last event (events were lost at
				// the end of the trace) or after the end of a perf recording
				// of the CPU.
				if end == last[c.CPU] {
					reason = "lost_events"
				}
				break
			}
			if gap[0] > start || gap[0] == start && gap[1] > start {
				m.Coverage = append(m.Coverage, Coverage{CPU: c.CPU, StartNS: start, EndNS: gap[0], Reason: "lost_events"})
			}
			start = max(start, gap[1])
		}
		if start <= end {
			m.Coverage = append(m.Coverage, Coverage{CPU: c.CPU, StartNS: start, EndNS: end, Reason: reason})
		}
	}
}

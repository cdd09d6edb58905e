package rules

import (
	"sort"

	"github.com/irqtrace/irqtrace/analysis"
)

// runsOf returns the handler invocations of each irq, by start time.
func runsOf(m *analysis.Model) map[int32][]analysis.Invocation {
	out := map[int32][]analysis.Invocation{}
	for _, h := range m.Handlers {
		out[h.IRQ] = append(out[h.IRQ], h)
	}
	for _, r := range out {
		sort.SliceStable(r, func(i, j int) bool { return r[i].StartNS < r[j].StartNS })
	}
	return out
}

// firstRunAfter returns the index of the first run starting after ts
// (len(runs) if none).
func firstRunAfter(runs []analysis.Invocation, ts int64) int {
	return sort.Search(len(runs), func(i int) bool { return runs[i].StartNS > ts })
}

// cpuOnlineAt reports whether cpu was online at ts.
func cpuOnlineAt(m *analysis.Model, cpu int32, ts int64) bool {
	for _, c := range m.CPUs {
		if c.CPU != cpu {
			continue
		}
		for _, iv := range c.OfflineIntervals {
			if *iv[0] <= ts && (iv[1] == nil || ts < *iv[1]) {
				return false
			}
		}
	}
	return true
}

// offlineEnding returns the offline interval of cpu that starts at or
// before ts and is the latest such one (nil if none).
func offlineBefore(m *analysis.Model, cpu int32, ts int64) *[2]*int64 {
	var best *[2]*int64
	for _, c := range m.CPUs {
		if c.CPU != cpu {
			continue
		}
		for i := range c.OfflineIntervals {
			iv := &c.OfflineIntervals[i]
			if *iv[0] <= ts {
				best = iv
			}
		}
	}
	return best
}

// irqByNum returns the model's irq n (nil if absent).
func irqByNum(m *analysis.Model, n int32) *analysis.IRQ {
	i := sort.Search(len(m.IRQs), func(i int) bool { return m.IRQs[i].IRQ >= n })
	if i < len(m.IRQs) && m.IRQs[i].IRQ == n {
		return m.IRQs[i]
	}
	return nil
}

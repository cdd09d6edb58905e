package analysis

import (
	"sort"
	"strconv"
	"strings"
)

// This file compares two models of the same scenario, recorded before and
// after a change: latency distributions, migrations and hotplug times,
// matched by what they are rather than by number (irq numbers move between
// boots: an irq is matched by its action name).

// DiffSide describes one recording of a comparison.
type DiffSide struct {
	File     string
	SpanNS   int64
	Events   int64
	Handlers int64
	Sysvecs  int64
	CPUs     int
}

// DiffLatency is one distribution in both recordings; Before or After is
// nil when the recording has none. Key is what matched them: the irq's
// action name for device irqs ("virtio2-virtqueues", or "irq 44" when it
// has none), the name for the other kinds.
type DiffLatency struct {
	Kind   string
	Key    string
	Before *Latency
	After  *Latency
}

// DiffPercent returns the change from before to after in percent and
// whether it is defined (before > 0).
func DiffPercent(before, after int64) (float64, bool) {
	if before <= 0 {
		return 0, false
	}
	return 100 * float64(after-before) / float64(before), true
}

// DiffCount is a count in both recordings.
type DiffCount struct {
	Before, After int64
}

// DiffMigration is the migrations of one irq (matched like DiffLatency) in
// both recordings: traced, inferred and never completed.
type DiffMigration struct {
	Key                     string
	BeforeIRQ, AfterIRQ     *int32
	Traced, Inferred, Never DiffCount
}

// DiffWindow compares the take-down (Down) or bring-up windows: how many,
// and their median and max durations.
type DiffWindow struct {
	Down          bool
	Count         DiffCount
	P50, Max      DiffCount
	Before, After []int64 // the durations, sorted
}

// DiffHotplugStep compares one cpuhp state's per-cycle durations.
type DiffHotplugStep struct {
	HotplugStepKey
	Before, After *HotplugStepStats
}

// ModelDiff is the comparison of two recordings.
type ModelDiff struct {
	Before, After DiffSide
	Latencies     []DiffLatency
	Migrations    []DiffMigration
	Windows       []DiffWindow // take-down, then bring-up
	Hotplug       []DiffHotplugStep
}

// Compare compares before with after. Latencies keep the order of
// Model.Latencies (by kind, then by total time in after, then in before);
// migrations are by irq key; hotplug states in execution order.
func Compare(before, after *Model) *ModelDiff {
	d := &ModelDiff{Before: diffSide(before), After: diffSide(after)}

	// Latencies.
	type lk struct{ kind, key string }
	bl, al := before.Latencies(), after.Latencies()
	bKeys, aKeys := diffLatencyKeys(bl), diffLatencyKeys(al)
	idx := map[lk]int{}
	add := func(l Latency, key string, isAfter bool) {
		k := lk{l.Kind, key}
		i, ok := idx[k]
		if !ok {
			i = len(d.Latencies)
			idx[k] = i
			d.Latencies = append(d.Latencies, DiffLatency{Kind: l.Kind, Key: key})
		}
		lc := l
		if isAfter {
			d.Latencies[i].After = &lc
		} else {
			d.Latencies[i].Before = &lc
		}
	}
	for i, l := range al {
		add(l, aKeys[i], true)
	}
	for i, l := range bl {
		add(l, bKeys[i], false)
	}
	order := map[string]int{"irq": 0, "sysvec": 1, "softirq": 2, "softirq_run": 3, "ipi": 4}
	sort.SliceStable(d.Latencies, func(i, j int) bool {
		a, b := d.Latencies[i], d.Latencies[j]
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		as, bs := diffSum(a.After), diffSum(b.After)
		if as != bs {
			return as > bs
		}
		if as, bs = diffSum(a.Before), diffSum(b.Before); as != bs {
			return as > bs
		}
		return a.Key < b.Key
	})

	// Migrations.
	mig := map[string]*DiffMigration{}
	for side, m := range []*Model{before, after} {
		keys := diffIRQKeys(m)
		for _, q := range m.IRQs {
			if len(q.Migrations) == 0 {
				continue
			}
			k := keys[q.IRQ]
			dm := mig[k]
			if dm == nil {
				dm = &DiffMigration{Key: k}
				mig[k] = dm
			}
			n := q.IRQ
			var t, inf, nev int64
			for _, mg := range q.Migrations {
				if mg.Inferred {
					inf++
				} else {
					t++
				}
				if mg.Completion == CompletionNever {
					nev++
				}
			}
			if side == 0 {
				dm.BeforeIRQ = &n
				dm.Traced.Before, dm.Inferred.Before, dm.Never.Before = t, inf, nev
			} else {
				dm.AfterIRQ = &n
				dm.Traced.After, dm.Inferred.After, dm.Never.After = t, inf, nev
			}
		}
	}
	for _, dm := range mig {
		d.Migrations = append(d.Migrations, *dm)
	}
	sort.Slice(d.Migrations, func(i, j int) bool {
		a, b := d.Migrations[i], d.Migrations[j]
		ta, tb := a.Traced.After+a.Inferred.After+a.Traced.Before+a.Inferred.Before, b.Traced.After+b.Inferred.After+b.Traced.Before+b.Inferred.Before
		if ta != tb {
			return ta > tb
		}
		return a.Key < b.Key
	})

	// Hotplug windows and states.
	bc, ac := HotplugCycles(before), HotplugCycles(after)
	for _, down := range []bool{true, false} {
		w := DiffWindow{Down: down, Before: diffWindows(bc, down), After: diffWindows(ac, down)}
		w.Count = DiffCount{int64(len(w.Before)), int64(len(w.After))}
		w.P50 = DiffCount{Quantile(w.Before, .5), Quantile(w.After, .5)}
		if len(w.Before) > 0 {
			w.Max.Before = w.Before[len(w.Before)-1]
		}
		if len(w.After) > 0 {
			w.Max.After = w.After[len(w.After)-1]
		}
		d.Windows = append(d.Windows, w)
	}
	bs, as := HotplugStepSummary(bc), HotplugStepSummary(ac)
	hs := map[HotplugStepKey]*DiffHotplugStep{}
	var keys []HotplugStepKey
	for side, set := range [][]HotplugStepStats{bs, as} {
		for i := range set {
			s := set[i]
			h := hs[s.HotplugStepKey]
			if h == nil {
				h = &DiffHotplugStep{HotplugStepKey: s.HotplugStepKey}
				hs[s.HotplugStepKey] = h
				keys = append(keys, s.HotplugStepKey)
			}
			if side == 0 {
				h.Before = &s
			} else {
				h.After = &s
			}
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.Down != b.Down {
			return a.Down
		}
		if a.Step != b.Step {
			return (a.Step > b.Step) == a.Down
		}
		return a.Callback < b.Callback
	})
	for _, k := range keys {
		d.Hotplug = append(d.Hotplug, *hs[k])
	}
	return d
}

func diffSide(m *Model) DiffSide {
	return DiffSide{File: m.File, SpanNS: m.LastNS - m.FirstNS, Events: m.Events,
		Handlers: int64(len(m.Handlers)), Sysvecs: int64(len(m.Sysvecs)), CPUs: len(m.CPUs)}
}

func diffSum(l *Latency) int64 {
	if l == nil {
		return -1
	}
	return l.Sum
}

// diffWindows returns the sorted window durations of the cycles of one
// direction.
func diffWindows(cs []HotplugCycle, down bool) []int64 {
	var out []int64
	for _, c := range cs {
		if c.Down == down {
			out = append(out, c.EndNS-c.StartNS)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// diffIRQKeys returns the key of each irq of m: its action name when no
// other irq of m has the same one, "irq N" otherwise or without a name.
func diffIRQKeys(m *Model) map[int32]string {
	names := map[string]int{}
	for _, q := range m.IRQs {
		names[q.Name]++
	}
	for _, h := range m.Handlers {
		if _, ok := names[h.Name]; !ok {
			names[h.Name] = 1
		}
	}
	out := map[int32]string{}
	for _, q := range m.IRQs {
		out[q.IRQ] = DiffIRQKey(q.IRQ, q.Name, names[q.Name])
	}
	return out
}

// DiffIRQKey is the key that matches an irq across recordings: its action
// name, unless it has none or n (the number of irqs with that name) > 1,
// then "irq N".
func DiffIRQKey(irq int32, name string, n int) string {
	if name == "" || n > 1 {
		return "irq " + strconv.Itoa(int(irq))
	}
	return name
}

// diffLatencyKeys returns the key of each latency of ls (see DiffLatency).
func diffLatencyKeys(ls []Latency) []string {
	names := map[string]int{}
	for _, l := range ls {
		if l.Kind == "irq" {
			names[diffActionName(l)]++
		}
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		if l.Kind != "irq" || l.IRQ == nil {
			out[i] = l.Name
			continue
		}
		out[i] = DiffIRQKey(*l.IRQ, diffActionName(l), names[diffActionName(l)])
	}
	return out
}

// diffActionName strips the irq number from an irq latency's name.
func diffActionName(l Latency) string {
	if l.IRQ == nil {
		return l.Name
	}
	return strings.TrimSpace(strings.TrimPrefix(l.Name, strconv.Itoa(int(*l.IRQ))))
}

// DiffFindingKey identifies findings across recordings: the rule and what
// it is about, in words that survive renumbering ("virtio2-virtqueues",
// "cpu 2", "" for the trace as a whole).
type DiffFindingKey struct {
	Rule    string
	Subject string
}

// DiffFindingCount is how many findings of a key each recording has.
type DiffFindingCount struct {
	DiffFindingKey
	DiffCount
}

// DiffFindings counts the findings of each key in before and after and
// returns the keys whose counts differ, by rule, then subject.
func DiffFindings(before, after []DiffFindingKey) []DiffFindingCount {
	counts := map[DiffFindingKey]*DiffCount{}
	for side, ks := range [][]DiffFindingKey{before, after} {
		for _, k := range ks {
			c := counts[k]
			if c == nil {
				c = &DiffCount{}
				counts[k] = c
			}
			if side == 0 {
				c.Before++
			} else {
				c.After++
			}
		}
	}
	var out []DiffFindingCount
	for k, c := range counts {
		if c.Before != c.After {
			out = append(out, DiffFindingCount{k, *c})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].Subject < out[j].Subject
	})
	return out
}

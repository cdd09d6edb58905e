package report

import (
	"slices"

	"github.com/irqtrace/irqtrace/analysis"
)

// LifecycleOptions select and shape what Lifecycle and LifecycleJSON
// show. The zero value shows every irq and CPU, with hotplug steps
// summarised as take-down and bring-up windows, and timestamps in
// nanoseconds.
type LifecycleOptions struct {
	// IRQs keeps these irqs' transitions, and the CPU events (offline,
	// online, take-down and bring-up windows, hotplug steps) of every CPU
	// they were assigned to or moved from or to. Empty keeps every irq.
	IRQs []int32
	// CPUs keeps the transitions that touch one of these CPUs: irq
	// transitions from, to or on it, and its own CPU events. Empty keeps
	// every CPU. With IRQs as well, a transition must pass both filters.
	CPUs []int32
	// Steps lists every cpuhp step on its own line (Lifecycle only; by
	// default only failed steps, ret != 0, are).
	Steps bool
	// Raw says the recording's timestamps are raw counter ticks, not
	// nanoseconds (parse.Stats.Unit "raw"): they are printed as integers.
	Raw bool
	// OfflineLines are the input lines of each CPU's offline and online
	// transitions, as analysis.OfflineLines returns them (per CPU, per
	// offline interval). Nil prints those transitions without a line.
	OfflineLines map[int32][][2]int64
}

// selection is LifecycleOptions' filters applied to one model.
type selection struct {
	irqs    map[int32]bool // nil: every irq
	cpus    map[int32]bool // nil: every CPU
	irqCPUs map[int32]bool // CPUs used by the selected irqs (with irqs)
}

func newSelection(m *analysis.Model, opts LifecycleOptions) *selection {
	s := &selection{}
	if len(opts.IRQs) > 0 {
		s.irqs, s.irqCPUs = map[int32]bool{}, map[int32]bool{}
		for _, n := range opts.IRQs {
			s.irqs[n] = true
		}
		for _, q := range m.IRQs {
			if s.irqs[q.IRQ] {
				for _, c := range usedCPUs(q) {
					s.irqCPUs[c] = true
				}
			}
		}
	}
	if len(opts.CPUs) > 0 {
		s.cpus = map[int32]bool{}
		for _, c := range opts.CPUs {
			s.cpus[c] = true
		}
	}
	return s
}

// usedCPUs returns, sorted, the CPUs q was assigned to or moved from or
// to.
func usedCPUs(q *analysis.IRQ) []int32 {
	var out []int32
	add := func(c *int32) {
		if c != nil && !slices.Contains(out, *c) {
			out = append(out, *c)
		}
	}
	for _, a := range q.Assignments {
		add(a.CPU)
	}
	for i := range q.Migrations {
		add(&q.Migrations[i].FromCPU)
		add(q.Migrations[i].ToCPU)
	}
	slices.Sort(out)
	return out
}

// filtered reports whether any filter is set.
func (s *selection) filtered() bool { return s.irqs != nil || s.cpus != nil }

// irqEvent keeps a transition of irq touching cpus.
func (s *selection) irqEvent(irq int32, cpus ...*int32) bool {
	if s.irqs != nil && !s.irqs[irq] {
		return false
	}
	if s.cpus == nil {
		return true
	}
	for _, c := range cpus {
		if c != nil && s.cpus[*c] {
			return true
		}
	}
	return false
}

// cpuEvent keeps a transition of CPU cpu.
func (s *selection) cpuEvent(cpu int32) bool {
	if s.irqs != nil && !s.irqCPUs[cpu] {
		return false
	}
	return s.cpus == nil || s.cpus[cpu]
}

// irq keeps an irq as a whole: selected, and (with CPUs) using one of
// them.
func (s *selection) irq(q *analysis.IRQ) bool {
	if s.irqs != nil && !s.irqs[q.IRQ] {
		return false
	}
	if s.cpus == nil {
		return true
	}
	for _, c := range usedCPUs(q) {
		if s.cpus[c] {
			return true
		}
	}
	return false
}

// anomaly keeps an anomaly: of a selected irq (with IRQs), written by a
// selected CPU (with CPUs).
func (s *selection) anomaly(a *analysis.Anomaly) bool {
	if s.irqs != nil && (a.IRQ == nil || !s.irqs[*a.IRQ]) {
		return false
	}
	return s.cpus == nil || s.cpus[a.CPU]
}

// missing returns the IRQs and CPUs of opts that m does not hold.
func missing(m *analysis.Model, opts LifecycleOptions) (irqs, cpus []int32) {
	for _, n := range opts.IRQs {
		if !slices.ContainsFunc(m.IRQs, func(q *analysis.IRQ) bool { return q.IRQ == n }) && !slices.Contains(irqs, n) {
			irqs = append(irqs, n)
		}
	}
	for _, n := range opts.CPUs {
		if !slices.ContainsFunc(m.CPUs, func(c *analysis.CPU) bool { return c.CPU == n }) && !slices.Contains(cpus, n) {
			cpus = append(cpus, n)
		}
	}
	return irqs, cpus
}

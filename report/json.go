package report

import (
	"encoding/json"
	"io"

	"github.com/irqtrace/irqtrace/analysis"
)

// lifecycleJSON is the object LifecycleJSON writes.
type lifecycleJSON struct {
	File      string                 `json:"file"`
	FirstNS   int64                  `json:"first_ts_ns"`
	LastNS    int64                  `json:"last_ts_ns"`
	Unit      string                 `json:"unit"`
	Events    int64                  `json:"events_read"`
	Filter    filterJSON             `json:"filter"`
	Counts    analysis.Counts        `json:"counts"`
	Matrix    analysis.MatrixSummary `json:"matrix"`
	IRQs      []analysis.IRQ         `json:"irqs"`
	CPUs      []analysis.CPU         `json:"cpus"`
	Slots     []analysis.SlotOwner   `json:"slots"`
	Coverage  []analysis.Coverage    `json:"coverage"`
	Anomalies []analysis.Anomaly     `json:"anomalies"`
}

// filterJSON echoes the filters, and the irqs and CPUs they name that the
// trace does not hold.
type filterJSON struct {
	IRQs        []int32 `json:"irqs"`
	CPUs        []int32 `json:"cpus"`
	MissingIRQs []int32 `json:"missing_irqs"`
	MissingCPUs []int32 `json:"missing_cpus"`
}

// LifecycleJSON writes m to w as one indented JSON object with the
// model's field names (see the json tags of package analysis): file,
// first_ts_ns, last_ts_ns, unit ("ns" or "raw"), events_read, filter,
// counts and matrix (the whole trace's), then the selected irqs (each
// whole: assignments, migrations, activations, parked intervals,
// handler_count, ...), cpus (offline_intervals, hotplug_steps,
// takedown_windows, bringup_windows), slots, coverage and anomalies.
//
// opts.IRQs and opts.CPUs select whole objects, as in Lifecycle: an irq
// is kept when it is selected and (with CPUs) was on or moved from or to
// one of the CPUs; a CPU when it is selected and (with IRQs) one of the
// irqs used it; slots and anomalies by their irq and CPU. Lists are never
// null: an empty list is []. Absent values (a vector the model does not
// know, an interval still open) are null.
func LifecycleJSON(w io.Writer, m *analysis.Model, opts LifecycleOptions) error {
	sel := newSelection(m, opts)
	out := lifecycleJSON{
		File: m.File, FirstNS: m.FirstNS, LastNS: m.LastNS, Unit: "ns", Events: m.Events,
		Counts: m.Counts, Matrix: m.Matrix,
		IRQs: []analysis.IRQ{}, CPUs: []analysis.CPU{}, Slots: []analysis.SlotOwner{},
		Coverage: []analysis.Coverage{}, Anomalies: []analysis.Anomaly{},
	}
	if opts.Raw {
		out.Unit = "raw"
	}
	out.Filter.IRQs, out.Filter.CPUs = nonNil(opts.IRQs), nonNil(opts.CPUs)
	irqs, cpus := missing(m, opts)
	out.Filter.MissingIRQs, out.Filter.MissingCPUs = nonNil(irqs), nonNil(cpus)
	for _, q := range m.IRQs {
		if !sel.irq(q) {
			continue
		}
		c := *q
		c.Activations = nonNil(c.Activations)
		c.Assignments = nonNil(c.Assignments)
		c.Migrations = nonNil(c.Migrations)
		c.Parked = nonNil(c.Parked)
		if c.HandlerCPUs == nil {
			c.HandlerCPUs = map[int32]int64{}
		}
		out.IRQs = append(out.IRQs, c)
	}
	for _, cpu := range m.CPUs {
		if !sel.cpuEvent(cpu.CPU) {
			continue
		}
		c := *cpu
		c.OfflineIntervals = nonNil(c.OfflineIntervals)
		c.HotplugSteps = nonNil(c.HotplugSteps)
		c.TakeDowns = nonNil(c.TakeDowns)
		c.BringUps = nonNil(c.BringUps)
		out.CPUs = append(out.CPUs, c)
	}
	for _, s := range m.Slots {
		if sel.irqEvent(s.IRQ, &s.CPU) {
			out.Slots = append(out.Slots, s)
		}
	}
	for _, c := range m.Coverage {
		if sel.cpuEvent(c.CPU) {
			out.Coverage = append(out.Coverage, c)
		}
	}
	for i := range m.Anomalies {
		if sel.anomaly(&m.Anomalies[i]) {
			out.Anomalies = append(out.Anomalies, m.Anomalies[i])
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// nonNil returns s, or an empty slice for nil (encoded as [], not null).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

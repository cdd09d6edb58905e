package perfetto

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// Ranks of a CPU's tracks (CPU*rankStride + kind*rankKind + lane) and of
// an irq's tracks (IRQ*rankStride + ...), so that each CPU's and each
// irq's tracks stay together in number order.
const (
	rankStride = 1000
	rankKind   = 100
)

// build turns m and fs into the trace Write encodes.
func build(m *analysis.Model, fs []rules.Finding, opts Options) *trace {
	t := &trace{}
	cpus := t.newTrack(0, "CPUs", 0)
	cpus.explicit = true
	cpus.description = "Per CPU: interrupt handler runs, hotplug steps, offline intervals and vectors allocated."
	irqs := t.newTrack(0, "IRQs", 1)
	irqs.explicit = true
	irqs.description = "Per irq: its (cpu, vector) assignments, with migrations as flow arrows, and its moves in progress."
	findings := t.newTrack(0, "Findings", 2)
	findings.description = "irqtrace analyze findings: one instant per finding, with its rule, severity, evidence and explanation."

	b := &builder{m: m, t: t, endNS: max(m.LastNS, m.FirstNS)}
	for _, c := range cpuList(m) {
		b.cpu(cpus.uuid, c, opts)
	}
	irqList := slices.Clone(m.IRQs)
	slices.SortFunc(irqList, func(a, b *analysis.IRQ) int { return int(a.IRQ) - int(b.IRQ) })
	for _, q := range irqList {
		b.irq(irqs.uuid, q)
	}
	for _, f := range fs {
		findings.instants = append(findings.instants, findingInstant(f))
	}
	return t
}

type builder struct {
	m     *analysis.Model
	t     *trace
	endNS int64 // end of open intervals: the last event of the trace
}

// cpuList returns every CPU the model mentions, sorted.
func cpuList(m *analysis.Model) []int32 {
	seen := map[int32]bool{}
	for _, c := range m.CPUs {
		seen[c.CPU] = true
	}
	for _, h := range m.Handlers {
		seen[h.CPU] = true
	}
	for _, s := range m.Sysvecs {
		seen[s.CPU] = true
	}
	for _, s := range m.Softirqs {
		seen[s.CPU] = true
	}
	for _, s := range m.Slots {
		seen[s.CPU] = true
	}
	out := make([]int32, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// span returns [start, end] with an open end (nil) closed at the end of
// the trace and an end before the start raised to the start.
func (b *builder) span(start int64, end *int64) (int64, int64, bool) {
	e, open := b.endNS, end == nil
	if !open {
		e = *end
	}
	return start, max(start, e), open
}

func (b *builder) cpu(parent uint64, c int32, opts Options) {
	m := b.m
	base := c * rankStride
	if !opts.NoHandlers {
		tr := b.t.newTrack(parent, fmt.Sprintf("CPU %d", c), base)
		tr.description = fmt.Sprintf("Device irq handlers, system vectors and softirqs that ran on CPU %d, nested as they ran.", c)
		var ss []slice
		for _, h := range m.Handlers {
			if h.CPU != c {
				continue
			}
			name := fmt.Sprintf("irq %d %s", h.IRQ, h.Name)
			if !h.Handled {
				name += " (unhandled)"
			}
			s, e, _ := b.span(h.StartNS, &h.EndNS)
			ss = append(ss, slice{start: s, end: e, name: name, category: "irq",
				args: []arg{num("irq", h.IRQ), boolArg("handled", h.Handled), num("line", h.EntryLine), num("exit_line", h.ExitLine)}})
		}
		for _, v := range m.Sysvecs {
			if v.CPU != c {
				continue
			}
			args := []arg{}
			if v.Vector >= 0 {
				args = append(args, num("vector", v.Vector))
			}
			s, e, _ := b.span(v.StartNS, &v.EndNS)
			ss = append(ss, slice{start: s, end: e, name: v.Name, category: "sysvec",
				args: append(args, num("line", v.EntryLine), num("exit_line", v.ExitLine))})
		}
		for _, r := range m.Softirqs {
			if r.CPU != c {
				continue
			}
			args := []arg{num("softirq", r.Vec)}
			if r.RaiseNS != nil {
				args = append(args, num("raise_to_entry_ns", r.StartNS-*r.RaiseNS))
			}
			s, e, _ := b.span(r.StartNS, &r.EndNS)
			ss = append(ss, slice{start: s, end: e, name: "softirq " + r.Action, category: "softirq",
				args: append(args, num("line", r.EntryLine))})
		}
		b.t.addSlices(tr, ss)
	}

	var hc *analysis.CPU
	for _, x := range m.CPUs {
		if x.CPU == c {
			hc = x
		}
	}
	if hc != nil && len(hc.HotplugSteps)+len(hc.TakeDowns)+len(hc.BringUps) > 0 {
		tr := b.t.newTrack(parent, fmt.Sprintf("CPU %d hotplug", c), base+rankKind)
		tr.description = fmt.Sprintf("Take-down and bring-up windows of CPU %d with their cpuhp steps (callbacks), wherever they ran.", c)
		var ss []slice
		for _, ws := range []struct {
			name string
			ws   []analysis.Window
		}{{"take-down", hc.TakeDowns}, {"bring-up", hc.BringUps}} {
			for _, w := range ws.ws {
				s, e, open := b.span(w.StartNS, w.EndNS)
				ss = append(ss, slice{start: s, end: e, name: ws.name, category: "cpuhp",
					args: []arg{num("steps", w.Steps), num("line", w.Line), boolArg("open_at_trace_end", open)}})
			}
		}
		for _, st := range hc.HotplugSteps {
			args := []arg{num("step", st.Step), num("target", st.Target)}
			if st.State != nil {
				args = append(args, num("state", *st.State))
			}
			name := st.Callback
			if st.Ret != nil {
				args = append(args, num("ret", *st.Ret))
				if *st.Ret != 0 {
					name += fmt.Sprintf(" (ret %d)", *st.Ret)
				}
			}
			args = append(args, num("run_on_cpu", st.RunOnCPU), boolArg("multi", st.Multi), boolArg("down", st.Down), num("line", st.Line))
			if st.DurationNS == nil {
				tr.instants = append(tr.instants, instant{ts: st.TS, name: name + " (no exit)", category: "cpuhp", args: args})
				continue
			}
			args = append(args, num("exit_line", st.ExitLine))
			end := st.TS + *st.DurationNS
			s, e, _ := b.span(st.TS, &end)
			ss = append(ss, slice{start: s, end: e, name: name, category: "cpuhp", args: args})
		}
		b.t.addSlices(tr, ss)
	}
	if hc != nil && len(hc.OfflineIntervals) > 0 {
		tr := b.t.newTrack(parent, fmt.Sprintf("CPU %d offline", c), base+2*rankKind)
		tr.description = fmt.Sprintf("Intervals in which CPU %d was offline.", c)
		var ss []slice
		for _, iv := range hc.OfflineIntervals {
			start, before := m.FirstNS, iv[0] == nil
			if !before {
				start = *iv[0]
			}
			s, e, open := b.span(start, iv[1])
			ss = append(ss, slice{start: s, end: e, name: "offline", category: "cpuhp",
				args: []arg{boolArg("offline_at_trace_start", before), boolArg("open_at_trace_end", open)}})
		}
		b.t.addSlices(tr, ss)
	}
	if pts := availablePoints(m, c); len(pts) > 0 {
		tr := b.t.newTrack(parent, fmt.Sprintf("CPU %d vectors available (irq_matrix)", c), base+3*rankKind)
		tr.counter = true
		tr.description = fmt.Sprintf("The available count of CPU %d's vector matrix as the kernel printed it in each "+
			"irq_matrix_* event about that CPU (avl=). Between events the value is unknown; offline CPUs print nothing.", c)
		tr.points = pts
	}
	if pts := allocatedPoints(m, c); len(pts) > 0 {
		tr := b.t.newTrack(parent, fmt.Sprintf("CPU %d vectors allocated", c), base+3*rankKind)
		tr.counter = true
		tr.description = fmt.Sprintf("Vectors owned by traced irqs on CPU %d (the old vector of a move in progress included), "+
			"rebuilt from the model's vector slots. Not the kernel's irq_matrix available count, which the model does not keep.", c)
		tr.points = pts
	}
}

// availablePoints returns the kernel's printed available count of cpu's
// vector matrix, one point per irq_matrix event about that CPU.
func availablePoints(m *analysis.Model, cpu int32) []point {
	var out []point
	for _, p := range m.MatrixPoints {
		if p.CPU == cpu {
			out = append(out, point{p.TS, int64(p.Avl)})
		}
	}
	return out
}

// allocatedPoints returns the counter of vectors owned on cpu over time,
// from the slot intervals: one point where the count changes, and one at
// the start of the trace.
func allocatedPoints(m *analysis.Model, cpu int32) []point {
	delta := map[int64]int64{}
	found := false
	for _, s := range m.Slots {
		if s.CPU != cpu {
			continue
		}
		found = true
		delta[s.StartNS]++
		if s.EndNS != nil {
			delta[*s.EndNS]--
		}
	}
	if !found {
		return nil
	}
	ts := make([]int64, 0, len(delta))
	for k := range delta {
		ts = append(ts, k)
	}
	slices.Sort(ts)
	var out []point
	if m.FirstNS < ts[0] {
		out = append(out, point{m.FirstNS, 0})
	}
	var v int64
	for _, k := range ts {
		if delta[k] == 0 && len(out) > 0 {
			continue
		}
		v += delta[k]
		out = append(out, point{k, v})
	}
	return out
}

func slotName(cpu, vec *int32) string {
	c, v := "?", "?"
	if cpu != nil {
		c = fmt.Sprint(*cpu)
	}
	if vec != nil {
		v = fmt.Sprint(*vec)
	}
	return fmt.Sprintf("CPU %s vector %s", c, v)
}

func (b *builder) irq(parent uint64, q *analysis.IRQ) {
	if len(q.Assignments) == 0 && len(q.Migrations) == 0 {
		return
	}
	name := fmt.Sprintf("irq %d", q.IRQ)
	if q.Name != "" {
		name += " " + q.Name
	}
	base := q.IRQ * rankStride
	tr := b.t.newTrack(parent, name, base)
	tr.description = fmt.Sprintf("The (cpu, vector) irq %d targeted over time (class %s); arrows are migrations.", q.IRQ, q.Class)
	as := make([]slice, len(q.Assignments))
	for i, a := range q.Assignments {
		args := []arg{}
		if a.CPU != nil {
			args = append(args, num("cpu", *a.CPU))
		}
		if a.Vector != nil {
			args = append(args, num("vector", *a.Vector))
		}
		s, e, open := b.span(a.StartNS, a.EndNS)
		args = append(args, str("start_reason", a.StartReason), str("end_reason", a.EndReason),
			boolArg("inferred", a.Inferred), boolArg("clipped", a.Clipped), boolArg("open_at_trace_end", open), num("line", a.StartLine))
		if a.EndLine > 0 {
			args = append(args, num("end_line", a.EndLine))
		}
		as[i] = slice{start: s, end: e, name: slotName(a.CPU, a.Vector), category: "assignment", args: args}
	}
	for _, l := range migrationLinks(q) {
		if l[0] < 0 {
			continue
		}
		b.t.flows++
		id := uint64(b.t.flows)
		as[l[0]].flowOut = append(as[l[0]].flowOut, id)
		as[l[1]].flowIn = append(as[l[1]].flowIn, id)
	}
	b.t.addSlices(tr, as)

	if len(q.Migrations) == 0 {
		return
	}
	mt := b.t.newTrack(parent, name+" moves", base+rankKind)
	mt.description = fmt.Sprintf("Migrations of irq %d from the vector_update to their completion: the move-in-progress windows.", q.IRQ)
	var ms []slice
	for _, mg := range q.Migrations {
		args := []arg{num("from_cpu", mg.FromCPU)}
		if mg.FromVector != nil {
			args = append(args, num("from_vector", *mg.FromVector))
		}
		if mg.ToCPU != nil {
			args = append(args, num("to_cpu", *mg.ToCPU))
		}
		if mg.ToVector != nil {
			args = append(args, num("to_vector", *mg.ToVector))
		}
		if mg.EmitCPU != nil {
			args = append(args, num("emit_cpu", *mg.EmitCPU))
		}
		args = append(args, str("completion", mg.Completion), boolArg("deferred", mg.Deferred), boolArg("inferred", mg.Inferred))
		if mg.Evidence != "" {
			args = append(args, str("evidence", mg.Evidence))
		}
		s, e, open := b.span(mg.TS, mg.CompletedNS)
		args = append(args, boolArg("open_at_trace_end", open), num("line", mg.Line))
		if mg.CompletionLine > 0 {
			args = append(args, num("completion_line", mg.CompletionLine))
		}
		ms = append(ms, slice{start: s, end: e, category: "move", args: args,
			name: "move " + slotName(&mg.FromCPU, mg.FromVector) + " -> " + slotName(mg.ToCPU, mg.ToVector)})
	}
	b.t.addSlices(mt, ms)
}

// migrationLinks returns, per migration of q, the indexes of the
// assignments it leaves (src) and starts (dst), or -1, -1 when its
// destination is unknown or either is not found. dst is the first
// assignment not taken by an earlier migration that starts at the move
// on its destination (cpu, vector); src the latest assignment before dst
// on the source CPU.
func migrationLinks(q *analysis.IRQ) [][2]int {
	as := q.Assignments
	out := make([][2]int, len(q.Migrations))
	taken := map[int]bool{}
	for i, mg := range q.Migrations {
		out[i] = [2]int{-1, -1}
		if mg.ToCPU == nil {
			continue
		}
		dst := -1
		for j := 1; j < len(as) && dst < 0; j++ {
			a := as[j]
			if !taken[j] && a.StartNS == mg.TS && a.CPU != nil && *a.CPU == *mg.ToCPU &&
				(mg.ToVector == nil || a.Vector == nil || *a.Vector == *mg.ToVector) {
				dst = j
			}
		}
		if dst < 0 {
			continue
		}
		for j := dst - 1; j >= 0; j-- {
			if a := as[j]; a.StartNS <= mg.TS && (a.CPU == nil || *a.CPU == mg.FromCPU) {
				taken[dst] = true
				out[i] = [2]int{j, dst}
				break
			}
		}
	}
	return out
}

// findingInstant is a finding as an instant event.
func findingInstant(f rules.Finding) instant {
	name := f.Title
	if name == "" {
		name = f.Rule
	}
	args := []arg{str("rule", f.Rule), str("severity", f.Severity.String()), str("evidence", f.Evidence), str("message", f.Message)}
	if f.CPU != nil {
		args = append(args, num("cpu", *f.CPU))
	}
	if f.IRQ != nil {
		args = append(args, num("irq", *f.IRQ))
	}
	if f.Vector != nil {
		args = append(args, num("vector", *f.Vector))
	}
	if len(f.Lines) > 0 {
		args = append(args, str("lines", strings.Join(f.Lines, ", ")))
	}
	if f.Window != nil {
		args = append(args, num("window_start_ns", f.Window[0]), num("window_end_ns", f.Window[1]))
	}
	if f.Weakened {
		args = append(args, boolArg("weakened", true))
	}
	return instant{ts: f.TS, name: f.Severity.String() + ": " + name, category: "finding", args: args}
}

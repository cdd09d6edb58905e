package rules

import (
	"fmt"
	"sort"

	"github.com/irqtrace/irqtrace/analysis"
)

// IRRRetrigger reports probable retriggers of moved irqs.
type IRRRetrigger struct{ O Options }

// Doc documents the rule.
func (r *IRRRetrigger) Doc() Doc {
	return Doc{
		ID:      "irr-retrigger",
		Summary: "a moved irq ran on its new CPU right after the move: probably a retriggered interrupt",
		Detects: "After moving an irq the kernel checks the old CPU's IRR for the vector and resends a pending interrupt to the " +
			"new target (msi_set_affinity's two-step update, fixup_irqs at CPU offline). A resent interrupt runs the handler on " +
			"the new CPU within microseconds of the move; it is indistinguishable from a genuine one, so the rule reports the timing.",
		Evidence: "direct when function-tracer or kprobe lines of apic_retrigger_irq / irq_chip_retrigger_hierarchy are in the trace; " +
			"otherwise inferred from the handler run's delay after the vector_update or the offline",
		Thresholds:     fmt.Sprintf("handler run on the new CPU within %v of the vector_update, or during the old CPU's takedown_cpu step or within %v after it", r.O.RetriggerWindow, r.O.RetriggerWindow),
		FalsePositives: "A busy device can genuinely interrupt that soon after a move; a deferred move's own triggering interrupt runs on the old CPU and is not counted.",
	}
}

// Check implements Rule.
func (r *IRRRetrigger) Check(in *Input) []Finding {
	m := in.Model
	runs := runsOf(m)
	w := r.O.RetriggerWindow.Nanoseconds()
	var out []Finding
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.ToCPU == nil {
				continue
			}
			// The reference time: the vector_update of a traced move; for a
			// move made by fixup_irqs on a dying CPU, the start of the old
			// CPU's takedown_cpu step (stop_machine runs inside it; the
			// model dates the move itself at its first evidence).
			ref, refLine, how := mg.TS, mg.Line, "the vector_update"
			limit := mg.TS + w
			if mg.Inferred {
				st := in.takedownBefore(mg.FromCPU, mg.TS)
				if st == nil {
					continue
				}
				ref, refLine = st.TS, st.Line
				how = fmt.Sprintf("takedown_cpu of CPU %d began (fixup_irqs resends interrupts pending in the dying CPU's IRR)", mg.FromCPU)
				limit = st.TS + w
				if st.DurationNS != nil {
					limit += *st.DurationNS
				}
			}
			rs := runs[q.IRQ]
			i := firstRunAfter(rs, ref-1)
			for ; i < len(rs) && rs[i].StartNS <= limit; i++ {
				if rs[i].CPU == *mg.ToCPU {
					break
				}
			}
			if i == len(rs) || rs[i].StartNS > limit {
				continue
			}
			run := rs[i]
			f := Finding{Severity: Info, Evidence: Inferred, TS: run.StartNS, CPU: p32(run.CPU), IRQ: p32(q.IRQ), Vector: mg.ToVector}
			win := [2]int64{ref, run.StartNS}
			f.Window = &win
			f.Title = fmt.Sprintf("irq %d: probable retrigger on CPU %d %s after its move", q.IRQ, run.CPU, dur(run.StartNS-ref))
			f.Message = fmt.Sprintf("irq %d (%s) moved from CPU %d to CPU %d and its handler ran on CPU %d at %s, %s after %s.",
				q.IRQ, q.Name, mg.FromCPU, *mg.ToCPU, run.CPU, sec(run.StartNS), dur(run.StartNS-ref), how)
			if run.StartNS-ref <= 100_000 {
				f.Message += " An interrupt that soon after a move is most likely one found pending in the old CPU's IRR and resent to the new target."
			} else {
				f.Message += " It may be an interrupt resent from the old CPU's IRR, or the device's next genuine one."
			}
			if !run.Handled {
				f.Message += " The handler returned IRQ_NONE, as a duplicate would."
			}
			lines := []int64{refLine, run.EntryLine}
			if c := retriggerCall(m, mg.FromCPU, ref, run.StartNS); c != nil {
				f.Evidence = Direct
				f.Message += fmt.Sprintf(" The function tracer shows %s called on CPU %d at %s: the retrigger is certain.", c.Func, c.CPU, sec(c.TS))
				lines = append(lines, c.Line)
			} else {
				f.Message += " Nothing in the trace tells a resent interrupt from a genuine one; record the function tracer on apic_retrigger_irq to be sure."
			}
			f.Lines = in.lines(lines...)
			out = append(out, f)
		}
	}
	return out
}

// retriggerCall returns a function-tracer hit of a retrigger function on
// cpu (the old target: msi_set_affinity's two-step update and fixup_irqs
// both resend from there) within [from, to]. The function tracer does not
// say which irq was resent, so only the CPU and the time tie it to a move.
func retriggerCall(m *analysis.Model, cpu int32, from, to int64) *analysis.Call {
	for i := range m.Calls {
		c := &m.Calls[i]
		if c.CPU == cpu && c.TS >= from && c.TS <= to && (c.Func == "apic_retrigger_irq" || c.Func == "irq_chip_retrigger_hierarchy") {
			return c
		}
	}
	return nil
}

// takedownBefore returns cpu's last takedown_cpu step that began at or
// before ts.
func (in *Input) takedownBefore(cpu int32, ts int64) *analysis.HotplugStep {
	if in.takedowns == nil {
		in.takedowns = map[int32][]*analysis.HotplugStep{}
		for _, c := range in.Model.CPUs {
			var tds []*analysis.HotplugStep
			for i := range c.HotplugSteps {
				if c.HotplugSteps[i].Callback == "takedown_cpu" {
					tds = append(tds, &c.HotplugSteps[i])
				}
			}
			sort.SliceStable(tds, func(i, j int) bool { return tds[i].TS < tds[j].TS })
			in.takedowns[c.CPU] = tds
		}
	}
	tds := in.takedowns[cpu]
	i := sort.Search(len(tds), func(i int) bool { return tds[i].TS > ts })
	if i == 0 {
		return nil
	}
	return tds[i-1]
}

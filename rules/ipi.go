package rules

import (
	"fmt"
	"sort"
)

// IPIUnanswered reports IPIs that were sent and never received.
type IPIUnanswered struct{ O Options }

// Doc documents the rule.
func (r *IPIUnanswered) Doc() Doc {
	return Doc{
		ID:      "ipi-unanswered",
		Summary: "an IPI sent (ipi_send_cpu / ipi_send_cpumask) with no receive on its target within the window, and IPI latency outliers",
		Detects: "A sender waiting for smp_call_function_single to run on a CPU that never takes the IPI spins forever " +
			"(LKML: \"smp_call_function_single lockups\"). The receive is the target's reschedule, call_function(_single) or " +
			"irq_work entry; IPIs of one kind coalesce, so one receive answers every send before it.",
		Evidence:   "direct: ipi_send_* (6.3+) and the irq_vectors entry events on the target",
		Thresholds: fmt.Sprintf("no receive within %v; outliers above %v", r.O.IPIWindow, r.O.IPILatency),
		FalsePositives: "Kernels before 6.3 have no ipi_send events (nothing to check); a target whose buffer lost events in the window, or that " +
			"shows no receive of that kind anywhere in the trace (perf drops records without a LOST line), gives info only; irq_work IPIs " +
			"to the sending CPU itself are self-IPIs whose entry may not be recorded by perf.",
	}
}

// Check implements Rule.
func (r *IPIUnanswered) Check(in *Input) []Finding {
	m := in.Model
	var out []Finding
	w := r.O.IPIWindow.Nanoseconds()
	type key struct {
		cpu  int32
		kind string
	}
	type agg struct {
		n     int
		first int
	}
	unanswered := map[key]*agg{}
	var keys []key
	for i, d := range m.IPIs {
		if d.ReceiveNS == nil {
			if d.SendNS+w > m.LastNS {
				continue // too close to the end to tell
			}
			k := key{d.ToCPU, d.Kind}
			a := unanswered[k]
			if a == nil {
				a = &agg{first: i}
				unanswered[k] = a
				keys = append(keys, k)
			}
			a.n++
			continue
		}
		if lat := *d.ReceiveNS - d.SendNS; lat > w {
			// Not answered within the window: the sender spun that long.
			k := key{d.ToCPU, d.Kind}
			a := unanswered[k]
			if a == nil {
				a = &agg{first: i}
				unanswered[k] = a
				keys = append(keys, k)
			}
			a.n++
			continue
		} else if lat > r.O.IPILatency.Nanoseconds() {
			win := [2]int64{d.SendNS, *d.ReceiveNS}
			out = append(out, Finding{Severity: Info, Evidence: Direct, TS: d.SendNS, CPU: p32(d.ToCPU), Window: &win,
				Title:   fmt.Sprintf("%s IPI to CPU %d took %s", d.Kind, d.ToCPU, dur(lat)),
				Message: fmt.Sprintf("CPU %d sent a %s IPI (callback %s) to CPU %d at %s; CPU %d took it only %s later.", d.FromCPU, d.Kind, d.Callback, d.ToCPU, sec(d.SendNS), d.ToCPU, dur(lat)),
				Lines:   in.lines(d.SendLine, d.RecvLine)})
		}
	}
	// Receives seen per (CPU, kind): a CPU that never shows one had its
	// receive events not recorded (perf drops records without a LOST
	// line; the entry event may not be enabled), not a deaf APIC.
	received := map[key]int{}
	for _, v := range m.Sysvecs {
		received[key{v.CPU, v.Name}]++
	}
	sort.Slice(keys, func(i, j int) bool { return unanswered[keys[i]].first < unanswered[keys[j]].first })
	for _, k := range keys {
		a := unanswered[k]
		d := m.IPIs[a.first]
		win := [2]int64{d.SendNS, d.SendNS + w}
		f := Finding{Severity: Warning, Evidence: Direct, TS: d.SendNS, CPU: p32(d.ToCPU), Window: &win,
			Title: fmt.Sprintf("%d %s IPIs to CPU %d not received within %s", a.n, d.Kind, d.ToCPU, dur(w)),
			Message: fmt.Sprintf("CPU %d sent a %s IPI (callback %s) to CPU %d at %s and CPU %d shows no %s entry within %s;",
				d.FromCPU, d.Kind, d.Callback, d.ToCPU, sec(d.SendNS), d.ToCPU, d.Kind, dur(w)),
			Lines: in.lines(d.SendLine)}
		if d.ReceiveNS != nil {
			f.Message += fmt.Sprintf(" it took one only %s later, at %s.", dur(*d.ReceiveNS-d.SendNS), sec(*d.ReceiveNS))
			f.Lines = in.lines(d.SendLine, d.RecvLine)
		} else {
			f.Message += " none follows in the rest of the trace."
		}
		f.Message += fmt.Sprintf(" %d such sends to it went unanswered in all.", a.n)
		switch {
		case received[k] == 0:
			f.Severity = Info
			f.Title = fmt.Sprintf("%d %s IPIs to CPU %d without a recorded receive", a.n, d.Kind, d.ToCPU)
			f.Message += fmt.Sprintf(" But CPU %d shows no %s entry anywhere in the trace, so its receive events were not recorded "+
				"(perf loses records without a LOST line; the event may not be enabled): nothing can be concluded. Info only.", d.ToCPU, d.Kind)
		case overlapsGap(m, p32(d.ToCPU), win[0], win[1]):
			f.Severity, f.Weakened = Info, true
			f.Message += fmt.Sprintf(" CPU %d lost events in that time (see trace-data-loss), so the receive may be among them: weakened to info.", d.ToCPU)
		default:
			f.Message += " A CPU that does not take IPIs leaves smp_call_function callers spinning."
		}
		out = append(out, f)
	}
	return out
}

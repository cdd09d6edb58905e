package rules

import "fmt"

// TraceDataLoss reports gaps in the trace's coverage.
type TraceDataLoss struct{ O Options }

// Doc documents the rule.
func (r *TraceDataLoss) Doc() Doc {
	return Doc{
		ID:      "trace-data-loss",
		Summary: "LOST / DROPPED markers and per-CPU coverage gaps that weaken other findings",
		Detects: "Ring-buffer overruns (CPU:N [LOST N EVENTS], trace-cmd's EVENTS DROPPED), a CPU buffer that starts late " +
			"(##### CPU N buffer started ####: nothing before it is known) and perf recordings that stop following a CPU at its first offline.",
		Evidence:       "direct: the markers; inferred: perf coverage ends",
		Thresholds:     "none: every gap is reported",
		FalsePositives: "none: a gap is a gap; it only says other findings in it are weaker",
	}
}

// Check implements Rule.
func (r *TraceDataLoss) Check(in *Input) []Finding {
	m := in.Model
	var out []Finding
	for _, w := range m.Coverage {
		switch w.Reason {
		case "lost_events":
			win := [2]int64{w.EndNS, w.EndNS}
			out = append(out, Finding{Severity: Warning, Evidence: Direct, TS: w.EndNS, CPU: p32(w.CPU), Window: &win,
				Title:   fmt.Sprintf("CPU %d lost events after %s", w.CPU, sec(w.EndNS)),
				Message: fmt.Sprintf("CPU %d's buffer overran after %s: events are missing until its next recorded event. Findings about CPU %d in that gap are weakened; enlarge buffer_size_kb or trace fewer events.", w.CPU, sec(w.EndNS), w.CPU)})
		case "perf_offline":
			out = append(out, Finding{Severity: Info, Evidence: Inferred, TS: w.EndNS, CPU: p32(w.CPU),
				Title:   fmt.Sprintf("perf stopped recording CPU %d at its offline", w.CPU),
				Message: fmt.Sprintf("This is a perf recording: perf record -a does not re-enable a CPU's events after it went offline, so nothing of CPU %d after %s is in the trace. Use ftrace or trace-cmd for hotplug runs.", w.CPU, sec(w.EndNS))})
		}
	}
	return out
}

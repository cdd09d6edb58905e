package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// MoveNeverCompleted reports moves whose old vector is never freed and
// matrix accounting that drifts from the kernel's.
type MoveNeverCompleted struct{ O Options }

// Doc documents the rule.
func (r *MoveNeverCompleted) Doc() Doc {
	return Doc{
		ID:      "move-never-completed",
		Summary: "a moved-from vector never freed, or irq_matrix counters that drift: a vector leak",
		Detects: "Each move keeps the old (cpu, vector) reserved until the first interrupt on the new vector triggers its cleanup " +
			"(vector_free_moved). If the irq fired on its new CPU and the old slot was still never freed, the vector leaked; " +
			"leaks also show as irq_matrix counters that no longer match the allocations (CVE-2024-31076 leaked vectors on CPU " +
			"offline). A move that was still in progress at an offline is force-completed by the kernel (\"IRQ fixup: irq N move in progress\").",
		Evidence:       "inferred: vector_update without a matching vector_free_moved; direct: irq_matrix_* counters, the IRQ fixup printk",
		Thresholds:     fmt.Sprintf("moves that began at least %v before the end of the trace", r.O.MoveGrace),
		FalsePositives: "A rarely firing irq keeps its move pending legitimately (the new vector has not fired yet): that is info only.",
	}
}

var reFixup = regexp.MustCompile(`IRQ fixup: irq (\d+) move in progress, old vector (\d+)`)

// Check implements Rule.
func (r *MoveNeverCompleted) Check(in *Input) []Finding {
	m := in.Model
	runs := runsOf(m)
	var out []Finding
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.Completion != analysis.CompletionNever || mg.Inferred || m.LastNS-mg.TS < r.O.MoveGrace.Nanoseconds() {
				continue
			}
			rs := runs[q.IRQ]
			fired := 0
			var firstNew *analysis.Invocation
			for i := firstRunAfter(rs, mg.TS); i < len(rs); i++ {
				if mg.ToCPU != nil && rs[i].CPU == *mg.ToCPU {
					fired++
					if firstNew == nil {
						firstNew = &rs[i]
					}
				}
			}
			f := Finding{Severity: Info, Evidence: Inferred, TS: mg.TS, CPU: p32(mg.FromCPU), IRQ: p32(q.IRQ), Vector: mg.FromVector}
			win := [2]int64{mg.TS, m.LastNS}
			f.Window = &win
			lines := []int64{mg.Line}
			if fired > 0 {
				f.Severity = Warning
				f.Title = fmt.Sprintf("irq %d: old vector %d.%s never freed", q.IRQ, mg.FromCPU, vecStr(mg.FromVector))
				f.Message = fmt.Sprintf("irq %d (%s) moved from %d.%s to %s.%s at %s and then ran %d times on CPU %s (first at %s), "+
					"but vector_free_moved for the old slot never came before the trace ended %s later. The first interrupt on the new "+
					"target should have scheduled the cleanup: the old vector stays allocated (a vector leak) unless the cleanup event was lost.",
					q.IRQ, q.Name, mg.FromCPU, vecStr(mg.FromVector), cpuStr(mg.ToCPU), vecStr(mg.ToVector), sec(mg.TS), fired, cpuStr(mg.ToCPU),
					sec(firstNew.StartNS), dur(m.LastNS-mg.TS))
				lines = append(lines, firstNew.EntryLine)
			} else {
				f.Title = fmt.Sprintf("irq %d: move to %s.%s still in progress at the end", q.IRQ, cpuStr(mg.ToCPU), vecStr(mg.ToVector))
				f.Message = fmt.Sprintf("irq %d (%s) moved from %d.%s to %s.%s at %s and never ran on its new CPU afterwards, so the move "+
					"never completed and the old vector stays reserved. That is normal for an irq that rarely fires; if its device was "+
					"busy, see lost-interrupt.", q.IRQ, q.Name, mg.FromCPU, vecStr(mg.FromVector), cpuStr(mg.ToCPU), vecStr(mg.ToVector), sec(mg.TS))
			}
			f.Lines = in.lines(lines...)
			out = append(out, f)
		}
	}
	var drift []analysis.Anomaly
	for _, a := range m.Anomalies {
		if a.Kind == "matrix_mismatch" && !a.Explained {
			drift = append(drift, a)
		}
	}
	if len(drift) > 0 {
		var lines []int64
		var msgs []string
		for _, a := range drift[:min(5, len(drift))] {
			lines = append(lines, a.Line)
			msgs = append(msgs, a.Message)
		}
		out = append(out, Finding{Severity: Warning, Evidence: Direct, TS: drift[0].TS, CPU: p32(drift[0].CPU),
			Title: fmt.Sprintf("irq_matrix counters drift from the allocations (%d mismatches)", len(drift)),
			Message: fmt.Sprintf("The vector matrix counters the kernel printed differ %d times from what the traced allocations and frees imply, "+
				"with no CPU offline or online in between to explain it. Vectors were allocated or freed without events, or leaked. First: %s",
				len(drift), strings.Join(msgs, "; ")),
			Lines: in.lines(lines...)})
	}
	for _, t := range m.Console {
		if g := reFixup.FindStringSubmatch(t.Text); g != nil {
			n, _ := strconv.Atoi(g[1])
			out = append(out, Finding{Severity: Info, Evidence: Direct, TS: t.TS, CPU: p32(t.CPU), IRQ: p32(int32(n)),
				Title:   fmt.Sprintf("irq %d: move force-completed at CPU offline", n),
				Message: fmt.Sprintf("The kernel printed \"%s\": the irq's move had not completed when its CPU went down, so the kernel completed it by force; an interrupt on the old vector may have been lost.", strings.TrimSpace(t.Text)),
				Lines:   in.lines(t.Line)})
		}
	}
	return out
}

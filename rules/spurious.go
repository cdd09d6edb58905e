package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// SpuriousVector reports interrupts that arrived on a vector nobody owned.
type SpuriousVector struct{ O Options }

// Doc documents the rule.
func (r *SpuriousVector) Doc() Doc {
	return Doc{
		ID:      "spurious-vector",
		Summary: "an interrupt arrived on a (cpu, vector) slot that no irq owned",
		Detects: "The local APIC delivered a vector with no handler: a device-range vector the kernel reports " +
			"with \"No irq handler for vector\" (do_IRQ, __common_interrupt or the 2025+ spelling), or a system-range " +
			"vector that lands in spurious_apic_entry. Vector 239 (MANAGED_IRQ_SHUTDOWN_VECTOR) there means a device fired " +
			"while its irq was parked. When the slot equals (new cpu, old vector) or (old cpu, new vector) of a vector_update " +
			"just before, the arrival is the signature of a torn MSI address/data write (LKML: \"Avoid torn updates to MSI pairs\").",
		Evidence:       "direct: spurious_apic_entry, the printk via printk:console; inferred: the owner history of the slot and the torn-write match",
		Thresholds:     fmt.Sprintf("torn-write match window %v after the vector_update", r.O.TornWindow),
		FalsePositives: "A slot freed long before the arrival points at a stale delivery rather than a torn write; printk text is only seen when printk:console was recorded.",
	}
}

var (
	reNoHandler = regexp.MustCompile(`(?:(?:do_IRQ|__common_interrupt): (\d+)\.(\d+) No irq handler for vector)|(?:No irq handler for (\d+)\.(\d+))`)
	reSpurious  = regexp.MustCompile(`[Ss]purious (?:APIC )?interrupt (?:\(vector 0x([0-9a-fA-F]+)\)|through vector ([0-9a-fA-F]+)) on CPU#(\d+)`)
)

// Check implements Rule.
func (r *SpuriousVector) Check(in *Input) []Finding {
	m := in.Model
	var out []Finding
	for _, s := range m.Sysvecs {
		if s.Name != "spurious_apic" {
			continue
		}
		out = append(out, r.onSlot(in, s.CPU, s.Vector, s.StartNS, []int64{s.EntryLine, s.ExitLine}, "spurious_apic_entry"))
	}
	for _, t := range m.Console {
		if g := reNoHandler.FindStringSubmatch(t.Text); g != nil {
			c, v := g[1], g[2]
			if c == "" {
				c, v = g[3], g[4]
			}
			cpu, _ := strconv.Atoi(c)
			vec, _ := strconv.Atoi(v)
			out = append(out, r.onSlot(in, int32(cpu), int32(vec), t.TS, []int64{t.Line}, "the kernel message \""+strings.TrimSpace(t.Text)+"\""))
		}
	}
	return out
}

// onSlot explains an arrival on (cpu, vec) at ts using the slot history.
func (r *SpuriousVector) onSlot(in *Input, cpu, vec int32, ts int64, lines []int64, what string) Finding {
	m := in.Model
	f := Finding{Severity: Warning, Evidence: Direct, TS: ts, CPU: p32(cpu), Vector: p32(vec)}
	f.Title = fmt.Sprintf("interrupt on unowned vector %d.%d", cpu, vec)
	var why []string
	why = append(why, fmt.Sprintf("At %s CPU %d received vector %d, reported by %s.", sec(ts), cpu, vec, what))
	if vec == analysis.ManagedShutdownVector {
		var parked []string
		for _, q := range m.IRQs {
			for _, p := range q.Parked {
				if p.StartNS <= ts && (p.EndNS == nil || ts <= *p.EndNS) {
					parked = append(parked, fmt.Sprintf("%d (%s)", q.IRQ, q.Name))
					lines = append(lines, p.Line)
				}
			}
		}
		why = append(why, "Vector 239 is the parking vector of shut-down or not yet activated irqs: a device fired while parked.")
		if len(parked) > 0 {
			why = append(why, "Parked at that moment: irq "+strings.Join(parked, ", ")+".")
		}
	}
	// Torn MSI write: a recent move whose mixed slots equal this one.
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.Inferred || mg.ToCPU == nil || mg.FromVector == nil || mg.ToVector == nil {
				continue
			}
			if mg.TS > ts || ts-mg.TS > r.O.TornWindow.Nanoseconds() || *mg.FromVector == *mg.ToVector {
				continue // same vector on both CPUs: the mixes are the real slots
			}
			mixA := *mg.ToCPU == cpu && *mg.FromVector == vec
			mixB := mg.FromCPU == cpu && *mg.ToVector == vec
			if !mixA && !mixB {
				continue
			}
			f.Severity, f.IRQ = Error, p32(q.IRQ)
			f.Title = fmt.Sprintf("torn MSI write: irq %d delivered on %d.%d during its move", q.IRQ, cpu, vec)
			why = append(why, fmt.Sprintf("%s before, irq %d (%s) moved from %d.%d to %d.%d. The slot %d.%d mixes the %s of the two: "+
				"the signature of a device latching a half-written MSI address/data pair (the message is written with 2 or 3 separate "+
				"config writes; devices without MSI masking can fire in between). The interrupt was most likely meant for irq %d and is lost.",
				dur(ts-mg.TS), q.IRQ, q.Name, mg.FromCPU, *mg.FromVector, *mg.ToCPU, *mg.ToVector, cpu, vec,
				map[bool]string{true: "new CPU and the old vector", false: "old CPU and the new vector"}[mixA], q.IRQ))
			lines = append(lines, mg.Line)
			f.Evidence = Inferred
			f.Message = strings.Join(why, " ")
			f.Lines = in.lines(lines...)
			w := [2]int64{mg.TS, ts}
			f.Window = &w
			return f
		}
	}
	// Owner history of the slot.
	var last *analysis.SlotOwner
	for i := range m.Slots {
		s := &m.Slots[i]
		if s.CPU != cpu || s.Vector != vec || s.StartNS > ts {
			continue
		}
		if s.EndNS == nil || *s.EndNS >= ts {
			why = append(why, fmt.Sprintf("The model has irq %d on that slot (%s since %s), so the kernel's view and the trace disagree.", s.IRQ, s.State, sec(s.StartNS)))
			f.IRQ = p32(s.IRQ)
			last = nil
			break
		}
		last = s
	}
	if last != nil {
		why = append(why, fmt.Sprintf("The slot last belonged to irq %d until %s (%s, %s before): a late or stale delivery to a freed vector.",
			last.IRQ, sec(*last.EndNS), last.EndReason, dur(ts-*last.EndNS)))
		f.IRQ = p32(last.IRQ)
	}
	f.Message = strings.Join(why, " ")
	f.Lines = in.lines(lines...)
	return f
}

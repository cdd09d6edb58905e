package rules

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// LostInterrupt reports irqs that go silent after a move.
type LostInterrupt struct{ O Options }

// Doc documents the rule.
func (r *LostInterrupt) Doc() Doc {
	return Doc{
		ID:      "lost-interrupt",
		Summary: "an irq that fired steadily went silent after a move or an offline while its device stayed busy",
		Detects: "An interrupt lost during a move (torn MSI write, apic_soft_disable before fixup_irqs in 5.4-5.8, a retrigger " +
			"that never happened) leaves the device waiting: its irq stops running although the device has work. Also: a move " +
			"to a CPU that is offline, and a move whose new vector never fired (vector_free_moved never comes).",
		Evidence: "inferred: the irq's handler runs before and after the move, its sibling queues (same device name, still running in " +
			"the second half of the silence) and driver timeouts in printk that name the device; direct: a vector_update naming an offline CPU",
		Thresholds: fmt.Sprintf("at least %d runs before the move; silence longer than %.0fx the median gap and at least %v "+
			"(the run of the interrupt that carried a deferred move, on the old CPU within %v, does not end it); warning only "+
			"when the device is shown busy", r.O.MinRuns, r.O.SilenceFactor, r.O.MinSilence, r.O.RetriggerWindow),
		FalsePositives: "A device that simply went idle (I/O ended) looks the same, its move never completing included: the rule " +
			"says so when no sibling queue or driver message shows the device busy, and then reports info only. An irq displaced by " +
			"an offline and never seen again may be a managed irq the offline shut down: info when the trace cannot tell (class " +
			"unknown, no deferred move, CPU never back). Silence overlapping a trace gap is weakened to info. A silence spanning " +
			"several moves is reported once, at the first.",
	}
}

// medianRuns is how many of an irq's runs before a move give its rhythm.
const medianRuns = 256

var reTimeout = regexp.MustCompile(`(?i)timeout|timed out|not responding|lost interrupt|hung`)

// Check implements Rule.
func (r *LostInterrupt) Check(in *Input) []Finding {
	m := in.Model
	runs := runsOf(m)
	var out []Finding
	var gaps []int64
	for _, q := range m.IRQs {
		rs := runs[q.IRQ]
		silentFrom := -1 // index of the first run after the silence reported last
		for _, mg := range q.Migrations {
			if mg.ToCPU != nil && !mg.Inferred && !cpuOnlineAt(m, *mg.ToCPU, mg.TS) {
				out = append(out, Finding{Severity: Error, Evidence: Direct, TS: mg.TS, CPU: mg.ToCPU, IRQ: p32(q.IRQ), Vector: mg.ToVector,
					Title:   fmt.Sprintf("irq %d moved to offline CPU %d", q.IRQ, *mg.ToCPU),
					Message: fmt.Sprintf("At %s irq %d (%s) was given vector %s on CPU %d, which is offline: its interrupts cannot be delivered.", sec(mg.TS), q.IRQ, q.Name, vecStr(mg.ToVector), *mg.ToCPU),
					Lines:   in.lines(mg.Line)})
			}
			i := firstRunAfter(rs, mg.TS)
			if i < r.O.MinRuns {
				continue
			}
			// The irq's recent rhythm: the median of its last medianRuns gaps
			// before the move (the whole history would cost a sort per move
			// and dilute a rhythm that changed).
			gaps = gaps[:0]
			for k := max(1, i-medianRuns); k < i; k++ {
				gaps = append(gaps, rs[k].StartNS-rs[k-1].StartNS)
			}
			slices.Sort(gaps)
			median := gaps[len(gaps)/2]
			limit := max(int64(float64(median)*r.O.SilenceFactor), r.O.MinSilence.Nanoseconds())
			// A deferred move is written in the ack of an interrupt on the
			// old CPU, whose handler runs right after it: that run is the
			// move's trigger, not a sign of life on the new target.
			j := i
			if mg.Deferred && j < len(rs) && rs[j].CPU == mg.FromCPU && rs[j].StartNS-mg.TS <= r.O.RetriggerWindow.Nanoseconds() {
				j++
			}
			var next int64 = m.LastNS
			resumed := j < len(rs)
			if resumed {
				next = rs[j].StartNS
			}
			if next-mg.TS <= limit {
				continue
			}
			if i <= silentFrom {
				continue // a later move in the same silence: reported once, at its first move
			}
			silentFrom = j
			out = append(out, r.finding(in, q, mg, rs[i-1], median, next, resumed, limit, runs))
		}
	}
	return out
}

func (r *LostInterrupt) finding(in *Input, q *analysis.IRQ, mg analysis.Migration, last analysis.Invocation, median, next int64, resumed bool, limit int64, runs map[int32][]analysis.Invocation) Finding {
	m := in.Model
	f := Finding{Severity: Info, Evidence: Inferred, TS: mg.TS, IRQ: p32(q.IRQ), CPU: mg.ToCPU, Vector: mg.ToVector}
	win := [2]int64{mg.TS, next}
	f.Window = &win
	// The move's own line; for a move made by an offline (which leaves no
	// line of this irq), the old CPU's takedown_cpu step.
	lines := []int64{mg.Line, last.EntryLine}
	if mg.Inferred {
		if st := in.takedownBefore(mg.FromCPU, mg.TS); st != nil {
			lines = []int64{st.Line, st.ExitLine, last.EntryLine}
		}
	}
	var why []string
	move := "moved"
	if mg.Inferred {
		move = fmt.Sprintf("was moved off CPU %d by its offline", mg.FromCPU)
	} else {
		move = fmt.Sprintf("moved from CPU %d to CPU %s", mg.FromCPU, cpuStr(mg.ToCPU))
	}
	why = append(why, fmt.Sprintf("irq %d (%s) ran every %s (median) before it %s at %s, then", q.IRQ, q.Name, dur(median), move, sec(mg.TS)))
	if resumed {
		why = append(why, fmt.Sprintf("not again for %s (until %s).", dur(next-mg.TS), sec(next)))
	} else {
		why = append(why, fmt.Sprintf("never again in the remaining %s of the trace.", dur(next-mg.TS)))
	}
	if mg.Completion == analysis.CompletionNever {
		// Expected of an idle device too: it only corroborates a busy one.
		why = append(why, "The move never completed (no vector_free_moved): the new vector never fired.")
	}
	// The device is busy when its other irqs keep running late into the
	// silence (not merely in the few ms after the move, which an I/O
	// burst ending at the move also shows) or a driver complains.
	busy := siblingsBusy(q, runs, mg.TS+(next-mg.TS)/2, next)
	if len(busy) > 0 {
		why = append(why, "Meanwhile the same device's other irqs kept running ("+strings.Join(busy, ", ")+"), so the device was busy.")
		f.Severity = Warning
	}
	for _, t := range m.Console {
		if t.TS > mg.TS && t.TS <= next && reTimeout.MatchString(t.Text) && namesDevice(t.Text, q.Name) {
			why = append(why, fmt.Sprintf("The kernel printed \"%s\" at %s.", strings.TrimSpace(t.Text), sec(t.TS)))
			lines = append(lines, t.Line)
			f.Severity = Warning
			break
		}
	}
	// The silence matters over its first limit ns: that span must be
	// recorded on every CPU for the silence to be real.
	switch {
	case overlapsGap(m, nil, mg.TS, mg.TS+limit):
		// Some CPU was not recorded during the silence (a perf recording
		// after an offline, lost events): the irq may have run there.
		why = append(why, "Some CPU was not recorded during that time (see trace-data-loss), so the irq may have run unseen: weakened to info.")
		f.Severity, f.Weakened = Info, true
	case f.Severity > Info && mg.Inferred && mg.ToCPU == nil && !resumed && mayBeManaged(m, q, mg):
		why = append(why, fmt.Sprintf("The trace does not show whether irq %d is a managed irq (no vector_activate, no affinity move of it), "+
			"and CPU %d never came back: if it is a managed queue bound to CPU %d, the offline shut it down and the silence is expected. "+
			"Reported as info.", q.IRQ, mg.FromCPU, mg.FromCPU))
		f.Severity = Info
	case f.Severity == Info:
		why = append(why, "No sibling irq or driver message shows the device busy: it may simply have gone idle.")
	default:
		why = append(why, "An interrupt lost in the move is the likely cause (a torn MSI write, or an interrupt the kernel failed to resend from the old CPU's IRR).")
	}
	f.Title = fmt.Sprintf("irq %d silent for %s after its move", q.IRQ, dur(next-mg.TS))
	f.Message = strings.Join(why, " ")
	f.Lines = in.lines(lines...)
	return f
}

// mayBeManaged reports whether q, displaced by the offline of mg.FromCPU
// and never seen again, could be a managed irq that the offline shut down
// (the kernel's normal handling of a per-CPU queue): its class is unknown,
// no deferred affinity move shows it is movable by user space, and its CPU
// did not come back (a bring-up would have restarted a managed irq with a
// vector_activate).
func mayBeManaged(m *analysis.Model, q *analysis.IRQ, mg analysis.Migration) bool {
	if q.Class != analysis.ClassUnknown {
		return false
	}
	for _, x := range q.Migrations {
		if x.Deferred {
			return false
		}
	}
	return !cpuOnlineAt(m, mg.FromCPU, m.LastNS)
}

// siblingsBusy lists other irqs of the same device (action names sharing
// devicePrefix) that ran in (from, to).
func siblingsBusy(q *analysis.IRQ, runs map[int32][]analysis.Invocation, from, to int64) []string {
	prefix := devicePrefix(q.Name)
	if prefix == "" {
		return nil
	}
	var out []string
	for irq, rs := range runs {
		if irq == q.IRQ || len(rs) == 0 || devicePrefix(rs[0].Name) != prefix {
			continue
		}
		i := firstRunAfter(rs, from)
		if i < len(rs) && rs[i].StartNS < to {
			out = append(out, fmt.Sprintf("irq %d %s", irq, rs[0].Name))
		}
	}
	sort.Strings(out)
	return out
}

// devicePrefix is the part of an action name shared by the queues of one
// device: the name without its trailing queue number ("eth0-TxRx-3",
// "virtio1-req.2", "nvme0q4" -> "eth0-TxRx-", "virtio1-req.", "nvme0q").
// The queue number must follow a separator ('-', '.', '_', ':') or a
// letter that follows a digit (nvme0q4); other names ("ttyS0", "i8042",
// "ahci[0000:00:1f.2]") are single-vector devices ("").
func devicePrefix(name string) string {
	i := len(name)
	for i > 0 && isDigit(name[i-1]) {
		i--
	}
	if i == len(name) || i == 0 {
		return ""
	}
	switch c := name[i-1]; {
	case c == '-' || c == '.' || c == '_' || c == ':':
		return name[:i]
	case i >= 2 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') && isDigit(name[i-2]):
		return name[:i]
	}
	return ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func vecStr(v *int32) string {
	if v == nil {
		return "?"
	}
	return fmt.Sprint(*v)
}

func cpuStr(v *int32) string { return vecStr(v) }

// namesDevice reports whether a kernel message is about the device of the
// irq action name: it names the device ("nvme0", "eth1", "virtio2",
// "i40e"; "ata" for AHCI / libata irqs). A timeout of some other device,
// or a hung task, is no evidence that this one was busy.
func namesDevice(msg, action string) bool {
	stem := strings.TrimRight(devicePrefix(action), "-._:")
	if stem == "" {
		stem = action
	}
	if n := len(stem); n >= 2 && stem[n-1] == 'q' && isDigit(stem[n-2]) {
		stem = stem[:n-1] // nvme0q -> nvme0
	}
	end := 0
	for end < len(stem) && (isDigit(stem[end]) || stem[end] == '_' || stem[end] >= 'a' && stem[end] <= 'z' || stem[end] >= 'A' && stem[end] <= 'Z') {
		end++
	}
	stem = strings.ToLower(stem[:end])
	if len(stem) < 3 {
		return false
	}
	msg = strings.ToLower(msg)
	if strings.HasPrefix(stem, "ahci") || strings.HasPrefix(stem, "ata_") || strings.HasPrefix(stem, "pata") {
		return strings.Contains(msg, "ata") || strings.Contains(msg, stem)
	}
	return strings.Contains(msg, stem)
}

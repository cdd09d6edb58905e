package rules

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// UnhandledIRQ reports handlers that found nothing to do.
type UnhandledIRQ struct{ O Options }

// Doc documents the rule.
func (r *UnhandledIRQ) Doc() Doc {
	return Doc{
		ID:      "unhandled-irq",
		Summary: "irq_handler_exit ret=unhandled, unhandled storms, \"nobody cared\"",
		Detects: "Severity: info for sporadic IRQ_NONE, warning for a storm, error when the kernel disables the irq. " +
			"A handler returned IRQ_NONE: the device did not raise the interrupt (spurious, duplicate after a retrigger, " +
			"or a shared line where another action handled it). Many in a row make the kernel print \"irq N: nobody cared\" " +
			"and \"Disabling IRQ #N\", after which the irq never runs again.",
		Evidence: "direct: irq_handler_exit ret=unhandled, the printk via printk:console",
		Thresholds: fmt.Sprintf("storm: %d interrupts of one irq that no action handled within %v (the actions of one interrupt "+
			"of a shared irq run back to back on one CPU, at most %v apart)", r.O.UnhandledStorm, r.O.UnhandledWindow, dur(chainGap)),
		FalsePositives: "On a shared irq (several action names) one action's IRQ_NONE is normal when another handled the interrupt: " +
			"those are info, not warnings.",
	}
}

var (
	reNobodyCared = regexp.MustCompile(`irq (\d+): nobody cared`)
	reDisabling   = regexp.MustCompile(`Disabling IRQ #(\d+)`)
)

// Check implements Rule.
func (r *UnhandledIRQ) Check(in *Input) []Finding {
	m := in.Model
	var out []Finding
	byIRQ := map[int32][]int{}
	for i, h := range m.Handlers {
		if !h.Handled {
			byIRQ[h.IRQ] = append(byIRQ[h.IRQ], i)
		}
	}
	for irq, idx := range byIRQ {
		q := irqByNum(m, irq)
		shared := q != nil && len(q.Actions) > 1
		first := m.Handlers[idx[0]]
		// Sporadic IRQ_NONE is common (the 8250 UART under qemu, shared
		// lines): the kernel itself only acts on 99,900 of 100,000. Info
		// unless it is a storm.
		f := Finding{Severity: Info, Evidence: Direct, TS: first.StartNS, CPU: p32(first.CPU), IRQ: p32(irq)}
		var lines []int64
		for _, i := range idx[:min(len(idx), 5)] {
			lines = append(lines, m.Handlers[i].ExitLine)
		}
		name := ""
		if q != nil {
			name = q.Name
		}
		f.Title = fmt.Sprintf("irq %d (%s): %d unhandled handler runs", irq, name, len(idx))
		f.Message = fmt.Sprintf("irq %d (%s) returned IRQ_NONE %d times, first at %s on CPU %d.", irq, name, len(idx), sec(first.StartNS), first.CPU)
		if shared {
			f.Message += " The irq is shared (" + strings.Join(q.Actions, ", ") + "), so an action finding nothing is expected when another one handled it."
		}
		// Storm: UnhandledStorm interrupts that no action handled within
		// UnhandledWindow. On a shared line one interrupt runs every
		// action in turn; like the kernel's note_interrupt, count it as
		// unhandled only when all of them returned IRQ_NONE.
		starts := unhandledInterrupts(m, irq)
		w := r.O.UnhandledWindow.Nanoseconds()
		for a, b := 0, 0; b < len(starts); b++ {
			for starts[b]-starts[a] > w {
				a++
			}
			if b-a+1 >= r.O.UnhandledStorm {
				f.Severity = Warning
				f.Title = fmt.Sprintf("irq %d (%s): unhandled interrupt storm", irq, name)
				f.Message += fmt.Sprintf(" %d interrupts that no action handled fell within %s from %s: a storm; the kernel disables an irq after 99,900 of 100,000 go unhandled.",
					b-a+1, dur(w), sec(starts[a]))
				win := [2]int64{starts[a], starts[b]}
				f.Window = &win
				break
			}
		}
		if shared && f.Severity == Info {
			f.Message += " No interrupt went unhandled by every action."
		}
		f.Lines = in.lines(lines...)
		out = append(out, f)
	}
	for _, t := range m.Console {
		var re *regexp.Regexp
		switch {
		case reNobodyCared.MatchString(t.Text):
			re = reNobodyCared
		case reDisabling.MatchString(t.Text):
			re = reDisabling
		default:
			continue
		}
		n, _ := strconv.Atoi(re.FindStringSubmatch(t.Text)[1])
		out = append(out, Finding{Severity: Error, Evidence: Direct, TS: t.TS, CPU: p32(t.CPU), IRQ: p32(int32(n)),
			Title:   fmt.Sprintf("irq %d disabled by the kernel", n),
			Message: fmt.Sprintf("The kernel printed \"%s\" at %s: the irq had too many unhandled interrupts and is disabled; its device gets no more interrupts until it is re-enabled.", strings.TrimSpace(t.Text), sec(t.TS)),
			Lines:   in.lines(t.Line)})
	}
	return out
}

// chainGap bounds the pause between two actions of one interrupt of a
// shared irq (the kernel calls them back to back).
const chainGap = 50_000

// unhandledInterrupts returns the start times of the interrupts of irq
// that no action handled: its handler runs grouped per interrupt (runs of
// distinct actions on one CPU, each starting within chainGap of the
// previous one's end), in time order.
func unhandledInterrupts(m *analysis.Model, irq int32) []int64 {
	type group struct {
		start, end int64
		names      []string
		handled    bool
	}
	open := map[int32]*group{}
	var out []int64
	flush := func(g *group) {
		if g != nil && !g.handled {
			out = append(out, g.start)
		}
	}
	for _, h := range m.Handlers {
		if h.IRQ != irq {
			continue
		}
		g := open[h.CPU]
		if g != nil && h.StartNS >= g.end && h.StartNS-g.end <= chainGap && !slices.Contains(g.names, h.Name) {
			g.end, g.names, g.handled = h.EndNS, append(g.names, h.Name), g.handled || h.Handled
			continue
		}
		flush(g)
		open[h.CPU] = &group{start: h.StartNS, end: h.EndNS, names: []string{h.Name}, handled: h.Handled}
	}
	for _, g := range open {
		flush(g)
	}
	slices.Sort(out)
	return out
}

package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// Event is one line of an ftrace `trace` file.
type Event struct {
	TS    int64 // ns since boot; printed as seconds.microseconds (rounded)
	CPU   int32
	Comm  string
	PID   int32
	Flags string // the 5-character irq-info column, e.g. "d.h1."
	// Name is the event name; empty for a function-tracer line, whose
	// Body is then "func <-parent".
	Name string
	Body string
}

// Ref names an event added to a Trace, to find its line after Render.
type Ref int

// Trace collects events and renders them as the `trace` file of a tracefs
// instance (nop tracer, default options: irq-info on, annotate on).
type Trace struct {
	CPUs   int
	Tracer string // "nop" unless set
	events []Event
	losses []loss
	// started lists CPUs whose oldest events were overwritten: their first
	// event gets a "##### CPU N buffer started ####" line.
	started map[int32]bool
	// overwritten counts events lost at the start of buffers (for the
	// entries-written header field).
	overwritten int64
}

type loss struct {
	cpu      int32
	from, to int64
}

// Emit adds e and returns its reference.
func (t *Trace) Emit(e Event) Ref {
	t.events = append(t.events, e)
	return Ref(len(t.events) - 1)
}

// Event returns the event of r.
func (t *Trace) Event(r Ref) Event { return t.events[r] }

// Lose drops cpu's events with from < ts < to, as a ring buffer overrun
// does while the trace is read, and prints "CPU:N [LOST EVENTS]" before the
// CPU's first surviving event after the gap.
func (t *Trace) Lose(cpu int32, from, to int64) {
	t.losses = append(t.losses, loss{cpu, from, to})
}

// BufferStarted marks cpu's buffer as overrun before its first event:
// n older events were overwritten.
func (t *Trace) BufferStarted(cpu int32, n int64) {
	if t.started == nil {
		t.started = map[int32]bool{}
	}
	t.started[cpu] = true
	t.overwritten += n
}

func (t *Trace) lost(e *Event) bool {
	for _, l := range t.losses {
		if l.cpu == e.CPU && e.TS > l.from && e.TS < l.to {
			return true
		}
	}
	return false
}

// Render writes the trace text. lines[r] is the 1-based line of event r,
// 0 for an event dropped by Lose.
func (t *Trace) Render() (text []byte, lines []int64) {
	order := make([]int, len(t.events))
	for i := range order {
		order[i] = i
	}
	// The trace file merges the per-CPU buffers by timestamp, the lower
	// CPU first on a tie; one CPU's events keep their order.
	sort.SliceStable(order, func(a, b int) bool {
		x, y := &t.events[order[a]], &t.events[order[b]]
		if us(x.TS) != us(y.TS) {
			return us(x.TS) < us(y.TS)
		}
		return x.CPU < y.CPU
	})
	lines = make([]int64, len(t.events))
	var kept int64
	dropped := map[int32]int64{}
	for _, i := range order {
		if t.lost(&t.events[i]) {
			dropped[t.events[i].CPU]++
		} else {
			kept++
		}
	}
	var lostAll int64
	for _, n := range dropped {
		lostAll += n
	}
	var b strings.Builder
	tracer := t.Tracer
	if tracer == "" {
		tracer = "nop"
	}
	fmt.Fprintf(&b, "# tracer: %s\n#\n", tracer)
	fmt.Fprintf(&b, "# entries-in-buffer/entries-written: %d/%d   #P:%d\n", kept, kept+lostAll+t.overwritten, t.CPUs)
	b.WriteString(header)
	no := int64(strings.Count(b.String(), "\n"))
	seen := map[int32]bool{}
	pending := map[int32]bool{} // a LOST marker is due before the CPU's next event
	first := true
	for _, i := range order {
		e := &t.events[i]
		if t.lost(e) {
			pending[e.CPU] = true
			continue
		}
		if !seen[e.CPU] {
			seen[e.CPU] = true
			if t.started[e.CPU] && !first {
				fmt.Fprintf(&b, "##### CPU %d buffer started ####\n", e.CPU)
				no++
			}
		}
		if pending[e.CPU] {
			fmt.Fprintf(&b, "CPU:%d [LOST EVENTS]\n", e.CPU)
			no++
			pending[e.CPU] = false
		}
		first = false
		b.WriteString(FormatLine(*e))
		b.WriteByte('\n')
		no++
		lines[i] = no
	}
	return []byte(b.String()), lines
}

const header = `#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |
`

// us rounds ns to microseconds as the kernel's ns2usecs does.
func us(ns int64) int64 { return (ns + 500) / 1000 }

// FormatLine renders one event as the kernel prints it
// (print_trace_fmt: "%16s-%-7d [%03d] %s %5lu.%06lu: ...").
func FormatLine(e Event) string {
	comm := e.Comm
	if len(comm) > 15 {
		comm = comm[:15]
	}
	u := us(e.TS)
	if e.Name == "" {
		return fmt.Sprintf("%16s-%-7d [%03d] %s %5d.%06d: %s", comm, e.PID, e.CPU, e.Flags, u/1e6, u%1e6, e.Body)
	}
	return fmt.Sprintf("%16s-%-7d [%03d] %s %5d.%06d: %s: %s", comm, e.PID, e.CPU, e.Flags, u/1e6, u%1e6, e.Name, e.Body)
}

package analysis

import (
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/irqtrace/irqtrace/ftrace"
)

// Text is a printk:console message or a trace_marker write, kept so that
// rules can match kernel messages and reports can show scenario markers.
type Text struct {
	TS   int64  `json:"ts_ns"`
	CPU  int32  `json:"cpu"`
	Line int64  `json:"line"`
	Text string `json:"text"`
}

// Call is a function-tracer (or kprobe) hit of a function that matters to
// interrupt delivery (see TracedFunctions).
type Call struct {
	TS     int64  `json:"ts_ns"`
	CPU    int32  `json:"cpu"`
	Line   int64  `json:"line"`
	Func   string `json:"func"`
	Caller string `json:"caller,omitempty"`
}

// TracedFunctions are the functions whose function-tracer entries the
// model keeps: retriggers, irq moves and the hotplug fixup.
var TracedFunctions = map[string]bool{
	"apic_retrigger_irq": true, "irq_chip_retrigger_hierarchy": true, "__irq_move_irq": true,
	"irq_move_masked_irq": true, "fixup_irqs": true, "irq_migrate_all_off_this_cpu": true,
	"apic_force_complete_move": true, "lapic_offline": true, "irq_force_complete_move": true,
	"check_irq_resend": true, "irq_sw_resend": true, "resend_irqs": true,
	"apic_soft_disable": true, "native_cpu_disable": true, "vector_cleanup_callback": true,
	"__vector_cleanup": true, "free_moved_vector": true,
}

// SchedEvent is a sched_switch or sched_wakeup/sched_waking (from the
// generic key=value split), for the hotplug lost-wakeup check.
type SchedEvent struct {
	TS   int64  `json:"ts_ns"`
	CPU  int32  `json:"cpu"`
	Line int64  `json:"line"`
	Kind string `json:"kind"` // switch, wakeup, waking, wakeup_new
	// switch: the task leaving (PID, State) and entering (NextPID);
	// wakeups: the task woken (PID) and its target CPU.
	PID       int32  `json:"pid"`
	State     string `json:"state,omitempty"`
	NextPID   int32  `json:"next_pid,omitempty"`
	TargetCPU int32  `json:"target_cpu,omitempty"`
	Comm      string `json:"comm,omitempty"`
}

func (b *builder) function(e *ev) {
	if TracedFunctions[e.str] {
		b.m.Calls = append(b.m.Calls, Call{TS: e.ts, CPU: e.cpu, Line: e.line, Func: e.str, Caller: e.str2})
	}
}

func (b *builder) sched(e *ev) {
	if e.sched != nil {
		s := *e.sched
		s.TS, s.CPU, s.Line = e.ts, e.cpu, e.line
		b.m.Sched = append(b.m.Sched, s)
	}
}

// schedEvent reads a sched event's fields from the args map of row i.
func schedEvent(name string, args *array.Map, i int) (ev, bool) {
	if args.IsNull(i) {
		return ev{}, false
	}
	start, end := args.ValueOffsets(i)
	keys := args.Keys().(*array.String)
	vals := args.Items().(*array.String)
	s := &SchedEvent{Kind: name[len("sched_"):], TargetCPU: -1}
	for j := int(start); j < int(end); j++ {
		v := vals.Value(j)
		n, _ := ftrace.ParseInt([]byte(v))
		switch keys.Value(j) {
		case "prev_pid", "pid":
			s.PID = int32(n)
		case "next_pid":
			s.NextPID = int32(n)
		case "prev_state":
			s.State = v
		case "target_cpu":
			s.TargetCPU = int32(n)
		case "prev_comm", "comm":
			s.Comm = v
		}
	}
	return ev{id: ftrace.EvUnknown, sched: s}, true
}

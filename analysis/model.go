package analysis

import "encoding/json"

// Model is the lifecycle model of one recording. All timestamps are in
// the recording's clock (ns for UnitNS inputs). Slices are in time order.
type Model struct {
	File     string        `json:"file"`
	FirstNS  int64         `json:"first_ts_ns"`
	LastNS   int64         `json:"last_ts_ns"`
	Events   int64         `json:"events_read"`
	IRQs     []*IRQ        `json:"irqs"`
	Slots    []SlotOwner   `json:"slots"`
	CPUs     []*CPU        `json:"cpus"`
	Matrix   MatrixSummary `json:"matrix"`
	Handlers []Invocation  `json:"-"`
	Sysvecs  []Invocation  `json:"-"`
	Softirqs []SoftirqRun  `json:"-"`
	IPIs     []IPIDelivery `json:"-"`
	Coverage []Coverage    `json:"coverage"`
	// MatrixPoints are the irq_matrix counters the kernel printed, one
	// per irq_matrix_* event (for counter tracks and plots).
	MatrixPoints []MatrixPoint `json:"-"`
	Console      []Text        `json:"-"` // printk:console messages
	Markers      []Text        `json:"-"` // trace_marker writes
	Calls        []Call        `json:"-"` // function-tracer hits of TracedFunctions
	Sched        []SchedEvent  `json:"-"`
	Anomalies    []Anomaly     `json:"anomalies"`
	Counts       Counts        `json:"counts"`

	irqs map[int32]*IRQ
	cpus map[int32]*CPU
}

// Counts summarises the pairing work (orphans are events whose partner is
// outside the trace: exits at its start, entries at its end).
type Counts struct {
	Handlers         int64 `json:"handler_invocations"`
	HandlerOrphans   int64 `json:"handler_orphan_exits"`
	HandlerOpen      int64 `json:"handler_open_entries"`
	Sysvecs          int64 `json:"sysvec_invocations"`
	SysvecOrphans    int64 `json:"sysvec_orphan_exits"`
	SysvecOpen       int64 `json:"sysvec_open_entries"`
	Softirqs         int64 `json:"softirq_runs"`
	SoftirqOrphans   int64 `json:"softirq_orphan_exits"`
	SoftirqOpen      int64 `json:"softirq_open_entries"`
	IPISends         int64 `json:"ipi_sends"`
	IPIUnanswered    int64 `json:"ipi_unanswered"`
	HotplugSteps     int64 `json:"hotplug_steps"`
	HotplugUnpaired  int64 `json:"hotplug_unpaired"`
	Migrations       int64 `json:"migrations"`
	InferredMoves    int64 `json:"inferred_migrations"`
	MatrixChecks     int64 `json:"matrix_checks"`
	MatrixMismatches int64 `json:"matrix_mismatches"`
}

// IRQ is the life of one Linux irq number.
type IRQ struct {
	IRQ   int32  `json:"irq"`
	Name  string `json:"name"` // first action name seen in irq_handler_entry
	Class string `json:"class"`
	// Actions lists every action name seen (shared irqs have several).
	Actions      []string        `json:"actions,omitempty"`
	Activations  []Activation    `json:"activations"`
	Assignments  []Assignment    `json:"assignments"`
	Migrations   []Migration     `json:"migrations"`
	Parked       []Interval      `json:"parked"`
	HandlerCount int64           `json:"handler_count"`
	HandlerCPUs  map[int32]int64 `json:"handler_cpus"`
	Unhandled    int64           `json:"unhandled"`
	TornDownNS   *int64          `json:"torn_down_ns"`
	Failures     []AllocFailure  `json:"alloc_failures,omitempty"`

	cur      int // index of the current assignment, -1 if none
	parkedAt int // index of the open parked interval, -1 if none
	shutdown *Migration
	shutAct  int     // activation ended by the offline that displaced it, -1 if none
	hcpu     []int64 // handler runs per CPU while building (HandlerCPUs at the end)
	open     []int   // indices of the migrations in progress, in order
	hops     []int32 // CPUs that went offline while shutdown's destination was unknown
}

// Classes of irqs (from vector_activate/vector_setup; see tracepoints.md 2.2).
const (
	ClassManaged     = "managed"
	ClassReservation = "reservation-mode"
	ClassFixed       = "non-maskable" // is_managed=0 can_reserve=0
	ClassLegacy      = "legacy"
	ClassUnknown     = "unknown"
)

// Activation is one vector_activate .. vector_deactivate span.
type Activation struct {
	StartNS   int64  `json:"start_ns"`
	EndNS     *int64 `json:"end_ns"`
	Reserve   bool   `json:"reserve"` // early activation in reservation mode
	StartLine int64  `json:"start_line"`
	EndLine   int64  `json:"end_line,omitempty"`
}

// Assignment is one interval during which the irq targeted (cpu, vector).
// CPU or Vector is null while an inferred move's destination is unknown.
type Assignment struct {
	CPU         *int32 `json:"cpu"`
	Vector      *int32 `json:"vector"`
	StartNS     int64  `json:"start_ns"`
	EndNS       *int64 `json:"end_ns"`
	StartReason string `json:"start_reason"`
	EndReason   string `json:"end_reason"`
	StartLine   int64  `json:"start_line"`
	EndLine     int64  `json:"end_line,omitempty"`
	Inferred    bool   `json:"inferred"`
	// Clipped: the assignment began before the trace or before the irq
	// was first seen (StartLine is that first sighting). StartNS is then
	// the earliest time the trace vouches for: the start of the trace
	// (StartReason "before_trace"), or the last CPU offline or online that
	// could have brought the irq there without events ("first_seen").
	// Other start reasons: vector_update (first vector), migrated,
	// cpu_offline_move (inferred), resync (after an anomaly),
	// observed_handler. End reasons: migrated, cpu_offline, clear,
	// teardown, replaced, resync.
	Clipped bool `json:"clipped"`
}

// Completion values of a migration.
const (
	CompletionFreeMoved     = "free_moved"
	CompletionForcedOffline = "forced_offline"
	CompletionClear         = "clear"
	CompletionNever         = "never"
)

// Migration is one change of an irq's target.
type Migration struct {
	TS         int64  `json:"ts_ns"`
	FromCPU    int32  `json:"from_cpu"`
	FromVector *int32 `json:"from_vector"`
	ToCPU      *int32 `json:"to_cpu"`
	ToVector   *int32 `json:"to_vector"`
	// EmitCPU is the CPU that wrote the vector_update (null if inferred);
	// Deferred: it ran in hardirq context on the old target (the move was
	// deferred to the irq's next interrupt).
	EmitCPU  *int32 `json:"emit_cpu"`
	Deferred bool   `json:"deferred"`
	Inferred bool   `json:"inferred"`
	// Evidence says what an inferred move rests on.
	Evidence       string `json:"evidence,omitempty"`
	CompletedNS    *int64 `json:"completed_ns"`
	Completion     string `json:"completion"`
	Line           int64  `json:"line"`
	CompletionLine int64  `json:"completion_line,omitempty"`
}

// Interval is a time span; End is null if open at the end of the trace.
type Interval struct {
	StartNS int64  `json:"start_ns"`
	EndNS   *int64 `json:"end_ns"`
	Line    int64  `json:"line"`
}

// AllocFailure is a vector_alloc* or vector_reserve* with ret < 0.
type AllocFailure struct {
	TS   int64  `json:"ts_ns"`
	Ret  int32  `json:"ret"`
	What string `json:"event"`
	Line int64  `json:"line"`
}

// SlotOwner is one interval of the per-CPU vector table: irq owned
// (cpu, vector), State "owned" or "moving" (the old slot of a move in
// progress, reserved until the move completes).
type SlotOwner struct {
	CPU       int32  `json:"cpu"`
	Vector    int32  `json:"vector"`
	IRQ       int32  `json:"irq"`
	StartNS   int64  `json:"start_ns"`
	EndNS     *int64 `json:"end_ns"`
	State     string `json:"state"`
	EndReason string `json:"end_reason"`
	Inferred  bool   `json:"inferred"`
}

// CPU is one CPU's hotplug life.
type CPU struct {
	CPU              int32         `json:"cpu"`
	OfflineIntervals [][2]*int64   `json:"offline_intervals"`
	HotplugSteps     []HotplugStep `json:"hotplug_steps"`
	TakeDowns        []Window      `json:"takedown_windows"`
	BringUps         []Window      `json:"bringup_windows"`

	online   bool
	bringing bool // a bring-up of this CPU is under way
	dying    bool // takedown_cpu has begun and not ended
	// open handler / system vector / softirq entries, and the first
	// softirq raise per vec not yet run, while building
	hstack, sstack []Invocation
	sopen          []SoftirqRun
	raised         map[int32]int64
	offTS          int64
	onTS           int64
	offAt          int // index of the open offline interval, -1 if online
	curDown        int // index of the open take-down window, -1 if none
	curUp          int
	matrix         cpuMatrix
	firstOff       *int64
	seen           bool
	firstEvent     int64
	lastEvent      int64
}

// Window is a take-down or bring-up: from the first cpuhp step of the
// cycle to the last one's exit.
type Window struct {
	StartNS int64  `json:"start_ns"`
	EndNS   *int64 `json:"end_ns"`
	Steps   int    `json:"steps"`
	Line    int64  `json:"line"`
}

// HotplugStep is one cpuhp callback run (cpuhp_enter or
// cpuhp_multi_enter paired with its cpuhp_exit).
type HotplugStep struct {
	TS         int64  `json:"ts_ns"`
	Callback   string `json:"callback"`
	Step       int32  `json:"step"`
	Target     int32  `json:"target"`
	State      *int32 `json:"state"` // state reached, from cpuhp_exit
	RunOnCPU   int32  `json:"run_on_cpu"`
	DurationNS *int64 `json:"duration_ns"`
	Ret        *int32 `json:"ret"`
	Multi      bool   `json:"multi"`
	Down       bool   `json:"down"` // a teardown step (step above target)
	Line       int64  `json:"line"`
	ExitLine   int64  `json:"exit_line,omitempty"`
}

// Invocation is one handler run: a device irq handler (IRQ set) or a
// system vector (Name = the vector's event name stem, e.g. local_timer).
type Invocation struct {
	CPU       int32  `json:"cpu"`
	IRQ       int32  `json:"irq"`
	Vector    int32  `json:"vector"`
	Name      string `json:"name"`
	StartNS   int64  `json:"start_ns"`
	EndNS     int64  `json:"end_ns"`
	Handled   bool   `json:"handled"`
	Depth     int32  `json:"depth"` // nesting depth on its CPU, 0 = outermost
	EntryLine int64  `json:"entry_line"`
	ExitLine  int64  `json:"exit_line"`
}

// SoftirqRun is one softirq entry..exit with its raise latency.
type SoftirqRun struct {
	CPU       int32  `json:"cpu"`
	Vec       int32  `json:"vec"`
	Action    string `json:"action"`
	RaiseNS   *int64 `json:"raise_ns"`
	StartNS   int64  `json:"start_ns"`
	EndNS     int64  `json:"end_ns"`
	EntryLine int64  `json:"entry_line"`
}

// IPIDelivery is an ipi_send_cpu/ipi_send_cpumask paired with the receive
// on one target CPU. ReceiveNS is null when no receive followed.
type IPIDelivery struct {
	FromCPU   int32  `json:"from_cpu"`
	ToCPU     int32  `json:"to_cpu"`
	Kind      string `json:"kind"` // reschedule, call_function_single, call_function, irq_work
	Callback  string `json:"callback"`
	SendNS    int64  `json:"send_ns"`
	ReceiveNS *int64 `json:"receive_ns"`
	SendLine  int64  `json:"send_line"`
	RecvLine  int64  `json:"receive_line,omitempty"`
	// Clipped: a LOST gap on the target CPU followed the send before any
	// receive, which may be in the gap; not counted as unanswered.
	Clipped bool `json:"clipped,omitempty"`
}

// Coverage is a per-CPU window in which the trace holds every event.
type Coverage struct {
	CPU     int32  `json:"cpu"`
	StartNS int64  `json:"start_ns"`
	EndNS   int64  `json:"end_ns"`
	Reason  string `json:"end_reason"` // trace_end, lost_events, perf_offline
}

// Anomaly is an event that contradicts the model (kept, counted, and the
// model resynchronised to the kernel's word) or a fact worth a look.
type Anomaly struct {
	Kind    string `json:"kind"`
	TS      int64  `json:"ts_ns"`
	CPU     int32  `json:"cpu"`
	IRQ     *int32 `json:"irq"`
	Line    int64  `json:"line"`
	Message string `json:"message"`
	// Explained marks mismatches the model can account for (e.g. matrix
	// counters changed by an untraced CPU offline).
	Explained bool `json:"explained"`
}

// MatrixPoint is the state of the vector matrix after one irq_matrix_*
// event, as the kernel printed it. CPU is the map's CPU for the per-CPU
// events and -1 for the global ones (whose Avl, Alloc, Managed are -1).
type MatrixPoint struct {
	TS         int64  `json:"ts_ns"`
	Line       int64  `json:"line"`
	Event      string `json:"event"`
	CPU        int32  `json:"cpu"`
	Avl        int32  `json:"avl"`
	Alloc      int32  `json:"alloc"`
	Managed    int32  `json:"managed"`
	OnlineMaps int32  `json:"online_maps"`
	GlobalAvl  int64  `json:"global_avl"`
	GlobalRsvd int64  `json:"global_rsvd"`
	TotalAlloc int64  `json:"total_alloc"`
}

// MatrixSummary reports the irq_matrix cross-check.
type MatrixSummary struct {
	Events      int64 `json:"events"`
	Checks      int64 `json:"checks"`
	Matches     int64 `json:"matches"`
	Explained   int64 `json:"explained_mismatches"`
	Unexplained int64 `json:"unexplained_mismatches"`
}

// MarshalJSON writes IRQ (for system vectors) and Vector (for device irq
// handlers, whose vector the trace does not say) as null when absent.
func (i Invocation) MarshalJSON() ([]byte, error) {
	type plain Invocation
	return json.Marshal(struct {
		plain
		IRQ    *int32 `json:"irq"`
		Vector *int32 `json:"vector"`
	}{plain(i), p32(i.IRQ), p32(i.Vector)})
}

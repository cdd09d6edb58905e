package scenario

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
)

// Kernel is what one kernel version traces and how it words things.
type Kernel struct {
	Release string
	// IPIEvents: ipi_send_cpu / ipi_send_cpumask exist (6.3+).
	IPIEvents bool
	// TimerCleanup: the old vector of a move is freed from a TIMER softirq
	// on the old CPU (6.6+) instead of the cleanup IPI's hardirq.
	TimerCleanup bool
	// LocalTimer: local_timer_entry/exit are in the recorded event set.
	LocalTimer bool
	// NoHandler is the printk of a device vector with no handler.
	NoHandler string // format with %d.%d for cpu.vector
}

// Kernel61 is Debian's 6.1, the kernel of the real recordings: no ipi
// events, cleanup by IPI, "__common_interrupt: C.V No irq handler".
var Kernel61 = Kernel{Release: "6.1.0-50-amd64", NoHandler: "__common_interrupt: %d.%d No irq handler for vector"}

// Kernel66 is a 6.6 stable kernel: ipi_send_cpu, timer-based cleanup.
var Kernel66 = Kernel{Release: "6.6.58", IPIEvents: true, TimerCleanup: true, LocalTimer: true,
	NoHandler: "__common_interrupt: %d.%d No irq handler for vector"}

type task struct {
	comm string
	pid  int32
}

var idleTask = task{"<idle>", 0}

type cpu struct {
	id     int32
	online bool
	busy   int64 // hardirq context busy until
	cur    task
	until  int64
	pool   []task
	// matrix counters (kernel/irq/matrix.c semantics)
	avl, alloc, managed int32
	used                map[int32]int32 // vector -> irq (owned or moving)
	last                int64           // last event written
	// sched mode: the running task changes only by sched_switch.
	inactive  bool  // removed from the active mask (going down)
	schedFree int64 // the CPU runs no task before this
}

// IRQ is one simulated Linux irq and the device queue behind it.
type IRQ struct {
	N    int32
	Name string
	// Actions are the action names of a shared line (Name first).
	Actions []string
	// Managed irqs are bound to ManagedCPU (kernel-spread queues): shut
	// down when it goes offline, restarted when it comes back.
	Managed    bool
	ManagedCPU int32
	CPU, Vec   int32
	// Gap is the mean time between the device's interrupts.
	Gap int64
	// Dur bounds one handler run.
	Dur [2]int64
	// Stopped: the device raises no more interrupts (lost edge, idle).
	Stopped bool
	// Unhandled is the probability that a run returns IRQ_NONE; for a
	// shared line, SharedNone makes every action but the first do so.
	Unhandled  float64
	SharedNone bool
	// NoCleanup: the cleanup of a completed move never runs (vector leak).
	NoCleanup bool
	// OnMove runs after the events of each deferred move were written.
	OnMove func(s *Sim, q *IRQ, mv *Move)
	// OnOffline runs when the irq is moved off a dying CPU; it returns
	// whether the dying CPU's IRR held the vector (then fixup_irqs resends
	// it to the new target).
	OnOffline func(s *Sim, q *IRQ, from, to int32) bool

	prevCPU, prevVec int32 // move in progress (prevVec 0: none)
	pendTo           int32 // deferred affinity change (-1: none)
	pendAt           int64
	parked           bool
	from, to         int64
	// Moves records the moves, for labels.
	Moves []*Move
	// Runs counts handler runs per CPU.
	Runs map[int32]int
}

// Move is one vector_update of an irq (or an offline move, Inferred).
type Move struct {
	TS                       int64
	From, FromVec, To, ToVec int32
	Update                   Ref // the vector_update line (-1 for an offline move)
	Inferred                 bool
	// FirstOnNew is the first handler run on the new CPU (0 if none).
	FirstOnNew int64
	FirstRef   Ref
	Freed      int64 // vector_free_moved time (0 if none)
}

// Sim is a small x86 machine that writes what its tracepoints would.
type Sim struct {
	R     *rand.Rand
	K     Kernel
	T     *Trace
	Start int64
	End   int64
	cpus  []*cpu
	irqs  []*IRQ
	rsvd  int32
	q     actions
	seq   int
	pid   int32
	// BusyIPI: background IPI and reschedule traffic per CPU (mean gaps).
	ReschedGap, CallGap int64
	// TimerGap: local_timer interrupts on busy CPUs (Kernel.LocalTimer).
	TimerGap int64
	// RetriggerProb: probability that an irq moved off a dying CPU had an
	// interrupt pending in its IRR (resent by fixup_irqs).
	RetriggerProb float64
	// Sched: sched_switch / sched_waking / sched_wakeup are recorded and
	// every CPU's running task follows them (see sched.go).
	Sched bool
	// deafFrom: CPUs that never take call-function IPIs after a time.
	deafFrom map[int32]int64
	users    []task // user tasks, shared by the CPUs
	running  map[int32]runSlot
}

type runSlot struct {
	cpu   int32
	until int64
}

// NewSim returns a machine with n CPUs traced from start to end (ns).
func NewSim(seed uint64, k Kernel, n int, start, end int64) *Sim {
	s := &Sim{R: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), K: k, Start: start, End: end,
		T: &Trace{CPUs: n}, rsvd: int32(8 + n), pid: 900 + int32(seed%4000),
		ReschedGap: 35e6, CallGap: 30e6, TimerGap: 8e6, RetriggerProb: 0.25, deafFrom: map[int32]int64{}, running: map[int32]runSlot{}}
	for i := 0; i < n; i++ {
		c := &cpu{id: int32(i), online: true, cur: idleTask, avl: 200, used: map[int32]int32{}}
		s.cpus = append(s.cpus, c)
	}
	return s
}

// CPUs returns the number of CPUs.
func (s *Sim) CPUs() int { return len(s.cpus) }

// Online reports whether cpu is online now (at the simulation's clock).
func (s *Sim) IsOnline(c int32) bool { return s.cpus[c].online }

// ---- randomness ----

// Us returns a uniform duration in [lo, hi] microseconds, in ns.
func (s *Sim) Us(lo, hi int64) int64 {
	if hi <= lo {
		return lo * 1000
	}
	return (lo + s.R.Int64N(hi-lo+1)) * 1000
}

// Exp returns an exponential duration of mean m (ns), at least 20 µs,
// rounded to µs.
func (s *Sim) Exp(m int64) int64 {
	d := int64(-math.Log(1-s.R.Float64()) * float64(m))
	if d < 20000 {
		d = 20000
	}
	return d / 1000 * 1000
}

// Pick returns one of xs.
func Pick[T any](s *Sim, xs ...T) T { return xs[s.R.IntN(len(xs))] }

// NewPID returns a fresh task pid.
func (s *Sim) NewPID() int32 {
	s.pid += 1 + int32(s.R.IntN(7))
	return s.pid
}

// ---- the action queue ----

type action struct {
	t   int64
	seq int
	fn  func()
}

type actions []action

func (a actions) Len() int { return len(a) }
func (a actions) Less(i, j int) bool {
	if a[i].t != a[j].t {
		return a[i].t < a[j].t
	}
	return a[i].seq < a[j].seq
}
func (a actions) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *actions) Push(x any)   { *a = append(*a, x.(action)) }
func (a *actions) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// At runs fn at time t (ns), in time order with every other action.
func (s *Sim) At(t int64, fn func()) {
	s.seq++
	heap.Push(&s.q, action{t, s.seq, fn})
}

// Run processes the actions up to the end of the trace.
func (s *Sim) Run() {
	for s.q.Len() > 0 {
		a := heap.Pop(&s.q).(action)
		if a.t > s.End {
			continue
		}
		a.fn()
	}
}

// ---- tasks and emission ----

// current returns the task running on c at t (changes every few ms; the
// idle task about half of the time).
func (s *Sim) current(c *cpu, t int64) task {
	if s.Sched || t < c.until {
		return c.cur
	}
	if len(s.users) == 0 {
		for _, n := range []string{"dd", "dd", "fio", "fio", "sleep", "bash", "irqbalance", "systemd-journal", "rig-init.sh"} {
			s.users = append(s.users, task{n, s.NewPID()})
		}
	}
	if len(c.pool) == 0 {
		c.pool = append([]task{{fmt.Sprintf("kworker/%d:1", c.id), 40 + 7*c.id}, {fmt.Sprintf("ksoftirqd/%d", c.id), 16 + 5*c.id}}, s.users...)
	}
	c.cur = idleTask
	c.until = t + s.Exp(3e6)
	if s.R.Float64() >= 0.45 {
		// A task runs on one CPU at a time.
		tk := c.pool[s.R.IntN(len(c.pool))]
		if r, ok := s.running[tk.pid]; !ok || r.until <= t || r.cpu == c.id {
			c.cur = tk
			s.running[tk.pid] = runSlot{c.id, c.until}
		}
	}
	return c.cur
}

// SetCurrent makes tk the task running on cpu c from t for d ns.
func (s *Sim) SetCurrent(c int32, comm string, pid int32, t, d int64) {
	s.cpus[c].cur, s.cpus[c].until = task{comm, pid}, t+d
}

// hardFlags returns the flags of a hardirq-context event: preempt depth 1
// for the idle task, 0 or 1 for others; an exit may have need-resched set.
func (s *Sim) hardFlags(tk task, exit bool) string {
	f := s.runFlags(tk)
	if exit {
		f = s.exitFlags(f)
	}
	return f
}

func (s *Sim) runFlags(tk task) string {
	if tk.pid == 0 || s.R.IntN(2) == 0 {
		return "d.h1."
	}
	return "d.h.."
}

func (s *Sim) exitFlags(entry string) string {
	if s.R.IntN(3) == 0 {
		return entry[:1] + "N" + entry[2:]
	}
	return entry
}

// Emit writes an event on cpu c at t with the running task's comm, unless
// c is offline (nothing is traced on an offline CPU). It returns -1 when
// dropped.
func (s *Sim) Emit(t int64, c int32, flags, name, body string) Ref {
	cc := s.cpus[c]
	if !cc.online {
		return -1
	}
	tk := s.current(cc, t)
	return s.EmitAs(t, c, tk.comm, tk.pid, flags, name, body)
}

// EmitAs writes an event with an explicit task.
func (s *Sim) EmitAs(t int64, c int32, comm string, pid int32, flags, name, body string) Ref {
	cc := s.cpus[c]
	if !cc.online {
		return -1
	}
	if t > cc.last {
		cc.last = t
	}
	return s.T.Emit(Event{TS: t, CPU: c, Comm: comm, PID: pid, Flags: flags, Name: name, Body: body})
}

// LastEvent returns the time of c's last written event.
func (s *Sim) LastEvent(c int32) int64 { return s.cpus[c].last }

// Mark writes a trace_marker line from a user task.
func (s *Sim) Mark(t int64, c int32, comm string, pid int32, text string) Ref {
	return s.EmitAs(t, c, comm, pid, ".....", "tracing_mark_write", text)
}

// Console writes a printk:console line in the running task's context.
func (s *Sim) Console(t int64, c int32, flags, text string) Ref {
	return s.Emit(t, c, flags, "console", text)
}

// ---- the vector matrix ----

func (s *Sim) global() (maps, gavl, talloc int32) {
	for _, c := range s.cpus {
		if c.online {
			maps++
			gavl += c.avl
			talloc += c.alloc
		}
	}
	return
}

func (s *Sim) matrixBody(bit int32, c *cpu) string {
	maps, gavl, talloc := s.global()
	return fmt.Sprintf("bit=%d cpu=%d online=%d avl=%d alloc=%d managed=%d online_maps=%d global_avl=%d, global_rsvd=%d, total_alloc=%d",
		bit, c.id, b2i(c.online), c.avl, c.alloc, c.managed, maps, gavl, s.rsvd, talloc)
}

func (s *Sim) globalBody() string {
	maps, gavl, talloc := s.global()
	return fmt.Sprintf("online_maps=%d global_avl=%d, global_rsvd=%d, total_alloc=%d", maps, gavl, s.rsvd, talloc)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// freeVector returns the lowest free device vector of c.
func (c *cpu) freeVector() int32 {
	for v := int32(33); v < 236; v++ {
		if _, ok := c.used[v]; !ok {
			return v
		}
	}
	panic("vector space exhausted")
}

// bestCPU is the online CPU with the most available vectors (the matrix
// allocator's choice), the lowest on a tie, skipping except.
func (s *Sim) bestCPU(except int32) int32 {
	best := int32(-1)
	for _, c := range s.cpus {
		if !c.online || c.id == except {
			continue
		}
		if best < 0 || c.avl > s.cpus[best].avl {
			best = c.id
		}
	}
	return best
}

func apicdest(c int32) string { return fmt.Sprintf("0x%08x", 1<<uint(c)) }

// ---- irqs ----

// AddIRQ installs irq n on cpu (a vector is allocated before the trace
// starts, so no event is written). gap is the device's mean interrupt gap.
func (s *Sim) AddIRQ(n int32, name string, c int32, gap int64) *IRQ {
	q := &IRQ{N: n, Name: name, Actions: []string{name}, CPU: c, Gap: gap, Dur: [2]int64{6, 120}, pendTo: -1, Runs: map[int32]int{}}
	cc := s.cpus[c]
	// Boot-time allocations and frees leave holes: one of the lowest free
	// vectors.
	var free []int32
	for v := int32(33); v < 236 && len(free) < 4; v++ {
		if _, ok := cc.used[v]; !ok {
			free = append(free, v)
		}
	}
	q.Vec = free[s.R.IntN(len(free))]
	cc.used[q.Vec] = n
	cc.avl--
	cc.alloc++
	s.irqs = append(s.irqs, q)
	return q
}

// AddManaged installs a managed irq bound to cpu c.
func (s *Sim) AddManaged(n int32, name string, c int32, gap int64) *IRQ {
	q := s.AddIRQ(n, name, c, gap)
	q.Managed, q.ManagedCPU = true, c
	cc := s.cpus[c]
	cc.avl++ // managed vectors come from the reserved pool
	cc.managed++
	cc.avl--
	return q
}

// IRQs returns the installed irqs.
func (s *Sim) IRQs() []*IRQ { return s.irqs }

// Fire runs q's device from from to to: interrupts at jittered intervals of
// mean q.Gap, each delivered to the irq's current target.
func (s *Sim) Fire(q *IRQ, from, to int64) {
	q.from, q.to = from, to
	var next func()
	t := from + s.Exp(q.Gap)
	next = func() {
		if q.Stopped || t >= q.to {
			return
		}
		s.Deliver(q, t)
		t += s.Exp(q.Gap)
		s.At(t, next)
	}
	s.At(t, next)
}

// Deliver raises one interrupt of q at t.
func (s *Sim) Deliver(q *IRQ, t int64) {
	if q.parked || q.Stopped {
		return
	}
	c := q.CPU
	if !s.cpus[c].online {
		return
	}
	if b := s.cpus[c].busy; b >= t {
		// Pending in the IRR until the CPU leaves its current hardirq
		// (or stop_machine): take it then, with the state of then.
		at := b + 1000
		s.At(at, func() { s.Deliver(q, at) })
		return
	}
	if q.pendTo >= 0 && t >= q.pendAt {
		t = s.deferredMove(q, t)
	}
	start, _, ref := s.handler(q, c, t)
	s.afterRun(q, c, start, ref)
}

// afterRun completes a move in progress when the run was on the new CPU.
func (s *Sim) afterRun(q *IRQ, c int32, start int64, ref Ref) {
	if q.prevVec == 0 || c != q.CPU {
		return
	}
	mv := q.Moves[len(q.Moves)-1]
	if mv.FirstOnNew == 0 {
		mv.FirstOnNew, mv.FirstRef = start, ref
	}
	if q.NoCleanup {
		return
	}
	pc, pv := q.prevCPU, q.prevVec
	q.prevVec = 0
	if s.K.TimerCleanup {
		// 6.6+: a pinned timer on the old CPU, one jiffy later.
		at := start + s.Us(1000, 4000)
		s.At(at, func() { s.cleanup(q, mv, pc, pv, at, true) })
		return
	}
	at := start + s.Us(15, 300)
	s.At(at, func() { s.cleanup(q, mv, pc, pv, at, false) })
}

func (s *Sim) cleanup(q *IRQ, mv *Move, pc, pv int32, t int64, timer bool) {
	c := s.cpus[pc]
	if !c.online {
		return // forced at the offline
	}
	if c.busy >= t {
		at := c.busy + 1000
		s.At(at, func() { s.cleanup(q, mv, pc, pv, at, timer) })
		return
	}
	if timer {
		tk := s.current(c, t)
		s.EmitAs(t, pc, tk.comm, tk.pid, "..s1.", "softirq_entry", "vec=1 [action=TIMER]")
		t += 2000
	}
	flags := "d.h2."
	if timer {
		flags = "d.s2."
	}
	s.Emit(t, pc, flags, "vector_free_moved", fmt.Sprintf("irq=%d cpu=%d vector=%d is_managed=%d", q.N, pc, pv, b2i(q.Managed)))
	delete(c.used, pv)
	c.alloc--
	c.avl++
	s.Emit(t+1000, pc, flags, "irq_matrix_free", s.matrixBody(pv, c))
	if timer {
		s.Emit(t+3000, pc, "..s1.", "softirq_exit", "vec=1 [action=TIMER]")
	}
	c.busy = t + 3000
	mv.Freed = t
}

// handler writes the handler runs (one per action) of one interrupt of q
// on c arriving at t, after whatever c is running in hardirq context.
func (s *Sim) handler(q *IRQ, c int32, t int64) (start, end int64, ref Ref) {
	start, end, ref, _ = s.handlerRefs(q, c, t)
	return
}

// handlerRefs is handler, also returning the first action's exit.
func (s *Sim) handlerRefs(q *IRQ, c int32, t int64) (start, end int64, ref, exit Ref) {
	cc := s.cpus[c]
	start = max(t, cc.busy+1000)
	tk := s.current(cc, start)
	st := start
	ref, exit = -1, -1
	none := s.R.Float64() < q.Unhandled
	fl := s.runFlags(tk)
	for i, name := range q.Actions {
		d := s.Us(q.Dur[0], q.Dur[1])
		r := s.EmitAs(st, c, tk.comm, tk.pid, fl, "irq_handler_entry", fmt.Sprintf("irq=%d name=%s", q.N, name))
		ret := "handled"
		if none || (q.SharedNone && i > 0) {
			ret = "unhandled"
		}
		x := s.EmitAs(st+d, c, tk.comm, tk.pid, s.exitFlags(fl), "irq_handler_exit", fmt.Sprintf("irq=%d ret=%s", q.N, ret))
		if i == 0 {
			ref, exit = r, x
		}
		st += d + s.Us(1, 3)
	}
	end = st
	cc.busy = end
	q.Runs[c]++
	return start, end, ref, exit
}

// Run writes one handler run of q on c at t (a resent interrupt, or a run
// outside the device's own process) and completes a pending move.
func (s *Sim) Run1(q *IRQ, c int32, t int64) (int64, Ref) {
	start, _, ref := s.handler(q, c, t)
	s.afterRun(q, c, start, ref)
	return start, ref
}

// SetAffinity writes /proc/irq/N/smp_affinity at t: on a non-remapped
// x86 machine the move is deferred to the irq's next interrupt, which
// writes the vector events in hardirq context on the old CPU.
func (s *Sim) SetAffinity(q *IRQ, to int32, t int64) {
	s.At(t, func() {
		if to == q.CPU {
			return // nothing to do: no events
		}
		if q.prevVec != 0 {
			// -EBUSY (no events); the writer tries again.
			s.SetAffinity(q, to, t+10_000_000)
			return
		}
		q.pendTo, q.pendAt = to, t
	})
}

// deferredMove writes the move of q in the ack path of an interrupt on its
// old CPU at t and returns when that interrupt's handler can start.
func (s *Sim) deferredMove(q *IRQ, t int64) int64 {
	to := q.pendTo
	q.pendTo = -1
	a, b := s.cpus[q.CPU], s.cpus[to]
	if !b.online {
		return t
	}
	t = max(t, a.busy+1000)
	tk := s.current(a, t)
	nv := b.freeVector()
	b.used[nv] = q.N
	b.avl--
	b.alloc++
	fl := Pick(s, "d.h3.", "d.h2.")
	if tk.pid == 0 {
		fl = "d.h3."
	}
	s.EmitAs(t, q.CPU, tk.comm, tk.pid, fl, "irq_matrix_alloc", s.matrixBody(nv, b))
	t += s.Us(1, 4)
	s.EmitAs(t, q.CPU, tk.comm, tk.pid, fl, "vector_alloc", fmt.Sprintf("irq=%d vector=%d reserved=0 ret=0", q.N, nv))
	t += s.Us(1, 3)
	mv := &Move{TS: t, From: q.CPU, FromVec: q.Vec, To: to, ToVec: nv}
	mv.Update = s.EmitAs(t, q.CPU, tk.comm, tk.pid, fl, "vector_update",
		fmt.Sprintf("irq=%d vector=%d cpu=%d prev_vector=%d prev_cpu=%d", q.N, nv, to, q.Vec, q.CPU))
	t += s.Us(1, 3)
	s.EmitAs(t, q.CPU, tk.comm, tk.pid, fl, "vector_config", fmt.Sprintf("irq=%d vector=%d cpu=%d apicdest=%s", q.N, nv, to, apicdest(to)))
	a.busy = t
	q.prevCPU, q.prevVec = q.CPU, q.Vec
	q.CPU, q.Vec = to, nv
	q.Moves = append(q.Moves, mv)
	if q.OnMove != nil {
		q.OnMove(s, q, mv)
	}
	return t + s.Us(1, 6)
}

// ---- background system vectors ----

// Background starts the system-vector traffic of every CPU and, on
// kernels with them, the ipi_send events of the senders.
func (s *Sim) Background() {
	for _, c := range s.cpus {
		s.sysvecProcess(c.id, "reschedule", 253, s.ReschedGap)
		s.sysvecProcess(c.id, "call_function_single", 251, s.CallGap)
		if s.K.LocalTimer {
			s.sysvecProcess(c.id, "local_timer", 236, s.TimerGap)
		}
	}
}

func (s *Sim) sysvecProcess(c int32, name string, vec int32, gap int64) {
	t := s.Start + s.Exp(gap)
	var next func()
	next = func() {
		if s.cpus[c].online {
			s.IPI(c, name, vec, t, -1)
		}
		t += s.Exp(gap)
		s.At(t, next)
	}
	s.At(t, next)
}

// Deaf makes CPU c ignore call-function IPIs from t on (a lost IPI, or a
// CPU spinning with interrupts off): the sends are written, the receives
// are not.
func (s *Sim) Deaf(c int32, t int64) { s.deafFrom[c] = t }

// IPI writes one system-vector interrupt on c at t; on kernels with ipi
// events a send from another online CPU comes first (from < 0: any).
func (s *Sim) IPI(c int32, name string, vec int32, t int64, from int32) (send, recv Ref) {
	send = -1
	if d, ok := s.deafFrom[c]; ok && t >= d && name == "call_function_single" {
		// The target's call-single queue is not empty (its IPI was never
		// taken), so no new IPI is sent: nothing is written.
		return -1, -1
	}
	if s.K.IPIEvents && name != "local_timer" {
		if from < 0 {
			from = s.randomOnline(c)
		}
		if from >= 0 {
			send = s.SendIPI(from, c, name, t-s.Us(2, 40))
		}
	}
	return send, s.Receive(c, name, vec, t)
}

// SendIPI writes ipi_send_cpu from CPU from to c at t.
func (s *Sim) SendIPI(from, c int32, name string, t int64) Ref {
	cb, site := "0x0", Pick(s, "resched_curr+0x60/0xe0", "ttwu_queue_wakelist+0xf2/0x110", "check_preempt_curr+0x5f/0x70")
	if name == "call_function_single" {
		cb = "generic_smp_call_function_single_interrupt+0x0/0x10"
		site = Pick(s, "ttwu_queue_wakelist+0xf2/0x110", "generic_exec_single+0x36/0x50", "on_each_cpu_cond_mask+0x20/0x60")
	}
	return s.Emit(t, from, Pick(s, "d..2.", "d..3.", "...3."), "ipi_send_cpu", fmt.Sprintf("cpu=%d callsite=%s callback=%s", c, site, cb))
}

// Receive writes the entry and exit of system vector name on c at t (or
// when c leaves its current hardirq).
func (s *Sim) Receive(c int32, name string, vec int32, t int64) Ref {
	cc := s.cpus[c]
	st := max(t, cc.busy+1000)
	tk := s.current(cc, st)
	d := s.Us(3, 60)
	fl := s.runFlags(tk)
	r := s.EmitAs(st, c, tk.comm, tk.pid, fl, name+"_entry", fmt.Sprintf("vector=%d", vec))
	s.EmitAs(st+d, c, tk.comm, tk.pid, s.exitFlags(fl), name+"_exit", fmt.Sprintf("vector=%d", vec))
	cc.busy = st + d
	return r
}

func (s *Sim) randomOnline(except int32) int32 {
	var on []int32
	for _, c := range s.cpus {
		if c.online && c.id != except {
			on = append(on, c.id)
		}
	}
	if len(on) == 0 {
		return -1
	}
	return on[s.R.IntN(len(on))]
}

// ---- CPU hotplug (6.1 step numbers and callbacks) ----

type hpStep struct {
	step  int32
	fn    string
	multi bool
}

var (
	apDown = []hpStep{{235, "sched_cpu_deactivate", false}, {209, "mce_cpu_pre_down", false}, {208, "ledtrig_prepare_down_cpu", false},
		{202, "vmstat_cpu_down_prep", false}, {200, "cacheinfo_cpu_pre_down", false}, {199, "rcutree_offline_cpu", false},
		{197, "workqueue_offline_cpu", false}, {196, "lockup_detector_offline_cpu", false}, {162, "perf_event_exit_cpu", false},
		{159, "blk_mq_hctx_notify_offline", true}, {156, "smpboot_park_threads", false}, {155, "sched_cpu_wait_empty", false}}
	bpDead = []hpStep{{91, "finish_cpu", false}, {70, "free_vm_stack_cache", false}, {68, "timers_dead_cpu", false},
		{65, "zswap_cpu_comp_dead", false}, {64, "zswap_dstmem_dead", false}, {59, "topology_remove_dev", false},
		{50, "rcutree_dead_cpu", false}, {46, "smpcfd_dead_cpu", false}, {34, "dev_cpu_dead", false}, {33, "page_alloc_cpu_dead", false},
		{32, "radix_tree_cpu_dead", false}, {31, "percpu_counter_cpu_dead", false}, {29, "memcg_hotplug_cpu_dead", false},
		{28, "console_cpu_notify", false}, {27, "buffer_exit_cpu_dead", false}, {26, "blk_mq_hctx_notify_dead", true},
		{24, "acpi_soft_cpu_dead", false}, {23, "bio_cpu_dead", false}, {22, "blk_softirq_cpu_dead", false},
		{21, "irq_poll_cpu_dead", false}, {16, "takeover_tasklets", false}, {15, "vmstat_cpu_dead", false},
		{13, "page_writeback_cpu_online", false}, {11, "slub_cpu_dead", false}, {9, "mce_cpu_dead", false}, {2, "perf_event_exit_cpu", false}}
	bpUp = []hpStep{{1, "smpboot_create_threads", false}, {2, "perf_event_init_cpu", false}, {33, "page_alloc_cpu_online", false},
		{40, "random_prepare_cpu", false}, {41, "workqueue_prepare_cpu", false}, {43, "hrtimers_prepare_cpu", false},
		{46, "smpcfd_prepare_cpu", false}, {47, "relay_prepare_cpu", false}, {50, "rcutree_prepare_cpu", false},
		{59, "topology_add_dev", false}, {62, "trace_rb_cpu_prepare", true}, {64, "zswap_dstmem_prepare", false},
		{65, "zswap_cpu_comp_prepare", false}, {68, "timers_prepare_cpu", false}}
	apUp = []hpStep{{156, "smpboot_unpark_threads", false}, {158, "irq_affinity_online_cpu", false}, {159, "blk_mq_hctx_notify_online", true},
		{162, "perf_event_init_cpu", false}, {196, "lockup_detector_online_cpu", false}, {197, "workqueue_online_cpu", false},
		{198, "random_online_cpu", false}, {199, "rcutree_online_cpu", false}, {200, "cacheinfo_cpu_online", false},
		{201, "page_writeback_cpu_online", false}, {202, "vmstat_cpu_online", false}, {204, "kcompactd_cpu_online", false},
		{206, "compute_batch_value", false}, {207, "acpi_soft_cpu_online", false}, {208, "ledtrig_online_cpu", false},
		{209, "mce_cpu_online", false}, {210, "console_cpu_notify", false}, {235, "sched_cpu_activate", false}}
)

// Hotplug holds what an offline did, for labels.
type Hotplug struct {
	CPU       int32
	Start     int64 // cpuhp_kick_ap_work
	Takedown  int64 // takedown_cpu enter
	Dead      int64 // the moment the CPU left cpu_online_mask (untraced)
	LastEvent int64 // the dying CPU's last written event
	Console   Ref   // "CPU N is now offline"
	ConsoleTS int64
	End       int64
	// Moved lists the irqs fixup_irqs moved: irq -> new CPU.
	Moved map[int32]int32
	// Retriggered lists the resent runs: irq -> (time, ref).
	Retriggered map[int32]int64
}

// CPUHP writes one cpuhp step (enter/exit) on cpu c as task tk from t; it
// returns the time after the exit.
func (s *Sim) cpuhp(t int64, c int32, tk task, d int32, target int32, st hpStep, down bool, n int) int64 {
	cnt := 1
	if st.multi {
		cnt = n
	}
	name := "cpuhp_enter"
	if st.multi {
		name = "cpuhp_multi_enter"
	}
	for i := 0; i < cnt; i++ {
		s.EmitAs(t, c, tk.comm, tk.pid, ".....", name, fmt.Sprintf("cpu: %04d target: %3d step: %3d (%s)", d, target, st.step, st.fn))
		t += s.Us(2, 120)
		state := st.step
		if down {
			state--
		}
		s.EmitAs(t, c, tk.comm, tk.pid, ".....", "cpuhp_exit", fmt.Sprintf(" cpu: %04d  state: %3d step: %3d ret: 0", d, state, st.step))
		t += s.Us(2, 20)
	}
	return t
}

// blkInstances is the number of blk-mq hardware contexts (multi states).
func (s *Sim) blkInstances() int {
	n := 0
	for _, q := range s.irqs {
		if q.Managed {
			n++
		}
	}
	return max(n, 2)
}

// Offline takes CPU d down from task ctl on CPU c, starting at t, as 6.1
// does and traces it: the AP teardown steps on d, takedown_cpu on c, then
// nothing more from d; fixup_irqs moves d's irqs to other CPUs without a
// line, shuts managed ones down, resends interrupts pending in d's IRR
// (after its mdelay(1)), and "CPU d is now offline" is printed on c.
func (s *Sim) Offline(d, c int32, ctl string, ctlPID int32, t int64) *Hotplug {
	h := &Hotplug{CPU: d, Start: t, Moved: map[int32]int32{}, Retriggered: map[int32]int64{}}
	ctk := task{ctl, ctlPID}
	s.At(t, func() {
		tt := t
		s.EmitAs(tt, c, ctl, ctlPID, ".....", "cpuhp_enter", fmt.Sprintf("cpu: %04d target: 153 step: 236 (cpuhp_kick_ap_work)", d))
		tt += s.Us(200, 5000)
		hp := task{fmt.Sprintf("cpuhp/%d", d), 14 + 5*d}
		s.cpus[d].inactive = true
		if s.Sched {
			s.switchLater(d, tt, hp, "R+")
			tt += 2000
		}
		for _, st := range apDown {
			tt = s.cpuhp(tt, d, hp, d, 153, st, true, s.blkInstances())
			if st.step == 235 {
				tt += s.Us(1000, 20000) // sched_cpu_deactivate waits for RCU
			}
		}
		if s.Sched {
			tt += s.Us(5, 40)
			s.switchLater(d, tt, idleTask, "S")
		}
		tt += s.Us(100, 600)
		s.EmitAs(tt, c, ctl, ctlPID, ".....", "cpuhp_exit", fmt.Sprintf(" cpu: %04d  state: 153 step: 236 ret: 0", d))
		tt += s.Us(20, 120)
		h.Takedown = tt
		s.EmitAs(tt, c, ctl, ctlPID, ".....", "cpuhp_enter", fmt.Sprintf("cpu: %04d target:   0 step: 153 (takedown_cpu)", d))
		// stop_machine wakes d's stopper thread with a reschedule IPI;
		// take_cpu_down then removes d from cpu_online_mask.
		rt := tt + s.Us(50, 4000)
		s.At(rt, func() {
			s.IPI(d, "reschedule", 253, rt, c)
			if s.Sched {
				s.switchLater(d, s.cpus[d].busy+s.Us(2, 20), task{fmt.Sprintf("migration/%d", d), 15 + 5*d}, "R")
			}
			h.Dead = s.cpus[d].last + s.Us(200, 2000)
			s.At(h.Dead, func() { s.die(h, c, ctk) })
		})
	})
	return h
}

func (s *Sim) die(h *Hotplug, c int32, ctk task) {
	d := h.CPU
	dc := s.cpus[d]
	h.LastEvent = dc.last
	dc.online = false
	t := h.Dead
	// take_cpu_down runs inside stop_machine: every CPU spins with
	// interrupts off until it returns (fixup_irqs' mdelay(1) included);
	// interrupts raised meanwhile are taken when it ends.
	stopEnd := t + s.Us(1050, 1500)
	for _, c := range s.cpus {
		if c.online {
			c.busy = max(c.busy, stopEnd)
		}
	}
	// fixup_irqs, untraced: force-complete moves from or to d, move or
	// shut down the irqs that target d.
	for _, q := range s.irqs {
		if q.prevVec != 0 && (q.prevCPU == d || q.CPU == d) {
			delete(s.cpus[q.prevCPU].used, q.prevVec)
			s.cpus[q.prevCPU].alloc--
			s.cpus[q.prevCPU].avl++
			q.prevVec = 0
		}
		if q.pendTo == d {
			q.pendTo = -1
		}
		if q.CPU != d || q.parked {
			continue
		}
		delete(dc.used, q.Vec)
		dc.alloc--
		if q.Managed {
			q.parked = true
			continue
		}
		dc.avl++
		to := s.bestCPU(d)
		b := s.cpus[to]
		nv := b.freeVector()
		b.used[nv] = q.N
		b.avl--
		b.alloc++
		q.Moves = append(q.Moves, &Move{TS: t, From: d, FromVec: q.Vec, To: to, ToVec: nv, Update: -1, Inferred: true})
		q.CPU, q.Vec = to, nv
		h.Moved[q.N] = to
		pending := s.R.Float64() < s.RetriggerProb
		if q.OnOffline != nil {
			pending = q.OnOffline(s, q, d, to)
		}
		if pending && !q.Stopped {
			// mdelay(1), then the IRR scan; the new target takes the
			// resent interrupt when stop_machine lets it go.
			rt := stopEnd + s.Us(2, 300)
			qq, tt := q, to
			s.At(rt, func() {
				st, _ := s.Run1(qq, tt, rt)
				h.Retriggered[qq.N] = st
			})
		}
	}
	end := t + s.Us(8000, 30000)
	s.At(end, func() {
		tt := end
		h.ConsoleTS = tt
		h.Console = s.EmitAs(tt, c, ctk.comm, ctk.pid, "d....", "console", fmt.Sprintf("smpboot: CPU %d is now offline", d))
		tt += s.Us(100, 600)
		s.EmitAs(tt, c, ctk.comm, ctk.pid, ".....", "cpuhp_exit", fmt.Sprintf(" cpu: %04d  state:  92 step: 153 ret: 0", d))
		tt += s.Us(5, 30)
		for _, st := range bpDead {
			tt = s.cpuhp(tt, c, ctk, d, 0, st, true, s.blkInstances())
		}
		h.End = tt
	})
}

// Online brings CPU d back from task ctl on CPU c at t (6.1 sequence):
// the BP prepare steps and bringup_cpu on c, irq_matrix_online and the AP
// steps on d (managed irqs of d restarted in irq_affinity_online_cpu).
func (s *Sim) Online(d, c int32, ctl string, ctlPID int32, t int64) {
	ctk := task{ctl, ctlPID}
	s.At(t, func() {
		tt := t
		for _, st := range bpUp {
			tt = s.cpuhp(tt, c, ctk, d, 236, st, false, 5)
		}
		s.EmitAs(tt, c, ctl, ctlPID, ".....", "cpuhp_enter", fmt.Sprintf("cpu: %04d target: 236 step:  91 (bringup_cpu)", d))
		s.EmitAs(tt+s.Us(100, 600), c, ctl, ctlPID, "d....", "console", fmt.Sprintf("smpboot: Booting Node 0 Processor %d APIC 0x%x", d, d))
		up := tt + s.Us(20000, 80000)
		s.At(up, func() { s.up(d, c, ctk, up) })
	})
}

func (s *Sim) up(d, c int32, ctk task, t int64) {
	dc := s.cpus[d]
	dc.online, dc.busy, dc.until, dc.inactive, dc.schedFree = true, t, 0, false, t
	dc.cur = idleTask
	s.EmitAs(t, d, "<idle>", 0, "d..2.", "irq_matrix_online", s.globalBody())
	t += s.Us(500, 3000)
	hp := task{fmt.Sprintf("cpuhp/%d", d), 14 + 5*d}
	for _, st := range apUp {
		if st.step != 158 {
			t = s.cpuhp(t, d, hp, d, 236, st, false, s.blkInstances())
			continue
		}
		s.EmitAs(t, d, hp.comm, hp.pid, ".....", "cpuhp_enter", fmt.Sprintf("cpu: %04d target: 236 step: 158 (irq_affinity_online_cpu)", d))
		t += s.Us(20, 300)
		for _, q := range s.irqs {
			if !q.Managed || q.ManagedCPU != d || !q.parked {
				continue
			}
			// Each restart happens (and changes the matrix) at its own
			// time, between the other CPUs' events.
			ts := []int64{t, 0, 0, 0, 0}
			for i := 1; i < len(ts); i++ {
				ts[i] = ts[i-1] + s.Us(2, 12)
			}
			t = ts[4] + s.Us(2, 30)
			qq, end := q, t
			s.At(ts[0], func() {
				q := qq
				s.EmitAs(ts[0], d, hp.comm, hp.pid, "d..1.", "vector_activate", fmt.Sprintf("irq=%d is_managed=1 can_reserve=0 reserve=0", q.N))
				nv := dc.freeVector()
				dc.used[nv] = q.N
				dc.alloc++
				s.EmitAs(ts[1], d, hp.comm, hp.pid, "d..2.", "irq_matrix_alloc_managed", s.matrixBody(nv, dc))
				s.EmitAs(ts[2], d, hp.comm, hp.pid, "d..2.", "vector_alloc_managed", fmt.Sprintf("irq=%d vector=%d ret=0", q.N, nv))
				s.EmitAs(ts[3], d, hp.comm, hp.pid, "d..2.", "vector_update", fmt.Sprintf("irq=%d vector=%d cpu=%d prev_vector=0 prev_cpu=%d", q.N, nv, d, d))
				s.EmitAs(ts[4], d, hp.comm, hp.pid, "d..2.", "vector_config", fmt.Sprintf("irq=%d vector=%d cpu=%d apicdest=%s", q.N, nv, d, apicdest(d)))
				q.Vec, q.CPU = nv, d
				s.At(end, func() { q.parked = false }) // the queue works from its restart on
			})
		}
		s.EmitAs(t, d, hp.comm, hp.pid, ".....", "cpuhp_exit", fmt.Sprintf(" cpu: %04d  state: 158 step: 158 ret: 0", d))
		t += s.Us(2, 20)
	}
	s.EmitAs(t+s.Us(100, 3000), c, ctk.comm, ctk.pid, ".....", "cpuhp_exit", fmt.Sprintf(" cpu: %04d  state: 236 step:  91 ret: 0", d))
}

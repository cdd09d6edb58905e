package analysis

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/irqtrace/irqtrace/ftrace"
)

// Options tune Build. The zero value is usable.
type Options struct {
	// File selects the recording when the table holds several files
	// ("" takes every row: use it only for a one-file table).
	File string
	// Markers are the input's LOST / DROPPED / buffer-started markers
	// (from the parser's stats), for the coverage windows.
	Markers []Marker
	// Perf says the recording is perf's, which stops recording a CPU at
	// its first offline and never resumes it.
	Perf bool
}

// Marker is a loss or buffer-start marker of the input, as the parser
// reports it.
type Marker struct {
	Kind   string // lost_marker, dropped_marker, buffer_started
	CPU    int32
	Line   int64
	NextTS *int64 // the CPU's first event after the marker
}

// Build rebuilds the lifecycle model from the events table records.
func Build(recs []arrow.RecordBatch, opts Options) (*Model, error) {
	evs, err := extract(recs, opts.File)
	if err != nil {
		return nil, err
	}
	return buildFrom(evs, opts), nil
}

// builder holds the pass's working state.
type builder struct {
	m    *Model
	opts Options

	// per CPU stacks of open handler / sysvec entries
	hstack map[int32][]Invocation
	sstack map[int32][]Invocation
	// softirq: raise time per (cpu, vec), open entry per cpu
	raised map[[2]int32]int64
	sopen  map[int32][]SoftirqRun
	// cpuhp: open enters per (emitter, cpu, step)
	hpOpen map[[3]int32][]int
	// ipi: pending sends per (target, kind)
	ipiPend map[ipiKey][]int
	// matrix global state
	g        globalMatrix
	gKnown   bool
	hotplugs int // CPU transitions seen (to explain matrix drift)
	gEpoch   int // hotplugs at the last global check

	// LOST markers per CPU in line order, and the CPU's last event time
	// before each (the start of the gap).
	marks    map[int32][]Marker
	markNext map[int32]int
	gapStart map[int32][]int64
}

type ipiKey struct {
	cpu  int32
	kind string
}

func buildFrom(evs []ev, opts Options) *Model {
	m := &Model{File: opts.File, irqs: map[int32]*IRQ{}, cpus: map[int32]*CPU{}}
	b := &builder{m: m, opts: opts,
		hstack: map[int32][]Invocation{}, sstack: map[int32][]Invocation{},
		raised: map[[2]int32]int64{}, sopen: map[int32][]SoftirqRun{},
		hpOpen: map[[3]int32][]int{}, ipiPend: map[ipiKey][]int{},
	}
	if len(evs) > 0 {
		m.FirstNS, m.LastNS = evs[0].ts, evs[len(evs)-1].ts
	}
	b.marks, b.markNext, b.gapStart = map[int32][]Marker{}, map[int32]int{}, map[int32][]int64{}
	for _, mk := range opts.Markers {
		if mk.Kind == "lost_marker" || mk.Kind == "dropped_marker" {
			b.marks[mk.CPU] = append(b.marks[mk.CPU], mk)
		}
	}
	for cpu, ms := range b.marks {
		sort.Slice(ms, func(i, j int) bool { return ms[i].Line < ms[j].Line })
		b.gapStart[cpu] = make([]int64, len(ms))
		for i := range b.gapStart[cpu] {
			b.gapStart[cpu][i] = null
		}
	}
	m.Events = int64(len(evs))
	for i := range evs {
		b.event(&evs[i])
	}
	b.finish()
	return m
}

func (b *builder) cpu(n int32) *CPU {
	c := b.m.cpus[n]
	if c == nil {
		c = &CPU{CPU: n, online: true, offAt: -1, curDown: -1, curUp: -1}
		b.m.cpus[n] = c
	}
	return c
}

func (b *builder) irq(n int32) *IRQ {
	q := b.m.irqs[n]
	if q == nil {
		q = &IRQ{IRQ: n, Class: ClassUnknown, cur: -1, parkedAt: -1, HandlerCPUs: map[int32]int64{}}
		b.m.irqs[n] = q
	}
	return q
}

func (b *builder) anomaly(kind string, e *ev, irq int32, format string, args ...any) {
	a := Anomaly{Kind: kind, TS: e.ts, CPU: e.cpu, Line: e.line, Message: fmt.Sprintf(format, args...)}
	if irq != null {
		v := irq
		a.IRQ = &v
	}
	b.m.Anomalies = append(b.m.Anomalies, a)
}

func p32(v int32) *int32 {
	if v == null {
		return nil
	}
	return &v
}
func p64(v int64) *int64 { return &v }

func (b *builder) event(e *ev) {
	c := b.cpu(e.cpu)
	if !c.online {
		// The first event a CPU writes after it went offline: it is back.
		b.setOnline(c, e)
	}
	if ms := b.marks[e.cpu]; len(ms) > 0 {
		// Events of one CPU come in line order: markers passed since its
		// previous event start a gap at that event (null before the first).
		for k := b.markNext[e.cpu]; k < len(ms) && ms[k].Line < e.line; k++ {
			if c.seen {
				b.gapStart[e.cpu][k] = c.lastEvent
			}
			b.markNext[e.cpu] = k + 1
		}
	}
	if !c.seen {
		c.seen, c.firstEvent = true, e.ts
	}
	c.lastEvent = e.ts
	switch e.id {
	case ftrace.EvVectorUpdate:
		b.vectorUpdate(e)
	case ftrace.EvVectorClear:
		b.vectorClear(e)
	case ftrace.EvVectorFreeMoved:
		b.freeMoved(e)
	case ftrace.EvVectorConfig:
		b.vectorConfig(e)
	case ftrace.EvVectorActivate:
		b.activate(e)
	case ftrace.EvVectorDeactivate:
		b.deactivate(e)
	case ftrace.EvVectorSetup:
		q := b.irq(e.irq)
		if e.b&bitIsLegacy != 0 {
			q.Class = ClassLegacy
		}
		if e.ret < 0 {
			q.Failures = append(q.Failures, AllocFailure{e.ts, e.ret, e.id.String(), e.line})
		}
	case ftrace.EvVectorTeardown:
		b.teardown(e)
	case ftrace.EvVectorAlloc, ftrace.EvVectorAllocManaged, ftrace.EvVectorReserve, ftrace.EvVectorReserveManaged:
		if e.ret != null && e.ret < 0 {
			q := b.irq(e.irq)
			q.Failures = append(q.Failures, AllocFailure{e.ts, e.ret, e.id.String(), e.line})
		}
	case ftrace.EvIRQHandlerEntry:
		b.handlerEntry(e)
	case ftrace.EvIRQHandlerExit:
		b.handlerExit(e)
	case ftrace.EvSoftirqRaise, ftrace.EvSoftirqEntry, ftrace.EvSoftirqExit:
		b.softirq(e)
	case ftrace.EvCPUHPEnter, ftrace.EvCPUHPMultiEnter:
		b.hpEnter(e)
	case ftrace.EvCPUHPExit:
		b.hpExit(e)
	case ftrace.EvConsole:
		b.console(e)
	case ftrace.EvIPISendCPU, ftrace.EvIPISendCPUMask:
		b.ipiSend(e)
	case ftrace.EvMatrixOnline:
		b.matrix(e)
		b.setOnline(c, e)
	default:
		switch e.id.Info().Family {
		case ftrace.FamSysvec:
			b.sysvec(e)
		case ftrace.FamMatrixGlobal, ftrace.FamMatrixGlobalUpdate, ftrace.FamMatrixCPU:
			b.matrix(e)
		}
	}
}

// ---- vectors ----

func (q *IRQ) current() *Assignment {
	if q.cur < 0 {
		return nil
	}
	return &q.Assignments[q.cur]
}

func (q *IRQ) endCurrent(ts, line int64, reason string) {
	if a := q.current(); a != nil {
		a.EndNS, a.EndLine, a.EndReason = p64(ts), line, reason
		q.cur = -1
	}
}

func (q *IRQ) start(a Assignment) {
	q.Assignments = append(q.Assignments, a)
	q.cur = len(q.Assignments) - 1
}

func (q *IRQ) closePark(ts int64) {
	if q.parkedAt >= 0 {
		q.Parked[q.parkedAt].EndNS = p64(ts)
		q.parkedAt = -1
	}
}

// resolveShutdown decides what an irq displaced by a CPU offline became,
// once the next evidence shows it in use on cpu (a move) or re-activated
// (a shutdown, kept as the parked interval it already has).
func (b *builder) resolveShutdown(q *IRQ, toCPU, toVec int32, evidence string) {
	s := q.shutdown
	if s == nil {
		return
	}
	q.shutdown = nil
	if toCPU == null {
		return
	}
	// It was moved, not shut down.
	if q.parkedAt >= 0 && q.Parked[q.parkedAt].StartNS == s.TS {
		q.Parked = q.Parked[:q.parkedAt]
		q.parkedAt = -1
	}
	s.ToCPU, s.ToVector, s.Evidence = p32(toCPU), p32(toVec), evidence
	q.Migrations = append(q.Migrations, *s)
	q.start(Assignment{CPU: p32(toCPU), Vector: p32(toVec), StartNS: s.TS, StartReason: "cpu_offline_move",
		StartLine: s.Line, Inferred: true})
}

func (b *builder) vectorUpdate(e *ev) {
	q := b.irq(e.irq)
	q.closePark(e.ts)
	if e.pvec == null {
		// First assignment (prev 0/0), e.g. activation or managed startup.
		if q.shutdown != nil {
			q.shutdown = nil // the displaced managed irq was shut down: parked until now
		}
		if a := q.current(); a != nil {
			if a.Clipped && a.Vector == nil && a.CPU != nil && *a.CPU == e.tcpu {
				a.Vector = p32(e.vector)
				return
			}
			b.anomaly("assignment_replaced", e, e.irq, "irq %d got a first vector %d on CPU %d while the model had it on %s", e.irq, e.vector, e.tcpu, slotString(a))
			q.endCurrent(e.ts, e.line, "replaced")
		}
		q.start(Assignment{CPU: p32(e.tcpu), Vector: p32(e.vector), StartNS: e.ts, StartReason: "vector_update", StartLine: e.line})
		return
	}
	if q.shutdown != nil {
		b.resolveShutdown(q, e.pcpu, e.pvec, "next vector_update prev_cpu/prev_vector")
	}
	a := q.current()
	switch {
	case a == nil:
		// The trace starts after the irq got its vector: the previous slot
		// is known from prev_*, from an unknown time.
		if len(q.Assignments) == 0 {
			q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: b.m.FirstNS, StartReason: "before_trace", StartLine: e.line, Clipped: true})
		} else {
			b.anomaly("prev_slot_mismatch", e, e.irq, "vector_update of irq %d says it held %d.%d, the model says it held nothing", e.irq, e.pcpu, e.pvec)
			q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: e.ts, StartReason: "resync", StartLine: e.line, Inferred: true})
		}
	case a.CPU == nil || a.Vector == nil:
		// An inferred destination: the kernel's prev_* anchors it.
		if a.CPU != nil && *a.CPU != e.pcpu {
			b.anomaly("prev_slot_mismatch", e, e.irq, "vector_update of irq %d says it held CPU %d, the model inferred CPU %d", e.irq, e.pcpu, *a.CPU)
		}
		a.CPU, a.Vector = p32(e.pcpu), p32(e.pvec)
		if n := len(q.Migrations); n > 0 && q.Migrations[n-1].Inferred {
			mg := &q.Migrations[n-1]
			if mg.ToCPU == nil || *mg.ToCPU == e.pcpu {
				mg.ToCPU, mg.ToVector = p32(e.pcpu), p32(e.pvec)
				if mg.Evidence == "" {
					mg.Evidence = "next vector_update prev_cpu/prev_vector"
				} else {
					mg.Evidence += "; next vector_update prev_cpu/prev_vector"
				}
			}
		}
	case *a.CPU != e.pcpu || *a.Vector != e.pvec:
		if a.Clipped && a.Vector == nil && *a.CPU == e.pcpu {
			a.Vector = p32(e.pvec)
			break
		}
		b.anomaly("prev_slot_mismatch", e, e.irq, "vector_update of irq %d says it held %d.%d, the model says %s", e.irq, e.pcpu, e.pvec, slotString(a))
		q.endCurrent(e.ts, e.line, "resync")
		q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: e.ts, StartReason: "resync", StartLine: e.line, Inferred: true})
	}
	q.endCurrent(e.ts, e.line, "migrated")
	q.start(Assignment{CPU: p32(e.tcpu), Vector: p32(e.vector), StartNS: e.ts, StartReason: "migrated", StartLine: e.line})
	mg := Migration{TS: e.ts, FromCPU: e.pcpu, FromVector: p32(e.pvec), ToCPU: p32(e.tcpu), ToVector: p32(e.vector),
		EmitCPU: p32(e.cpu), Deferred: e.hard && e.cpu == e.pcpu, Completion: CompletionNever, Line: e.line}
	if pc := b.m.cpus[e.pcpu]; pc != nil && !pc.online {
		// The old CPU is offline: the kernel frees the old slot at once.
		mg.CompletedNS, mg.Completion, mg.CompletionLine = p64(e.ts), CompletionForcedOffline, e.line
	}
	q.Migrations = append(q.Migrations, mg)
}

func slotString(a *Assignment) string {
	c, v := "?", "?"
	if a.CPU != nil {
		c = fmt.Sprint(*a.CPU)
	}
	if a.Vector != nil {
		v = fmt.Sprint(*a.Vector)
	}
	return c + "." + v
}

// pending returns the indices of q's migrations still in progress.
func (q *IRQ) pending() []int {
	var out []int
	for i := len(q.Migrations) - 1; i >= 0; i-- {
		if q.Migrations[i].Completion == CompletionNever {
			out = append(out, i)
		}
	}
	return out
}

func (b *builder) freeMoved(e *ev) {
	q := b.irq(e.irq)
	for _, i := range q.pending() {
		mg := &q.Migrations[i]
		if mg.FromCPU == e.tcpu && (mg.FromVector == nil || *mg.FromVector == e.vector) {
			mg.CompletedNS, mg.Completion, mg.CompletionLine = p64(e.ts), CompletionFreeMoved, e.line
			return
		}
	}
	b.anomaly("orphan_free_moved", e, e.irq, "vector_free_moved of irq %d slot %d.%d matches no move in progress", e.irq, e.tcpu, e.vector)
}

func (b *builder) vectorClear(e *ev) {
	q := b.irq(e.irq)
	if a := q.current(); a != nil && a.CPU != nil && a.Vector != nil && (*a.CPU != e.tcpu || *a.Vector != e.vector) {
		b.anomaly("clear_slot_mismatch", e, e.irq, "vector_clear of irq %d names %d.%d, the model says %s", e.irq, e.tcpu, e.vector, slotString(a))
	}
	q.endCurrent(e.ts, e.line, "clear")
	for _, i := range q.pending() {
		mg := &q.Migrations[i]
		mg.CompletedNS, mg.Completion, mg.CompletionLine = p64(e.ts), CompletionClear, e.line
	}
	q.shutdown = nil
}

// ManagedShutdownVector is MANAGED_IRQ_SHUTDOWN_VECTOR, the parking value
// written into the message of a shut-down or not yet activated irq.
const ManagedShutdownVector = 239

func (b *builder) vectorConfig(e *ev) {
	q := b.irq(e.irq)
	if e.vector == ManagedShutdownVector {
		if q.parkedAt < 0 {
			q.Parked = append(q.Parked, Interval{StartNS: e.ts, Line: e.line})
			q.parkedAt = len(q.Parked) - 1
		}
		return
	}
	if a := q.current(); a != nil && a.CPU != nil && a.Vector != nil && (*a.CPU != e.tcpu || *a.Vector != e.vector) {
		b.anomaly("config_slot_mismatch", e, e.irq, "vector_config of irq %d programs %d.%d, the model says %s", e.irq, e.tcpu, e.vector, slotString(a))
	}
}

func (b *builder) activate(e *ev) {
	q := b.irq(e.irq)
	switch {
	case e.b&bitIsManaged != 0:
		q.Class = ClassManaged
	case q.Class == ClassLegacy:
	case e.b&bitCanReserve == 0:
		q.Class = ClassFixed
	default:
		q.Class = ClassReservation
	}
	if q.shutdown != nil {
		q.shutdown = nil // re-activation: the offline shut it down
	}
	q.Activations = append(q.Activations, Activation{StartNS: e.ts, Reserve: e.b&bitReserve != 0, StartLine: e.line})
}

func (b *builder) deactivate(e *ev) {
	q := b.irq(e.irq)
	if e.b&bitIsManaged == 0 && e.b&bitCanReserve == 0 && q.Class != ClassLegacy {
		q.Class = ClassFixed
	}
	for i := len(q.Activations) - 1; i >= 0; i-- {
		if q.Activations[i].EndNS == nil {
			q.Activations[i].EndNS, q.Activations[i].EndLine = p64(e.ts), e.line
			return
		}
	}
}

func (b *builder) teardown(e *ev) {
	q := b.irq(e.irq)
	q.endCurrent(e.ts, e.line, "teardown")
	q.closePark(e.ts)
	q.TornDownNS = p64(e.ts)
}

// ---- handlers ----

func (b *builder) handlerEntry(e *ev) {
	q := b.irq(e.irq)
	q.HandlerCount++
	q.HandlerCPUs[e.cpu]++
	if q.Name == "" {
		q.Name = e.str
	}
	if e.str != q.Name && !contains(q.Actions, e.str) {
		if len(q.Actions) == 0 {
			q.Actions = append(q.Actions, q.Name)
		}
		q.Actions = append(q.Actions, e.str)
	}
	b.placeHandler(q, e)
	st := b.hstack[e.cpu]
	b.hstack[e.cpu] = append(st, Invocation{CPU: e.cpu, IRQ: e.irq, Vector: null, Name: e.str, StartNS: e.ts,
		Depth: int32(len(st)), EntryLine: e.line})
}

// placeHandler checks a handler run on e.cpu against the irq's target and
// uses it as evidence for moves the trace did not show.
func (b *builder) placeHandler(q *IRQ, e *ev) {
	if q.shutdown != nil {
		b.resolveShutdown(q, e.cpu, null, "handler run on the new CPU")
		return
	}
	a := q.current()
	if a == nil {
		if len(q.Assignments) == 0 {
			// In use before the trace began.
			q.start(Assignment{CPU: p32(e.cpu), StartNS: b.m.FirstNS, StartReason: "before_trace", StartLine: e.line, Clipped: true})
		}
		return
	}
	if a.CPU == nil {
		a.CPU = p32(e.cpu)
		if n := len(q.Migrations); n > 0 && q.Migrations[n-1].Inferred && q.Migrations[n-1].ToCPU == nil {
			q.Migrations[n-1].ToCPU = p32(e.cpu)
			q.Migrations[n-1].Evidence = "handler run on the new CPU"
		}
		return
	}
	if *a.CPU == e.cpu {
		return
	}
	// The old target of a move in progress still delivers until cleanup.
	for _, i := range q.pending() {
		if q.Migrations[i].FromCPU == e.cpu {
			return
		}
	}
	// A deferred move is written just before the handler, on the old CPU.
	if n := len(q.Migrations); n > 0 && q.Migrations[n-1].FromCPU == e.cpu && q.Migrations[n-1].TS == a.StartNS {
		return
	}
	if a.Clipped && a.Vector == nil {
		// Only ever seen by its handler: it runs on several CPUs, or moved
		// in a way the trace does not show. Note it once.
		b.anomaly("handler_on_unexpected_cpu", e, q.IRQ, "irq %d ran on CPU %d, last seen on CPU %d with no vector event in between", q.IRQ, e.cpu, *a.CPU)
		q.endCurrent(e.ts, e.line, "resync")
		q.start(Assignment{CPU: p32(e.cpu), StartNS: e.ts, StartReason: "observed_handler", StartLine: e.line, Inferred: true, Clipped: true})
		return
	}
	b.anomaly("handler_on_unexpected_cpu", e, q.IRQ, "irq %d ran on CPU %d while the model has it on %s", q.IRQ, e.cpu, slotString(a))
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (b *builder) handlerExit(e *ev) {
	st := b.hstack[e.cpu]
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].IRQ == e.irq {
			inv := st[i]
			inv.EndNS, inv.ExitLine, inv.Handled = e.ts, e.line, e.ret != 0
			b.m.Handlers = append(b.m.Handlers, inv)
			b.hstack[e.cpu] = append(st[:i], st[i+1:]...)
			if e.ret == 0 {
				b.irq(e.irq).Unhandled++
			}
			return
		}
	}
	b.m.Counts.HandlerOrphans++
	if e.ret == 0 {
		b.irq(e.irq).Unhandled++
	}
}

func (b *builder) sysvec(e *ev) {
	name := e.id.String()
	if stem, ok := strings.CutSuffix(name, "_entry"); ok {
		b.sstack[e.cpu] = append(b.sstack[e.cpu], Invocation{CPU: e.cpu, IRQ: null, Vector: e.vector, Name: stem,
			StartNS: e.ts, Depth: int32(len(b.sstack[e.cpu])), EntryLine: e.line, Handled: true})
		return
	}
	stem := strings.TrimSuffix(name, "_exit")
	st := b.sstack[e.cpu]
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].Name == stem {
			inv := st[i]
			inv.EndNS, inv.ExitLine = e.ts, e.line
			b.m.Sysvecs = append(b.m.Sysvecs, inv)
			b.sstack[e.cpu] = append(st[:i], st[i+1:]...)
			b.ipiReceive(e.cpu, stem, inv.StartNS, inv.EntryLine)
			return
		}
	}
	b.m.Counts.SysvecOrphans++
	b.ipiReceive(e.cpu, stem, e.ts, e.line)
}

func (b *builder) softirq(e *ev) {
	k := [2]int32{e.cpu, e.vector}
	switch e.id {
	case ftrace.EvSoftirqRaise:
		if _, ok := b.raised[k]; !ok {
			b.raised[k] = e.ts
		}
	case ftrace.EvSoftirqEntry:
		r := SoftirqRun{CPU: e.cpu, Vec: e.vector, Action: e.str, StartNS: e.ts, EntryLine: e.line}
		if t, ok := b.raised[k]; ok {
			r.RaiseNS = p64(t)
			delete(b.raised, k)
		}
		b.sopen[e.cpu] = append(b.sopen[e.cpu], r)
	case ftrace.EvSoftirqExit:
		st := b.sopen[e.cpu]
		for i := len(st) - 1; i >= 0; i-- {
			if st[i].Vec == e.vector {
				r := st[i]
				r.EndNS = e.ts
				b.m.Softirqs = append(b.m.Softirqs, r)
				b.sopen[e.cpu] = append(st[:i], st[i+1:]...)
				return
			}
		}
		b.m.Counts.SoftirqOrphans++
	}
}

// ---- IPIs ----

// ipiKind maps an ipi_send callback to the system vector that receives it.
func ipiKind(callback string) string {
	switch {
	case callback == "" || callback == "0x0":
		return "reschedule"
	case strings.HasPrefix(callback, "generic_smp_call_function_single_interrupt"):
		return "call_function_single"
	case strings.HasPrefix(callback, "generic_smp_call_function_interrupt"):
		return "call_function"
	}
	return "irq_work"
}

func (b *builder) ipiSend(e *ev) {
	kind := ipiKind(e.str2)
	var targets []int32
	if e.id == ftrace.EvIPISendCPU {
		targets = []int32{e.tcpu}
	} else {
		targets = maskCPUs(e.str)
		if kind == "call_function_single" && len(targets) > 1 {
			kind = "call_function"
		}
	}
	for _, t := range targets {
		b.m.Counts.IPISends++
		b.m.IPIs = append(b.m.IPIs, IPIDelivery{FromCPU: e.cpu, ToCPU: t, Kind: kind, Callback: e.str2, SendNS: e.ts, SendLine: e.line})
		k := ipiKey{t, kind}
		b.ipiPend[k] = append(b.ipiPend[k], len(b.m.IPIs)-1)
	}
}

// ipiReceive answers every pending send of that kind to cpu (IPIs of one
// kind coalesce: one receive serves all sends before it).
func (b *builder) ipiReceive(cpu int32, kind string, ts, line int64) {
	k := ipiKey{cpu, kind}
	for _, i := range b.ipiPend[k] {
		if b.m.IPIs[i].SendNS <= ts {
			b.m.IPIs[i].ReceiveNS, b.m.IPIs[i].RecvLine = p64(ts), line
		}
	}
	delete(b.ipiPend, k)
}

// maskCPUs decodes a kernel cpumask ("30", "00000000,00000030").
func maskCPUs(s string) []int32 {
	var out []int32
	words := strings.Split(s, ",")
	bit := int32(0)
	for w := len(words) - 1; w >= 0; w-- {
		word := words[w]
		for i := len(word) - 1; i >= 0; i-- {
			d, ok := hexNibble(word[i])
			if !ok {
				return out
			}
			for j := int32(0); j < 4; j++ {
				if d&(1<<j) != 0 {
					out = append(out, bit+j)
				}
			}
			bit += 4
		}
	}
	return out
}

func hexNibble(c byte) (int32, bool) {
	switch {
	case c >= '0' && c <= '9':
		return int32(c - '0'), true
	case c >= 'a' && c <= 'f':
		return int32(c-'a') + 10, true
	case c >= 'A' && c <= 'F':
		return int32(c-'A') + 10, true
	}
	return 0, false
}

// ---- finish ----

func (b *builder) finish() {
	m := b.m
	for _, st := range b.hstack {
		m.Counts.HandlerOpen += int64(len(st))
	}
	for _, q := range m.irqs {
		if q.shutdown != nil {
			// Displaced by an offline and never seen again: shut down (for
			// a managed irq) or moved where the trace does not show.
			s := q.shutdown
			if q.Class != ClassManaged {
				q.Migrations = append(q.Migrations, *s)
			}
			q.shutdown = nil
		}
		m.IRQs = append(m.IRQs, q)
		m.Counts.Migrations += int64(len(q.Migrations))
		for _, mg := range q.Migrations {
			if mg.Inferred {
				m.Counts.InferredMoves++
			}
		}
		m.Slots = append(m.Slots, slotsOf(q)...)
	}
	sort.Slice(m.IRQs, func(i, j int) bool { return m.IRQs[i].IRQ < m.IRQs[j].IRQ })
	sort.Slice(m.Slots, func(i, j int) bool {
		a, c := m.Slots[i], m.Slots[j]
		if a.CPU != c.CPU {
			return a.CPU < c.CPU
		}
		if a.Vector != c.Vector {
			return a.Vector < c.Vector
		}
		return a.StartNS < c.StartNS
	})
	for _, c := range m.cpus {
		m.CPUs = append(m.CPUs, c)
	}
	sort.Slice(m.CPUs, func(i, j int) bool { return m.CPUs[i].CPU < m.CPUs[j].CPU })
	for _, d := range m.IPIs {
		if d.ReceiveNS == nil {
			m.Counts.IPIUnanswered++
		}
	}
	m.Counts.Handlers = int64(len(m.Handlers))
	m.Counts.Sysvecs = int64(len(m.Sysvecs))
	m.Counts.Softirqs = int64(len(m.Softirqs))
	sortInv := func(s []Invocation) {
		sort.SliceStable(s, func(i, j int) bool { return s[i].StartNS < s[j].StartNS })
	}
	sortInv(m.Handlers)
	sortInv(m.Sysvecs)
	sort.SliceStable(m.Softirqs, func(i, j int) bool { return m.Softirqs[i].StartNS < m.Softirqs[j].StartNS })
	b.coverage()
	sort.SliceStable(m.Anomalies, func(i, j int) bool { return m.Anomalies[i].TS < m.Anomalies[j].TS })
}

// slotsOf derives the per-CPU vector table intervals of one irq: each
// assignment with a known slot is "owned" until it ends, then "moving"
// until its move completes when it ended by a migration.
func slotsOf(q *IRQ) []SlotOwner {
	var out []SlotOwner
	for _, a := range q.Assignments {
		if a.CPU == nil || a.Vector == nil {
			continue
		}
		s := SlotOwner{CPU: *a.CPU, Vector: *a.Vector, IRQ: q.IRQ, StartNS: a.StartNS, EndNS: a.EndNS, State: "owned", EndReason: a.EndReason, Inferred: a.Inferred}
		out = append(out, s)
		if a.EndNS == nil || a.EndReason != "migrated" {
			continue
		}
		for _, mg := range q.Migrations {
			if mg.TS == *a.EndNS && mg.FromCPU == *a.CPU && mg.FromVector != nil && *mg.FromVector == *a.Vector {
				if mg.CompletedNS != nil && *mg.CompletedNS == mg.TS {
					break
				}
				out = append(out, SlotOwner{CPU: *a.CPU, Vector: *a.Vector, IRQ: q.IRQ, StartNS: mg.TS, EndNS: mg.CompletedNS,
					State: "moving", EndReason: mg.Completion})
				break
			}
		}
	}
	return out
}

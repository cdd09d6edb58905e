package analysis

import (
	"cmp"
	"fmt"
	"slices"
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
//
// Events are taken in (timestamp, line) order. When the rows already are
// in that order (the usual case: every text format is written in time
// order) they are fed to the model batch by batch as they are read;
// otherwise all events are read first and sorted, stable.
func Build(recs []arrow.RecordBatch, opts Options) (*Model, error) {
	var x extractor
	sc, err := x.scan(recs, opts.File)
	if err != nil {
		return nil, err
	}
	if !sc.sorted {
		evs, err := extract(recs, opts.File)
		if err != nil {
			return nil, err
		}
		return buildFrom(evs, opts), nil
	}
	b := newBuilder(opts)
	b.reserve(sc)
	for _, rec := range recs {
		if err := x.record(rec, opts.File, b.feed); err != nil {
			return nil, err
		}
	}
	b.finish()
	return b.m, nil
}

// builder holds the pass's working state.
type builder struct {
	m    *Model
	opts Options

	// CPUs and irqs by number (small numbers; the maps of Model hold
	// the others)
	cpuv []*CPU
	irqv []*IRQ
	slab slab
	// cpuhp: open enters per (hotplugged cpu, step)
	hpOpen map[[2]int32][]int
	// ipi: pending sends per (target, kind)
	ipiPend map[ipiKey][]int
	// matrix global state
	g        globalMatrix
	gKnown   bool
	hotplugs int   // CPU transitions seen (to explain matrix drift)
	tdStep   int32 // step number of takedown_cpu, once seen
	gEpoch   int   // hotplugs at the last global check

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

// buildFrom builds the model of events already in (ts, line) order.
func buildFrom(evs []ev, opts Options) *Model {
	b := newBuilder(opts)
	for i := range evs {
		b.feed(&evs[i])
	}
	b.finish()
	return b.m
}

func newBuilder(opts Options) *builder {
	m := &Model{File: opts.File, irqs: map[int32]*IRQ{}, cpus: map[int32]*CPU{}}
	b := &builder{m: m, opts: opts,
		hpOpen: map[[2]int32][]int{}, ipiPend: map[ipiKey][]int{},
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
	return b
}

// reserve sizes the model's largest slices from the event counts (one
// invocation per exit at most).
func (b *builder) reserve(sc *scan) {
	n := func(ids ...ftrace.EventID) int {
		t := 0
		for _, id := range ids {
			t += sc.counts[id]
		}
		return t
	}
	sys := 0
	for id := ftrace.EventID(0); int(id) < ftrace.NumEvents; id++ {
		if id.Info().Family == ftrace.FamSysvec && !sysvecEntry[id] {
			sys += sc.counts[id]
		}
	}
	// (a slice stays nil when there is nothing to hold, as without reserve)
	if k := n(ftrace.EvIRQHandlerExit); k > 0 {
		b.m.Handlers = make([]Invocation, 0, k)
	}
	if sys > 0 {
		b.m.Sysvecs = make([]Invocation, 0, sys)
	}
	if k := n(ftrace.EvSoftirqExit); k > 0 {
		b.m.Softirqs = make([]SoftirqRun, 0, k)
	}
	for cpu, k := range sc.steps {
		if cpu != null {
			b.cpu(cpu).HotplugSteps = make([]HotplugStep, 0, k)
		}
	}
}

// feed takes the next event in (ts, line) order.
func (b *builder) feed(e *ev) {
	if b.m.Events == 0 {
		b.m.FirstNS = e.ts
	}
	b.m.Events++
	b.m.LastNS = e.ts
	b.event(e)
}

const (
	maxCPUIndex = 1 << 12 // CPUs below are found by index, not by map
	maxIRQIndex = 1 << 16
)

func (b *builder) cpu(n int32) *CPU {
	if n >= 0 && int(n) < len(b.cpuv) && b.cpuv[n] != nil {
		return b.cpuv[n]
	}
	c := b.m.cpus[n]
	if c == nil {
		c = &CPU{CPU: n, online: true, offAt: -1, curDown: -1, curUp: -1}
		b.m.cpus[n] = c
		if n >= 0 && n < maxCPUIndex {
			for int(n) >= len(b.cpuv) {
				b.cpuv = append(b.cpuv, nil)
			}
			b.cpuv[n] = c
		}
	}
	return c
}

func (b *builder) irq(n int32) *IRQ {
	if n >= 0 && int(n) < len(b.irqv) && b.irqv[n] != nil {
		return b.irqv[n]
	}
	q := b.m.irqs[n]
	if q == nil {
		q = &IRQ{IRQ: n, Class: ClassUnknown, cur: -1, parkedAt: -1, shutAct: -1, HandlerCPUs: map[int32]int64{}}
		b.m.irqs[n] = q
		if n >= 0 && n < maxIRQIndex {
			for int(n) >= len(b.irqv) {
				b.irqv = append(b.irqv, nil)
			}
			b.irqv[n] = q
		}
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

// slab hands out pointers to small values from chunks, for the optional
// fields of the model's most numerous records (one allocation per 512
// values instead of one per value).
type slab struct {
	i32 []int32
	i64 []int64
}

func (s *slab) p32(v int32) *int32 {
	if v == null {
		return nil
	}
	if len(s.i32) == cap(s.i32) {
		s.i32 = make([]int32, 0, 512)
	}
	s.i32 = append(s.i32, v)
	return &s.i32[len(s.i32)-1]
}

func (s *slab) p64(v int64) *int64 {
	if len(s.i64) == cap(s.i64) {
		s.i64 = make([]int64, 0, 512)
	}
	s.i64 = append(s.i64, v)
	return &s.i64[len(s.i64)-1]
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
	if len(b.marks) == 0 {
		// no LOST markers: nothing to check
	} else if ms := b.marks[e.cpu]; len(ms) > 0 {
		// Events of one CPU come in line order: markers passed since its
		// previous event start a gap at that event (null before the first).
		for k := b.markNext[e.cpu]; k < len(ms) && ms[k].Line < e.line; k++ {
			if c.seen {
				b.gapStart[e.cpu][k] = c.lastEvent
			}
			b.markNext[e.cpu] = k + 1
			b.gap(e.cpu)
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
		b.handlerEntry(c, e)
	case ftrace.EvIRQHandlerExit:
		b.handlerExit(c, e)
	case ftrace.EvSoftirqRaise, ftrace.EvSoftirqEntry, ftrace.EvSoftirqExit:
		b.softirq(c, e)
	case ftrace.EvCPUHPEnter, ftrace.EvCPUHPMultiEnter:
		b.hpEnter(e)
	case ftrace.EvCPUHPExit:
		b.hpExit(e)
	case ftrace.EvConsole:
		b.m.Console = append(b.m.Console, Text{TS: e.ts, CPU: e.cpu, Line: e.line, Text: e.str})
		b.console(e)
	case ftrace.EvPrint:
		b.m.Markers = append(b.m.Markers, Text{TS: e.ts, CPU: e.cpu, Line: e.line, Text: e.str})
	case ftrace.EvFunction:
		b.function(e)
	case ftrace.EvUnknown:
		b.sched(e)
	case ftrace.EvIPISendCPU, ftrace.EvIPISendCPUMask:
		b.ipiSend(e)
	case ftrace.EvMatrixOnline:
		b.matrix(e)
		b.setOnline(c, e)
	default:
		switch e.id.Info().Family {
		case ftrace.FamSysvec:
			b.sysvec(c, e)
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
	act := q.shutAct
	q.shutAct = -1
	if toCPU == null {
		q.hops = nil
		return
	}
	// It was moved, not shut down.
	if q.parkedAt >= 0 && q.Parked[q.parkedAt].StartNS == s.TS {
		q.Parked = q.Parked[:q.parkedAt]
		q.parkedAt = -1
	}
	if act >= 0 {
		q.Activations[act].EndNS, q.Activations[act].EndLine = nil, 0
	}
	s.ToCPU, s.ToVector, s.Evidence = p32(toCPU), p32(toVec), evidence
	for _, h := range q.hops {
		if h != toCPU {
			s.Evidence += fmt.Sprintf("; CPU %d also went offline before it (the irq may have moved through it)", h)
		}
	}
	q.hops = nil
	q.Migrations = append(q.Migrations, *s)
	q.start(Assignment{CPU: p32(toCPU), Vector: p32(toVec), StartNS: s.TS, StartReason: "cpu_offline_move",
		StartLine: s.Line, Inferred: true})
}

// clippedStart returns when an irq first seen in use on cpu must have been
// there since: no untraced move can have brought it there after the last
// offline of another CPU (which moves irqs without events) or, after cpu
// itself was last brought back, before that. Before that point the trace
// does not say where the irq was. The reason is "before_trace" when the
// bound is the start of the trace, else "first_seen".
func (b *builder) clippedStart(cpu int32) (int64, string) {
	start, reason := b.m.FirstNS, "before_trace"
	for n, c := range b.m.cpus {
		t := c.offTS
		if n == cpu {
			t = c.onTS
		}
		if c.offAt >= 0 || len(c.OfflineIntervals) > 0 {
			if t > start {
				start, reason = t, "first_seen"
			}
		}
	}
	return start, reason
}

func (b *builder) vectorUpdate(e *ev) {
	q := b.irq(e.irq)
	q.closePark(e.ts)
	if e.pvec == null {
		// First assignment (prev 0/0), e.g. activation or managed startup.
		if q.shutdown != nil {
			q.shutdown, q.shutAct, q.hops = nil, -1, nil // the displaced managed irq was shut down: parked until now
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
			start, reason := b.clippedStart(e.pcpu)
			q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: start, StartReason: reason, StartLine: e.line, Clipped: true})
		} else {
			b.anomaly("prev_slot_mismatch", e, e.irq, "vector_update of irq %d says it held %d.%d, the model says it held nothing", e.irq, e.pcpu, e.pvec)
			q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: e.ts, StartReason: "resync", StartLine: e.line, Inferred: true})
		}
	case a.CPU != nil && *a.CPU != e.pcpu && a.Vector == nil:
		// The CPU came from handler runs; the kernel says another one.
		b.anomaly("prev_slot_mismatch", e, e.irq, "vector_update of irq %d says it held CPU %d, the model has CPU %d", e.irq, e.pcpu, *a.CPU)
		q.endCurrent(e.ts, e.line, "resync")
		q.start(Assignment{CPU: p32(e.pcpu), Vector: p32(e.pvec), StartNS: e.ts, StartReason: "resync", StartLine: e.line, Inferred: true})
	case a.CPU == nil || a.Vector == nil:
		// An inferred destination: the kernel's prev_* anchors it.
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
	if mg.Completion == CompletionNever {
		q.open = append(q.open, len(q.Migrations)-1)
	}
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

// pending returns the indices of q's migrations still in progress, the
// latest first.
func (q *IRQ) pending() []int {
	if len(q.open) == 0 {
		return nil
	}
	out := make([]int, 0, len(q.open))
	for k := len(q.open) - 1; k >= 0; k-- {
		out = append(out, q.open[k])
	}
	return out
}

// complete ends migration i (in progress) at ts.
func (q *IRQ) complete(i int, ts, line int64, how string) {
	mg := &q.Migrations[i]
	mg.CompletedNS, mg.Completion, mg.CompletionLine = p64(ts), how, line
	for k, j := range q.open {
		if j == i {
			q.open = append(q.open[:k], q.open[k+1:]...)
			break
		}
	}
}

func (b *builder) freeMoved(e *ev) {
	q := b.irq(e.irq)
	for _, i := range q.pending() {
		mg := &q.Migrations[i]
		if mg.FromCPU == e.tcpu && (mg.FromVector == nil || *mg.FromVector == e.vector) {
			q.complete(i, e.ts, e.line, CompletionFreeMoved)
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
		q.complete(i, e.ts, e.line, CompletionClear)
	}
	q.shutdown, q.shutAct, q.hops = nil, -1, nil
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

// classify sets q's class from the is_managed and can_reserve fields of
// a vector_activate or vector_deactivate.
func classify(q *IRQ, e *ev) {
	switch {
	case e.b&bitIsManaged != 0:
		q.Class = ClassManaged
	case q.Class == ClassLegacy:
	case e.b&bitCanReserve == 0:
		q.Class = ClassFixed
	default:
		q.Class = ClassReservation
	}
}

func (b *builder) activate(e *ev) {
	q := b.irq(e.irq)
	classify(q, e)
	if s := q.shutdown; s != nil {
		// Re-activation: the offline shut it down. A managed irq first seen
		// active (class unknown then) was parked since the offline.
		if q.Class == ClassManaged && q.parkedAt < 0 {
			q.Parked = append(q.Parked, Interval{StartNS: s.TS, Line: s.Line})
			q.parkedAt = len(q.Parked) - 1
		}
		q.shutdown, q.shutAct, q.hops = nil, -1, nil
	}
	q.Activations = append(q.Activations, Activation{StartNS: e.ts, Reserve: e.b&bitReserve != 0, StartLine: e.line})
}

func (b *builder) deactivate(e *ev) {
	q := b.irq(e.irq)
	classify(q, e)
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

func (b *builder) handlerEntry(c *CPU, e *ev) {
	q := b.irq(e.irq)
	q.HandlerCount++
	if e.cpu >= 0 && e.cpu < maxCPUIndex {
		for int(e.cpu) >= len(q.hcpu) {
			q.hcpu = append(q.hcpu, 0)
		}
		q.hcpu[e.cpu]++
	} else {
		q.HandlerCPUs[e.cpu]++
	}
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
	c.hstack = append(c.hstack, Invocation{CPU: e.cpu, IRQ: e.irq, Vector: null, Name: e.str, StartNS: e.ts,
		Depth: int32(len(c.hstack)), EntryLine: e.line})
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
			start, reason := b.clippedStart(e.cpu)
			q.start(Assignment{CPU: p32(e.cpu), StartNS: start, StartReason: reason, StartLine: e.line, Clipped: true})
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
	// The old target of a move in progress still delivers until cleanup
	// (this covers a deferred move, written on the old CPU just before the
	// handler of the interrupt that triggered it).
	for _, i := range q.pending() {
		if q.Migrations[i].FromCPU == e.cpu {
			return
		}
	}
	if c := b.m.cpus[*a.CPU]; c != nil && c.dying && c.online {
		// The irq's CPU is being taken down (takedown_cpu began): the run
		// elsewhere shows it already went offline, moving the irq without
		// events, before the take-down's end or its console line.
		b.goOffline(c, e)
		b.resolveShutdown(q, e.cpu, null, "handler run on the new CPU")
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

func (b *builder) handlerExit(c *CPU, e *ev) {
	st := c.hstack
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].IRQ == e.irq {
			inv := st[i]
			inv.EndNS, inv.ExitLine, inv.Handled = e.ts, e.line, e.ret != 0
			b.m.Handlers = append(b.m.Handlers, inv)
			c.hstack = append(st[:i], st[i+1:]...)
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

// sysvecStem is the name stem of each system vector event ("reschedule"
// for reschedule_entry and reschedule_exit); sysvecEntry marks entries.
var sysvecStem, sysvecEntry = func() (stem [ftrace.NumEvents]string, entry [ftrace.NumEvents]bool) {
	for id := ftrace.EventID(0); int(id) < ftrace.NumEvents; id++ {
		if id.Info().Family != ftrace.FamSysvec {
			continue
		}
		name := id.String()
		if s, ok := strings.CutSuffix(name, "_entry"); ok {
			stem[id], entry[id] = s, true
		} else {
			stem[id] = strings.TrimSuffix(name, "_exit")
		}
	}
	return stem, entry
}()

func (b *builder) sysvec(c *CPU, e *ev) {
	stem := sysvecStem[e.id]
	if sysvecEntry[e.id] {
		c.sstack = append(c.sstack, Invocation{CPU: e.cpu, IRQ: null, Vector: e.vector, Name: stem,
			StartNS: e.ts, Depth: int32(len(c.sstack)), EntryLine: e.line, Handled: true})
		if len(b.ipiPend) > 0 {
			b.ipiReceive(e.cpu, stem, e.ts, e.line)
		}
		return
	}
	st := c.sstack
	for i := len(st) - 1; i >= 0; i-- {
		if st[i].Name == stem {
			inv := st[i]
			inv.EndNS, inv.ExitLine = e.ts, e.line
			b.m.Sysvecs = append(b.m.Sysvecs, inv)
			c.sstack = append(st[:i], st[i+1:]...)
			return
		}
	}
	// An exit whose entry precedes the trace answers no send of the trace.
	b.m.Counts.SysvecOrphans++
}

func (b *builder) softirq(c *CPU, e *ev) {
	if c.raised == nil {
		c.raised = map[int32]int64{}
	}
	switch e.id {
	case ftrace.EvSoftirqRaise:
		if _, ok := c.raised[e.vector]; !ok {
			c.raised[e.vector] = e.ts
		}
	case ftrace.EvSoftirqEntry:
		r := SoftirqRun{CPU: e.cpu, Vec: e.vector, Action: e.str, StartNS: e.ts, EntryLine: e.line}
		if t, ok := c.raised[e.vector]; ok {
			r.RaiseNS = b.slab.p64(t)
			delete(c.raised, e.vector)
		}
		c.sopen = append(c.sopen, r)
	case ftrace.EvSoftirqExit:
		st := c.sopen
		for i := len(st) - 1; i >= 0; i-- {
			if st[i].Vec == e.vector {
				r := st[i]
				r.EndNS = e.ts
				b.m.Softirqs = append(b.m.Softirqs, r)
				c.sopen = append(st[:i], st[i+1:]...)
				return
			}
		}
		b.m.Counts.SoftirqOrphans++
	}
}

// gap forgets what is open on cpu at a LOST/DROPPED marker: an exit after
// the gap may belong to an entry lost in it, so open entries are counted
// as open and pairing starts again; sends to cpu whose receive may be in
// the gap are marked clipped instead of being answered by a later receive.
func (b *builder) gap(cpu int32) {
	c := b.cpu(cpu)
	b.m.Counts.HandlerOpen += int64(len(c.hstack))
	b.m.Counts.SysvecOpen += int64(len(c.sstack))
	b.m.Counts.SoftirqOpen += int64(len(c.sopen))
	c.hstack, c.sstack, c.sopen = nil, nil, nil
	clear(c.raised)
	for k, pend := range b.ipiPend {
		if k.cpu == cpu {
			for _, i := range pend {
				b.m.IPIs[i].Clipped = true
			}
			delete(b.ipiPend, k)
		}
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

// ipiReceive answers, at the entry of the receiving system vector, every
// pending send of that kind to cpu (IPIs of one kind coalesce: one receive
// serves all sends before it; events come in time order, so every pending
// send is at or before ts). A send made while the handler runs waits for
// the next entry.
func (b *builder) ipiReceive(cpu int32, kind string, ts, line int64) {
	k := ipiKey{cpu, kind}
	pend, ok := b.ipiPend[k]
	if !ok {
		return
	}
	for _, i := range pend {
		b.m.IPIs[i].ReceiveNS, b.m.IPIs[i].RecvLine = p64(ts), line
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
	for _, c := range m.cpus {
		m.Counts.HandlerOpen += int64(len(c.hstack))
		m.Counts.SysvecOpen += int64(len(c.sstack))
		m.Counts.SoftirqOpen += int64(len(c.sopen))
		c.hstack, c.sstack, c.sopen, c.raised = nil, nil, nil, nil
	}
	for _, q := range m.irqs {
		for cpu, n := range q.hcpu {
			if n > 0 {
				q.HandlerCPUs[int32(cpu)] += n
			}
		}
		q.hcpu = nil
		if q.shutdown != nil {
			// Displaced by an offline and never seen again: shut down (for
			// a managed irq) or moved where the trace does not show.
			s := q.shutdown
			if q.Class != ClassManaged {
				q.Migrations = append(q.Migrations, *s)
			}
			q.shutdown, q.shutAct, q.hops = nil, -1, nil
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
		if a.StartNS != c.StartNS {
			return a.StartNS < c.StartNS
		}
		if a.IRQ != c.IRQ {
			return a.IRQ < c.IRQ
		}
		return a.State > c.State // "owned" before "moving"
	})
	for _, c := range m.cpus {
		m.CPUs = append(m.CPUs, c)
	}
	sort.Slice(m.CPUs, func(i, j int) bool { return m.CPUs[i].CPU < m.CPUs[j].CPU })
	for _, d := range m.IPIs {
		if d.ReceiveNS == nil && !d.Clipped {
			m.Counts.IPIUnanswered++
		}
	}
	m.Counts.Handlers = int64(len(m.Handlers))
	m.Counts.Sysvecs = int64(len(m.Sysvecs))
	m.Counts.Softirqs = int64(len(m.Softirqs))
	sortByStart(m.Handlers, func(v *Invocation) int64 { return v.StartNS })
	sortByStart(m.Sysvecs, func(v *Invocation) int64 { return v.StartNS })
	sortByStart(m.Softirqs, func(v *SoftirqRun) int64 { return v.StartNS })
	b.coverage()
	sort.SliceStable(m.Anomalies, func(i, j int) bool { return m.Anomalies[i].TS < m.Anomalies[j].TS })
}

// sortByStart sorts s by start time, stable. Runs are appended at their
// exit, so s is in order but for nested runs, each a few places after
// the runs it encloses: an insertion sort does it in about one pass. A
// budget of moves bounds it; past it, the general stable sort finishes
// (insertion keeps equal keys in order, so the result is the same).
func sortByStart[T any](s []T, start func(*T) int64) {
	budget := 8*len(s) + 64
	for i := 1; i < len(s); i++ {
		k := start(&s[i])
		if start(&s[i-1]) <= k {
			continue
		}
		v := s[i]
		j := i
		for ; j > 0 && start(&s[j-1]) > k; j-- {
			s[j] = s[j-1]
			budget--
		}
		s[j] = v
		if budget < 0 {
			slices.SortStableFunc(s, func(a, b T) int { return cmp.Compare(start(&a), start(&b)) })
			return
		}
	}
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

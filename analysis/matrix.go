package analysis

import (
	"fmt"

	"github.com/irqtrace/irqtrace/ftrace"
)

// cpuMatrix is the model's copy of one CPU's irq_matrix counters.
type cpuMatrix struct {
	known               bool
	epoch               int
	avl, alloc, managed int64
}

// globalMatrix is the model's copy of the global irq_matrix counters.
type globalMatrix struct {
	maps, avl, rsvd, talloc int64
}

// delta is the set of changes an operation may make to one counter.
type delta []int64

var (
	same = delta{0}
	inc  = delta{1}
	dec  = delta{-1}
	any_ = delta(nil) // not predicted
)

// matrixOp returns the predicted counter changes of an irq_matrix event
// (kernel/irq/matrix.c): per-CPU avl, alloc, managed, then global avl,
// rsvd, total_alloc, online_maps. online is the map's online flag (frees
// and managed reservations touch the global counters only for an online
// map). A nil delta is not predicted.
func matrixOp(id ftrace.EventID, online bool) (cAvl, cAlloc, cMgd, gAvl, gRsvd, gTalloc, gMaps delta, ok bool) {
	onl := func(d delta) delta {
		if online {
			return d
		}
		return same
	}
	switch id {
	case ftrace.EvMatrixAlloc:
		// Only online maps are searched: the counters change unconditionally.
		return dec, inc, same, dec, delta{0, -1}, inc, same, true
	case ftrace.EvMatrixAllocManaged:
		// total_allocated++ whatever the map's online state.
		return same, inc, same, same, same, inc, same, true
	case ftrace.EvMatrixAssign:
		// A preallocated vector marked in the local (online) map.
		return dec, inc, same, dec, same, inc, same, true
	case ftrace.EvMatrixAssignSystem:
		// replace=true takes an allocated bit back (allocated--,
		// total_allocated--); no per-CPU counters are printed.
		return nil, nil, nil, same, same, delta{0, -1}, same, true
	case ftrace.EvMatrixFree:
		// +1 available for a regular vector, 0 for a managed one.
		return delta{0, 1}, dec, same, onl(delta{0, 1}), same, onl(dec), same, true
	case ftrace.EvMatrixReserveManaged:
		return onl(dec), same, inc, onl(dec), same, same, same, true
	case ftrace.EvMatrixRemoveManaged:
		return onl(inc), same, dec, onl(inc), same, same, same, true
	case ftrace.EvMatrixReserve:
		return nil, nil, nil, same, inc, same, same, true
	case ftrace.EvMatrixRemoveReserved:
		return nil, nil, nil, same, dec, same, same, true
	case ftrace.EvMatrixOnline:
		// global_available += the map's available (not printed).
		return nil, nil, nil, any_, same, same, inc, true
	case ftrace.EvMatrixOffline:
		return nil, nil, nil, any_, same, same, dec, true
	}
	// irq_matrix_alloc_reserved has no caller in the kernels read: its
	// counters are taken as printed, unchecked.
	return nil, nil, nil, nil, nil, nil, nil, false
}

// matrix rebuilds the matrix counters and checks them against the values
// the kernel printed. A CPU going offline or online changes the counters
// without any event (tracepoints.md section 0): mismatches across such a
// transition are reported as explained.
func (b *builder) matrix(e *ev) {
	mm := &b.m.Matrix
	mm.Events++
	cAvl, cAlloc, cMgd, gAvl, gRsvd, gTalloc, gMaps, ok := matrixOp(e.id, e.b&bitOnline != 0)
	explained := b.gEpoch != b.hotplugs
	if b.gKnown && ok {
		b.check(e, null, "global_avl", b.g.avl, e.gavl, gAvl, explained)
		b.check(e, null, "global_rsvd", b.g.rsvd, e.grsvd, gRsvd, explained)
		b.check(e, null, "total_alloc", b.g.talloc, e.talloc, gTalloc, explained)
		b.check(e, null, "online_maps", b.g.maps, int64(e.onlineMaps), gMaps, explained)
	}
	b.g = globalMatrix{maps: int64(e.onlineMaps), avl: e.gavl, rsvd: e.grsvd, talloc: e.talloc}
	pt := MatrixPoint{TS: e.ts, Line: e.line, Event: e.id.String(), CPU: -1, Avl: -1, Alloc: -1, Managed: -1,
		OnlineMaps: e.onlineMaps, GlobalAvl: e.gavl, GlobalRsvd: e.grsvd, TotalAlloc: e.talloc}
	if e.id.Info().Family == ftrace.FamMatrixCPU && e.tcpu != null {
		pt.CPU, pt.Avl, pt.Alloc, pt.Managed = e.tcpu, e.avl, e.alloc, e.managed
	}
	b.m.MatrixPoints = append(b.m.MatrixPoints, pt)
	b.gKnown, b.gEpoch = true, b.hotplugs
	if e.id.Info().Family != ftrace.FamMatrixCPU || e.tcpu == null {
		return
	}
	if cc := b.cpu(e.tcpu); !cc.online && e.b&bitOnline != 0 {
		// The kernel says this CPU's map is online: it came back without
		// the trace showing its bring-up (perf stops recording a CPU at
		// its first offline).
		cc.bringing = true
		b.setOnline(cc, e)
	}
	c := &b.cpu(e.tcpu).matrix
	if c.known && ok {
		ex := c.epoch != b.hotplugs
		b.check(e, e.tcpu, "avl", c.avl, int64(e.avl), cAvl, ex)
		b.check(e, e.tcpu, "alloc", c.alloc, int64(e.alloc), cAlloc, ex)
		b.check(e, e.tcpu, "managed", c.managed, int64(e.managed), cMgd, ex)
	}
	*c = cpuMatrix{known: true, epoch: b.hotplugs, avl: int64(e.avl), alloc: int64(e.alloc), managed: int64(e.managed)}
}

// check compares one printed counter with the model's prediction: a
// global one (cpu null) against the previous irq_matrix event, a per-CPU
// one against that CPU's previous irq_matrix event.
func (b *builder) check(e *ev, cpu int32, field string, prev, got int64, d delta, explained bool) {
	if d == nil || got == null {
		return
	}
	mm := &b.m.Matrix
	mm.Checks++
	b.m.Counts.MatrixChecks++
	for _, x := range d {
		if prev+x == got {
			mm.Matches++
			return
		}
	}
	b.m.Counts.MatrixMismatches++
	a := Anomaly{Kind: "matrix_mismatch", TS: e.ts, CPU: e.cpu, Line: e.line, Explained: explained}
	since := "the previous irq_matrix event"
	if cpu != null {
		field = fmt.Sprintf("cpu%d.%s", cpu, field)
		since = fmt.Sprintf("CPU %d's previous irq_matrix event", cpu)
	}
	a.Message = fmt.Sprintf("%s: %s = %d, the model expected %d%s", e.id, field, got, prev+d[0], alt(prev, d))
	if explained {
		mm.Explained++
		a.Message += " (a CPU went offline or online since " + since + ", which changes the counters without events)"
	} else {
		mm.Unexplained++
	}
	b.m.Anomalies = append(b.m.Anomalies, a)
}

func alt(prev int64, d delta) string {
	if len(d) < 2 {
		return ""
	}
	return fmt.Sprintf(" or %d", prev+d[1])
}

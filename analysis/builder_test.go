package analysis

// A fluent builder of events tables for model tests: it makes ftrace
// records, appends them to an ftrace.Batch and builds the Arrow table
// through ftrace.Table, so that the model is built by Build from real
// record batches, extraction included. Lines are numbered in append order
// (the input order); timestamps are whatever At says, so an input whose
// timestamps go back across CPUs is written as it would be read.
//
//	m := newTB().At(100, 2).Hard().VectorUpdate(35, 33, 1, 41, 2).
//		At(150, 1).HandlerEntry(35, "virtio2").At(160, 1).HandlerExit(35, true).
//		Build(t)

import (
	"strconv"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
)

type tb struct {
	recs    []ftrace.Record
	ts      int64
	cpu     int32
	flags   string // irq-info column of the next events, "" for none
	markers []tbMarker
}

type tbMarker struct {
	kind string
	cpu  int32
	line int64
}

func newTB() *tb { return &tb{} }

// At sets the time (ns) and writing CPU of the next events; their flags
// go back to none.
func (b *tb) At(ts int64, cpu int32) *tb {
	b.ts, b.cpu, b.flags = ts, cpu, ""
	return b
}

// Flags sets the ftrace irq-info column of the next events ("d.h1.").
func (b *tb) Flags(f string) *tb { b.flags = f; return b }

// Hard marks the next events as written in hardirq context.
func (b *tb) Hard() *tb { return b.Flags("d.h1.") }

// Lost writes a "CPU:N [LOST EVENTS]" marker for the current CPU.
func (b *tb) Lost() *tb {
	b.markers = append(b.markers, tbMarker{"lost_marker", b.cpu, int64(len(b.recs) + 1)})
	b.recs = append(b.recs, ftrace.Record{Line: -1}) // placeholder: a line, no event
	return b
}

// ev appends one event; set fills its payload.
func (b *tb) ev(id ftrace.EventID, set func(p *ftrace.Payload)) *tb {
	r := ftrace.Record{TS: ftrace.Timestamp(b.ts), CPU: b.cpu, PID: 1, TGID: -1, Comm: []byte("test"), Event: id,
		Name: []byte(id.String()), Line: int64(len(b.recs) + 1)}
	if b.flags != "" {
		f, ok := ftrace.ParseFlags([]byte(b.flags))
		if !ok {
			panic("bad flags " + b.flags)
		}
		r.Flags = f
	}
	if set != nil {
		set(&r.Payload)
	}
	b.recs = append(b.recs, r)
	return b
}

func bit(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

func (b *tb) vecMod(id ftrace.EventID, irq, vec, cpu, pvec, pcpu int32) *tb {
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FVector, int64(vec))
		p.Set(ftrace.FTargetCPU, int64(cpu))
		if pvec != 0 { // prev_vector=0 prev_cpu=0: the decoder leaves both null
			p.Set(ftrace.FPrevVector, int64(pvec))
			p.Set(ftrace.FPrevCPU, int64(pcpu))
		}
	})
}

// VectorUpdate: irq now targets cpu.vec, previously pcpu.pvec (0: none).
func (b *tb) VectorUpdate(irq, vec, cpu, pvec, pcpu int32) *tb {
	return b.vecMod(ftrace.EvVectorUpdate, irq, vec, cpu, pvec, pcpu)
}

// VectorClear: irq's cpu.vec (and pcpu.pvec of a move in progress) freed.
func (b *tb) VectorClear(irq, vec, cpu, pvec, pcpu int32) *tb {
	return b.vecMod(ftrace.EvVectorClear, irq, vec, cpu, pvec, pcpu)
}

func (b *tb) FreeMoved(irq, cpu, vec int32, managed bool) *tb {
	return b.ev(ftrace.EvVectorFreeMoved, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FTargetCPU, int64(cpu))
		p.Set(ftrace.FVector, int64(vec))
		p.Set(ftrace.FIsManaged, bit(managed))
	})
}

func (b *tb) Config(irq, vec, cpu int32) *tb {
	return b.ev(ftrace.EvVectorConfig, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FVector, int64(vec))
		p.Set(ftrace.FTargetCPU, int64(cpu))
		p.Set(ftrace.FAPICDest, 1<<cpu)
	})
}

func (b *tb) activation(id ftrace.EventID, irq int32, managed, canReserve, reserve bool) *tb {
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FIsManaged, bit(managed))
		p.Set(ftrace.FCanReserve, bit(canReserve))
		p.Set(ftrace.FReserve, bit(reserve))
	})
}

func (b *tb) Activate(irq int32, managed, canReserve, reserve bool) *tb {
	return b.activation(ftrace.EvVectorActivate, irq, managed, canReserve, reserve)
}

func (b *tb) Deactivate(irq int32, managed, canReserve, reserve bool) *tb {
	return b.activation(ftrace.EvVectorDeactivate, irq, managed, canReserve, reserve)
}

func (b *tb) Teardown(irq int32, managed, hasReserved bool) *tb {
	return b.ev(ftrace.EvVectorTeardown, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FIsManaged, bit(managed))
		p.Set(ftrace.FHasReserved, bit(hasReserved))
	})
}

func (b *tb) Alloc(irq, vec int32, reserved bool, ret int32) *tb {
	return b.ev(ftrace.EvVectorAlloc, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FVector, int64(vec))
		p.Set(ftrace.FReserved, bit(reserved))
		p.Set(ftrace.FRet, int64(ret))
	})
}

func (b *tb) HandlerEntry(irq int32, name string) *tb {
	return b.ev(ftrace.EvIRQHandlerEntry, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.SetStr(ftrace.FName, []byte(name))
	})
}

func (b *tb) HandlerExit(irq int32, handled bool) *tb {
	return b.ev(ftrace.EvIRQHandlerExit, func(p *ftrace.Payload) {
		p.Set(ftrace.FIRQ, int64(irq))
		p.Set(ftrace.FRet, bit(handled))
	})
}

// Handler writes an entry at the current time and its exit d ns later.
func (b *tb) Handler(irq int32, name string, d int64) *tb {
	ts, cpu, f := b.ts, b.cpu, b.flags
	b.HandlerEntry(irq, name).At(ts+d, cpu).Flags(f).HandlerExit(irq, true)
	return b
}

// Sysvec writes a system vector event (e.g. ftrace.EvRescheduleEntry).
func (b *tb) Sysvec(id ftrace.EventID, vector int32) *tb {
	return b.ev(id, func(p *ftrace.Payload) { p.Set(ftrace.FVector, int64(vector)) })
}

func (b *tb) softirq(id ftrace.EventID, vec int32, action string) *tb {
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FVec, int64(vec))
		p.SetStr(ftrace.FName, []byte(action))
	})
}

func (b *tb) SoftirqRaise(vec int32, action string) *tb {
	return b.softirq(ftrace.EvSoftirqRaise, vec, action)
}
func (b *tb) SoftirqEntry(vec int32, action string) *tb {
	return b.softirq(ftrace.EvSoftirqEntry, vec, action)
}
func (b *tb) SoftirqExit(vec int32, action string) *tb {
	return b.softirq(ftrace.EvSoftirqExit, vec, action)
}

// HPEnter writes cpuhp_enter (cpuhp_multi_enter if multi) for hotplugged
// CPU cpu.
func (b *tb) HPEnter(cpu, target, step int32, fn string, multi bool) *tb {
	id := ftrace.EvCPUHPEnter
	if multi {
		id = ftrace.EvCPUHPMultiEnter
	}
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FTargetCPU, int64(cpu))
		p.Set(ftrace.FTargetState, int64(target))
		p.Set(ftrace.FStep, int64(step))
		p.SetStr(ftrace.FFunc, []byte(fn))
	})
}

func (b *tb) HPExit(cpu, state, step, ret int32) *tb {
	return b.ev(ftrace.EvCPUHPExit, func(p *ftrace.Payload) {
		p.Set(ftrace.FTargetCPU, int64(cpu))
		p.Set(ftrace.FState, int64(state))
		p.Set(ftrace.FStep, int64(step))
		p.Set(ftrace.FRet, int64(ret))
	})
}

func (b *tb) Console(text string) *tb {
	return b.ev(ftrace.EvConsole, func(p *ftrace.Payload) { p.SetStr(ftrace.FText, []byte(text)) })
}

// Offline writes, on the current (control) CPU, the end of a take-down of
// cpu as 6.1 shows it: takedown_cpu enter, "CPU N is now offline", and
// takedown_cpu exit, at ts, ts+1, ts+2.
func (b *tb) Offline(cpu int32) *tb {
	ts, ctl := b.ts, b.cpu
	return b.HPEnter(cpu, 0, 153, "takedown_cpu", false).
		At(ts+1, ctl).Console("smpboot: CPU "+strconv.Itoa(int(cpu))+" is now offline").
		At(ts+2, ctl).HPExit(cpu, 92, 153, 0)
}

// Online writes the bring-up of cpu: bringup_cpu enter on the current
// (control) CPU at ts, irq_matrix_online on cpu at ts+1, bringup_cpu exit
// on the control CPU at ts+2.
func (b *tb) Online(cpu int32) *tb {
	ts, ctl := b.ts, b.cpu
	return b.HPEnter(cpu, 236, 91, "bringup_cpu", false).
		At(ts+1, cpu).MatrixGlobal(ftrace.EvMatrixOnline, 4, 771, 12, 27).
		At(ts+2, ctl).HPExit(cpu, 236, 91, 0)
}

func (b *tb) IPISendCPU(target int32, callback string) *tb {
	return b.ev(ftrace.EvIPISendCPU, func(p *ftrace.Payload) {
		p.Set(ftrace.FTargetCPU, int64(target))
		p.SetStr(ftrace.FCaller, []byte("caller+0x0/0x10"))
		p.SetStr(ftrace.FFunc, []byte(callback))
	})
}

func (b *tb) IPISendMask(mask, callback string) *tb {
	return b.ev(ftrace.EvIPISendCPUMask, func(p *ftrace.Payload) {
		p.SetStr(ftrace.FCPUMask, []byte(mask))
		p.SetStr(ftrace.FCaller, []byte("caller+0x0/0x10"))
		p.SetStr(ftrace.FFunc, []byte(callback))
	})
}

// MatrixGlobal writes an irq_matrix_global-class event.
func (b *tb) MatrixGlobal(id ftrace.EventID, maps, gavl, grsvd, talloc int64) *tb {
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FOnlineMaps, maps)
		p.Set(ftrace.FGlobalAvl, gavl)
		p.Set(ftrace.FGlobalRsvd, grsvd)
		p.Set(ftrace.FTotalAlloc, talloc)
	})
}

// mx is the counter part of an irq_matrix_cpu-class event.
type mx struct {
	bit, cpu              int32
	online                bool
	avl, alloc, managed   int64
	maps, gavl, grsvd, ta int64
}

func (b *tb) MatrixCPU(id ftrace.EventID, m mx) *tb {
	return b.ev(id, func(p *ftrace.Payload) {
		p.Set(ftrace.FVector, int64(m.bit))
		p.Set(ftrace.FTargetCPU, int64(m.cpu))
		p.Set(ftrace.FOnline, bit(m.online))
		p.Set(ftrace.FAvl, m.avl)
		p.Set(ftrace.FAlloc, m.alloc)
		p.Set(ftrace.FManaged, m.managed)
		p.Set(ftrace.FOnlineMaps, m.maps)
		p.Set(ftrace.FGlobalAvl, m.gavl)
		p.Set(ftrace.FGlobalRsvd, m.grsvd)
		p.Set(ftrace.FTotalAlloc, m.ta)
	})
}

// Build makes the Arrow table and the model. Marker lines hold no event;
// a marker's NextTS is the time of its CPU's next event.
func (b *tb) Build(t testing.TB) *Model {
	t.Helper()
	m, err := b.build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (b *tb) build() (*Model, error) {
	// One batch per run of rows with (or without) the irq-info column: a
	// batch whose flagged rows are followed by 8 or more unflagged ones
	// makes ftrace.Table.Records panic (flagColumns indexes the flags
	// validity bitmap past its end; see the report of this change). Several
	// batches also exercise extraction across record batches.
	tbl := ftrace.NewTable()
	defer tbl.Release()
	var batch *ftrace.Batch
	flagged := false
	for i := range b.recs {
		r := &b.recs[i]
		if r.Line <= 0 {
			continue
		}
		if batch == nil || r.Flags.Present != flagged {
			if batch != nil {
				tbl.Add("test.ftrace", batch)
			}
			batch, flagged = ftrace.NewBatch(len(b.recs)), r.Flags.Present
		}
		batch.Append(r)
	}
	if batch != nil {
		tbl.Add("test.ftrace", batch)
	}
	recs, err := tbl.Records()
	if err != nil {
		return nil, err
	}
	var marks []Marker
	for _, mk := range b.markers {
		m := Marker{Kind: mk.kind, CPU: mk.cpu, Line: mk.line}
		for _, r := range b.recs[mk.line:] {
			if r.Line > 0 && r.CPU == mk.cpu {
				m.NextTS = p64(int64(r.TS))
				break
			}
		}
		marks = append(marks, m)
	}
	return Build(recs, Options{Markers: marks})
}

package analysis

import (
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/irqtrace/irqtrace/ftrace"
)

// null marks an absent integer field in ev.
const null = -1 << 31

// ev is the compact form of one event the model reads.
type ev struct {
	ts                              int64
	line                            int64
	id                              ftrace.EventID
	cpu                             int32 // emitting CPU
	hard                            bool  // hardirq context, when the input has a flags column
	soft                            bool  // softirq context
	flags                           bool  // flags column present
	irq                             int32
	vector                          int32
	tcpu                            int32 // the event's own cpu= field
	pvec                            int32
	pcpu                            int32
	ret                             int32
	b                               uint8 // bools: see bit* constants
	avl, alloc, managed, onlineMaps int32
	gavl, grsvd, talloc             int64
	step, state, target             int32
	str                             string // name (handler, softirq action), cpuhp callback, console text
	str2                            string // ipi callback / function
}

const (
	bitReserved = 1 << iota
	bitIsManaged
	bitCanReserve
	bitReserve
	bitHasReserved
	bitIsLegacy
	bitOnline
)

// extract reads the events the model needs from records (all of one
// file), in (ts, line) order.
func extract(recs []arrow.RecordBatch, file string) ([]ev, error) {
	var out []ev
	for _, rec := range recs {
		if err := extractRecord(rec, file, &out); err != nil {
			return nil, err
		}
	}
	sorted := sort.SliceIsSorted(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	if !sorted {
		sort.SliceStable(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	}
	return out, nil
}

func less(a, b *ev) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	return a.line < b.line
}

// wanted reports whether the model reads events of this ID.
func wanted(id ftrace.EventID) bool {
	return id != ftrace.EvUnknown && id != ftrace.EvFunction && id != ftrace.EvPrint
}

func extractRecord(rec arrow.RecordBatch, file string, out *[]ev) error {
	n := int(rec.NumRows())
	col := func(i int) arrow.Array { return rec.Column(i) }
	evCol, ok := col(ftrace.ColEvent).(*array.Dictionary)
	if !ok {
		return fmt.Errorf("events table: column event is %T, want a dictionary", col(ftrace.ColEvent))
	}
	evDict := evCol.Dictionary().(*array.String)
	ids := make([]ftrace.EventID, evDict.Len())
	for i := range ids {
		ids[i] = ftrace.Lookup([]byte(evDict.Value(i)))
	}
	fileCol := col(ftrace.ColFile).(*array.Dictionary)
	fileDict := fileCol.Dictionary().(*array.String)
	ts := col(ftrace.ColTS).(*array.Int64)
	cpu := col(ftrace.ColCPU).(*array.Int16)
	line := col(ftrace.ColLine).(*array.Int64)
	hard := col(ftrace.ColHardirq).(*array.Boolean)
	soft := col(ftrace.ColSoftirq).(*array.Boolean)
	f := func(fl ftrace.Field) arrow.Array { return col(ftrace.ColFirstField + int(fl)) }
	i32 := func(a arrow.Array, i int) int32 {
		if a.IsNull(i) {
			return null
		}
		switch a := a.(type) {
		case *array.Int32:
			return a.Value(i)
		case *array.Int16:
			return int32(a.Value(i))
		case *array.Uint32:
			return int32(a.Value(i))
		}
		return null
	}
	i64 := func(a arrow.Array, i int) int64 {
		if a.IsNull(i) {
			return null
		}
		return int64(a.(*array.Uint32).Value(i))
	}
	str := func(a arrow.Array, i int) string {
		if a.IsNull(i) {
			return ""
		}
		d := a.(*array.Dictionary)
		return d.Dictionary().(*array.String).Value(d.GetValueIndex(i))
	}
	boolCols := []struct {
		fl  ftrace.Field
		bit uint8
	}{{ftrace.FReserved, bitReserved}, {ftrace.FIsManaged, bitIsManaged}, {ftrace.FCanReserve, bitCanReserve},
		{ftrace.FReserve, bitReserve}, {ftrace.FHasReserved, bitHasReserved}, {ftrace.FIsLegacy, bitIsLegacy}, {ftrace.FOnline, bitOnline}}
	for i := 0; i < n; i++ {
		if file != "" && fileDict.Value(fileCol.GetValueIndex(i)) != file {
			continue
		}
		id := ids[evCol.GetValueIndex(i)]
		if !wanted(id) {
			continue
		}
		e := ev{ts: ts.Value(i), line: line.Value(i), id: id, cpu: int32(cpu.Value(i))}
		if hard.IsValid(i) {
			e.flags, e.hard, e.soft = true, hard.Value(i), soft.Value(i)
		}
		switch id.Info().Family {
		case ftrace.FamSysvec:
			e.vector = i32(f(ftrace.FVector), i)
		case ftrace.FamHandlerEntry, ftrace.FamHandlerExit:
			e.irq = i32(f(ftrace.FIRQ), i)
			e.ret = i32(f(ftrace.FRet), i)
			e.str = str(f(ftrace.FName), i)
		case ftrace.FamSoftirq:
			e.vector = i32(f(ftrace.FVec), i)
			e.str = str(f(ftrace.FName), i)
		case ftrace.FamCPUHPEnter, ftrace.FamCPUHPExit:
			e.tcpu = i32(f(ftrace.FTargetCPU), i)
			e.step = i32(f(ftrace.FStep), i)
			e.state = i32(f(ftrace.FState), i)
			e.target = i32(f(ftrace.FTargetState), i)
			e.ret = i32(f(ftrace.FRet), i)
			e.str = str(f(ftrace.FFunc), i)
		case ftrace.FamIPISendCPU, ftrace.FamIPISendMask:
			e.tcpu = i32(f(ftrace.FTargetCPU), i)
			e.str = str(f(ftrace.FCPUMask), i)
			e.str2 = str(f(ftrace.FFunc), i)
		case ftrace.FamConsole:
			e.str = str(f(ftrace.FText), i)
		case ftrace.FamMatrixGlobal, ftrace.FamMatrixGlobalUpdate, ftrace.FamMatrixCPU:
			e.vector = i32(f(ftrace.FVector), i)
			e.tcpu = i32(f(ftrace.FTargetCPU), i)
			e.avl = i32(f(ftrace.FAvl), i)
			e.alloc = i32(f(ftrace.FAlloc), i)
			e.managed = i32(f(ftrace.FManaged), i)
			e.onlineMaps = i32(f(ftrace.FOnlineMaps), i)
			e.gavl = i64(f(ftrace.FGlobalAvl), i)
			e.grsvd = i64(f(ftrace.FGlobalRsvd), i)
			e.talloc = i64(f(ftrace.FTotalAlloc), i)
			e.b = boolBits(f, boolCols[6:], i)
		default:
			if id.Info().System != "irq_vectors" {
				continue
			}
			e.irq = i32(f(ftrace.FIRQ), i)
			e.vector = i32(f(ftrace.FVector), i)
			e.tcpu = i32(f(ftrace.FTargetCPU), i)
			e.pvec = i32(f(ftrace.FPrevVector), i)
			e.pcpu = i32(f(ftrace.FPrevCPU), i)
			e.ret = i32(f(ftrace.FRet), i)
			e.b = boolBits(f, boolCols, i)
		}
		*out = append(*out, e)
	}
	return nil
}

func boolBits(f func(ftrace.Field) arrow.Array, cols []struct {
	fl  ftrace.Field
	bit uint8
}, i int) uint8 {
	var b uint8
	for _, c := range cols {
		a := f(c.fl).(*array.Boolean)
		if a.IsValid(i) && a.Value(i) {
			b |= c.bit
		}
	}
	return b
}

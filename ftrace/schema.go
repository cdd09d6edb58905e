package ftrace

import "github.com/apache/arrow-go/v18/arrow"

// Column indices of the events table, in schema order.
const (
	ColTS = iota
	ColCPU
	ColEvent
	ColSystem
	ColPID
	ColTGID
	ColComm
	ColFlags
	ColIRQsOff
	ColBHOff
	ColNeedResched
	ColHardirq
	ColSoftirq
	ColNMI
	ColPreemptDepth
	ColMigrateDisable
	ColFile
	ColBuffer
	ColLine
	ColOffset
	ColFirstField // column of Field(0); Field f is column ColFirstField+f
	ColPayload    = ColFirstField + int(NumFields)
	ColArgs       = ColPayload + 1
	NumColumns    = ColArgs + 1
)

var (
	dict16 = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}
	dict32 = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
)

// fieldType is the Arrow type of each payload field's column.
var fieldType = [NumFields]arrow.DataType{
	FIRQ: arrow.PrimitiveTypes.Int32, FVector: arrow.PrimitiveTypes.Int16,
	FTargetCPU: arrow.PrimitiveTypes.Int16, FPrevVector: arrow.PrimitiveTypes.Int16,
	FPrevCPU: arrow.PrimitiveTypes.Int16, FAPICDest: arrow.PrimitiveTypes.Uint32,
	FRet: arrow.PrimitiveTypes.Int32, FReserved: arrow.FixedWidthTypes.Boolean,
	FIsManaged: arrow.FixedWidthTypes.Boolean, FCanReserve: arrow.FixedWidthTypes.Boolean,
	FReserve: arrow.FixedWidthTypes.Boolean, FHasReserved: arrow.FixedWidthTypes.Boolean,
	FIsLegacy: arrow.FixedWidthTypes.Boolean, FOnline: arrow.FixedWidthTypes.Boolean,
	FAvl: arrow.PrimitiveTypes.Int32, FAlloc: arrow.PrimitiveTypes.Int32,
	FManaged: arrow.PrimitiveTypes.Int32, FOnlineMaps: arrow.PrimitiveTypes.Int32,
	FGlobalAvl: arrow.PrimitiveTypes.Uint32, FGlobalRsvd: arrow.PrimitiveTypes.Uint32,
	FTotalAlloc: arrow.PrimitiveTypes.Uint32, FTargetState: arrow.PrimitiveTypes.Int16,
	FStep: arrow.PrimitiveTypes.Int16, FState: arrow.PrimitiveTypes.Int16,
	FVec: arrow.PrimitiveTypes.Int16, FName: dict32, FFunc: dict32, FCaller: dict32,
	FCPUMask: dict32, FText: dict32,
}

// Schema returns the Arrow schema of the events table. One row per event,
// in input order (per file; files in the order given). Metadata keys:
// "irqtrace.files" (JSON list of the inputs with format, clock and unit).
func Schema(meta *arrow.Metadata) *arrow.Schema {
	f := func(name string, t arrow.DataType, null bool) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: null}
	}
	fields := []arrow.Field{
		ColTS:             f("ts_ns", arrow.PrimitiveTypes.Int64, false),
		ColCPU:            f("cpu", arrow.PrimitiveTypes.Int16, false),
		ColEvent:          f("event", dict16, false),
		ColSystem:         f("system", dict16, true),
		ColPID:            f("pid", arrow.PrimitiveTypes.Int32, false),
		ColTGID:           f("tgid", arrow.PrimitiveTypes.Int32, true),
		ColComm:           f("comm", dict32, false),
		ColFlags:          f("flags", dict16, true),
		ColIRQsOff:        f("irqs_off", arrow.FixedWidthTypes.Boolean, true),
		ColBHOff:          f("bh_off", arrow.FixedWidthTypes.Boolean, true),
		ColNeedResched:    f("need_resched", arrow.FixedWidthTypes.Boolean, true),
		ColHardirq:        f("hardirq", arrow.FixedWidthTypes.Boolean, true),
		ColSoftirq:        f("softirq", arrow.FixedWidthTypes.Boolean, true),
		ColNMI:            f("nmi", arrow.FixedWidthTypes.Boolean, true),
		ColPreemptDepth:   f("preempt_depth", arrow.PrimitiveTypes.Int8, true),
		ColMigrateDisable: f("migrate_disable", arrow.PrimitiveTypes.Int8, true),
		ColFile:           f("file", dict16, false),
		ColBuffer:         f("buffer", dict16, true),
		ColLine:           f("line", arrow.PrimitiveTypes.Int64, false),
		ColOffset:         f("offset", arrow.PrimitiveTypes.Int64, false),
	}
	for fl := Field(0); fl < NumFields; fl++ {
		fields = append(fields, f(fl.Column(), fieldType[fl], true))
	}
	fields = append(fields,
		f("payload", arrow.BinaryTypes.String, true),
		f("args", arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), true),
	)
	return arrow.NewSchema(fields, meta)
}

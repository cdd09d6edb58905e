package ftrace

// Field names one typed payload column of the events table.
type Field uint8

// Payload fields. The column name of each is given by Field.Column.
const (
	FIRQ Field = iota
	FVector
	FTargetCPU
	FPrevVector
	FPrevCPU
	FAPICDest
	FRet
	FReserved
	FIsManaged
	FCanReserve
	FReserve
	FHasReserved
	FIsLegacy
	FOnline
	FAvl
	FAlloc
	FManaged
	FOnlineMaps
	FGlobalAvl
	FGlobalRsvd
	FTotalAlloc
	FTargetState
	FStep
	FState
	FVec
	FName
	FFunc
	FCaller
	FCPUMask
	FText
	NumFields
)

var fieldColumns = [NumFields]string{
	FIRQ: "irq", FVector: "vector", FTargetCPU: "target_cpu", FPrevVector: "prev_vector",
	FPrevCPU: "prev_cpu", FAPICDest: "apicdest", FRet: "ret", FReserved: "reserved",
	FIsManaged: "is_managed", FCanReserve: "can_reserve", FReserve: "reserve",
	FHasReserved: "has_reserved", FIsLegacy: "is_legacy", FOnline: "online", FAvl: "avl",
	FAlloc: "alloc", FManaged: "managed", FOnlineMaps: "online_maps", FGlobalAvl: "global_avl",
	FGlobalRsvd: "global_rsvd", FTotalAlloc: "total_alloc", FTargetState: "target_state",
	FStep: "step", FState: "state", FVec: "vec", FName: "name", FFunc: "func",
	FCaller: "caller", FCPUMask: "cpumask", FText: "text",
}

// Column returns the events-table column name of f.
func (f Field) Column() string { return fieldColumns[f] }

// Payload is the decoded payload of one event. Has records which fields
// are set; the rest are null in the table. Byte-slice fields alias the
// input line and are valid only until the line's buffer is reused.
type Payload struct {
	Has  uint64 // bit f set <=> field f present
	Ints [FName]int64
	Strs [NumFields - FName][]byte
	// Args is the generic key=value split, filled for events outside the
	// catalog only (and for [FAILED TO PARSE] records).
	Args []KV
	// Generic is true when the payload was kept raw (event outside the
	// catalog, or a catalog event whose payload did not decode).
	Generic bool
}

// KV is one key=value token of a generic payload.
type KV struct{ Key, Value []byte }

// Set stores an integer (or bool as 0/1) field.
func (p *Payload) Set(f Field, v int64) { p.Ints[f] = v; p.Has |= 1 << f }

// SetStr stores a string field.
func (p *Payload) SetStr(f Field, v []byte) { p.Strs[f-FName] = v; p.Has |= 1 << f }

// Int returns an integer field and whether it is present.
func (p *Payload) Int(f Field) (int64, bool) { return p.Ints[f], p.Has&(1<<f) != 0 }

// Str returns a string field and whether it is present.
func (p *Payload) Str(f Field) ([]byte, bool) { return p.Strs[f-FName], p.Has&(1<<f) != 0 }

// Reset clears p for reuse, keeping its Args capacity.
func (p *Payload) Reset() {
	p.Has = 0
	p.Args = p.Args[:0]
	p.Generic = false
}

// Record is one parsed input line that is an event: the common prefix
// fields filled by the format parser plus the decoded payload.
type Record struct {
	TS     Timestamp
	Unit   Unit
	CPU    int32
	PID    int32
	TGID   int32 // -1 if not printed or unknown
	Comm   []byte
	Flags  Flags
	Event  EventID // EvUnknown for events outside the catalog
	Name   []byte  // event name as printed, system stripped
	System []byte  // system when printed (perf script), else nil
	Buffer []byte  // trace-cmd multi-file / instance prefix, else nil
	Raw    []byte  // raw payload text
	Payload
	Line   int64 // 1-based line number within its file
	Offset int64 // byte offset of the line's first byte within its file
}

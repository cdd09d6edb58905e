package analysis

import (
	"fmt"
	"sort"
	"strings"

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
	sched                           *SchedEvent
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
// file), in (ts, line) order. Build streams instead when the rows are in
// order already (extractor.scan); this is the fallback.
func extract(recs []arrow.RecordBatch, file string) ([]ev, error) {
	var out []ev
	var x extractor
	for _, rec := range recs {
		if err := x.record(rec, file, func(e *ev) { out = append(out, *e) }); err != nil {
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

// scan is a first pass over the ts, line and event columns: whether the
// rows of file ("" for all) are in (ts, line) order across recs, so that
// events can be fed to the model as they are read, with no buffer of the
// whole table; and the number of rows of each event, to size the model's
// slices.
type scan struct {
	sorted bool
	counts [ftrace.NumEvents]int
	steps  map[int32]int // cpuhp enters per hotplugged CPU
}

func (x *extractor) scan(recs []arrow.RecordBatch, file string) (*scan, error) {
	sc := &scan{sorted: true, steps: map[int32]int{}}
	var lastTS, lastLine int64 = -1 << 63, -1 << 63
	for _, rec := range recs {
		ts, ok1 := rec.Column(ftrace.ColTS).(*array.Int64)
		line, ok2 := rec.Column(ftrace.ColLine).(*array.Int64)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("events table: columns ts_ns/line are %T/%T, want int64", rec.Column(ftrace.ColTS), rec.Column(ftrace.ColLine))
		}
		evCol, err := x.events(rec)
		if err != nil {
			return nil, err
		}
		evIdx := newIntCol(evCol.Indices())
		var keep func(i int) bool
		if file != "" {
			fc, ok := rec.Column(ftrace.ColFile).(*array.Dictionary)
			if !ok {
				return nil, fmt.Errorf("events table: column file is %T, want a dictionary", rec.Column(ftrace.ColFile))
			}
			fd := x.strings(fc.Dictionary().(*array.String))
			keep = func(i int) bool { return fd[fc.GetValueIndex(i)] == file }
		}
		tv, lv := ts.Int64Values(), line.Int64Values()
		var tcpu *intCol
		for i := range tv {
			if keep != nil && !keep(i) {
				continue
			}
			if di := evIdx.get(i); di >= 0 && int(di) < len(x.ids) {
				id := x.ids[di]
				sc.counts[id]++
				if id == ftrace.EvCPUHPEnter || id == ftrace.EvCPUHPMultiEnter {
					if tcpu == nil {
						c := newIntCol(rec.Column(ftrace.ColFirstField + int(ftrace.FTargetCPU)))
						tcpu = &c
					}
					sc.steps[tcpu.get(i)]++
				}
			}
			if tv[i] < lastTS || (tv[i] == lastTS && lv[i] < lastLine) {
				sc.sorted = false
			}
			lastTS, lastLine = tv[i], lv[i]
		}
	}
	return sc, nil
}

// wanted reports whether the model reads events of this ID.
func wanted(id ftrace.EventID) bool {
	return id != ftrace.EvUnknown
}

// schedEvents are the generic (outside the catalog) events the model reads.
var schedEvents = map[string]bool{"sched_switch": true, "sched_wakeup": true, "sched_wakeup_new": true, "sched_waking": true}

// readEvent says which catalog events extraction keeps: those wanted
// whose family the model reads, and the vector_* events.
var readEvent = func() (r [ftrace.NumEvents]bool) {
	for id := ftrace.EventID(0); int(id) < ftrace.NumEvents; id++ {
		if !wanted(id) {
			continue
		}
		switch inf := id.Info(); inf.Family {
		case ftrace.FamSysvec, ftrace.FamHandlerEntry, ftrace.FamHandlerExit, ftrace.FamSoftirq,
			ftrace.FamCPUHPEnter, ftrace.FamCPUHPExit, ftrace.FamIPISendCPU, ftrace.FamIPISendMask,
			ftrace.FamConsole, ftrace.FamPrint, ftrace.FamFunction,
			ftrace.FamMatrixGlobal, ftrace.FamMatrixGlobalUpdate, ftrace.FamMatrixCPU:
			r[id] = true
		default:
			r[id] = inf.System == "irq_vectors"
		}
	}
	return r
}()

// intCol reads one integer column of a record batch with no interface
// call per row (the table stores int16, int32 or uint32; other integer
// types, as a Parquet round trip may give, are read too).
type intCol struct {
	i16   []int16
	i32   []int32
	u32   []uint32
	i64   []int64
	valid []byte // validity bitmap, nil when the column has no null
	off   int    // bit offset of row 0 in valid
	null  bool   // every row is null (or the column is not an integer)
}

func newIntCol(a arrow.Array) intCol {
	c := intCol{}
	if a.NullN() == a.Len() {
		c.null = true
		return c
	}
	switch a := a.(type) {
	case *array.Int16:
		c.i16 = a.Int16Values()
	case *array.Int32:
		c.i32 = a.Int32Values()
	case *array.Uint32:
		c.u32 = a.Uint32Values()
	case *array.Int64:
		c.i64 = a.Int64Values()
	case *array.Int8:
		c.i32 = make([]int32, a.Len())
		for i := range c.i32 {
			c.i32[i] = int32(a.Value(i))
		}
	case *array.Uint16:
		c.i32 = make([]int32, a.Len())
		for i := range c.i32 {
			c.i32[i] = int32(a.Value(i))
		}
	default:
		c.null = true
		return c
	}
	if a.NullN() > 0 {
		c.valid, c.off = a.NullBitmapBytes(), a.Data().Offset()
	}
	return c
}

func (c *intCol) isNull(i int) bool {
	if c.null {
		return true
	}
	if c.valid == nil {
		return false
	}
	j := c.off + i
	return c.valid[j>>3]&(1<<(j&7)) == 0
}

// get returns row i as int32 (uint32 values bit-equal), null if null.
func (c *intCol) get(i int) int32 {
	switch {
	case c.isNull(i):
		return null
	case c.i16 != nil:
		return int32(c.i16[i])
	case c.i32 != nil:
		return c.i32[i]
	case c.u32 != nil:
		return int32(c.u32[i])
	}
	return int32(c.i64[i])
}

// get64 returns row i as int64 (uint32 values unsigned), null if null.
func (c *intCol) get64(i int) int64 {
	switch {
	case c.isNull(i):
		return null
	case c.u32 != nil:
		return int64(c.u32[i])
	case c.i64 != nil:
		return c.i64[i]
	}
	return int64(c.get(i))
}

// boolCol reads one boolean column.
type boolCol struct {
	vals, valid []byte
	off         int
	null        bool
}

func newBoolCol(a arrow.Array) boolCol {
	b, ok := a.(*array.Boolean)
	if !ok || b.NullN() == b.Len() {
		return boolCol{null: true}
	}
	c := boolCol{vals: b.Data().Buffers()[1].Bytes(), off: b.Data().Offset()}
	if b.NullN() > 0 {
		c.valid = b.NullBitmapBytes()
	}
	return c
}

// get returns (value, valid) of row i.
func (c *boolCol) get(i int) (bool, bool) {
	if c.null {
		return false, false
	}
	j := c.off + i
	if c.valid != nil && c.valid[j>>3]&(1<<(j&7)) == 0 {
		return false, false
	}
	return c.vals[j>>3]&(1<<(j&7)) != 0, true
}

// strCol reads one dictionary-encoded string column through a copy of
// its dictionary (so that the model holds no reference into the table).
type strCol struct {
	idx  intCol
	dict []string
}

func (c *strCol) get(i int) string {
	k := c.idx.get(i)
	if k == null || int(k) >= len(c.dict) || k < 0 {
		return ""
	}
	return c.dict[k]
}

// extractor reads record batches; it keeps the copied dictionaries, which
// the batches of one table share, and the event IDs of the event
// dictionary.
type extractor struct {
	dicts   map[*array.String][]string
	evDict  *array.String
	ids     []ftrace.EventID
	sched   []bool
	evNames []string
}

func (x *extractor) strings(d *array.String) []string {
	if out, ok := x.dicts[d]; ok {
		return out
	}
	if x.dicts == nil {
		x.dicts = map[*array.String][]string{}
	}
	out := make([]string, d.Len())
	for i := range out {
		out[i] = strings.Clone(d.Value(i))
	}
	x.dicts[d] = out
	return out
}

func (x *extractor) strCol(a arrow.Array) strCol {
	d, ok := a.(*array.Dictionary)
	if !ok || d.NullN() == d.Len() {
		return strCol{idx: intCol{null: true}}
	}
	sd, ok := d.Dictionary().(*array.String)
	if !ok {
		return strCol{idx: intCol{null: true}}
	}
	c := strCol{idx: newIntCol(d.Indices()), dict: x.strings(sd)}
	if d.NullN() > 0 && c.idx.valid == nil {
		c.idx.valid, c.idx.off = d.NullBitmapBytes(), d.Data().Offset()
	}
	return c
}

// events returns the event column of rec, with x.ids (and x.sched,
// x.evNames) set for its dictionary.
func (x *extractor) events(rec arrow.RecordBatch) (*array.Dictionary, error) {
	evCol, ok := rec.Column(ftrace.ColEvent).(*array.Dictionary)
	if !ok {
		return nil, fmt.Errorf("events table: column event is %T, want a dictionary", rec.Column(ftrace.ColEvent))
	}
	evDict, ok := evCol.Dictionary().(*array.String)
	if !ok {
		return nil, fmt.Errorf("events table: dictionary of column event is %T, want strings", evCol.Dictionary())
	}
	if evDict != x.evDict {
		x.evDict = evDict
		x.ids = make([]ftrace.EventID, evDict.Len())
		x.sched = make([]bool, evDict.Len())
		x.evNames = x.strings(evDict)
		for i := range x.ids {
			x.ids[i] = ftrace.Lookup([]byte(evDict.Value(i)))
			x.sched[i] = schedEvents[evDict.Value(i)]
		}
	}
	return evCol, nil
}

// recCols are the columns of one record batch the model reads.
type recCols struct {
	irq, vector, tcpu, pvec, pcpu, ret intCol
	avl, alloc, managed, maps          intCol
	gavl, grsvd, talloc                intCol
	step, state, target, vec           intCol
	name, fn, caller, mask, text       strCol
	bools                              [len(boolFields)]boolCol
}

// boolFields are the boolean payload fields, in the order of the bit*
// constants.
var boolFields = [...]ftrace.Field{ftrace.FReserved, ftrace.FIsManaged, ftrace.FCanReserve,
	ftrace.FReserve, ftrace.FHasReserved, ftrace.FIsLegacy, ftrace.FOnline}

// record calls fn with each event of rec (rows of file, "" for all), in
// row order. The event is valid during the call only.
func (x *extractor) record(rec arrow.RecordBatch, file string, fn func(e *ev)) error {
	n := int(rec.NumRows())
	col := func(i int) arrow.Array { return rec.Column(i) }
	f := func(fl ftrace.Field) arrow.Array { return col(ftrace.ColFirstField + int(fl)) }
	evCol, err := x.events(rec)
	if err != nil {
		return err
	}
	evIdx := newIntCol(evCol.Indices())
	args, _ := col(ftrace.ColArgs).(*array.Map)
	ts, ok1 := col(ftrace.ColTS).(*array.Int64)
	cpuA := newIntCol(col(ftrace.ColCPU))
	line, ok2 := col(ftrace.ColLine).(*array.Int64)
	if !ok1 || !ok2 {
		return fmt.Errorf("events table: columns ts_ns/line are %T/%T, want int64", col(ftrace.ColTS), col(ftrace.ColLine))
	}
	tsV, lineV := ts.Int64Values(), line.Int64Values()
	hard, soft := newBoolCol(col(ftrace.ColHardirq)), newBoolCol(col(ftrace.ColSoftirq))
	var keep func(i int) bool
	if file != "" {
		fc, ok := col(ftrace.ColFile).(*array.Dictionary)
		if !ok {
			return fmt.Errorf("events table: column file is %T, want a dictionary", col(ftrace.ColFile))
		}
		fd := x.strings(fc.Dictionary().(*array.String))
		keep = func(i int) bool { return fd[fc.GetValueIndex(i)] == file }
	}
	c := &recCols{
		irq: newIntCol(f(ftrace.FIRQ)), vector: newIntCol(f(ftrace.FVector)), tcpu: newIntCol(f(ftrace.FTargetCPU)),
		pvec: newIntCol(f(ftrace.FPrevVector)), pcpu: newIntCol(f(ftrace.FPrevCPU)), ret: newIntCol(f(ftrace.FRet)),
		avl: newIntCol(f(ftrace.FAvl)), alloc: newIntCol(f(ftrace.FAlloc)), managed: newIntCol(f(ftrace.FManaged)),
		maps: newIntCol(f(ftrace.FOnlineMaps)), gavl: newIntCol(f(ftrace.FGlobalAvl)), grsvd: newIntCol(f(ftrace.FGlobalRsvd)),
		talloc: newIntCol(f(ftrace.FTotalAlloc)), step: newIntCol(f(ftrace.FStep)), state: newIntCol(f(ftrace.FState)),
		target: newIntCol(f(ftrace.FTargetState)), vec: newIntCol(f(ftrace.FVec)),
		name: x.strCol(f(ftrace.FName)), fn: x.strCol(f(ftrace.FFunc)), caller: x.strCol(f(ftrace.FCaller)),
		mask: x.strCol(f(ftrace.FCPUMask)), text: x.strCol(f(ftrace.FText)),
	}
	for k, fl := range boolFields {
		c.bools[k] = newBoolCol(f(fl))
	}
	bits := func(i int, from int) uint8 {
		var b uint8
		for k := from; k < len(boolFields); k++ {
			if v, ok := c.bools[k].get(i); ok && v {
				b |= 1 << k
			}
		}
		return b
	}
	e := new(ev)
	for i := 0; i < n; i++ {
		if keep != nil && !keep(i) {
			continue
		}
		di := evIdx.get(i)
		if di < 0 || int(di) >= len(x.ids) {
			continue
		}
		id := x.ids[di]
		if x.sched[di] && args != nil {
			if se, ok := schedEvent(x.evNames[di], args, i); ok {
				se.ts, se.line, se.cpu = tsV[i], lineV[i], cpuA.get(i)
				fn(&se)
			}
			continue
		}
		if !readEvent[id] {
			continue
		}
		fam := id.Info().Family
		*e = ev{ts: tsV[i], line: lineV[i], id: id, cpu: cpuA.get(i)}
		if h, ok := hard.get(i); ok {
			e.flags, e.hard = true, h
			e.soft, _ = soft.get(i)
		}
		switch fam {
		case ftrace.FamSysvec:
			e.vector = c.vector.get(i)
		case ftrace.FamHandlerEntry, ftrace.FamHandlerExit:
			e.irq = c.irq.get(i)
			e.ret = c.ret.get(i)
			e.str = c.name.get(i)
		case ftrace.FamSoftirq:
			e.vector = c.vec.get(i)
			e.str = c.name.get(i)
		case ftrace.FamCPUHPEnter, ftrace.FamCPUHPExit:
			e.tcpu = c.tcpu.get(i)
			e.step = c.step.get(i)
			e.state = c.state.get(i)
			e.target = c.target.get(i)
			e.ret = c.ret.get(i)
			e.str = c.fn.get(i)
		case ftrace.FamIPISendCPU, ftrace.FamIPISendMask:
			e.tcpu = c.tcpu.get(i)
			e.str = c.mask.get(i)
			e.str2 = c.fn.get(i)
		case ftrace.FamConsole, ftrace.FamPrint:
			e.str = c.text.get(i)
		case ftrace.FamFunction:
			e.str = c.fn.get(i)
			e.str2 = c.caller.get(i)
		case ftrace.FamMatrixGlobal, ftrace.FamMatrixGlobalUpdate, ftrace.FamMatrixCPU:
			e.vector = c.vector.get(i)
			e.tcpu = c.tcpu.get(i)
			e.avl = c.avl.get(i)
			e.alloc = c.alloc.get(i)
			e.managed = c.managed.get(i)
			e.onlineMaps = c.maps.get(i)
			e.gavl = c.gavl.get64(i)
			e.grsvd = c.grsvd.get64(i)
			e.talloc = c.talloc.get64(i)
			e.b = bits(i, len(boolFields)-1)
		default: // the vector_* events (irq_vectors system)
			e.irq = c.irq.get(i)
			e.vector = c.vector.get(i)
			e.tcpu = c.tcpu.get(i)
			e.pvec = c.pvec.get(i)
			e.pcpu = c.pcpu.get(i)
			e.ret = c.ret.get(i)
			e.b = bits(i, 0)
		}
		fn(e)
	}
	return nil
}

package ftrace

import (
	"fmt"
	"runtime"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	boolID  = arrow.BOOL
	int16ID = arrow.INT16
)

// Table assembles batches into the Arrow events table. Batches are added
// in input order; Add maps their local dictionaries to table-wide ones, so
// that every record batch of the table shares one dictionary per column
// (as the Arrow IPC file format and Parquet want).
type Table struct {
	batches []*Batch
	files   []int32 // file dictionary index per batch

	event, system, comm, flags, file, buffer globalDict
	strs                                     [NumFields]globalDict

	flagOf []Flags // decoded flags per global flags-dictionary index

	counts map[string]int64
	rows   int64
	meta   arrow.Metadata

	records []arrow.RecordBatch
	built   bool
	schema  *arrow.Schema
}

// NewTable returns an empty table. The catalog's event names come first in
// the event dictionary, in catalog order.
func NewTable() *Table {
	t := &Table{counts: map[string]int64{}}
	for id := EventID(1); id < numEvents; id++ {
		t.event.intern(catalog[id].Name)
	}
	return t
}

// SetMetadata sets the schema metadata written with the table.
func (t *Table) SetMetadata(m arrow.Metadata) { t.meta, t.schema = m, nil }

// Add appends batch b, read from the named input file. Batches of one file
// must be added in order. b must not be used by the caller afterwards.
func (t *Table) Add(file string, b *Batch) {
	if t.built {
		panic("ftrace: Table.Add after Records")
	}
	if b.n == 0 {
		return
	}
	t.batches = append(t.batches, b)
	t.files = append(t.files, t.file.intern(file))
	t.rows += int64(b.n)

	remap(b.event, t.event.remap(&b.eventDict))
	remap(b.comm, t.comm.remap(&b.commDict))
	remapCol(&b.system, &t.system)
	if b.flags.count > 0 {
		m := t.flags.remap(&b.flags.d)
		for local, global := range m {
			for int(global) >= len(t.flagOf) {
				t.flagOf = append(t.flagOf, Flags{})
			}
			t.flagOf[global] = b.flagOf[local]
		}
		remap(b.flags.vals, m)
	}
	remapCol(&b.buffer, &t.buffer)
	for f := FName; f < NumFields; f++ {
		remapCol(&b.strs[f], &t.strs[f])
	}
	b.EventCounts(func(name string, n int64) { t.counts[name] += n })
}

// Rows returns the number of rows added so far.
func (t *Table) Rows() int64 { return t.rows }

// EventCounts returns the number of rows per event name.
func (t *Table) EventCounts() map[string]int64 { return t.counts }

func remap(idx []int32, m []int32) {
	for i, v := range idx {
		idx[i] = m[v]
	}
}

func remapCol(c *dictCol, g *globalDict) {
	if c.count == 0 {
		return
	}
	m := g.remap(&c.d)
	// Null slots hold 0, which is a valid local index: remapping them is
	// harmless since they stay null.
	remap(c.vals, m)
}

type globalDict struct {
	m    map[string]int32
	strs []string
}

func (g *globalDict) intern(s string) int32 {
	if g.m == nil {
		g.m = map[string]int32{}
	}
	if i, ok := g.m[s]; ok {
		return i
	}
	i := int32(len(g.strs))
	g.m[s] = i
	g.strs = append(g.strs, s)
	return i
}

func (g *globalDict) remap(d *localDict) []int32 {
	m := make([]int32, len(d.strs))
	for i, s := range d.strs {
		m[i] = g.intern(unsafe.String(unsafe.SliceData(s), len(s)))
	}
	return m
}

func (g *globalDict) array() arrow.Array {
	bld := array.NewStringBuilder(memory.DefaultAllocator)
	defer bld.Release()
	bld.AppendValues(g.strs, nil)
	return bld.NewArray()
}

// Schema returns the table's schema (with its metadata).
func (t *Table) Schema() *arrow.Schema {
	if t.schema == nil {
		t.schema = Schema(&t.meta)
	}
	return t.schema
}

// Records builds (once) and returns the table's record batches (of at
// most RecordRows rows each), in the order the batches were added. It ends the building: the batches are
// handed over to the records, and Add must not be called afterwards. The
// records stay owned by the table; Release frees them.
func (t *Table) Records() ([]arrow.RecordBatch, error) {
	if t.records != nil || len(t.batches) == 0 {
		// Records were built (batches are gone) or nothing was added.
		return t.records, nil
	}
	for _, d := range []*globalDict{&t.event, &t.system, &t.flags, &t.file, &t.buffer} {
		if len(d.strs) > 1<<15 {
			return nil, fmt.Errorf("more than %d distinct values in an int16 dictionary column", 1<<15)
		}
	}
	dicts := dictArrays{t.event.array(), t.system.array(), t.comm.array(), t.flags.array(), t.file.array(), t.buffer.array(), [NumFields]arrow.Array{}}
	for f := FName; f < NumFields; f++ {
		dicts.strs[f] = t.strs[f].array()
	}
	schema := t.Schema()
	parts := make([][]arrow.RecordBatch, len(t.batches))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bi := range next {
				rec := t.record(schema, bi, &dicts)
				parts[bi] = split(schema, rec, RecordRows)
				rec.Release()
			}
		}()
	}
	for bi := range t.batches {
		next <- bi
	}
	close(next)
	wg.Wait()
	var recs []arrow.RecordBatch
	for _, p := range parts {
		recs = append(recs, p...)
	}
	// The records own the column memory now; the batches' remaining
	// slices (32-bit local indices, padding) are garbage.
	t.batches = nil
	t.files = nil
	t.built = true
	for _, a := range []arrow.Array{dicts.event, dicts.system, dicts.comm, dicts.flags, dicts.file, dicts.buffer} {
		a.Release()
	}
	for f := FName; f < NumFields; f++ {
		dicts.strs[f].Release()
	}
	t.records = recs
	return recs, nil
}

// RecordRows is the most rows of one record batch of the table. A field
// column is materialised only in the record batches where it has a value,
// so smaller batches make rare events (vector, matrix, cpuhp) cheaper; the
// always-present columns are shared with the parse batch, not copied.
const RecordRows = 8192

// split cuts rec into record batches of at most rows rows. Columns without
// nulls are zero-copy slices; nullable columns are copied per part, and a
// part in which a column is all null gets a shared zeroed buffer instead.
func split(schema *arrow.Schema, rec arrow.RecordBatch, rows int) []arrow.RecordBatch {
	n := int(rec.NumRows())
	var out []arrow.RecordBatch
	z := sharedZeros
	if rows > RecordRows {
		z = newZeros(rows)
	}
	for start := 0; start < n; start += rows {
		end := min(n, start+rows)
		cols := make([]arrow.Array, rec.NumCols())
		for i, c := range rec.Columns() {
			cols[i] = compactSlice(c, start, end, z)
		}
		out = append(out, array.NewRecordBatch(schema, cols, int64(end-start)))
		for _, c := range cols {
			c.Release()
		}
	}
	return out
}

// sharedZeros backs the all-null columns of every record batch of every
// table (Arrow buffers are immutable, so one zeroed block serves them all).
// It is retained once so that releases never bring it to zero.
var sharedZeros = func() *zeros {
	z := newZeros(RecordRows)
	z.vals.Retain()
	z.valid.Retain()
	return z
}()

// compactSlice returns rows [start, end) of a. start must be a multiple of 8.
func compactSlice(a arrow.Array, start, end int, z *zeros) arrow.Array {
	d := a.Data()
	m := end - start
	if d.NullN() == 0 {
		return array.NewSlice(a, int64(start), int64(end))
	}
	valid := d.Buffers()[0]
	nulls := m - bitutil.CountSetBits(valid.Bytes(), start, m)
	fw, ok := d.DataType().(arrow.FixedWidthDataType)
	if dt, isDict := d.DataType().(*arrow.DictionaryType); isDict {
		fw, ok = dt.IndexType.(arrow.FixedWidthDataType), true
	}
	if !ok || d.Offset() != 0 {
		if nulls == m && d.Offset() == 0 {
			if na := nullVarArray(d.DataType(), m, z); na != nil {
				return na
			}
		}
		return array.NewSlice(a, int64(start), int64(end))
	}
	var bufs []*memory.Buffer
	if nulls == m {
		bufs = []*memory.Buffer{z.valid, z.vals}
	} else {
		vb := valid.Bytes()[start/8 : (end+7)/8]
		vals := d.Buffers()[1].Bytes()
		bw := fw.BitWidth()
		var vc []byte
		if bw == 1 {
			vc = append([]byte(nil), vals[start/8:(end+7)/8]...)
		} else {
			vc = append([]byte(nil), vals[start*bw/8:end*bw/8]...)
		}
		bufs = []*memory.Buffer{memory.NewBufferBytes(append([]byte(nil), vb...)), memory.NewBufferBytes(vc)}
	}
	nd := array.NewData(d.DataType(), m, bufs, nil, nulls, 0)
	defer nd.Release()
	if dict := d.Dictionary(); dict != nil {
		nd.SetDictionary(dict)
	}
	return array.MakeFromData(nd)
}

// nullVarArray returns an all-null utf8 or map array of m rows backed by
// z, so that a part in which such a column is null keeps no buffer of its
// parse batch alive (nil for other types).
func nullVarArray(t arrow.DataType, m int, z *zeros) arrow.Array {
	var d *array.Data
	switch t := t.(type) {
	case *arrow.StringType:
		d = array.NewData(t, m, []*memory.Buffer{z.valid, z.vals, z.vals}, nil, m, 0)
	case *arrow.MapType:
		keys := array.NewData(arrow.BinaryTypes.String, 0, []*memory.Buffer{nil, z.vals, z.vals}, nil, 0, 0)
		vals := array.NewData(arrow.BinaryTypes.String, 0, []*memory.Buffer{nil, z.vals, z.vals}, nil, 0, 0)
		st := array.NewData(t.Elem(), 0, []*memory.Buffer{nil}, []arrow.ArrayData{keys, vals}, 0, 0)
		keys.Release()
		vals.Release()
		d = array.NewData(t, m, []*memory.Buffer{z.valid, z.vals}, []arrow.ArrayData{st}, m, 0)
		st.Release()
	default:
		return nil
	}
	defer d.Release()
	return array.MakeFromData(d)
}

// flagCols are the decoded irq-info columns of one batch.
type flagCols struct {
	bools       [6]boolCol // irqs_off, bh_off, need_resched, hardirq, softirq, nmi
	depth, migr fixedCol[int8]
}

// flagColumns derives the decoded flag columns of b from its raw flags
// column (global dictionary indices by now).
func (t *Table) flagColumns(b *Batch) *flagCols {
	fc := &flagCols{}
	c := &b.flags
	if c.count == 0 {
		return fc
	}
	n := b.n
	for i := range fc.bools {
		fc.bools[i].vals = make([]byte, (n+7)/8)
		fc.bools[i].valid = make([]byte, (n+7)/8)
	}
	fc.depth.vals = make([]int8, n)
	fc.migr.vals = make([]int8, n)
	fc.depth.valid = make([]byte, (n+7)/8)
	fc.migr.valid = make([]byte, (n+7)/8)
	for row, gi := range c.vals {
		// c.vals may be padded past the last flagged row; c.valid is not.
		if row>>3 >= len(c.valid) || c.valid[row>>3]&(1<<(row&7)) == 0 {
			continue
		}
		f := &t.flagOf[gi]
		byte_, bit := row>>3, byte(1)<<(row&7)
		vals := [6]bool{f.IRQsOff, f.BHOff, f.NeedResched != '.', f.Hardirq, f.Softirq, f.NMI}
		for i, v := range vals {
			if i < 2 && f.IRQFlagUnknown {
				continue
			}
			fc.bools[i].valid[byte_] |= bit
			fc.bools[i].count++
			if v {
				fc.bools[i].vals[byte_] |= bit
			}
		}
		fc.depth.vals[row] = int8(f.PreemptDepth)
		fc.depth.valid[byte_] |= bit
		fc.depth.count++
		if f.HasMigrate {
			fc.migr.vals[row] = int8(f.MigrateDisable)
			fc.migr.valid[byte_] |= bit
			fc.migr.count++
		}
	}
	return fc
}

type dictArrays struct {
	event, system, comm, flags, file, buffer arrow.Array
	strs                                     [NumFields]arrow.Array
}

// record builds the Arrow record of batch bi.
func (t *Table) record(schema *arrow.Schema, bi int, dicts *dictArrays) arrow.RecordBatch {
	b := t.batches[bi]
	n := b.n
	z := newZeros(n)
	cols := make([]arrow.Array, NumColumns)
	cols[ColTS] = fixedArr(arrow.PrimitiveTypes.Int64, n, nil, 0, bytesOf(b.ts))
	cols[ColCPU] = fixedArr(arrow.PrimitiveTypes.Int16, n, nil, 0, bytesOf(b.cpu))
	cols[ColEvent] = dictArr(dict16, n, nil, 0, bytesOf(to16(b.event)), dicts.event)
	cols[ColSystem] = dictCol16(&b.system, n, z, dicts.system)
	cols[ColPID] = fixedArr(arrow.PrimitiveTypes.Int32, n, nil, 0, bytesOf(b.pid))
	cols[ColTGID] = nullableFixed(arrow.PrimitiveTypes.Int32, &b.tgid, n, z)
	cols[ColComm] = dictArr(dict32, n, nil, 0, bytesOf(b.comm), dicts.comm)
	cols[ColFlags] = dictCol16(&b.flags, n, z, dicts.flags)
	fc := t.flagColumns(b)
	for i := range fc.bools {
		cols[ColIRQsOff+i] = boolArr(&fc.bools[i], n, z)
	}
	cols[ColPreemptDepth] = nullableFixed(arrow.PrimitiveTypes.Int8, &fc.depth, n, z)
	cols[ColMigrateDisable] = nullableFixed(arrow.PrimitiveTypes.Int8, &fc.migr, n, z)
	fileIdx := make([]int16, n)
	for i := range fileIdx {
		fileIdx[i] = int16(t.files[bi])
	}
	cols[ColFile] = dictArr(dict16, n, nil, 0, bytesOf(fileIdx), dicts.file)
	cols[ColBuffer] = dictCol16(&b.buffer, n, z, dicts.buffer)
	cols[ColLine] = fixedArr(arrow.PrimitiveTypes.Int64, n, nil, 0, bytesOf(b.line))
	cols[ColOffset] = fixedArr(arrow.PrimitiveTypes.Int64, n, nil, 0, bytesOf(b.offset))
	for f := Field(0); f < NumFields; f++ {
		c := ColFirstField + int(f)
		switch typ := fieldType[f]; {
		case f >= FName:
			cols[c] = nullableDict(dict32, &b.strs[f].fixedCol, n, z, dicts.strs[f])
		case typ.ID() == boolID:
			cols[c] = boolArr(&b.bool[f], n, z)
		case typ.ID() == int16ID:
			cols[c] = nullableFixed(typ, &b.i16[f], n, z)
		default:
			cols[c] = nullableFixed(typ, &b.i32[f], n, z)
		}
	}
	cols[ColPayload] = strArr(&b.payload, n, z)
	cols[ColArgs] = mapArr(schema.Field(ColArgs).Type.(*arrow.MapType), &b.args, n, z)
	rec := array.NewRecordBatch(schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// Release frees the records built by Records.
func (t *Table) Release() {
	for _, r := range t.records {
		r.Release()
	}
	t.records = nil
}

// zeros is one batch's shared all-zero memory: the value and validity
// buffers of every column that is null throughout the batch.
type zeros struct {
	vals  *memory.Buffer // n*8 bytes, + 8 for offsets
	valid *memory.Buffer // (n+7)/8 bytes
}

func newZeros(n int) *zeros {
	return &zeros{
		vals:  memory.NewBufferBytes(make([]byte, n*8+8)),
		valid: memory.NewBufferBytes(make([]byte, (n+7)/8)),
	}
}

func bytesOf[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z)))
}

func to16(s []int32) []int16 {
	out := make([]int16, len(s))
	for i, v := range s {
		out[i] = int16(v)
	}
	return out
}

func fixedArr(t arrow.DataType, n int, valid *memory.Buffer, nulls int, vals []byte) arrow.Array {
	d := array.NewData(t, n, []*memory.Buffer{valid, memory.NewBufferBytes(vals)}, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func padBits(bm []byte, n int) []byte {
	for len(bm) < (n+7)/8 {
		bm = append(bm, 0)
	}
	return bm
}

func nullableFixed[T int8 | int16 | int32 | int64](t arrow.DataType, c *fixedCol[T], n int, z *zeros) arrow.Array {
	if c.count == 0 {
		d := array.NewData(t, n, []*memory.Buffer{z.valid, z.vals}, nil, n, 0)
		defer d.Release()
		return array.MakeFromData(d)
	}
	for len(c.vals) < n {
		c.vals = append(c.vals, 0)
	}
	return fixedArr(t, n, memory.NewBufferBytes(padBits(c.valid, n)), n-c.count, bytesOf(c.vals))
}

func boolArr(c *boolCol, n int, z *zeros) arrow.Array {
	if c.count == 0 {
		d := array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{z.valid, z.valid}, nil, n, 0)
		defer d.Release()
		return array.MakeFromData(d)
	}
	d := array.NewData(arrow.FixedWidthTypes.Boolean, n, []*memory.Buffer{
		memory.NewBufferBytes(padBits(c.valid, n)), memory.NewBufferBytes(padBits(c.vals, n)),
	}, nil, n-c.count, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func dictArr(t *arrow.DictionaryType, n int, valid *memory.Buffer, nulls int, idx []byte, dict arrow.Array) arrow.Array {
	d := array.NewData(t, n, []*memory.Buffer{valid, memory.NewBufferBytes(idx)}, nil, nulls, 0)
	d.SetDictionary(dict.Data())
	defer d.Release()
	return array.MakeFromData(d)
}

func nullableDict(t *arrow.DictionaryType, c *fixedCol[int32], n int, z *zeros, dict arrow.Array) arrow.Array {
	if c.count == 0 {
		d := array.NewData(t, n, []*memory.Buffer{z.valid, z.vals}, nil, n, 0)
		d.SetDictionary(dict.Data())
		defer d.Release()
		return array.MakeFromData(d)
	}
	for len(c.vals) < n {
		c.vals = append(c.vals, 0)
	}
	return dictArr(t, n, memory.NewBufferBytes(padBits(c.valid, n)), n-c.count, bytesOf(c.vals), dict)
}

func dictCol16(c *dictCol, n int, z *zeros, dict arrow.Array) arrow.Array {
	if c.count == 0 {
		d := array.NewData(dict16, n, []*memory.Buffer{z.valid, z.vals}, nil, n, 0)
		d.SetDictionary(dict.Data())
		defer d.Release()
		return array.MakeFromData(d)
	}
	for len(c.vals) < n {
		c.vals = append(c.vals, 0)
	}
	return dictArr(dict16, n, memory.NewBufferBytes(padBits(c.valid, n)), n-c.count, bytesOf(to16(c.vals)), dict)
}

func strArr(c *strCol, n int, z *zeros) arrow.Array {
	if c.count == 0 {
		d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{z.valid, z.vals, z.vals}, nil, n, 0)
		defer d.Release()
		return array.MakeFromData(d)
	}
	for len(c.offsets) < n+1 {
		c.offsets = append(c.offsets, int32(len(c.data)))
	}
	d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{
		memory.NewBufferBytes(padBits(c.valid, n)), memory.NewBufferBytes(bytesOf(c.offsets)), memory.NewBufferBytes(c.data),
	}, nil, n-c.count, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func mapArr(t *arrow.MapType, c *mapCol, n int, z *zeros) arrow.Array {
	var valid, offsets *memory.Buffer
	nulls := n
	entries := 0
	if c.count == 0 {
		valid, offsets = z.valid, z.vals
	} else {
		for len(c.offsets) < n+1 {
			c.offsets = append(c.offsets, int32(c.entries))
		}
		valid = memory.NewBufferBytes(padBits(c.valid, n))
		offsets = memory.NewBufferBytes(bytesOf(c.offsets))
		nulls = n - c.count
		entries = c.entries
	}
	ez := newZeros(entries)
	keys := strArr(&c.keys, entries, ez)
	vals := strArr(&c.vals, entries, ez)
	defer keys.Release()
	defer vals.Release()
	st := array.NewData(t.Elem(), entries, []*memory.Buffer{nil}, []arrow.ArrayData{keys.Data(), vals.Data()}, 0, 0)
	defer st.Release()
	d := array.NewData(t, n, []*memory.Buffer{valid, offsets}, []arrow.ArrayData{st}, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

package ftrace

import (
	"math/bits"
	"unsafe"
)

// Batch accumulates the rows of one chunk of input in plain Go slices, the
// columnar form the Arrow table is made of. Columns that stay null in a
// batch cost nothing: a column materialises at its first value, and at
// Finish every all-null column of the batch shares one zeroed buffer. So
// the memory per row is that of the fields its events actually carry.
//
// Strings are interned into batch-local dictionaries; Merge maps them to
// the table-wide dictionaries. A Batch is filled by one goroutine.
type Batch struct {
	n    int
	hint int // expected rows: capacity given to a column at its first value

	ts     []int64
	cpu    []int16
	event  []int32 // local dict index; catalog events are pre-seeded
	pid    []int32
	comm   []int32
	line   []int64
	offset []int64

	system dictCol
	tgid   fixedCol[int32]
	// flags holds the raw irq-info column; the decoded flag columns are
	// derived from its dictionary at Finish, once per distinct value.
	flags  dictCol
	flagOf []Flags // decoded flags per local flags-dictionary index
	buffer dictCol

	eventDict localDict
	commDict  localDict
	lastComm  []byte
	lastCommI int32

	i32  [NumFields]fixedCol[int32] // used for int32 fields and uint32 (stored bit-equal)
	i16  [NumFields]fixedCol[int16]
	bool [NumFields]boolCol
	strs [NumFields]dictCol

	payload strCol
	args    mapCol

	// Event counts by local event index, for stats without a column scan.
	counts []int64
}

// NewBatch returns an empty batch with room for about n rows.
func NewBatch(n int) *Batch {
	if n < 64 {
		n = 64
	}
	b := &Batch{
		hint: n,
		ts:   make([]int64, 0, n), cpu: make([]int16, 0, n), event: make([]int32, 0, n),
		pid: make([]int32, 0, n), comm: make([]int32, 0, n), line: make([]int64, 0, n),
		offset: make([]int64, 0, n),
	}
	b.eventDict.init()
	for id := EventID(1); id < numEvents; id++ {
		b.eventDict.intern([]byte(catalog[id].Name))
	}
	b.commDict.init()
	b.lastCommI = -1
	return b
}

// Len returns the number of rows.
func (b *Batch) Len() int { return b.n }

// Append adds r as the next row. It copies every byte slice it keeps.
func (b *Batch) Append(r *Record) {
	row := b.n
	b.n++
	b.ts = append(b.ts, int64(r.TS))
	b.cpu = append(b.cpu, int16(r.CPU))
	var ev int32
	if r.Event != EvUnknown && r.Event < numEvents {
		ev = int32(r.Event) - 1
	} else {
		ev = b.eventDict.intern(r.Name)
	}
	b.event = append(b.event, ev)
	for int(ev) >= len(b.counts) {
		b.counts = append(b.counts, 0)
	}
	b.counts[ev]++
	b.pid = append(b.pid, r.PID)
	if len(b.lastComm) != len(r.Comm) || string(b.lastComm) != string(r.Comm) || b.lastCommI < 0 {
		b.lastCommI = b.commDict.intern(r.Comm)
		b.lastComm = b.commDict.strs[b.lastCommI]
	}
	b.comm = append(b.comm, b.lastCommI)
	b.line = append(b.line, r.Line)
	b.offset = append(b.offset, r.Offset)

	h := b.hint
	if r.System != nil {
		b.system.put(row, r.System, h)
	} else if r.Event != EvUnknown {
		b.system.put(row, []byte(catalog[r.Event].System), h)
	}
	if r.TGID >= 0 {
		b.tgid.put(row, r.TGID, h)
	}
	if f := &r.Flags; f.Present {
		if i := b.flags.put(row, f.Raw[:f.RawLen], h); int(i) == len(b.flagOf) {
			b.flagOf = append(b.flagOf, *f)
		}
	}
	if r.Buffer != nil {
		b.buffer.put(row, r.Buffer, h)
	}
	for has := r.Has; has != 0; has &= has - 1 {
		f := Field(bits.TrailingZeros64(has))
		switch fieldKind[f] {
		case kindStr:
			b.strs[f].put(row, r.Strs[f-FName], h)
		case kindBool:
			b.bool[f].put(row, r.Ints[f] != 0, h)
		case kindI16:
			b.i16[f].put(row, int16(r.Ints[f]), h)
		default:
			b.i32[f].put(row, int32(uint32(r.Ints[f])), h)
		}
	}
	if r.Generic {
		b.payload.put(row, r.Raw)
		b.args.put(row, r.Args)
	}
}

// Storage kinds of the payload fields, looked up per value in Append.
const (
	kindI32 = iota // int32, and uint32 stored bit-equal
	kindI16
	kindBool
	kindStr
)

var fieldKind = func() (k [NumFields]uint8) {
	for f := Field(0); f < NumFields; f++ {
		switch t := fieldType[f]; {
		case f >= FName:
			k[f] = kindStr
		case t.ID() == boolID:
			k[f] = kindBool
		case t.ID() == int16ID:
			k[f] = kindI16
		}
	}
	return k
}()

// EventCounts calls fn for each event name in the batch with its count.
func (b *Batch) EventCounts(fn func(name string, n int64)) {
	for i, c := range b.counts {
		if c > 0 {
			fn(string(b.eventDict.strs[i]), c)
		}
	}
}

// fixedCol is a lazily materialised nullable fixed-width column.
type fixedCol[T int8 | int16 | int32 | int64] struct {
	vals  []T
	valid []byte
	count int
}

func (c *fixedCol[T]) put(row int, v T, hint int) {
	if len(c.vals) != row || c.vals == nil {
		c.grow(row, hint)
	}
	c.vals = append(c.vals, v)
	setBit(&c.valid, row, hint)
	c.count++
}

// grow pads the column with zeros (nulls) up to row, allocating room for
// hint rows at the column's first value.
func (c *fixedCol[T]) grow(row, hint int) {
	if c.vals == nil {
		c.vals = make([]T, row, max(hint, row+1))
		return
	}
	if row <= cap(c.vals) {
		c.vals = c.vals[:row] // memory past len is zero: columns only grow
		return
	}
	c.vals = append(c.vals[:cap(c.vals)], make([]T, row-cap(c.vals))...)
}

// boolCol is a lazily materialised nullable boolean column.
type boolCol struct {
	vals  []byte
	valid []byte
	count int
}

func (c *boolCol) put(row int, v bool, hint int) {
	if v {
		setBit(&c.vals, row, hint)
	}
	setBit(&c.valid, row, hint)
	c.count++
}

// setBit sets bit i of a bitmap that grows as needed (to room for hint
// bits at its first bit).
func setBit(bm *[]byte, i, hint int) {
	if len(*bm) <= i>>3 {
		if *bm == nil {
			*bm = make([]byte, 0, (max(hint, i+1)+7)/8)
		}
		for len(*bm) <= i>>3 {
			*bm = append(*bm, 0)
		}
	}
	(*bm)[i>>3] |= 1 << (i & 7)
}

// localDict interns byte strings for one batch.
type localDict struct {
	m    map[string]int32
	strs [][]byte
}

func (d *localDict) init() { d.m = make(map[string]int32) }

func (d *localDict) intern(s []byte) int32 {
	if d.m == nil {
		d.init()
	}
	if i, ok := d.m[string(s)]; ok {
		return i
	}
	c := string(s)
	i := int32(len(d.strs))
	d.m[c] = i
	d.strs = append(d.strs, unsafe.Slice(unsafe.StringData(c), len(c)))
	return i
}

// dictCol is a lazily materialised nullable dictionary column.
type dictCol struct {
	fixedCol[int32]
	d     localDict
	last  []byte
	lastI int32
	seen  bool
}

// put stores s at row and returns its local dictionary index.
func (c *dictCol) put(row int, s []byte, hint int) int32 {
	if !c.seen || len(s) != len(c.last) || string(s) != string(c.last) {
		c.lastI = c.d.intern(s)
		c.last = c.d.strs[c.lastI]
		c.seen = true
	}
	c.fixedCol.put(row, c.lastI, hint)
	return c.lastI
}

// strCol is a lazily materialised nullable utf8 column.
type strCol struct {
	offsets []int32 // len = rows materialised + 1
	data    []byte
	valid   []byte
	count   int
}

func (c *strCol) put(row int, s []byte) {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	for len(c.offsets) <= row {
		c.offsets = append(c.offsets, int32(len(c.data)))
	}
	c.data = append(c.data, s...)
	c.offsets = append(c.offsets, int32(len(c.data)))
	setBit(&c.valid, row, 0)
	c.count++
}

// mapCol is a lazily materialised nullable map<utf8,utf8> column.
type mapCol struct {
	offsets []int32
	keys    strCol
	vals    strCol
	valid   []byte
	count   int
	entries int
}

func (c *mapCol) put(row int, kv []KV) {
	if len(c.offsets) == 0 {
		c.offsets = append(c.offsets, 0)
	}
	for len(c.offsets) <= row {
		c.offsets = append(c.offsets, int32(c.entries))
	}
	for _, e := range kv {
		c.keys.put(c.entries, e.Key)
		c.vals.put(c.entries, e.Value)
		c.entries++
	}
	c.offsets = append(c.offsets, int32(c.entries))
	setBit(&c.valid, row, 0)
	c.count++
}

// Rebase adds lineBase to every row's line number and offBase to every
// row's byte offset: parsers number a chunk's lines from 1 and its bytes
// from 0, and only learn where the chunk sits in its file afterwards.
func (b *Batch) Rebase(lineBase, offBase int64) {
	if lineBase != 0 {
		for i := range b.line {
			b.line[i] += lineBase
		}
	}
	if offBase != 0 {
		for i := range b.offset {
			b.offset[i] += offBase
		}
	}
}

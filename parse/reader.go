package parse

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sort"
	"sync"

	"github.com/irqtrace/irqtrace/ftrace"
)

// Options control parsing. The zero value is lenient, detects the format,
// and uses one worker per CPU.
type Options struct {
	// Strict makes the first problem or decode error fatal.
	Strict bool
	// Format forces a format instead of detecting it.
	Format Format
	// Clock names the trace clock when the input does not say it
	// (ftrace text and trace-cmd report never print it).
	Clock string
	// Workers is the number of parsing goroutines (0: GOMAXPROCS).
	Workers int
	// ChunkSize is the size of the pieces the input is cut into (0: 1 MiB,
	// at least MaxLineLen). One chunk becomes one Arrow record batch; a
	// field column that has a value anywhere in a batch is materialised
	// for the whole batch, so smaller chunks make rare events cheaper.
	ChunkSize int
}

const defaultChunk = 1 << 20

// chunk is a run of whole lines of one input.
type chunk struct {
	seq     int
	data    []byte
	off     int64 // offset of data[0] in the (decompressed) input
	buf     *[]byte
	tooLong bool  // a single line longer than the chunk size; data is its head
	longLen int64 // its length in bytes, newline included
	lineLen int64 // its length without the newline
}

// result is one parsed chunk, with line numbers local to the chunk.
type result struct {
	seq       int
	off       int64
	lines     int64
	bytes     int64 // input bytes of the chunk
	batch     *ftrace.Batch
	kinds     [numKinds]int64
	problems  int64
	probs     []*SyntaxError
	decErrs   int64
	decs      []*SyntaxError
	generic   int64
	ftp       int64
	markers   []Marker
	cpus      map[int32]*CPUStats
	header    Header
	units     uint8 // bit 0: ns seen, bit 1: raw seen
	firstErr  *SyntaxError
	lastCPUTS map[int32]int64
}

// Parse reads one input (already decompressed) named name, appends its
// events to t in input order and returns its accounting. It returns an
// error for an unrecognised input, an I/O failure, or (with Strict) the
// first bad line, as a *SyntaxError. t may be nil to only count (stats).
// An input whose lines are all problems (no event, no header) is an error
// wrapping ErrUnknownFormat: it is not the format it was taken for.
func Parse(ctx context.Context, r io.Reader, name string, t *ftrace.Table, opts Options) (*Stats, error) {
	br := bufio.NewReaderSize(r, SniffLen)
	head, err := br.Peek(SniffLen)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	format := opts.Format
	if format == FormatUnknown {
		format, err = Detect(head)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	perf := format == FormatPerfScript
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	size := opts.ChunkSize
	if size <= 0 {
		size = defaultChunk
	}
	if size < MaxLineLen+2 {
		size = MaxLineLen + 2 // room for the longest allowed line and its "\r\n"
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool := sync.Pool{New: func() any { b := make([]byte, size); return &b }}
	chunks := make(chan chunk, workers)
	results := make(chan *result, workers)
	var readErr error
	go func() {
		defer close(chunks)
		readErr = split(ctx, br, size, &pool, chunks)
	}()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				res := parseChunk(c, perf, name, opts.Strict)
				if c.buf != nil {
					pool.Put(c.buf)
				}
				select {
				case results <- res:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	st := &Stats{
		File: name, Format: format.String(), Clock: opts.Clock,
		EventCounts: map[string]int64{}, NonEventKinds: map[string]int64{},
		ProblemSamples: []*SyntaxError{}, DecodeErrorSamples: []*SyntaxError{},
		LostMarkers: []Marker{}, BufferStarted: []Marker{}, CPUs: []CPUStats{},
	}
	if st.Clock == "" {
		st.Clock = "unknown"
		if perf {
			st.Clock = "perf"
		}
	}
	col := newCollector(st, t, name)
	pending := map[int]*result{}
	next := 0
	var fatal error
	for res := range results {
		if fatal != nil {
			continue
		}
		pending[res.seq] = res
		for {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err := col.add(r, opts.Strict); err != nil {
				fatal = err
				cancel()
				break
			}
		}
	}
	if fatal != nil {
		return nil, fatal
	}
	if readErr != nil {
		return nil, fmt.Errorf("%s: %w", name, readErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	col.finish()
	if st.Events == 0 && st.Problems > 0 && st.NonEventLines == 0 {
		return nil, fmt.Errorf("%s: %w: none of its %d lines parses as %s (first: %v)", name, ErrUnknownFormat, st.Lines, format, st.ProblemSamples[0])
	}
	return st, nil
}

// split cuts r into chunks of whole lines. A line longer than the chunk
// size becomes a tooLong chunk and the rest of it is skipped unbuffered.
func split(ctx context.Context, r io.Reader, size int, pool *sync.Pool, out chan<- chunk) error {
	var (
		carry []byte
		off   int64
		seq   int
	)
	send := func(c chunk) bool {
		c.seq = seq
		seq++
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		bp := pool.Get().(*[]byte)
		buf := *bp
		n := copy(buf, carry)
		m, err := io.ReadFull(r, buf[n:])
		data := buf[:n+m]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return err
		}
		if eof {
			if len(data) > 0 {
				send(chunk{data: data, off: off, buf: bp})
			}
			return nil
		}
		idx := bytes.LastIndexByte(data, '\n')
		if idx >= 0 {
			carry = append(carry[:0], data[idx+1:]...)
			if !send(chunk{data: data[:idx+1], off: off, buf: bp}) {
				return nil
			}
			off += int64(idx + 1)
			continue
		}
		// One line fills the whole buffer: report it and skip to its end.
		head := append([]byte(nil), data[:80]...)
		length := int64(len(data))
		nl := int64(0)
		pool.Put(bp)
		carry = carry[:0]
		for {
			bp = pool.Get().(*[]byte)
			buf = *bp
			m, err = r.Read(buf)
			if i := bytes.IndexByte(buf[:m], '\n'); i >= 0 {
				length += int64(i + 1)
				nl = 1
				carry = append(carry, buf[i+1:m]...)
				pool.Put(bp)
				break
			}
			length += int64(m)
			pool.Put(bp)
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if !send(chunk{data: head, off: off, tooLong: true, longLen: length, lineLen: length - nl}) {
			return nil
		}
		off += length
		if err == io.EOF {
			if len(carry) > 0 {
				bp = pool.Get().(*[]byte)
				n := copy(*bp, carry)
				send(chunk{data: (*bp)[:n], off: off, buf: bp})
			}
			return nil
		}
	}
}

// parseChunk parses the lines of c into a new batch.
func parseChunk(c chunk, perf bool, name string, strict bool) *result {
	res := &result{seq: c.seq, off: c.off, cpus: map[int32]*CPUStats{}, lastCPUTS: map[int32]int64{}}
	if c.tooLong {
		res.lines = 1
		res.bytes = c.longLen
		res.problems = 1
		res.probs = []*SyntaxError{{File: name, Line: 1, Offset: 0,
			Msg: fmt.Sprintf("line of %d bytes exceeds the %d-byte limit", c.lineLen, MaxLineLen), Excerpt: excerpt(c.data), Err: ErrLineTooLong}}
		res.firstErr = res.probs[0]
		return res
	}
	res.bytes = int64(len(c.data))
	b := ftrace.NewBatch(len(c.data) / 80)
	res.batch = b
	var rec ftrace.Record
	data := c.data
	var lineNo, pos int64
	pendingStart := map[int32][]int{} // cpu -> indexes in res.markers awaiting NextTS
	for len(data) > 0 {
		var line []byte
		i := bytes.IndexByte(data, '\n')
		if i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		lineNo++
		start := pos
		pos += int64(len(line)) + 1
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) > MaxLineLen {
			res.addProblem(&SyntaxError{File: name, Line: lineNo, Offset: start,
				Msg: fmt.Sprintf("line of %d bytes exceeds the %d-byte limit", len(line), MaxLineLen), Excerpt: excerpt(line), Err: ErrLineTooLong})
			if strict {
				break
			}
			continue
		}
		rec.Payload.Reset()
		r := parseLine(line, perf, &rec)
		switch r.kind {
		case KindEvent:
		case KindProblem:
			res.addProblem(&SyntaxError{File: name, Line: lineNo, Offset: start, Msg: r.msg, Excerpt: excerpt(line), Err: r.err})
			if strict {
				return res
			}
			continue
		case KindLost, KindDropped, KindBufferStarted, KindSubbuffer:
			res.kinds[r.kind]++
			m := Marker{Kind: r.kind.String(), CPU: r.cpu, Count: r.count, File: name, Line: lineNo, Offset: start}
			res.markers = append(res.markers, m)
			pendingStart[r.cpu] = append(pendingStart[r.cpu], len(res.markers)-1)
			continue
		default:
			res.kinds[r.kind]++
			if r.kind == KindComment || r.kind == KindHeader {
				res.header.read(line)
			}
			continue
		}
		rec.Line, rec.Offset = lineNo, start
		if err := ftrace.Decode(rec.Event, rec.Name, rec.Raw, &rec.Payload); err != nil {
			res.decErrs++
			if len(res.decs) < MaxSamples {
				res.decs = append(res.decs, &SyntaxError{File: name, Line: lineNo, Offset: start, Msg: err.Error(), Excerpt: excerpt(line), Err: err})
			}
			if strict && res.firstErr == nil {
				res.firstErr = res.decs[len(res.decs)-1]
			}
			args := rec.Args[:0]
			rec.Payload.Reset()
			rec.Args = args
			rec.Generic = true
		}
		if rec.Event == ftrace.EvUnknown {
			res.generic++
		}
		if rec.Generic && bytes.HasPrefix(rec.Raw, []byte("[FAILED TO PARSE]")) {
			res.ftp++
		}
		b.Append(&rec)
		res.kinds[KindEvent]++
		ts := int64(rec.TS)
		cs := res.cpus[rec.CPU]
		if cs == nil {
			cs = &CPUStats{CPU: rec.CPU, FirstTS: ts, LastTS: ts, TrustedFromTS: ts, firstSeen: ts, lastSeen: ts}
			res.cpus[rec.CPU] = cs
		} else if ts < cs.lastSeen {
			cs.Backwards++
		}
		cs.Events++
		cs.FirstTS = min(cs.FirstTS, ts)
		cs.LastTS = max(cs.LastTS, ts)
		cs.lastSeen = ts
		if len(pendingStart) > 0 {
			if mis, ok := pendingStart[rec.CPU]; ok {
				next := ts
				for _, mi := range mis {
					res.markers[mi].NextTS = &next
				}
				delete(pendingStart, rec.CPU)
			}
		}
		res.units |= 1 << rec.Unit
	}
	res.lines = lineNo
	return res
}

func (r *result) addProblem(e *SyntaxError) {
	r.problems++
	if len(r.probs) < MaxSamples {
		r.probs = append(r.probs, e)
	}
	if r.firstErr == nil {
		r.firstErr = e
	}
}

// collector puts chunk results together in input order.
type collector struct {
	st       *Stats
	t        *ftrace.Table
	name     string
	lineBase int64
	cpus     map[int32]*CPUStats
	// open markers (index into st.LostMarkers / st.BufferStarted) waiting
	// for their CPU's next event
	openLost, openStart map[int32][]int
	units               uint8
}

func newCollector(st *Stats, t *ftrace.Table, name string) *collector {
	return &collector{st: st, t: t, name: name, cpus: map[int32]*CPUStats{},
		openLost: map[int32][]int{}, openStart: map[int32][]int{}}
}

func (c *collector) add(r *result, strict bool) error {
	base := c.lineBase
	fix := func(e *SyntaxError) {
		if r.off >= 0 {
			e.Line += base
			e.Offset += r.off
		}
	}
	for _, e := range r.probs {
		fix(e)
	}
	for _, e := range r.decs {
		fix(e)
	}
	if strict && r.firstErr != nil {
		return r.firstErr
	}
	st := c.st
	st.Lines += r.lines
	st.Bytes += r.bytes
	st.Problems += r.problems
	st.ProblemSamples = appendCapped(st.ProblemSamples, r.probs)
	st.DecodeErrors += r.decErrs
	st.DecodeErrorSamples = appendCapped(st.DecodeErrorSamples, r.decs)
	st.GenericEvents += r.generic
	st.FailedToParse += r.ftp
	for k := LineKind(0); k < numKinds; k++ {
		if k == KindEvent || k == KindProblem || r.kinds[k] == 0 {
			continue
		}
		st.NonEventKinds[k.String()] += r.kinds[k]
		st.NonEventLines += r.kinds[k]
	}
	st.Events += r.kinds[KindEvent]
	c.units |= r.units
	if r.header != (Header{}) {
		h := &st.Header
		if r.header.Tracer != "" {
			h.Tracer = r.header.Tracer
		}
		if r.header.CPUs != 0 {
			h.CPUs = r.header.CPUs
		}
		if r.header.EntriesWritten != 0 || r.header.EntriesInBuffer != 0 {
			h.EntriesInBuffer, h.EntriesWritten = r.header.EntriesInBuffer, r.header.EntriesWritten
		}
		if r.header.Version != "" {
			h.Version = r.header.Version
		}
	}
	// Markers: resolve those left open by earlier chunks with this chunk's
	// first event per CPU, then take this chunk's.
	for cpu, cs := range r.cpus {
		ts := cs.firstSeen
		for _, i := range c.openLost[cpu] {
			if st.LostMarkers[i].NextTS == nil {
				st.LostMarkers[i].NextTS = &ts
			}
		}
		for _, i := range c.openStart[cpu] {
			if st.BufferStarted[i].NextTS == nil {
				st.BufferStarted[i].NextTS = &ts
			}
		}
		delete(c.openLost, cpu)
		delete(c.openStart, cpu)
	}
	for _, m := range r.markers {
		m.Line += base
		m.Offset += r.off
		switch m.Kind {
		case "buffer_started":
			st.BufferStarted = append(st.BufferStarted, m)
			if m.NextTS == nil {
				c.openStart[m.CPU] = append(c.openStart[m.CPU], len(st.BufferStarted)-1)
			}
		default:
			st.LostMarkers = append(st.LostMarkers, m)
			if m.Count > 0 {
				st.LostEvents += m.Count
			}
			if m.NextTS == nil {
				c.openLost[m.CPU] = append(c.openLost[m.CPU], len(st.LostMarkers)-1)
			}
		}
	}
	for cpu, cs := range r.cpus {
		m, ok := c.cpus[cpu]
		if !ok {
			cc := *cs
			c.cpus[cpu] = &cc
			continue
		}
		if cs.firstSeen < m.lastSeen {
			m.Backwards++
		}
		m.Events += cs.Events
		m.FirstTS = min(m.FirstTS, cs.FirstTS)
		m.LastTS = max(m.LastTS, cs.LastTS)
		m.Backwards += cs.Backwards
		m.lastSeen = cs.lastSeen
	}
	if r.batch != nil {
		b := r.batch
		b.Rebase(base, r.off)
		if c.t != nil {
			c.t.Add(c.name, b)
		}
		b.EventCounts(func(name string, n int64) { st.EventCounts[name] += n })
	}
	c.lineBase += r.lines
	return nil
}

func (c *collector) finish() {
	st := c.st
	for _, m := range st.BufferStarted {
		if cs := c.cpus[m.CPU]; cs != nil {
			cs.BufferStarted = true
			if m.NextTS != nil {
				cs.TrustedFromTS = *m.NextTS
			}
		}
	}
	for _, m := range st.LostMarkers {
		if cs := c.cpus[m.CPU]; cs != nil {
			cs.LostMarkers++
		}
	}
	for _, cs := range c.cpus {
		st.CPUs = append(st.CPUs, *cs)
		if st.FirstTS == nil || cs.FirstTS < *st.FirstTS {
			v := cs.FirstTS
			st.FirstTS = &v
		}
		if st.LastTS == nil || cs.LastTS > *st.LastTS {
			v := cs.LastTS
			st.LastTS = &v
		}
	}
	sort.Slice(st.CPUs, func(i, j int) bool { return st.CPUs[i].CPU < st.CPUs[j].CPU })
	switch c.units {
	case 1 << ftrace.UnitRaw:
		st.Unit = "raw"
	case 1<<ftrace.UnitRaw | 1<<ftrace.UnitNS:
		st.Unit, st.MixedUnits = "mixed", true
	default:
		st.Unit = "ns"
	}
}

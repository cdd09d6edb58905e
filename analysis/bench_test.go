package analysis

import (
	"bytes"
	"context"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

const benchTrace = "../testdata/qemu-hotplug/ftrace.txt.xz"

// benchSource is the bundled qemu-hotplug ftrace text and its parsed
// records, loaded once per test binary.
var benchSource = sync.OnceValues(func() (*benchData, error) {
	text, err := readTextErr(benchTrace)
	if err != nil {
		return nil, err
	}
	tbl := ftrace.NewTable()
	st, err := parse.Parse(context.Background(), bytes.NewReader(text), "bench", tbl, parse.Options{})
	if err != nil {
		return nil, err
	}
	recs, err := tbl.Records()
	if err != nil {
		return nil, err
	}
	return &benchData{text: text, recs: recs, events: st.Events, first: *st.FirstTS, last: *st.LastTS, lines: st.Lines}, nil
})

type benchData struct {
	text        []byte
	recs        []arrow.RecordBatch
	events      int64
	first, last int64
	lines       int64
}

func loadBench(b *testing.B) *benchData {
	d, err := benchSource()
	if err != nil {
		b.Skipf("bench input: %v", err)
	}
	return d
}

// replicate returns the records of d repeated n times, each copy shifted
// in time past the previous one (and in line numbers), as one long
// recording: every column but ts and line is shared with the original.
func (d *benchData) replicate(n int) []arrow.RecordBatch {
	span := d.last - d.first + 1_000_000
	var out []arrow.RecordBatch
	for k := 0; k < n; k++ {
		dts, dline := int64(k)*span, int64(k)*d.lines
		for _, rec := range d.recs {
			cols := make([]arrow.Array, rec.NumCols())
			for i := range cols {
				cols[i] = rec.Column(i)
				cols[i].Retain()
			}
			cols[ftrace.ColTS].Release()
			cols[ftrace.ColLine].Release()
			cols[ftrace.ColTS] = shifted(rec.Column(ftrace.ColTS).(*array.Int64), dts)
			cols[ftrace.ColLine] = shifted(rec.Column(ftrace.ColLine).(*array.Int64), dline)
			out = append(out, array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()))
			for _, c := range cols {
				c.Release()
			}
		}
	}
	return out
}

func shifted(a *array.Int64, by int64) arrow.Array {
	bld := array.NewInt64Builder(memory.DefaultAllocator)
	defer bld.Release()
	bld.Reserve(a.Len())
	for _, v := range a.Int64Values() {
		bld.UnsafeAppend(v + by)
	}
	return bld.NewArray()
}

// heapSampler records the peak of live heap objects while it runs.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	done chan struct{}
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if v := sample[0].Value.Uint64(); v > s.peak.Load() {
			s.peak.Store(v)
		}
	}
	read()
	go func() {
		defer close(s.done)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return s
}

func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkBuild builds the model of the bundled qemu-hotplug ftrace
// recording repeated 320 times (about 10.3 million events) as one
// recording. Reported: events/s, bytes of text the events came from per
// second (SetBytes), the live heap the model keeps (model-B/event) and the
// peak of live heap during the build above what was live before it
// (peak-B/event: extraction buffers and the model).
func BenchmarkBuild(b *testing.B) {
	d := loadBench(b)
	recs := d.replicate(320)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	events := d.events * 320
	b.SetBytes(int64(len(d.text)) * 320)
	b.ReportAllocs()
	var m *Model
	var peak, base uint64
	for b.Loop() {
		m = nil
		b.StopTimer()
		base = liveHeap()
		s := sampleHeap()
		b.StartTimer()
		var err error
		m, err = Build(recs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if p := s.Stop(); p > base {
			peak = max(peak, p-base)
		}
		b.StartTimer()
	}
	b.StopTimer()
	kept := liveHeap() - base
	runtime.KeepAlive(m)
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(kept)/float64(events), "model-B/event")
	b.ReportMetric(float64(peak)/float64(events), "peak-B/event")
	if m.Events < 10_000_000 {
		b.Fatalf("built on %d events, want at least 10 million", m.Events)
	}
}

// BenchmarkBuildHotplug builds the model of the bundled qemu-hotplug
// ftrace recording (32k events) once per iteration.
func BenchmarkBuildHotplug(b *testing.B) {
	d := loadBench(b)
	b.SetBytes(int64(len(d.text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(d.recs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseVsBuild times, per iteration, parse.Parse of the
// qemu-hotplug ftrace text repeated 20 times (about 60 MB, 645k events:
// the input of the parse benchmarks) and Build of as many events, and
// reports build time as a fraction of parse time (the target:
// well under 0.5).
func BenchmarkParseVsBuild(b *testing.B) {
	const copies = 20
	d := loadBench(b)
	body := d.text[bytes.Index(d.text, []byte("\n#              | |")):]
	body = body[bytes.IndexByte(body[1:], '\n')+2:]
	text := append([]byte(nil), d.text...)
	for i := 1; i < copies; i++ {
		text = append(text, body...)
	}
	recs := d.replicate(copies)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	b.SetBytes(int64(len(text)))
	var parseT, buildT time.Duration
	for b.Loop() {
		t0 := time.Now()
		tbl := ftrace.NewTable()
		if _, err := parse.Parse(context.Background(), bytes.NewReader(text), "bench", tbl, parse.Options{}); err != nil {
			b.Fatal(err)
		}
		if _, err := tbl.Records(); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		tbl.Release()
		if _, err := Build(recs, Options{}); err != nil {
			b.Fatal(err)
		}
		parseT += t1.Sub(t0)
		buildT += time.Since(t1)
	}
	b.ReportMetric(float64(parseT.Milliseconds())/float64(b.N), "parse-ms")
	b.ReportMetric(float64(buildT.Milliseconds())/float64(b.N), "build-ms")
	b.ReportMetric(float64(buildT)/float64(parseT), "build/parse")
}

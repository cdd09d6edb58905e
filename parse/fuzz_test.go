package parse

// Native fuzz targets of the parse package, seeded from the bundled real
// traces (testdata/qemu-*) and the synthetic variants.
//
//	go test -run='^$' -fuzz='^FuzzParseLine$' -fuzztime=60s ./parse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/irqtrace/irqtrace/ftrace"
)

var seedTexts struct {
	once  sync.Once
	texts [][]byte // decompressed real traces, in realTraces order
	err   error
}

// realTexts returns the decompressed bundled traces (read once).
func realTexts(f *testing.F) [][]byte {
	seedTexts.once.Do(func() {
		for _, tr := range realTraces {
			rc, _, err := OpenInput(tr.path(), nil)
			if err != nil {
				seedTexts.err = err
				return
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				seedTexts.err = err
				return
			}
			seedTexts.texts = append(seedTexts.texts, b)
		}
	})
	if seedTexts.err != nil {
		f.Fatal(seedTexts.err)
	}
	return seedTexts.texts
}

// sampleLines returns n lines spread evenly over text, plus its first 15.
func sampleLines(text []byte, n int) [][]byte {
	lines := bytes.Split(text, []byte("\n"))
	out := lines[:min(15, len(lines))]
	for i := 0; i < n && len(lines) > 0; i++ {
		out = append(out, lines[i*len(lines)/n])
	}
	return out
}

// variantInputs are the synthetic inputs of the table tests.
func variantInputs() []string {
	var out []string
	for _, c := range []string{hdr518, hdr54} {
		out = append(out, c+"\n")
	}
	out = append(out,
		"CPU:2 [LOST 2311 EVENTS]\nCPU:2 [LOST EVENTS]\n##### CPU 3 buffer started ####\n",
		"version = 6\ncpus=8\nCPU 2 is empty\nCPU:3 [1234 EVENTS DROPPED]\nCPU:3 [EVENTS DROPPED]\nCPU:1 [SUBBUFFER START]\n",
		"trace-a.dat:          <idle>-0     [003]   612.301255: irq_handler_entry:    irq=129 name=nvme0q4\n",
		"          <idle>-0     [001]  1023.700000: irq_matrix_alloc:     [FAILED TO PARSE] bit=36 cpu=1 online=1 available=199\n",
		"            bash-1234    (   1234) [002] .....   612.301300: tracing_mark_write: hello  world \n",
		"          <idle>-0       (-------) [1023] X.Z1.        48213: spurious_apic_entry: vector=239\n",
		"     my comm-x-17       [000] .....   100.000002: cpuhp_exit:  cpu: 0003  state: 234 step: 235 ret: 0\n",
		"          <idle>-0       [003] d.h1.   100.000001: __irq_move_irq <-apic_ack_edge\n => __irq_move_irq\n",
		"         swapper       0/0       [003]   612.301255123:     irq:irq_handler_entry: irq=129 name=nvme0q4\n\tffffffff810f1234 x+0x1 ([kernel.kallsyms])\n\n",
		"           :1696  1696 [002]   100.000001: probe:apic_retrigger_irq: (ffffffff8105a1b0) irq=33\n",
		"     rig-init.sh-1     [000]  1023.600001: function:                apic_ack_edge <-- irq_chip_ack_parent\n",
	)
	return out
}

// FuzzParseLine: parseLine never panics, classifies every line, returns
// pieces of the line only, and does not depend on the record's previous
// content.
func FuzzParseLine(f *testing.F) {
	for i, text := range realTexts(f) {
		perf := realTraces[i].format == FormatPerfScript
		for _, l := range sampleLines(text, 200) {
			f.Add(l, perf)
		}
	}
	for _, in := range variantInputs() {
		for _, l := range strings.Split(in, "\n") {
			f.Add([]byte(l), false)
			f.Add([]byte(l), true)
		}
	}
	dirty := []byte("  dirty: stale-99 (  77) [003] d.h1. 1.0: irq:x: a=b")
	f.Fuzz(func(t *testing.T, line []byte, perf bool) {
		var fresh ftrace.Record
		r := parseLine(line, perf, &fresh)
		if r.kind >= numKinds {
			t.Fatalf("kind %d", r.kind)
		}
		var old ftrace.Record
		parseLine(dirty, true, &old)
		old.Payload.Reset()
		r2 := parseLine(line, perf, &old)
		if r2 != r {
			t.Fatalf("result depends on the record's previous content: %+v vs %+v", r, r2)
		}
		switch r.kind {
		case KindProblem:
			if r.err == nil || r.msg == "" {
				t.Fatalf("problem without a sentinel or message")
			}
			for _, s := range []error{ErrBadPrefix, ErrBadTimestamp, ErrNoEventName, ErrBadMarker} {
				if errors.Is(r.err, s) {
					return
				}
			}
			t.Fatalf("problem error %v is not a parse sentinel", r.err)
		case KindEvent:
			rec := &fresh
			if !sub(line, rec.Comm) || !sub(line, rec.Raw) || !sub(line, rec.Buffer) || !sub(line, rec.System) ||
				!sub(line, rec.Name) && rec.Event != ftrace.EvFunction {
				t.Fatalf("record slices are not pieces of the line: %+v", rec)
			}
			if len(rec.Name) == 0 || rec.CPU < 0 || rec.CPU > 1<<15-1 {
				t.Fatalf("name %q cpu %d", rec.Name, rec.CPU)
			}
			if rec.Event != ftrace.EvFunction && rec.Event != ftrace.Lookup(rec.Name) {
				t.Fatalf("event %v for name %q", rec.Event, rec.Name)
			}
			if rec.TS < 0 {
				t.Fatalf("negative timestamp %d", rec.TS)
			}
			o, n := fresh, old
			if string(o.Comm) != string(n.Comm) || o.PID != n.PID || o.TGID != n.TGID || o.CPU != n.CPU ||
				o.Flags != n.Flags || o.TS != n.TS || o.Unit != n.Unit || o.Event != n.Event ||
				string(o.Name) != string(n.Name) || string(o.System) != string(n.System) ||
				string(o.Buffer) != string(n.Buffer) || string(o.Raw) != string(n.Raw) ||
				(o.System == nil) != (n.System == nil) || (o.Buffer == nil) != (n.Buffer == nil) {
				t.Fatalf("record depends on its previous content:\n%+v\n%+v", o, n)
			}
		}
	})
}

// sub reports whether s is empty or lies inside b's memory.
func sub(b, s []byte) bool {
	if len(s) == 0 {
		return true
	}
	if len(b) == 0 {
		return false
	}
	bp := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	sp := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return sp >= bp && sp+uintptr(len(s)) <= bp+uintptr(len(b))
}

// FuzzDetect: Detect never panics and either names a format or returns a
// one-line error wrapping ErrUnknownFormat; Parse agrees with it.
func FuzzDetect(f *testing.F) {
	for _, text := range realTexts(f) {
		f.Add(text[:min(len(text), 4096)])
		f.Add(text[:min(len(text), 300)])
	}
	for _, in := range variantInputs() {
		f.Add([]byte(in))
	}
	for _, s := range []string{"", " \n", "{}", "[1,2]", "[    0.275906] x", "\x17\x08\x44tracing6", "PERFILE2", "\x00\xff", "cpus=4\n", "# tracer: nop\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > SniffLen {
			b = b[:SniffLen]
		}
		format, err := Detect(b)
		if err != nil {
			if format != FormatUnknown || !errors.Is(err, ErrUnknownFormat) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("Detect = %v, %q", format, err)
			}
			return
		}
		if format == FormatUnknown || format > FormatPerfScript {
			t.Fatalf("Detect = %v without error", format)
		}
		if f2, _ := Detect(b); f2 != format {
			t.Fatalf("Detect is not deterministic")
		}
	})
}

// FuzzParse runs whole small inputs through Parse, lenient and strict.
// Invariants: no panic; lines = events + non-event lines + problems;
// every position is a line start inside the input; strict fails exactly
// at the first problem or decode error of the lenient run.
func FuzzParse(f *testing.F) {
	for _, text := range realTexts(f) {
		lines := bytes.SplitAfter(text, []byte("\n"))
		for k := 0; k < 6; k++ {
			i := k * len(lines) / 6
			f.Add(bytes.Join(lines[i:min(len(lines), i+40)], nil))
		}
	}
	for _, in := range variantInputs() {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := parseBytes(t, in, "fuzz", Options{ChunkSize: 1, Workers: 2})
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("lenient Parse error %v", err)
			}
			return
		}
		st := p.st
		if st.Lines != st.Events+st.NonEventLines+st.Problems {
			t.Fatalf("Lines %d != Events %d + NonEventLines %d + Problems %d", st.Lines, st.Events, st.NonEventLines, st.Problems)
		}
		if want := countLines(string(in)); st.Lines != want || st.Bytes != int64(len(in)) {
			t.Fatalf("Lines %d Bytes %d, input has %d lines %d bytes", st.Lines, st.Bytes, want, len(in))
		}
		if int64(p.v.n) != st.Events {
			t.Fatalf("%d rows, %d events", p.v.n, st.Events)
		}
		var sum int64
		for _, n := range st.EventCounts {
			sum += n
		}
		if sum != st.Events {
			t.Fatalf("event counts sum to %d, Events %d", sum, st.Events)
		}
		lineStart := func(off int64) bool { return off == 0 || off > 0 && off < int64(len(in)) && in[off-1] == '\n' }
		first := int64(-1)
		for _, list := range [][]*SyntaxError{st.ProblemSamples, st.DecodeErrorSamples} {
			for _, e := range list {
				if e.Line < 1 || e.Line > st.Lines || e.Offset < 0 || e.Offset >= int64(len(in)) || !lineStart(e.Offset) ||
					!bytes.HasPrefix(in[e.Offset:], []byte(e.Excerpt)) || e.Err == nil || e.File != "fuzz" {
					t.Fatalf("bad position: %+v", e)
				}
				if first < 0 || e.Line < first {
					first = e.Line
				}
			}
		}
		for i := 0; i < p.v.n; i++ {
			ln, off := p.v.get(i, "line").(int64), p.v.get(i, "offset").(int64)
			if ln < 1 || ln > st.Lines || !lineStart(off) {
				t.Fatalf("row %d at line %d offset %d", i, ln, off)
			}
		}
		_, serr := parseBytes(t, in, "fuzz", Options{Strict: true, Workers: 2})
		var se *SyntaxError
		switch {
		case first < 0 && serr != nil:
			t.Fatalf("strict fails (%v) where lenient finds nothing", serr)
		case first >= 0 && (!errors.As(serr, &se) || se.Line != first):
			t.Fatalf("strict: %v, want the first bad line %d", serr, first)
		}
	})
}

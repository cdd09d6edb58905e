package parse

// The chunked parallel reader: strict mode, independence from the chunk
// size and worker count, over-long lines, bounded memory.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/irqtrace/irqtrace/ftrace"
)

// inserted is a line placed into a real trace by a test.
type inserted struct {
	afterLine int64 // insert after this line of the original text
	text      string
}

// insertLines returns text with the given lines inserted, and for each
// inserted line its line number and byte offset in the result.
func insertLines(text []byte, ins []inserted) ([]byte, []int64, []int64) {
	lines := bytes.SplitAfter(text, []byte("\n"))
	var out bytes.Buffer
	var nos, offs []int64
	k := 0
	no := int64(0)
	for i, l := range lines {
		for k < len(ins) && ins[k].afterLine == int64(i) {
			no++
			nos, offs = append(nos, no), append(offs, int64(out.Len()))
			out.WriteString(ins[k].text)
			out.WriteByte('\n')
			k++
		}
		if len(l) > 0 {
			no++
			out.Write(l)
		}
	}
	return out.Bytes(), nos, offs
}

func hotplugFtrace(t *testing.T) []byte {
	t.Helper()
	text, _ := loadReal(t, realTraces[0])
	return text
}

func TestStrictFirstErrorInLaterChunk(t *testing.T) {
	text := hotplugFtrace(t)
	badPrefix := "this is not a trace line"
	badValue := "          <idle>-0       [001] d.h1.    90.000001: vector_update: irq=1 vector=1 cpu=banana prev_vector=0 prev_cpu=0"
	tests := []struct {
		name    string
		ins     []inserted
		first   int // index into ins of the error Strict must return
		wantErr error
	}{
		{"bad prefix late", []inserted{{25000, badPrefix}, {30000, badPrefix}}, 0, ErrBadPrefix},
		{"decode error before a bad prefix", []inserted{{20000, badValue}, {25000, badPrefix}}, 0, ftrace.ErrBadValue},
		{"bad prefix before a decode error", []inserted{{21000, badPrefix}, {26000, badValue}}, 0, ErrBadPrefix},
		{"first line", []inserted{{0, badPrefix}, {31000, badValue}}, 0, ErrBadPrefix},
		{"last line", []inserted{{32324, badValue}}, 0, ftrace.ErrBadValue},
	}
	for _, c := range tests {
		for _, workers := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("%s/workers=%d", c.name, workers), func(t *testing.T) {
				in, nos, offs := insertLines(text, c.ins)
				// The smallest chunk size the reader accepts: many chunks.
				_, err := parseBytes(t, in, "hot.txt", Options{Strict: true, ChunkSize: 128 << 10, Workers: workers})
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("err = %v, want a *SyntaxError", err)
				}
				if se.Line != nos[c.first] || se.Offset != offs[c.first] || se.File != "hot.txt" || !errors.Is(err, c.wantErr) {
					t.Errorf("err = %v (line %d offset %d, %v), want line %d offset %d wrapping %v",
						err, se.Line, se.Offset, se.Err, nos[c.first], offs[c.first], c.wantErr)
				}
				if se.Excerpt != c.ins[c.first].text[:min(80, len(c.ins[c.first].text))] {
					t.Errorf("excerpt %q", se.Excerpt)
				}
			})
		}
	}
	// Without problems, Strict changes nothing.
	p := mustParse(t, text, "hot.txt", Options{Strict: true, ChunkSize: 128 << 10})
	_, ref := loadReal(t, realTraces[0])
	if p.st.Events != ref.st.Events || p.st.Lines != ref.st.Lines {
		t.Errorf("strict: %d events %d lines, lenient %d %d", p.st.Events, p.st.Lines, ref.st.Events, ref.st.Lines)
	}
}

// TestChunkingInvariance parses the same input with several chunk sizes and
// worker counts: rows, line numbers, offsets, stats and diagnostics must be
// identical.
func TestChunkingInvariance(t *testing.T) {
	text := hotplugFtrace(t)
	longMarker := "     rig-init.sh-1       [000] .....    60.000000: tracing_mark_write: " + strings.Repeat("m", 100_000)
	ins := []inserted{
		{100, "bogus line one"},
		{5000, "CPU:2 [LOST 17 EVENTS]"},
		{9000, "##### CPU 1 buffer started ####"},
		{12000, longMarker},                           // an event line of 100 kB
		{15000, strings.Repeat("y", MaxLineLen+1000)}, // too long for every chunk size
		{18000, strings.Repeat("z", 3*MaxLineLen)},    // longer than any chunk
		{20000, "          <idle>-0       [003] d.h1.    80.000000: vector_config: irq=1"}, // decode error
		{22000, "CPU:3 [LOST EVENTS]"},
		{32324, "bogus last line"},
		// Markers of CPU 7, which has no events in this trace, resolved by
		// a CPU 7 event many chunks later.
		{3000, "##### CPU 7 buffer started ####"},
		{3000, "CPU:7 [LOST 5 EVENTS]"},
		{25000, "          <idle>-0       [007] d.h1.    90.000000: reschedule_entry: vector=253"},
		{3000, "CPU:7 [6 EVENTS DROPPED]"},
	}
	// insertLines wants them in input order; keep the indexes above.
	order := []int{0, 9, 10, 12, 1, 2, 3, 4, 5, 6, 7, 11, 8}
	sorted := make([]inserted, len(order))
	for i, k := range order {
		sorted[i] = ins[k]
	}
	in, snos, soffs := insertLines(text, sorted)
	nos, offs := make([]int64, len(ins)), make([]int64, len(ins))
	for i, k := range order {
		nos[k], offs[k] = snos[i], soffs[i]
	}
	type cfg struct{ chunk, workers int }
	cfgs := []cfg{{0, 0}, {128 << 10, 1}, {128 << 10, 3}, {300 << 10, 2}, {8 << 20, 2}}
	var ref *parsed
	var refStats []byte
	for _, c := range cfgs {
		// Parsed by the parent test: the reference table must outlive the
		// subtest that built it.
		p := mustParse(t, in, "inv.txt", Options{ChunkSize: c.chunk, Workers: c.workers})
		t.Run(fmt.Sprintf("chunk=%d/workers=%d", c.chunk, c.workers), func(t *testing.T) {
			st := p.st
			// The inserted lines land where they were put.
			wantProb := []int{0, 4, 5, 8}
			if st.Problems != 4 || len(st.ProblemSamples) != 4 {
				t.Fatalf("problems %d: %v", st.Problems, st.ProblemSamples)
			}
			for i, k := range wantProb {
				if g := st.ProblemSamples[i]; g.Line != nos[k] || g.Offset != offs[k] {
					t.Errorf("problem %d at %d/%d, want line %d offset %d", i, g.Line, g.Offset, nos[k], offs[k])
				}
			}
			if !errors.Is(st.ProblemSamples[1], ErrLineTooLong) || !errors.Is(st.ProblemSamples[2], ErrLineTooLong) {
				t.Errorf("long lines: %v, %v", st.ProblemSamples[1], st.ProblemSamples[2])
			}
			if st.DecodeErrors != 1 || st.DecodeErrorSamples[0].Line != nos[6] || st.DecodeErrorSamples[0].Offset != offs[6] {
				t.Errorf("decode errors %d: %v", st.DecodeErrors, st.DecodeErrorSamples)
			}
			if st.Lines != int64(bytes.Count(in, []byte("\n"))) || st.Lines != st.Events+st.NonEventLines+st.Problems ||
				st.Bytes != int64(len(in)) {
				t.Errorf("Lines %d Events %d NonEvent %d Problems %d Bytes %d", st.Lines, st.Events, st.NonEventLines, st.Problems, st.Bytes)
			}
			ls, bs := st.LostMarkers, st.BufferStarted
			if len(ls) != 4 || ls[0].Line != nos[10] || ls[1].Line != nos[12] || ls[2].Line != nos[1] || ls[3].Line != nos[7] ||
				len(bs) != 2 || bs[0].Line != nos[9] || bs[1].Line != nos[2] || bs[1].NextTS == nil {
				t.Fatalf("markers: %+v %+v", ls, bs)
			}
			const ts7 = 90_000_000_000
			for _, m := range []Marker{ls[0], ls[1], bs[0]} {
				if m.NextTS == nil || *m.NextTS != ts7 {
					t.Errorf("CPU 7 marker not resolved by the CPU's next event: %+v", m)
				}
			}
			if c := st.CPUs[len(st.CPUs)-1]; c.CPU != 7 || c.TrustedFromTS != ts7 || !c.BufferStarted || c.LostMarkers != 2 || c.Events != 1 {
				t.Errorf("CPU 7: %+v", c)
			}
			row := p.v.rowAtLine(t, nos[3])
			if got := p.v.get(row, "text"); got != strings.Repeat("m", 100_000) {
				t.Errorf("long marker text: %d bytes", len(fmt.Sprint(got)))
			}
			js, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref, refStats = p, js
				return
			}
			if !bytes.Equal(js, refStats) {
				t.Errorf("stats differ from chunk=%d:\n%s\n%s", cfgs[0].chunk, js, refStats)
			}
			if p.v.n != ref.v.n {
				t.Fatalf("%d rows, reference %d", p.v.n, ref.v.n)
			}
			for i := 0; i < p.v.n; i++ {
				if d := diffRow(p.v.row(i), ref.v.row(i)); len(d) > 0 {
					t.Fatalf("row %d differs from the reference:\n  %s", i, strings.Join(d, "\n  "))
				}
			}
		})
	}
}

// TestLineLengthLimit: lines up to MaxLineLen parse, longer ones are one
// problem each, whatever the chunk size.
func TestLineLengthLimit(t *testing.T) {
	prefix := "          <idle>-0       [000] d.h1.   1.000001: tracing_mark_write: "
	for _, n := range []int{MaxLineLen - 1, MaxLineLen, MaxLineLen + 1, MaxLineLen + 2} {
		for _, chunk := range []int{0, MaxLineLen} {
			t.Run(fmt.Sprintf("len=%d/chunk=%d", n, chunk), func(t *testing.T) {
				line := prefix + strings.Repeat("w", n-len(prefix))
				in := text(prefix+"a", line, prefix+"b")
				p := mustParse(t, []byte(in), "long", Options{Format: FormatTracePipe, ChunkSize: chunk})
				if n <= MaxLineLen {
					if p.st.Events != 3 || p.st.Problems != 0 {
						t.Errorf("%d events, %d problems (%v); want 3, 0", p.st.Events, p.st.Problems, p.st.ProblemSamples)
					}
					return
				}
				if p.st.Events != 2 || p.st.Problems != 1 || !errors.Is(p.st.ProblemSamples[0], ErrLineTooLong) {
					t.Fatalf("%d events, %d problems; want 2, 1", p.st.Events, p.st.Problems)
				}
				e := p.st.ProblemSamples[0]
				if e.Line != 2 || e.Offset != int64(len(prefix)+2) || !strings.Contains(e.Msg, fmt.Sprint(n)) || len(e.Excerpt) != 80 {
					t.Errorf("problem = %+v", e)
				}
				if p.v.get(1, "line") != int64(3) || p.v.get(1, "offset") != int64(len(prefix)+2+n+1) {
					t.Errorf("line after the long one at %v offset %v", p.v.get(1, "line"), p.v.get(1, "offset"))
				}
			})
		}
	}
}

// genReader yields a header line, then n bytes of 'x' without a newline
// (or with one at the end), then tail; it allocates nothing per read.
type genReader struct {
	head, tail string
	n          int64
	pos        int64
	nl         bool
}

func (g *genReader) Read(p []byte) (int, error) {
	total := int64(len(g.head)) + g.n + int64(len(g.tail))
	if g.nl {
		total++
	}
	if g.pos >= total {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && g.pos < total {
		switch i := g.pos; {
		case i < int64(len(g.head)):
			c := copy(p[k:], g.head[i:])
			k += c
			g.pos += int64(c)
			continue
		case i < int64(len(g.head))+g.n:
			c := min(int64(len(p)-k), int64(len(g.head))+g.n-i)
			for j := range p[k : k+int(c)] {
				p[k+j] = 'x'
			}
			k += int(c)
			g.pos += c
			continue
		case g.nl && i == int64(len(g.head))+g.n:
			p[k] = '\n'
		default:
			j := i - int64(len(g.head)) - g.n
			if g.nl {
				j--
			}
			p[k] = g.tail[j]
		}
		k++
		g.pos++
	}
	return k, nil
}

func TestAbsurdlyLongLines(t *testing.T) {
	good := "          <idle>-0       [000] d.h1.   1.000001: reschedule_entry: vector=253\n"
	tests := []struct {
		name       string
		r          func() io.Reader
		lines      int64
		events     int64
		problemAt  int64 // line of the ErrLineTooLong problem
		problemOff int64
	}{
		{"5 MB without newline after a header", func() io.Reader {
			return &genReader{head: "# tracer: nop\n", n: 5 << 20}
		}, 2, 0, 2, 14},
		{"64 MB line then events", func() io.Reader {
			return &genReader{head: "# tracer: nop\n" + good, n: 64 << 20, nl: true, tail: good + good}
		}, 5, 3, 3, int64(14 + len(good))},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			done := make(chan struct{})
			var st *Stats
			var err error
			go func() {
				defer close(done)
				st, err = Parse(context.Background(), c.r(), "long", ftrace.NewTable(), Options{})
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Parse did not return within 30 s")
			}
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if st.Lines != c.lines || st.Events != c.events || st.Problems != 1 || st.Lines != st.Events+st.NonEventLines+st.Problems {
				t.Errorf("lines %d events %d problems %d, want %d %d 1", st.Lines, st.Events, st.Problems, c.lines, c.events)
			}
			if e := st.ProblemSamples[0]; e.Line != c.problemAt || e.Offset != c.problemOff || !errors.Is(e, ErrLineTooLong) {
				t.Errorf("problem %+v", e)
			}
			// The line is skipped, not buffered: the reader allocates a
			// few chunk buffers, not the line.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 48<<20 {
				t.Errorf("allocated %d MB while reading the long line", alloc>>20)
			}
		})
	}

	// 2 MB in the middle of a real trace: one problem, everything else as
	// without it.
	text, ref := loadReal(t, realTraces[3])
	in, nos, offs := insertLines(text, []inserted{{4000, strings.Repeat("q", 2<<20)}})
	p := mustParse(t, in, realTraces[3].name(), Options{})
	if p.st.Problems != 1 || p.st.ProblemSamples[0].Line != nos[0] || p.st.ProblemSamples[0].Offset != offs[0] {
		t.Errorf("problems: %v", p.st.ProblemSamples)
	}
	if p.st.Events != ref.st.Events || p.st.Lines != ref.st.Lines+1 || fmt.Sprint(p.st.EventCounts) != fmt.Sprint(ref.st.EventCounts) {
		t.Errorf("events %d lines %d, without the long line %d %d", p.st.Events, p.st.Lines, ref.st.Events, ref.st.Lines)
	}
	for i := 0; i < p.v.n; i += 97 {
		ln, off := ref.v.get(i, "line").(int64), ref.v.get(i, "offset").(int64)
		if ln > 4000 {
			ln, off = ln+1, off+2<<20+1
		}
		if p.v.get(i, "line") != ln || p.v.get(i, "offset") != off {
			t.Fatalf("row %d at line %v offset %v, want %d %d", i, p.v.get(i, "line"), p.v.get(i, "offset"), ln, off)
		}
	}
}

// errReader fails after some data.
type errReader struct {
	data []byte
	err  error
}

func (e *errReader) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, e.err
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

func TestReadErrorIsFatal(t *testing.T) {
	text, _ := loadReal(t, realTraces[3])
	boom := errors.New("disk on fire")
	_, err := Parse(context.Background(), &errReader{text[:500_000], boom}, "x", ftrace.NewTable(), Options{ChunkSize: 128 << 10})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "x") {
		t.Errorf("err = %v, want it to wrap the read error and name the input", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Parse(ctx, bytes.NewReader(text), "x", ftrace.NewTable(), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

// TestOpenInput reads each compression by content, and stdin.
func TestOpenInput(t *testing.T) {
	dir := t.TempDir()
	text, _ := loadReal(t, realTraces[5])
	plain := dir + "/plain.txt"
	if err := writeFile(plain, text); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, comp string
		stdin            io.Reader
	}{
		{"xz", realTraces[5].path(), "xz", nil},
		{"plain", plain, "", nil},
		{"gzip", gzipFile(t, dir, text), "gzip", nil},
		{"zstd", zstdFile(t, dir, text), "zstd", nil},
		{"stdin", "-", "", bytes.NewReader(text)},
		{"stdin xz", "-", "xz", mustOpen(t, realTraces[5].path())},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, comp, err := OpenInput(c.path, c.stdin)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if cerr := rc.Close(); err == nil {
				err = cerr
			}
			if err != nil || comp != c.comp || !bytes.Equal(got, text) {
				t.Errorf("comp %q err %v, %d bytes (want %q, %d)", comp, err, len(got), c.comp, len(text))
			}
		})
	}
	if _, _, err := OpenInput(dir+"/missing", nil); err == nil {
		t.Error("no error for a missing file")
	}
	bad := dir + "/bad.gz"
	writeFile(bad, []byte{0x1f, 0x8b, 0, 0})
	if rc, _, err := OpenInput(bad, nil); err == nil {
		_, err = io.ReadAll(rc)
		if err == nil {
			t.Error("no error for a corrupt gzip file")
		}
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func gzipFile(t *testing.T, dir string, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	p := dir + "/f.gz.bin" // no telling extension: detection is by content
	if err := writeFile(p, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	return p
}

func zstdFile(t *testing.T, dir string, b []byte) string {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := dir + "/f.zst.bin"
	if err := writeFile(p, w.EncodeAll(b, nil)); err != nil {
		t.Fatal(err)
	}
	return p
}

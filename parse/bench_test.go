package parse

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
)

// benchInput returns about 64 MB of a real trace (decompressed and
// repeated; repeated copies keep the header only once so the format and
// the accounting stay those of one long trace).
func benchInput(b *testing.B, path string, headerLines int) []byte {
	b.Helper()
	r, _, err := OpenInput(path, nil)
	if err != nil {
		b.Skipf("bench input: %v", err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	body := data
	for i := 0; i < headerLines; i++ {
		body = body[bytes.IndexByte(body, '\n')+1:]
	}
	out := append([]byte(nil), data...)
	for len(out) < 64<<20 {
		out = append(out, body...)
	}
	return out
}

func benchParse(b *testing.B, path string, headerLines int) {
	data := benchInput(b, path, headerLines)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var events int64
	for b.Loop() {
		t := ftrace.NewTable()
		st, err := Parse(context.Background(), bytes.NewReader(data), "bench", t, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := t.Records(); err != nil {
			b.Fatal(err)
		}
		t.Release()
		events = st.Events
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(data))/float64(events), "inbytes/event")
}

func testdataPath(name string) string { return filepath.Join("..", "testdata", name) }

// BenchmarkParse measures text -> typed Arrow columns (parse + record
// build) for each format on the bundled real traces.
func BenchmarkParse(b *testing.B) {
	for _, c := range []struct {
		name, file string
		header     int
	}{
		{"ftrace", "qemu-hotplug/ftrace.txt.xz", 12},
		{"trace-cmd", "qemu-hotplug/trace-cmd-report.txt.xz", 1},
		{"perf-script", "qemu-hotplug/perf-script.txt.xz", 0},
		{"trace_pipe", "live/trace_pipe.txt", 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := os.Stat(testdataPath(c.file)); err != nil {
				b.Skipf("%s not bundled", c.file)
			}
			benchParse(b, testdataPath(c.file), c.header)
		})
	}
}

// BenchmarkParseLine measures the line grammar alone (no columns).
func BenchmarkParseLine(b *testing.B) {
	line := []byte("          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4")
	var rec ftrace.Record
	b.SetBytes(int64(len(line) + 1))
	for b.Loop() {
		rec.Payload.Reset()
		parseLine(line, false, &rec)
		_ = ftrace.Decode(rec.Event, rec.Name, rec.Raw, &rec.Payload)
	}
}

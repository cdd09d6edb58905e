package rules

import (
	"testing"

	"github.com/irqtrace/irqtrace/internal/scenario"
)

// BenchmarkRun measures the rules alone on the model of the bundled real
// hotplug trace and of a generated busy scenario (bytes = the trace text,
// so MB/s compare with the parser's).
func BenchmarkRun(b *testing.B) {
	for _, c := range []struct {
		name string
		text func(b *testing.B) []byte
	}{
		{"qemu-hotplug", func(b *testing.B) []byte { return readTrace(b, "../testdata/qemu-hotplug/ftrace.txt.xz") }},
		{"clean-busy", func(b *testing.B) []byte {
			s, err := scenario.ByName("clean-busy", 1)
			if err != nil {
				b.Fatal(err)
			}
			return s.Text
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := analyze(b, c.text(b), c.name)
			rs := Default(DefaultOptions)
			b.SetBytes(int64(len(a.text)))
			b.ReportAllocs()
			for b.Loop() {
				Run(rs, &Input{Model: a.m, File: c.name})
			}
			b.ReportMetric(float64(a.m.Events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

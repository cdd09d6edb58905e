package pprofexport_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irqtrace/irqtrace/internal/tracetest"

	"github.com/irqtrace/irqtrace/internal/golden"

	"github.com/google/pprof/driver"
	"github.com/google/pprof/profile"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/pprofexport"
)

// The real qemu traces (see ../testdata/README.md): qemu-hotplug has
// device irqs and system vectors, qemu-affinity also softirqs.
var realTraces = []string{"qemu-hotplug", "qemu-affinity"}

var (
	loadMu sync.Mutex
	models = map[string]*analysis.Model{}
)

// load parses a real trace and builds its model. Parsing is the test's
// business only: the package itself never imports parse.
func load(t *testing.T, scenario string) *analysis.Model {
	t.Helper()
	loadMu.Lock()
	defer loadMu.Unlock()
	if m := models[scenario]; m != nil {
		return m
	}
	m := tracetest.Load(t, tracetest.Real(scenario, "ftrace.txt.xz"), "ftrace.txt.xz").Model
	models[scenario] = m
	return m
}

// writeParse writes m's profile and parses it back.
func writeParse(t *testing.T, m *analysis.Model, file string) *profile.Profile {
	t.Helper()
	var buf bytes.Buffer
	if err := pprofexport.Write(&buf, m, file); err != nil {
		t.Fatal(err)
	}
	if b := buf.Bytes(); len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("output is not gzip-compressed")
	}
	p, err := profile.Parse(&buf)
	if err != nil {
		t.Fatalf("profile.Parse: %v", err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatalf("CheckValid after the round trip: %v", err)
	}
	return p
}

type totals struct{ n, ns int64 }

// modelTotals sums the model's runs per class and CPU, directly from its
// slices.
func modelTotals(m *analysis.Model) map[string]totals {
	out := map[string]totals{}
	add := func(cpu int32, class string, ns int64) {
		for _, k := range []string{"", class, fmt.Sprintf("CPU %d", cpu), fmt.Sprintf("CPU %d/%s", cpu, class)} {
			x := out[k]
			x.n++
			x.ns += ns
			out[k] = x
		}
	}
	for _, h := range m.Handlers {
		add(h.CPU, pprofexport.ClassDeviceIRQ, h.EndNS-h.StartNS)
	}
	for _, s := range m.Sysvecs {
		add(s.CPU, pprofexport.ClassSysvec, s.EndNS-s.StartNS)
	}
	for _, s := range m.Softirqs {
		add(s.CPU, pprofexport.ClassSoftirq, s.EndNS-s.StartNS)
	}
	return out
}

// profileTotals sums the parsed profile's samples the same way, reading
// the CPU and class from the stack (root first) and checking the labels
// agree with it.
func profileTotals(t *testing.T, p *profile.Profile) map[string]totals {
	t.Helper()
	out := map[string]totals{}
	for _, s := range p.Sample {
		if len(s.Location) != 3 {
			t.Fatalf("sample has %d frames, want 3", len(s.Location))
		}
		fn := func(i int) string { return s.Location[i].Line[0].Function.Name }
		root, class, leaf := fn(2), fn(1), fn(0)
		if want := fmt.Sprintf("CPU %d", s.NumLabel["cpu"][0]); root != want {
			t.Errorf("root frame %q, cpu label says %q", root, want)
		}
		if s.Label["class"][0] != class {
			t.Errorf("class frame %q, label %q", class, s.Label["class"][0])
		}
		if irq, ok := s.NumLabel["irq"]; ok != (class == pprofexport.ClassDeviceIRQ) || ok && !strings.HasPrefix(leaf, fmt.Sprintf("irq %d ", irq[0])) {
			t.Errorf("leaf %q (class %s) has irq label %v", leaf, class, irq)
		}
		for _, k := range []string{"", class, root, root + "/" + class} {
			x := out[k]
			x.n += s.Value[pprofexport.ValueInterrupts]
			x.ns += s.Value[pprofexport.ValueTime]
			out[k] = x
		}
	}
	return out
}

func TestRealTotals(t *testing.T) {
	for _, sc := range realTraces {
		t.Run(sc, func(t *testing.T) {
			m := load(t, sc)
			p := writeParse(t, m, "ftrace.txt.xz")
			want, got := modelTotals(m), profileTotals(t, p)
			if len(m.Handlers) == 0 || len(m.Sysvecs) == 0 {
				t.Fatalf("trace has %d handler runs and %d system vector runs; the test needs both", len(m.Handlers), len(m.Sysvecs))
			}
			if sc == "qemu-affinity" && len(m.Softirqs) == 0 {
				t.Fatalf("qemu-affinity has no softirq runs")
			}
			if len(got) != len(want) {
				t.Errorf("profile has %d (CPU, class) groups, the model %d", len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("%q: profile %d runs / %d ns, model %d / %d", k, got[k].n, got[k].ns, w.n, w.ns)
				}
			}
			if n := int64(len(m.Handlers) + len(m.Sysvecs) + len(m.Softirqs)); got[""].n != n {
				t.Errorf("total interrupts %d, want %d", got[""].n, n)
			}
			if p.DefaultSampleType != "time" || p.SampleType[1].Unit != "nanoseconds" || p.SampleType[0].Type != "interrupts" {
				t.Errorf("sample types %v %v, default %q", p.SampleType[0], p.SampleType[1], p.DefaultSampleType)
			}
		})
	}
}

// TestDeviceVectors: every device irq sample of the real traces whose irq
// had a known vector on that CPU carries it.
func TestDeviceVectors(t *testing.T) {
	m := load(t, "qemu-affinity")
	p, err := pprofexport.Build(m, "")
	if err != nil {
		t.Fatal(err)
	}
	with, without := 0, 0
	for _, s := range p.Sample {
		if s.Label["class"][0] != pprofexport.ClassDeviceIRQ {
			continue
		}
		if len(s.NumLabel["vector"]) == 1 {
			with++
			if v := s.NumLabel["vector"][0]; v < 32 || v > 255 {
				t.Errorf("vector label %d is not an x86 device vector", v)
			}
		} else {
			without++
		}
	}
	if with == 0 {
		t.Errorf("no device irq sample has a vector label (%d without)", without)
	}
}

// TestSmall checks the stack order, labels and values on a hand-built
// model, independent of the parser.
func TestSmall(t *testing.T) {
	p := writeParse(t, smallModel(), "small.ftrace")
	var got []string
	for _, s := range p.Sample {
		var st []string
		for i := len(s.Location) - 1; i >= 0; i-- {
			st = append(st, s.Location[i].Line[0].Function.Name)
		}
		got = append(got, fmt.Sprintf("%s %v %v %v", strings.Join(st, " -> "), s.Value, s.Label, s.NumLabel))
	}
	want := []string{
		"CPU 0 -> device irq -> irq 35 virtio2-virtqueues [2 1500] map[class:[device irq]] map[cpu:[0] irq:[35] vector:[34]]",
		"CPU 0 -> system vector -> local_timer [1 300] map[class:[system vector]] map[cpu:[0] vector:[236]]",
		"CPU 1 -> device irq -> irq 35 virtio2-virtqueues [1 700] map[class:[device irq]] map[cpu:[1] irq:[35] vector:[40]]",
		"CPU 1 -> softirq -> TIMER [1 50] map[class:[softirq]] map[cpu:[1]]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Mapping[0].File != "small.ftrace" || p.DurationNanos != 9000 {
		t.Errorf("mapping file %q, duration %d", p.Mapping[0].File, p.DurationNanos)
	}
}

func TestNilModel(t *testing.T) {
	if err := pprofexport.Write(io.Discard, nil, ""); !errors.Is(err, pprofexport.ErrNilModel) {
		t.Errorf("Write(nil) = %v, want ErrNilModel", err)
	}
}

func TestEmptyModel(t *testing.T) {
	p := writeParse(t, &analysis.Model{}, "")
	if len(p.Sample) != 0 {
		t.Errorf("%d samples from an empty model", len(p.Sample))
	}
}

func p32(v int32) *int32 { return &v }
func p64(v int64) *int64 { return &v }

// smallModel: irq 35 on CPU 0 vector 34, moved to CPU 1 vector 40 at
// 5000 (the move completes at 6000); a timer tick and a softirq.
func smallModel() *analysis.Model {
	return &analysis.Model{
		FirstNS: 1000, LastNS: 10000,
		IRQs: []*analysis.IRQ{{
			IRQ: 35, Name: "virtio2-virtqueues",
			Assignments: []analysis.Assignment{
				{CPU: p32(0), Vector: p32(34), StartNS: 1000, EndNS: p64(5000)},
				{CPU: p32(1), Vector: p32(40), StartNS: 5000},
			},
			Migrations: []analysis.Migration{{TS: 5000, FromCPU: 0, FromVector: p32(34), ToCPU: p32(1), ToVector: p32(40), CompletedNS: p64(6000)}},
		}},
		Handlers: []analysis.Invocation{
			{CPU: 0, IRQ: 35, Name: "virtio2-virtqueues", StartNS: 2000, EndNS: 3000},
			// Before the move completes, the old vector still delivers.
			{CPU: 0, IRQ: 35, Name: "virtio2-virtqueues", StartNS: 5500, EndNS: 6000},
			{CPU: 1, IRQ: 35, Name: "virtio2-virtqueues", StartNS: 7000, EndNS: 7700},
		},
		Sysvecs:  []analysis.Invocation{{CPU: 0, IRQ: -1 << 31, Vector: 236, Name: "local_timer", StartNS: 4000, EndNS: 4300}},
		Softirqs: []analysis.SoftirqRun{{CPU: 1, Vec: 1, Action: "TIMER", StartNS: 8000, EndNS: 8050}},
	}
}

// TestReportGolden renders the real qemu-affinity profile with pprof's own
// report generator (the public driver package, as `go tool pprof` runs
// it) and compares the text with goldens.
func TestReportGolden(t *testing.T) {
	m := load(t, "qemu-affinity")
	p := writeParse(t, m, "ftrace.txt.xz")
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"qemu-affinity.top.golden", []string{"-top"}},
		{"qemu-affinity.top-interrupts.golden", []string{"-top", "-sample_index=interrupts"}},
		{"qemu-affinity.tags.golden", []string{"-tags"}},
		{"qemu-affinity.traces-cpu0.golden", []string{"-traces", "-tagfocus=cpu=0", "-nodecount=4"}},
	} {
		t.Run(c.golden, func(t *testing.T) {
			got := pprofReport(t, p, c.args)
			checkGolden(t, filepath.Join("testdata", c.golden), got)
		})
	}
}

// pprofReport runs the pprof driver on p with args and returns its
// report.
func pprofReport(t *testing.T, p *profile.Profile, args []string) []byte {
	t.Helper()
	out := &memWriter{}
	fs := &flagSet{FlagSet: flag.NewFlagSet("pprof", flag.ContinueOnError), args: append(append([]string{}, args...), "-output=report", "profile")}
	ui := &quietUI{}
	err := driver.PProf(&driver.Options{
		Flagset: fs,
		Fetch:   fetcher{p},
		Writer:  out,
		UI:      ui,
	})
	if err != nil {
		t.Fatalf("pprof %v: %v (%s)", args, err, ui.errs.String())
	}
	return out.buf.Bytes()
}

type fetcher struct{ p *profile.Profile }

func (f fetcher) Fetch(string, time.Duration, time.Duration) (*profile.Profile, string, error) {
	return f.p.Copy(), "", nil
}

type memWriter struct{ buf bytes.Buffer }

func (w *memWriter) Open(string) (io.WriteCloser, error) { return nopCloser{&w.buf}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// flagSet adapts a flag.FlagSet to driver.FlagSet with fixed arguments.
type flagSet struct {
	*flag.FlagSet
	args  []string
	usage []string
}

func (f *flagSet) StringList(o, d, c string) *[]*string { return &[]*string{f.String(o, d, c)} }
func (f *flagSet) ExtraUsage() string                   { return strings.Join(f.usage, "\n") }
func (f *flagSet) AddExtraUsage(eu string)              { f.usage = append(f.usage, eu) }
func (f *flagSet) Parse(usage func()) []string {
	f.FlagSet.Usage = usage
	if err := f.FlagSet.Parse(f.args); err != nil {
		return nil
	}
	return f.FlagSet.Args()
}

// quietUI is a non-interactive driver.UI that keeps errors.
type quietUI struct{ errs bytes.Buffer }

func (*quietUI) ReadLine(string) (string, error)     { return "", io.EOF }
func (*quietUI) Print(...any)                        {}
func (u *quietUI) PrintErr(args ...any)              { fmt.Fprintln(&u.errs, args...) }
func (*quietUI) IsTerminal() bool                    { return false }
func (*quietUI) WantBrowser() bool                   { return false }
func (*quietUI) SetAutoComplete(func(string) string) {}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}

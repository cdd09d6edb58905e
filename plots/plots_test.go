package plots_test

// The tests render every kind on the real traces of ../testdata and
// compare a few PNGs with goldens (with a tolerance: font rasterisation
// may differ by a few pixels across platforms). The numbers behind the
// plots are tested with text goldens in package analysis (hist_test.go,
// diff_test.go). Package parse is imported here only to load the traces;
// package plots itself never imports it.

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/irqtrace/irqtrace/internal/tracetest"

	"github.com/irqtrace/irqtrace/internal/golden"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/plots"
	"github.com/irqtrace/irqtrace/rules"
)

var keep = flag.String("keep", "", "also write every rendered image into this directory (to look at them)")

type loadedTrace struct {
	m  *analysis.Model
	fs []rules.Finding
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*loadedTrace{}
)

// load parses a trace and builds its model and findings (cached).
func load(t testing.TB, path string) *loadedTrace {
	t.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if l := cache[path]; l != nil {
		return l
	}
	name := strings.TrimPrefix(path, "../")
	m := tracetest.Load(t, path, name).Model
	l := &loadedTrace{m: m, fs: rules.Run(rules.Default(rules.DefaultOptions), &rules.Input{Model: m, File: name})}
	cache[path] = l
	return l
}

var realTraces = []string{
	"../testdata/qemu-hotplug/ftrace.txt.xz",
	"../testdata/qemu-affinity/ftrace.txt.xz",
	"../testdata/qemu-managed/perf-script.txt.xz",
	"../testdata/live/ftrace-irqinfo.txt",
}

func render(t *testing.T, kind plots.Kind, format, path string, o plots.Options) []byte {
	t.Helper()
	l := load(t, path)
	o.Trace = strings.TrimPrefix(path, "../")
	o.Findings = l.fs
	var b bytes.Buffer
	if err := plots.Write(&b, format, kind, l.m, o); err != nil {
		t.Fatal(err)
	}
	if *keep != "" {
		name := strings.NewReplacer("../testdata/", "", "/", "-", ".txt", "", ".xz", "").Replace(path)
		if err := os.WriteFile(filepath.Join(*keep, name+"."+string(kind)+"."+format), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func writeKeep(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(*keep, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRealTraces renders every kind of every real trace as PNG and SVG
// and checks that the images are well formed and not blank.
func TestRealTraces(t *testing.T) {
	for _, path := range realTraces {
		for _, kind := range plots.Kinds() {
			t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path)+"/"+string(kind), func(t *testing.T) {
				raw := render(t, kind, "png", path, plots.Options{})
				img, err := png.Decode(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("PNG does not decode: %v", err)
				}
				if b := img.Bounds(); b.Dx() != 1152 || b.Dy() < 300 || b.Dy() > 4000 {
					t.Errorf("PNG is %dx%d, want 1152 wide and 300..4000 high", b.Dx(), b.Dy())
				}
				if ink := inkFraction(img); ink < 0.01 {
					t.Errorf("PNG is %.2f%% non-white: blank?", 100*ink)
				}
				svg := render(t, kind, "svg", path, plots.Options{})
				if !bytes.HasPrefix(svg, []byte("<?xml")) || !bytes.Contains(svg, []byte("</svg>")) {
					t.Errorf("SVG output is not an SVG document (%d bytes)", len(svg))
				}
			})
		}
	}
}

// TestGoldenPNG compares a few renderings with testdata/*.golden.png.
func TestGoldenPNG(t *testing.T) {
	for _, tc := range []struct {
		name, path string
		kind       plots.Kind
		o          plots.Options
	}{
		{"qemu-hotplug.latency", "../testdata/qemu-hotplug/ftrace.txt.xz", plots.Latency, plots.Options{Top: 3}},
		{"qemu-hotplug.timeline", "../testdata/qemu-hotplug/ftrace.txt.xz", plots.Timeline, plots.Options{Top: 6}},
		{"qemu-hotplug.hotplug", "../testdata/qemu-hotplug/ftrace.txt.xz", plots.Hotplug, plots.Options{Top: 8}},
		{"live-irqinfo.latency-irq36", "../testdata/live/ftrace-irqinfo.txt", plots.Latency, plots.Options{IRQs: []int32{36}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(t, tc.kind, "png", tc.path, tc.o)
			comparePNG(t, filepath.Join("testdata", tc.name+".golden.png"), got)
		})
	}
}

// comparePNG compares got with the golden PNG at path: same size, and at
// most 0.5% of the pixels differing by more than 10% in any channel.
func comparePNG(t *testing.T, path string, got []byte) {
	t.Helper()
	if golden.Updating() {
		golden.Write(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	a, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	b, err := png.Decode(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	if frac, ok := pngDiff(a, b, 0.10); !ok || frac > 0.005 {
		gotPath := strings.TrimSuffix(path, ".golden.png") + ".got.png"
		_ = os.WriteFile(gotPath, got, 0o644)
		t.Errorf("%s: %.2f%% of the pixels differ (size match %v); got written to %s (run with -update after review)", path, 100*frac, ok, gotPath)
	}
}

// pngDiff returns the fraction of pixels whose colour differs by more
// than tol (0..1) in some channel, and false if the sizes differ.
func pngDiff(a, b image.Image, tol float64) (float64, bool) {
	if a.Bounds() != b.Bounds() {
		return 1, false
	}
	bd := a.Bounds()
	lim := uint32(tol * 0xffff)
	diff := 0
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			for _, d := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
				if absDiff(d[0], d[1]) > lim {
					diff++
					break
				}
			}
		}
	}
	return float64(diff) / float64(bd.Dx()*bd.Dy()), true
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// inkFraction is the fraction of pixels that are not (near) white.
func inkFraction(img image.Image) float64 {
	bd := img.Bounds()
	n := 0
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			if c.Y < 240 {
				n++
			}
		}
	}
	return float64(n) / float64(bd.Dx()*bd.Dy())
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path, want string
		err        bool
	}{
		{"a.png", "png", false}, {"dir/A.SVG", "svg", false}, {"a.pdf", "", true}, {"a", "", true},
	} {
		got, err := plots.FormatOf(tc.path)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("FormatOf(%q) = %q, %v", tc.path, got, err)
		}
	}
}

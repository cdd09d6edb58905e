package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPlotText compares plot's text renderings (-o -, --text) on the real
// qemu traces with goldens, and checks the 80-column limit.
func TestPlotText(t *testing.T) {
	chdirRoot(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"qemu-hotplug.plot-latency-text", []string{"plot", qemuHotplug, "--kind", "latency", "--top", "3", "-o", "-"}},
		{"qemu-hotplug.plot-latency-irq35-text", []string{"plot", qemuHotplug, "--kind", "latency", "--irq", "35", "--text"}},
		{"qemu-hotplug.plot-hotplug-occupancy-text", []string{"plot", qemuHotplug, "--kind", "hotplug,occupancy", "--top", "5", "--text"}},
		{"qemu-affinity.plot-latency-text", []string{"plot", "testdata/qemu-affinity/ftrace.txt.xz", "--kind", "latency", "--top", "2", "-o", "-"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err != nil {
				t.Fatalf("irqtrace %s: %v", strings.Join(tc.args, " "), r.err)
			}
			checkGolden(t, tc.golden+".golden", r.stdout)
			for i, l := range strings.Split(r.stdout, "\n") {
				if len([]rune(l)) > 80 {
					t.Errorf("line %d is %d columns: %q", i+1, len([]rune(l)), l)
				}
			}
		})
	}
}

// TestPlotFiles draws every kind of the real hotplug trace as PNG and SVG
// through the command, into a directory and into single files.
func TestPlotFiles(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	r := run(t, nil, "plot", qemuHotplug, "-o", dir+"/")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, k := range []string{"latency", "timeline", "occupancy", "hotplug"} {
		checkPNG(t, filepath.Join(dir, k+".png"))
		if !strings.Contains(r.stderr, "wrote "+filepath.Join(dir, k+".png")) {
			t.Errorf("stderr does not list %s.png: %q", k, r.stderr)
		}
	}
	svg := filepath.Join(dir, "t.svg")
	if r := run(t, nil, "plot", qemuHotplug, "--kind", "timeline", "--irq", "35,38", "-o", svg); r.err != nil {
		t.Fatal(r.err)
	}
	b, err := os.ReadFile(svg)
	if err != nil || !bytes.Contains(b, []byte("</svg>")) {
		t.Errorf("%s is not an SVG document: %v", svg, err)
	}
}

// TestAnalyzePlots checks that analyze --plots writes the standard set and
// leaves the report unchanged.
func TestAnalyzePlots(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	plain := run(t, nil, "analyze", qemuHotplug)
	with := run(t, nil, "analyze", "--plots", dir, qemuHotplug)
	if plain.err != nil || with.err != nil {
		t.Fatal(plain.err, with.err)
	}
	if plain.stdout != with.stdout {
		t.Error("analyze --plots changed the report")
	}
	for _, k := range []string{"latency", "timeline", "occupancy", "hotplug"} {
		checkPNG(t, filepath.Join(dir, k+".png"))
	}
	// Several files: one set per file, named after it.
	dir2 := t.TempDir()
	r := run(t, nil, "analyze", "--plots", dir2, qemuHotplug, "testdata/qemu-managed/ftrace.txt.xz")
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkPNG(t, filepath.Join(dir2, "qemu-managed-ftrace.hotplug.png"))
	checkPNG(t, filepath.Join(dir2, "qemu-hotplug-ftrace.latency.png"))
}

// TestDiff compares diff's report on two renderings of the same run (the
// ftrace instance and trace-cmd's top-level buffer: different clocks and
// ring buffers, so the latencies really differ) and on two scenarios,
// with goldens, and draws the overlay.
func TestDiff(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"qemu-hotplug.diff-tcreport", []string{"diff", qemuHotplug, "testdata/qemu-hotplug/trace-cmd-report.txt.xz", "--plot", filepath.Join(dir, "d.png")}},
		{"qemu-hotplug.diff-iommu", []string{"diff", qemuHotplug, "testdata/qemu-iommu/ftrace.txt.xz", "--plot", filepath.Join(dir, "d.svg")}},
		{"qemu-hotplug.diff-self", []string{"diff", qemuHotplug, qemuHotplug}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err != nil {
				t.Fatalf("irqtrace %s: %v", strings.Join(tc.args, " "), r.err)
			}
			checkGolden(t, tc.golden+".golden", r.stdout)
			for i, l := range strings.Split(r.stdout, "\n") {
				if len([]rune(l)) > 80 {
					t.Errorf("line %d is %d columns: %q", i+1, len([]rune(l)), l)
				}
			}
		})
	}
	checkPNG(t, filepath.Join(dir, "d.png"))
}

func TestPlotErrors(t *testing.T) {
	chdirRoot(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"plot", qemuHotplug, "--kind", "pie", "-o", "x.png"}, "--kind: unknown plot kind"},
		{[]string{"plot", qemuHotplug, "--kind", "latency"}, "missing -o"},
		{[]string{"plot", qemuHotplug, "--kind", "latency", "-o", "x.pdf"}, "-o: x.pdf: unknown image format"},
		{[]string{"plot", qemuHotplug, "--kind", "latency,timeline", "-o", "x.png"}, "several kinds go into a directory"},
		{[]string{"plot", qemuHotplug, "--kind", "timeline", "-o", "-"}, "no text rendering"},
		{[]string{"plot", qemuHotplug, qemuHotplug, "-o", "x.png"}, "give one FILE"},
		{[]string{"diff", qemuHotplug}, "give BEFORE and AFTER"},
		{[]string{"diff", qemuHotplug, qemuHotplug, "--plot", "x.jpg"}, "--plot:"},
	} {
		r := run(t, nil, tc.args...)
		if r.err == nil || !strings.Contains(r.err.Error(), tc.want) || exitCode(r.err) != 2 {
			t.Errorf("irqtrace %s: err %v (exit %d), want a usage error containing %q", strings.Join(tc.args, " "), r.err, exitCode(r.err), tc.want)
		}
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Error(err)
		return
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if img.Bounds().Dx() < 1000 || img.Bounds().Dy() < 300 {
		t.Errorf("%s is %v", path, img.Bounds())
	}
}

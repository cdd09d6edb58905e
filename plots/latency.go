package plots

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/irqtrace/irqtrace/analysis"
)

// latencyKind is one row of the latency figure.
type latencyKind struct {
	kind  string // analysis.Latency.Kind
	title string // what is measured
	what  string // what a distribution is one of, for "top N of M ..."
	none  string // the note when the trace has none
}

var latencyKinds = []latencyKind{
	{"irq", "device irq handler duration", "irqs", "no device irq handler runs (irq:irq_handler_entry/exit)"},
	{"sysvec", "system vector handler duration", "vectors", "no system vector runs (irq_vectors:*_entry/exit)"},
	{"softirq", "softirq raise → entry latency", "softirqs", "no softirq raise → entry pairs (irq:softirq_raise/entry)"},
	{"ipi", "IPI send → receive latency", "IPI kinds", "no IPI send → receive pairs (ipi:ipi_send_cpu + irq_vectors entries)"},
}

// binsPerDecade is the resolution of the latency histograms.
const binsPerDecade = 5

// markGlyphs are the glyphs of p50, p99, p99.9 and max on the CDFs.
var markGlyphs = map[string]draw.GlyphDrawer{
	"p50": draw.CircleGlyph{}, "p99": draw.PyramidGlyph{}, "p99.9": draw.SquareGlyph{}, "max": draw.CrossGlyph{},
}

// series is one distribution of a latency or diff panel.
type series struct {
	label string
	l     analysis.Latency
	color color.Color
	dash  bool
}

func latencyFigure(m *analysis.Model, o Options) *figure {
	top := o.Top
	if top <= 0 {
		top = 5
	}
	ls := m.Latencies()
	type row struct {
		k       latencyKind
		series  []series
		omitted int
	}
	var rows []row
	var notes []string
	for _, k := range latencyKinds {
		var irqs []int32
		if k.kind == "irq" {
			irqs = o.IRQs
		}
		sel, omitted := analysis.HistTop(ls, k.kind, top, irqs)
		if len(sel) == 0 {
			if len(irqs) > 0 {
				notes = append(notes, fmt.Sprintf("no handler runs of irq %s", joinIRQs(irqs)))
			} else {
				notes = append(notes, k.none)
			}
			continue
		}
		r := row{k: k, omitted: omitted}
		for i, l := range sel {
			r.series = append(r.series, series{label: l.Name, l: l, color: colorOf(i)})
		}
		rows = append(rows, r)
	}
	f := &figure{
		title:    "Interrupt latency: " + o.Trace,
		subtitle: "histograms (5 bins per decade) and tail-stretched CDFs; log time axis",
		header: []legendItem{
			{"p50", grey, markGlyphs["p50"]}, {"p99", grey, markGlyphs["p99"]},
			{"p99.9", grey, markGlyphs["p99.9"]}, {"max", grey, markGlyphs["max"]},
		},
	}
	rowH := 3.1 * vg.Inch
	f.height = vg.Length(max(1, len(rows)))*rowH + 1.1*vg.Inch + vg.Length(len(notes))*14
	for _, r := range rows {
		if r.omitted > 0 {
			notes = append(notes, fmt.Sprintf("%s: top %d of %d %s by total time shown", r.k.title, len(r.series), len(r.series)+r.omitted, r.k.what))
		}
	}
	for _, r := range rows {
		for _, s := range r.series {
			notes = append(notes, zeroNotes(s.label, s.l.Values, o.Raw)...)
		}
	}
	f.notes = notes
	f.draw = func(dc draw.Canvas) {
		if len(rows) == 0 {
			emptyPanel(dc, "no latency samples in this trace:\nno handler runs, system vectors, softirq raises or IPIs")
			return
		}
		h := (dc.Max.Y - dc.Min.Y) / vg.Length(len(rows))
		for i, r := range rows {
			rc := draw.Crop(dc, 0, 0, vg.Length(len(rows)-1-i)*h, -vg.Length(i)*h)
			title := r.k.title
			if r.omitted > 0 {
				title += fmt.Sprintf(" (top %d of %d)", len(r.series), len(r.series)+r.omitted)
			}
			distRow(rc, title, r.series, o.Raw)
		}
	}
	return f
}

// distRow draws one row: histogram, CDF and the numbers table.
func distRow(dc draw.Canvas, title string, ss []series, raw bool) {
	w := dc.Max.X - dc.Min.X
	tableW := w * 0.28
	plotsC := draw.Crop(dc, 0, -tableW, 0, 0)
	tableC := draw.Crop(dc, w-tableW+8, 0, 0, 0)

	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range ss {
		bins, _ := analysis.HistLogBins(s.l.Values, binsPerDecade, analysis.HistZeroAt(s.l.Values))
		if len(bins) > 0 {
			lo, hi = math.Min(lo, bins[0].Lo), math.Max(hi, bins[len(bins)-1].Hi)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	hist := newPlot(title, "duration (log scale)", "% of samples per bin")
	cdf := newPlot("CDF (tail stretched)", "duration (log scale)", "samples at or below")
	for _, p := range []*plot.Plot{hist, cdf} {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logDurTicks{raw}
		p.X.Min, p.X.Max = lo, hi
		p.Add(plotter.NewGrid())
	}
	hist.Y.Min = 0
	hist.Y.Tick.Marker = pctTicks{}
	ymax := 0.0
	for _, s := range ss {
		bins, _ := analysis.HistLogBins(s.l.Values, binsPerDecade, analysis.HistZeroAt(s.l.Values))
		var pts plotter.XYs
		for _, b := range bins {
			pct := 100 * float64(b.Count) / float64(max(1, s.l.Count))
			ymax = math.Max(ymax, pct)
			pts = append(pts, plotter.XY{X: b.Lo, Y: pct}, plotter.XY{X: b.Hi, Y: pct})
		}
		if len(pts) == 0 {
			continue
		}
		// Close the outline down to zero at both ends.
		pts = append(plotter.XYs{{X: pts[0].X, Y: 0}}, append(pts, plotter.XY{X: pts[len(pts)-1].X, Y: 0})...)
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.Color = s.color
		ln.Width = 1.6
		if s.dash {
			ln.Dashes = []vg.Length{5, 3}
		}
		if len(ss) == 1 {
			ln.FillColor = fade(s.color, 70)
		}
		hist.Add(ln)
	}
	hist.Y.Max = ymax * 1.08

	// CDF on a tail-stretched scale: y = -log10(1-F), capped.
	cap := 0.999
	for _, s := range ss {
		if s.l.Count >= 5000 {
			cap = 0.9999
		}
	}
	cdf.Y.Scale = tailScale{cap}
	cdf.Y.Tick.Marker = tailTicks{cap}
	cdf.Y.Min, cdf.Y.Max = 0, cap
	for _, s := range ss {
		pts := plotter.XYs{}
		cp := analysis.HistCDF(s.l.Values, 400)
		if len(cp) == 0 {
			continue
		}
		z := float64(analysis.HistZeroAt(s.l.Values))
		at := func(v int64) float64 {
			if v < 1 {
				return z
			}
			return float64(v)
		}
		pts = append(pts, plotter.XY{X: at(cp[0].Value), Y: 0})
		for _, q := range cp {
			pts = append(pts, plotter.XY{X: at(q.Value), Y: math.Min(q.Frac, cap)})
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.StepStyle = plotter.PostStep
		ln.Color = s.color
		ln.Width = 1.6
		if s.dash {
			ln.Dashes = []vg.Length{5, 3}
		}
		cdf.Add(ln)
		for _, mk := range analysis.HistMarks(s.l) {
			first := strings.Split(mk.Label, "=")[0]
			sc, err := plotter.NewScatter(plotter.XYs{{X: at(mk.Value), Y: math.Min(mk.Frac, cap)}})
			if err != nil {
				continue
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: s.color, Radius: 4.5, Shape: markGlyphs[first]}
			cdf.Add(sc)
		}
	}
	row := [][]*plot.Plot{{hist, cdf}}
	cs := plot.Align(row, draw.Tiles{Rows: 1, Cols: 2, PadX: 14, PadY: 4, PadTop: 2, PadBottom: 2}, plotsC)
	hist.Draw(cs[0][0])
	cdf.Draw(cs[0][1])
	numbersTable(tableC, ss, raw)
}

// numbersTable lists each series' count and percentiles beside the
// panels: two lines per series, coloured like its curves.
func numbersTable(dc draw.Canvas, ss []series, raw bool) {
	ns := textStyle(boldFont, smallSize, color.Black)
	vs := textStyle(sansFont, smallSize, grey)
	ns.YAlign, vs.YAlign = draw.YTop, draw.YTop
	lh := ns.Height("Xg") + 2
	y := dc.Max.Y - 26
	maxW := dc.Max.X - dc.Min.X - 16
	for _, s := range ss {
		if y-2*lh < dc.Min.Y {
			break
		}
		r := lh * 0.35
		cx, cy := dc.Min.X+r, y-lh/2+1
		dc.FillPolygon(s.color, []vg.Point{{X: cx - r, Y: cy - r}, {X: cx + r, Y: cy - r}, {X: cx + r, Y: cy + r}, {X: cx - r, Y: cy + r}})
		name := fmt.Sprintf("%s (n=%d)", s.label, s.l.Count)
		for ns.Width(name) > maxW && len(name) > 8 {
			name = name[:len(name)-5] + "…)"
		}
		dc.FillText(ns, vg.Point{X: dc.Min.X + 2*r + 5, Y: y}, name)
		y -= lh
		res := analysis.HistResolution(s.l.Values)
		d := func(v int64) string {
			if v == 0 && res > 1 {
				return "<" + durLabel(float64(res), raw)
			}
			return durLabel(float64(v), raw)
		}
		v := fmt.Sprintf("p50 %s   p99 %s   p99.9 %s   max %s", d(s.l.P50), d(s.l.P99), d(s.l.P999), d(s.l.Max))
		if vs.Width(v) > maxW {
			v = fmt.Sprintf("p50 %s  p99 %s  max %s", d(s.l.P50), d(s.l.P99), d(s.l.Max))
		}
		dc.FillText(vs, vg.Point{X: dc.Min.X + 2*r + 5, Y: y}, v)
		y -= lh + 4
	}
}

// tailScale maps a CDF value F to -log10(1-F), stretching the tail: 50%,
// 90%, 99% and 99.9% are evenly spaced. F is capped at Cap.
type tailScale struct{ Cap float64 }

func (t tailScale) Normalize(lo, hi, x float64) float64 {
	f := func(v float64) float64 { return -math.Log10(1 - math.Min(math.Max(v, 0), t.Cap)) }
	return (f(x) - f(lo)) / (f(hi) - f(lo))
}

type tailTicks struct{ Cap float64 }

func (t tailTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for _, v := range []struct {
		f float64
		l string
	}{{0, "0%"}, {.5, "50%"}, {.9, "90%"}, {.99, "99%"}, {.999, "99.9%"}, {.9999, "99.99%"}} {
		if v.f <= t.Cap+1e-12 {
			out = append(out, plot.Tick{Value: v.f, Label: v.l})
		}
	}
	return out
}

func joinIRQs(irqs []int32) string {
	s := make([]string, len(irqs))
	for i, q := range irqs {
		s[i] = fmt.Sprint(q)
	}
	return strings.Join(s, ", ")
}

// zeroNotes says where zero samples (below the clock's resolution) of a
// distribution are drawn, if it has any.
func zeroNotes(label string, values []int64, raw bool) []string {
	_, zeros := analysis.HistLogBins(values, binsPerDecade, analysis.HistZeroAt(values))
	if zeros == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s: %s of 0 (below the trace's %s resolution) drawn at %s", label, plural(zeros, "sample", "samples"),
		durLabel(float64(analysis.HistResolution(values)), raw), durLabel(float64(analysis.HistZeroAt(values)), raw))}
}

package plots

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/irqtrace/irqtrace/analysis"
)

var (
	allocC   = color.NRGBA{R: 31, G: 119, B: 180, A: 255}
	managedC = color.NRGBA{R: 44, G: 160, B: 44, A: 255}
	movingC  = color.NRGBA{R: 255, G: 127, B: 14, A: 255}
)

func occupancyFigure(m *analysis.Model, o Options) *figure {
	top := o.Top
	if top <= 0 {
		top = 8
	}
	occ := analysis.VectorOccupancy(m)
	shown := occ
	if len(occ) > top {
		// The CPUs with the highest peaks, shown in CPU order.
		shown = append([]analysis.CPUOccupancy(nil), occ...)
		sort.SliceStable(shown, func(i, j int) bool { return shown[i].Peak > shown[j].Peak })
		shown = shown[:top]
		sort.Slice(shown, func(i, j int) bool { return shown[i].CPU < shown[j].CPU })
	}
	f := &figure{
		title:    "Vectors allocated per CPU: " + o.Trace,
		subtitle: "number of vectors in use, as the trace saw them assigned (vector_update, vector_activate)",
		header: []legendItem{
			{label: "allocated (owned + moving)", color: fade(allocC, 120)},
			{label: "managed", color: managedC},
			{label: "moving (old vector of a move)", color: movingC},
			{label: "CPU offline", color: color.Gray{Y: 170}},
		},
		notes: []string{"vectors assigned before the trace began (irqs first seen already in use) are not counted: their vector is unknown"},
	}
	if len(occ) > len(shown) {
		f.notes = append(f.notes, fmt.Sprintf("%d of %d CPUs shown (highest peak first)", len(shown), len(occ)))
	}
	panelH := 1.45 * vg.Inch
	f.height = vg.Length(max(1, len(shown)))*panelH + 1.5*vg.Inch + vg.Length(len(f.notes))*14
	x0, x1 := nsToX(m.FirstNS, o.Raw), nsToX(m.LastNS, o.Raw)
	if x1 <= x0 {
		x1 = x0 + 1
	}
	peak := 1
	for _, c := range shown {
		peak = max(peak, c.Peak)
	}
	var rows [][]*plot.Plot
	for i, c := range shown {
		xl := ""
		if i == len(shown)-1 {
			xl = timeAxisLabel(o.Raw)
		}
		p := newPlot("", xl, fmt.Sprintf("CPU %d", c.CPU))
		p.X.Tick.Marker = secondsTicks{}
		p.X.Min, p.X.Max = x0, x1
		p.Y.Min, p.Y.Max = 0, float64(peak)*1.15+0.5
		p.Y.Tick.Marker = intTicks{}
		if i < len(shown)-1 {
			p.X.Tick.Label.Color = color.Transparent
		}
		p.Add(plotter.NewGrid())
		cc := c
		p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
			tx, _ := p.Transforms(&dc)
			for _, iv := range cc.Offline {
				fillRect(dc, tx(nsToX(iv[0], o.Raw)), tx(nsToX(iv[1], o.Raw)), dc.Min.Y, dc.Max.Y, 1, color.Gray{Y: 215})
			}
		}))
		steps := func(val func(analysis.OccupancyStep) int) plotter.XYs {
			var pts plotter.XYs
			for _, s := range cc.Steps {
				pts = append(pts, plotter.XY{X: nsToX(s.TS, o.Raw), Y: float64(val(s))})
			}
			return pts
		}
		for _, l := range []struct {
			val  func(analysis.OccupancyStep) int
			clr  color.Color
			fill bool
		}{
			{func(s analysis.OccupancyStep) int { return s.Allocated() }, allocC, true},
			{func(s analysis.OccupancyStep) int { return s.Managed }, managedC, false},
		} {
			pts := steps(l.val)
			if len(pts) == 0 {
				continue
			}
			ln, err := plotter.NewLine(pts)
			if err != nil {
				continue
			}
			ln.StepStyle = plotter.PostStep
			ln.Color = l.clr
			ln.Width = 1.5
			if l.fill {
				ln.FillColor = fade(l.clr, 60)
			}
			p.Add(ln)
		}
		// Moving slots as bars at least 2 points wide: a move is
		// usually over in milliseconds, far below a pixel of the axis.
		p.Add(plotterFunc(func(dc draw.Canvas, p *plot.Plot) {
			tx, ty := p.Transforms(&dc)
			for i, s := range cc.Steps {
				if s.Moving == 0 || i+1 == len(cc.Steps) {
					continue
				}
				fillRect(dc, tx(nsToX(s.TS, o.Raw)), tx(nsToX(cc.Steps[i+1].TS, o.Raw)), ty(0), ty(float64(s.Moving)), 2.5, movingC)
			}
		}))
		rows = append(rows, []*plot.Plot{p})
	}
	f.draw = func(dc draw.Canvas) {
		if len(rows) == 0 {
			emptyPanel(dc, "no vector assignments in this trace\n(record irq_vectors:vector_update and vector_activate)")
			return
		}
		cs := plot.Align(rows, draw.Tiles{Rows: len(rows), Cols: 1, PadY: 6}, dc)
		for i := range rows {
			rows[i][0].Draw(cs[i][0])
		}
	}
	return f
}

// intTicks ticks a small count axis at integers, labelling at most about
// five of them.
type intTicks struct{}

func (intTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStep(hi-lo, 5)
	var out []plot.Tick
	for v := 0.0; v <= hi; v += step {
		if v >= lo {
			out = append(out, plot.Tick{Value: v, Label: fmt.Sprint(v)})
		}
	}
	return out
}

// niceStep is niceStepF for counts: at least 1.
func niceStep(span float64, n int) float64 { return max(1, niceStepF(span, n)) }

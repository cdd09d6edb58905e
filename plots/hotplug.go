package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/irqtrace/irqtrace/analysis"
)

// maxHotplugCPUs is how many CPUs get their own colour in the hotplug
// figure; the others are left out and counted in a note.
const maxHotplugCPUs = 8

func hotplugFigure(m *analysis.Model, o Options) *figure {
	top := o.Top
	if top <= 0 {
		top = 16
	}
	cycles := analysis.HotplugCycles(m)
	// CPUs with the most cycles get colours; the rest are left out.
	perCPU := map[int32]int{}
	for _, c := range cycles {
		perCPU[c.CPU]++
	}
	var cpus []int32
	for c := range perCPU {
		cpus = append(cpus, c)
	}
	sort.Slice(cpus, func(i, j int) bool {
		if perCPU[cpus[i]] != perCPU[cpus[j]] {
			return perCPU[cpus[i]] > perCPU[cpus[j]]
		}
		return cpus[i] < cpus[j]
	})
	droppedCPUs := 0
	if len(cpus) > maxHotplugCPUs {
		droppedCPUs = len(cpus) - maxHotplugCPUs
		cpus = cpus[:maxHotplugCPUs]
	}
	sort.Slice(cpus, func(i, j int) bool { return cpus[i] < cpus[j] })
	cpuIdx := map[int32]int{}
	for i, c := range cpus {
		cpuIdx[c] = i
	}
	var kept []analysis.HotplugCycle
	for _, c := range cycles {
		if _, ok := cpuIdx[c.CPU]; ok {
			kept = append(kept, c)
		}
	}
	stats := analysis.HotplugStepSummary(kept)

	f := &figure{
		title:    "CPU hotplug: cpuhp state durations per cycle: " + o.Trace,
		subtitle: "one dot per state per offline/online cycle, colour = CPU; | = median",
	}
	for _, c := range cpus {
		f.header = append(f.header, legendItem{label: fmt.Sprintf("CPU %d", c), color: colorOf(int(c))})
	}
	if droppedCPUs > 0 {
		f.notes = append(f.notes, fmt.Sprintf("the %d CPUs with the most cycles shown, %d left out", len(cpus), droppedCPUs))
	}
	// The slowest states of each direction (by max), in execution order.
	pick := func(down bool) (out []analysis.HotplugStepStats, total int) {
		var all []analysis.HotplugStepStats
		for _, s := range stats {
			if s.Down == down {
				all = append(all, s)
			}
		}
		sel := append([]analysis.HotplugStepStats(nil), all...)
		sort.SliceStable(sel, func(i, j int) bool { return sel[i].Max > sel[j].Max })
		if len(sel) > top {
			sel = sel[:top]
		}
		want := map[analysis.HotplugStepKey]bool{}
		for _, s := range sel {
			want[s.HotplugStepKey] = true
		}
		for _, s := range all {
			if want[s.HotplugStepKey] {
				out = append(out, s)
			}
		}
		return out, len(all)
	}
	downs, nDown := pick(true)
	ups, nUp := pick(false)
	if nDown > len(downs) || nUp > len(ups) {
		f.notes = append(f.notes, fmt.Sprintf("the %d slowest of %d take-down and %d of %d bring-up states (by max) shown, in execution order",
			len(downs), nDown, len(ups), nUp))
	}
	f.notes = append(f.notes, "a multi-instance state's dot is the sum of its instances in that cycle; nested states (cpuhp_kick_ap_work, bringup_cpu) include the states run on the hotplugged CPU")
	lanes := max(len(downs), len(ups), 1)
	f.height = vg.Length(lanes)*0.3*vg.Inch + 2.6*vg.Inch + 1.4*vg.Inch + vg.Length(len(f.notes))*14

	dur := func(c analysis.HotplugCycle, k analysis.HotplugStepKey) (int64, bool) {
		if c.Down != k.Down {
			return 0, false
		}
		for _, t := range c.Steps {
			if t.Step == k.Step && t.Callback == k.Callback && t.Instances > t.Open {
				return t.DurationNS, true
			}
		}
		return 0, false
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, set := range [][]analysis.HotplugStepStats{downs, ups} {
		for _, s := range set {
			lo = math.Min(lo, math.Max(1, float64(s.Values[0])))
			hi = math.Max(hi, float64(s.Max))
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1e3, 1e6
	}
	lo, hi = math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
	strip := func(title string, set []analysis.HotplugStepStats) *plot.Plot {
		p := newPlot(title, "duration (log scale)", "")
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logDurTicks{o.Raw}
		p.X.Min, p.X.Max = lo, hi
		names := make([]string, len(set))
		for i, s := range set {
			name := fmt.Sprintf("%d %s", s.Step, s.Callback)
			if len([]rune(name)) > 30 {
				name = string([]rune(name)[:29]) + "…"
			}
			names[len(set)-1-i] = name
		}
		if len(names) > 0 {
			p.NominalY(names...)
		}
		p.Y.Tick.Label.Font = p.X.Tick.Label.Font
		p.Y.Min, p.Y.Max = -0.6, float64(max(1, len(set)))-0.4
		p.Add(plotter.NewGrid())
		p.Add(ranger{lo, hi, -0.6, float64(max(1, len(set))) - 0.4})
		p.Add(plotterFunc(func(c draw.Canvas, p *plot.Plot) {
			tx, ty := p.Transforms(&c)
			spread := math.Min(0.6, 0.15*float64(len(cpus)))
			for i, s := range set {
				yc := float64(len(set) - 1 - i)
				for _, cy := range kept {
					d, ok := dur(cy, s.HotplugStepKey)
					if !ok {
						continue
					}
					off := 0.0
					if len(cpus) > 1 {
						off = spread * (float64(cpuIdx[cy.CPU])/float64(len(cpus)-1) - 0.5)
					}
					pt := vg.Point{X: tx(math.Max(lo, float64(d))), Y: ty(yc - off)}
					c.DrawGlyph(draw.GlyphStyle{Color: fade(colorOf(int(cy.CPU)), 200), Radius: 2.6, Shape: draw.CircleGlyph{}}, pt)
				}
				x := tx(math.Max(lo, float64(s.P50)))
				c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: 1.6}, x, ty(yc-0.42), x, ty(yc+0.42))
			}
		}))
		return p
	}
	pd := strip("take-down (offline) states", downs)
	pu := strip("bring-up (online) states", ups)

	// Bottom: each cycle's take-down and bring-up time over the trace.
	pw := newPlot("whole take-down (●) and bring-up (▲) per cycle", timeAxisLabel(o.Raw), "duration")
	pw.X.Tick.Marker = secondsTicks{}
	pw.Y.Tick.Marker = linDurTicks{o.Raw}
	pw.Add(plotter.NewGrid())
	pw.X.Min, pw.X.Max = nsToX(m.FirstNS, o.Raw), nsToX(m.LastNS, o.Raw)
	pw.Y.Min = 0
	for _, c := range cpus {
		for _, down := range []bool{true, false} {
			var pts plotter.XYs
			for _, cy := range kept {
				if cy.CPU == c && cy.Down == down {
					pts = append(pts, plotter.XY{X: nsToX(cy.StartNS, o.Raw), Y: float64(cy.EndNS - cy.StartNS)})
				}
			}
			if len(pts) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(pts)
			if err != nil {
				continue
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: colorOf(int(c)), Radius: 3.5, Shape: draw.CircleGlyph{}}
			if !down {
				sc.GlyphStyle.Shape = draw.PyramidGlyph{}
			}
			pw.Add(sc)
		}
	}
	pw.Y.Max *= 1.1

	f.draw = func(dc draw.Canvas) {
		if len(kept) == 0 {
			emptyPanel(dc, "no CPU hotplug in this trace\n(record cpuhp:cpuhp_enter, cpuhp_multi_enter and cpuhp_exit)")
			return
		}
		bottomH := 2.3 * vg.Inch
		topC := draw.Crop(dc, 0, 0, bottomH+10, 0)
		botC := draw.Crop(dc, 0, 0, 0, -(dc.Max.Y - dc.Min.Y - bottomH))
		cs := plot.Align([][]*plot.Plot{{pd, pu}}, draw.Tiles{Rows: 1, Cols: 2, PadX: 20}, topC)
		pd.Draw(cs[0][0])
		pu.Draw(cs[0][1])
		pw.Draw(botC)
	}
	return f
}

// linDurTicks ticks a linear duration axis from 0 with durations as
// labels.
type linDurTicks struct{ raw bool }

func (t linDurTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	step := niceStep(hi-lo, 5)
	for v := 0.0; v <= hi; v += step {
		if v >= lo {
			lbl := durLabel(v, t.raw)
			if v == 0 {
				lbl = "0"
			}
			out = append(out, plot.Tick{Value: v, Label: lbl})
		}
	}
	return out
}

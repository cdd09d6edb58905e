package plots

import (
	"fmt"
	"image/color"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// maxOfflineLanes is how many CPUs get an offline lane of their own; with
// more, one lane shows when any CPU was offline.
const maxOfflineLanes = 8

var (
	moveC     = color.NRGBA{A: 200}
	stuckC    = color.NRGBA{R: 214, G: 39, B: 40, A: 220}
	sevColors = map[rules.Severity]color.Color{
		rules.Info:    color.NRGBA{R: 60, G: 60, B: 60, A: 255},
		rules.Warning: color.NRGBA{R: 255, G: 127, B: 14, A: 255},
		rules.Error:   color.NRGBA{R: 214, G: 39, B: 40, A: 255},
	}
)

func timelineFigure(m *analysis.Model, o Options) *figure {
	top := o.Top
	if top <= 0 {
		top = 12
	}
	lanes, omitted := analysis.TimelineLanes(m, o.IRQs, top)
	spans := analysis.OfflineSpans(m)

	// Offline lanes, one per CPU that went offline (or one for all).
	var offCPUs []int32
	seen := map[int32]bool{}
	for _, s := range spans {
		if !seen[s.CPU] {
			seen[s.CPU] = true
			offCPUs = append(offCPUs, s.CPU)
		}
	}
	sort.Slice(offCPUs, func(i, j int) bool { return offCPUs[i] < offCPUs[j] })
	aggregate := len(offCPUs) > maxOfflineLanes

	// Findings on shown lanes go there; the rest on a lane of their own.
	laneOf := map[int32]int{}
	for i, l := range lanes {
		laneOf[l.IRQ] = i
	}
	var other []rules.Finding
	for _, f := range o.Findings {
		if f.IRQ == nil {
			other = append(other, f)
		} else if _, ok := laneOf[*f.IRQ]; !ok {
			other = append(other, f)
		}
	}

	// Rows from the top: offline lanes, the other-findings lane, irqs.
	var names []string
	switch {
	case aggregate:
		names = append(names, fmt.Sprintf("any of %d CPUs offline", len(offCPUs)))
	default:
		for _, c := range offCPUs {
			names = append(names, fmt.Sprintf("CPU %d offline", c))
		}
	}
	nOff := len(names)
	otherRow := -1
	if len(other) > 0 {
		otherRow = len(names)
		names = append(names, "other findings")
	}
	firstIRQ := len(names)
	for _, l := range lanes {
		name := strconv.Itoa(int(l.IRQ)) + " " + l.Name
		if len([]rune(name)) > 26 {
			name = string([]rune(name)[:25]) + "…"
		}
		names = append(names, name)
	}
	n := len(names)
	yOf := func(row int) float64 { return float64(n - 1 - row) }

	maxCPU := int32(0)
	for _, c := range m.CPUs {
		maxCPU = max(maxCPU, c.CPU)
	}

	f := &figure{
		title:    "IRQ migrations and CPU hotplug: " + o.Trace,
		subtitle: "bar colour = target CPU, label = cpu.vector (? unknown); lighter = inferred",
	}
	if maxCPU < int32(len(palette)) {
		for c := int32(0); c <= maxCPU; c++ {
			f.header = append(f.header, legendItem{label: fmt.Sprintf("CPU %d", c), color: colorOf(int(c))})
		}
	}
	f.header = append(f.header, legendItem{label: "offline", color: color.Gray{Y: 150}},
		legendItem{label: "move in progress", color: moveC},
		legendItem{label: "finding", color: sevColors[rules.Info], glyph: draw.PyramidGlyph{}})
	if omitted > 0 {
		f.notes = append(f.notes, fmt.Sprintf("%d of %d irqs with vector assignments shown (most migrations, then most handler runs); use --irq to choose",
			len(lanes), len(lanes)+omitted))
	}
	if aggregate {
		f.notes = append(f.notes, fmt.Sprintf("%d CPUs went offline: one lane shows when any was; the shading marks each offline interval", len(offCPUs)))
	}
	if maxCPU >= int32(len(palette)) {
		f.notes = append(f.notes, fmt.Sprintf("colours repeat every %d CPUs; read the cpu.vector labels", len(palette)))
	}
	var legend []string
	if len(spans) > 0 {
		legend = append(legend, "the shaded columns are CPU offline intervals")
	}
	stuck := false
	for _, l := range lanes {
		for _, mv := range l.Moves {
			stuck = stuck || mv.Completion == analysis.CompletionNever
		}
	}
	if stuck {
		legend = append(legend, "red: moves never completed")
	}
	if len(o.Findings) > 0 {
		legend = append(legend, "▲ findings (grey info, orange warning, red error)")
	}
	if len(legend) > 0 {
		f.notes = append(f.notes, strings.Join(legend, "; "))
	}
	f.height = vg.Length(max(n, 1))*0.36*vg.Inch + 1.9*vg.Inch + vg.Length(len(f.notes))*14

	x0, x1 := nsToX(m.FirstNS, o.Raw), nsToX(m.LastNS, o.Raw)
	if x1 <= x0 {
		x1 = x0 + 1
	}
	p := newPlot("", timeAxisLabel(o.Raw), "")
	p.X.Tick.Marker = secondsTicks{}
	p.X.Min, p.X.Max = x0, x1
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.NominalY(reverse(names)...)
	p.Y.Tick.Label.Font = p.X.Tick.Label.Font
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.Add(ranger{x0, x1, -0.6, float64(n) - 0.4})

	labelSty := textStyle(sansFont, smallSize, color.Black)
	labelSty.XAlign, labelSty.YAlign = draw.XCenter, draw.YCenter
	p.Add(plotterFunc(func(c draw.Canvas, p *plot.Plot) {
		tx, ty := p.Transforms(&c)
		X := func(ns int64) vg.Length { return tx(nsToX(ns, o.Raw)) }
		half := (ty(1) - ty(0)) * 0.36
		// Offline columns across all lanes.
		for _, s := range spans {
			fillRect(c, X(s.StartNS), X(s.EndNS), c.Min.Y, c.Max.Y, 1, offlineC)
		}
		// Offline lanes.
		for _, s := range spans {
			row := 0
			if !aggregate {
				row = sort.Search(len(offCPUs), func(i int) bool { return offCPUs[i] >= s.CPU })
			}
			y := ty(yOf(row))
			fillRect(c, X(s.StartNS), X(s.EndNS), y-half, y+half, 1.5, color.Gray{Y: 150})
		}
		// IRQ lanes.
		for i, l := range lanes {
			y := ty(yOf(firstIRQ + i))
			for _, sg := range l.Segments {
				clr := color.Color(color.Gray{Y: 220})
				if sg.CPU != nil {
					clr = colorOf(int(*sg.CPU))
				}
				if sg.Inferred || sg.Clipped {
					clr = fade(clr, 140)
				}
				xa, xb := X(sg.StartNS), X(sg.EndNS)
				fillRect(c, xa, xb, y-half, y+half, 0, clr)
				lbl := "?"
				if sg.CPU != nil {
					lbl = strconv.Itoa(int(*sg.CPU)) + "."
					if sg.Vector != nil {
						lbl += strconv.Itoa(int(*sg.Vector))
					} else {
						lbl += "?"
					}
				}
				if xb-xa > labelSty.Width(lbl)+6 {
					c.FillText(labelSty, vg.Point{X: (xa + xb) / 2, Y: y}, lbl)
				}
			}
			for _, mv := range l.Moves {
				clr := color.Color(moveC)
				if mv.Completion == analysis.CompletionNever {
					clr = stuckC
				}
				fillRect(c, X(mv.TS), X(mv.EndNS), y-half*1.25, y+half*1.25, 2, clr)
			}
		}
		// Findings.
		for _, fd := range o.Findings {
			row := otherRow
			if fd.IRQ != nil {
				if i, ok := laneOf[*fd.IRQ]; ok {
					row = firstIRQ + i
				}
			}
			if row < 0 {
				continue
			}
			pt := vg.Point{X: X(fd.TS), Y: ty(yOf(row)) - half - 1}
			if c.ContainsX(pt.X) {
				c.DrawGlyph(draw.GlyphStyle{Color: sevColors[fd.Severity], Radius: 5, Shape: draw.PyramidGlyph{}}, pt)
			}
		}
	}))
	// Separate the offline lanes from the irq lanes.
	if nOff > 0 && len(lanes) > 0 {
		p.Add(plotterFunc(func(c draw.Canvas, p *plot.Plot) {
			_, ty := p.Transforms(&c)
			y := ty(yOf(firstIRQ) + 0.5)
			c.StrokeLine2(draw.LineStyle{Color: grey, Width: 0.8, Dashes: []vg.Length{3, 2}}, c.Min.X, y, c.Max.X, y)
		}))
	}
	f.draw = func(dc draw.Canvas) {
		if len(lanes) == 0 && nOff == 0 {
			emptyPanel(dc, "no irq vector assignments and no CPU offline in this trace\n(record irq_vectors:vector_* and cpuhp:* events)")
			return
		}
		p.Draw(dc)
	}
	return f
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

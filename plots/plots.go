package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	stdfnt "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// Kind names one plot.
type Kind string

// The plot kinds.
const (
	Latency   Kind = "latency"   // handler, sysvec, softirq and IPI latency histograms and CDFs
	Timeline  Kind = "timeline"  // which CPU each irq targeted over time, with hotplug
	Occupancy Kind = "occupancy" // vectors allocated per CPU over time
	Hotplug   Kind = "hotplug"   // cpuhp step durations per hotplug cycle
)

// Kinds lists every kind, in the order analyze --plots writes them.
func Kinds() []Kind { return []Kind{Latency, Timeline, Occupancy, Hotplug} }

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown plot kind %q (want latency, timeline, occupancy or hotplug)", s)
}

// ErrFormat is returned for an output format other than png and svg.
var ErrFormat = errors.New("unknown image format (want .png or .svg)")

// FormatOf returns the image format of a file name: "png" or "svg" by its
// extension; an error wrapping ErrFormat for any other.
func FormatOf(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", ".svg":
		return ext[1:], nil
	}
	return "", fmt.Errorf("%s: %w", path, ErrFormat)
}

// Options say what to plot and how to label it. The zero value plots the
// defaults of each kind, unlabelled.
type Options struct {
	// Trace names the recording in titles (usually its file name).
	Trace string
	// Raw: the recording's timestamps are counter ticks, not ns.
	Raw bool
	// Top caps the distributions per latency panel, the timeline's lanes,
	// the occupancy panels and the cpuhp states per direction (0: each
	// kind's default: 5, 12, 8 and 16).
	Top int
	// IRQs restricts the latency plot's irq panel and the timeline's
	// lanes to these irqs (empty: the top ones).
	IRQs []int32
	// Findings are marked on the timeline at their timestamps.
	Findings []rules.Finding
}

// Write draws kind for m as format ("png" or "svg") to w.
func Write(w io.Writer, format string, kind Kind, m *analysis.Model, o Options) error {
	var f *figure
	switch kind {
	case Latency:
		f = latencyFigure(m, o)
	case Timeline:
		f = timelineFigure(m, o)
	case Occupancy:
		f = occupancyFigure(m, o)
	case Hotplug:
		f = hotplugFigure(m, o)
	default:
		_, err := ParseKind(string(kind))
		return err
	}
	return f.render(w, format)
}

// Sizes. PNGs are rendered at 96 dpi: 12 in is 1152 pixels.
const (
	dpi       = 96
	figWidth  = 12 * vg.Inch
	titleSize = 15
	labelSize = 12
	tickSize  = 11
	smallSize = 10
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	boldFont = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: stdfnt.WeightBold}
	grey     = color.Gray{Y: 96}
	light    = color.Gray{Y: 235}
	offlineC = color.NRGBA{R: 120, G: 120, B: 120, A: 60}
)

// palette is Tableau 10: distinct, readable on white, colour-blind safe
// enough for up to five series.
var palette = []color.Color{
	color.NRGBA{R: 31, G: 119, B: 180, A: 255},
	color.NRGBA{R: 255, G: 127, B: 14, A: 255},
	color.NRGBA{R: 44, G: 160, B: 44, A: 255},
	color.NRGBA{R: 214, G: 39, B: 40, A: 255},
	color.NRGBA{R: 148, G: 103, B: 189, A: 255},
	color.NRGBA{R: 140, G: 86, B: 75, A: 255},
	color.NRGBA{R: 227, G: 119, B: 194, A: 255},
	color.NRGBA{R: 127, G: 127, B: 127, A: 255},
	color.NRGBA{R: 188, G: 189, B: 34, A: 255},
	color.NRGBA{R: 23, G: 190, B: 207, A: 255},
}

func colorOf(i int) color.Color { return palette[((i%len(palette))+len(palette))%len(palette)] }

// fade returns c with alpha a.
func fade(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

func textStyle(f font.Font, size vg.Length, c color.Color) text.Style {
	return text.Style{Color: c, Font: font.From(f, size), Handler: plot.DefaultTextHandler}
}

// newPlot returns a plot with irqtrace's fonts and a light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(boldFont, labelSize)
	p.Title.Padding = 4
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sansFont, labelSize)
		a.Tick.Label.Font = font.From(sansFont, tickSize)
		a.Padding = 2
	}
	p.Legend.TextStyle.Font = font.From(sansFont, smallSize)
	p.Legend.Padding = 1
	return p
}

// figure is a title, a subtitle, panels laid out by layout, and footer
// notes (what was aggregated or left out).
type figure struct {
	title, subtitle string
	notes           []string
	height          vg.Length
	// header draws extra legend items right-aligned on the subtitle line.
	header []legendItem
	// draw lays out and draws the panels in the body canvas.
	draw func(dc draw.Canvas)
}

// legendItem is a coloured swatch (or glyph) with a label.
type legendItem struct {
	label string
	color color.Color
	glyph draw.GlyphDrawer // nil: a filled square
}

// render draws f as format to w.
func (f *figure) render(w io.Writer, format string) error {
	f.height = max(f.height, 3.2*vg.Inch)
	var c interface {
		vg.CanvasSizer
		io.WriterTo
	}
	switch format {
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figWidth, f.height), vgimg.UseDPI(dpi))}
	case "svg":
		c = vgsvg.New(figWidth, f.height)
	default:
		return fmt.Errorf("%q: %w", format, ErrFormat)
	}
	dc := draw.New(c)
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	pad := vg.Length(10)
	top := dc.Max.Y - pad
	ts := textStyle(boldFont, titleSize, color.Black)
	ts.YAlign = draw.YTop
	dc.FillText(ts, vg.Point{X: dc.Min.X + pad, Y: top}, f.title)
	top -= ts.Height(f.title) + 3
	ss := textStyle(sansFont, labelSize, grey)
	ss.YAlign = draw.YTop
	if f.subtitle != "" {
		dc.FillText(ss, vg.Point{X: dc.Min.X + pad, Y: top}, f.subtitle)
	}
	if legendRowWidth(f.header)+ss.Width(f.subtitle)+3*pad > dc.Max.X-dc.Min.X {
		top -= ss.Height("Xg") + 4
	}
	drawLegendRow(dc, f.header, dc.Max.X-pad, top)
	top -= ss.Height("Xg") + 6
	ns := textStyle(sansFont, smallSize, grey)
	bottom := dc.Min.Y + pad/2
	for i := len(f.notes) - 1; i >= 0; i-- {
		dc.FillText(ns, vg.Point{X: dc.Min.X + pad, Y: bottom}, f.notes[i])
		bottom += ns.Height("Xg") + 1
	}
	body := draw.Crop(dc, pad, -pad, bottom-dc.Min.Y+4, top-dc.Max.Y)
	f.draw(body)
	_, err := c.WriteTo(w)
	return err
}

// legendRowWidth is the width drawLegendRow takes for items.
func legendRowWidth(items []legendItem) vg.Length {
	ls := textStyle(sansFont, smallSize, color.Black)
	h := ls.Height("Xg")
	w := vg.Length(0)
	for _, it := range items {
		w += ls.Width(it.label) + 4 + h + 12
	}
	return w
}

// drawLegendRow draws items right-aligned, ending at x, top at y.
func drawLegendRow(dc draw.Canvas, items []legendItem, x, y vg.Length) {
	ls := textStyle(sansFont, smallSize, color.Black)
	ls.YAlign = draw.YTop
	ls.XAlign = draw.XRight
	h := ls.Height("Xg")
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		dc.FillText(ls, vg.Point{X: x, Y: y}, it.label)
		x -= ls.Width(it.label) + 4
		c := vg.Point{X: x - h/2, Y: y - h/2}
		if it.glyph == nil {
			r := h * 0.4
			dc.FillPolygon(it.color, []vg.Point{{X: c.X - r, Y: c.Y - r}, {X: c.X + r, Y: c.Y - r}, {X: c.X + r, Y: c.Y + r}, {X: c.X - r, Y: c.Y + r}})
		} else {
			dc.DrawGlyphNoClip(draw.GlyphStyle{Color: it.color, Radius: h * 0.35, Shape: it.glyph}, c)
		}
		x -= h + 12
	}
}

// emptyPanel draws a message where a panel has nothing to show, so that
// a missing kind of data reads as such and not as a broken plot.
func emptyPanel(dc draw.Canvas, msg string) {
	dc.FillPolygon(light, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	s := textStyle(sansFont, labelSize, grey)
	s.XAlign, s.YAlign = draw.XCenter, draw.YCenter
	c := dc.Center()
	for i, line := range strings.Split(msg, "\n") {
		dc.FillText(s, vg.Point{X: c.X, Y: c.Y - vg.Length(i)*s.Height("Xg")}, line)
	}
}

// timeUnit is the unit durations of a recording are in: "ns" values are
// labelled in ns/µs/ms/s, raw values in ticks.
func durLabel(v float64, raw bool) string {
	if raw {
		return siLabel(v) + " ticks"
	}
	switch {
	case v >= 1e9:
		return trimNum(v/1e9) + " s"
	case v >= 1e6:
		return trimNum(v/1e6) + " ms"
	case v >= 1e3:
		return trimNum(v/1e3) + " µs"
	}
	return trimNum(v) + " ns"
}

// trimNum prints v with three significant digits and no trailing zeros.
func trimNum(v float64) string {
	s := fmt.Sprintf("%.3g", v)
	if strings.Contains(s, "e") {
		s = fmt.Sprintf("%.0f", v)
	}
	return s
}

func siLabel(v float64) string {
	switch {
	case v >= 1e9:
		return trimNum(v/1e9) + "G"
	case v >= 1e6:
		return trimNum(v/1e6) + "M"
	case v >= 1e3:
		return trimNum(v/1e3) + "k"
	}
	return trimNum(v)
}

// logDurTicks ticks a log axis of durations: labelled powers of ten and
// unlabelled 2..9 multiples; when the range spans less than two decades,
// 2x and 5x are labelled too.
type logDurTicks struct{ raw bool }

func (t logDurTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 {
		lo = 1
	}
	dense := hi/lo < 100
	var out []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := base * m
			if v < lo*0.999 || v > hi*1.001 {
				continue
			}
			tk := plot.Tick{Value: v}
			if m == 1 || dense && (m == 2 || m == 5) {
				tk.Label = durLabel(v, t.raw)
			}
			out = append(out, tk)
		}
	}
	return out
}

// secondsTicks ticks a linear time axis in seconds (or raw ticks): about
// ten labelled ticks at round values, with just the decimals they need.
type secondsTicks struct{}

func (secondsTicks) Ticks(lo, hi float64) []plot.Tick {
	if hi <= lo {
		return nil
	}
	step := niceStepF(hi-lo, 10)
	dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var out []plot.Tick
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0 // not "-0"
		}
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', dec, 64)})
		if h := v + step/2; h < hi {
			out = append(out, plot.Tick{Value: h})
		}
	}
	return out
}

// niceStepF returns the smallest of ... 0.1, 0.2, 0.5, 1, 2, 5, 10, ...
// that divides span into at most n steps.
func niceStepF(span float64, n int) float64 {
	if span <= 0 || n <= 0 {
		return 1
	}
	m := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for {
		for _, k := range []float64{1, 2, 5} {
			if span/(k*m) <= float64(n)+1e-9 {
				return k * m
			}
		}
		m *= 10
	}
}

// pctTicks ticks a percentage axis at round values.
type pctTicks struct{}

func (pctTicks) Ticks(lo, hi float64) []plot.Tick {
	step := niceStepF(hi-lo, 5)
	var out []plot.Tick
	for v := 0.0; v <= hi; v += step {
		if v >= lo {
			out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64) + "%"})
		}
	}
	return out
}

// nsToX converts an instant to the time axis: seconds for ns recordings,
// raw ticks otherwise.
func nsToX(ns int64, raw bool) float64 {
	if raw {
		return float64(ns)
	}
	return float64(ns) / 1e9
}

func timeAxisLabel(raw bool) string {
	if raw {
		return "trace time (counter ticks)"
	}
	return "trace time (s)"
}

// rect fills the rectangle [x0,x1]x[y0,y1] of data coordinates of p,
// at least minW wide.
func fillRect(c draw.Canvas, x0, x1, y0, y1 vg.Length, minW vg.Length, clr color.Color) {
	if x1-x0 < minW {
		mid := (x0 + x1) / 2
		x0, x1 = mid-minW/2, mid+minW/2
	}
	pts := c.ClipPolygonXY([]vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	if len(pts) > 0 {
		c.FillPolygon(clr, pts)
	}
}

// plotterFunc adapts a function to plot.Plotter.
type plotterFunc func(c draw.Canvas, p *plot.Plot)

func (f plotterFunc) Plot(c draw.Canvas, p *plot.Plot) { f(c, p) }

// ranger is a plotter that only widens the plot's data range.
type ranger struct{ xmin, xmax, ymin, ymax float64 }

func (r ranger) Plot(draw.Canvas, *plot.Plot) {}
func (r ranger) DataRange() (xmin, xmax, ymin, ymax float64) {
	return r.xmin, r.xmax, r.ymin, r.ymax
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

package plots

import (
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/irqtrace/irqtrace/analysis"
)

var (
	beforeC = color.NRGBA{R: 110, G: 110, B: 110, A: 255}
	afterC  = color.NRGBA{R: 214, G: 39, B: 40, A: 255}
)

// WriteDiff draws the before/after overlay of d as format to w: one row
// per distribution (histogram, CDF and numbers), before dashed grey, after
// solid red. It shows the largest distributions present on both sides:
// up to two device irqs and one of each other kind (o.Top rows at most,
// 0: 5); o.Trace titles the image.
func WriteDiff(w io.Writer, format string, d *analysis.ModelDiff, o Options) error {
	top := o.Top
	if top <= 0 {
		top = 5
	}
	perKind := map[string]int{"irq": 2, "sysvec": 1, "softirq": 1, "ipi": 1}
	var sel []analysis.DiffLatency
	total := 0
	for _, l := range d.Latencies {
		if l.Before == nil || l.After == nil || perKind[l.Kind] == 0 {
			continue
		}
		total++
		if len(sel) < top && perKind[l.Kind] > 0 {
			perKind[l.Kind]--
			sel = append(sel, l)
		}
	}
	title := "Before/after: interrupt latency"
	if o.Trace != "" {
		title += ": " + o.Trace
	}
	f := &figure{
		title:    title,
		subtitle: "histograms (5 bins per decade) and tail-stretched CDFs; log time axis",
		header: []legendItem{
			{label: "before: " + shortName(d.Before.File), color: beforeC},
			{label: "after: " + shortName(d.After.File), color: afterC},
		},
	}
	if total > len(sel) {
		f.notes = append(f.notes, fmt.Sprintf("%d of %d distributions present in both recordings shown (the largest device irqs and one of each other kind); irqtrace diff lists all",
			len(sel), total))
	}
	for _, l := range sel {
		f.notes = append(f.notes, zeroNotes(l.Key+" before", l.Before.Values, o.Raw)...)
		f.notes = append(f.notes, zeroNotes(l.Key+" after", l.After.Values, o.Raw)...)
	}
	rowH := 3.0 * vg.Inch
	f.height = vg.Length(max(1, len(sel)))*rowH + 1.2*vg.Inch + vg.Length(len(f.notes))*14
	f.draw = func(dc draw.Canvas) {
		if len(sel) == 0 {
			emptyPanel(dc, "no latency distribution is present in both recordings")
			return
		}
		h := (dc.Max.Y - dc.Min.Y) / vg.Length(len(sel))
		for i, l := range sel {
			rc := draw.Crop(dc, 0, 0, vg.Length(len(sel)-1-i)*h, -vg.Length(i)*h)
			name := l.Key
			for _, k := range latencyKinds {
				if k.kind == l.Kind {
					name += ": " + k.title
				}
			}
			distRow(rc, name, []series{
				{label: "before", l: *l.Before, color: beforeC, dash: true},
				{label: "after", l: *l.After, color: afterC},
			}, o.Raw)
		}
	}
	return f.render(w, format)
}

// shortName keeps the last 40 characters of a file name.
func shortName(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return "…" + string(r[len(r)-39:])
	}
	return s
}

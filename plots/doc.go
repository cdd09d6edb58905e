// Package plots draws the numbers of package analysis as images (PNG or
// SVG) for mails, slides and bug reports: handler, system vector, softirq
// and IPI latency distributions, the migration timeline of irqs across
// CPUs and hotplug, per-CPU vector occupancy, cpuhp step durations per
// hotplug cycle, and before/after overlays of analysis.Diff.
//
// It sits at the end of the pipeline:
//
//	parse -> ftrace.Table -> analysis.Build -> *analysis.Model -> rules -> plots
//
// It renders only: histogram bins, CDF points, percentiles, occupancy
// steps, timeline lanes and hotplug cycles are computed by analysis
// (analysis/hist.go, analysis/diff.go), where text goldens test them. A
// plot picks what to show (the top N distributions or lanes, said so on
// the image) and how; it never derives a statistic. Output goes to an
// io.Writer; the same model and options give the same bytes.
//
// Images use gonum.org/v1/plot with the Liberation Sans font, sized for a
// slide (12 in wide at 96 dpi for PNG).
package plots

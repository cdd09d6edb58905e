package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
	"github.com/irqtrace/irqtrace/plots"
	"github.com/irqtrace/irqtrace/report"
	"github.com/irqtrace/irqtrace/rules"
)

// plotOptions are what plot does, one field per flag. The zero value (with
// Options.Files set) draws nothing: Kinds must name at least one kind.
type plotOptions struct {
	Options
	// Kinds to draw; Out is the image (.png, .svg), a directory (ending
	// in / or existing: one <kind>.png per kind), or "-" for the text
	// renderings on stdout (as Text).
	Kinds []plots.Kind
	Out   string
	Text  bool
	// Top caps distributions, lanes, CPUs or states per plot (0: the
	// kind's default).
	Top int
}

func newPlotCmd() *cobra.Command {
	var (
		pf    parseFlags
		kinds []string
		irqs  []int32
		out   string
		text  bool
		top   int
	)
	cmd := &cobra.Command{
		Use:   "plot FILE --kind latency|timeline|occupancy|hotplug [--irq N]... -o OUT.png|OUT.svg|DIR/|-",
		Short: "Draw latency distributions, the migration timeline, vector occupancy or hotplug step times",
		Long: `plot parses FILE, rebuilds its lifecycle model, applies the rules and draws:

  latency    handler duration per device irq (the top 5 by total time, or
             the --irq ones), per system vector, softirq raise -> entry and
             IPI send -> receive latency: histograms on a log time axis and
             CDFs with p50, p99, p99.9 and max marked
  timeline   one lane per irq (the 12 that migrated most, or the --irq ones):
             which CPU and vector it targeted over time, moves in progress,
             CPU offline intervals across all lanes, findings
  occupancy  vectors allocated per CPU over time (managed, moving)
  hotplug    the duration of each cpuhp state per CPU per offline/online
             cycle, and each cycle's take-down and bring-up time

-o names the image: .png or .svg by its extension. With several kinds (or
with none given), -o is a directory and each kind is written to
DIR/<kind>.png. -o - (or --text) prints the same distributions as plain
text for a mail instead: bcc-style log2 histograms and percentile tables
(latency), per-state and per-cycle times (hotplug), per-CPU counts
(occupancy), at most 80 columns wide.`,
		Example: `  irqtrace plot testdata/qemu-hotplug/ftrace.txt.xz --kind latency -o latency.png
  irqtrace plot trace.txt --kind timeline --irq 35 --irq 38 -o timeline.svg
  irqtrace plot trace.txt -o plots/
  irqtrace plot trace.txt --kind latency --irq 35 -o -`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				return usageErrorf("plot: %d input files; give one FILE (irqtrace diff compares two)", len(args))
			}
			po := plotOptions{Options: opts, Out: out, Text: text || out == "-", Top: top}
			po.IRQs = irqs
			for _, n := range irqs {
				if n < 0 {
					return usageErrorf("--irq: %d is not an irq number", n)
				}
			}
			if top < 0 {
				return usageErrorf("--top: %d is negative", top)
			}
			for _, k := range kinds {
				for _, s := range strings.Split(k, ",") {
					kind, err := plots.ParseKind(strings.TrimSpace(s))
					if err != nil {
						return usageErrorf("--kind: %v", err)
					}
					po.Kinds = append(po.Kinds, kind)
				}
			}
			switch {
			case po.Text:
				if len(po.Kinds) == 0 {
					po.Kinds = []plots.Kind{plots.Latency}
				}
				for _, k := range po.Kinds {
					if k == plots.Timeline {
						return usageErrorf("--kind timeline has no text rendering; irqtrace lifecycle prints the timeline")
					}
				}
			case out == "":
				return usageErrorf("plot: missing -o OUT.png, OUT.svg, DIR/ or - (text)")
			case len(po.Kinds) == 0 || len(po.Kinds) > 1 || isDir(out):
				if len(po.Kinds) == 0 {
					po.Kinds = plots.Kinds()
				}
				if !isDir(out) && filepath.Ext(out) != "" {
					return usageErrorf("-o: %q: several kinds go into a directory; give DIR/", out)
				}
			default:
				if _, err := plots.FormatOf(out); err != nil {
					return usageErrorf("-o: %v", err)
				}
			}
			return runPlot(cmd.Context(), po, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	fl := cmd.Flags()
	fl.StringSliceVar(&kinds, "kind", nil, "what to draw: latency, timeline, occupancy, hotplug (repeatable, or comma separated; default all into -o DIR/)")
	fl.Int32SliceVar(&irqs, "irq", nil, "draw this irq's latency and timeline lane (repeatable, or comma separated)")
	fl.StringVarP(&out, "output", "o", "", "image to write (.png, .svg), a directory (DIR/), or - for text")
	fl.BoolVar(&text, "text", false, "print the text renderings to stdout instead of drawing")
	fl.IntVar(&top, "top", 0, "distributions, lanes, CPUs or states per plot (0: the kind's default)")
	return cmd
}

// isDir reports whether path names a directory: it ends in a separator
// or exists as one.
func isDir(path string) bool {
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)) {
		return true
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// recording is one parsed input with its model and findings.
type recording struct {
	stats    *parse.Stats
	model    *analysis.Model
	findings []rules.Finding
}

func (r *recording) raw() bool { return r.stats.Unit == "raw" }

// loadRecording parses path, builds its model and applies the default
// rules.
func loadRecording(ctx context.Context, path string, opts Options) (*recording, error) {
	t := ftrace.NewTable()
	defer t.Release()
	in, err := parseInput(ctx, path, opts, t)
	if err != nil {
		return nil, err
	}
	recs, err := t.Records()
	if err != nil {
		return nil, fmt.Errorf("building the events table: %w", err)
	}
	m, err := buildModel(recs, in.stats)
	if err != nil {
		return nil, err
	}
	fs := rules.Run(rules.Default(rules.DefaultOptions), &rules.Input{Model: m, File: in.stats.File})
	return &recording{stats: in.stats, model: m, findings: fs}, nil
}

// runPlot draws po.Kinds of the one file of po.Files into po.Out, or with
// po.Text prints their text renderings to stdout. Written files are
// listed on stderr.
func runPlot(ctx context.Context, po plotOptions, stdout, stderr io.Writer) error {
	r, err := loadRecording(ctx, po.Files[0], po.Options)
	if err != nil {
		return err
	}
	if po.Text {
		ho := report.HistOptions{Raw: r.raw(), Top: po.Top, IRQs: po.IRQs}
		for i, k := range po.Kinds {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			switch k {
			case plots.Latency:
				err = report.HistLatency(stdout, r.model, ho)
			case plots.Hotplug:
				err = report.HistHotplug(stdout, r.model, ho)
			case plots.Occupancy:
				err = report.HistOccupancy(stdout, r.model, ho)
			}
			if err != nil {
				return err
			}
		}
		writeProblemCount(stderr, r.stats, "irqtrace stats lists them")
		return nil
	}
	o := plots.Options{Trace: r.stats.File, Raw: r.raw(), Top: po.Top, IRQs: po.IRQs, Findings: r.findings}
	if len(po.Kinds) == 1 && !isDir(po.Out) {
		if err := writePlot(po.Out, po.Kinds[0], r.model, o); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "irqtrace: wrote %s\n", po.Out)
	} else if err := writePlotSet(po.Out, "", po.Kinds, r.model, o, stderr); err != nil {
		return err
	}
	writeProblemCount(stderr, r.stats, "irqtrace stats lists them")
	return nil
}

// writePlot draws kind into the file path (format by extension). The
// image is rendered in memory first, so a failed drawing leaves no file.
func writePlot(path string, kind plots.Kind, m *analysis.Model, o plots.Options) error {
	format, err := plots.FormatOf(path)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := plots.Write(&b, format, kind, m, o); err != nil {
		return fmt.Errorf("drawing %s: %w", path, err)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// writePlotSet writes each kind as DIR/<prefix><kind>.png, creating dir,
// and lists the files on stderr.
func writePlotSet(dir, prefix string, kinds []plots.Kind, m *analysis.Model, o plots.Options, stderr io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		path := filepath.Join(dir, prefix+string(k)+".png")
		if err := writePlot(path, k, m, o); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "irqtrace: wrote %s\n", path)
	}
	return nil
}

// analyzePlots writes analyze --plots' standard set for one analyzed
// file: DIR/<kind>.png, or DIR/<file>.<kind>.png when analyze was given
// several files.
func analyzePlots(dir string, several bool, st *parse.Stats, m *analysis.Model, fs []rules.Finding, stderr io.Writer) error {
	prefix := ""
	if several {
		prefix = plotFileStem(st.File) + "."
	}
	o := plots.Options{Trace: st.File, Raw: st.Unit == "raw", Findings: fs}
	return writePlotSet(dir, prefix, plots.Kinds(), m, o, stderr)
}

// plotFileStem names a trace file's plots: its base name without the
// compression and .txt extensions ("ftrace.txt.xz" -> "ftrace"), with the
// parent directory for the bundled layouts ("qemu-hotplug-ftrace").
func plotFileStem(file string) string {
	base := filepath.Base(file)
	for _, ext := range []string{".xz", ".gz", ".zst", ".txt", ".dat"} {
		base = strings.TrimSuffix(base, ext)
	}
	if dir := filepath.Base(filepath.Dir(file)); dir != "." && dir != "/" {
		base = dir + "-" + base
	}
	return base
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/plots"
	"github.com/irqtrace/irqtrace/report"
)

// diffOptions are what diff does. Options.Files holds BEFORE and AFTER;
// Plot, when set, is the overlay image to write (.png or .svg).
type diffOptions struct {
	Options
	Plot string
	Top  int
}

func newDiffCmd() *cobra.Command {
	var (
		pf   parseFlags
		plot string
		top  int
	)
	cmd := &cobra.Command{
		Use:   "diff BEFORE AFTER [--plot OUT.png|OUT.svg]",
		Short: "Compare two recordings of one scenario, before and after a change",
		Long: `diff parses BEFORE and AFTER (the same scenario traced before and after a
change), rebuilds both models, applies the rules and prints what changed, as
plain text at most 80 columns wide that a patch changelog can quote: a
summary of the notable changes, latency percentiles per device irq, system
vector, softirq and IPI kind with the change in percent, the findings that
appeared or disappeared, migrations, and cpuhp times per hotplug cycle.

irqs are matched by their action name (irq numbers change between boots).
The summary calls out changes of 10% or more in p50 or p99 of distributions
with at least 100 samples on both sides: percentiles of small samples move
by chance. --plot also draws both distributions of the largest ones over
each other (.png or .svg by extension).`,
		Example: `  irqtrace diff before.txt after.txt
  irqtrace diff before.txt.xz after.txt.xz --plot latency-diff.png`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if len(args) != 2 {
				return usageErrorf("diff: %d input files; give BEFORE and AFTER", len(args))
			}
			if plot != "" {
				if _, err := plots.FormatOf(plot); err != nil {
					return usageErrorf("--plot: %v", err)
				}
			}
			if top < 0 {
				return usageErrorf("--top: %d is negative", top)
			}
			return runDiff(cmd.Context(), diffOptions{Options: opts, Plot: plot, Top: top}, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVar(&plot, "plot", "", "also draw the distributions before and after into this image (.png, .svg)")
	cmd.Flags().IntVar(&top, "top", 0, "distributions per kind in the report, rows in the plot (0: 6 and 5)")
	return cmd
}

// runDiff compares the two files of do.Files and writes report.Diff's text
// to stdout, and with do.Plot the overlay image.
func runDiff(ctx context.Context, do diffOptions, stdout, stderr io.Writer) error {
	var recs [2]*recording
	for i, path := range do.Files {
		r, err := loadRecording(ctx, path, do.Options)
		if err != nil {
			return err
		}
		recs[i] = r
	}
	b, a := recs[0], recs[1]
	if b.raw() != a.raw() {
		return fmt.Errorf("%s is in %s, %s in %s: durations of different units cannot be compared",
			b.stats.File, b.stats.Unit, a.stats.File, a.stats.Unit)
	}
	d := analysis.Compare(b.model, a.model)
	fc := analysis.DiffFindings(report.DiffFindingKeys(b.model, b.findings), report.DiffFindingKeys(a.model, a.findings))
	if err := report.Diff(stdout, d, fc, report.DiffOptions{Raw: b.raw(), Top: do.Top}); err != nil {
		return err
	}
	if do.Plot != "" {
		format, _ := plots.FormatOf(do.Plot)
		var img bytes.Buffer
		if err := plots.WriteDiff(&img, format, d, plots.Options{Raw: b.raw(), Top: do.Top}); err != nil {
			return fmt.Errorf("drawing %s: %w", do.Plot, err)
		}
		if err := os.WriteFile(do.Plot, img.Bytes(), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "irqtrace: wrote %s\n", do.Plot)
	}
	for _, r := range recs {
		writeProblemCount(stderr, r.stats, "irqtrace stats lists them")
	}
	return nil
}

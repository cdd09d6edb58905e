package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/rules"
)

func newAnalyzeCmd() *cobra.Command {
	var (
		pf       parseFlags
		json     bool
		failOn   string
		plotsDir string
	)
	cmd := &cobra.Command{
		Use:   "analyze FILE... [--json] [--fail-on warning|error]",
		Short: "Find spurious vectors, retriggers, suspected lost interrupts and other failure modes",
		Long: `analyze parses each FILE, rebuilds its lifecycle model and applies every rule
(irqtrace rules lists them with their documentation). The report reads top-down:
the trace summary, the findings grouped by severity and rule, each with a
plain-English explanation, its evidence (direct tracepoint evidence or
inference) and the input lines that support it, then the key lifecycle facts
and latency percentiles. It is plain text, at most 80 columns wide, for
pasting into a mail.

--json prints one JSON object (summary, findings, lifecycle, latencies; with
several files also "files", one such object per file). --fail-on makes the
exit status 3 when a finding of that severity or worse exists, for fleet
scripts and CI.`,
		Example: `  irqtrace analyze testdata/qemu-hotplug/ftrace.txt.xz
  irqtrace analyze --json --fail-on warning trace1.txt trace2.txt.zst`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if failOn != "" {
				sev, err := rules.ParseSeverity(failOn)
				if err != nil || sev == rules.Info {
					return usageErrorf("--fail-on: %q: want warning or error", failOn)
				}
				opts.FailOn = &sev
			}
			opts.JSON, opts.Plots = json, plotsDir
			return runAnalyze(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	cmd.Flags().BoolVar(&json, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&plotsDir, "plots", "", "also write the standard plots (latency, timeline, occupancy, hotplug PNGs) into this directory")
	cmd.Flags().StringVar(&failOn, "fail-on", "", "exit with status 3 when a finding of this severity (warning, error) or worse exists")
	return cmd
}

func newRulesCmd() *cobra.Command {
	var json bool
	cmd := &cobra.Command{
		Use:   "rules [--json]",
		Short: "List the rules analyze applies, with their documentation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRules(json, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&json, "json", false, "print the documentation as JSON")
	return cmd
}

// findingsError reports that analyze found what --fail-on asked about.
type findingsError struct {
	n   int
	sev rules.Severity
}

func (e *findingsError) Error() string {
	return fmt.Sprintf("%d findings of severity %s or worse", e.n, e.sev)
}

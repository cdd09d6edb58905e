package main

import "github.com/spf13/cobra"

func newStatsCmd() *cobra.Command {
	var (
		pf   parseFlags
		json bool
	)
	cmd := &cobra.Command{
		Use:   "stats FILE...",
		Short: "Summarise traces: format, clock, CPUs, time span, events, markers, line accounting",
		Long: `stats parses each FILE (- for standard input) and prints what it holds: the
detected format, the trace clock where known, the CPUs, the time span, the
number of events per event name, per-CPU first, first trustworthy and last
timestamps, LOST / EVENTS DROPPED markers, and an accounting of every input
line: lines = events + non-event lines (headers, comments, markers) +
problems. Several files are summarised together, each listed first.

Bad lines are counted, listed with file:line and byte offset, and skipped;
--strict makes the first one fatal (exit status 1).`,
		Example: `  irqtrace stats testdata/cli/hotplug.ftrace.xz
  irqtrace stats --json trace.txt
  trace-cmd report | irqtrace stats -`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			opts.JSON = json
			return runStats(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	cmd.Flags().BoolVar(&json, "json", false, "print the stats as one JSON object")
	return cmd
}

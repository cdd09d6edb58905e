package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/parse"
)

// usageError marks an error in how irqtrace was called (exit status 2),
// as opposed to a failure while running a command (exit status 1).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// exitCode is the process exit status for an error returned by the root
// command: 2 for usage errors, 3 when analyze --fail-on found what it
// was asked about, 1 for everything else.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) {
		return 2
	}
	var f *findingsError
	if errors.As(err, &f) {
		return 3
	}
	return 1
}

// newRootCmd builds the irqtrace command tree writing to stdout and
// stderr (standard input comes from cmd.InOrStdin, settable with SetIn).
func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "irqtrace",
		Short: "Read Linux kernel interrupt traces into Arrow tables",
		Long: `irqtrace reads Linux kernel interrupt traces: the ftrace "trace" file,
trace_pipe output, "trace-cmd report" output and "perf script" output
(plain, gzip, zstd or xz compressed; the format is detected from the
content). It finds spurious vectors, IRR retriggers, suspected lost
interrupts, vector leaks, unanswered IPIs and lost wakeups (analyze; the
rules are listed by rules), prints the timeline of irq vector assignments,
migrations and CPU hotplug (lifecycle), summarises the input (stats),
converts it to Arrow IPC or Parquet tables (convert), exports pprof
profiles and Perfetto traces (export), draws plots (plot) and compares a
recording before and after a change (diff).

Start with: irqtrace analyze TRACE`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Args is set so that cobra hands unknown commands to RunE,
		// which reports them as usage errors.
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageErrorf("unknown command %q; run 'irqtrace --help'", args[0])
			}
			fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
			return usageErrorf("missing command")
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.CompletionOptions.DisableDefaultCmd = true
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{fmt.Errorf("%s: %w", cmd.Name(), err)}
	})
	root.AddCommand(newStatsCmd(), newConvertCmd(), newLifecycleCmd(), newAnalyzeCmd(), newRulesCmd())
	root.AddCommand(newExportCmd())
	root.AddCommand(newScenarioCmd())
	root.AddCommand(newPlotCmd(), newDiffCmd())
	return root
}

// parseFlags are the flags every command that reads traces has.
type parseFlags struct {
	strict bool
	clock  string
	format string
}

func (f *parseFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.strict, "strict", false, "fail on the first bad line instead of counting and skipping it")
	fl.StringVar(&f.clock, "clock", "", "trace clock the inputs were recorded with (local, global, mono, boot, perf, counter, x86-tsc, ...), for inputs that do not state it")
	fl.StringVar(&f.format, "format", "auto", "input format: "+strings.Join(formatNames(), ", "))
}

// options validates the flags and the input files and returns the
// Options they stand for. Its errors are usage errors naming the flag.
func (f *parseFlags) options(cmd *cobra.Command, files []string) (Options, error) {
	opts := Options{Files: files, Stdin: cmd.InOrStdin(), Strict: f.strict, Clock: f.clock}
	if len(files) == 0 {
		return opts, usageErrorf("%s: no input files; give FILE... (- for standard input)", cmd.Name())
	}
	stdin := 0
	for _, p := range files {
		if p == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return opts, usageErrorf("%s: standard input (-) given %d times; it can be read once", cmd.Name(), stdin)
	}
	format, ok := parseFormat(f.format)
	if !ok {
		return opts, usageErrorf("--format: unknown format %q; want one of %s", f.format, strings.Join(formatNames(), ", "))
	}
	opts.Format = format
	if strings.ContainsAny(f.clock, " \t\n\"") {
		return opts, usageErrorf("--clock: %q is not a clock name (as listed in tracefs trace_clock)", f.clock)
	}
	return opts, nil
}

// formatNames lists the --format values: "auto", then parse's format
// names.
func formatNames() []string {
	names := []string{"auto"}
	for f := parse.FormatFtrace; f <= parse.FormatPerfScript; f++ {
		names = append(names, f.String())
	}
	return names
}

// parseFormat maps a --format value to a parse.Format ("auto" is
// parse.FormatUnknown: detect per file).
func parseFormat(name string) (parse.Format, bool) {
	if name == "auto" || name == "" {
		return parse.FormatUnknown, true
	}
	for f := parse.FormatFtrace; f <= parse.FormatPerfScript; f++ {
		if f.String() == name {
			return f, true
		}
	}
	return parse.FormatUnknown, false
}

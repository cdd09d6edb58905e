package main

import (
	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/arrowio"
)

func newConvertCmd() *cobra.Command {
	var (
		pf    parseFlags
		out   string
		model bool
	)
	cmd := &cobra.Command{
		Use:   "convert FILE... -o OUT.arrow|OUT.parquet [--model]",
		Short: "Convert traces to one Arrow IPC or Parquet events table",
		Long: `convert parses each FILE (- for standard input) into one events table, one
row per event, and writes it to OUT as an Arrow IPC file (.arrow, .feather,
.ipc) or a Parquet file (.parquet), chosen by OUT's extension. The file is
written atomically: a failed run leaves nothing under OUT. The schema
metadata key "irqtrace.files" lists the inputs with their format, clock,
unit, lines and events.

--model also builds the lifecycle model of each FILE (as irqtrace lifecycle
does) and writes its tables next to OUT, in OUT's format, one row per:
OUT.irqs (irq), OUT.assignments ((cpu, vector) interval of an irq),
OUT.migrations (move, traced or inferred), OUT.hotplug_steps (cpuhp
callback run), OUT.handlers (handler invocation or system vector run, kind
irq_handler or sysvec), OUT.ipis (IPI send and its receive) and OUT.slots
(owner interval of a per-CPU vector slot). Every row has the input file and
its input line(s); unknown values are null. All files are staged and only
then renamed into place, so a failed run leaves none of them.`,
		Example: `  irqtrace convert testdata/cli/hotplug.ftrace.xz -o events.parquet
  irqtrace convert a.txt b.txt.zst -o events.arrow
  irqtrace convert --model trace.txt -o out.parquet   # out.parquet, out.migrations.parquet, ...`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if out == "" {
				return usageErrorf("-o: missing output file (OUT.arrow or OUT.parquet)")
			}
			if _, err := arrowio.FormatOf(out); err != nil {
				return usageErrorf("-o: %w", err)
			}
			opts.Output, opts.Model = out, model
			return runConvert(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file: .arrow, .feather or .ipc (Arrow IPC) or .parquet (Parquet)")
	cmd.Flags().BoolVar(&model, "model", false, "also write the lifecycle model's tables next to OUT (OUT.migrations.parquet, ...)")
	return cmd
}

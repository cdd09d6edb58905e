package main

import (
	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/arrowio"
)

func newConvertCmd() *cobra.Command {
	var (
		pf  parseFlags
		out string
	)
	cmd := &cobra.Command{
		Use:   "convert FILE... -o OUT.arrow|OUT.parquet",
		Short: "Convert traces to one Arrow IPC or Parquet events table",
		Long: `convert parses each FILE (- for standard input) into one events table, one
row per event, and writes it to OUT as an Arrow IPC file (.arrow, .feather,
.ipc) or a Parquet file (.parquet), chosen by OUT's extension. The file is
written atomically: a failed run leaves nothing under OUT. The schema
metadata key "irqtrace.files" lists the inputs with their format, clock,
unit, lines and events.`,
		Example: `  irqtrace convert testdata/cli/hotplug.ftrace.xz -o events.parquet
  irqtrace convert a.txt b.txt.zst -o events.arrow`,
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
			opts.Output = out
			return runConvert(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file: .arrow, .feather or .ipc (Arrow IPC) or .parquet (Parquet)")
	return cmd
}

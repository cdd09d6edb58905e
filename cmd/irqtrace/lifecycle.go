package main

import "github.com/spf13/cobra"

func newLifecycleCmd() *cobra.Command {
	var (
		pf         parseFlags
		json       bool
		steps      bool
		irqs, cpus []int32
	)
	cmd := &cobra.Command{
		Use:   "lifecycle FILE [--irq N]... [--cpu C]... [--steps] [--json]",
		Short: "Print the timeline of irq vector assignments, migrations and CPU hotplug",
		Long: `lifecycle parses FILE (- for standard input), rebuilds the life of every irq
(its (cpu, vector) assignments, migrations and their completion, parking on
the shutdown vector 239, activation, teardown) and of every CPU (offline and
online, take-down and bring-up windows, cpuhp steps), and prints it for
triage: a header with the counts, the irqs, then one line per transition in
time order with the input line it came from, then the anomalies (events
that contradict the model, and irq_matrix counter mismatches).

Moves the trace cannot show (irqs moved off a CPU as it goes offline, when
no tracepoint fires on it) are inferred and marked so, with their evidence.
Slots are written cpu.vector; "?" marks what the trace does not tell.

--irq N keeps irq N's transitions and the CPU events of the CPUs it used;
--cpu C keeps the transitions touching CPU C; both repeat, and together a
transition must pass both. --steps lists every cpuhp step (otherwise only
failed steps; windows summarise the rest). --json prints one JSON object
(irqs, cpus, slots, coverage, anomalies, counts) with the same filters.`,
		Example: `  irqtrace lifecycle testdata/cli/hotplug.ftrace.xz
  irqtrace lifecycle --irq 35 testdata/qemu-hotplug/ftrace.txt.xz
  irqtrace lifecycle --cpu 2 --steps trace.txt
  irqtrace lifecycle --json --irq 35 --irq 38 trace.txt`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				return usageErrorf("lifecycle: %d input files; give one FILE (a model describes one recording)", len(args))
			}
			for _, n := range irqs {
				if n < 0 {
					return usageErrorf("--irq: %d is not an irq number", n)
				}
			}
			for _, c := range cpus {
				if c < 0 {
					return usageErrorf("--cpu: %d is not a CPU number", c)
				}
			}
			opts.JSON, opts.Steps, opts.IRQs, opts.CPUs = json, steps, irqs, cpus
			return runLifecycle(cmd.Context(), opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	fl := cmd.Flags()
	fl.Int32SliceVar(&irqs, "irq", nil, "show only this irq and the CPUs it used (repeatable, or comma separated)")
	fl.Int32SliceVar(&cpus, "cpu", nil, "show only transitions touching this CPU (repeatable, or comma separated)")
	fl.BoolVar(&steps, "steps", false, "list every cpuhp step, not only failed ones")
	fl.BoolVar(&json, "json", false, "print one JSON object instead of the timeline")
	return cmd
}

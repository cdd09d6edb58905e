package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/perfetto"
	"github.com/irqtrace/irqtrace/pprofexport"
	"github.com/irqtrace/irqtrace/rules"
)

func newExportCmd() *cobra.Command {
	var (
		pf            parseFlags
		pprofOut      string
		perfettoOut   string
		noHandlerRuns bool
	)
	cmd := &cobra.Command{
		Use:   "export FILE [--pprof OUT.pb.gz] [--perfetto OUT.pftrace]",
		Short: "Export the lifecycle model to pprof profiles and Perfetto traces",
		Long: `export parses FILE (- for standard input), rebuilds its lifecycle model (as
irqtrace lifecycle does) and writes it in the formats other tools read. Give
--pprof, --perfetto or both.

--pprof writes a gzip-compressed pprof profile for go tool pprof: sample
types interrupts/count and time/nanoseconds (the default), one sample per
CPU, interrupt class and handler, whose stack reads CPU -> class (device irq,
system vector, softirq) -> irq or vector name, with the labels cpu, irq,
vector and class. "go tool pprof -top OUT.pb.gz" lists where interrupt time
goes, -tags splits it by CPU, irq and vector, -http shows a flame graph.
A run's time includes any interrupt nested in it.

--perfetto writes a Perfetto protobuf trace for ui.perfetto.dev and
trace_processor: per CPU the handler runs as nested slices, the hotplug
windows with their cpuhp steps, the offline intervals and a counter of the
vectors allocated; per irq its (cpu, vector) assignments with migrations as
flow arrows and its move-in-progress windows; the findings of irqtrace
analyze as instant events with their rule, severity, evidence and message.
Timestamps are the trace's, in ns. --perfetto-no-handlers leaves out the
per-CPU handler runs, which dominate the size of a long trace.

Each file is written atomically, and both as a set: a failed run leaves
nothing under either name.`,
		Example: `  irqtrace export testdata/qemu-hotplug/ftrace.txt.xz --pprof irq.pb.gz
  go tool pprof -top irq.pb.gz
  irqtrace export trace.txt --perfetto irq.pftrace --pprof irq.pb.gz`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := pf.options(cmd, args)
			if err != nil {
				return err
			}
			if len(args) > 1 {
				return usageErrorf("export: %d input files; give one FILE (a model describes one recording)", len(args))
			}
			if pprofOut == "" && perfettoOut == "" {
				return usageErrorf("export: nothing to write; give --pprof OUT.pb.gz and/or --perfetto OUT.pftrace")
			}
			if pprofOut != "" && perfettoOut != "" && filepath.Clean(pprofOut) == filepath.Clean(perfettoOut) {
				return usageErrorf("--perfetto: %s is also the --pprof output", perfettoOut)
			}
			if noHandlerRuns && perfettoOut == "" {
				return usageErrorf("--perfetto-no-handlers: only applies with --perfetto")
			}
			eo := exportOptions{Options: opts, PprofOut: pprofOut, PerfettoOut: perfettoOut,
				Perfetto: perfetto.Options{NoHandlers: noHandlerRuns}}
			return runExport(cmd.Context(), eo, cmd.ErrOrStderr())
		},
	}
	pf.add(cmd)
	fl := cmd.Flags()
	fl.StringVar(&pprofOut, "pprof", "", "write a pprof profile (gzip-compressed protobuf) to this file")
	fl.StringVar(&perfettoOut, "perfetto", "", "write a Perfetto trace (protobuf) to this file")
	fl.BoolVar(&noHandlerRuns, "perfetto-no-handlers", false, "leave the per-CPU handler runs out of the Perfetto trace")
	return cmd
}

// exportOptions are export's flags: the common Options (one file) and the
// outputs (an empty path: not written).
type exportOptions struct {
	Options
	PprofOut    string
	PerfettoOut string
	Perfetto    perfetto.Options
}

// runExport parses the one file of opts.Files, builds its lifecycle model
// and writes it to opts.PprofOut (pprofexport.Write) and, with the
// findings of the default rules, to opts.PerfettoOut (perfetto.Write).
// The outputs are written as a set (writeAtomicSet). A line per file
// written and the count of problem lines go to stderr.
func runExport(ctx context.Context, opts exportOptions, stderr io.Writer) error {
	t := ftrace.NewTable()
	defer t.Release()
	in, err := parseInput(ctx, opts.Files[0], opts.Options, t)
	if err != nil {
		return err
	}
	recs, err := t.Records()
	if err != nil {
		return fmt.Errorf("building the events table: %w", err)
	}
	m, err := buildModel(recs, in.stats)
	if err != nil {
		return err
	}
	st := in.stats
	if st.Unit != "ns" {
		fmt.Fprintf(stderr, "irqtrace: %s has %s timestamps, not ns: exported times and durations are in its clock's units\n", st.File, st.Unit)
	}
	var outs []atomicOut
	if opts.PprofOut != "" {
		outs = append(outs, atomicOut{opts.PprofOut, "pprof profile", func(w io.Writer) error {
			return pprofexport.Write(w, m, filepath.Base(st.File))
		}})
	}
	if opts.PerfettoOut != "" {
		fs := rules.Run(rules.Default(rules.DefaultOptions), &rules.Input{Model: m, File: st.File})
		outs = append(outs, atomicOut{opts.PerfettoOut, "Perfetto trace", func(w io.Writer) error {
			return perfetto.Write(w, m, fs, opts.Perfetto)
		}})
	}
	if err := writeAtomicSet(outs); err != nil {
		return err
	}
	for _, o := range outs {
		if fi, err := os.Stat(o.path); err == nil {
			fmt.Fprintf(stderr, "irqtrace: wrote %s (%s): %d bytes\n", o.path, o.what, fi.Size())
		}
	}
	writeProblemCount(stderr, st, "irqtrace stats lists them")
	return nil
}

// atomicOut is one file writeAtomicSet writes.
type atomicOut struct {
	path  string
	what  string
	write func(io.Writer) error
}

// writeAtomicSet writes each of outs to a new temporary file in its
// directory, then renames them all into place (the arrowio.writeAtomic
// pattern, for a set). If any write fails (or panics), every temporary
// file is removed and no path changes. The renames come last; only a
// failing rename (rare, within one directory) can leave part of the set.
func writeAtomicSet(outs []atomicOut) error {
	staged := make([]string, 0, len(outs))
	done := false
	defer func() {
		// Also runs while a panic unwinds, so no temporary file is left.
		if !done {
			for _, tmp := range staged {
				os.Remove(tmp)
			}
		}
	}()
	for _, o := range outs {
		f, err := os.CreateTemp(filepath.Dir(o.path), "."+filepath.Base(o.path)+".tmp-*")
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
		staged = append(staged, f.Name())
		bw := bufio.NewWriterSize(f, 1<<20)
		err = o.write(bw)
		if err == nil {
			err = bw.Flush()
		}
		if err == nil {
			err = f.Chmod(0o644)
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
	}
	for i, o := range outs {
		if err := os.Rename(staged[i], o.path); err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
	}
	done = true
	return nil
}

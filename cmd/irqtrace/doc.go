// Command irqtrace reads Linux kernel interrupt traces (the ftrace "trace"
// file, trace_pipe output, "trace-cmd report" output and "perf script"
// output, plain or gzip/zstd/xz compressed) into the Arrow events table of
// package ftrace, and reports on them.
//
// Usage:
//
//	irqtrace analyze FILE... [--json] [--fail-on warning|error] [--plots DIR]
//	irqtrace rules [--json]
//	irqtrace stats FILE... [--json] [--strict] [--clock NAME] [--format NAME]
//	irqtrace lifecycle FILE [--irq N]... [--cpu C]... [--steps] [--json] [--strict] [--clock NAME] [--format NAME]
//	irqtrace convert FILE... -o OUT.arrow|OUT.parquet [--model] [--strict] [--clock NAME] [--format NAME]
//	irqtrace export FILE [--pprof OUT.pb.gz] [--perfetto OUT.pftrace]
//	irqtrace plot FILE --kind latency|timeline|occupancy|hotplug -o OUT.png|OUT.svg|DIR/
//	irqtrace diff BEFORE AFTER [--plot OUT.png|OUT.svg]
//
// The parse flags (--strict, --clock, --format) apply to every command
// that reads traces. A hidden "irqtrace scenario" writes the synthetic
// ground-truth traces of the rules' tests.
//
// FILE "-" is standard input. Errors are printed once, as "irqtrace: ...",
// on standard error. The exit status is 0 on success, 1 when a command
// fails (an unreadable or unrecognised input, a bad line under --strict, a
// failed write), 2 for a usage error (unknown command or flag, bad flag
// value, missing argument, several files where one is expected) and 3 when
// analyze --fail-on found findings of that severity or worse.
//
// This package is the thin cobra layer: each command's RunE validates its
// flags, fills an Options value and calls one function of run.go, which
// wires package parse to the output (summary.go renders the stats text,
// model.go builds the lifecycle model, analyze_run.go applies package
// rules, package report renders text, packages plots, perfetto and
// pprofexport the other outputs, package arrowio writes tables). It holds no
// parsing or analysis logic of its own.
package main

// Command irqtrace reads Linux kernel interrupt traces (the ftrace "trace"
// file, trace_pipe output, "trace-cmd report" output and "perf script"
// output, plain or gzip/zstd/xz compressed) into the Arrow events table of
// package ftrace, and reports on them.
//
// Usage:
//
//	irqtrace stats FILE... [--json] [--strict] [--clock NAME] [--format NAME]
//	irqtrace convert FILE... -o OUT.arrow|OUT.parquet [--strict] [--clock NAME] [--format NAME]
//
// FILE "-" is standard input. Errors are printed once, as "irqtrace: ...",
// on standard error. The exit status is 0 on success, 1 when a command
// fails (an unreadable or unrecognised input, a bad line under --strict, a
// failed write) and 2 for a usage error (unknown command or flag, bad flag
// value, missing argument).
//
// This package is the thin cobra layer: each command's RunE validates its
// flags, fills an Options value and calls one function of run.go, which
// wires package parse to the output (summary.go renders the stats text,
// package arrowio writes files). It holds no parsing logic of its own.
package main

// Package parse reads tracer text output into the Arrow events table of
// package ftrace. It owns the input formats, their detection by content,
// decompression, positions (file, line, byte offset) and diagnostics; it
// does not interpret events beyond handing each payload to ftrace.Decode.
//
// Formats (detected per file from its first 64 KiB, never from its name):
//
//	ftrace      the tracefs "trace" file, with its "# tracer:" header
//	  <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4
//	trace_pipe  the same line layout without a header
//	trace-cmd   "trace-cmd report" output ("cpus=N" first, names padded)
//	  <idle>-0     [003]   612.301255: irq_handler_entry:    irq=129 name=nvme0q4
//	perf-script "perf script" output (comm, tid, [cpu], time, sys:event)
//	  swapper     0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4
//
// Every input line is accounted for as exactly one of: an event (a row of
// the table), a known non-event line (header, comment, marker, blank,
// callchain), or a problem (a *SyntaxError with its position). Lines whose
// prefix parses but whose payload does not decode stay events (raw payload
// kept) and are counted separately as decode errors.
//
// Reading is streamed and parallel: the input is cut into chunks at line
// ends, chunks are parsed by a pool of workers, and the results are put
// back in input order before they reach the table. See the
// tracepoints.md section 4 in shared/docs for the formats' details.
package parse

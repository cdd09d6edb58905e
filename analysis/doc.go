// Package analysis rebuilds interrupt lifecycles from the events table of
// package ftrace: per irq its activations, (cpu, vector) assignments and
// migrations with their move-in-progress windows; per (cpu, vector) slot
// its owners over time; per CPU its online/offline intervals, cpuhp steps,
// take-down windows and irq_matrix accounting (rebuilt and cross-checked
// against the counters the kernel prints); handler invocations, system
// vector runs, softirq latencies and IPI deliveries; and the per-CPU
// windows in which the trace is complete.
//
// It sits between parsing and the rules:
//
//	parse -> ftrace.Table -> analysis.Build -> *Model -> rules, reports, plots
//
// It reads the table and never parses text or prints. Events are taken in
// (timestamp, line) order, stable; one Model describes one recording (one
// file): recordings made with different clocks are never merged.
//
// What the trace cannot show is inferred and marked so: on CPU offline the
// kernel moves irqs off the dying CPU after the CPU is marked offline, when
// no tracepoint fires on it any more (shared/docs/tracepoints.md section
// 0), so those moves are rebuilt from the offline itself, the next handler
// run and the next vector event's prev_cpu/prev_vector, and carry
// Inferred=true. An event that contradicts the model is kept as an Anomaly
// with its input line, and the model resynchronises to the kernel's word.
//
// The x86 vector management this follows is arch/x86/kernel/apic/vector.c
// and kernel/irq/matrix.c; the cpuhp steps are kernel/cpu.c.
package analysis

// Package scenario writes realistic kernel interrupt traces with known
// ground truth, so that the rules of package rules can be measured rather
// than trusted.
//
// Why it exists: the real recordings we have (shared/traces, testdata/) are
// clean runs. They show that the rules stay quiet when nothing is wrong,
// but they cannot show that a rule fires when something is: nobody can
// order a torn MSI write or a lost interrupt from a qemu guest. A rule that
// has never been seen to fire on the failure it documents is a guess. This
// package plays the kernel instead: it simulates a small x86 machine (CPUs,
// the vector matrix, devices whose queues fire at jittered rates,
// irqbalance-style affinity writes, CPU hotplug, IPIs, scheduling) and
// writes what the tracepoints of that kernel would have written, in the
// ftrace `trace` text layout of the real recordings (header, `comm-pid
// [cpu] flags ts: event: payload` lines, console and function-tracer
// lines, LOST and buffer-started markers). Into that background it plants
// one failure mode of shared/docs/tracepoints.md section 5 (a device that
// goes silent after a move, a torn-slot delivery, a retriggered interrupt,
// an interrupt lost while the APIC is disabled at offline, an unanswered
// IPI, a wakeup lost across hotplug, lost events, an unhandled storm, a
// move whose old vector is never freed) or a clean look-alike of it, and
// returns the text together with the findings a correct analyzer must
// report (Label: rule ID, least severity, irq/cpu, approximate time) and
// the ceiling for everything else.
//
// The kernel sequences follow tracepoints.md section 2 for Debian's 6.1
// (the kernel of the real recordings): deferred moves written in hardirq
// context on the old CPU just before that interrupt's handler, cleanup by
// IPI (vector_free_moved in hardirq context on the old CPU), and nothing
// at all traced on a CPU once it is marked offline: the offline half of a
// take-down (fixup_irqs moves, irq_matrix_offline, DYING steps) leaves no
// line, exactly as on the real traces. IPI events (ipi_send_cpu) exist only
// from 6.3, so the IPI scenarios use a 6.6-like kernel.
//
// Every scenario is a pure function of its seed: timings, CPUs, irq
// numbers, vectors, device names and rates are drawn from it, so tests can
// run hundreds of variants and a failing one can be replayed.
//
// Mutate applies the same failure modes to real traces (dropping the
// handler runs that follow a real migration, inserting a "No irq handler"
// printk on a torn slot, inserting an IPI nobody receives), keeping every
// line in the exact layout of its neighbours.
//
// The package does not import package rules: labels name rules by ID and
// severities by name, so that rules' own tests can use it.
package scenario

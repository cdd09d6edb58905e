// Package rules checks the lifecycle model of package analysis for the
// interrupt failure modes seen on LKML: spurious vectors and torn MSI
// writes, unhandled interrupts, IRR retriggers, suspected lost interrupts,
// moves that never complete and vector leaks, unanswered IPIs, wakeups
// lost across CPU hotplug, and trace data loss that weakens every other
// conclusion.
//
// Each rule is one small type with a stable kebab-case ID, its own
// documentation (what it detects, the evidence it needs, its thresholds and
// its known false positives) and options with defaults. Default returns
// the explicit list; Run applies them and sorts the findings by time, then
// rule. Every Finding says whether it rests on direct tracepoint evidence
// or on inference, explains itself in plain words, and cites the input
// lines a person can check.
//
// Signatures follow shared/docs/tracepoints.md section 5; what a trace
// cannot show (device-vector arrivals, the APIC state, IRR contents) is
// never claimed as seen.
//
// rules reads the model; it does not parse or print.
package rules

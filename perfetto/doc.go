// Package perfetto writes the lifecycle model of package analysis and the
// findings of package rules as a Perfetto protobuf trace (TrackEvent
// packets) that ui.perfetto.dev and trace_processor open:
//
//	parse -> ftrace.Table -> analysis.Build -> *Model -> rules.Run -> perfetto.Write -> OUT.pftrace
//
// The trace holds, under a "CPUs" group, per CPU:
//
//   - "CPU N": the device irq handler runs, system vector runs and softirq
//     runs on that CPU as slices, nested as they ran;
//   - "CPU N hotplug": take-down and bring-up windows with their cpuhp
//     steps nested in them (a step with no exit is an instant);
//   - "CPU N offline": the CPU's offline intervals;
//   - "CPU N vectors allocated": a counter of the vectors owned by traced
//     irqs on the CPU (the old vector of a move in progress included),
//     rebuilt from the model's vector slots (Model.Slots). It is not the
//     kernel's irq_matrix "available" count: the model keeps only the
//     result of its irq_matrix cross-check, not the printed counters.
//
// under an "IRQs" group, per irq:
//
//   - "irq N NAME": its (cpu, vector) assignments as slices, each
//     migration drawn as a flow arrow from the old assignment to the new
//     one (when the destination is known);
//   - "irq N NAME moves": each migration from its vector_update to its
//     completion (the move-in-progress window), with how it completed;
//
// and a "Findings" track with one instant event per finding, carrying the
// rule, severity, evidence and explanation as debug annotations.
//
// Timestamps are the model's, in ns, written exactly (the packets carry
// no clock id, so trace_processor takes them as its trace time). Slices
// that do not nest on their track (which a consistent model never
// produces) go to a sibling track named "... (overlapping N)" instead of
// being dropped or cut.
//
// The encoder is written here on google.golang.org/protobuf/encoding/protowire
// with the field numbers of Perfetto's published protos
// (protos/perfetto/trace/trace_packet.proto and
// protos/perfetto/trace/track_event/*.proto in github.com/google/perfetto);
// schema.go lists them. This package is the only one that knows the
// Perfetto format; it reads the model and findings, does no analysis of
// its own and never parses input.
package perfetto

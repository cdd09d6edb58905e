// Package ftrace is irqtrace's vocabulary for Linux kernel tracepoints: the
// catalog of the events it understands (irq_vectors, irq_matrix, cpuhp, irq,
// ipi, printk:console and the ftrace print/function events), decoders for
// their TP_printk payloads, integer-nanosecond timestamps, the ftrace
// irq-info flags, and the Arrow schema of the events table together with a
// columnar builder that fills it.
//
// It sits at the bottom of the pipeline
//
//	input -> parse -> ftrace.Batch (Arrow events table) -> analysis -> rules -> reports
//
// and imports no other irqtrace package. It does no I/O and knows nothing of
// file formats: parse/ hands it one line's pieces (prefix fields and payload
// bytes) at a time.
//
// The payload formats are those of the kernel headers
// arch/x86/include/asm/trace/irq_vectors.h, include/trace/events/irq_matrix.h,
// include/trace/events/cpuhp.h, include/trace/events/irq.h,
// include/trace/events/ipi.h and include/trace/events/printk.h; see
// shared/docs/tracepoints.md section 1 for each field's meaning.
//
// Column conventions: every field is an Arrow column named with the kernel's
// spelling, typed (integers, never strings), and null where the event has no
// such field. Two kernel names collide with the common columns and are
// renamed: an event's own cpu= field is target_cpu (the CPU column is the
// CPU whose buffer recorded the event), and cpuhp's target: is target_state.
// The irq_matrix bit= field is stored in the vector column (it is the vector
// number). The kernel's "nothing" value prev_vector=0 prev_cpu=0 (a first
// assignment) becomes null in both columns; this is the only place that
// conversion happens.
package ftrace

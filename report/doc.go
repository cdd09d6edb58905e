// Package report renders the lifecycle model of package analysis for
// people: text written to an io.Writer (and the same selection as JSON for
// scripts).
//
// It sits at the end of the pipeline:
//
//	parse -> ftrace.Table -> analysis.Build -> *analysis.Model -> report
//
// It formats and selects (by irq, by CPU) what the model holds, and holds
// no analysis logic: every fact it prints, inferred moves and their
// evidence included, comes from the model. Output is deterministic: the
// same model and options give the same bytes. Timestamps are printed
// from integer nanoseconds with integer arithmetic (seconds with six
// decimals), never through float64.
package report

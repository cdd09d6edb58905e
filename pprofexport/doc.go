// Package pprofexport turns the lifecycle model of package analysis into a
// pprof profile (github.com/google/pprof/profile), so that `go tool pprof`
// answers "where does interrupt time go, per CPU and per device":
//
//	parse -> ftrace.Table -> analysis.Build -> *Model -> pprofexport.Write -> OUT.pb.gz
//
// The profile has two sample types, interrupts/count and time/nanoseconds
// (the default). Every handler run of the model counts: device irq handler
// invocations (Model.Handlers), system vector runs (Model.Sysvecs) and
// softirq runs (Model.Softirqs). Each sample's stack reads from root to
// leaf as CPU -> interrupt class ("device irq", "system vector",
// "softirq") -> irq or vector name ("irq 35 virtio2-virtqueues",
// "local_timer", "TIMER"), and carries the labels cpu, irq and vector
// (numeric) and class (string), for -tags, -tagfocus and -tagshow.
//
// A run's time is its entry-to-exit duration as the model records it,
// inclusive of any interrupt nested in it: the totals equal the model's
// sums exactly, and a nested run is counted in both.
//
// This package is the only importer of the pprof profile package. It
// reads the model and does no analysis of its own; it never parses input.
package pprofexport

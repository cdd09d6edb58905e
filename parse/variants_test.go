package parse

// Table-driven tests of the format variants of tracepoints.md section 4
// (and the payloads of section 1) that the bundled real traces lack. Each
// case is a small synthetic input; the expected cells are written out by
// hand from the documented formats.

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
)

// wr is the expected row: every non-null cell except file and offset,
// which the test adds (offset computed from the input text).
type wr map[string]any

// ev starts a row: the common columns and the system of a catalog event.
func ev(line int64, comm string, pid, cpu, ts int64, event string) wr {
	m := wr{"line": line, "comm": comm, "pid": pid, "cpu": cpu, "ts_ns": ts, "event": event}
	if s, ok := systemOf[event]; ok {
		m["system"] = s
	}
	return m
}

// fl adds the cells of an irq-info column.
func (m wr) fl(s string) wr {
	for k, v := range expectedFlags(s) {
		m[k] = v
	}
	return m
}

// with sets cells; ints become int64, a nil value deletes the cell.
func (m wr) with(kv ...any) wr {
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		switch v := kv[i+1].(type) {
		case nil:
			delete(m, k)
		case int:
			m[k] = int64(v)
		default:
			m[k] = v
		}
	}
	return m
}

func text(lines ...string) string { return strings.Join(lines, "\n") + "\n" }

// wantErr is an expected problem or decode error.
type wantErr struct {
	line int64
	err  error
}

type variant struct {
	name     string
	format   Format // forced with Options.Format (0: detected)
	detect   Format // the format Detect must report (0: not checked)
	in       string
	rows     []wr
	kinds    map[string]int64 // NonEventKinds, exactly
	problems []wantErr
	decErrs  []wantErr
	check    func(t *testing.T, st *Stats, off func(line int64) int64)
	ignore   []string // cells not compared
}

// lineOffsets returns the byte offset of each line (index 0 = line 1).
func lineOffsets(in string) []int64 {
	offs := []int64{0}
	for i := 0; i < len(in); i++ {
		if in[i] == '\n' && i+1 < len(in) {
			offs = append(offs, int64(i+1))
		}
	}
	return offs
}

func countLines(in string) int64 {
	n := int64(strings.Count(in, "\n"))
	if len(in) > 0 && in[len(in)-1] != '\n' {
		n++
	}
	return n
}

func runVariant(t *testing.T, c variant) *parsed {
	t.Helper()
	if c.detect != FormatUnknown {
		if got, err := Detect([]byte(c.in)); err != nil || got != c.detect {
			t.Errorf("Detect = %v, %v; want %v", got, err, c.detect)
		}
	}
	p := mustParse(t, []byte(c.in), c.name, Options{Format: c.format})
	st := p.st
	offs := lineOffsets(c.in)
	if st.Lines != countLines(c.in) || st.Lines != st.Events+st.NonEventLines+st.Problems {
		t.Errorf("Lines = %d (input has %d), Events %d + NonEventLines %d + Problems %d",
			st.Lines, countLines(c.in), st.Events, st.NonEventLines, st.Problems)
	}
	if st.Bytes != int64(len(c.in)) {
		t.Errorf("Bytes = %d, want %d", st.Bytes, len(c.in))
	}
	kinds := c.kinds
	if kinds == nil {
		kinds = map[string]int64{}
	}
	if !maps.Equal(st.NonEventKinds, kinds) {
		t.Errorf("NonEventKinds = %v, want %v", st.NonEventKinds, kinds)
	}
	if st.Events != int64(len(c.rows)) || p.v.n != len(c.rows) {
		t.Errorf("Events = %d, rows = %d, want %d", st.Events, p.v.n, len(c.rows))
	}
	counts := map[string]int64{}
	for i, w := range c.rows {
		counts[w["event"].(string)]++
		if i >= p.v.n {
			continue
		}
		want := maps.Clone(w)
		ln := want["line"].(int64)
		want["file"], want["offset"] = c.name, offs[ln-1]
		if d := diffRow(p.v.row(i), want, c.ignore...); len(d) > 0 {
			t.Errorf("row %d (line %d):\n  %s", i, ln, strings.Join(d, "\n  "))
		}
	}
	if !maps.Equal(st.EventCounts, counts) {
		t.Errorf("EventCounts = %v, want %v", st.EventCounts, counts)
	}
	checkErrs(t, "problem", st.Problems, st.ProblemSamples, c.problems, offs, c.name)
	checkErrs(t, "decode error", st.DecodeErrors, st.DecodeErrorSamples, c.decErrs, offs, c.name)
	if c.check != nil {
		c.check(t, st, func(line int64) int64 { return offs[line-1] })
	}
	return p
}

func checkErrs(t *testing.T, what string, n int64, got []*SyntaxError, want []wantErr, offs []int64, file string) {
	t.Helper()
	if n != int64(len(want)) || len(got) != len(want) {
		t.Errorf("%d %ss (%d samples), want %d: %v", n, what, len(got), len(want), got)
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Offset != offs[w.line-1] || g.File != file || !errors.Is(g, w.err) {
			t.Errorf("%s %d = %s:%d offset %d (%v), want line %d offset %d wrapping %v",
				what, i, g.File, g.Line, g.Offset, g.Err, w.line, offs[w.line-1], w.err)
		}
		if len(g.Excerpt) > 80 || g.Msg == "" {
			t.Errorf("%s %d: excerpt of %d bytes, message %q", what, i, len(g.Excerpt), g.Msg)
		}
		var se *SyntaxError
		if !errors.As(error(g), &se) || !strings.HasPrefix(g.Error(), fmt.Sprintf("%s:%d: ", file, w.line)) {
			t.Errorf("%s %d: Error() = %q, want the file:line: prefix", what, i, g.Error())
		}
	}
}

const hdr518 = `# tracer: nop
#
# entries-in-buffer/entries-written: 2/2   #P:8
#
#                                _-----=> irqs-off/BH-disabled
#                               / _----=> need-resched
#                              | / _---=> hardirq/softirq
#                              || / _--=> preempt-depth
#                              ||| / _-=> migrate-disable
#                              |||| /     delay
#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION
#              | |         |   |||||     |         |`

const hdr54 = `# tracer: nop
#
# entries-in-buffer/entries-written: 2/2   #P:8
#
#                              _-----=> irqs-off
#                             / _----=> need-resched
#                            | / _---=> hardirq/softirq
#                            || / _--=> preempt-depth
#                            ||| /     delay
#           TASK-PID   CPU#  ||||    TIMESTAMP  FUNCTION
#              | |       |   ||||       |         |`

func TestFtraceVariants(t *testing.T) {
	tests := []variant{{
		name: "flags 4 chars (pre-5.13)", detect: FormatFtrace,
		in: text(hdr54,
			`          <idle>-0     [003] d.h1   612.301255: local_timer_entry: vector=236`,
			`          <idle>-0     [003] d.h1   612.301262: local_timer_exit: vector=236`),
		kinds: map[string]int64{"comment": 11},
		rows: []wr{
			ev(12, "<idle>", 0, 3, 612_301_255_000, "local_timer_entry").with("vector", 236,
				"flags", "d.h1", "irqs_off", true, "bh_off", false, "need_resched", false, "hardirq", true,
				"softirq", false, "nmi", false, "preempt_depth", 1),
			ev(13, "<idle>", 0, 3, 612_301_262_000, "local_timer_exit").with("vector", 236).fl("d.h1"),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Header.CPUs != 8 || st.Header.Tracer != "nop" || st.Header.EntriesInBuffer != 2 {
				t.Errorf("Header = %+v", st.Header)
			}
		},
	}, {
		name: "flags 5 chars", detect: FormatFtrace,
		in: text(hdr518,
			`          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4`,
			`            bash-1234    [002] d..2f   612.301300: vector_config: irq=33 vector=34 cpu=2 apicdest=0x00000004`),
		kinds: map[string]int64{"comment": 12},
		rows: []wr{
			ev(13, "<idle>", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4",
				"flags", "d.h1.", "irqs_off", true, "bh_off", false, "need_resched", false, "hardirq", true,
				"softirq", false, "nmi", false, "preempt_depth", 1, "migrate_disable", 0),
			ev(14, "bash", 1234, 2, 612_301_300_000, "vector_config").with("irq", 33, "vector", 34,
				"target_cpu", 2, "apicdest", 4, "flags", "d..2f", "irqs_off", true, "bh_off", false,
				"need_resched", false, "hardirq", false, "softirq", false, "nmi", false, "preempt_depth", 2,
				"migrate_disable", 15),
		},
	}, {
		name: "no irq-info", format: FormatTracePipe, detect: FormatTracePipe,
		in: text(
			`          <idle>-0       [003]    612.301255: softirq_entry: vec=1 [action=TIMER]`,
			`          <idle>-0       [003]    612.301299: softirq_exit: vec=1 [action=TIMER]`,
			`          <idle>-0       [000]    612.301300: softirq_raise: vec=9 [action=RCU]`),
		rows: []wr{
			ev(1, "<idle>", 0, 3, 612_301_255_000, "softirq_entry").with("vec", 1, "name", "TIMER"),
			ev(2, "<idle>", 0, 3, 612_301_299_000, "softirq_exit").with("vec", 1, "name", "TIMER"),
			ev(3, "<idle>", 0, 0, 612_301_300_000, "softirq_raise").with("vec", 9, "name", "RCU"),
		},
	}, {
		name: "irqs-off column b D X", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [000] b.s1.   1.000001: reschedule_entry: vector=253`,
			`          <idle>-0       [000] D.h..   1.000002: reschedule_exit: vector=253`,
			`          <idle>-0       [000] X.h1.   1.000003: reschedule_entry: vector=253`),
		rows: []wr{
			ev(1, "<idle>", 0, 0, 1_000_001_000, "reschedule_entry").with("vector", 253, "flags", "b.s1.",
				"irqs_off", false, "bh_off", true, "need_resched", false, "hardirq", false, "softirq", true,
				"nmi", false, "preempt_depth", 1, "migrate_disable", 0),
			ev(2, "<idle>", 0, 0, 1_000_002_000, "reschedule_exit").with("vector", 253, "flags", "D.h..",
				"irqs_off", true, "bh_off", true, "need_resched", false, "hardirq", true, "softirq", false,
				"nmi", false, "preempt_depth", 0, "migrate_disable", 0),
			// X: the architecture cannot tell; irqs_off and bh_off are null.
			ev(3, "<idle>", 0, 0, 1_000_003_000, "reschedule_entry").with("vector", 253, "flags", "X.h1.",
				"need_resched", false, "hardirq", true, "softirq", false, "nmi", false, "preempt_depth", 1,
				"migrate_disable", 0),
		},
	}, {
		name: "need-resched column N n p and lazy l L b B", format: FormatTracePipe,
		in: text(
			`            bash-7       [001] dNh1.   1.000001: call_function_entry: vector=252`,
			`            bash-7       [001] dnh1.   1.000002: call_function_exit: vector=252`,
			`            bash-7       [001] dph1.   1.000003: call_function_entry: vector=252`,
			`            bash-7       [001] dlh1.   1.000004: call_function_exit: vector=252`,
			`            bash-7       [001] dLh1.   1.000005: call_function_entry: vector=252`,
			`            bash-7       [001] dbh1.   1.000006: call_function_exit: vector=252`,
			`            bash-7       [001] dBh1.   1.000007: call_function_entry: vector=252`,
			`            bash-7       [001] d.h1.   1.000008: call_function_exit: vector=252`),
		rows: func() []wr {
			var rows []wr
			for i, c := range "NnplLbB." {
				name := []string{"call_function_entry", "call_function_exit"}[i%2]
				rows = append(rows, ev(int64(i+1), "bash", 7, 1, 1_000_001_000+int64(i)*1000, name).with("vector", 252,
					"flags", "d"+string(c)+"h1.", "irqs_off", true, "bh_off", false, "need_resched", c != '.',
					"hardirq", true, "softirq", false, "nmi", false, "preempt_depth", 1, "migrate_disable", 0))
			}
			return rows
		}(),
	}, {
		name: "context column z Z H h s and hex depths", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [002] d.z..   2.000001: error_apic_entry: vector=254`,
			`          <idle>-0       [002] d.Z1.   2.000002: error_apic_exit: vector=254`,
			`          <idle>-0       [002] d.Ha3   2.000003: thermal_apic_entry: vector=250`,
			`          <idle>-0       [002] ..s.f   2.000004: thermal_apic_exit: vector=250`),
		rows: []wr{
			ev(1, "<idle>", 0, 2, 2_000_001_000, "error_apic_entry").with("vector", 254, "flags", "d.z..",
				"irqs_off", true, "bh_off", false, "need_resched", false, "hardirq", false, "softirq", false,
				"nmi", true, "preempt_depth", 0, "migrate_disable", 0),
			ev(2, "<idle>", 0, 2, 2_000_002_000, "error_apic_exit").with("vector", 254, "flags", "d.Z1.",
				"irqs_off", true, "bh_off", false, "need_resched", false, "hardirq", true, "softirq", false,
				"nmi", true, "preempt_depth", 1, "migrate_disable", 0),
			ev(3, "<idle>", 0, 2, 2_000_003_000, "thermal_apic_entry").with("vector", 250, "flags", "d.Ha3",
				"irqs_off", true, "bh_off", false, "need_resched", false, "hardirq", true, "softirq", true,
				"nmi", false, "preempt_depth", 10, "migrate_disable", 3),
			ev(4, "<idle>", 0, 2, 2_000_004_000, "thermal_apic_exit").with("vector", 250, "flags", "..s.f",
				"irqs_off", false, "bh_off", false, "need_resched", false, "hardirq", false, "softirq", true,
				"nmi", false, "preempt_depth", 0, "migrate_disable", 15),
		},
	}, {
		name: "TGID column", detect: FormatFtrace,
		in: text(`# tracer: nop`, `#`,
			`#           TASK-PID     TGID     CPU#  |||||  TIMESTAMP  FUNCTION`,
			`#              | |         |        |   |||||     |         |`,
			`          <idle>-0       (-------) [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4`,
			`            bash-1234    (   1234) [002] .....   612.301300: tracing_mark_write: hello  world `,
			`     kworker/1:2-99      (     98) [001] d..1.   612.301400: irq_handler_exit: irq=129 ret=unhandled`),
		kinds: map[string]int64{"comment": 4},
		rows: []wr{
			ev(5, "<idle>", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4").fl("d.h1."),
			// The marker text is kept exactly, inner and trailing spaces included.
			ev(6, "bash", 1234, 2, 612_301_300_000, "print").with("tgid", 1234, "func", "tracing_mark_write",
				"text", "hello  world ").fl("....."),
			ev(7, "kworker/1:2", 99, 1, 612_301_400_000, "irq_handler_exit").with("tgid", 98, "irq", 129,
				"ret", 0).fl("d..1."),
		},
	}, {
		name: "comm with spaces and dashes, unknown comm", format: FormatTracePipe, detect: FormatTracePipe,
		in: text(
			`kworker/u8:4-ev-162     [001] d..1.   100.000001: vector_free_moved: irq=35 cpu=2 vector=41 is_managed=0`,
			`     my comm-x-17       [000] .....   100.000002: cpuhp_exit:  cpu: 0003  state: 234 step: 235 ret: 0`,
			`           <...>-1696    [002] .....   100.000003: cpuhp_multi_enter: cpu: 0001 target: 153 step: 159 (blk_mq_hctx_notify_offline)`,
			`   a [1] b-c-4096    [002] .....   100.000004: cpuhp_enter: cpu: 0002 target:   0 step: 226 (sched_cpu_deactivate)`),
		rows: []wr{
			ev(1, "kworker/u8:4-ev", 162, 1, 100_000_001_000, "vector_free_moved").with("irq", 35, "target_cpu", 2,
				"vector", 41, "is_managed", false).fl("d..1."),
			ev(2, "my comm-x", 17, 0, 100_000_002_000, "cpuhp_exit").with("target_cpu", 3, "state", 234, "step", 235,
				"ret", 0).fl("....."),
			ev(3, "<...>", 1696, 2, 100_000_003_000, "cpuhp_multi_enter").with("target_cpu", 1, "target_state", 153,
				"step", 159, "func", "blk_mq_hctx_notify_offline").fl("....."),
			// A comm may even contain "[1]": the CPU column is the last
			// "[digits]" that is followed by the rest of a valid prefix.
			ev(4, "a [1] b-c", 4096, 2, 100_000_004_000, "cpuhp_enter").with("target_cpu", 2, "target_state", 0,
				"step", 226, "func", "sched_cpu_deactivate").fl("....."),
		},
	}, {
		name: "CPU numbers of 4 and 5 digits", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [1023] d.h1.   100.000001: reschedule_entry: vector=253`,
			`          <idle>-0       [12345] d.h1.   100.000002: reschedule_exit: vector=253`),
		rows: []wr{
			ev(1, "<idle>", 0, 1023, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(2, "<idle>", 0, 12345, 100_000_002_000, "reschedule_exit").with("vector", 253).fl("d.h1."),
		},
	}, {
		name: "counter clock: integer timestamps", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [002] d.h1.        48213: spurious_apic_entry: vector=239`,
			`          <idle>-0       [002] d.h1.        48214: spurious_apic_exit: vector=239`),
		rows: []wr{
			ev(1, "<idle>", 0, 2, 48213, "spurious_apic_entry").with("vector", 239).fl("d.h1."),
			ev(2, "<idle>", 0, 2, 48214, "spurious_apic_exit").with("vector", 239).fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Unit != "raw" || st.MixedUnits || *st.FirstTS != 48213 || *st.LastTS != 48214 {
				t.Errorf("Unit %q mixed %v first %d last %d", st.Unit, st.MixedUnits, *st.FirstTS, *st.LastTS)
			}
		},
	}, {
		name: "x86-tsc clock", format: FormatTracePipe,
		in: text(`     migration/3-24      [003] d..1. 1187345129937: irq_matrix_offline: online_maps=7 global_avl=1389, global_rsvd=6, total_alloc=21`),
		rows: []wr{
			ev(1, "migration/3", 24, 3, 1187345129937, "irq_matrix_offline").with("online_maps", 7, "global_avl", 1389,
				"global_rsvd", 6, "total_alloc", 21).fl("d..1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Unit != "raw" {
				t.Errorf("Unit %q", st.Unit)
			}
		},
	}, {
		name: "nanosecond fraction and mixed units", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [000] d.h1.   612.301255123: reschedule_entry: vector=253`,
			`          <idle>-0       [000] d.h1.   0.000000001: reschedule_exit: vector=253`,
			`          <idle>-0       [000] d.h1.   18446744073: reschedule_entry: vector=253`),
		rows: []wr{
			ev(1, "<idle>", 0, 0, 612_301_255_123, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(2, "<idle>", 0, 0, 1, "reschedule_exit").with("vector", 253).fl("d.h1."),
			ev(3, "<idle>", 0, 0, 18446744073, "reschedule_entry").with("vector", 253).fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Unit != "mixed" || !st.MixedUnits {
				t.Errorf("Unit %q mixed %v, want mixed", st.Unit, st.MixedUnits)
			}
			if st.CPUs[0].Backwards != 1 {
				t.Errorf("Backwards = %d, want 1", st.CPUs[0].Backwards)
			}
		},
	}, {
		name: "LOST markers", format: FormatTracePipe, detect: FormatTracePipe,
		in: text(
			`          <idle>-0       [002] d.h1.   100.000001: reschedule_entry: vector=253`,
			`CPU:2 [LOST 2311 EVENTS]`,
			`          <idle>-0       [001] d.h1.   100.000002: reschedule_entry: vector=253`,
			`          <idle>-0       [002] d.h1.   100.000005: reschedule_exit: vector=253`,
			`CPU:1 [LOST EVENTS]`),
		kinds: map[string]int64{"lost_marker": 2},
		rows: []wr{
			ev(1, "<idle>", 0, 2, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(3, "<idle>", 0, 1, 100_000_002_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(4, "<idle>", 0, 2, 100_000_005_000, "reschedule_exit").with("vector", 253).fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			next := int64(100_000_005_000)
			want := []Marker{
				{Kind: "lost_marker", CPU: 2, Count: 2311, File: "LOST markers", Line: 2, Offset: off(2), NextTS: &next},
				{Kind: "lost_marker", CPU: 1, Count: -1, File: "LOST markers", Line: 5, Offset: off(5)},
			}
			checkMarkers(t, st.LostMarkers, want)
			if st.LostEvents != 2311 || len(st.BufferStarted) != 0 {
				t.Errorf("LostEvents %d, BufferStarted %v", st.LostEvents, st.BufferStarted)
			}
			if st.CPUs[0].CPU != 1 || st.CPUs[0].LostMarkers != 1 || st.CPUs[1].LostMarkers != 1 {
				t.Errorf("CPUs = %+v", st.CPUs)
			}
		},
	}, {
		name: "buffer started", detect: FormatFtrace,
		in: text(`# tracer: nop`, `#`, `# entries-in-buffer/entries-written: 4/9   #P:4`, `#`,
			`          <idle>-0       [001] d.h1.   100.000001: reschedule_entry: vector=253`,
			`##### CPU 3 buffer started ####`,
			`          <idle>-0       [003] d.h1.   100.000300: reschedule_entry: vector=253`,
			`          <idle>-0       [001] d.h1.   100.000400: reschedule_exit: vector=253`,
			`          <idle>-0       [003] d.h1.   100.000500: reschedule_exit: vector=253`),
		kinds: map[string]int64{"comment": 4, "buffer_started": 1},
		rows: []wr{
			ev(5, "<idle>", 0, 1, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(7, "<idle>", 0, 3, 100_000_300_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(8, "<idle>", 0, 1, 100_000_400_000, "reschedule_exit").with("vector", 253).fl("d.h1."),
			ev(9, "<idle>", 0, 3, 100_000_500_000, "reschedule_exit").with("vector", 253).fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			next := int64(100_000_300_000)
			checkMarkers(t, st.BufferStarted, []Marker{{Kind: "buffer_started", CPU: 3, Count: -1,
				File: "buffer started", Line: 6, Offset: off(6), NextTS: &next}})
			if len(st.CPUs) != 2 || st.CPUs[1].CPU != 3 || !st.CPUs[1].BufferStarted || st.CPUs[1].TrustedFromTS != next ||
				st.CPUs[0].BufferStarted || st.CPUs[0].TrustedFromTS != 100_000_001_000 {
				t.Errorf("CPUs = %+v", st.CPUs)
			}
			if st.Header.EntriesInBuffer != 4 || st.Header.EntriesWritten != 9 || st.Header.CPUs != 4 {
				t.Errorf("Header = %+v", st.Header)
			}
		},
	}, {
		// The kernel prints a CPU's LOST line, then its buffer-started
		// line, then the event: both markers end at that event.
		name: "LOST and buffer started before the same event", detect: FormatFtrace,
		in: text(`# tracer: nop`,
			`          <idle>-0       [001] d.h1.   100.000001: reschedule_entry: vector=253`,
			`CPU:2 [LOST 40 EVENTS]`,
			`##### CPU 2 buffer started ####`,
			`          <idle>-0       [002] d.h1.   100.000300: reschedule_entry: vector=253`),
		kinds: map[string]int64{"comment": 1, "buffer_started": 1, "lost_marker": 1},
		rows: []wr{
			ev(2, "<idle>", 0, 1, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			ev(5, "<idle>", 0, 2, 100_000_300_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			next := int64(100_000_300_000)
			checkMarkers(t, st.LostMarkers, []Marker{{Kind: "lost_marker", CPU: 2, Count: 40, File: st.File, Line: 3, Offset: off(3), NextTS: &next}})
			checkMarkers(t, st.BufferStarted, []Marker{{Kind: "buffer_started", CPU: 2, Count: -1, File: st.File, Line: 4, Offset: off(4), NextTS: &next}})
		},
	}, {
		name: "function tracer and stacktrace lines", detect: FormatFtrace,
		in: text(`# tracer: function`, `#`,
			`          <idle>-0       [003] d.h1.   100.000001: __irq_move_irq <-apic_ack_edge`,
			`          <idle>-0       [003] d.h1.   100.000002: irq_do_set_affinity <-irq_move_masked_irq`,
			` => __irq_move_irq`,
			` => apic_ack_edge`),
		kinds: map[string]int64{"comment": 2, "callchain": 2},
		rows: []wr{
			ev(3, "<idle>", 0, 3, 100_000_001_000, "function").with("func", "__irq_move_irq", "caller", "apic_ack_edge").fl("d.h1."),
			ev(4, "<idle>", 0, 3, 100_000_002_000, "function").with("func", "irq_do_set_affinity", "caller", "irq_move_masked_irq").fl("d.h1."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Header.Tracer != "function" {
				t.Errorf("Tracer = %q", st.Header.Tracer)
			}
		},
	}, {
		name: "vector and matrix payloads", format: FormatTracePipe,
		in: text(
			`            bash-9       [000] d..2.   1.000001: vector_update: irq=33 vector=34 cpu=1 prev_vector=0 prev_cpu=0`,
			`            bash-9       [000] d..2.   1.000002: vector_clear: irq=33 vector=34 cpu=1 prev_vector=35 prev_cpu=2`,
			`            bash-9       [000] d..2.   1.000003: vector_reserve_managed: irq=40 ret=-28`,
			`            bash-9       [000] d..2.   1.000004: vector_reserve: irq=41 ret=0`,
			`            bash-9       [000] d..2.   1.000005: vector_alloc: irq=41 vector=36 reserved=1 ret=0`,
			`            bash-9       [000] d..2.   1.000006: vector_alloc_managed: irq=40 vector=0 ret=-22`,
			`            bash-9       [000] d..1.   1.000007: vector_activate: irq=33 is_managed=0 can_reserve=1 early=1`,
			`            bash-9       [000] d..1.   1.000008: vector_deactivate: irq=33 is_managed=1 can_reserve=0 reserve=0`,
			`            bash-9       [000] d..1.   1.000009: vector_teardown: irq=33 is_managed=0 has_reserved=1`,
			`            bash-9       [000] d..1.   1.000010: vector_setup: irq=4 is_legacy=1 ret=0`,
			`            bash-9       [000] d..2.   1.000011: irq_matrix_assign_system: bit=236 online_maps=1 global_avl=0, global_rsvd=0, total_alloc=0`,
			`            bash-9       [000] d..2.   1.000012: irq_matrix_reserve_managed: bit=0 cpu=3 online=0 avl=200 alloc=0 managed=1 online_maps=3 global_avl=600, global_rsvd=4294967295, total_alloc=4294967295`,
			`            bash-9       [000] d..2.   1.000013: irq_matrix_reserve: online_maps=4 global_avl=771, global_rsvd=13, total_alloc=27`),
		rows: []wr{
			// prev_vector=0: first assignment, no previous slot (null).
			ev(1, "bash", 9, 0, 1_000_001_000, "vector_update").with("irq", 33, "vector", 34, "target_cpu", 1).fl("d..2."),
			ev(2, "bash", 9, 0, 1_000_002_000, "vector_clear").with("irq", 33, "vector", 34, "target_cpu", 1,
				"prev_vector", 35, "prev_cpu", 2).fl("d..2."),
			ev(3, "bash", 9, 0, 1_000_003_000, "vector_reserve_managed").with("irq", 40, "ret", -28).fl("d..2."),
			ev(4, "bash", 9, 0, 1_000_004_000, "vector_reserve").with("irq", 41, "ret", 0).fl("d..2."),
			ev(5, "bash", 9, 0, 1_000_005_000, "vector_alloc").with("irq", 41, "vector", 36, "reserved", true, "ret", 0).fl("d..2."),
			ev(6, "bash", 9, 0, 1_000_006_000, "vector_alloc_managed").with("irq", 40, "vector", 0, "ret", -22).fl("d..2."),
			// early= (4.15-rc headers) is an alias of reserve=.
			ev(7, "bash", 9, 0, 1_000_007_000, "vector_activate").with("irq", 33, "is_managed", false,
				"can_reserve", true, "reserve", true).fl("d..1."),
			ev(8, "bash", 9, 0, 1_000_008_000, "vector_deactivate").with("irq", 33, "is_managed", true,
				"can_reserve", false, "reserve", false).fl("d..1."),
			ev(9, "bash", 9, 0, 1_000_009_000, "vector_teardown").with("irq", 33, "is_managed", false,
				"has_reserved", true).fl("d..1."),
			ev(10, "bash", 9, 0, 1_000_010_000, "vector_setup").with("irq", 4, "is_legacy", true, "ret", 0).fl("d..1."),
			ev(11, "bash", 9, 0, 1_000_011_000, "irq_matrix_assign_system").with("vector", 236, "online_maps", 1,
				"global_avl", 0, "global_rsvd", 0, "total_alloc", 0).fl("d..2."),
			// unsigned 32-bit counters keep their full range
			ev(12, "bash", 9, 0, 1_000_012_000, "irq_matrix_reserve_managed").with("vector", 0, "target_cpu", 3,
				"online", false, "avl", 200, "alloc", 0, "managed", 1, "online_maps", 3, "global_avl", 600,
				"global_rsvd", 4294967295, "total_alloc", 4294967295).fl("d..2."),
			ev(13, "bash", 9, 0, 1_000_013_000, "irq_matrix_reserve").with("online_maps", 4, "global_avl", 771,
				"global_rsvd", 13, "total_alloc", 27).fl("d..2."),
		},
	}, {
		name: "irq ipi tasklet console generic payloads", format: FormatTracePipe,
		in: text(
			`          <idle>-0       [000] d.h1.   1.000001: irq_handler_entry: irq=9 name=acpi  with spaces`,
			`          <idle>-0       [000] d.h1.   1.000002: irq_handler_exit: irq=9 ret=unhandled`,
			`          <idle>-0       [000] ..s1.   1.000003: tasklet_entry: tasklet=0xffff8881003c2e00 function=tcp_tasklet_func`,
			`          <idle>-0       [000] ..s1.   1.000004: tasklet_exit: tasklet=my_tasklet [mymod] function=my_func [mymod]`,
			`            bash-5       [001] d..1.   1.000005: ipi_send_cpu: cpu=3 callsite=generic_exec_single+0x3f/0x120 callback=0x0`,
			`            bash-5       [001] d..1.   1.000006: ipi_send_cpumask: cpumask=00000000,00000030 callsite=on_each_cpu_cond_mask+0x20/0x40 callback=do_sync_core+0x0/0x30`,
			`            bash-5       [001] d..1.   1.000007: ipi_raise: target_mask=00000000,00000001 (Function call interrupts)`,
			`          <idle>-0       [000] d.h1.   1.000008: ipi_entry: (Rescheduling interrupts)`,
			`          <idle>-0       [000] d.h1.   1.000009: ipi_exit: (Rescheduling interrupts)`,
			`     kworker/0:1-17      [000] d....   1.000010: console: [   46.710550] smpboot: CPU 1 is now offline`,
			`            bash-5       [001] d..2.   1.000011: sched_switch: prev_comm=bash prev_pid=5 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120`,
			`            bash-5       [001] d..2.   1.000012: cpuhp_latency:  cpu:3 state:ONLINE latency:1234 USEC ret: 0`),
		rows: []wr{
			ev(1, "<idle>", 0, 0, 1_000_001_000, "irq_handler_entry").with("irq", 9, "name", "acpi  with spaces").fl("d.h1."),
			ev(2, "<idle>", 0, 0, 1_000_002_000, "irq_handler_exit").with("irq", 9, "ret", 0).fl("d.h1."),
			ev(3, "<idle>", 0, 0, 1_000_003_000, "tasklet_entry").with("name", "0xffff8881003c2e00",
				"func", "tcp_tasklet_func").fl("..s1."),
			// %ps of a module symbol: "sym [mod]"; the module is dropped.
			ev(4, "<idle>", 0, 0, 1_000_004_000, "tasklet_exit").with("name", "my_tasklet", "func", "my_func").fl("..s1."),
			ev(5, "bash", 5, 1, 1_000_005_000, "ipi_send_cpu").with("target_cpu", 3,
				"caller", "generic_exec_single+0x3f/0x120", "func", "0x0").fl("d..1."),
			ev(6, "bash", 5, 1, 1_000_006_000, "ipi_send_cpumask").with("cpumask", "00000000,00000030",
				"caller", "on_each_cpu_cond_mask+0x20/0x40", "func", "do_sync_core+0x0/0x30").fl("d..1."),
			ev(7, "bash", 5, 1, 1_000_007_000, "ipi_raise").with("cpumask", "00000000,00000001",
				"name", "Function call interrupts").fl("d..1."),
			ev(8, "<idle>", 0, 0, 1_000_008_000, "ipi_entry").with("name", "Rescheduling interrupts").fl("d.h1."),
			ev(9, "<idle>", 0, 0, 1_000_009_000, "ipi_exit").with("name", "Rescheduling interrupts").fl("d.h1."),
			ev(10, "kworker/0:1", 17, 0, 1_000_010_000, "console").with("text", "[   46.710550] smpboot: CPU 1 is now offline").fl("d...."),
			// Outside the catalog: name, raw payload, key=value split; no system.
			ev(11, "bash", 5, 1, 1_000_011_000, "sched_switch").with("payload",
				"prev_comm=bash prev_pid=5 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120",
				"args", []string{"prev_comm=bash", "prev_pid=5", "prev_prio=120", "prev_state=S",
					"next_comm=swapper/1", "next_pid=0", "next_prio=120"}).fl("d..2."),
			ev(12, "bash", 5, 1, 1_000_012_000, "cpuhp_latency").with("payload",
				"cpu:3 state:ONLINE latency:1234 USEC ret: 0", "args", []string{}).fl("d..2."),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.GenericEvents != 2 || st.DecodeErrors != 0 {
				t.Errorf("GenericEvents %d DecodeErrors %d, want 2, 0", st.GenericEvents, st.DecodeErrors)
			}
		},
	}, {
		name: "trace_pipe with LOST", detect: FormatTracePipe,
		in: text(
			`          <idle>-0       [001] d.h1.  1023.552004: vector_free_moved: irq=129 cpu=1 vector=36 is_managed=0`,
			`          <idle>-0       [001] d.h1.  1023.552006: irq_matrix_free: bit=36 cpu=1 online=1 avl=199 alloc=2 managed=0 online_maps=8 global_avl=1590, global_rsvd=6, total_alloc=15`,
			`CPU:4 [LOST 2311 EVENTS]`,
			`         cpuhp/4-33      [004] .....  1024.001217: cpuhp_enter: cpu: 0004 target:   0 step: 226 (sched_cpu_deactivate)`),
		kinds: map[string]int64{"lost_marker": 1},
		rows: []wr{
			ev(1, "<idle>", 0, 1, 1023_552_004_000, "vector_free_moved").with("irq", 129, "target_cpu", 1,
				"vector", 36, "is_managed", false).fl("d.h1."),
			ev(2, "<idle>", 0, 1, 1023_552_006_000, "irq_matrix_free").with("vector", 36, "target_cpu", 1,
				"online", true, "avl", 199, "alloc", 2, "managed", 0, "online_maps", 8, "global_avl", 1590,
				"global_rsvd", 6, "total_alloc", 15).fl("d.h1."),
			ev(4, "cpuhp/4", 33, 4, 1024_001_217_000, "cpuhp_enter").with("target_cpu", 4, "target_state", 0,
				"step", 226, "func", "sched_cpu_deactivate").fl("....."),
		},
	}, {
		name: "CRLF line ends and no final newline", format: FormatTracePipe,
		in: "          <idle>-0       [000] d.h1.   1.000001: console: hello\r\n" +
			"          <idle>-0       [000] d.h1.   1.000002: tracing_mark_write: bye",
		rows: []wr{
			ev(1, "<idle>", 0, 0, 1_000_001_000, "console").with("text", "hello").fl("d.h1."),
			ev(2, "<idle>", 0, 0, 1_000_002_000, "print").with("func", "tracing_mark_write", "text", "bye").fl("d.h1."),
		},
	}}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) { runVariant(t, c) })
	}
}

func checkMarkers(t *testing.T, got, want []Marker) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d markers, want %d: %+v", len(got), len(want), got)
		return
	}
	for i := range want {
		g, w := got[i], want[i]
		gn, wn := "nil", "nil"
		if g.NextTS != nil {
			gn = fmt.Sprint(*g.NextTS)
		}
		if w.NextTS != nil {
			wn = fmt.Sprint(*w.NextTS)
		}
		g.NextTS, w.NextTS = nil, nil
		if g != w || gn != wn {
			t.Errorf("marker %d = %+v next %s, want %+v next %s", i, g, gn, w, wn)
		}
	}
}

func TestTraceCmdVariants(t *testing.T) {
	tests := []variant{{
		name: "headers, padded names, drops, print, function, FAILED TO PARSE", detect: FormatTraceCmd,
		in: text(
			`version = 6`,
			`cpus=8`,
			`CPU 2 is empty`,
			`          <idle>-0     [003]   612.301255: irq_handler_entry:    irq=129 name=nvme0q4`,
			`      irqbalance-1121  [005]   612.402110: vector_update:        irq=129 vector=37 cpu=6 prev_vector=36 prev_cpu=3`,
			`          <idle>-0     [001]  1023.552006: irq_matrix_free:      bit=36 cpu=1 online=1 avl=199 alloc=2 managed=0 online_maps=8 global_avl=1590, global_rsvd=6, total_alloc=15`,
			`CPU:3 [1234 EVENTS DROPPED]`,
			`          <idle>-0     [003]  1023.552010: cpuhp_exit:            cpu: 0003  state: 234 step: 235 ret: 0`,
			`CPU:3 [EVENTS DROPPED]`,
			`     rig-init.sh-1     [000]  1023.600000: print:                tracing_mark_write: RIG: a: b`,
			`     rig-init.sh-1     [000]  1023.600001: function:             __irq_move_irq`,
			`     rig-init.sh-1     [000]  1023.600002: function:                apic_ack_edge <-- irq_chip_ack_parent`,
			`          <idle>-0     [001]  1023.700000: irq_matrix_alloc:     [FAILED TO PARSE] bit=36 cpu=1 online=1 available=199 allocated=2 managed=0 online_maps=8 global_available=1590 global_reserved=6 total_allocated=15 extra=7`,
			`          <idle>-0     [001]  1023.700001: sched_waking:         [FAILED TO PARSE] comm=bash pid=5 prio=120 target_cpu=001`,
			`CPU:1 [SUBBUFFER START]`),
		kinds: map[string]int64{"header": 3, "dropped_marker": 2, "subbuffer_marker": 1},
		rows: []wr{
			ev(4, "<idle>", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4"),
			ev(5, "irqbalance", 1121, 5, 612_402_110_000, "vector_update").with("irq", 129, "vector", 37,
				"target_cpu", 6, "prev_vector", 36, "prev_cpu", 3),
			ev(6, "<idle>", 0, 1, 1023_552_006_000, "irq_matrix_free").with("vector", 36, "target_cpu", 1,
				"online", true, "avl", 199, "alloc", 2, "managed", 0, "online_maps", 8, "global_avl", 1590,
				"global_rsvd", 6, "total_alloc", 15),
			ev(8, "<idle>", 0, 3, 1023_552_010_000, "cpuhp_exit").with("target_cpu", 3, "state", 234, "step", 235, "ret", 0),
			ev(10, "rig-init.sh", 1, 0, 1023_600_000_000, "print").with("func", "tracing_mark_write", "text", "RIG: a: b"),
			ev(11, "rig-init.sh", 1, 0, 1023_600_001_000, "function").with("func", "__irq_move_irq"),
			ev(12, "rig-init.sh", 1, 0, 1023_600_002_000, "function").with("func", "apic_ack_edge", "caller", "irq_chip_ack_parent"),
			// [FAILED TO PARSE]: the binary field names decode; unknown
			// ones go to args; the raw payload is kept.
			ev(13, "<idle>", 0, 1, 1023_700_000_000, "irq_matrix_alloc").with("vector", 36, "target_cpu", 1,
				"online", true, "avl", 199, "alloc", 2, "managed", 0, "online_maps", 8, "global_avl", 1590,
				"global_rsvd", 6, "total_alloc", 15, "args", []string{"extra=7"}, "payload",
				"[FAILED TO PARSE] bit=36 cpu=1 online=1 available=199 allocated=2 managed=0 online_maps=8 global_available=1590 global_reserved=6 total_allocated=15 extra=7"),
			ev(14, "<idle>", 0, 1, 1023_700_001_000, "sched_waking").with("args",
				[]string{"comm=bash", "pid=5", "prio=120", "target_cpu=001"}, "payload",
				"[FAILED TO PARSE] comm=bash pid=5 prio=120 target_cpu=001"),
		},
		check: func(t *testing.T, st *Stats, off func(int64) int64) {
			if st.Header.CPUs != 8 || st.Header.Version != "6" {
				t.Errorf("Header = %+v", st.Header)
			}
			// Both records are [FAILED TO PARSE]; only sched_waking is outside
			// the catalog.
			if st.FailedToParse != 2 || st.GenericEvents != 1 {
				t.Errorf("FailedToParse %d GenericEvents %d, want 2, 1", st.FailedToParse, st.GenericEvents)
			}
			next := int64(1023_552_010_000)
			checkMarkers(t, st.LostMarkers, []Marker{
				{Kind: "dropped_marker", CPU: 3, Count: 1234, File: st.File, Line: 7, Offset: off(7), NextTS: &next},
				{Kind: "dropped_marker", CPU: 3, Count: -1, File: st.File, Line: 9, Offset: off(9)},
				{Kind: "subbuffer_marker", CPU: 1, Count: -1, File: st.File, Line: 15, Offset: off(15)},
			})
			if st.LostEvents != 1234 {
				t.Errorf("LostEvents = %d", st.LostEvents)
			}
		},
	}, {
		name: "trace-cmd 3.3 flags layout", detect: FormatTraceCmd,
		in: text(`cpus=4`,
			`          <idle>-0     [003] d.h1.   612.301255: irq_handler_entry:    irq=129 name=nvme0q4`,
			`      irqbalance-1121  [005] dNh..   612.402110: vector_update:        irq=129 vector=37 cpu=6 prev_vector=36 prev_cpu=3`,
			`            bash-12    [001] X..1.   612.402111: irq_work_entry:       vector=246`),
		kinds: map[string]int64{"header": 1},
		rows: []wr{
			ev(2, "<idle>", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4").fl("d.h1."),
			ev(3, "irqbalance", 1121, 5, 612_402_110_000, "vector_update").with("irq", 129, "vector", 37,
				"target_cpu", 6, "prev_vector", 36, "prev_cpu", 3).fl("dNh.."),
			ev(4, "bash", 12, 1, 612_402_111_000, "irq_work_entry").with("vector", 246).fl("X..1."),
		},
	}, {
		name: "instance and file prefixes", detect: FormatTraceCmd,
		in: text(`cpus=4`,
			`trace-a.dat:          <idle>-0     [003]   612.301255: irq_handler_entry:    irq=129 name=nvme0q4`,
			`rig:     kworker/0:1-17    [000]   612.301300: cpuhp_enter:          cpu: 0001 target: 153 step: 236 (cpuhp_kick_ap_work)`,
			`          <idle>-0     [001]   612.301400: reschedule_entry:     vector=253`),
		kinds: map[string]int64{"header": 1},
		rows: []wr{
			ev(2, "<idle>", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4", "buffer", "trace-a.dat"),
			ev(3, "kworker/0:1", 17, 0, 612_301_300_000, "cpuhp_enter").with("target_cpu", 1, "target_state", 153,
				"step", 236, "func", "cpuhp_kick_ap_work", "buffer", "rig"),
			ev(4, "<idle>", 0, 1, 612_301_400_000, "reschedule_entry").with("vector", 253),
		},
	}, {
		name: "ns timestamps (-t) and raw clock", detect: FormatTraceCmd,
		in: text(`cpus=2`,
			`          <idle>-0     [001]   612.301255123: reschedule_entry:     vector=253`,
			`          <idle>-0     [001]     1.187345129937: reschedule_exit:      vector=253`),
		kinds: map[string]int64{"header": 1},
		rows: []wr{
			ev(2, "<idle>", 0, 1, 612_301_255_123, "reschedule_entry").with("vector", 253),
			// trace-cmd prints a non-time clock as %5llu.%012llu of the raw value.
			ev(3, "<idle>", 0, 1, 1_187_345_129_937, "reschedule_exit").with("vector", 253),
		},
	}}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) { runVariant(t, c) })
	}
}

func TestPerfVariants(t *testing.T) {
	tests := []variant{{
		name: "default fields 6.x", detect: FormatPerfScript,
		in: text(
			`         swapper       0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4`,
			`      irqbalance    1121 [005]   612.402110: irq_vectors:vector_update: irq=129 vector=37 cpu=6 prev_vector=36 prev_cpu=3`,
			`     migration/3      24 [003]   613.000871:         cpuhp:cpuhp_enter: cpu: 0003 target:   0 step: 231 (smpcfd_dying_cpu)`,
			`         my comm      17 [000]   613.000872:     printk:console: CPU 3 is now offline`,
			`           :1696    1696 [002]   613.000873: irq_vectors:reschedule_entry: vector=253`,
			`             :-1      -1 [000]   613.000874:  irq:irq_handler_exit: irq=129 ret=handled`),
		rows: []wr{
			ev(1, "swapper", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4"),
			ev(2, "irqbalance", 1121, 5, 612_402_110_000, "vector_update").with("irq", 129, "vector", 37,
				"target_cpu", 6, "prev_vector", 36, "prev_cpu", 3),
			ev(3, "migration/3", 24, 3, 613_000_871_000, "cpuhp_enter").with("target_cpu", 3, "target_state", 0,
				"step", 231, "func", "smpcfd_dying_cpu"),
			ev(4, "my comm", 17, 0, 613_000_872_000, "console").with("text", "CPU 3 is now offline"),
			ev(5, ":1696", 1696, 2, 613_000_873_000, "reschedule_entry").with("vector", 253),
			ev(6, ":-1", -1, 0, 613_000_874_000, "irq_handler_exit").with("irq", 129, "ret", 1),
		},
	}, {
		name: "pid/tid, 5-wide tid, --ns", detect: FormatPerfScript,
		in: text(
			`         swapper       0/0       [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4`,
			`      irqbalance    1120/1121    [005]   612.402110: irq_vectors:vector_update: irq=129 vector=37 cpu=6 prev_vector=36 prev_cpu=3`,
			`      irqbalance  1121 [005]   612.402111: irq_vectors:vector_config: irq=129 vector=37 cpu=6 apicdest=0x0000000c`,
			`         swapper     0 [003]   612.301255123:     irq:irq_handler_exit: irq=129 ret=handled`),
		rows: []wr{
			ev(1, "swapper", 0, 3, 612_301_255_000, "irq_handler_entry").with("tgid", 0, "irq", 129, "name", "nvme0q4"),
			ev(2, "irqbalance", 1121, 5, 612_402_110_000, "vector_update").with("tgid", 1120, "irq", 129,
				"vector", 37, "target_cpu", 6, "prev_vector", 36, "prev_cpu", 3),
			ev(3, "irqbalance", 1121, 5, 612_402_111_000, "vector_config").with("irq", 129, "vector", 37,
				"target_cpu", 6, "apicdest", 12),
			ev(4, "swapper", 0, 3, 612_301_255_123, "irq_handler_exit").with("irq", 129, "ret", 1),
		},
	}, {
		name: "callchains, kprobe, ipi events", detect: FormatPerfScript,
		in: text(
			`         swapper     0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4`,
			"\tffffffff810f1234 __handle_irq_event_percpu+0x134 ([kernel.kallsyms])",
			"\tffffffff810f1456 handle_irq_event+0x36 ([kernel.kallsyms])",
			``,
			`         swapper     0 [001]   612.301256: probe:apic_retrigger_irq: (ffffffff8105a1b0) irq=33`,
			`            bash  1234 [002]   612.301257:     ipi:ipi_send_cpu: cpu=3 callsite=generic_exec_single+0x3f callback=0x0`,
			`            bash  1234 [002]   612.301258: ipi:ipi_send_cpumask: cpumask=0-3 callsite=0xffffffff81234567 callback=generic_smp_call_function_single_interrupt+0x0`),
		kinds: map[string]int64{"callchain": 2, "blank": 1},
		rows: []wr{
			ev(1, "swapper", 0, 3, 612_301_255_000, "irq_handler_entry").with("irq", 129, "name", "nvme0q4"),
			// A kprobe is an event outside the catalog: generic, with its system.
			ev(5, "swapper", 0, 1, 612_301_256_000, "apic_retrigger_irq").with("system", "probe",
				"payload", "(ffffffff8105a1b0) irq=33", "args", []string{"irq=33"}),
			ev(6, "bash", 1234, 2, 612_301_257_000, "ipi_send_cpu").with("target_cpu", 3,
				"caller", "generic_exec_single+0x3f", "func", "0x0"),
			ev(7, "bash", 1234, 2, 612_301_258_000, "ipi_send_cpumask").with("cpumask", "0-3",
				"caller", "0xffffffff81234567", "func", "generic_smp_call_function_single_interrupt+0x0"),
		},
	}}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) { runVariant(t, c) })
	}
}

// TestBadLines: each bad line is one problem with its exact position, and
// parsing goes on.
func TestBadLines(t *testing.T) {
	good := `          <idle>-0       [001] d.h1.   100.000001: reschedule_entry: vector=253`
	tests := []struct {
		name string
		bad  string
		err  error
		// decode: the line is an event whose payload does not decode
		decode bool
	}{
		{"no prefix", `garbage line here`, ErrBadPrefix, false},
		{"no cpu brackets", `          <idle>-0       001 d.h1.   100.000001: reschedule_entry: vector=253`, ErrBadPrefix, false},
		{"bad timestamp", `          <idle>-0       [001] d.h1.   100.0x0001: reschedule_entry: vector=253`, ErrBadTimestamp, false},
		{"timestamp too large", `          <idle>-0       [001] d.h1.   99999999999999999999.000001: reschedule_entry: vector=253`, ErrBadTimestamp, false},
		{"bad flags", `          <idle>-0       [001] q.h1.   100.000001: reschedule_entry: vector=253`, ErrBadTimestamp, false},
		{"no event name", `          <idle>-0       [001] d.h1.   100.000001: `, ErrNoEventName, false},
		{"bare symbol in non-function line", `          <idle>-0       [001] d.h1.   100.000001: just some words`, ErrNoEventName, false},
		{"bad LOST count", `CPU:2 [LOST many EVENTS]`, ErrBadMarker, false},
		{"bad marker cpu", `CPU:99999999 [LOST 3 EVENTS]`, ErrBadMarker, false},
		{"bad buffer started cpu", `##### CPU x buffer started ####`, ErrBadMarker, false},
		{"bad value", `          <idle>-0       [001] d.h1.   100.000001: vector_update: irq=abc vector=1 cpu=1 prev_vector=0 prev_cpu=0`, ftrace.ErrBadValue, true},
		{"value out of range", `          <idle>-0       [001] d.h1.   100.000001: vector_update: irq=1 vector=1 cpu=99999 prev_vector=0 prev_cpu=0`, ftrace.ErrBadValue, true},
		{"missing field", `          <idle>-0       [001] d.h1.   100.000001: vector_config: irq=1 vector=1`, ftrace.ErrMissingField, true},
		{"bad cpuhp", `          <idle>-0       [001] d.h1.   100.000001: cpuhp_enter: cpu: 0001 target: x step: 1 (f)`, ftrace.ErrBadValue, true},
		{"bad handler ret", `          <idle>-0       [001] d.h1.   100.000001: irq_handler_exit: irq=1 ret=maybe`, ftrace.ErrBadValue, true},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			in := text(good, good, c.bad, good)
			rows := []wr{
				ev(1, "<idle>", 0, 1, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
				ev(2, "<idle>", 0, 1, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
				ev(4, "<idle>", 0, 1, 100_000_001_000, "reschedule_entry").with("vector", 253).fl("d.h1."),
			}
			v := variant{name: c.name, format: FormatTracePipe, in: in}
			if c.decode {
				// The event stays, raw payload kept.
				n, _ := naiveEvent(c.bad, false)
				r := ev(3, "<idle>", 0, 1, 100_000_001_000, n.name).with("payload", n.rest).fl("d.h1.")
				v.rows = append(rows[:2:2], r, rows[2])
				v.decErrs = []wantErr{{3, c.err}}
				v.ignore = []string{"args"}
				p := runVariant(t, v)
				// A decode error is no problem, and its row's typed payload
				// columns stay null (checked above); args, if any, is empty.
				if got := p.v.row(2); got["args"] != nil && len(got["args"].([]string)) != 0 {
					t.Errorf("args = %v", got["args"])
				}
				return
			}
			v.rows = rows
			v.problems = []wantErr{{3, c.err}}
			runVariant(t, v)
		})
	}
}

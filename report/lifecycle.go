package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/irqtrace/irqtrace/analysis"
)

// Lifecycle writes the triage timeline of m to w: a header (file, span,
// counts of irqs, migrations, CPU offline cycles, matrix checks, handler
// runs and anomalies, each CPU's windows of complete data, the filters),
// a table of the irqs shown, then one line per transition in time order
// (ties in input line order) and the anomalies shown, each with the input
// line it rests on.
//
// A transition line reads
//
//	     TIME  CPU    IRQ     WHAT                                       line N
//	68.306762  2>1    irq 35  2.41 -> 1.43 moved, deferred               line 9298
//
// with slots as cpu.vector ("2.?" where the model does not know the
// vector, "?" where it does not know the CPU either). The transitions are
// an irq's first assignment (or its use since before the trace),
// migrations (traced ones deferred to the irq's next interrupt on the old
// CPU, or with the CPU that wrote them; inferred ones with their
// evidence), the completion of a move (free_moved, forced_offline, clear)
// or "never completed", a managed shutdown at an offline, parking on the
// shutdown vector, activation, deactivation, vector_clear, teardown,
// vector allocation failures, and per CPU going offline and online and
// its take-down and bring-up windows (with opts.Steps, every cpuhp step;
// otherwise only failed ones). Lines stay under 100 columns but for long
// cpuhp callback names. The header's counts are the whole model's; the
// lists follow opts' filters.
//
// It returns the first error writing to w.
func Lifecycle(w io.Writer, m *analysis.Model, opts LifecycleOptions) error {
	bw := bufio.NewWriter(w)
	r := &lifecycle{w: bw, m: m, opts: opts, sel: newSelection(m, opts), clk: clock{opts.Raw}}
	r.header()
	r.irqTable()
	r.timeline()
	r.anomalies()
	return bw.Flush()
}

type lifecycle struct {
	w    *bufio.Writer
	m    *analysis.Model
	opts LifecycleOptions
	sel  *selection
	clk  clock
}

func (r *lifecycle) printf(format string, args ...any) { fmt.Fprintf(r.w, format, args...) }

func (r *lifecycle) header() {
	m, c := r.m, r.m.Counts
	r.printf("file        %s\n", m.File)
	unit := " s"
	if r.clk.raw {
		unit = " ticks"
	}
	r.printf("span        %s .. %s%s (%s), %d events read\n", r.clk.ts(m.FirstNS), r.clk.ts(m.LastNS), unit, r.clk.dur(m.LastNS-m.FirstNS), m.Events)

	classes := map[string]int64{}
	for _, q := range m.IRQs {
		classes[q.Class]++
	}
	r.printf("irqs        %d%s\n", len(m.IRQs), breakdown(classes))

	var deferred int64
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			if mg.Deferred {
				deferred++
			}
		}
	}
	r.printf("migrations  %d: %d traced (%d deferred), %d inferred\n", c.Migrations, c.Migrations-c.InferredMoves, deferred, c.InferredMoves)

	var cpus []int32
	var cycles, back int64
	for _, cpu := range m.CPUs {
		cpus = append(cpus, cpu.CPU)
		for _, iv := range cpu.OfflineIntervals {
			cycles++
			if iv[1] != nil {
				back++
			}
		}
	}
	r.printf("cpus        %d (%s): %s (%d back online), %s",
		len(cpus), cpuList(cpus), plural(cycles, "offline cycle", "offline cycles"), back, plural(c.HotplugSteps, "hotplug step", "hotplug steps"))
	if c.HotplugUnpaired > 0 {
		r.printf(", %d unpaired exits", c.HotplugUnpaired)
	}
	r.printf("\n")

	mx := m.Matrix
	r.printf("matrix      %d events, %d checks: %d match, %s (%d explained, %d unexplained)\n",
		mx.Events, mx.Checks, mx.Matches, plural(mx.Explained+mx.Unexplained, "mismatch", "mismatches"), mx.Explained, mx.Unexplained)
	r.printf("handlers    %d irq handler runs, %d system vector runs\n", c.Handlers, c.Sysvecs)

	r.coverage()

	kinds := map[string]int64{}
	for _, a := range m.Anomalies {
		kinds[a.Kind]++
	}
	r.printf("anomalies   %d%s\n", len(m.Anomalies), breakdown(kinds))

	if r.sel.filtered() {
		var parts []string
		if len(r.opts.IRQs) > 0 {
			parts = append(parts, "irq "+joinInts(r.opts.IRQs))
		}
		if len(r.opts.CPUs) > 0 {
			parts = append(parts, "cpu "+joinInts(r.opts.CPUs))
		}
		s := strings.Join(parts, "; ")
		if irqs, cpus := missing(m, r.opts); len(irqs)+len(cpus) > 0 {
			var not []string
			if len(irqs) > 0 {
				not = append(not, "irq "+joinInts(irqs))
			}
			if len(cpus) > 0 {
				not = append(not, "cpu "+joinInts(cpus))
			}
			s += " (not in the trace: " + strings.Join(not, ", ") + ")"
		}
		r.printf("%s", wrap("shown       ", s+"; counts above are the whole trace's", "            ", 99))
	}
}

// coverage prints the per-CPU windows of complete data (analysis
// Coverage), with why a window ends early: lost events, or perf no longer
// recording a CPU after its first offline.
func (r *lifecycle) coverage() {
	var parts []string
	for i, c := range r.m.Coverage {
		w := fmt.Sprintf("%s..%s", r.clk.ts(c.StartNS), r.clk.ts(c.EndNS))
		if c.Reason != "trace_end" {
			w += " then " + c.Reason
		}
		if i == 0 || r.m.Coverage[i-1].CPU != c.CPU {
			if i > 0 {
				parts[len(parts)-1] += ";"
			}
			w = fmt.Sprintf("cpu%d %s", c.CPU, w)
		} else {
			parts[len(parts)-1] += ","
		}
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		parts = []string{"none"}
	}
	r.printf("%s", wrap("coverage    ", strings.Join(parts, " "), "            ", 99))
}

// breakdown formats counts by name as " (a 3, b 1)", largest first.
func breakdown(n map[string]int64) string {
	if len(n) == 0 {
		return ""
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if n[keys[i]] != n[keys[j]] {
			return n[keys[i]] > n[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + strconv.FormatInt(n[k], 10)
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(int(n))
	}
	return strings.Join(s, ", ")
}

// irqTable lists the irqs shown: name, class, handler runs, migrations
// and where the irq is at the end of the trace.
func (r *lifecycle) irqTable() {
	var qs []*analysis.IRQ
	nameW := len("name")
	for _, q := range r.m.IRQs {
		if r.sel.irq(q) {
			qs = append(qs, q)
			nameW = max(nameW, min(len(q.Name), 24))
		}
	}
	r.printf("\nirqs (%d)\n", len(qs))
	if len(qs) == 0 {
		return
	}
	r.printf("  %4s  %-*s  %-16s  %8s  %5s  %8s  %s\n", "irq", nameW, "name", "class", "handlers", "moves", "inferred", "at end")
	for _, q := range qs {
		var inferred int
		for _, mg := range q.Migrations {
			if mg.Inferred {
				inferred++
			}
		}
		name := q.Name
		if name == "" {
			name = "-"
		}
		if len(name) > nameW {
			name = name[:nameW-1] + "~"
		}
		end := "-"
		if n := len(q.Assignments); n > 0 {
			a := q.Assignments[n-1]
			if a.EndNS == nil {
				end = slot(a.CPU, a.Vector)
			} else {
				end = "none (" + a.EndReason + ")"
			}
		}
		if q.TornDownNS != nil {
			end = "torn down"
		}
		r.printf("  %4d  %-*s  %-16s  %8d  %5d  %8d  %s\n", q.IRQ, nameW, name, q.Class, q.HandlerCount, len(q.Migrations), inferred, end)
	}
}

// transition is one line of the timeline.
type transition struct {
	ts   int64
	line int64  // input line, 0 if unknown
	cpus string // the CPU column: "2", "2>1", "" for none
	irq  int32  // -1 for a CPU event
	what string
}

const (
	cpuW  = 5  // width of the CPU column
	whatW = 56 // width the WHAT column is padded to before "line N"
)

func (r *lifecycle) timeline() {
	var ts []transition
	for _, c := range r.m.CPUs {
		ts = r.cpuTransitions(ts, c)
	}
	for _, q := range r.m.IRQs {
		ts = r.irqTransitions(ts, q)
	}
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].ts != ts[j].ts {
			return ts[i].ts < ts[j].ts
		}
		return ts[i].line < ts[j].line
	})
	r.printf("\ntimeline (%s)\n", plural(int64(len(ts)), "transition", "transitions"))
	if len(ts) == 0 {
		return
	}
	r.printf("  slots are cpu.vector, ? where unknown; evidence of inferred moves: handler = the irq's\n")
	r.printf("  next handler ran on the new cpu, prev_* = the next vector_update's prev_cpu/prev_vector\n")
	tw := len(r.clk.ts(r.m.LastNS))
	r.printf("%*s  %-*s  %-7s %s\n", tw, "time", cpuW, "cpu", "irq", "what")
	for _, t := range ts {
		irq := ""
		if t.irq >= 0 {
			irq = "irq " + strconv.Itoa(int(t.irq))
		}
		line := "line ?"
		if t.line > 0 {
			line = "line " + strconv.FormatInt(t.line, 10)
		}
		r.printf("%*s  %-*s  %-7s %-*s  %s\n", tw, r.clk.ts(t.ts), cpuW, t.cpus, irq, whatW, t.what, line)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func (r *lifecycle) cpuTransitions(out []transition, c *analysis.CPU) []transition {
	if !r.sel.cpuEvent(c.CPU) {
		return out
	}
	cpu := itoa(c.CPU)
	add := func(ts, line int64, what string) {
		out = append(out, transition{ts: ts, line: line, cpus: cpu, irq: -1, what: what})
	}
	lines := r.opts.OfflineLines[c.CPU]
	for k, iv := range c.OfflineIntervals {
		var ln [2]int64
		if k < len(lines) {
			ln = lines[k]
		}
		if iv[0] != nil {
			add(*iv[0], ln[0], "cpu"+cpu+" offline")
		}
		if iv[1] != nil {
			add(*iv[1], ln[1], "cpu"+cpu+" online")
		}
	}
	window := func(kind string, wn analysis.Window) {
		what := fmt.Sprintf("%s of cpu%s: %s", kind, cpu, plural(int64(wn.Steps), "step", "steps"))
		if wn.EndNS != nil {
			what += fmt.Sprintf(", %s (to %s)", r.clk.dur(*wn.EndNS-wn.StartNS), r.clk.ts(*wn.EndNS))
		} else {
			what += ", unfinished at trace end"
		}
		add(wn.StartNS, wn.Line, what)
	}
	for _, wn := range c.TakeDowns {
		window("take-down", wn)
	}
	for _, wn := range c.BringUps {
		window("bring-up", wn)
	}
	for _, s := range c.HotplugSteps {
		failed := s.Ret != nil && *s.Ret != 0
		if !r.opts.Steps && !failed {
			continue
		}
		what := fmt.Sprintf("cpuhp %d %s", s.Step, s.Callback)
		if s.RunOnCPU != c.CPU {
			what += " on cpu" + itoa(s.RunOnCPU)
		}
		if s.DurationNS != nil {
			what += ": " + r.clk.dur(*s.DurationNS)
		} else {
			what += ": no exit"
		}
		if s.Ret != nil {
			what += ", ret " + itoa(*s.Ret)
			if failed {
				what += " FAILED"
			}
		}
		add(s.TS, s.Line, what)
	}
	return out
}

// evidence shortens the model's evidence phrases for a timeline line.
func evidence(s string) string {
	if s == "" {
		return "no evidence recorded"
	}
	parts := strings.Split(s, "; ")
	for i, p := range parts {
		switch p {
		case "CPU offline":
			parts[i] = "cpu offline"
		case "handler run on the new CPU":
			parts[i] = "handler"
		case "next vector_update prev_cpu/prev_vector":
			parts[i] = "prev_*"
		}
	}
	return strings.Join(parts, ", ")
}

func (r *lifecycle) irqTransitions(out []transition, q *analysis.IRQ) []transition {
	add := func(ts, line int64, cpus, what string, touch ...*int32) {
		if r.sel.irqEvent(q.IRQ, touch...) {
			out = append(out, transition{ts: ts, line: line, cpus: cpus, irq: q.IRQ, what: what})
		}
	}
	cpuOf := func(c *int32) string {
		if c == nil {
			return "?"
		}
		return itoa(*c)
	}
	for _, a := range q.Activations {
		what := "activated"
		if a.Reserve {
			what = "activated early (reservation)"
		}
		add(a.StartNS, a.StartLine, "", what)
		if a.EndNS != nil {
			add(*a.EndNS, a.EndLine, "", "deactivated")
		}
	}
	tornLine := int64(0)
	for _, a := range q.Assignments {
		s := slot(a.CPU, a.Vector)
		switch a.StartReason {
		case "migrated", "cpu_offline_move":
			// The migration's own line.
		case "before_trace":
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "on "+s+" since before the trace (first seen)", a.CPU)
		case "first_seen":
			// The model bounds how long the irq can have been there
			// (no untraced move after this point brought it there).
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "on "+s+" since here at least (first seen later)", a.CPU)
		case "vector_update":
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "assigned "+s, a.CPU)
		case "resync":
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "resynchronised to "+s+" (the kernel's prev_cpu/prev_vector)", a.CPU)
		case "observed_handler":
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "seen on "+s+" (handler run, no vector event)", a.CPU)
		default:
			add(a.StartNS, a.StartLine, cpuOf(a.CPU), "on "+s+" ("+a.StartReason+")", a.CPU)
		}
		if a.EndNS == nil {
			continue
		}
		end, line := *a.EndNS, a.EndLine
		switch a.EndReason {
		case "migrated":
		case "cpu_offline":
			moved := slices.ContainsFunc(q.Migrations, func(mg analysis.Migration) bool {
				return mg.TS == end && a.CPU != nil && mg.FromCPU == *a.CPU
			})
			if !moved {
				what := "left " + s + " at cpu" + cpuOf(a.CPU) + " offline, not moved"
				if q.Class == analysis.ClassManaged {
					what = "shut down on " + s + " at cpu" + cpuOf(a.CPU) + " offline (managed)"
				}
				add(end, line, cpuOf(a.CPU), what, a.CPU)
			}
		case "clear":
			add(end, line, cpuOf(a.CPU), "vector_clear of "+s, a.CPU)
		case "teardown":
			tornLine = line
			add(end, line, cpuOf(a.CPU), "torn down, held "+s, a.CPU)
		case "replaced", "resync":
			add(end, line, cpuOf(a.CPU), s+" dropped: the model resynchronised (see anomalies)", a.CPU)
		default:
			add(end, line, cpuOf(a.CPU), s+" ended ("+a.EndReason+")", a.CPU)
		}
	}
	for _, p := range q.Parked {
		what := "parked on vector 239 (shutdown vector)"
		if p.EndNS != nil {
			what += ", for " + r.clk.dur(*p.EndNS-p.StartNS)
		}
		add(p.StartNS, p.Line, "", what)
	}
	if q.TornDownNS != nil && tornLine == 0 {
		add(*q.TornDownNS, 0, "", "torn down")
	}
	for _, f := range q.Failures {
		add(f.TS, f.Line, "", fmt.Sprintf("%s failed: ret %d", f.What, f.Ret))
	}
	for i := range q.Migrations {
		mg := &q.Migrations[i]
		from := slot(&mg.FromCPU, mg.FromVector)
		to := slot(mg.ToCPU, mg.ToVector)
		cpus := itoa(mg.FromCPU) + ">" + cpuOf(mg.ToCPU)
		what := from + " -> " + to + " moved"
		switch {
		case mg.Inferred:
			what += ", inferred (" + evidence(mg.Evidence) + ")"
		case mg.Deferred:
			// Written in hardirq context on the old CPU, at the irq's
			// next interrupt there.
			what += ", deferred"
		default:
			what += " (written on cpu" + cpuOf(mg.EmitCPU) + ")"
		}
		switch {
		case mg.CompletedNS == nil:
			what += ", never completed"
		case *mg.CompletedNS == mg.TS && !mg.Inferred:
			what += ", old slot freed at once (" + mg.Completion + ")"
		}
		add(mg.TS, mg.Line, cpus, what, &mg.FromCPU, mg.ToCPU)
		if mg.CompletedNS != nil && *mg.CompletedNS != mg.TS {
			done := fmt.Sprintf("%s -> %s done: %s after %s", from, to, mg.Completion, r.clk.dur(*mg.CompletedNS-mg.TS))
			add(*mg.CompletedNS, mg.CompletionLine, cpus, done, &mg.FromCPU, mg.ToCPU)
		}
	}
	return out
}

// anomalies lists the anomalies shown, in time order.
func (r *lifecycle) anomalies() {
	var shown []*analysis.Anomaly
	for i := range r.m.Anomalies {
		if a := &r.m.Anomalies[i]; r.sel.anomaly(a) {
			shown = append(shown, a)
		}
	}
	r.printf("\nanomalies (%d", len(shown))
	if len(shown) != len(r.m.Anomalies) {
		r.printf(" of %d", len(r.m.Anomalies))
	}
	r.printf(")\n")
	// The model appends its explanation of an explained mismatch to the
	// message in parentheses: print each explanation once.
	var notes []string
	msgs := make([]string, len(shown))
	for i, a := range shown {
		msgs[i] = a.Message
		if j := strings.Index(a.Message, " ("); a.Explained && j > 0 && strings.HasSuffix(a.Message, ")") {
			msgs[i] = a.Message[:j]
			if note := a.Message[j+2 : len(a.Message)-1]; !slices.Contains(notes, note) {
				notes = append(notes, note)
			}
		}
	}
	for _, n := range notes {
		r.printf("%s", wrap("  explained: ", n, "    ", 99))
	}
	for i, a := range shown {
		where := "cpu" + itoa(a.CPU)
		if a.IRQ != nil {
			where += " irq " + itoa(*a.IRQ)
		}
		kind := a.Kind
		if a.Explained {
			kind += " (explained)"
		}
		head := fmt.Sprintf("  line %-6d %s  %s  %s:", a.Line, r.clk.ts(a.TS), where, kind)
		if len(head)+1+len(msgs[i]) <= 99 {
			r.printf("%s %s\n", head, msgs[i])
			continue
		}
		r.printf("%s\n%s", head, wrap("      ", msgs[i], "      ", 99))
	}
}

// wrap writes prefix and the words of s, broken at spaces into lines of
// at most width columns (a longer word stays whole), continuation lines
// starting with indent; each line ends in a newline.
func wrap(prefix, s, indent string, width int) string {
	var b strings.Builder
	line, empty := prefix, true
	for _, w := range strings.Fields(s) {
		switch {
		case empty:
			line += w
		case len(line)+1+len(w) > width:
			b.WriteString(line + "\n")
			line = indent + w
		default:
			line += " " + w
		}
		empty = false
	}
	b.WriteString(line + "\n")
	return b.String()
}

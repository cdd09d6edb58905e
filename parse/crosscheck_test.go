package parse

// Cross-check of the three renderings of scenario qemu-hotplug. The ftrace
// text (tracefs instance "rig"), the trace-cmd report (top-level buffer)
// and the perf script (perf record -a) were recorded at the same time over
// the same run (testdata/qemu-hotplug/MANIFEST.md). They are not identical,
// and every difference is accounted for below rather than tolerated
// wholesale:
//
//  1. Clocks. The instance uses the "local" clock, the top-level buffer
//     "global" (trace_clock.txt), perf its own clock. Timestamps are only
//     compared after alignment, and the allowances are explained where they
//     are applied.
//  2. Coverage in time. Each recorder starts and stops at its own moment, so
//     events are compared within the common window only.
//  3. Coverage per CPU. perf stops recording a CPU at its first offline
//     (tracepoints.md section 0): its per-CPU window ends there.
//  4. Event sets. trace_marker writes are "tracing_mark_write" lines in the
//     ftrace text and "print" lines in the trace-cmd report, both the event
//     print in the table; perf recorded no ftrace:print and cannot record
//     irq_vectors:irq_work_exit (events-enabled-perf.txt).
//  5. Columns. trace-cmd report 3.1.6 and perf script print no irq-info
//     flags; perf prints its own comm (swapper for pid 0, the thread name
//     truncated differently, ":tid" when unknown) and the event system.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// xev is one row reduced to what the renderings must agree on.
type xev struct {
	ts   int64
	cpu  int64
	name string
	pid  int64
	comm string
	key  string // event name and every payload cell
	line int64
}

// notCompared are the cells that legitimately differ between renderings
// (clock, provenance, irq-info flags, system, comm; see the file comment).
var notCompared = map[string]bool{
	"ts_ns": true, "line": true, "offset": true, "file": true, "system": true, "comm": true,
	"flags": true, "irqs_off": true, "bh_off": true, "need_resched": true, "hardirq": true,
	"softirq": true, "nmi": true, "preempt_depth": true, "migrate_disable": true, "cpu": true, "pid": true,
}

func xevents(p *parsed) []xev {
	out := make([]xev, p.v.n)
	for i := range out {
		r := p.v.row(i)
		var keys []string
		for k := range r {
			if !notCompared[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v ", k, r[k])
		}
		out[i] = xev{ts: r["ts_ns"].(int64), cpu: r["cpu"].(int64), name: r["event"].(string),
			pid: r["pid"].(int64), comm: r["comm"].(string), key: b.String(), line: r["line"].(int64)}
	}
	return out
}

func hotplugRenderings(t *testing.T) (ft, tc, pf []xev) {
	t.Helper()
	var out [3][]xev
	for i, tr := range realTraces[:3] {
		if tr.scenario != "qemu-hotplug" {
			t.Fatal("realTraces order changed")
		}
		_, p := loadReal(t, tr)
		out[i] = xevents(p)
	}
	return out[0], out[1], out[2]
}

func firstOf(evs []xev, name string) xev {
	for _, e := range evs {
		if e.name == name {
			return e
		}
	}
	panic("no " + name)
}

func lastOf(evs []xev, name string) xev {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].name == name {
			return evs[i]
		}
	}
	panic("no " + name)
}

func isLifecycle(name string) bool {
	return strings.HasPrefix(name, "vector_") || strings.HasPrefix(name, "irq_matrix_") || strings.HasPrefix(name, "cpuhp_")
}

func readTestdata(t *testing.T, scenario, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, scenario, file))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCrossCheckFtraceTraceCmd(t *testing.T) {
	ft, tc, _ := hotplugRenderings(t)

	// The premise: the instance runs on the local clock, the top-level
	// buffer (trace-cmd) on global.
	clk := readTestdata(t, "qemu-hotplug", "trace_clock.txt")
	if !strings.Contains(clk, "top-level (trace-cmd): local [global]") || !strings.Contains(clk, "instance rig (ftrace.txt): [local]") {
		t.Fatalf("trace_clock.txt no longer says local vs global:\n%s", clk)
	}

	// Alignment. local and global both count nanoseconds but from different
	// origins and at slightly different rates, so ftrace = trace-cmd + off(t)
	// with off linear in t. It is fixed by the first and the last
	// vector_alloc, which are the same kernel events in both buffers.
	a0, b0 := firstOf(ft, "vector_alloc"), firstOf(tc, "vector_alloc")
	a1, b1 := lastOf(ft, "vector_alloc"), lastOf(tc, "vector_alloc")
	if a0.key != b0.key || a1.key != b1.key || a0.line == a1.line {
		t.Fatalf("anchor vector_allocs differ: %q/%q, %q/%q", a0.key, b0.key, a1.key, b1.key)
	}
	off0, off1 := a0.ts-b0.ts, a1.ts-b1.ts
	drift := float64(off1-off0) / float64(b1.ts-b0.ts)
	off := func(tcTS int64) int64 { return off0 + int64(drift*float64(tcTS-b0.ts)) }
	// The two clocks tick at the same rate to within a few ppm (both are
	// derived from the TSC); a larger drift means the anchors are wrong.
	if drift < -20e-6 || drift > 20e-6 {
		t.Fatalf("clock drift %.1f ppm between the anchors", drift*1e6)
	}
	// MANIFEST states the offset at the first cpuhp_enter of each file.
	m := readManifest(t, "qemu-hotplug")
	gotOff := firstOf(ft, "cpuhp_enter").ts - firstOf(tc, "cpuhp_enter").ts
	wantOff := nsFromText(m.firstCPUHP["ftrace"]) - nsFromText(m.firstCPUHP["trace-cmd"])
	if gotOff != wantOff {
		t.Errorf("offset at the first cpuhp_enter: %d ns, MANIFEST says %d ns", gotOff, wantOff)
	}
	if d := gotOff - off(firstOf(tc, "cpuhp_enter").ts); d < -500_000 || d > 500_000 {
		t.Errorf("the drift model misses the first cpuhp_enter by %d ns", d)
	}

	// Common window, in trace-cmd time. The instance was created after
	// trace-cmd started recording and stopped before trace-cmd's final
	// flush, so the window is the ftrace span mapped onto trace-cmd's clock.
	// The margin keeps an event near a boundary from falling on different
	// sides of it in the two files when the clocks disagree (see
	// clockAgree); should that happen, the sequences below differ and the
	// test fails, it cannot pass by accident.
	const margin = 30_000_000
	ftFirst, ftLast := ft[0].ts, ft[0].ts
	for _, e := range ft {
		ftFirst, ftLast = min(ftFirst, e.ts), max(ftLast, e.ts)
	}
	lo := max(ftFirst-off(ftFirst), tc[0].ts) + margin
	hi := min(ftLast-off(ftLast), tc[len(tc)-1].ts) - margin
	inFt := func(e xev) bool { x := e.ts - off(e.ts); return x >= lo && x <= hi }
	inTc := func(e xev) bool { return e.ts >= lo && e.ts <= hi }

	// Per CPU, the events in the window are the same events in the same
	// order, field for field. (Across CPUs the merge order of the two files
	// may differ, as their clocks differ.) trace_marker writes are checked
	// separately below: the rig wrote each text to the two trace_marker
	// files with two write() calls, so they are not the same event.
	pairsByCPU := map[int64][]xpair{}
	lifecycle := map[string][2]int{}
	for cpu := int64(0); cpu < 4; cpu++ {
		var sa, sb []xev
		for _, e := range ft {
			if e.cpu == cpu && e.name != "print" && inFt(e) {
				sa = append(sa, e)
			}
		}
		for _, e := range tc {
			if e.cpu == cpu && e.name != "print" && inTc(e) {
				sb = append(sb, e)
			}
		}
		if len(sa) == 0 {
			t.Fatalf("CPU %d: no events in the window", cpu)
		}
		if i := firstMismatch(sa, sb); i >= 0 {
			t.Errorf("CPU %d: sequences differ at position %d of %d/%d:\n  ftrace line %s\n  trace-cmd line %s",
				cpu, i, len(sa), len(sb), describe(sa, i), describe(sb, i))
			continue
		}
		for i := range sa {
			pairsByCPU[cpu] = append(pairsByCPU[cpu], xpair{sa[i], sb[i]})
			// ftrace and trace-cmd both take comm from the kernel's saved
			// cmdlines; they agree except where one could not resolve it.
			if sa[i].comm != sb[i].comm && sa[i].comm != "<...>" && sb[i].comm != "<...>" {
				t.Errorf("CPU %d line %d/%d: comm %q vs %q", cpu, sa[i].line, sb[i].line, sa[i].comm, sb[i].comm)
			}
		}
	}

	// Every vector/matrix/cpuhp event of both files lies inside the
	// window: the comparison above covered all of them.
	for _, e := range ft {
		if isLifecycle(e.name) {
			c := lifecycle[e.name]
			c[0]++
			lifecycle[e.name] = c
			if !inFt(e) {
				t.Errorf("ftrace line %d (%s) outside the window", e.line, e.name)
			}
		}
	}
	for _, e := range tc {
		if isLifecycle(e.name) {
			c := lifecycle[e.name]
			c[1]++
			lifecycle[e.name] = c
			if !inTc(e) {
				t.Errorf("trace-cmd line %d (%s) outside the window", e.line, e.name)
			}
		}
	}
	for _, name := range []string{"vector_update", "vector_alloc", "vector_config", "irq_matrix_alloc", "irq_matrix_online", "cpuhp_enter"} {
		if c := lifecycle[name]; c[0] == 0 || c[0] != c[1] {
			t.Errorf("%s: %d in ftrace, %d in trace-cmd", name, c[0], c[1])
		}
	}

	// Timestamps of the paired events, after alignment. See clockAgree.
	clockAgree(t, "ftrace", tc, pairsByCPU, off)

	// trace_marker writes: the same texts in the same order, from the same
	// CPU and task, in both files (and the MANIFEST's 103). The two writes
	// of one text are separate syscalls, so their times may differ by the
	// rig's scheduling; allow 50 ms.
	var ma, mb []xev
	for _, e := range ft {
		if e.name == "print" {
			ma = append(ma, e)
		}
	}
	for _, e := range tc {
		if e.name == "print" {
			mb = append(mb, e)
		}
	}
	if int64(len(ma)) != m.counts["ftrace"]["tracing_mark_write"] || int64(len(mb)) != m.counts["trace-cmd"]["print"] {
		t.Errorf("markers: %d in ftrace, %d in trace-cmd; MANIFEST %d, %d", len(ma), len(mb),
			m.counts["ftrace"]["tracing_mark_write"], m.counts["trace-cmd"]["print"])
	}
	for i := range min(len(ma), len(mb)) {
		a, b := ma[i], mb[i]
		if a.key != b.key || a.cpu != b.cpu {
			t.Errorf("marker %d: ftrace line %d %q cpu %d, trace-cmd line %d %q cpu %d", i, a.line, a.key, a.cpu, b.line, b.key, b.cpu)
		}
		if r := a.ts - b.ts - off(b.ts); r < -50_000_000 || r > 50_000_000 {
			t.Errorf("marker %d: aligned times differ by %d ns", i, r)
		}
	}

	// Outside the window: what one file has and the other lacks is only
	// at the ends, where one recorder ran and the other did not. trace-cmd's
	// extra events are before the instance was created or after it was
	// stopped (including trace-cmd's own irq_work at its final flush);
	// ftrace has nothing outside trace-cmd's span.
	for _, e := range ft {
		if x := e.ts - off(e.ts); x < tc[0].ts-margin || x > tc[len(tc)-1].ts+margin {
			t.Errorf("ftrace line %d lies outside trace-cmd's span", e.line)
		}
	}
	for _, e := range tc {
		if e.name == "irq_work_entry" || e.name == "irq_work_exit" {
			if e.ts <= hi {
				t.Errorf("trace-cmd line %d: irq_work inside the common window, ftrace has none", e.line)
			}
		}
	}
}

// xpair is one event seen by two recorders: a by the one being checked,
// b by trace-cmd.
type xpair struct{ a, b xev }

// clockAgree checks the timestamps of events paired between a recorder and
// trace-cmd (per CPU, in order), given the aligning offset a - b as a
// function of b's time. trace-cmd recorded with the "global" clock, which
// on this VM (TSC unstable under TCG) is sched_clock_cpu(): each CPU's value
// is clamped into its tick window [gtod, gtod + TICK_NSEC] (4 ms at the
// kernel's HZ=250), and trace_clock_global never goes backwards across CPUs.
// The ftrace instance ("local") and perf read the unclamped per-CPU clock.
// Hence the allowances:
//   - most events agree to within 0.5 ms (at least 90% of them);
//   - trace-cmd may be ahead by up to about one tick (6 ms), or by more
//     when the event got the global clock's latest value, taken by
//     another CPU: the same trace-cmd timestamp is on an event of another
//     CPU (or the previous event of this one);
//   - trace-cmd may be behind by more than a tick only when its clock is
//     stuck at the ceiling of a stale window: the event carries the same
//     trace-cmd timestamp as the CPU's previous one, or the CPU was idle
//     (or offline) for at least 5 ms before it, so no tick refreshed the
//     window (a freshly onlined CPU's irq_matrix_online is such a case).
func clockAgree(t *testing.T, who string, tc []xev, byCPU map[int64][]xpair, off func(int64) int64) {
	t.Helper()
	cpusAt := map[int64]map[int64]bool{} // trace-cmd timestamp -> CPUs
	for _, e := range tc {
		if cpusAt[e.ts] == nil {
			cpusAt[e.ts] = map[int64]bool{}
		}
		cpusAt[e.ts][e.cpu] = true
	}
	n, close := 0, 0
	for cpu, ps := range byCPU {
		for i, p := range ps {
			n++
			r := p.a.ts - p.b.ts - off(p.b.ts)
			stuck := i > 0 && p.b.ts == ps[i-1].b.ts
			switch {
			case r >= -500_000 && r <= 500_000:
				close++
			case r < -6_000_000 && !stuck && len(cpusAt[p.b.ts]) < 2:
				t.Errorf("CPU %d: %s line %d (%s) is %d ns behind trace-cmd line %d", cpu, who, p.a.line, p.a.name, -r, p.b.line)
			case r > 5_000_000:
				idle := i > 0 && p.a.ts-ps[i-1].a.ts >= 5_000_000
				if !stuck && !idle {
					t.Errorf("CPU %d: trace-cmd line %d (%s) lags %s line %d by %d ns with a running clock", cpu, p.b.line, p.b.name, who, p.a.line, r)
				}
			}
		}
	}
	if n == 0 || close*10 < n*9 {
		t.Errorf("%s: %d of %d paired events within 0.5 ms of trace-cmd", who, close, n)
	}
	t.Logf("%s: %d of %d paired events within 0.5 ms of trace-cmd", who, close, n)
}

// firstMismatch returns the first index where a and b differ (by key and
// pid), or -1 if they are identical. perf prints tid -1 (comm ":-1") for a
// sample it could not attribute to a task (seen for a task that was
// exiting); that matches any pid.
func firstMismatch(a, b []xev) int {
	for i := range min(len(a), len(b)) {
		if a[i].key != b[i].key || a[i].pid != b[i].pid && a[i].pid != -1 {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func describe(s []xev, i int) string {
	if i >= len(s) {
		return "(end)"
	}
	return fmt.Sprintf("%d: %s", s[i].line, s[i].key)
}

func TestCrossCheckPerfTraceCmd(t *testing.T) {
	_, tc, pf := hotplugRenderings(t)

	// Events trace-cmd recorded and perf could not: derived from the two
	// event lists of the recording, plus the trace_marker writes (print),
	// which go to the ftrace buffers only.
	onlyTC := map[string]bool{"print": true}
	perfList := map[string]bool{}
	for _, l := range strings.Fields(readTestdata(t, "qemu-hotplug", "events-enabled-perf.txt")) {
		perfList[l] = true
	}
	for _, l := range strings.Fields(readTestdata(t, "qemu-hotplug", "events-enabled.txt")) {
		if !perfList[l] {
			onlyTC[l[strings.IndexByte(l, ':')+1:]] = true
		}
	}
	if len(onlyTC) != 2 || !onlyTC["irq_work_exit"] {
		t.Fatalf("events trace-cmd has and perf lacks: %v, want print and irq_work_exit", onlyTC)
	}
	for _, e := range pf {
		if onlyTC[e.name] {
			t.Errorf("perf line %d has %s", e.line, e.name)
		}
	}

	// perf and the global clock differ by tens of µs (MANIFEST: trace-cmd
	// minus perf at the first cpuhp_enter). The window margin must exceed
	// that; 1 ms does.
	const margin = 1_000_000
	m := readManifest(t, "qemu-hotplug")
	gotOff := firstOf(tc, "cpuhp_enter").ts - firstOf(pf, "cpuhp_enter").ts
	wantOff := nsFromText(m.firstCPUHP["trace-cmd"]) - nsFromText(m.firstCPUHP["perf"])
	if gotOff != wantOff || gotOff < -margin || gotOff > margin {
		t.Errorf("trace-cmd minus perf at the first cpuhp_enter: %d ns, MANIFEST %d ns", gotOff, wantOff)
	}

	// First offline of each CPU: trace-cmd's cpuhp_enter of takedown_cpu
	// (runs on the control CPU, target_cpu = the CPU going down).
	takedown := map[int64]xev{}
	for _, e := range tc {
		if e.name == "cpuhp_enter" && strings.Contains(e.key, "func=takedown_cpu ") {
			var cpu int64
			fmt.Sscanf(e.key[strings.Index(e.key, "target_cpu=")+len("target_cpu="):], "%d", &cpu)
			if _, ok := takedown[cpu]; !ok {
				takedown[cpu] = e
			}
		}
	}
	if _, cpu0 := takedown[0]; len(takedown) != 3 || cpu0 {
		t.Fatalf("CPUs taken down: %v, want 1, 2 and 3", takedown)
	}

	// Pids trace-cmd shows under each comm.
	tcPids := map[string]map[int64]bool{}
	for _, e := range tc {
		if tcPids[e.comm] == nil {
			tcPids[e.comm] = map[int64]bool{}
		}
		tcPids[e.comm][e.pid] = true
	}
	execs := 0
	pairsByCPU := map[int64][]xpair{}
	for cpu := int64(0); cpu < 4; cpu++ {
		var p, c []xev
		for _, e := range pf {
			if e.cpu == cpu {
				p = append(p, e)
			}
		}
		for _, e := range tc {
			if e.cpu == cpu && !onlyTC[e.name] {
				c = append(c, e)
			}
		}
		pLast := p[len(p)-1]
		if td, ok := takedown[cpu]; ok {
			// perf's coverage of the CPU ends inside its first offline:
			// the last record is the cpuhp step that removes perf's events
			// from the CPU, before the take-down; trace-cmd goes on.
			if pLast.name != "cpuhp_enter" || !strings.Contains(pLast.key, "func=perf_event_exit_cpu ") ||
				!strings.Contains(pLast.key, fmt.Sprintf("target_cpu=%d ", cpu)) {
				t.Errorf("CPU %d: perf's last record (line %d) is %q, want cpuhp_enter perf_event_exit_cpu", cpu, pLast.line, pLast.key)
			}
			if pLast.ts > td.ts+margin {
				t.Errorf("CPU %d: perf records until %d, after the take-down at %d", cpu, pLast.ts, td.ts)
			}
			after := 0
			for _, e := range c {
				if e.ts > td.ts {
					after++
				}
			}
			if after < 100 {
				t.Errorf("CPU %d: trace-cmd has only %d events after the first offline", cpu, after)
			}
		}
		// Window: both recorders running and perf covering the CPU.
		lo := max(p[0].ts, c[0].ts) + margin
		hi := min(pLast.ts, c[len(c)-1].ts) - margin
		var sp, sc []xev
		for _, e := range p {
			if e.ts >= lo && e.ts <= hi {
				sp = append(sp, e)
			}
		}
		for _, e := range c {
			if e.ts >= lo && e.ts <= hi {
				sc = append(sc, e)
			}
		}
		if len(sp) < 100 {
			t.Fatalf("CPU %d: only %d perf events in the window", cpu, len(sp))
		}
		if i := firstMismatch(sp, sc); i >= 0 {
			t.Errorf("CPU %d: sequences differ at position %d of %d/%d:\n  perf line %s\n  trace-cmd line %s",
				cpu, i, len(sp), len(sc), describe(sp, i), describe(sc, i))
			continue
		}
		for i := range sp {
			pairsByCPU[cpu] = append(pairsByCPU[cpu], xpair{sp[i], sc[i]})
			// perf's comm: its own thread map, not the kernel's cmdlines.
			a, b := sp[i].comm, sc[i].comm
			switch {
			case a == b:
			case sp[i].pid == 0 && a == "swapper" && b == "<idle>":
			case strings.HasPrefix(a, ":") && a[1:] == fmt.Sprint(sp[i].pid): // unknown to perf, incl. ":-1"
			case b == "<...>":
			case len(a) == 15 && strings.HasPrefix(a, b): // "kworker/0:1-eve" vs "kworker/0:1"
			case len(tcPids[a]) > 1 || len(tcPids[a]) == 1 && !tcPids[a][sp[i].pid]:
				// A forked child before its exec (the rig's shell forking
				// sleep, cat, dd; taskset exec'ing dd): perf names the task
				// by its comm at the time of the event, inherited from the
				// parent (which trace-cmd shows under its own pid);
				// trace-cmd by the kernel's saved cmdline for the pid, the
				// comm after the exec.
				execs++
			default:
				t.Errorf("perf line %d comm %q vs trace-cmd line %d comm %q", sp[i].line, a, sc[i].line, b)
			}
		}
	}
	if execs == 0 || execs > len(pf)/10 {
		t.Errorf("%d events with perf's pre-exec comm", execs)
	}
	// perf's clock and global: a constant offset of tens of µs, then the
	// same behaviour of the global clock as against the ftrace text.
	clockAgree(t, "perf", tc, pairsByCPU, func(int64) int64 { return -gotOff })
}

package analysis

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the model (run with -update after review):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines that differ, "-" for want, "+" for got.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n- %s\n+ %s\n", i+1, a, c)
		}
	}
	return b.String()
}

// secs formats a timestamp in ns as seconds with µs, as ftrace prints it.
func secs(ns int64) string { return fmt.Sprintf("%d.%06d", ns/1e9, ns%1e9/1e3) }

func secsp(p *int64) string {
	if p == nil {
		return "-"
	}
	return secs(*p)
}

func slotOf(cpu, vec *int32) string {
	return fmtp(cpu) + "." + fmtp(vec)
}

// timeline is a deterministic text dump of one irq's life in the model:
// its assignments and migrations in model order, with the input lines.
func timeline(q *IRQ) string {
	var b strings.Builder
	fmt.Fprintf(&b, "irq %d %s class=%s handlers=%d", q.IRQ, q.Name, q.Class, q.HandlerCount)
	for _, c := range sortedKeys(q.HandlerCPUs) {
		fmt.Fprintf(&b, " cpu%d=%d", c, q.HandlerCPUs[c])
	}
	b.WriteString("\n")
	for _, a := range q.Assignments {
		fmt.Fprintf(&b, "assign %-6s %s..%s %s->%s lines %d..%d", slotOf(a.CPU, a.Vector), secs(a.StartNS), secsp(a.EndNS),
			a.StartReason, a.EndReason, a.StartLine, a.EndLine)
		if a.Inferred {
			b.WriteString(" inferred")
		}
		if a.Clipped {
			b.WriteString(" clipped")
		}
		b.WriteString("\n")
	}
	for _, m := range q.Migrations {
		fmt.Fprintf(&b, "move   %s %s -> %s", secs(m.TS), slotOf(&m.FromCPU, m.FromVector), slotOf(m.ToCPU, m.ToVector))
		if m.EmitCPU != nil {
			fmt.Fprintf(&b, " emit=cpu%d", *m.EmitCPU)
		}
		if m.Deferred {
			b.WriteString(" deferred")
		}
		if m.Inferred {
			fmt.Fprintf(&b, " inferred(%s)", m.Evidence)
		}
		fmt.Fprintf(&b, " %s@%s line %d", m.Completion, secsp(m.CompletedNS), m.Line)
		if m.CompletionLine != 0 {
			fmt.Fprintf(&b, "/%d", m.CompletionLine)
		}
		b.WriteString("\n")
	}
	for _, p := range q.Parked {
		fmt.Fprintf(&b, "parked %s..%s line %d\n", secs(p.StartNS), secsp(p.EndNS), p.Line)
	}
	return b.String()
}

// TestGoldenTimelines pins the timelines of irq 35 (virtio2-virtqueues) and
// irq 38 (ahci) of qemu-hotplug's ftrace rendering. Reviewed against the
// raw trace (testdata/qemu-hotplug/ftrace.txt.xz); the lines they rest on:
//
// irq 38, hotplug-irq38.lifecycles.golden:
//   - 313: first handler run, on CPU 0; the vector (38) comes from line
//     16838's prev_vector. No CPU went offline before line 313, so the
//     clipped assignment holds from the trace start.
//   - 8214 "RIG: steer-then-offline immediate irq=38 ... cpu=3 eff=0",
//     8567 "after offline irq=38 eff=0": the deferred move to CPU 3 was
//     dropped when CPU 3 went offline before the irq fired; no
//     vector_update, the model keeps 0.38.
//   - 16838 "[000] d.h4. 84.934998: vector_update: irq=38 vector=33 cpu=3
//     prev_vector=38 prev_cpu=0": a deferred move (hardirq on the old CPU).
//     16846 "[000] d.h2. 84.937708: vector_free_moved: irq=38 cpu=0
//     vector=38" completes it.
//   - 17097 "CPU 3 is now offline" (85.442130): moved without events; the
//     next handler run is on CPU 1, and 17246 "after offline irq=38 eff=1".
//   - 21915 "CPU 1 is now offline" (95.389808): next run on CPU 2.
//   - 28387 "CPU 2 is now offline" (110.901599): next run on CPU 1; 28229
//     "steer-then-offline immediate irq=38 cpu=2 eff=2" and 28564 "after
//     offline irq=38 eff=1" agree; irq-affinity-after.txt: "38 ... eff=1".
//
// irq 35, hotplug-irq35.lifecycles.golden:
//   - 231: first handler run, on CPU 2 (irq-affinity-before.txt "35
//     aff=0-3 eff=2").
//   - 2577 "CPU 2 is now offline" (50.092357): the next run is on CPU 3;
//     3408/3757: "steer ... cpu=2 eff=3", "after offline irq=35 eff=3".
//   - 7327 "CPU 3 is now offline" (63.973811): moved to CPU 2, vector 41
//     from 9298's prev_vector.
//   - 9298 "[002] d.h3. 68.306762: vector_update: irq=35 vector=43 cpu=1
//     prev_vector=41 prev_cpu=2" (deferred, in cat's hardirq on CPU 2),
//     completed by 9310 "vector_free_moved: irq=35 cpu=2 vector=41".
//   - 9560 CPU 1 offline (68.874342) -> CPU 3 (9713 "after offline irq=35
//     eff=3"); 10854 CPU 3 offline -> CPU 1; 13740 CPU 1 offline -> CPU 3,
//     vector 38 from 14549's prev_vector.
//   - 14549 "[003] d.H3. 79.374426: vector_update: irq=35 vector=33 cpu=1
//     prev_vector=38 prev_cpu=3" (hardirq in softirq, 'H', on the old CPU:
//     deferred), freed at 14559.
//   - 14760 CPU 1 offline -> CPU 3 (14921 "after offline irq=35 eff=3"),
//     15852 CPU 3 offline -> CPU 1, 21915 CPU 1 offline -> CPU 3, 22722
//     CPU 3 offline -> CPU 1 (vector 37 from 23520).
//   - 23520 "[001] dNH4. 99.098266: vector_update: irq=35 vector=33 cpu=3
//     prev_vector=37 prev_cpu=1", freed at 23526; 23617 CPU 3 offline ->
//     CPU 1 (23756 "after offline irq=35 eff=1").
//   - 27331 "[003] d.h.. 108.862149: irq_handler_entry: irq=35": the run
//     on CPU 3 comes during CPU 1's take-down (takedown_cpu began at 27314,
//     "CPU 1 is now offline" only at 27341): CPU 1 was already offline and
//     the move is placed at the run. 29251 "[003] d.H3. 112.982676:
//     vector_update: irq=35 vector=33 cpu=2 prev_vector=38 prev_cpu=3",
//     freed at 29275; 29497 CPU 2 offline -> CPU 3 (29668 "after offline
//     irq=35 eff=3"); 30736 CPU 3 offline -> CPU 1, still there at the end
//     (irq-affinity-after.txt "35 ... eff=1").
func TestGoldenTimelines(t *testing.T) {
	l := loadTrace(t, realTrace{"qemu-hotplug", "ftrace.txt.xz"}.path())
	for _, irq := range []int32{35, 38} {
		q := l.m.irqByNum(irq)
		if q == nil {
			t.Fatalf("irq %d not in the model", irq)
		}
		golden(t, fmt.Sprintf("hotplug-irq%d.lifecycles.golden", irq), []byte(timeline(q)))
	}
}

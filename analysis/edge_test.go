package analysis

// Model-level tests of the cases the real traces lack, built with the
// fluent table builder (builder_test.go). Each asserts exact model values;
// timelines are compared as the deterministic dump of golden_test.go
// (times in s with µs, as ftrace prints them).

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
)

func wantTimeline(t *testing.T, m *Model, irq int32, want string) {
	t.Helper()
	q := m.irqByNum(irq)
	if q == nil {
		t.Fatalf("irq %d not in the model", irq)
	}
	want = strings.TrimLeft(want, "\n")
	if got := timeline(q); got != want {
		t.Errorf("irq %d timeline:\n%s\nwant:\n%s\n%s", irq, got, want, lineDiff(want, got))
	}
}

func wantAnomalies(t *testing.T, m *Model, want ...string) {
	t.Helper()
	var got []string
	for _, a := range m.Anomalies {
		s := fmt.Sprintf("%s line %d cpu %d", a.Kind, a.Line, a.CPU)
		if a.IRQ != nil {
			s += fmt.Sprintf(" irq %d", *a.IRQ)
		}
		if a.Explained {
			s += " explained"
		}
		got = append(got, s)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("anomalies:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func slotsString(m *Model) string {
	var b strings.Builder
	for _, s := range m.Slots {
		fmt.Fprintf(&b, "%d.%d irq %d %s %d..%s %s\n", s.CPU, s.Vector, s.IRQ, s.State, s.StartNS, fmtp(s.EndNS), s.EndReason)
	}
	return b.String()
}

// A deferred move still in progress when its old CPU goes offline is
// completed by force at the offline (tracepoints.md 2.6); the irq stays on
// its new slot.
func TestEdgeMovePendingAtUnplugOldCPU(t *testing.T) {
	m := newTB().
		At(1000, 1).Activate(30, false, true, false).
		At(2000, 1).VectorUpdate(30, 33, 1, 0, 0).
		At(3000, 1).Handler(30, "dev", 100).
		At(10000, 1).Hard().VectorUpdate(30, 34, 2, 33, 1). // line 5: 1.33 -> 2.34, deferred
		At(10100, 1).Hard().Handler(30, "dev", 100).        // the old vector still delivers
		At(20000, 0).Offline(1).                            // lines 8-10, console at 20001
		Build(t)
	wantTimeline(t, m, 30, `
irq 30 dev class=reservation-mode handlers=2 cpu1=2
assign 1.33   0.000002..0.000010 vector_update->migrated lines 2..5
assign 2.34   0.000010..- migrated-> lines 5..0
move   0.000010 1.33 -> 2.34 emit=cpu1 deferred forced_offline@0.000020 line 5/9
`)
	mg := m.irqByNum(30).Migrations[0]
	if *mg.CompletedNS != 20001 {
		t.Errorf("completed at %d, want 20001 (the console line)", *mg.CompletedNS)
	}
	if got, want := slotsString(m), "1.33 irq 30 owned 2000..10000 migrated\n1.33 irq 30 moving 10000..20001 forced_offline\n2.34 irq 30 owned 10000..nil \n"; got != want {
		t.Errorf("slots:\n%swant:\n%s", got, want)
	}
	c := m.cpuByNum(1)
	if len(c.OfflineIntervals) != 1 || *c.OfflineIntervals[0][0] != 20001 || c.OfflineIntervals[0][1] != nil {
		t.Errorf("CPU 1 offline intervals %v", c.OfflineIntervals)
	}
	if len(c.TakeDowns) != 1 || c.TakeDowns[0].StartNS != 20000 || fmtp(c.TakeDowns[0].EndNS) != "20002" || c.TakeDowns[0].Steps != 1 {
		t.Errorf("CPU 1 take-downs %+v", c.TakeDowns)
	}
	wantAnomalies(t, m)
}

// The new target goes offline before its first interrupt: the move is
// completed by force, and the irq, now on the dying CPU, is moved off it
// without events; the next handler run says where.
func TestEdgeMovePendingAtUnplugNewCPU(t *testing.T) {
	m := newTB().
		At(1000, 1).Activate(30, false, true, false).
		At(2000, 1).VectorUpdate(30, 33, 1, 0, 0).
		At(3000, 1).Handler(30, "dev", 100).
		At(10000, 1).Hard().VectorUpdate(30, 34, 2, 33, 1).
		At(10100, 1).Hard().Handler(30, "dev", 100).
		At(20000, 0).Offline(2).
		At(30000, 3).Handler(30, "dev", 100).
		Build(t)
	wantTimeline(t, m, 30, `
irq 30 dev class=reservation-mode handlers=3 cpu1=2 cpu3=1
assign 1.33   0.000002..0.000010 vector_update->migrated lines 2..5
assign 2.34   0.000010..0.000020 migrated->cpu_offline lines 5..9
assign 3.nil  0.000020..- cpu_offline_move-> lines 9..0 inferred
move   0.000010 1.33 -> 2.34 emit=cpu1 deferred forced_offline@0.000020 line 5/9
move   0.000020 2.34 -> 3.nil inferred(handler run on the new CPU) forced_offline@0.000020 line 9
`)
	if m.Counts.Migrations != 2 || m.Counts.InferredMoves != 1 {
		t.Errorf("counts %+v", m.Counts)
	}
	wantAnomalies(t, m)
}

// vector_clear during a pending move frees both slots: the move completes
// as "clear", and the irq is parked on the shutdown vector.
func TestEdgeClearDuringMove(t *testing.T) {
	m := newTB().
		At(1000, 1).VectorUpdate(31, 33, 1, 0, 0).
		At(2000, 1).Hard().VectorUpdate(31, 35, 2, 33, 1).
		At(3000, 0).Deactivate(31, false, true, false).
		At(3001, 0).VectorClear(31, 35, 2, 33, 1).
		At(3002, 0).Config(31, ManagedShutdownVector, 0).
		Build(t)
	wantTimeline(t, m, 31, `
irq 31  class=reservation-mode handlers=0
assign 1.33   0.000001..0.000002 vector_update->migrated lines 1..2
assign 2.35   0.000002..0.000003 migrated->clear lines 2..4
move   0.000002 1.33 -> 2.35 emit=cpu1 deferred clear@0.000003 line 2/4
parked 0.000003..- line 5
`)
	if got, want := slotsString(m), "1.33 irq 31 owned 1000..2000 migrated\n1.33 irq 31 moving 2000..3001 clear\n2.35 irq 31 owned 2000..3001 clear\n"; got != want {
		t.Errorf("slots:\n%swant:\n%s", got, want)
	}
	wantAnomalies(t, m)
}

// A vector_free_moved that names no move in progress is an anomaly (with
// its line); so is a second free of a completed move.
func TestEdgeOrphanFreeMoved(t *testing.T) {
	m := newTB().
		At(1000, 1).VectorUpdate(32, 33, 1, 0, 0).
		At(2000, 1).FreeMoved(32, 1, 33, false). // line 2: nothing moved
		At(3000, 1).Hard().VectorUpdate(32, 34, 2, 33, 1).
		At(4000, 1).FreeMoved(32, 1, 33, false). // line 4: completes line 3
		At(5000, 1).FreeMoved(32, 1, 33, false). // line 5: again
		Build(t)
	wantAnomalies(t, m, "orphan_free_moved line 2 cpu 1 irq 32", "orphan_free_moved line 5 cpu 1 irq 32")
	wantTimeline(t, m, 32, `
irq 32  class=unknown handlers=0
assign 1.33   0.000001..0.000003 vector_update->migrated lines 1..3
assign 2.34   0.000003..- migrated-> lines 3..0
move   0.000003 1.33 -> 2.34 emit=cpu1 deferred free_moved@0.000004 line 3/4
`)
}

// A vector_update whose prev slot is not the model's is an anomaly, and
// the model takes the kernel's word: the old assignment ends in a resync
// and the move starts from the slot the kernel names.
func TestEdgePrevSlotMismatch(t *testing.T) {
	m := newTB().
		At(1000, 1).VectorUpdate(33, 40, 1, 0, 0).
		At(2000, 2).VectorUpdate(33, 41, 3, 45, 2).
		Build(t)
	wantAnomalies(t, m, "prev_slot_mismatch line 2 cpu 2 irq 33")
	wantTimeline(t, m, 33, `
irq 33  class=unknown handlers=0
assign 1.40   0.000001..0.000002 vector_update->resync lines 1..2
assign 2.45   0.000002..0.000002 resync->migrated lines 2..2 inferred
assign 3.41   0.000002..- migrated-> lines 2..0
move   0.000002 2.45 -> 3.41 emit=cpu2 never@- line 2
`)
}

// The same when the model's CPU came from handler runs only: the kernel's
// prev_cpu wins.
func TestEdgePrevCPUMismatchAfterHandler(t *testing.T) {
	m := newTB().
		At(1000, 1).Handler(34, "h", 10).
		At(2000, 0).VectorUpdate(34, 41, 3, 45, 2).
		Build(t)
	wantAnomalies(t, m, "prev_slot_mismatch line 3 cpu 0 irq 34")
	wantTimeline(t, m, 34, `
irq 34 h class=unknown handlers=1 cpu1=1
assign 1.nil  0.000001..0.000002 before_trace->resync lines 1..3 clipped
assign 2.45   0.000002..0.000002 resync->migrated lines 3..3 inferred
assign 3.41   0.000002..- migrated-> lines 3..0
move   0.000002 2.45 -> 3.41 emit=cpu0 never@- line 3
`)
}

// A trace that starts mid-flight: exits before their entries are counted
// as orphans, and the first vector_update of an irq with a prev slot gives
// a clipped assignment from the start of the trace.
func TestEdgeMidFlightStart(t *testing.T) {
	m := newTB().
		At(1000, 0).HandlerExit(34, false).
		At(1100, 0).Sysvec(ftrace.EvLocalTimerExit, 236).
		At(2000, 1).SoftirqExit(1, "TIMER").
		At(5000, 2).VectorUpdate(35, 36, 3, 41, 2).
		At(6000, 0).Handler(34, "x", 10).
		Build(t)
	c := m.Counts
	if c.HandlerOrphans != 1 || c.SysvecOrphans != 1 || c.SoftirqOrphans != 1 || c.Handlers != 1 || c.HandlerOpen != 0 {
		t.Errorf("counts %+v", c)
	}
	if q := m.irqByNum(34); q.Unhandled != 1 || q.HandlerCount != 1 {
		t.Errorf("irq 34: unhandled %d, handlers %d", q.Unhandled, q.HandlerCount)
	}
	if m.FirstNS != 1000 || m.LastNS != 6010 || m.Events != 6 {
		t.Errorf("first %d last %d events %d", m.FirstNS, m.LastNS, m.Events)
	}
	wantTimeline(t, m, 35, `
irq 35  class=unknown handlers=0
assign 2.41   0.000001..0.000005 before_trace->migrated lines 4..4 clipped
assign 3.36   0.000005..- migrated-> lines 4..0
move   0.000005 2.41 -> 3.36 emit=cpu2 never@- line 4
`)
	wantAnomalies(t, m)
}

// An irq first seen after a CPU went offline may have been moved by that
// offline: its clipped assignment starts at the offline, not at the start
// of the trace.
func TestEdgeFirstSeenAfterOffline(t *testing.T) {
	m := newTB().
		At(1000, 0).Handler(36, "a", 10).
		At(2000, 0).Offline(3). // lines 3-5, offline at 2001
		At(3000, 1).Handler(37, "b", 10).
		Build(t)
	wantTimeline(t, m, 36, `
irq 36 a class=unknown handlers=1 cpu0=1
assign 0.nil  0.000001..- before_trace-> lines 1..0 clipped
`)
	wantTimeline(t, m, 37, `
irq 37 b class=unknown handlers=1 cpu1=1
assign 1.nil  0.000002..- first_seen-> lines 6..0 clipped
`)
	if a := m.irqByNum(37).Assignments[0]; a.StartNS != 2001 {
		t.Errorf("irq 37 known since %d, want 2001", a.StartNS)
	}
}

// LOST markers split a CPU's coverage; pairing starts again after the gap
// (an entry before it is counted open, an exit after it orphaned), and a
// marker after the CPU's last event ends its coverage as lost_events.
func TestEdgeLostMarkers(t *testing.T) {
	m := newTB().
		At(1000, 0).Sysvec(ftrace.EvLocalTimerEntry, 236).
		At(1050, 0).Sysvec(ftrace.EvLocalTimerExit, 236).
		At(1060, 0).HandlerEntry(36, "d").
		At(1100, 1).Sysvec(ftrace.EvRescheduleEntry, 253).
		At(1200, 1).Sysvec(ftrace.EvRescheduleExit, 253).
		At(1300, 0).Lost(). // line 6, CPU 0
		At(5000, 0).HandlerExit(36, true).
		At(6000, 0).Handler(36, "d", 100).
		At(9000, 1).Sysvec(ftrace.EvRescheduleEntry, 253).
		At(9100, 1).Sysvec(ftrace.EvRescheduleExit, 253).
		Lost(). // line 11, CPU 1: nothing after it
		Build(t)
	var got []string
	for _, c := range m.Coverage {
		got = append(got, fmt.Sprintf("cpu%d %d..%d %s", c.CPU, c.StartNS, c.EndNS, c.Reason))
	}
	want := []string{"cpu0 1000..1060 lost_events", "cpu0 5000..6100 trace_end", "cpu1 1100..9100 lost_events"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("coverage %v, want %v", got, want)
	}
	c := m.Counts
	if c.Handlers != 1 || c.HandlerOpen != 1 || c.HandlerOrphans != 1 || c.Sysvecs != 3 {
		t.Errorf("counts %+v", c)
	}
	if h := m.Handlers[0]; h.StartNS != 6000 || h.EntryLine != 8 || h.ExitLine != 9 {
		t.Errorf("handler %+v", h)
	}
}

// Events are taken in (timestamp, line) order, stable: a line written
// later with an earlier timestamp (another CPU's buffer) comes first, and
// equal timestamps keep the line order.
func TestEdgeOutOfOrderAcrossCPUs(t *testing.T) {
	m := newTB().
		At(3000, 0).VectorUpdate(37, 34, 2, 33, 1). // line 1, ts 3000
		At(1000, 1).HandlerEntry(37, "o").          // line 2, ts 1000: first
		At(1500, 1).HandlerExit(37, true).
		At(3000, 2).HandlerEntry(37, "o"). // line 4, ts 3000: after line 1
		At(3100, 2).HandlerExit(37, true).
		Build(t)
	if m.FirstNS != 1000 || m.LastNS != 3100 {
		t.Errorf("first %d last %d", m.FirstNS, m.LastNS)
	}
	// Read in line order, the run on CPU 2 would precede the move to it.
	wantAnomalies(t, m)
	wantTimeline(t, m, 37, `
irq 37 o class=unknown handlers=2 cpu1=1 cpu2=1
assign 1.33   0.000001..0.000003 before_trace->migrated lines 2..1 clipped
assign 2.34   0.000003..- migrated-> lines 1..0
move   0.000003 1.33 -> 2.34 emit=cpu0 never@- line 1
`)
	if m.Handlers[0].EntryLine != 2 || m.Handlers[1].EntryLine != 4 {
		t.Errorf("handlers %+v", m.Handlers)
	}
}

// A managed irq whose only CPU goes offline is shut down (parked on the
// shutdown vector, its activation ended, no migration) and activated again
// when the CPU comes back.
func TestEdgeManagedShutdownAndRestart(t *testing.T) {
	m := newTB().
		At(1000, 3).Activate(40, true, false, false).
		At(1001, 3).VectorUpdate(40, 35, 3, 0, 0).
		At(1002, 3).Config(40, 35, 3).
		At(2000, 3).Handler(40, "q", 10). // lines 4-5
		At(5000, 0).Offline(3).           // lines 6-8, console (offline) at 5001 line 7
		At(8000, 0).Online(3).            // lines 9-11, irq_matrix_online at 8001
		At(8003, 3).Activate(40, true, false, false).
		At(8004, 3).VectorUpdate(40, 36, 3, 0, 0).
		At(8005, 3).Config(40, 36, 3).
		Build(t)
	wantTimeline(t, m, 40, `
irq 40 q class=managed handlers=1 cpu3=1
assign 3.35   0.000001..0.000005 vector_update->cpu_offline lines 2..7
assign 3.36   0.000008..- vector_update-> lines 13..0
parked 0.000005..0.000008 line 7
`)
	q := m.irqByNum(40)
	if *q.Parked[0].EndNS != 8004 {
		t.Errorf("parked until %d, want 8004", *q.Parked[0].EndNS)
	}
	var acts []string
	for _, a := range q.Activations {
		acts = append(acts, fmt.Sprintf("%d..%s lines %d..%d", a.StartNS, fmtp(a.EndNS), a.StartLine, a.EndLine))
	}
	if want := []string{"1000..5001 lines 1..7", "8003..nil lines 12..0"}; !reflect.DeepEqual(acts, want) {
		t.Errorf("activations %v, want %v", acts, want)
	}
	c := m.cpuByNum(3)
	if len(c.OfflineIntervals) != 1 || *c.OfflineIntervals[0][0] != 5001 || fmtp(c.OfflineIntervals[0][1]) != "8001" {
		t.Errorf("CPU 3 offline %s..%s", fmtp(c.OfflineIntervals[0][0]), fmtp(c.OfflineIntervals[0][1]))
	}
	if len(c.BringUps) != 1 || c.BringUps[0].StartNS != 8000 || fmtp(c.BringUps[0].EndNS) != "8002" {
		t.Errorf("CPU 3 bring-ups %+v", c.BringUps)
	}
	if m.Counts.Migrations != 0 {
		t.Errorf("%d migrations", m.Counts.Migrations)
	}
	wantAnomalies(t, m)
}

// A managed irq with several CPUs in its mask is moved, not shut down: the
// parking and the activation end of the offline are undone when a handler
// shows it elsewhere.
func TestEdgeManagedMovedByOffline(t *testing.T) {
	m := newTB().
		At(1000, 3).Activate(41, true, false, false).
		At(1001, 3).VectorUpdate(41, 35, 3, 0, 0).
		At(5000, 0).Offline(3).
		At(6000, 2).Handler(41, "mq", 10).
		Build(t)
	wantTimeline(t, m, 41, `
irq 41 mq class=managed handlers=1 cpu2=1
assign 3.35   0.000001..0.000005 vector_update->cpu_offline lines 2..4
assign 2.nil  0.000005..- cpu_offline_move-> lines 4..0 inferred
move   0.000005 3.35 -> 2.nil inferred(handler run on the new CPU) forced_offline@0.000005 line 4
`)
	if q := m.irqByNum(41); len(q.Activations) != 1 || q.Activations[0].EndNS != nil {
		t.Errorf("activations %+v", q.Activations)
	}
}

// A non-managed irq displaced by an offline is placed by its next handler
// run, and the vector comes from the next vector_update's prev slot.
func TestEdgeDisplacedAnchoredByHandlerThenUpdate(t *testing.T) {
	m := newTB().
		At(1000, 2).VectorUpdate(41, 41, 2, 0, 0).
		At(2000, 0).Offline(2). // lines 2-4
		At(3000, 3).Handler(41, "n", 10).
		At(4000, 3).Hard().VectorUpdate(41, 50, 1, 38, 3).
		Build(t)
	wantTimeline(t, m, 41, `
irq 41 n class=unknown handlers=1 cpu3=1
assign 2.41   0.000001..0.000002 vector_update->cpu_offline lines 1..3
assign 3.38   0.000002..0.000004 cpu_offline_move->migrated lines 3..7 inferred
assign 1.50   0.000004..- migrated-> lines 7..0
move   0.000002 2.41 -> 3.38 inferred(handler run on the new CPU; next vector_update prev_cpu/prev_vector) forced_offline@0.000002 line 3
move   0.000004 3.38 -> 1.50 emit=cpu3 deferred never@- line 7
`)
	wantAnomalies(t, m)
}

// ... or by the next vector_update alone.
func TestEdgeDisplacedAnchoredByUpdate(t *testing.T) {
	m := newTB().
		At(1000, 2).VectorUpdate(42, 41, 2, 0, 0).
		At(2000, 0).Offline(2).
		At(4000, 0).VectorUpdate(42, 50, 1, 38, 3).
		Build(t)
	wantTimeline(t, m, 42, `
irq 42  class=unknown handlers=0
assign 2.41   0.000001..0.000002 vector_update->cpu_offline lines 1..3
assign 3.38   0.000002..0.000004 cpu_offline_move->migrated lines 3..5 inferred
assign 1.50   0.000004..- migrated-> lines 5..0
move   0.000002 2.41 -> 3.38 inferred(next vector_update prev_cpu/prev_vector) forced_offline@0.000002 line 3
move   0.000004 3.38 -> 1.50 emit=cpu0 never@- line 5
`)
	wantAnomalies(t, m)
}

// Never seen again after the offline: the move is kept with an unknown
// destination.
func TestEdgeDisplacedNeverSeen(t *testing.T) {
	m := newTB().
		At(1000, 2).VectorUpdate(43, 41, 2, 0, 0).
		At(2000, 0).Offline(2).
		Build(t)
	wantTimeline(t, m, 43, `
irq 43  class=unknown handlers=0
assign 2.41   0.000001..0.000002 vector_update->cpu_offline lines 1..3
move   0.000002 2.41 -> nil.nil inferred(CPU offline) forced_offline@0.000002 line 3
`)
}

// A handler run elsewhere while the irq's CPU is inside takedown_cpu is
// the offline itself (qemu-iommu line 8025, TestRealIOMMUTakedownRun);
// outside a take-down it is an anomaly.
func TestEdgeHandlerDuringTakedown(t *testing.T) {
	m := newTB().
		At(1000, 2).VectorUpdate(43, 41, 2, 0, 0).
		At(2000, 0).HPEnter(2, 0, 153, "takedown_cpu", false).
		At(2500, 1).Handler(43, "t", 10). // lines 3-4
		At(3000, 0).Console("smpboot: CPU 2 is now offline").
		At(3001, 0).HPExit(2, 92, 153, 0).
		Build(t)
	wantAnomalies(t, m)
	wantTimeline(t, m, 43, `
irq 43 t class=unknown handlers=1 cpu1=1
assign 2.41   0.000001..0.000002 vector_update->cpu_offline lines 1..3
assign 1.nil  0.000002..- cpu_offline_move-> lines 3..0 inferred
move   0.000002 2.41 -> 1.nil inferred(handler run on the new CPU) forced_offline@0.000002 line 3
`)
	if c := m.cpuByNum(2); len(c.OfflineIntervals) != 1 || *c.OfflineIntervals[0][0] != 2500 {
		t.Errorf("CPU 2 offline %v", c.OfflineIntervals)
	}

	m = newTB().
		At(1000, 2).VectorUpdate(43, 41, 2, 0, 0).
		At(2500, 1).Handler(43, "t", 10).
		Build(t)
	wantAnomalies(t, m, "handler_on_unexpected_cpu line 2 cpu 1 irq 43")
}

// cpuhp steps pair by (hotplugged CPU, step), whatever CPU writes the
// exit; an exit with no enter is counted unpaired.
func TestEdgeHotplugPairing(t *testing.T) {
	m := newTB().
		At(1000, 0).HPEnter(1, 236, 91, "bringup_cpu", false).
		At(1500, 1).MatrixGlobal(ftrace.EvMatrixOnline, 4, 771, 12, 27).
		At(2000, 2).HPExit(1, 236, 91, 0). // the control task woke on CPU 2
		At(3000, 1).HPEnter(1, 236, 159, "blk_mq_hctx_notify_online", true).
		At(3010, 1).HPExit(1, 159, 159, 0).
		At(3020, 1).HPEnter(1, 236, 159, "blk_mq_hctx_notify_online", true).
		At(3030, 1).HPExit(1, 159, 159, -16).
		At(4000, 1).HPExit(1, 200, 201, 0). // no enter
		Build(t)
	var got []string
	for _, s := range m.cpuByNum(1).HotplugSteps {
		got = append(got, fmt.Sprintf("%d %s step %d run %d multi=%v down=%v state %s ret %s dur %s lines %d/%d",
			s.TS, s.Callback, s.Step, s.RunOnCPU, s.Multi, s.Down, fmtp(s.State), fmtp(s.Ret), fmtp(s.DurationNS), s.Line, s.ExitLine))
	}
	want := []string{
		"1000 bringup_cpu step 91 run 0 multi=false down=false state 236 ret 0 dur 1000 lines 1/3",
		"3000 blk_mq_hctx_notify_online step 159 run 1 multi=true down=false state 159 ret 0 dur 10 lines 4/5",
		"3020 blk_mq_hctx_notify_online step 159 run 1 multi=true down=false state 159 ret -16 dur 10 lines 6/7",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Counts.HotplugSteps != 3 || m.Counts.HotplugUnpaired != 1 {
		t.Errorf("counts %+v", m.Counts)
	}
}

// IPI sends pair with the next receive of their kind on each target; a
// send made while the target's handler of that kind runs waits for the
// next entry; a send never received is unanswered.
func TestEdgeIPIs(t *testing.T) {
	const cfs = "generic_smp_call_function_single_interrupt+0x0/0x10"
	m := newTB().
		At(1000, 0).IPISendCPU(2, "0x0").
		At(1500, 2).Sysvec(ftrace.EvRescheduleEntry, 253).
		At(1600, 2).Sysvec(ftrace.EvRescheduleExit, 253).
		At(2000, 0).IPISendMask("6", cfs). // CPUs 1 and 2: call_function
		At(2500, 1).Sysvec(ftrace.EvCallFunctionEntry, 252).
		At(2600, 1).Sysvec(ftrace.EvCallFunctionExit, 252).
		At(3000, 3).Sysvec(ftrace.EvRescheduleEntry, 253).
		At(3100, 0).IPISendCPU(3, "0x0"). // line 8, while CPU 3's handler runs
		At(3200, 3).Sysvec(ftrace.EvRescheduleExit, 253).
		At(4000, 3).Sysvec(ftrace.EvRescheduleEntry, 253). // line 10 answers line 8
		At(4100, 3).Sysvec(ftrace.EvRescheduleExit, 253).
		At(5000, 0).IPISendCPU(1, cfs).
		At(5100, 1).Sysvec(ftrace.EvCallFunctionSingleEntry, 251).
		At(5200, 1).Sysvec(ftrace.EvCallFunctionSingleExit, 251).
		At(6000, 0).IPISendCPU(0, "nohz_full_kick_func+0x0/0x10").
		At(6050, 0).Sysvec(ftrace.EvIRQWorkEntry, 246).
		At(6060, 0).Sysvec(ftrace.EvIRQWorkExit, 246).
		Build(t)
	var got []string
	for _, d := range m.IPIs {
		got = append(got, fmt.Sprintf("%d->%d %s %d->%s lines %d/%d", d.FromCPU, d.ToCPU, d.Kind, d.SendNS, fmtp(d.ReceiveNS), d.SendLine, d.RecvLine))
	}
	want := []string{
		"0->2 reschedule 1000->1500 lines 1/2",
		"0->1 call_function 2000->2500 lines 4/5",
		"0->2 call_function 2000->nil lines 4/0",
		"0->3 reschedule 3100->4000 lines 8/10",
		"0->1 call_function_single 5000->5100 lines 12/13",
		"0->0 irq_work 6000->6050 lines 15/16",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IPIs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Counts.IPISends != 6 || m.Counts.IPIUnanswered != 1 || m.Counts.Sysvecs != 6 {
		t.Errorf("counts %+v", m.Counts)
	}
}

// A send whose target then has a LOST gap is clipped, not unanswered, and
// not answered by a receive after the gap.
func TestEdgeIPIAcrossGap(t *testing.T) {
	m := newTB().
		At(1000, 0).IPISendCPU(2, "0x0").
		At(1100, 2).Lost().
		At(5000, 2).Sysvec(ftrace.EvRescheduleEntry, 253).
		At(5100, 2).Sysvec(ftrace.EvRescheduleExit, 253).
		Build(t)
	if d := m.IPIs[0]; d.ReceiveNS != nil || !d.Clipped {
		t.Errorf("IPI %+v", d)
	}
	if m.Counts.IPIUnanswered != 0 {
		t.Errorf("counts %+v", m.Counts)
	}
}

// softirq_raise -> softirq_entry latency: the first raise since the last
// run counts; an entry with no raise seen has none.
func TestEdgeSoftirqLatency(t *testing.T) {
	m := newTB().
		At(1000, 0).SoftirqRaise(1, "TIMER").
		At(1200, 0).SoftirqEntry(1, "TIMER").
		At(1300, 0).SoftirqExit(1, "TIMER").
		At(2000, 0).SoftirqEntry(9, "RCU").
		At(2100, 0).SoftirqExit(9, "RCU").
		At(3000, 1).SoftirqRaise(3, "NET_RX").
		At(3001, 1).SoftirqRaise(3, "NET_RX").
		At(3500, 1).SoftirqEntry(3, "NET_RX").
		At(3600, 1).SoftirqExit(3, "NET_RX").
		Build(t)
	var got []string
	for _, r := range m.Softirqs {
		got = append(got, fmt.Sprintf("cpu%d vec %d %s raise %s run %d..%d line %d", r.CPU, r.Vec, r.Action, fmtp(r.RaiseNS), r.StartNS, r.EndNS, r.EntryLine))
	}
	want := []string{
		"cpu0 vec 1 TIMER raise 1000 run 1200..1300 line 2",
		"cpu0 vec 9 RCU raise nil run 2000..2100 line 4",
		"cpu1 vec 3 NET_RX raise 3000 run 3500..3600 line 8",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("softirqs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Nested handlers on one CPU pair by irq with their depth; a shared irq
// lists its actions; ret=unhandled is counted.
func TestEdgeNestedHandlers(t *testing.T) {
	m := newTB().
		At(1000, 0).HandlerEntry(50, "a").
		At(1100, 0).Flags("d.H2.").HandlerEntry(51, "b").
		At(1200, 0).Flags("d.H2.").HandlerExit(51, true).
		At(1300, 0).HandlerExit(50, false).
		At(1400, 0).HandlerEntry(50, "a2").
		At(1450, 0).HandlerExit(50, true).
		Build(t)
	var got []string
	for _, h := range m.Handlers {
		got = append(got, fmt.Sprintf("cpu%d irq %d %s %d..%d handled=%v depth %d lines %d/%d", h.CPU, h.IRQ, h.Name, h.StartNS, h.EndNS, h.Handled, h.Depth, h.EntryLine, h.ExitLine))
	}
	want := []string{
		"cpu0 irq 50 a 1000..1300 handled=false depth 0 lines 1/4",
		"cpu0 irq 51 b 1100..1200 handled=true depth 1 lines 2/3",
		"cpu0 irq 50 a2 1400..1450 handled=true depth 0 lines 5/6",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("handlers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	q := m.irqByNum(50)
	if q.Name != "a" || !reflect.DeepEqual(q.Actions, []string{"a", "a2"}) || q.Unhandled != 1 || q.HandlerCount != 2 {
		t.Errorf("irq 50: name %q actions %v unhandled %d count %d", q.Name, q.Actions, q.Unhandled, q.HandlerCount)
	}
}

// Deferred is set exactly for a vector_update written in hardirq context
// ('h' or 'H') on its prev_cpu.
func TestEdgeDeferred(t *testing.T) {
	m := newTB().
		At(1000, 1).Hard().VectorUpdate(60, 33, 2, 40, 1).
		At(2000, 3).Hard().VectorUpdate(61, 33, 2, 40, 1).
		At(3000, 1).VectorUpdate(62, 33, 2, 40, 1).
		At(4000, 1).Flags("d.s1.").VectorUpdate(63, 33, 2, 40, 1).
		At(5000, 1).Flags("d.H1.").VectorUpdate(64, 33, 2, 40, 1).
		Build(t)
	want := map[int32]bool{60: true, 61: false, 62: false, 63: false, 64: true}
	for irq, d := range want {
		if got := m.irqByNum(irq).Migrations[0].Deferred; got != d {
			t.Errorf("irq %d: deferred=%v, want %v", irq, got, d)
		}
	}
}

// The matrix cross-check: a counter off the kernel's is an unexplained
// mismatch when no CPU went offline or online since the previous
// irq_matrix event, an explained one after a hotplug.
func TestEdgeMatrixCheck(t *testing.T) {
	m := newTB().
		At(1000, 0).MatrixCPU(ftrace.EvMatrixAlloc, mx{33, 1, true, 190, 10, 4, 4, 770, 12, 31}).
		At(2000, 0).MatrixCPU(ftrace.EvMatrixAlloc, mx{34, 1, true, 189, 11, 4, 4, 769, 12, 32}).
		At(3000, 0).MatrixCPU(ftrace.EvMatrixFree, mx{33, 1, true, 190, 10, 4, 4, 770, 12, 31}).
		At(4000, 0).MatrixCPU(ftrace.EvMatrixFree, mx{34, 1, true, 191, 10, 4, 4, 771, 12, 30}). // alloc should be 9
		At(5000, 0).Offline(3).                                                                  // lines 5-7
		At(6000, 0).MatrixCPU(ftrace.EvMatrixAlloc, mx{35, 1, true, 190, 11, 4, 3, 700, 12, 29}).
		Build(t)
	mm := m.Matrix
	if mm.Events != 5 || mm.Checks != 28 || mm.Matches != 24 || mm.Unexplained != 1 || mm.Explained != 3 {
		t.Errorf("matrix %+v", mm)
	}
	wantAnomalies(t, m,
		"matrix_mismatch line 4 cpu 0",
		"matrix_mismatch line 8 cpu 0 explained",
		"matrix_mismatch line 8 cpu 0 explained",
		"matrix_mismatch line 8 cpu 0 explained")
	var msgs []string
	for _, a := range m.Anomalies {
		msgs = append(msgs, a.Message[:strings.Index(a.Message, ",")])
	}
	if want := "irq_matrix_free: cpu1.alloc = 10|irq_matrix_alloc: global_avl = 700|irq_matrix_alloc: total_alloc = 29|irq_matrix_alloc: online_maps = 3"; strings.Join(msgs, "|") != want {
		t.Errorf("messages %q, want %q", strings.Join(msgs, "|"), want)
	}
}

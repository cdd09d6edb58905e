package scenario

import (
	"fmt"
	"strings"
)

// Generator makes one kind of scenario from a seed.
type Generator struct {
	Name      string
	Mode      string
	LookAlike bool
	Doc       string
	Gen       func(seed uint64) *Scenario
}

// Catalog lists every scenario generator: each failure mode of
// tracepoints.md section 5 and its clean look-alikes.
var Catalog = []Generator{
	{"silent-after-move", "lost-interrupt", false, "a NIC queue irq is moved (deferred vector_update) and never fires again while the other queues of the NIC keep firing", SilentAfterMove},
	{"idle-after-move", "lost-interrupt", true, "a NIC queue irq is moved and the whole NIC goes idle right after (I/O ended): no warning", IdleAfterMove},
	{"silent-after-move-clipped", "lost-interrupt", false, "as silent-after-move, but a CPU loses events during the silence: the finding must be weakened to info", SilentAfterMoveClipped},
	{"torn-slot", "spurious-vector", false, "\"No irq handler\" on (new cpu, old vector) or (old cpu, new vector) microseconds after a vector_update: a torn MSI write", TornSlot},
	{"stale-slot", "spurious-vector", true, "\"No irq handler\" on a slot freed long before (or a mixed slot long after the move): a stale delivery, warning but not torn", StaleSlot},
	{"retrigger-two-step", "irr-retrigger", false, "the moved irq runs on its new CPU microseconds after a deferred vector_update: a resent interrupt", RetriggerTwoStep},
	{"retrigger-two-step-ftrace", "irr-retrigger", false, "as retrigger-two-step, with function-tracer lines of irq_chip_retrigger_hierarchy / apic_retrigger_irq: direct evidence", RetriggerTwoStepFtrace},
	{"offline-lost", "lost-interrupt", false, "the irq's CPU is taken down, the interrupt pending in its IRR is lost (APIC already soft-disabled) and the irq never fires again while its NIC stays busy", OfflineLost},
	{"offline-retrigger", "irr-retrigger", true, "the irq's CPU is taken down and fixup_irqs resends the pending interrupt: it runs on the new CPU right after the take-down", OfflineRetrigger},
	{"ipi-unanswered", "ipi-unanswered", false, "a call-function IPI to a CPU that never takes it (6.6 kernel with ipi events)", IPIUnanswered},
	{"ipi-answered", "ipi-unanswered", true, "the same IPI, taken late (the target had interrupts off for a while)", IPIAnswered},
	{"hotplug-lost-wakeup", "hotplug-lost-wakeup", false, "a task woken every few ms sleeps on CPU D, D goes offline, and it is never woken again while its waker keeps running", HotplugLostWakeup},
	{"hotplug-woken", "hotplug-lost-wakeup", true, "the same task is woken on another CPU after the offline", HotplugWoken},
	{"lost-events", "trace-data-loss", false, "a CPU's buffer overruns while the trace is read: CPU:N [LOST EVENTS]", LostEvents},
	{"unhandled-storm", "unhandled-irq", false, "a shared level irq storms with IRQ_NONE from every action until \"nobody cared\" / \"Disabling IRQ #N\" (the ring buffer overruns in the storm)", UnhandledStorm},
	{"shared-irq-busy", "unhandled-irq", true, "a busy shared line where one action handles every interrupt and the other returns IRQ_NONE: normal", SharedIRQBusy},
	{"move-never-freed", "move-never-completed", false, "an irq moves and fires on its new CPU, but the old vector is never freed", MoveNeverFreed},
	{"move-freed", "move-never-completed", true, "the same move, cleaned up by vector_free_moved", MoveFreed},
	{"clean-busy", "none", true, "a busy machine with affinity moves, hotplug cycles, retriggers and IPIs, nothing wrong", CleanBusy},
}

// All generates every scenario of the catalog for seed.
func All(seed uint64) []*Scenario {
	out := make([]*Scenario, 0, len(Catalog))
	for _, g := range Catalog {
		out = append(out, Generate(g, seed))
	}
	return out
}

// ByName generates the scenario named name.
func ByName(name string, seed uint64) (*Scenario, error) {
	for _, g := range Catalog {
		if g.Name == name {
			return Generate(g, seed), nil
		}
	}
	return nil, fmt.Errorf("no scenario %q", name)
}

// Generate runs g for seed and fills the common fields.
func Generate(g Generator, seed uint64) *Scenario {
	sc := g.Gen(seed)
	sc.Name, sc.Mode, sc.LookAlike, sc.Seed = g.Name, g.Mode, g.LookAlike, seed
	return sc
}

// ---- (a) a device goes silent after a migration ----

// moveSetup picks a NIC queue with at least two siblings and a target CPU,
// and the time of the affinity write (after 20+ runs, leaving 1.6 s).
func (m *machine) moveSetup() (q *IRQ, to int32, at int64) {
	q = m.nic[m.s.R.IntN(len(m.nic))]
	to = m.otherCPU(q.CPU)
	at = m.start + m.s.Us(700_000, 1_300_000)
	return
}

// SilentAfterMove plants a lost interrupt: the moved queue never fires again.
func SilentAfterMove(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "silent-after-move", 0)
	q, to, at := m.moveSetup()
	if m.end-at < 2_000_000_000 {
		m.end = at + 2_000_000_000
		m.s.End = m.end
	}
	lb := &labeler{}
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		q.Stopped = true // the device waits for an interrupt that never came
		lb.add(Label{Rule: "lost-interrupt", Severity: "warning", IRQ: q.N, CPU: mv.To, TS: mv.TS,
			Why: fmt.Sprintf("irq %d (%s) moved %d.%d -> %d.%d and never fired again; siblings busy", q.N, q.Name, mv.From, mv.FromVec, mv.To, mv.ToVec)}, mv.Update)
	}
	m.affinity(q, to, at)
	m.fireAll()
	if m.s.R.IntN(3) == 0 {
		// A driver watchdog notices later.
		t := at + m.s.Us(1_000_000, 1_600_000)
		m.s.At(t, func() {
			m.s.Console(t, m.s.randomOnline(-1), "d.s..", timeoutMsg(q.Name, int(q.N-m.nic[0].N)))
		})
	}
	return m.render(&Scenario{}, lb)
}

// IdleAfterMove: the whole device goes idle after the move.
func IdleAfterMove(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "idle-after-move", 0)
	q, to, at := m.moveSetup()
	runsOnNew := m.s.R.IntN(2) * (1 + m.s.R.IntN(3))
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		stop := mv.TS + s.Us(0, 40_000)
		for _, x := range m.nic {
			if x != q {
				x.to = min(x.to, stop+s.Us(0, 5_000))
			}
		}
		if runsOnNew == 0 {
			q.Stopped = true
			return
		}
		q.to = stop + s.Us(5_000, 30_000)
	}
	m.affinity(q, to, at)
	m.fireAll()
	sc := &Scenario{Facts: []string{fmt.Sprintf("irq %d (%s) moved to CPU %d; every queue of the NIC stops within 45 ms (%d runs on the new CPU)", q.N, q.Name, to, runsOnNew)}}
	return m.render(sc, &labeler{})
}

// SilentAfterMoveClipped: the silence overlaps a LOST gap of some CPU.
func SilentAfterMoveClipped(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "silent-after-move-clipped", 0)
	q, to, at := m.moveSetup()
	if m.end-at < 2_000_000_000 {
		m.end = at + 2_000_000_000
		m.s.End = m.end
	}
	lb := &labeler{}
	gapCPU := int32(m.s.R.IntN(m.s.CPUs()))
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		q.Stopped = true
		from := mv.TS + s.Us(50_000, 400_000)
		to := from + s.Us(30_000, 300_000)
		s.T.Lose(gapCPU, from, to)
		lb.add(Label{Rule: "lost-interrupt", Severity: "info", Max: "info", IRQ: q.N, CPU: mv.To, TS: mv.TS, Weakened: "yes",
			Why: fmt.Sprintf("irq %d silent after its move, but CPU %d lost events during the silence", q.N, gapCPU)}, mv.Update)
		s.At(to, func() {
			last := s.lastBefore(gapCPU, from)
			lb.add(Label{Rule: "trace-data-loss", Severity: "warning", IRQ: -1, CPU: gapCPU, TS: last, Slack: 1000,
				Why: fmt.Sprintf("CPU %d lost its events from %s to %s", gapCPU, secs(from), secs(to))})
		})
	}
	m.affinity(q, to, at)
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// ---- (b) torn-slot delivery ----

// TornSlot plants "No irq handler" on a mixed slot right after a move.
func TornSlot(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "torn-slot", 0)
	q := m.ahci
	if m.s.R.IntN(2) == 0 {
		q = m.nic[m.s.R.IntN(len(m.nic))]
	}
	// A target whose next vector differs from the old one (else both
	// mixes are the real slots and nothing can tear) and leaves a mixed
	// slot that no irq owns.
	var to int32 = -1
	for _, c := range m.s.R.Perm(m.s.CPUs()) {
		b := m.s.cpus[c]
		if int32(c) == q.CPU || b.freeVector() == q.Vec {
			continue
		}
		_, ownA := b.used[q.Vec]
		_, ownB := m.s.cpus[q.CPU].used[b.freeVector()]
		if !ownA || !ownB {
			to = int32(c)
			break
		}
	}
	if to < 0 {
		to = m.otherCPU(q.CPU)
	}
	at := m.start + m.s.Us(400_000, 2_000_000)
	lb := &labeler{}
	newCPUOldVec := m.s.R.IntN(2) == 0
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		if mv.FromVec == mv.ToVec {
			// Same vector on both CPUs: nothing can tear. Move again.
			m.affinity(q, m.otherCPU(q.CPU, mv.From), mv.TS+s.Us(50_000, 150_000))
			return
		}
		c, v := mv.To, mv.FromVec
		if !newCPUOldVec {
			c, v = mv.From, mv.ToVec
		}
		if _, used := s.cpus[c].used[v]; used {
			// That slot has an owner: the stray vector would run its
			// handler, not print. Use the other mix.
			c, v = mv.To, mv.FromVec
			if newCPUOldVec {
				c, v = mv.From, mv.ToVec
			}
		}
		t := mv.TS + s.Us(2, 40)
		r := s.Console(t, c, "d.h1.", fmt.Sprintf(s.K.NoHandler, c, v))
		lb.add(Label{Rule: "spurious-vector", Severity: "error", IRQ: q.N, CPU: c, TS: t, Slack: 1000,
			Why: fmt.Sprintf("irq %d moved %d.%d -> %d.%d; the device fired on the torn slot %d.%d", q.N, mv.From, mv.FromVec, mv.To, mv.ToVec, c, v)}, r)
	}
	m.affinity(q, to, at)
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// StaleSlot: a "No irq handler" on a slot freed long before.
func StaleSlot(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "stale-slot", 0)
	q := m.ahci
	to := m.otherCPU(q.CPU)
	at := m.start + m.s.Us(400_000, 1_500_000)
	lb := &labeler{}
	freed := m.s.R.IntN(3) != 0
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		if freed {
			// The freed old slot, after its cleanup.
			var check func()
			t := mv.TS + s.Us(30_000, 60_000)
			check = func() {
				if mv.Freed == 0 {
					t += 20_000_000
					s.At(t, check)
					return
				}
				c, v := mv.From, mv.FromVec
				if _, used := s.cpus[c].used[v]; used || !s.IsOnline(c) {
					return
				}
				tt := t + s.Us(0, 800_000)
				s.At(tt, func() {
					r := s.Console(tt, c, "d.h1.", fmt.Sprintf(s.K.NoHandler, c, v))
					lb.add(Label{Rule: "spurious-vector", Severity: "warning", Max: "warning", IRQ: q.N, CPU: c, TS: tt, Slack: 1000,
						Why: fmt.Sprintf("late delivery to %d.%d, freed at %s", c, v, secs(mv.Freed))}, r)
				})
			}
			s.At(t, check)
			return
		}
		// The (new cpu, old vector) mix, but long after the move.
		c, v := mv.To, mv.FromVec
		if _, used := s.cpus[c].used[v]; used {
			return
		}
		t := mv.TS + s.Us(30_000, 900_000)
		s.At(t, func() {
			if _, used := s.cpus[c].used[v]; used || !s.IsOnline(c) {
				return
			}
			r := s.Console(t, c, "d.h1.", fmt.Sprintf(s.K.NoHandler, c, v))
			lb.add(Label{Rule: "spurious-vector", Severity: "warning", Max: "warning", IRQ: -1, CPU: c, TS: t, Slack: 1000,
				Why: fmt.Sprintf("delivery to %d.%d %s after the move that could have torn it", c, v, secs(t-mv.TS))}, r)
		})
	}
	m.affinity(q, to, at)
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// ---- (c) retrigger after a two-step update ----

func retrigger(seed uint64, ftrace bool) *Scenario {
	name := "retrigger-two-step"
	if ftrace {
		name += "-ftrace"
	}
	m := newMachine(seed, Kernel61, name, 0)
	if ftrace {
		m.s.T.Tracer = "function"
	}
	q := m.nic[m.s.R.IntN(len(m.nic))]
	if m.s.R.IntN(3) == 0 {
		q = m.ahci
	}
	to := m.otherCPU(q.CPU)
	at := m.start + m.s.Us(300_000, 2_500_000)
	lb := &labeler{}
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		var frefs []Ref
		if ftrace {
			// msi_set_affinity found the new vector pending in the old
			// CPU's IRR and called the chip's irq_retrigger.
			t := mv.TS + s.Us(3, 8)
			fl := s.T.Event(mv.Update).Flags
			frefs = append(frefs, s.Emit(t, mv.From, fl, "", "irq_chip_retrigger_hierarchy <-msi_set_affinity"),
				s.Emit(t+1000, mv.From, fl, "", "apic_retrigger_irq <-irq_chip_retrigger_hierarchy"))
		}
		// The resent interrupt reaches the new CPU once the old CPU's
		// handler (for the interrupt that triggered the move) is done.
		t := mv.TS + s.Us(140, 400)
		s.At(t, func() {
			st, _ := s.Run1(q, mv.To, t)
			// The rule reports the first run on the new CPU within its
			// window: this one, or the device's next that came first.
			l := Label{Rule: "irr-retrigger", Severity: "info", Max: "info", IRQ: q.N, CPU: mv.To, TS: st, Slack: 1e6, Evidence: "inferred",
				Why: fmt.Sprintf("irq %d resent to CPU %d %s after its vector_update", q.N, mv.To, secs(st-mv.TS))}
			if ftrace {
				l.Evidence = "direct"
				lb.add(l, frefs...)
				return
			}
			lb.add(l, mv.Update)
		})
	}
	m.affinity(q, to, at)
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// RetriggerTwoStep plants a resent interrupt after a deferred move.
func RetriggerTwoStep(seed uint64) *Scenario { return retrigger(seed, false) }

// RetriggerTwoStepFtrace adds the function tracer's proof.
func RetriggerTwoStepFtrace(seed uint64) *Scenario { return retrigger(seed, true) }

// ---- (d) interrupt arriving while the APIC is disabled at offline ----

func offline(seed uint64, lost bool) *Scenario {
	name := "offline-retrigger"
	if lost {
		name = "offline-lost"
	}
	m := newMachine(seed, Kernel61, name, 0)
	s := m.s
	// The irq: a NIC queue on a CPU other than 0 (CPU 0 runs the hotplug).
	var cands []*IRQ
	for _, q := range m.nic {
		if q.CPU != 0 {
			cands = append(cands, q)
		}
	}
	q := cands[s.R.IntN(len(cands))]
	d := q.CPU
	at := m.start + s.Us(800_000, 1_300_000)
	if m.end-at < 2_200_000_000 {
		m.end = at + 2_200_000_000
		s.End = m.end
	}
	comeBack := s.R.IntN(2) == 0
	if lost && !comeBack {
		// Proof that the irq is not managed: irqbalance moved it earlier.
		x := m.otherCPU(d, 0)
		m.affinity(q, x, m.start+s.Us(100_000, 300_000))
		m.affinity(q, d, m.start+s.Us(400_000, 600_000))
	}
	lb := &labeler{}
	q.OnOffline = func(s *Sim, q *IRQ, from, to int32) bool {
		if lost {
			q.Stopped = true
			return false
		}
		return true
	}
	h := s.Offline(d, 0, m.ctl.comm, m.ctl.pid, at)
	if comeBack {
		s.Online(d, 0, m.rig.comm, m.rig.pid, at+s.Us(600_000, 1_000_000))
	}
	m.fireAll()
	m.s.Run()
	to := h.Moved[q.N]
	if lost {
		lb.add(Label{Rule: "lost-interrupt", Severity: "warning", IRQ: q.N, CPU: -1, TS: h.Dead, Slack: h.ConsoleTS - h.Dead + 2e6,
			Why: fmt.Sprintf("irq %d (%s) on CPU %d lost at its take-down (pending in the soft-disabled APIC); never fires again while the NIC stays busy", q.N, q.Name, d)})
	} else {
		// The rule reports the irq's first run on the new CPU: the resent
		// one, or one raised during stop_machine and taken just before.
		lb.add(Label{Rule: "irr-retrigger", Severity: "info", Max: "info", IRQ: q.N, CPU: to, TS: h.Retriggered[q.N], Slack: 3e6,
			Why: fmt.Sprintf("irq %d resent to CPU %d by fixup_irqs after CPU %d went down", q.N, to, d)})
	}
	sc := &Scenario{Facts: []string{fmt.Sprintf("CPU %d offline: take-down at %s, dead at %s (untraced), last event %s, console at %s; comes back: %v",
		d, secs(h.Takedown), secs(h.Dead), secs(h.LastEvent), secs(h.ConsoleTS), comeBack)}}
	return m.render(sc, lb)
}

// OfflineLost plants an interrupt lost at CPU offline.
func OfflineLost(seed uint64) *Scenario { return offline(seed, true) }

// OfflineRetrigger: the interrupt is resent to the new CPU.
func OfflineRetrigger(seed uint64) *Scenario { return offline(seed, false) }

// ---- (e) unanswered IPI ----

func ipi(seed uint64, lost bool) *Scenario {
	name := "ipi-answered"
	if lost {
		name = "ipi-unanswered"
	}
	m := newMachine(seed, Kernel66, name, 0)
	s := m.s
	t := m.start + s.Us(500_000, 1_800_000)
	target := int32(1 + s.R.IntN(s.CPUs()-1))
	from := m.otherCPU(target)
	lb := &labeler{}
	if lost {
		s.Deaf(target, t)
	}
	s.At(t, func() {
		send := s.SendIPI(from, target, "call_function_single", t)
		if lost {
			lb.add(Label{Rule: "ipi-unanswered", Severity: "warning", IRQ: -1, CPU: target, TS: t, Slack: 1000,
				Why: fmt.Sprintf("CPU %d sent a call-function IPI to CPU %d, which never took it", from, target)}, send)
			return
		}
		// Taken late: the target had interrupts off for a while.
		rt := t + s.Us(1_000, 60_000)
		s.At(rt, func() { s.Receive(target, "call_function_single", 251, rt) })
	})
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// IPIUnanswered plants an IPI its target never takes.
func IPIUnanswered(seed uint64) *Scenario { return ipi(seed, true) }

// IPIAnswered: the same IPI, taken late.
func IPIAnswered(seed uint64) *Scenario { return ipi(seed, false) }

// ---- (g) LOST markers, unhandled storms ----

// LostEvents: a CPU's buffer overruns mid-trace; some buffers also lost
// their oldest pages.
func LostEvents(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "lost-events", 0)
	s := m.s
	c := int32(s.R.IntN(s.CPUs()))
	from := m.start + s.Us(500_000, 2_500_000)
	to := from + s.Us(10_000, 400_000)
	s.T.Lose(c, from, to)
	for i := 0; i < s.CPUs(); i++ {
		if s.R.IntN(2) == 0 {
			s.T.BufferStarted(int32(i), int64(100+s.R.IntN(5000)))
		}
	}
	m.fireAll()
	sc := m.render(&Scenario{}, &labeler{})
	last := s.lastBefore(c, from)
	sc.Labels = append(sc.Labels, Label{Rule: "trace-data-loss", Severity: "warning", IRQ: -1, CPU: c, TS: last, Slack: 1000,
		Why: fmt.Sprintf("CPU %d lost its events from %s to %s", c, secs(from), secs(to))})
	return sc
}

// stormNames are shared PCI INTx lines of the storm scenarios.
var stormNames = [][]string{{"uhci_hcd:usb3", "ata_piix"}, {"ehci_hcd:usb1", "i801_smbus"}, {"eth1", "uhci_hcd:usb2"}}

// UnhandledStorm: a shared line storms until the kernel disables it.
func UnhandledStorm(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "unhandled-storm", 0)
	s := m.s
	n := int32(16 + s.R.IntN(8))
	names := stormNames[s.R.IntN(len(stormNames))]
	c := int32(s.R.IntN(s.CPUs()))
	q := s.AddIRQ(n, names[0], c, 1e9)
	q.Actions = append([]string(nil), names...)
	q.Unhandled, q.Dur = 1, [2]int64{2, 6}
	t0 := m.start + s.Us(300_000, 1_500_000)
	visible := 300 + s.R.IntN(300)
	lb := &labeler{}
	var gapFrom, gapTo int64
	s.At(t0, func() {
		t := t0
		var first Ref = -1
		var firstTS int64
		for i := 0; i < visible; i++ {
			st, _, _, exit := s.handlerRefs(q, c, t)
			if i == 0 {
				first, firstTS = exit, st
			}
			t = st + s.Us(8, 20)
		}
		lb.add(Label{Rule: "unhandled-irq", Severity: "warning", IRQ: n, CPU: c, TS: firstTS, Slack: 1000,
			Why: fmt.Sprintf("irq %d (%v) storms with IRQ_NONE from %s", n, names, secs(firstTS))}, first)
		// The ring buffer overruns in the storm (the storm goes on unseen).
		gapFrom, gapTo = t, t+s.Us(300_000, 900_000)
		s.T.Lose(c, gapFrom, gapTo)
		s.At(gapTo, func() {
			t := gapTo
			for i := 0; i < 150; i++ {
				st, _, _ := s.handler(q, c, t)
				t = st + s.Us(8, 20)
			}
			tp := t + s.Us(20, 60)
			tk := s.current(s.cpus[c], tp)
			comm := tk.comm
			if tk.pid == 0 {
				comm = fmt.Sprintf("swapper/%d", c)
			}
			msgs := []string{
				fmt.Sprintf("irq %d: nobody cared (try booting with the \"irqpoll\" option)", n),
				fmt.Sprintf("CPU: %d PID: %d Comm: %s Not tainted %s #1  Debian 6.1.112-1", c, tk.pid, comm, s.K.Release),
				"Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.2-debian-1.16.2-1 04/01/2014",
				"Call Trace:", " <IRQ>", " dump_stack_lvl+0x44/0x5c", " __report_bad_irq+0x35/0xaa", " note_interrupt.cold+0xb/0x64",
				" handle_irq_event+0x70/0x80", " handle_fasteoi_irq+0x78/0x1d0", " __common_interrupt+0x3e/0xa0", " common_interrupt+0x7b/0xa0",
				" </IRQ>", "handlers:", "[<00000000b1e5a8e1>] usb_hcd_irq [usbcore]", "[<000000004e4c7e33>] ata_bmdma_interrupt [libata]",
				fmt.Sprintf("Disabling IRQ #%d", n),
			}
			var refs []Ref
			for i, msg := range msgs {
				refs = append(refs, s.EmitAs(tp+int64(i)*2000, c, tk.comm, tk.pid, "d.h1.", "console", msg))
			}
			s.cpus[c].busy = tp + int64(len(msgs))*2000
			lb.add(Label{Rule: "unhandled-irq", Severity: "error", IRQ: n, CPU: c, TS: tp, Slack: 1000, Why: "nobody cared"}, refs[0])
			lb.add(Label{Rule: "unhandled-irq", Severity: "error", IRQ: n, CPU: c, TS: tp + int64(len(msgs)-1)*2000, Slack: 1000,
				Why: "Disabling IRQ"}, refs[len(refs)-1])
		})
	})
	m.fireAll(q)
	sc := m.render(&Scenario{}, lb)
	sc.Labels = append(sc.Labels, Label{Rule: "trace-data-loss", Severity: "warning", IRQ: -1, CPU: c, TS: s.lastBefore(c, gapFrom), Slack: 1000,
		Why: fmt.Sprintf("CPU %d's buffer overran in the storm (%s to %s)", c, secs(gapFrom), secs(gapTo))})
	return sc
}

// SharedIRQBusy: a busy shared line, one action handles, one returns
// IRQ_NONE every time.
func SharedIRQBusy(seed uint64) *Scenario {
	m := newMachine(seed, Kernel61, "shared-irq-busy", 0)
	s := m.s
	n := int32(16 + s.R.IntN(8))
	names := stormNames[s.R.IntN(len(stormNames))]
	c := int32(s.R.IntN(s.CPUs()))
	q := s.AddIRQ(n, names[0], c, s.Us(300, 900))
	q.Actions = append([]string(nil), names...)
	q.SharedNone, q.Dur = true, [2]int64{3, 30}
	from := m.start + s.Us(300_000, 1_500_000)
	s.Fire(q, from, from+s.Us(300_000, 600_000))
	m.fireAll(q)
	return m.render(&Scenario{Facts: []string{fmt.Sprintf("irq %d %v busy on CPU %d, second action always IRQ_NONE", n, names, c)}}, &labeler{})
}

// ---- (h) a move whose old vector is never freed ----

func moveFree(seed uint64, leak bool) *Scenario {
	name := "move-freed"
	if leak {
		name = "move-never-freed"
	}
	// Half of them on 6.6, whose cleanup runs from a timer softirq.
	k := Kernel61
	if seed%2 == 1 {
		k = Kernel66
	}
	m := newMachine(seed, k, name, 0)
	q := m.ahci
	if m.s.R.IntN(2) == 0 {
		q = m.nic[m.s.R.IntN(len(m.nic))]
	}
	to := m.otherCPU(q.CPU)
	at := m.start + m.s.Us(300_000, 1_800_000)
	lb := &labeler{}
	q.NoCleanup = leak
	q.OnMove = func(s *Sim, q *IRQ, mv *Move) {
		if leak {
			lb.add(Label{Rule: "move-never-completed", Severity: "warning", IRQ: q.N, CPU: mv.From, TS: mv.TS, Slack: 1000,
				Why: fmt.Sprintf("irq %d moved %d.%d -> %d.%d, fires on CPU %d, old slot never freed", q.N, mv.From, mv.FromVec, mv.To, mv.ToVec, mv.To)}, mv.Update)
		}
		q.NoCleanup = false // later moves (none planned) would clean up
		if leak {
			q.NoCleanup = true
		}
	}
	m.affinity(q, to, at)
	m.fireAll()
	return m.render(&Scenario{}, lb)
}

// MoveNeverFreed plants a vector leak.
func MoveNeverFreed(seed uint64) *Scenario { return moveFree(seed, true) }

// MoveFreed: the same move, completed.
func MoveFreed(seed uint64) *Scenario { return moveFree(seed, false) }

// ---- a clean busy machine ----

// CleanBusy: affinity moves, hotplug cycles with the kernel's usual
// retriggers, IPIs: nothing wrong.
func CleanBusy(seed uint64) *Scenario {
	k := Kernel61
	if seed%3 == 0 {
		k = Kernel66
	}
	m := newMachine(seed, k, "clean-busy", 5_000_000_000)
	s := m.s
	// A few affinity moves of NIC queues and the AHCI irq.
	for i := 0; i < 2+s.R.IntN(4); i++ {
		q := m.nic[s.R.IntN(len(m.nic))]
		if s.R.IntN(4) == 0 {
			q = m.ahci
		}
		m.affinity(q, m.otherCPU(q.CPU), m.start+s.Us(200_000, 4_500_000))
	}
	// Hotplug cycles: CPU d offline, back 0.5-1 s later.
	t := m.start + s.Us(300_000, 800_000)
	for i := 0; i < 1+s.R.IntN(2); i++ {
		d := int32(1 + s.R.IntN(s.CPUs()-1))
		s.Offline(d, 0, m.ctl.comm, m.ctl.pid, t)
		s.Online(d, 0, m.rig.comm, m.rig.pid, t+s.Us(500_000, 1_000_000))
		t += s.Us(1_700_000, 2_200_000)
	}
	m.fireAll()
	return m.render(&Scenario{}, &labeler{})
}

// timeoutMsg is the driver's complaint about a stuck queue of the device
// of action name ("" when the device has none the rules would recognise).
func timeoutMsg(name string, queue int) string {
	var dev string
	var n int
	switch {
	case strings.HasPrefix(name, "ahci"):
		return "ata1.00: exception Emask 0x0 SAct 0x40000 SErr 0x0 action 0x6 frozen; res 40/00:00:00:00:00/00:00:00:00:00/00 Emask 0x4 (timeout)"
	case strings.HasPrefix(name, "nvme"):
		return fmt.Sprintf("nvme nvme0: I/O 37 QID %d timeout, completion polled", queue+1)
	case strings.HasPrefix(name, "i40e-"):
		dev = strings.Split(name, "-")[1]
		return fmt.Sprintf("i40e 0000:3b:00.0 %s: NETDEV WATCHDOG: %s (i40e): transmit queue %d timed out", dev, dev, queue)
	case strings.HasPrefix(name, "eth"):
		dev = strings.Split(name, "-")[0]
		return fmt.Sprintf("NETDEV WATCHDOG: %s (ixgbe): transmit queue %d timed out", dev, queue)
	}
	if _, err := fmt.Sscanf(name, "virtio%d", &n); err == nil {
		return fmt.Sprintf("virtio_net virtio%d eth0: NETDEV WATCHDOG: eth0 (virtio_net): transmit queue %d timed out", n, queue)
	}
	return ""
}

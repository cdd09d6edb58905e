package scenario

import "fmt"

// machine is the standard guest of the scenarios: a qemu-like x86 box
// with a multi-queue NIC (non-managed queue irqs that irqbalance moves), a
// managed per-CPU block device, a single-vector non-maskable MSI (AHCI)
// and the 8250 UART, busy for the whole trace.
type machine struct {
	s     *Sim
	nic   []*IRQ
	blk   []*IRQ
	ahci  *IRQ
	uart  *IRQ
	start int64
	end   int64
	rig   task
	ctl   task // the task running hotplug writes (kworker/0:1 in the rig)
	name  string
	facts []string
}

// newMachine draws the machine of a seed: 4 to 8 CPUs, a trace of 3.2 to
// 4.5 s starting 30 to 330 s after boot, irq numbers, device names and
// rates. minLen stretches the trace.
func newMachine(seed uint64, k Kernel, scenario string, minLen int64) *machine {
	probe := NewSim(seed, k, 1, 0, 0)
	n := 4 + probe.R.IntN(5)
	start := (30+probe.R.Int64N(300))*1e9 + probe.Us(0, 999999)
	dur := probe.Us(3_200_000, 4_500_000)
	if dur < minLen {
		dur = minLen
	}
	s := NewSim(seed, k, n, start, start+dur)
	s.ReschedGap = s.Us(20_000, 60_000)
	s.CallGap = s.Us(20_000, 60_000)
	m := &machine{s: s, start: start, end: start + dur, name: scenario,
		rig: task{"rig-init.sh", 1}, ctl: task{"kworker/0:1", 17}}
	base := int32(24 + s.R.IntN(16))
	irq := base
	// NIC: min(n, 4..8) non-managed queues spread over the CPUs.
	nq := min(n, 4+s.R.IntN(5))
	style := s.R.IntN(3)
	eth := s.R.IntN(3)
	for i := 0; i < nq; i++ {
		var name string
		switch style {
		case 0:
			name = fmt.Sprintf("eth%d-TxRx-%d", eth, i)
		case 1:
			name = fmt.Sprintf("virtio%d-input.%d", eth, i)
		default:
			name = fmt.Sprintf("i40e-ens%df0-TxRx-%d", 3+eth, i)
		}
		q := s.AddIRQ(irq, name, int32(i%n), s.Us(4_000, 12_000))
		m.nic = append(m.nic, q)
		irq++
	}
	irq += int32(s.R.IntN(3))
	// Block: one managed queue per CPU.
	nvme := s.R.IntN(2) == 0
	vdev := 1 + s.R.IntN(3)
	for c := 0; c < n; c++ {
		var name string
		if nvme {
			name = fmt.Sprintf("nvme0q%d", c+1)
		} else {
			name = fmt.Sprintf("virtio%d-req.%d", vdev+3, c)
		}
		m.blk = append(m.blk, s.AddManaged(irq, name, int32(c), s.Us(5_000, 15_000)))
		irq++
	}
	m.ahci = s.AddIRQ(irq, "ahci[0000:00:1f.2]", int32(s.R.IntN(n)), s.Us(6_000, 20_000))
	m.uart = s.AddIRQ(4, "ttyS0", int32(s.R.IntN(n)), 60e6)
	m.uart.Unhandled = 0.3
	m.facts = append(m.facts, fmt.Sprintf("%d CPUs, kernel %s, trace %s..%s", n, k.Release, secs(start), secs(start+dur)))
	return m
}

// fireAll starts every device for the whole trace and the background.
func (m *machine) fireAll(except ...*IRQ) {
	skip := map[*IRQ]bool{}
	for _, q := range except {
		skip[q] = true
	}
	for _, q := range m.s.IRQs() {
		if !skip[q] {
			m.s.Fire(q, m.start, m.end)
		}
	}
	m.s.Background()
	m.s.Mark(m.start+m.s.Us(1000, 30000), 0, m.rig.comm, m.rig.pid, fmt.Sprintf("RIG: capture start scenario=%s seed=%d", m.name, m.s.R.IntN(100)))
}

// affinity writes the rig's marker and the affinity change of q to cpu at t.
func (m *machine) affinity(q *IRQ, to int32, t int64) {
	m.s.At(t, func() {
		old := q.CPU
		m.s.Mark(t, 0, m.rig.comm, m.rig.pid, fmt.Sprintf("RIG: affinity irq=%d (%s) set=%d old_effective=%d new_effective=%d", q.N, q.Name, to, old, old))
	})
	m.s.SetAffinity(q, to, t+m.s.Us(20, 200))
}

// otherCPU returns a CPU other than the given ones (and online).
func (m *machine) otherCPU(not ...int32) int32 {
	for tries := 0; tries < 100; tries++ {
		c := int32(m.s.R.IntN(m.s.CPUs()))
		ok := m.s.IsOnline(c)
		for _, x := range not {
			if x == c {
				ok = false
			}
		}
		if ok {
			return c
		}
	}
	panic("no other CPU")
}

// render finishes the scenario.
func (m *machine) render(sc *Scenario, lb *labeler) *Scenario {
	m.s.Run()
	text, lines := m.s.T.Render()
	sc.Text = text
	sc.Labels = lb.resolve(lines)
	sc.Kernel = m.s.K.Release
	sc.Facts = append(m.facts, sc.Facts...)
	if sc.Ceiling == "" {
		sc.Ceiling = "warning"
	}
	return sc
}

// lastBefore returns the time of cpu c's last event at or before t.
func (s *Sim) lastBefore(c int32, t int64) int64 {
	var best int64
	for _, e := range s.T.events {
		if e.CPU == c && e.TS <= t && e.TS > best {
			best = e.TS
		}
	}
	return best
}

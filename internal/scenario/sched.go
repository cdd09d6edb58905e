package scenario

import "fmt"

// Scheduling, for the lost-wakeup scenarios: with Sim.Sched set, each CPU
// runs the idle task unless a task was switched in, and the switches and
// wakeups are written as sched_switch / sched_waking / sched_wakeup (6.1
// formats).

func schedComm(tk task, c int32) string {
	if tk.pid == 0 {
		return fmt.Sprintf("swapper/%d", c)
	}
	return tk.comm
}

func schedPrio(tk task) int {
	if len(tk.comm) > 10 && tk.comm[:10] == "migration/" {
		return 0
	}
	return 120
}

// switchTo writes a sched_switch on c at t from the running task to next;
// prevState is the state of the task leaving ("R" for the idle task).
func (s *Sim) switchTo(c int32, t int64, next task, prevState string) int64 {
	cc := s.cpus[c]
	prev := cc.cur
	if prev.pid == 0 {
		prevState = "R"
	}
	s.EmitAs(t, c, prev.comm, prev.pid, "d..2.", "sched_switch",
		fmt.Sprintf("prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s ==> next_comm=%s next_pid=%d next_prio=%d",
			schedComm(prev, c), prev.pid, schedPrio(prev), prevState, schedComm(next, c), next.pid, schedPrio(next)))
	cc.cur = next
	return t + 1000
}

// switchLater switches c to next at t, or when the task running then
// ends (a kernel thread waits for the CPU like any task here).
func (s *Sim) switchLater(c int32, t int64, next task, prevState string) {
	s.At(t, func() {
		cc := s.cpus[c]
		if !cc.online {
			return
		}
		if cc.schedFree > t {
			s.switchLater(c, cc.schedFree, next, prevState)
			return
		}
		s.switchTo(c, t, next, prevState)
		cc.schedFree = t + 1000
	})
}

// usable reports whether tasks can be placed on c.
func (s *Sim) usable(c int32) bool { return s.cpus[c].online && !s.cpus[c].inactive }

// RunTask runs tk on c from at (or when c is free) for dur, switching it
// in and out (it leaves sleeping, state S); after, if set, runs at its end.
func (s *Sim) RunTask(tk task, c int32, at, dur int64, after func(end int64)) {
	s.At(at, func() {
		if !s.usable(c) {
			// Its CPU is going down: the scheduler places it elsewhere.
			c = s.place(c)
		}
		cc := s.cpus[c]
		t0 := max(at, cc.schedFree, cc.busy+1000)
		cc.schedFree = t0 + dur + 3000
		s.At(t0, func() {
			if !cc.online {
				return
			}
			s.switchTo(c, t0, tk, "")
			s.At(t0+dur, func() {
				if !cc.online || cc.cur != tk {
					return
				}
				s.switchTo(c, t0+dur, idleTask, "S")
				if after != nil {
					after(t0 + dur)
				}
			})
		})
	})
}

// Wake writes the wakeup of tk by the task running on from, to run on
// target: sched_waking on the waker's CPU, then sched_wakeup (on a remote
// target inside the wakelist IPI, call_function_single).
func (s *Sim) Wake(from int32, tk task, target int32, t int64) {
	body := fmt.Sprintf("comm=%s pid=%d prio=%d target_cpu=%03d", tk.comm, tk.pid, schedPrio(tk), target)
	s.Emit(t, from, "d..5.", "sched_waking", body)
	if target == from {
		s.Emit(t+1000, from, "d..5.", "sched_wakeup", body)
		return
	}
	cc := s.cpus[target]
	st := max(t+s.Us(5, 30), cc.busy+1000)
	tk2 := s.current(cc, st)
	s.EmitAs(st, target, tk2.comm, tk2.pid, s.hardFlags(tk2, false), "call_function_single_entry", "vector=251")
	s.EmitAs(st+s.Us(1, 4), target, tk2.comm, tk2.pid, "dNh4.", "sched_wakeup", body)
	s.EmitAs(st+s.Us(5, 12), target, tk2.comm, tk2.pid, "dNh1.", "call_function_single_exit", "vector=251")
	cc.busy = st + 12000
}

// place returns where a task last on home runs now: home, or another
// usable CPU when home is going down or offline.
func (s *Sim) place(home int32) int32 {
	if s.usable(home) {
		return home
	}
	for tries := 0; tries < 64; tries++ {
		c := int32(s.R.IntN(len(s.cpus)))
		if s.usable(c) {
			return c
		}
	}
	return 0
}

// schedBackground starts per-CPU kworkers and a periodically woken user
// task per CPU (which moves elsewhere when its CPU goes down).
func (s *Sim) schedBackground(start, end int64) {
	users := []string{"postgres", "stress-ng-cpu", "java", "nginx", "redis-server"}
	for _, c := range s.cpus {
		c := c.id
		kw := task{fmt.Sprintf("kworker/%d:1", c), 40 + 7*c}
		s.periodic(start, end, s.Us(10_000, 40_000), func(t int64) {
			if s.usable(c) {
				s.Wake(c, kw, c, t)
				s.RunTask(kw, c, t+s.Us(3, 20), s.Us(10, 150), nil)
			}
		})
		w := task{users[s.R.IntN(len(users))], s.NewPID()}
		home := c
		s.periodic(start, end, s.Us(8_000, 30_000), func(t int64) {
			from := s.place(int32(s.R.IntN(len(s.cpus))))
			home = s.place(home)
			s.Wake(from, w, home, t)
			s.RunTask(w, home, t+s.Us(20, 60), s.Us(50, 2_000), nil)
		})
	}
}

// periodic calls fn at jittered intervals of mean gap from start to end.
func (s *Sim) periodic(start, end, gap int64, fn func(t int64)) {
	t := start + s.Exp(gap)
	var next func()
	next = func() {
		if t >= end {
			return
		}
		fn(t)
		t += s.Exp(gap)
		s.At(t, next)
	}
	s.At(t, next)
}

// ---- (f) a wakeup lost across hotplug ----

func wakeup(seed uint64, lost bool) *Scenario {
	name := "hotplug-woken"
	if lost {
		name = "hotplug-lost-wakeup"
	}
	m := newMachine(seed, Kernel61, name, 0)
	s := m.s
	s.Sched = true
	d := int32(1 + s.R.IntN(s.CPUs()-1))
	x := m.otherCPU(d, 0)
	at := m.start + s.Us(700_000, 1_200_000)
	if m.end-at < 2_200_000_000 {
		m.end = at + 2_200_000_000
		s.End = m.end
	}
	r := task{Pick(s, "uintr-recv", "ipc-waiter", "rx-poller"), s.NewPID()}
	snd := task{Pick(s, "uintr-send", "ipc-sender", "tx-producer"), s.NewPID()}
	period := s.Us(3_000, 15_000)
	home := d
	// The sender on x wakes every period (its own timer) and notifies the
	// receiver, which runs briefly and sleeps again.
	s.periodic(m.start+s.Us(1_000, 20_000), m.end, period, func(t int64) {
		if !s.usable(x) {
			return
		}
		s.Wake(x, snd, x, t)
		s.RunTask(snd, x, t+s.Us(3, 20), s.Us(30, 200), func(end int64) {
			if lost && end >= at-2_000_000 {
				return // the notification goes to the CPU going down: lost
			}
			home = s.place(home)
			s.Wake(x, r, home, end+s.Us(2, 10))
			s.RunTask(r, home, end+s.Us(20, 60), s.Us(20, 300), nil)
		})
	})
	// A task on d that sleeps for the whole trace for its own reasons.
	sleeper := task{Pick(s, "sshd", "cron", "agetty", "dbus-daemon"), s.NewPID()}
	s.RunTask(sleeper, d, m.start+s.Us(5_000, 200_000), s.Us(30, 300), nil)
	s.schedBackground(m.start, m.end)
	h := s.Offline(d, 0, m.ctl.comm, m.ctl.pid, at)
	if !lost && s.R.IntN(2) == 0 {
		s.Online(d, 0, m.rig.comm, m.rig.pid, at+s.Us(600_000, 1_000_000))
	}
	m.fireAll()
	s.Run()
	lb := &labeler{}
	if lost {
		lb.add(Label{Rule: "hotplug-lost-wakeup", Severity: "warning", IRQ: -1, CPU: d, TS: h.Dead, Slack: h.ConsoleTS - h.Dead + 2e6,
			Why: fmt.Sprintf("%s (pid %d), woken every ~%s by %s on CPU %d, sleeps on CPU %d, which goes offline; never woken again", r.comm, r.pid, secs(period), snd.comm, x, d)})
	}
	sc := &Scenario{Facts: []string{fmt.Sprintf("receiver %s-%d on CPU %d, sender %s-%d on CPU %d, period %s; CPU %d take-down at %s",
		r.comm, r.pid, d, snd.comm, snd.pid, x, secs(period), d, secs(h.Takedown))}}
	return m.render(sc, lb)
}

// HotplugLostWakeup plants a wakeup lost across an offline.
func HotplugLostWakeup(seed uint64) *Scenario { return wakeup(seed, true) }

// HotplugWoken: the task is woken elsewhere after the offline.
func HotplugWoken(seed uint64) *Scenario { return wakeup(seed, false) }

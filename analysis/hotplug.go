package analysis

import (
	"regexp"
	"strconv"

	"github.com/irqtrace/irqtrace/ftrace"
)

// hpEnter records a cpuhp callback start. A step runs a state's teardown
// when its step number is above the target state, its startup otherwise.
func (b *builder) hpEnter(e *ev) {
	if e.tcpu == null {
		return
	}
	c := b.cpu(e.tcpu)
	st := HotplugStep{TS: e.ts, Callback: e.str, Step: e.step, Target: e.target, RunOnCPU: e.cpu,
		Multi: e.id == ftrace.EvCPUHPMultiEnter, Down: e.step > e.target, Line: e.line}
	if st.Callback == "takedown_cpu" {
		c.dying = true
		b.tdStep = e.step
	}
	if st.Down && !c.online && (st.Callback == "cpuhp_kick_ap_work" || st.Callback == "takedown_cpu" || (b.tdStep > 0 && e.step > b.tdStep)) {
		// A teardown step above takedown_cpu runs on an online CPU: it
		// came back without the trace showing it (perf stops recording a
		// CPU at its first offline, and the bring-up may have run there).
		c.bringing = true
		b.setOnline(c, e)
	}
	c.HotplugSteps = append(c.HotplugSteps, st)
	k := [2]int32{e.tcpu, e.step}
	b.hpOpen[k] = append(b.hpOpen[k], len(c.HotplugSteps)-1)
	b.m.Counts.HotplugSteps++
	if st.Down {
		if c.curDown < 0 {
			c.TakeDowns = append(c.TakeDowns, Window{StartNS: e.ts, Line: e.line})
			c.curDown = len(c.TakeDowns) - 1
			c.curUp = -1
		}
		c.TakeDowns[c.curDown].Steps++
	} else {
		if c.curUp < 0 {
			c.BringUps = append(c.BringUps, Window{StartNS: e.ts, Line: e.line})
			c.curUp = len(c.BringUps) - 1
			c.curDown = -1
		}
		c.BringUps[c.curUp].Steps++
		c.bringing = true
	}
}

// hpExit pairs a cpuhp_exit with the latest open enter of the same step
// for the same hotplugged CPU. The writing CPU is not part of the key: the
// control task that runs bringup_cpu sleeps until the new CPU is up and
// often wakes on another CPU, so its exit is written elsewhere.
func (b *builder) hpExit(e *ev) {
	if e.tcpu == null {
		return
	}
	c := b.cpu(e.tcpu)
	k := [2]int32{e.tcpu, e.step}
	open := b.hpOpen[k]
	if len(open) == 0 {
		b.m.Counts.HotplugUnpaired++
		return
	}
	i := open[len(open)-1]
	b.hpOpen[k] = open[:len(open)-1]
	st := &c.HotplugSteps[i]
	st.State, st.Ret, st.DurationNS, st.ExitLine = b.slab.p32(e.state), b.slab.p32(e.ret), b.slab.p64(e.ts-st.TS), e.line
	if st.Down && c.curDown >= 0 {
		c.TakeDowns[c.curDown].EndNS = p64(e.ts)
	} else if !st.Down && c.curUp >= 0 {
		c.BringUps[c.curUp].EndNS = p64(e.ts)
	}
	switch {
	case st.Callback == "takedown_cpu" && e.ret == 0:
		b.goOffline(c, e)
	case st.Callback == "takedown_cpu":
		c.dying = false // the take-down failed: still online
	case st.Callback == "bringup_cpu" && e.ret == 0:
		// bringup_cpu returns once the CPU is online; irq_matrix_online,
		// written by the CPU itself, normally came first.
		c.bringing = true
		b.setOnline(c, e)
	}
}

var (
	reOffline = regexp.MustCompile(`CPU (\d+) is now offline`)
	reBooting = regexp.MustCompile(`Booting Node \d+ Processor (\d+)`)
)

func (b *builder) console(e *ev) {
	if m := reOffline.FindStringSubmatch(e.str); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			if c := b.cpu(int32(n)); c.online {
				b.goOffline(c, e)
			}
		}
	} else if m := reBooting.FindStringSubmatch(e.str); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			b.cpu(int32(n)).bringing = true
		}
	}
}

// goOffline marks c offline at e.ts and rebuilds what the kernel did on the
// dying CPU without tracing it: every irq targeting it was moved or (for a
// managed irq whose mask held only this CPU) shut down, and every move
// still in progress from or to it was completed by force.
func (b *builder) goOffline(c *CPU, e *ev) {
	if !c.online {
		return
	}
	c.online, c.bringing, c.dying, c.offTS = false, false, false, e.ts
	c.OfflineIntervals = append(c.OfflineIntervals, [2]*int64{p64(e.ts), nil})
	c.offAt = len(c.OfflineIntervals) - 1
	if c.firstOff == nil {
		c.firstOff = p64(e.ts)
	}
	b.hotplugs++
	for _, q := range b.m.irqs {
		if q.shutdown != nil && q.shutdown.FromCPU != c.CPU {
			// Displaced earlier, destination still unknown: it may have
			// gone to this CPU and been moved again.
			q.hops = append(q.hops, c.CPU)
		}
		for _, i := range q.pending() {
			mg := &q.Migrations[i]
			if mg.FromCPU == c.CPU || (mg.ToCPU != nil && *mg.ToCPU == c.CPU) {
				q.complete(i, e.ts, e.line, CompletionForcedOffline)
			}
		}
		a := q.current()
		if a == nil || a.CPU == nil || *a.CPU != c.CPU {
			continue
		}
		q.endCurrent(e.ts, e.line, "cpu_offline")
		q.shutdown = &Migration{TS: e.ts, FromCPU: c.CPU, FromVector: a.Vector, Inferred: true,
			Evidence: "CPU offline", CompletedNS: p64(e.ts), Completion: CompletionForcedOffline, Line: e.line}
		if q.Class == ClassManaged {
			// A managed irq with no online CPU left in its mask is shut
			// down (vector_deactivate, untraced on the dying CPU); if it was
			// moved instead, resolveShutdown undoes this.
			if q.parkedAt < 0 {
				q.Parked = append(q.Parked, Interval{StartNS: e.ts, Line: e.line})
				q.parkedAt = len(q.Parked) - 1
			}
			if n := len(q.Activations); n > 0 && q.Activations[n-1].EndNS == nil {
				q.Activations[n-1].EndNS, q.Activations[n-1].EndLine = p64(e.ts), e.line
				q.shutAct = n - 1
			}
		}
	}
}

// setOnline marks c online again at e.ts (its first event after the
// bring-up began, normally irq_matrix_online).
func (b *builder) setOnline(c *CPU, e *ev) {
	if c.online {
		return
	}
	if !c.bringing && e.id != ftrace.EvMatrixOnline {
		b.anomaly("event_on_offline_cpu", e, null, "CPU %d wrote an event while offline, with no bring-up seen", c.CPU)
		return
	}
	c.online, c.bringing, c.onTS = true, false, e.ts
	if c.offAt >= 0 {
		c.OfflineIntervals[c.offAt][1] = p64(e.ts)
		c.offAt = -1
	}
	b.hotplugs++
}

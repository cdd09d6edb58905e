package rules

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// HotplugLostWakeup reports tasks blocked on a CPU that went offline and
// never woken afterwards.
type HotplugLostWakeup struct{ O Options }

// Doc documents the rule.
func (r *HotplugLostWakeup) Doc() Doc {
	return Doc{
		ID:      "hotplug-lost-wakeup",
		Summary: "a task blocked on CPU D, D taken offline, no wakeup afterwards",
		Detects: "Wakeups delivered as interrupts to a CPU that is going offline can be dropped (LKML: user-interrupt waits " +
			"sent to an offlined CPU): the waiting task sleeps forever while its wakers keep running.",
		Evidence: "inferred: sched_switch (prev_state S/D) of the task last on CPU D, the offline of D, no sched_wakeup/sched_waking " +
			"of the task afterwards, and its wakeups before (a task that was woken regularly)",
		Thresholds: fmt.Sprintf("the trace continues at least %v after the offline; warning when the task had been woken at least %d times "+
			"before and now sleeps longer than %.0fx its median sleep and at least %v, info otherwise", r.O.MinSilence, r.O.WakeHistory,
			r.O.SilenceFactor, r.O.MinSilence),
		FalsePositives: "A task that blocks for longer than the rest of the trace for its own reasons looks the same: without a history of " +
			"wakeups it is only info, and per-CPU kernel threads of the offlined CPU (parked by design) are left out. Without sched events " +
			"nothing can be checked: the rule says so.",
	}
}

// Check implements Rule.
func (r *HotplugLostWakeup) Check(in *Input) []Finding {
	m := in.Model
	var offlines []struct {
		cpu int32
		ts  int64
	}
	for _, c := range m.CPUs {
		for _, iv := range c.OfflineIntervals {
			offlines = append(offlines, struct {
				cpu int32
				ts  int64
			}{c.CPU, *iv[0]})
		}
	}
	if len(offlines) == 0 {
		return nil
	}
	sort.Slice(offlines, func(i, j int) bool { return offlines[i].ts < offlines[j].ts })
	if len(m.Sched) == 0 {
		return []Finding{{Severity: Info, Evidence: Inferred, TS: offlines[0].ts, CPU: p32(offlines[0].cpu),
			Title: "lost wakeups across hotplug cannot be checked: no sched events",
			Message: fmt.Sprintf("CPUs went offline %d times, but the trace has no sched:sched_switch or sched:sched_wakeup events, "+
				"so tasks left waiting on an offlined CPU cannot be seen. Record them (-e sched:sched_switch -e sched:sched_wakeup) to check.", len(offlines))}}
	}
	var out []Finding
	for _, off := range offlines {
		if m.LastNS-off.ts < r.O.MinSilence.Nanoseconds() {
			continue
		}
		// Last switch-out per pid on that CPU before the offline, and the
		// sleeps of every task before it (switch-out S/D to wakeup).
		type blk struct {
			ts   int64
			line int64
			st   string
			comm string
		}
		blocked := map[int32]blk{}
		sleepFrom := map[int32]int64{}
		sleeps := map[int32][]int64{}
		for _, s := range m.Sched {
			if s.TS > off.ts {
				break
			}
			switch s.Kind {
			case "switch":
				if s.PID > 0 && (strings.HasPrefix(s.State, "S") || strings.HasPrefix(s.State, "D")) {
					sleepFrom[s.PID] = s.TS
				}
				if s.CPU == off.cpu && s.PID > 0 && (strings.HasPrefix(s.State, "S") || strings.HasPrefix(s.State, "D")) {
					blocked[s.PID] = blk{s.TS, s.Line, s.State, s.Comm}
				} else {
					delete(blocked, s.PID)
				}
				delete(blocked, s.NextPID)
			case "wakeup", "waking", "wakeup_new":
				delete(blocked, s.PID)
				if t, ok := sleepFrom[s.PID]; ok {
					sleeps[s.PID] = append(sleeps[s.PID], s.TS-t)
					delete(sleepFrom, s.PID)
				}
			}
		}
		for _, s := range m.Sched {
			if s.TS <= off.ts {
				continue
			}
			if s.Kind != "switch" {
				delete(blocked, s.PID)
			} else {
				delete(blocked, s.NextPID)
			}
		}
		pids := make([]int32, 0, len(blocked))
		for p := range blocked {
			if !perCPUThread(blocked[p].comm, off.cpu) {
				pids = append(pids, p)
			}
		}
		sort.Slice(pids, func(i, j int) bool { return pids[i] < pids[j] })
		var quiet []string
		var quietLines []int64
		for _, p := range pids {
			b := blocked[p]
			asleep := m.LastNS - b.ts
			hist := sleeps[p]
			if len(hist) < r.O.WakeHistory {
				quiet = append(quiet, fmt.Sprintf("%s (pid %d)", b.comm, p))
				quietLines = append(quietLines, b.line)
				continue
			}
			slices.Sort(hist)
			median := hist[len(hist)/2]
			limit := max(int64(float64(median)*r.O.SilenceFactor), r.O.MinSilence.Nanoseconds())
			if asleep <= limit {
				quiet = append(quiet, fmt.Sprintf("%s (pid %d)", b.comm, p))
				quietLines = append(quietLines, b.line)
				continue
			}
			win := [2]int64{b.ts, m.LastNS}
			f := Finding{Severity: Warning, Evidence: Inferred, TS: off.ts, CPU: p32(off.cpu), Window: &win,
				Title: fmt.Sprintf("task %s (pid %d) blocked on CPU %d, never woken after its offline", b.comm, p, off.cpu),
				Message: fmt.Sprintf("Task %s (pid %d) went to sleep (state %s) on CPU %d at %s; CPU %d went offline at %s, and the task is never woken "+
					"in the %s the trace continues. Before, it had been woken %d times, after %s of sleep (median): a task that is normally "+
					"woken soon.", b.comm, p, b.st, off.cpu, sec(b.ts), off.cpu, sec(off.ts), dur(m.LastNS-off.ts), len(hist), dur(median)),
				Lines: in.lines(b.line)}
			if overlapsGap(m, nil, b.ts, m.LastNS) {
				// Any CPU may wake the task or run it: a gap anywhere may
				// hide the wakeup.
				f.Severity, f.Weakened = Info, true
				f.Message += " Some CPU lost events since (see trace-data-loss), so the wakeup may be among them: weakened to info."
			} else {
				f.Message += " A wakeup aimed at the offlined CPU may have been dropped."
			}
			out = append(out, f)
		}
		if len(quiet) > 0 {
			shown := quiet[:min(len(quiet), 5)]
			more := ""
			if len(quiet) > len(shown) {
				more = fmt.Sprintf(" and %d more", len(quiet)-len(shown))
			}
			out = append(out, Finding{Severity: Info, Evidence: Inferred, TS: off.ts, CPU: p32(off.cpu),
				Title: fmt.Sprintf("%d tasks asleep on CPU %d stayed asleep after its offline", len(quiet), off.cpu),
				Message: fmt.Sprintf("%s%s last slept on CPU %d before it went offline at %s and were not woken in the rest of the trace. "+
					"None of them had been woken regularly before (at least %d times, each sleep much shorter than this one), so a long "+
					"sleep is their normal behaviour as far as the trace shows.",
					strings.Join(shown, ", "), more, off.cpu, sec(off.ts), r.O.WakeHistory),
				Lines: in.lines(quietLines[:min(len(quietLines), 5)]...)})
		}
	}
	return out
}

// perCPUThread reports whether comm names a kernel thread bound to cpu
// ("kworker/3:1", "kworker/3:0H", "ksoftirqd/3", "cpuhp/3", "migration/3"):
// the kernel parks those when their CPU goes down and they sleep on it by
// design.
func perCPUThread(comm string, cpu int32) bool {
	_, after, ok := strings.Cut(comm, "/")
	if !ok {
		return false
	}
	num, _, _ := strings.Cut(after, ":")
	return num == strconv.Itoa(int(cpu))
}

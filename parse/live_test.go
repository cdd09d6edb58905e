package parse

// A live capture from this machine's tracefs, in a private instance (never
// the top-level buffer), parsed and checked against the text itself and
// the kernel's own per-CPU accounting.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const tracefsRoot = "/sys/kernel/tracing"

// liveEvents are the events the test enables, where the kernel has them.
var liveEvents = []string{
	"irq/irq_handler_entry", "irq/irq_handler_exit",
	"irq_vectors/local_timer_entry", "irq_vectors/local_timer_exit",
	"irq_vectors/call_function_single_entry", "irq_vectors/call_function_single_exit",
	"irq_vectors/reschedule_entry", "irq_vectors/reschedule_exit",
	"ipi", // the whole system (ipi_send_cpu, ipi_send_cpumask on 6.3+)
}

// tracefs returns the tracefs mount point, or skips the test.
func tracefs(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("live tracefs test skipped in -short mode")
	}
	if _, err := os.Stat(filepath.Join(tracefsRoot, "instances")); err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("no tracefs at %s and not root: %v", tracefsRoot, err)
		}
		if out, err := exec.Command("mount", "-t", "tracefs", "nodev", tracefsRoot).CombinedOutput(); err != nil {
			t.Skipf("tracefs not mounted and mounting failed: %v: %s", err, out)
		}
		if _, err := os.Stat(filepath.Join(tracefsRoot, "instances")); err != nil {
			t.Skipf("no tracefs instances: %v", err)
		}
	}
	return tracefsRoot
}

// newInstance creates a private tracefs instance, removed at cleanup.
func newInstance(t *testing.T, root, suffix string) string {
	t.Helper()
	dir := filepath.Join(root, "instances", fmt.Sprintf("irqtrace-test-%d%s", os.Getpid(), suffix))
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, os.ErrPermission) || errors.Is(err, os.ErrNotExist) {
			t.Skipf("cannot create a tracefs instance: %v", err)
		}
		t.Fatalf("creating instance: %v", err)
	}
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "tracing_on"), []byte("0"), 0)
		os.WriteFile(filepath.Join(dir, "set_event"), []byte(""), 0)
		// rmdir fails while a reader holds a file open; retry briefly.
		var err error
		for i := 0; i < 50; i++ {
			if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Errorf("removing instance %s: %v", dir, err)
	})
	return dir
}

func writeTracefs(t *testing.T, path, val string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(val), 0); err != nil {
		t.Fatalf("writing %q to %s: %v", val, path, err)
	}
}

// busy makes interrupts happen: goroutines on every CPU waking each other
// (reschedule and call-function IPIs) plus timer ticks.
func busy(d time.Duration) {
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	ch := make(chan int)
	for i := 0; i < 2*runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				select {
				case ch <- 1:
				case <-ch:
				case <-time.After(time.Millisecond):
				}
			}
		}()
	}
	wg.Wait()
}

var reStatsField = regexp.MustCompile(`(?m)^(entries|overrun): (\d+)$`)

// cpuStats reads per_cpu/cpuN/stats of the instance: entries and overrun.
func cpuStats(t *testing.T, dir string) map[int32][2]int64 {
	t.Helper()
	out := map[int32][2]int64{}
	ents, err := os.ReadDir(filepath.Join(dir, "per_cpu"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "cpu"))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, "per_cpu", e.Name(), "stats"))
		if err != nil {
			t.Fatal(err)
		}
		var v [2]int64
		for _, m := range reStatsField.FindAllStringSubmatch(string(b), -1) {
			x, _ := strconv.ParseInt(m[2], 10, 64)
			if m[1] == "entries" {
				v[0] = x
			} else {
				v[1] = x
			}
		}
		out[int32(n)] = v
	}
	return out
}

func TestLiveTracefs(t *testing.T) {
	root := tracefs(t)
	configs := []struct {
		name    string
		options map[string]string // instance option file -> value
		clock   string
		flags   bool // irq-info column expected
		unit    string
	}{
		{"default", nil, "", true, "ns"},
		{"irq-info off", map[string]string{"options/irq-info": "0"}, "", false, "ns"},
		{"counter clock", nil, "counter", true, "raw"},
	}
	for ci, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			dir := newInstance(t, root, fmt.Sprintf("-%d", ci))
			for f, v := range c.options {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Skipf("this kernel has no %s in instances: %v", f, err)
				}
				writeTracefs(t, filepath.Join(dir, f), v)
			}
			if c.clock != "" {
				writeTracefs(t, filepath.Join(dir, "trace_clock"), c.clock)
			}
			enabled := 0
			for _, e := range liveEvents {
				p := filepath.Join(dir, "events", e, "enable")
				if _, err := os.Stat(p); err != nil {
					continue // not on this kernel (ipi before 6.3, irq_vectors off x86)
				}
				writeTracefs(t, p, "1")
				enabled++
			}
			if enabled == 0 {
				t.Skip("none of the interrupt events exists on this kernel")
			}
			writeTracefs(t, filepath.Join(dir, "tracing_on"), "1")
			markers := []string{
				fmt.Sprintf("irqtrace-test %d start", os.Getpid()),
				"a marker:  with  spaces, a colon and = signs key=value",
				fmt.Sprintf("irqtrace-test %d end", os.Getpid()),
			}
			mf, err := os.OpenFile(filepath.Join(dir, "trace_marker"), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range markers {
				if _, err := mf.Write([]byte(m)); err != nil {
					t.Fatal(err)
				}
				if i < len(markers)-1 {
					busy(100 * time.Millisecond)
				}
			}
			mf.Close()
			writeTracefs(t, filepath.Join(dir, "tracing_on"), "0")
			text, err := os.ReadFile(filepath.Join(dir, "trace"))
			if err != nil {
				t.Fatal(err)
			}
			stats := cpuStats(t, dir)
			if os.Getenv("IRQTRACE_KEEP_LIVE") != "" {
				os.WriteFile(filepath.Join(t.TempDir(), "trace"), text, 0o644)
			}

			p := mustParse(t, text, "live", Options{})
			st := p.st
			if st.Format != "ftrace" || st.Problems != 0 || st.DecodeErrors != 0 || st.Unit != c.unit {
				t.Fatalf("format %s unit %s, %d problems %v, %d decode errors %v", st.Format, st.Unit,
					st.Problems, st.ProblemSamples, st.DecodeErrors, st.DecodeErrorSamples)
			}
			if st.Lines != st.Events+st.NonEventLines || st.Lines != countLines(string(text)) {
				t.Errorf("lines %d, events %d, non-event %d, text %d lines", st.Lines, st.Events, st.NonEventLines, countLines(string(text)))
			}
			s := scanText(text, false)
			if len(s.other) > 0 {
				t.Fatalf("naive scan does not recognise line %d: %q", s.other[0].no, s.other[0].text)
			}
			if fmt.Sprint(st.EventCounts) != fmt.Sprint(s.counts) {
				t.Errorf("event counts %v, naive scan %v", st.EventCounts, s.counts)
			}
			if st.Events < int64(len(markers)) || s.comments != st.NonEventKinds["comment"] {
				t.Errorf("%d events, %d comment lines (naive %d)", st.Events, st.NonEventKinds["comment"], s.comments)
			}
			// Every row equals what the naive reader makes of its line.
			for _, n := range s.events {
				if d := diffRow(p.v.row(p.v.rowAtLine(t, n.no)), expectedRow("live", n)); len(d) > 0 {
					t.Fatalf("line %d %q:\n  %s", n.no, n.text, strings.Join(d, "\n  "))
				}
			}
			// The markers, in order, as print events with their exact text,
			// written by a thread of this process.
			var got []string
			for i := 0; i < p.v.n; i++ {
				if p.v.get(i, "event") == "print" {
					got = append(got, fmt.Sprint(p.v.get(i, "text")))
					if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", p.v.get(i, "pid"))); err != nil {
						t.Errorf("marker row %d: pid %v is not a thread of this process", i, p.v.get(i, "pid"))
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(markers) {
				t.Errorf("markers = %q, want %q", got, markers)
			}
			// Flags column as configured.
			if hasFlags := p.v.get(0, "flags") != nil; hasFlags != c.flags {
				t.Errorf("flags column present = %v, want %v", hasFlags, c.flags)
			}
			// Per CPU: the kernel's entries (events still in the buffer);
			// overrun entries were overwritten and are not in the text.
			var entries, overrun int64
			byCPU := map[int32]int64{}
			for _, cs := range st.CPUs {
				byCPU[cs.CPU] = cs.Events
			}
			for cpu, v := range stats {
				entries += v[0]
				overrun += v[1]
				if byCPU[cpu] != v[0] {
					t.Errorf("CPU %d: %d events parsed, per_cpu stats entries: %d (overrun %d)", cpu, byCPU[cpu], v[0], v[1])
				}
			}
			for cpu := range byCPU {
				if _, ok := stats[cpu]; !ok {
					t.Errorf("events on CPU %d, which has no per_cpu stats", cpu)
				}
			}
			h := st.Header
			if h.EntriesInBuffer != entries || h.EntriesWritten != entries+overrun || st.Events != entries {
				t.Errorf("header %d/%d, events %d; stats: entries %d overrun %d", h.EntriesInBuffer, h.EntriesWritten, st.Events, entries, overrun)
			}
			if overrun == 0 && (len(st.LostMarkers) != 0 || len(st.BufferStarted) != 0) {
				t.Errorf("markers without overrun: %v %v", st.LostMarkers, st.BufferStarted)
			}
			t.Logf("%d events on %d CPUs, %v", st.Events, len(st.CPUs), st.EventCounts)
		})
	}
}

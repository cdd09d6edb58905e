package parse

// Tests on the real traces bundled in testdata/ (see testdata/README.md):
// every expectation comes from the input text (a naive scan written in the
// test) or from the MANIFEST.md written when the traces were recorded.

import (
	"bytes"
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// naiveScan classifies every line of a real trace with the naive splitter.
type naiveScan struct {
	lines    []naiveLine
	events   []naiveLine
	counts   map[string]int64 // canonical event name -> lines
	comments int64            // lines starting with '#' (but buffer-started markers)
	headers  int64            // "cpus=N", "version = N", "CPU N is empty"
	started  []naiveLine      // "##### CPU N buffer started ####"
	lost     []naiveLine      // "CPU:N [LOST ...]"
	blank    int64
	frames   int64       // callchain lines (perf -g: TAB; ftrace stacktrace: " => ")
	other    []naiveLine // anything else (there should be none)
	perCPU   map[int64]*cpuSpan
}

type cpuSpan struct {
	lines       int64
	first, last string // timestamps as printed, in file order
}

func scanText(text []byte, perf bool) *naiveScan {
	s := &naiveScan{counts: map[string]int64{}, perCPU: map[int64]*cpuSpan{}}
	s.lines = splitLines(text)
	for _, l := range s.lines {
		switch {
		case reStarted.MatchString(l.text):
			s.started = append(s.started, l)
			continue
		case strings.HasPrefix(l.text, "#"):
			s.comments++
			continue
		case reHeaderLine.MatchString(l.text):
			s.headers++
			continue
		case reLost.MatchString(l.text):
			s.lost = append(s.lost, l)
			continue
		case strings.TrimSpace(l.text) == "":
			s.blank++
			continue
		case strings.HasPrefix(l.text, "\t") || strings.HasPrefix(l.text, " => "):
			s.frames++
			continue
		}
		n, ok := naiveEvent(l.text, perf)
		if !ok {
			s.other = append(s.other, l)
			continue
		}
		n.no, n.offset = l.no, l.offset
		s.events = append(s.events, n)
		s.counts[canonicalName(n.name)]++
		c := s.perCPU[n.cpu]
		if c == nil {
			c = &cpuSpan{first: n.ts}
			s.perCPU[n.cpu] = c
		}
		c.lines++
		c.last = n.ts
	}
	return s
}

var (
	reStarted    = regexp.MustCompile(`^##### CPU \d+ buffer started ####$`)
	reHeaderLine = regexp.MustCompile(`^(cpus=\d+|version = \d+|CPU \d+ is empty)$`)
	reLost       = regexp.MustCompile(`^CPU:\d+ \[(LOST (\d+ )?EVENTS|(\d+ )?EVENTS DROPPED)\]$`)
)

var scanCache = map[string]*naiveScan{}

func scanReal(t *testing.T, tr realTrace) ([]byte, *parsed, *naiveScan) {
	t.Helper()
	text, p := loadReal(t, tr)
	s := scanCache[tr.path()]
	if s == nil {
		s = scanText(text, tr.format == FormatPerfScript)
		scanCache[tr.path()] = s
	}
	if len(s.other) > 0 {
		t.Fatalf("naive scan does not recognise line %d: %q", s.other[0].no, s.other[0].text)
	}
	return text, p, s
}

func TestRealFormatDetected(t *testing.T) {
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			text, p := loadReal(t, tr)
			if got, err := Detect(head(text)); err != nil || got != tr.format {
				t.Errorf("Detect = %v, %v; want %v", got, err, tr.format)
			}
			if p.st.Format != tr.format.String() {
				t.Errorf("Stats.Format = %q, want %q", p.st.Format, tr.format)
			}
		})
	}
}

func head(b []byte) []byte {
	if len(b) > SniffLen {
		return b[:SniffLen]
	}
	return b
}

// TestRealEventCounts checks the per-event counts three ways: parser, naive
// scan of the text, and the MANIFEST written when the traces were recorded.
func TestRealEventCounts(t *testing.T) {
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			_, p, s := scanReal(t, tr)
			if !maps.Equal(p.st.EventCounts, s.counts) {
				t.Errorf("event counts differ from the naive scan:\n%s", diffCounts(p.st.EventCounts, s.counts))
			}
			// MANIFEST: one column per recorder. It lists the ftrace text's
			// trace_marker lines under their printed name tracing_mark_write
			// and trace-cmd's under print; the table has one event "print".
			// Its "(header:cpus=N)" row is trace-cmd's header line, not an event.
			m := readManifest(t, tr.scenario)
			want := map[string]int64{}
			var sum int64
			for name, n := range m.counts[tr.column] {
				sum += n
				if n == 0 || name == "(header:cpus=N)" {
					continue
				}
				want[canonicalName(name)] += n
			}
			if sum != m.totals[tr.column] {
				t.Fatalf("MANIFEST %s column sums to %d, its total says %d: table misread", tr.column, sum, m.totals[tr.column])
			}
			if !maps.Equal(p.st.EventCounts, want) {
				t.Errorf("event counts differ from MANIFEST:\n%s", diffCounts(p.st.EventCounts, want))
			}
			if got, want := p.st.NonEventKinds["header"], m.counts[tr.column]["(header:cpus=N)"]; got != want {
				t.Errorf("header lines = %d, MANIFEST says %d", got, want)
			}
		})
	}
}

func diffCounts(got, want map[string]int64) string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var ks []string
	for k := range keys {
		if got[k] != want[k] {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	var b strings.Builder
	for _, k := range ks {
		fmt.Fprintf(&b, "  %s: got %d, want %d\n", k, got[k], want[k])
	}
	return b.String()
}

// TestRealLineAccounting: every line is an event, a known non-event line
// or a problem, with exact numbers; the real traces have no problems.
func TestRealLineAccounting(t *testing.T) {
	// Non-event lines of each format, from tracepoints.md 4.1/4.3/4.4: the
	// ftrace "trace" file has a 12-line header with irq-info on (5.13+
	// layout with the migrate-disable line), trace-cmd report one
	// "cpus=N" line, perf script none.
	wantNonEvent := map[Format]map[string]int64{
		FormatFtrace:     {"comment": 12},
		FormatTraceCmd:   {"header": 1},
		FormatPerfScript: {},
	}
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			text, p, s := scanReal(t, tr)
			st := p.st
			if got := int64(bytes.Count(text, []byte("\n"))); st.Lines != got {
				t.Errorf("Lines = %d, the file has %d", st.Lines, got)
			}
			if st.Lines != st.Events+st.NonEventLines+st.Problems {
				t.Errorf("Lines %d != Events %d + NonEventLines %d + Problems %d", st.Lines, st.Events, st.NonEventLines, st.Problems)
			}
			if st.Events != int64(len(s.events)) {
				t.Errorf("Events = %d, naive scan finds %d", st.Events, len(s.events))
			}
			if !maps.Equal(st.NonEventKinds, wantNonEvent[tr.format]) {
				t.Errorf("NonEventKinds = %v, want %v", st.NonEventKinds, wantNonEvent[tr.format])
			}
			if st.NonEventLines != s.comments+s.headers {
				t.Errorf("NonEventLines = %d, naive scan: %d comments + %d headers", st.NonEventLines, s.comments, s.headers)
			}
			if st.Problems != 0 || len(st.ProblemSamples) != 0 {
				t.Errorf("Problems = %d, first: %v", st.Problems, st.ProblemSamples)
			}
			if st.DecodeErrors != 0 || len(st.DecodeErrorSamples) != 0 {
				t.Errorf("DecodeErrors = %d, first: %v", st.DecodeErrors, st.DecodeErrorSamples)
			}
			if st.GenericEvents != 0 || st.FailedToParse != 0 {
				t.Errorf("GenericEvents = %d, FailedToParse = %d; every event of these traces is in the catalog", st.GenericEvents, st.FailedToParse)
			}
			if len(st.LostMarkers) != 0 || st.LostEvents != 0 || len(st.BufferStarted) != 0 {
				t.Errorf("markers found, MANIFEST says there are no LOST lines: %v %v", st.LostMarkers, st.BufferStarted)
			}
			if st.Unit != "ns" || st.MixedUnits {
				t.Errorf("Unit = %q (mixed %v), want ns", st.Unit, st.MixedUnits)
			}
			if st.Bytes != int64(len(text)) {
				t.Errorf("Bytes = %d, the input has %d", st.Bytes, len(text))
			}
			if int64(p.v.n) != st.Events || p.tbl.Rows() != st.Events {
				t.Errorf("table has %d rows (Rows() %d), Events = %d", p.v.n, p.tbl.Rows(), st.Events)
			}
		})
	}
}

// TestRealHeader checks what the header lines state.
func TestRealHeader(t *testing.T) {
	reP := regexp.MustCompile(`(?m)^# entries-in-buffer/entries-written: (\d+)/(\d+)\s+#P:(\d+)$`)
	reCPUs := regexp.MustCompile(`(?m)^cpus=(\d+)$`)
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			text, p := loadReal(t, tr)
			h := p.st.Header
			switch tr.format {
			case FormatFtrace:
				s := reP.FindSubmatch(text)
				if s == nil {
					t.Fatal("no entries-in-buffer line in the text")
				}
				if h.Tracer != "nop" || fmt.Sprint(h.EntriesInBuffer) != string(s[1]) ||
					fmt.Sprint(h.EntriesWritten) != string(s[2]) || fmt.Sprint(h.CPUs) != string(s[3]) {
					t.Errorf("Header = %+v, text says tracer nop, %s/%s, #P:%s", h, s[1], s[2], s[3])
				}
				// A complete buffer: entries-in-buffer equals the events.
				if h.EntriesInBuffer != p.st.Events {
					t.Errorf("entries-in-buffer %d != events %d", h.EntriesInBuffer, p.st.Events)
				}
			case FormatTraceCmd:
				s := reCPUs.FindSubmatch(text)
				if s == nil || fmt.Sprint(h.CPUs) != string(s[1]) {
					t.Errorf("Header.CPUs = %d, text: %q", h.CPUs, s)
				}
			case FormatPerfScript:
				if h != (Header{}) {
					t.Errorf("Header = %+v, perf script has none", h)
				}
			}
		})
	}
}

// TestRealRows compares every row of every real trace with the cells
// derived from its line by the naive reader (expect_test.go). This covers
// the field values of every event type present, timestamps, flags, pid,
// comm and provenance.
func TestRealRows(t *testing.T) {
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			_, p, s := scanReal(t, tr)
			seen := map[string]int{}
			bad := 0
			for _, n := range s.events {
				i := p.v.rowAtLine(t, n.no)
				want := expectedRow(tr.name(), n)
				if d := diffRow(p.v.row(i), want); len(d) > 0 {
					bad++
					if bad <= 5 {
						t.Errorf("line %d %q:\n  %s", n.no, n.text, strings.Join(d, "\n  "))
					}
				}
				seen[canonicalName(n.name)]++
			}
			if bad > 5 {
				t.Errorf("... %d rows differ in all", bad)
			}
			// Every event name of the MANIFEST was compared at least once.
			m := readManifest(t, tr.scenario)
			for name, c := range m.counts[tr.column] {
				if c > 0 && name != "(header:cpus=N)" && seen[canonicalName(name)] == 0 {
					t.Errorf("no row of event %s compared", name)
				}
			}
		})
	}
}

// TestRealKnownLines pins a few rows to values read off the text by hand, so
// that a shared mistake of the parser and the naive reader still shows.
func TestRealKnownLines(t *testing.T) {
	tests := []struct {
		trace realTrace
		line  string // exact text of the line
		want  map[string]any
	}{
		{realTraces[0], "          <idle>-0       [001] d.h1.    44.373301: call_function_single_entry: vector=251",
			map[string]any{"ts_ns": int64(44_373_301_000), "cpu": int64(1), "pid": int64(0), "comm": "<idle>",
				"event": "call_function_single_entry", "system": "irq_vectors", "vector": int64(251),
				"flags": "d.h1.", "irqs_off": true, "bh_off": false, "need_resched": false, "hardirq": true,
				"softirq": false, "nmi": false, "preempt_depth": int64(1), "migrate_disable": int64(0)}},
		{realTraces[0], "         cpuhp/1-19      [001] d..2.    47.783620: vector_update: irq=26 vector=35 cpu=1 prev_vector=0 prev_cpu=1",
			map[string]any{"ts_ns": int64(47_783_620_000), "cpu": int64(1), "pid": int64(19), "comm": "cpuhp/1",
				"event": "vector_update", "system": "irq_vectors", "irq": int64(26), "vector": int64(35),
				"target_cpu": int64(1), "flags": "d..2.", "irqs_off": true, "bh_off": false, "need_resched": false,
				"hardirq": false, "softirq": false, "nmi": false, "preempt_depth": int64(2), "migrate_disable": int64(0)}},
		{realTraces[0], "     kworker/0:1-17      [000] .....    46.628018: cpuhp_enter: cpu: 0001 target: 153 step: 236 (cpuhp_kick_ap_work)",
			map[string]any{"ts_ns": int64(46_628_018_000), "cpu": int64(0), "pid": int64(17), "comm": "kworker/0:1",
				"event": "cpuhp_enter", "system": "cpuhp", "target_cpu": int64(1), "target_state": int64(153),
				"step": int64(236), "func": "cpuhp_kick_ap_work", "flags": ".....", "irqs_off": false, "bh_off": false,
				"need_resched": false, "hardirq": false, "softirq": false, "nmi": false, "preempt_depth": int64(0),
				"migrate_disable": int64(0)}},
		{realTraces[1], "             cat-1721  [002]    68.189431: irq_matrix_alloc:     bit=43 cpu=1 online=1 avl=190 alloc=10 managed=4 online_maps=4 global_avl=770, global_rsvd=12, total_alloc=31",
			map[string]any{"ts_ns": int64(68_189_431_000), "cpu": int64(2), "pid": int64(1721), "comm": "cat",
				"event": "irq_matrix_alloc", "system": "irq_matrix", "vector": int64(43), "target_cpu": int64(1),
				"online": true, "avl": int64(190), "alloc": int64(10), "managed": int64(4), "online_maps": int64(4),
				"global_avl": int64(770), "global_rsvd": int64(12), "total_alloc": int64(31)}},
		{realTraces[1], "     rig-init.sh-1     [000]    44.328676: print:                tracing_mark_write: RIG: capture start scenario=hotplug seed=21",
			map[string]any{"ts_ns": int64(44_328_676_000), "cpu": int64(0), "pid": int64(1), "comm": "rig-init.sh",
				"event": "print", "system": "ftrace", "func": "tracing_mark_write", "text": "RIG: capture start scenario=hotplug seed=21"}},
		{realTraces[2], " kworker/0:1-eve    17 [000]    46.511283:                      cpuhp:cpuhp_enter: cpu: 0001 target: 153 step: 236 (cpuhp_kick_ap_work)",
			map[string]any{"ts_ns": int64(46_511_283_000), "cpu": int64(0), "pid": int64(17), "comm": "kworker/0:1-eve",
				"event": "cpuhp_enter", "system": "cpuhp", "target_cpu": int64(1), "target_state": int64(153),
				"step": int64(236), "func": "cpuhp_kick_ap_work"}},
		{realTraces[2], "         swapper     0 [000]    84.817738:            irq_matrix:irq_matrix_alloc: bit=33 cpu=3 online=1 avl=196 alloc=4 managed=4 online_maps=4 global_avl=770, global_rsvd=12, total_alloc=31",
			map[string]any{"ts_ns": int64(84_817_738_000), "cpu": int64(0), "pid": int64(0), "comm": "swapper",
				"event": "irq_matrix_alloc", "system": "irq_matrix", "vector": int64(33), "target_cpu": int64(3),
				"online": true, "avl": int64(196), "alloc": int64(4), "managed": int64(4), "online_maps": int64(4),
				"global_avl": int64(770), "global_rsvd": int64(12), "total_alloc": int64(31)}},
	}
	for _, tc := range tests {
		t.Run(tc.trace.name()+"/"+tc.want["event"].(string), func(t *testing.T) {
			text, p := loadReal(t, tc.trace)
			i := bytes.Index(text, []byte("\n"+tc.line+"\n"))
			if i < 0 {
				t.Fatalf("line not in %s", tc.trace.name())
			}
			off := int64(i + 1)
			ln := int64(bytes.Count(text[:off], []byte("\n"))) + 1
			row := p.v.rowAtLine(t, ln)
			want := maps.Clone(tc.want)
			want["line"], want["offset"], want["file"] = ln, off, tc.trace.name()
			if d := diffRow(p.v.row(row), want); len(d) > 0 {
				t.Errorf("line %d:\n  %s", ln, strings.Join(d, "\n  "))
			}
		})
	}
}

// TestRealPerCPU checks the per-CPU accounting against MANIFEST "Lines per
// CPU" (events, first and last timestamp) and the naive scan.
func TestRealPerCPU(t *testing.T) {
	for _, tr := range realTraces {
		t.Run(tr.name(), func(t *testing.T) {
			_, p, s := scanReal(t, tr)
			m := readManifest(t, tr.scenario).cpus[tr.column]
			if len(p.st.CPUs) != len(m) {
				t.Fatalf("%d CPUs, MANIFEST lists %d", len(p.st.CPUs), len(m))
			}
			var first, last int64 = 1 << 62, -1
			for _, c := range p.st.CPUs {
				mc, ok := m[int64(c.CPU)]
				if !ok {
					t.Errorf("CPU %d not in MANIFEST", c.CPU)
					continue
				}
				ns := s.perCPU[int64(c.CPU)]
				if c.Events != mc.lines || c.Events != ns.lines {
					t.Errorf("CPU %d: %d events, MANIFEST %d, naive %d", c.CPU, c.Events, mc.lines, ns.lines)
				}
				if c.FirstTS != nsFromText(mc.first) || c.LastTS != nsFromText(mc.last) {
					t.Errorf("CPU %d: ts %d..%d, MANIFEST %s..%s", c.CPU, c.FirstTS, c.LastTS, mc.first, mc.last)
				}
				if ns.first != mc.first || ns.last != mc.last {
					t.Errorf("CPU %d: naive scan sees %s..%s in file order, MANIFEST %s..%s", c.CPU, ns.first, ns.last, mc.first, mc.last)
				}
				// No buffer-started marker: the whole CPU buffer is trustworthy.
				if c.TrustedFromTS != c.FirstTS || c.BufferStarted || c.LostMarkers != 0 {
					t.Errorf("CPU %d: trusted from %d, buffer started %v, lost markers %d", c.CPU, c.TrustedFromTS, c.BufferStarted, c.LostMarkers)
				}
				// Each CPU's events are in timestamp order in these files.
				if c.Backwards != 0 {
					t.Errorf("CPU %d: %d backward timestamps", c.CPU, c.Backwards)
				}
				first, last = min(first, c.FirstTS), max(last, c.LastTS)
			}
			if p.st.FirstTS == nil || p.st.LastTS == nil || *p.st.FirstTS != first || *p.st.LastTS != last {
				t.Errorf("FirstTS/LastTS = %v/%v, want %d/%d", p.st.FirstTS, p.st.LastTS, first, last)
			}
		})
	}
}

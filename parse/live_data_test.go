package parse

// Tests on the captures of this machine's live 6.18 tracefs in
// testdata/live (written by scripts/capture-live.sh together with a
// MANIFEST.md of counts made with grep/awk). The files are regenerated on
// every capture run; each is compared with the MANIFEST of the same run,
// and a file the capture did not produce is skipped.

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const liveDir = "../testdata/live"

// liveManifest is one "### `file`" section of testdata/live/MANIFEST.md.
type liveManifest struct {
	total, comments, started, lost, lostSum, blank, frames int64
	counts                                                 map[string]int64 // by canonical event name
}

var (
	reLiveSection = regexp.MustCompile("(?m)^### `([^`]+)`$")
	reLiveField   = regexp.MustCompile(`(?m)^- (.+?): \**(\d+)\**(?: \(sum of N in 'LOST N EVENTS': (\d+)\))?$`)
	reLiveRow     = regexp.MustCompile("(?m)^  \\| `([^`]+)` \\| (\\d+) \\| (\\d+) \\|$")
)

func readLiveManifest(t *testing.T) map[string]*liveManifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(liveDir, "MANIFEST.md"))
	if err != nil {
		t.Skipf("no live MANIFEST: %v", err)
	}
	text := string(b)
	out := map[string]*liveManifest{}
	idx := reLiveSection.FindAllStringSubmatchIndex(text, -1)
	for i, m := range idx {
		end := len(text)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		sec := text[m[1]:end]
		lm := &liveManifest{counts: map[string]int64{}}
		for _, f := range reLiveField.FindAllStringSubmatch(sec, -1) {
			n, _ := strconv.ParseInt(f[2], 10, 64)
			switch {
			case f[1] == "total lines":
				lm.total = n
			case strings.HasPrefix(f[1], "header/comment lines"):
				lm.comments = n
			case strings.Contains(f[1], "buffer started"):
				lm.started = n
			case strings.HasPrefix(f[1], "'CPU:N [LOST"):
				lm.lost = n
				lm.lostSum, _ = strconv.ParseInt(f[3], 10, 64)
			case f[1] == "empty lines":
				lm.blank = n
			case strings.HasPrefix(f[1], "callchain frame lines"):
				lm.frames = n
			}
		}
		for _, r := range reLiveRow.FindAllStringSubmatch(sec, -1) {
			n, _ := strconv.ParseInt(r[2], 10, 64)
			if g, _ := strconv.ParseInt(r[3], 10, 64); g != n {
				t.Logf("MANIFEST %s: %s counted %d by awk, %d by grep", text[m[2]:m[3]], r[1], n, g)
			}
			name := r[1]
			if k := strings.LastIndexByte(name, ':'); k >= 0 {
				name = name[k+1:] // perf: sys:event
			}
			if fn, ok := strings.CutPrefix(name, "<function> "); ok && fn != "" {
				name = "function"
			}
			lm.counts[canonicalName(name)] += n
		}
		out[text[m[2]:m[3]]] = lm
	}
	return out
}

// liveFormat is the format each capture must be detected as, by name.
func liveFormat(name string) Format {
	switch {
	case strings.HasPrefix(name, "trace_pipe"):
		return FormatTracePipe
	case strings.HasPrefix(name, "ftrace-"):
		return FormatFtrace
	case strings.HasPrefix(name, "trace-cmd-report"):
		return FormatTraceCmd
	case strings.HasPrefix(name, "perf-script"):
		return FormatPerfScript
	}
	return FormatUnknown
}

func TestLiveCaptures(t *testing.T) {
	mf := readLiveManifest(t)
	ents, err := os.ReadDir(liveDir)
	if err != nil {
		t.Skipf("no live captures: %v", err)
	}
	tested := 0
	for _, e := range ents {
		name := e.Name()
		if !strings.HasSuffix(name, ".txt") && !strings.HasSuffix(name, ".txt.xz") {
			continue
		}
		base := strings.TrimSuffix(name, ".xz")
		want := liveFormat(base)
		if want == FormatUnknown {
			continue
		}
		m := mf[base]
		t.Run(base, func(t *testing.T) {
			if m == nil {
				t.Skipf("%s has no MANIFEST section (capture in progress?)", base)
			}
			rc, _, err := OpenInput(filepath.Join(liveDir, name), nil)
			if err != nil {
				t.Fatal(err)
			}
			text, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			tested++
			if base == "ftrace-latency.txt" {
				// latency-format output has no absolute timestamps: refused
				// with a message that says how to record it instead.
				_, err := Detect(head(text))
				if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "latency-format") {
					t.Errorf("Detect: %v", err)
				}
				return
			}
			if f, err := Detect(head(text)); f != want || err != nil {
				t.Fatalf("Detect = %v, %v; want %v", f, err, want)
			}
			p := mustParse(t, text, base, Options{})
			st := p.st
			s := scanText(text, want == FormatPerfScript)
			if len(s.other) > 0 {
				t.Fatalf("naive scan does not recognise line %d: %q", s.other[0].no, s.other[0].text)
			}
			if st.Problems != 0 || st.DecodeErrors != 0 {
				t.Fatalf("%d problems %v, %d decode errors %v", st.Problems, st.ProblemSamples, st.DecodeErrors, st.DecodeErrorSamples)
			}
			// Counts: parser = naive scan = MANIFEST (grep/awk).
			if d := diffCounts(st.EventCounts, s.counts); d != "" {
				t.Errorf("event counts differ from the naive scan:\n%s", d)
			}
			if d := diffCounts(st.EventCounts, m.counts); d != "" {
				t.Errorf("event counts differ from MANIFEST:\n%s", d)
			}
			k := st.NonEventKinds
			if st.Lines != m.total || k["comment"] != m.comments || k["buffer_started"] != m.started ||
				k["lost_marker"] != m.lost || st.LostEvents != m.lostSum || k["blank"] != m.blank || k["callchain"] != m.frames {
				t.Errorf("lines %d kinds %v lost events %d; MANIFEST %+v", st.Lines, k, st.LostEvents, *m)
			}
			if st.Lines != st.Events+st.NonEventLines {
				t.Errorf("Lines %d != Events %d + NonEventLines %d", st.Lines, st.Events, st.NonEventLines)
			}
			// Every row as the naive reader reads its line.
			bad := 0
			for _, n := range s.events {
				if d := diffRow(p.v.row(p.v.rowAtLine(t, n.no)), expectedRow(base, n)); len(d) > 0 {
					if bad++; bad <= 3 {
						t.Errorf("line %d %q:\n  %s", n.no, n.text, strings.Join(d, "\n  "))
					}
				}
			}
			// Markers: position, count, and the CPU's next event.
			checkLiveMarkers(t, st, s)
		})
	}
	if tested == 0 {
		t.Skip("no live captures in testdata/live")
	}
}

// checkLiveMarkers compares the LOST and buffer-started markers with the
// naive scan: each marker's NextTS is the timestamp of the first event of
// its CPU after it; a CPU with a buffer-started marker is trustworthy from
// there.
func checkLiveMarkers(t *testing.T, st *Stats, s *naiveScan) {
	t.Helper()
	reCPU := regexp.MustCompile(`CPU:?\s?(\d+)`)
	reCount := regexp.MustCompile(`\[LOST (\d+) EVENTS\]`)
	next := func(l naiveLine) *int64 {
		cpu, _ := strconv.ParseInt(reCPU.FindStringSubmatch(l.text)[1], 10, 64)
		for _, e := range s.events {
			if e.no > l.no && e.cpu == cpu {
				v := expectedRow("", e)["ts_ns"].(int64)
				return &v
			}
		}
		return nil
	}
	same := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	if len(st.LostMarkers) != len(s.lost) || len(st.BufferStarted) != len(s.started) {
		t.Fatalf("%d LOST / %d started markers, naive %d / %d", len(st.LostMarkers), len(st.BufferStarted), len(s.lost), len(s.started))
	}
	for i, l := range s.lost {
		g := st.LostMarkers[i]
		cnt := int64(-1)
		if c := reCount.FindStringSubmatch(l.text); c != nil {
			cnt, _ = strconv.ParseInt(c[1], 10, 64)
		}
		if g.Line != l.no || g.Offset != l.offset || g.Count != cnt || !same(g.NextTS, next(l)) {
			t.Errorf("LOST marker %d = %+v, line %d %q", i, g, l.no, l.text)
		}
	}
	trusted := map[int32]int64{}
	for i, l := range s.started {
		g := st.BufferStarted[i]
		n := next(l)
		if g.Line != l.no || g.Offset != l.offset || !same(g.NextTS, n) {
			t.Errorf("buffer-started marker %d = %+v, line %d %q", i, g, l.no, l.text)
		}
		if n != nil {
			trusted[g.CPU] = *n
		}
	}
	for _, c := range st.CPUs {
		want, ok := trusted[c.CPU]
		if !ok {
			want = c.FirstTS
		}
		if c.TrustedFromTS != want || c.BufferStarted != ok {
			t.Errorf("CPU %d: trusted from %d (buffer started %v), want %d", c.CPU, c.TrustedFromTS, c.BufferStarted, want)
		}
	}
}

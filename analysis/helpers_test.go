package analysis

// Shared test helpers: loading a real trace (text and model), and a naive
// line scanner used to derive expectations from the input text without the
// parser or the model.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

// loaded is one real trace: its text and the model built from it.
type loaded struct {
	path  string
	text  []byte
	lines []string // lines[i] is line i+1
	st    *parse.Stats
	m     *Model
}

var (
	loadMu    sync.Mutex
	loadCache = map[string]*loaded{}
)

// loadTrace parses path (compressed or not) and builds its model; results
// are cached per test binary. perf selects the perf coverage rule.
func loadTrace(t testing.TB, path string) *loaded {
	t.Helper()
	loadMu.Lock()
	defer loadMu.Unlock()
	if l := loadCache[path]; l != nil {
		return l
	}
	text := readText(t, path)
	st, m := buildText(t, text, filepath.Base(path))
	l := &loaded{path: path, text: text, lines: strings.Split(string(text), "\n"), st: st, m: m}
	loadCache[path] = l
	return l
}

func readText(t testing.TB, path string) []byte {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("trace not available: %v", err)
	}
	text, err := readTextErr(path)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// readTextErr returns the decompressed text of path.
func readTextErr(path string) ([]byte, error) {
	r, _, err := parse.OpenInput(path, nil)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// buildText parses text and builds its model with the markers of the
// parser's stats.
func buildText(t testing.TB, text []byte, name string) (*parse.Stats, *Model) {
	t.Helper()
	tbl := ftrace.NewTable()
	defer tbl.Release()
	st, err := parse.Parse(context.Background(), bytes.NewReader(text), name, tbl, parse.Options{})
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Build(recs, Options{Markers: markersOf(st), Perf: st.Format == parse.FormatPerfScript.String()})
	if err != nil {
		t.Fatalf("Build %s: %v", name, err)
	}
	return st, m
}

// markersOf converts the parser's markers to analysis markers.
func markersOf(st *parse.Stats) []Marker {
	var out []Marker
	for _, ms := range [][]parse.Marker{st.LostMarkers, st.BufferStarted} {
		for _, mk := range ms {
			out = append(out, Marker{Kind: mk.Kind, CPU: mk.CPU, Line: mk.Line, NextTS: mk.NextTS})
		}
	}
	return out
}

// ---- naive text scan ----

// tline is one event line of a trace text, split by regular expressions
// independent of package parse.
type tline struct {
	no    int64 // 1-based line number
	cpu   int32
	ts    int64  // ns
	flags string // ftrace flags column ("" when the format has none)
	name  string // event name, system stripped
	body  string // payload
}

var (
	// ftrace: "  comm-pid  [003] d.h1.  44.457773: event: payload"
	// trace-cmd: "  comm-pid  [003]  44.457773: event:  payload"
	// perf: "  comm  pid [003]  44.457773:  sys:event: payload"
	reEvLine = regexp.MustCompile(`^.*?\[(\d{3})\]\s+(?:([.a-zA-Z0-9]{4,5})\s+)?(\d+)\.(\d{6,9}):\s+(?:[a-z_0-9]+:)?([a-z_0-9]+):\s?(.*)$`)
)

// scanEvents splits every event line of text.
func scanEvents(text []byte) []tline {
	var out []tline
	no := int64(0)
	for _, l := range strings.Split(string(text), "\n") {
		no++
		if l == "" || l[0] == '#' {
			continue
		}
		m := reEvLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		cpu, _ := strconv.Atoi(m[1])
		sec, _ := strconv.ParseInt(m[3], 10, 64)
		frac := m[4]
		for len(frac) < 9 {
			frac += "0"
		}
		ns, _ := strconv.ParseInt(frac, 10, 64)
		out = append(out, tline{no: no, cpu: int32(cpu), ts: sec*1e9 + ns, flags: m[2], name: m[5], body: strings.TrimSpace(m[6])})
	}
	return out
}

// kv reads key=value (or "key: value") fields of a payload; a trailing
// comma is dropped.
func kv(body string) map[string]string {
	out := map[string]string{}
	f := strings.Fields(body)
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if k, v, ok := strings.Cut(tok, "="); ok {
			out[k] = strings.TrimSuffix(v, ",")
			continue
		}
		if strings.HasSuffix(tok, ":") && i+1 < len(f) {
			out[strings.TrimSuffix(tok, ":")] = f[i+1]
			i++
		}
	}
	return out
}

func atoi(t testing.TB, s string) int32 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSuffix(s, ","), 10, 32)
	if err != nil {
		t.Fatalf("atoi(%q): %v", s, err)
	}
	return int32(n)
}

// fmtp prints *p, or "nil".
func fmtp[T any](p *T) string {
	if p == nil {
		return "nil"
	}
	return fmt.Sprint(*p)
}

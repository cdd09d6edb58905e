// Package tracetest loads the bundled real traces through the whole
// pipeline (parse, events table, lifecycle model) for the tests of the
// packages after analysis, which must not import parse themselves.
package tracetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

// Trace is one input through the pipeline.
type Trace struct {
	Name    string
	Stats   *parse.Stats
	Records []arrow.RecordBatch // released by the test's cleanup
	Model   *analysis.Model
}

// Load parses the trace at path (compressed or not), builds its model with
// the file's loss markers, and skips the test when the file is absent.
// name is the file name used in the table and in citations.
func Load(t testing.TB, path, name string) *Trace {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("trace not available: %v", err)
	}
	r, _, err := parse.OpenInput(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tbl := ftrace.NewTable()
	t.Cleanup(tbl.Release)
	st, err := parse.Parse(context.Background(), r, name, tbl, parse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	m, err := analysis.Build(recs, analysis.Options{File: name, Markers: Markers(st), Perf: st.Format == parse.FormatPerfScript.String()})
	if err != nil {
		t.Fatal(err)
	}
	return &Trace{Name: name, Stats: st, Records: recs, Model: m}
}

// Real returns the path of a bundled real trace: testdata/<scenario>/<file>
// relative to a package directory one level below the module root.
func Real(scenario, file string) string {
	return filepath.Join("..", "testdata", scenario, file)
}

// Markers converts the parser's loss and buffer-start markers for
// analysis.Build.
func Markers(st *parse.Stats) []analysis.Marker {
	var out []analysis.Marker
	for _, ms := range [][]parse.Marker{st.LostMarkers, st.BufferStarted} {
		for _, mk := range ms {
			out = append(out, analysis.Marker{Kind: mk.Kind, CPU: mk.CPU, Line: mk.Line, NextTS: mk.NextTS})
		}
	}
	return out
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/arrowio"
	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
	"github.com/irqtrace/irqtrace/report"
)

// runLifecycle parses the one file of opts.Files, builds its lifecycle
// model and writes report.Lifecycle's timeline to stdout, or with
// opts.JSON report.LifecycleJSON's object, filtered by opts.IRQs and
// opts.CPUs. The count of problem lines goes to stderr.
func runLifecycle(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	t := ftrace.NewTable()
	defer t.Release()
	in, err := parseInput(ctx, opts.Files[0], opts, t)
	if err != nil {
		return err
	}
	recs, err := t.Records()
	if err != nil {
		return fmt.Errorf("building the events table: %w", err)
	}
	m, err := buildModel(recs, in.stats)
	if err != nil {
		return err
	}
	lo := report.LifecycleOptions{IRQs: opts.IRQs, CPUs: opts.CPUs, Steps: opts.Steps, Raw: in.stats.Unit == "raw"}
	if opts.JSON {
		err = report.LifecycleJSON(stdout, m, lo)
	} else {
		if lo.OfflineLines, err = analysis.OfflineLines(recs, m); err != nil {
			return err
		}
		err = report.Lifecycle(stdout, m, lo)
	}
	if err != nil {
		return err
	}
	writeProblemCount(stderr, in.stats, "irqtrace stats lists them")
	return nil
}

// buildModel builds the lifecycle model of the file st describes from
// recs (which may hold other files too), with the file's loss and
// buffer-start markers.
func buildModel(recs []arrow.RecordBatch, st *parse.Stats) (*analysis.Model, error) {
	var marks []analysis.Marker
	for _, ms := range [][]parse.Marker{st.LostMarkers, st.BufferStarted} {
		for _, mk := range ms {
			marks = append(marks, analysis.Marker{Kind: mk.Kind, CPU: mk.CPU, Line: mk.Line, NextTS: mk.NextTS})
		}
	}
	m, err := analysis.Build(recs, analysis.Options{File: st.File, Markers: marks,
		Perf: st.Format == parse.FormatPerfScript.String()})
	if err != nil {
		return nil, fmt.Errorf("%s: building the lifecycle model: %w", st.File, err)
	}
	return m, nil
}

// modelTables builds one model per file of stats from recs and returns
// the model's tables (analysis.Tables) over all of them. The caller
// releases the tables' records.
func modelTables(recs []arrow.RecordBatch, stats []*parse.Stats) ([]analysis.Table, error) {
	models := make([]*analysis.Model, 0, len(stats))
	for _, st := range stats {
		m, err := buildModel(recs, st)
		if err != nil {
			return nil, err
		}
		models = append(models, m)
	}
	return analysis.Tables(models, memory.DefaultAllocator)
}

// modelTablePath names the file of model table name next to convert's
// output out: events.parquet -> events.migrations.parquet.
func modelTablePath(out, name string) string {
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + "." + name + ext
}

// outFile is one file convert writes.
type outFile struct {
	path   string
	schema *arrow.Schema
	recs   []arrow.RecordBatch
	rows   int64
}

// writeFiles writes outs as a set: each with arrowio.WriteFile into a new
// temporary directory next to the first, then each renamed into place.
// An error before the renames leaves nothing under any of the paths (and
// existing files untouched); the temporary directory is always removed.
// A single file is written with arrowio.WriteFile directly.
func writeFiles(outs []outFile) error {
	if len(outs) == 1 {
		return arrowio.WriteFile(outs[0].path, outs[0].schema, outs[0].recs)
	}
	first := outs[0].path
	tmp, err := os.MkdirTemp(filepath.Dir(first), "."+filepath.Base(first)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", first, err)
	}
	defer os.RemoveAll(tmp)
	staged := make([]string, len(outs))
	for i, o := range outs {
		staged[i] = filepath.Join(tmp, filepath.Base(o.path))
		if err := arrowio.WriteFile(staged[i], o.schema, o.recs); err != nil {
			// arrowio names the staged file; name the real one.
			if cause := errors.Unwrap(err); cause != nil {
				err = cause
			}
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
	}
	for i, o := range outs {
		if err := os.Rename(staged[i], o.path); err != nil {
			return fmt.Errorf("writing %s: %w", o.path, err)
		}
	}
	return nil
}

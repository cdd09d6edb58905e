package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/report"
	"github.com/irqtrace/irqtrace/rules"
)

// runAnalyze analyzes each of opts.Files on its own (a model describes one
// recording) and writes report.Analyze's report, or report.AnalyzeJSON's
// object, to stdout. With opts.FailOn it returns a *findingsError when a
// finding of that severity or worse exists.
func runAnalyze(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	var all []rules.Finding
	var objs []json.RawMessage
	for i, path := range opts.Files {
		t := ftrace.NewTable()
		in, err := parseInput(ctx, path, opts, t)
		if err != nil {
			t.Release()
			return err
		}
		recs, err := t.Records()
		if err != nil {
			t.Release()
			return fmt.Errorf("building the events table: %w", err)
		}
		m, err := buildModel(recs, in.stats)
		t.Release()
		if err != nil {
			return err
		}
		st := in.stats
		fs := rules.Run(rules.Default(rules.DefaultOptions), &rules.Input{Model: m, File: st.File})
		all = append(all, fs...)
		if opts.Plots != "" {
			if err := analyzePlots(opts.Plots, len(opts.Files) > 1, in.stats, m, fs, stderr); err != nil {
				return err
			}
		}
		sum := report.TraceSummary{File: st.File, Format: st.Format, Clock: st.Clock, Unit: st.Unit, Lines: st.Lines,
			Events: st.Events, Problems: st.Problems, DecodeErrors: st.DecodeErrors, LostMarkers: len(st.LostMarkers), LostEvents: st.LostEvents}
		switch {
		case opts.JSON && len(opts.Files) == 1:
			err = report.AnalyzeJSON(stdout, sum, m, fs)
		case opts.JSON:
			var b jsonBuffer
			err = report.AnalyzeJSON(&b, sum, m, fs)
			objs = append(objs, json.RawMessage(b))
		default:
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			err = report.Analyze(stdout, sum, m, fs, report.AnalyzeOptions{})
		}
		if err != nil {
			return err
		}
		writeProblemCount(stderr, st, "irqtrace stats lists them")
	}
	if opts.JSON && len(opts.Files) > 1 {
		counts := map[string]int{"error": 0, "warning": 0, "info": 0}
		for _, f := range all {
			counts[f.Severity.String()]++
		}
		if all == nil {
			all = []rules.Finding{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{
			"summary":  map[string]any{"files": len(opts.Files), "findings": counts},
			"findings": all,
			"files":    objs,
		}); err != nil {
			return err
		}
	}
	if opts.FailOn != nil {
		n := 0
		for _, f := range all {
			if f.Severity >= *opts.FailOn {
				n++
			}
		}
		if n > 0 {
			return &findingsError{n, *opts.FailOn}
		}
	}
	return nil
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// runRules lists the rules with their documentation.
func runRules(asJSON bool, w io.Writer) error {
	rs := rules.Default(rules.DefaultOptions)
	if asJSON {
		docs := make([]rules.Doc, 0, len(rs))
		for _, r := range rs {
			docs = append(docs, r.Doc())
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(docs)
	}
	for i, r := range rs {
		d := r.Doc()
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s: %s\n", d.ID, d.Summary)
		for _, part := range []struct{ k, v string }{
			{"detects", d.Detects}, {"evidence", d.Evidence}, {"thresholds", d.Thresholds}, {"false positives", d.FalsePositives},
		} {
			fmt.Fprintf(w, "  %s:\n%s", part.k, report.Wrap(part.v, "    ", 78))
		}
	}
	return nil
}

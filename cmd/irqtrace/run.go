package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/irqtrace/irqtrace/arrowio"
	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
	"github.com/irqtrace/irqtrace/rules"
)

// Options are what the commands do, one field per flag. The zero value
// reads no input; with Files set it parses leniently, detects each file's
// format, leaves the clock unknown and prints a text summary.
type Options struct {
	// Files are the input paths; "-" is Stdin.
	Files []string
	Stdin io.Reader
	// Strict makes the first bad line (or undecodable payload) fatal.
	Strict bool
	// Format forces the input format (parse.FormatUnknown: detect it
	// per file from the content).
	Format parse.Format
	// Clock names the trace clock for inputs that do not state it.
	Clock string
	// JSON makes stats print one JSON object instead of text.
	JSON bool
	// Output is convert's output path (.arrow, .feather, .ipc, .parquet).
	Output string
	// Model makes convert also write the lifecycle model's tables next
	// to Output (see modelTablePath).
	Model bool
	// IRQs and CPUs filter lifecycle's output (empty: everything); Steps
	// makes it list every cpuhp step.
	IRQs, CPUs []int32
	Steps      bool
	// FailOn makes analyze fail (exit status 3) when a finding of this
	// severity or worse exists (nil: never).
	FailOn *rules.Severity
	// Plots makes analyze also write the standard plots into this directory.
	Plots string
}

// stdinName is the file name inputs read from "-" get in diagnostics and
// in the events table's file column.
const stdinName = "<stdin>"

// input is one parsed input file.
type input struct {
	path        string // as given on the command line
	compression string // "", "gzip", "zstd" or "xz"
	stats       *parse.Stats
}

// parseInput opens, decompresses and parses one input into t.
func parseInput(ctx context.Context, path string, opts Options, t *ftrace.Table) (*input, error) {
	r, comp, err := parse.OpenInput(path, opts.Stdin)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	name := path
	if path == "-" {
		name = stdinName
	}
	st, err := parse.Parse(ctx, r, name, t, parse.Options{Strict: opts.Strict, Format: opts.Format, Clock: opts.Clock})
	if err != nil {
		return nil, err
	}
	return &input{path: path, compression: comp, stats: st}, nil
}

// runStats parses opts.Files and writes their stats to stdout: the text
// summary, or with opts.JSON the parse.Stats (merged over the files) as
// one JSON object. A count of problem lines goes to stderr. It returns
// the first input's error, if any.
func runStats(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	var (
		inputs []*input
		all    []*parse.Stats
	)
	for _, path := range opts.Files {
		// No table: stats needs only the accounting, so parsing builds
		// no Arrow columns and memory stays bounded by the chunks in flight.
		in, err := parseInput(ctx, path, opts, nil)
		if err != nil {
			return err
		}
		inputs = append(inputs, in)
		all = append(all, in.stats)
	}
	st := parse.Merge(all)
	var err error
	if opts.JSON {
		err = writeStatsJSON(stdout, st)
	} else {
		err = writeSummary(stdout, st, inputs)
	}
	if err != nil {
		return err
	}
	where := "listed above"
	if opts.JSON {
		where = "listed in problem_samples and decode_error_samples"
	}
	writeProblemCount(stderr, st, where)
	return nil
}

// fileMeta is one entry of the "irqtrace.files" schema metadata.
type fileMeta struct {
	File   string `json:"file"`
	Format string `json:"format"`
	Clock  string `json:"clock"`
	Unit   string `json:"unit"`
	Lines  int64  `json:"lines"`
	Events int64  `json:"events"`
}

// runConvert parses opts.Files into one events table and writes it to
// opts.Output with arrowio.WriteFile; with opts.Model it also builds one
// lifecycle model per file and writes the model's tables next to it
// (modelTablePath). The files are written as a set (writeFiles): on any
// error before the final renames nothing appears under their names. A
// one-line summary per file (rows, columns, bytes) and the count of
// problem lines go to stderr; stdout is not used.
func runConvert(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	// An interrupt stops parsing but not a write under way, which then
	// completes: either way no temporary file is left behind.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	t := ftrace.NewTable()
	defer t.Release()
	var (
		files []fileMeta
		all   []*parse.Stats
	)
	for _, path := range opts.Files {
		in, err := parseInput(ctx, path, opts, t)
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted while reading %s; nothing written", path)
		}
		if err != nil {
			return err
		}
		st := in.stats
		files = append(files, fileMeta{File: st.File, Format: st.Format, Clock: st.Clock, Unit: st.Unit, Lines: st.Lines, Events: st.Events})
		all = append(all, st)
	}
	meta, err := json.Marshal(files)
	if err != nil {
		return err
	}
	t.SetMetadata(arrow.NewMetadata([]string{"irqtrace.files"}, []string{string(meta)}))
	recs, err := t.Records()
	if err != nil {
		return fmt.Errorf("building the events table: %w", err)
	}
	outs := []outFile{{opts.Output, t.Schema(), recs, t.Rows()}}
	if opts.Model {
		tables, err := modelTables(recs, all)
		if err != nil {
			return err
		}
		defer func() {
			for _, tb := range tables {
				tb.Record.Release()
			}
		}()
		for _, tb := range tables {
			outs = append(outs, outFile{modelTablePath(opts.Output, tb.Name), tb.Schema,
				[]arrow.RecordBatch{tb.Record}, tb.Record.NumRows()})
		}
	}
	if err := writeFiles(outs); err != nil {
		return err
	}
	for _, o := range outs {
		fi, err := os.Stat(o.path)
		if err != nil {
			return err
		}
		format, _ := arrowio.FormatOf(o.path)
		fmt.Fprintf(stderr, "irqtrace: wrote %s (%s): %d rows, %d columns, %d bytes\n",
			o.path, format, o.rows, o.schema.NumFields(), fi.Size())
	}
	writeProblemCount(stderr, parse.Merge(all), "irqtrace stats lists them")
	return nil
}

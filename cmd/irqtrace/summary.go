package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/irqtrace/irqtrace/parse"
)

// writeStatsJSON writes st as one indented JSON object. Lists that parse
// leaves nil (no problems, no markers) are written as [] rather than
// null, so that consumers can index them without a null check.
func writeStatsJSON(w io.Writer, st *parse.Stats) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonStats(st))
}

func jsonStats(st *parse.Stats) *parse.Stats {
	c := *st
	if c.ProblemSamples == nil {
		c.ProblemSamples = []*parse.SyntaxError{}
	}
	if c.DecodeErrorSamples == nil {
		c.DecodeErrorSamples = []*parse.SyntaxError{}
	}
	if c.LostMarkers == nil {
		c.LostMarkers = []parse.Marker{}
	}
	if c.BufferStarted == nil {
		c.BufferStarted = []parse.Marker{}
	}
	if c.CPUs == nil {
		c.CPUs = []parse.CPUStats{}
	}
	if c.Files != nil {
		c.Files = make([]*parse.Stats, len(st.Files))
		for i, f := range st.Files {
			c.Files[i] = jsonStats(f)
		}
	}
	return &c
}

// writeProblemCount writes one line to w when st has problem lines or
// undecodable payloads, and nothing otherwise; where says where they are
// listed.
func writeProblemCount(w io.Writer, st *parse.Stats, where string) {
	var parts []string
	if st.Problems > 0 {
		parts = append(parts, plural(st.Problems, "problem line")+" skipped")
	}
	if st.DecodeErrors > 0 {
		parts = append(parts, plural(st.DecodeErrors, "event")+" whose payload did not decode kept raw")
	}
	if len(parts) > 0 {
		fmt.Fprintf(w, "irqtrace: %s (%s; --strict makes them fatal)\n", strings.Join(parts, ", "), where)
	}
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// formatTS renders a timestamp of the given unit: seconds with nine
// decimals for "ns" (integer arithmetic, no float rounding), the raw
// integer otherwise.
func formatTS(v int64, unit string) string {
	if unit != "ns" {
		return strconv.FormatInt(v, 10)
	}
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%09d", sign, u/1e9, u%1e9)
}

// unitSuffix is the unit word printed after formatted timestamps.
func unitSuffix(unit string) string {
	switch unit {
	case "ns":
		return "s"
	case "raw":
		return "ticks"
	}
	return "(raw values of mixed units)"
}

// cpuRanges renders a sorted CPU list as ranges: "0-3,6".
func cpuRanges(cpus []parse.CPUStats) string {
	var b strings.Builder
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1].CPU == cpus[j].CPU+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", cpus[i].CPU)
		if j > i {
			fmt.Fprintf(&b, "-%d", cpus[j].CPU)
		}
		i = j + 1
	}
	return b.String()
}

// unitName explains a Stats.Unit value.
func unitName(unit string) string {
	switch unit {
	case "ns":
		return "ns (timestamps printed as seconds)"
	case "raw":
		return "raw ticks (a counter clock; timestamps printed as integers)"
	}
	return "mixed (inputs of different units: timestamps printed as raw integers)"
}

// writeSummary writes the human-readable stats of inputs (merged into st).
func writeSummary(w io.Writer, st *parse.Stats, inputs []*input) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	unit := st.Unit
	p := func(format string, args ...any) { fmt.Fprintf(tw, format, args...) }

	if len(inputs) == 1 {
		p("input\t%s\n", describeInput(inputs[0]))
	} else {
		writeInputs(w, inputs)
		fmt.Fprintf(w, "\nall inputs together\n")
	}
	p("format\t%s\n", st.Format)
	clock := st.Clock
	if clock == "unknown" {
		clock += " (the input does not state it; --clock NAME sets it)"
	}
	p("clock\t%s\n", clock)
	p("unit\t%s\n", unitName(unit))
	if h := st.Header; h.Tracer != "" || h.Version != "" || h.EntriesWritten != 0 {
		var parts []string
		if h.Tracer != "" {
			parts = append(parts, "tracer "+h.Tracer)
		}
		if h.Version != "" {
			parts = append(parts, "trace-cmd version "+h.Version)
		}
		if h.EntriesWritten != 0 || h.EntriesInBuffer != 0 {
			parts = append(parts, fmt.Sprintf("entries-in-buffer/entries-written %d/%d", h.EntriesInBuffer, h.EntriesWritten))
		}
		p("header\t%s\n", strings.Join(parts, ", "))
	}
	// parse.Merge keeps no header: take the largest CPU count stated.
	headerCPUs := st.Header.CPUs
	for _, in := range inputs {
		headerCPUs = max(headerCPUs, in.stats.Header.CPUs)
	}
	header := "not stated"
	if headerCPUs > 0 {
		header = strconv.Itoa(headerCPUs)
	}
	p("cpus\t%s in header, %d with events (%s)\n", header, len(st.CPUs), cpuRanges(st.CPUs))
	if st.FirstTS != nil && st.LastTS != nil {
		note := ""
		if len(inputs) > 1 {
			note = fmt.Sprintf("; over %d inputs, whose clocks may differ", len(inputs))
		}
		u := unitSuffix(unit)
		p("time span\t%s .. %s %s (duration %s %s%s)\n", formatTS(*st.FirstTS, unit), formatTS(*st.LastTS, unit), u,
			formatTS(*st.LastTS-*st.FirstTS, unit), u, note)
	} else {
		p("time span\tno events\n")
	}
	p("lines\t%d = %d events + %d non-event + %d problems\n", st.Lines, st.Events, st.NonEventLines, st.Problems)
	if len(st.NonEventKinds) > 0 {
		p("non-event\t%s\n", countList(st.NonEventKinds))
	}
	p("bytes\t%d\n", st.Bytes)
	p("decode errors\t%d (events kept with their raw payload)\n", st.DecodeErrors)
	p("generic events\t%d (outside the catalog, kept with payload and args)\n", st.GenericEvents)
	if st.FailedToParse > 0 {
		p("failed to parse\t%d (trace-cmd [FAILED TO PARSE] records)\n", st.FailedToParse)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	fmt.Fprintf(w, "\nevents per name (%d names)\n", len(st.EventCounts))
	counts := sortCounts(st.EventCounts)
	nameW, numW := 0, 0
	for _, kv := range counts {
		nameW = max(nameW, len(kv.name))
		numW = max(numW, len(strconv.FormatInt(kv.n, 10)))
	}
	for _, kv := range counts {
		fmt.Fprintf(w, "  %-*s  %*d\n", nameW, kv.name, numW, kv.n)
	}

	fmt.Fprintf(w, "\nper CPU\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  cpu\tevents\tfirst_ts\tfirst_trustworthy_ts\tlast_ts\tlost_markers\tts_backwards\t\n")
	started := false
	for _, c := range st.CPUs {
		mark := " "
		if c.BufferStarted {
			mark, started = "*", true
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s%s\t%s\t%d\t%d\t\n", c.CPU, c.Events, formatTS(c.FirstTS, unit),
			formatTS(c.TrustedFromTS, unit), mark, formatTS(c.LastTS, unit), c.LostMarkers, c.Backwards)
	}
	tw.Flush()
	if started {
		fmt.Fprintf(w, "  * first event after the CPU's \"##### CPU N buffer started ####\" marker\n")
	}

	fmt.Fprintf(w, "\nLOST / DROPPED markers: %d (%d events lost where counted)\n", len(st.LostMarkers), st.LostEvents)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, m := range st.LostMarkers {
		fmt.Fprintf(tw, "  %s:%d\tCPU %d\t%s\t%s\n", m.File, m.Line, m.CPU, markerWhat(m), nextTS(m, "next event", unit))
	}
	tw.Flush()
	if len(st.BufferStarted) > 0 {
		fmt.Fprintf(w, "\nbuffer started markers: %d\n", len(st.BufferStarted))
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		for _, m := range st.BufferStarted {
			fmt.Fprintf(tw, "  %s:%d\tCPU %d\t%s\n", m.File, m.Line, m.CPU, nextTS(m, "trustworthy from", unit))
		}
		tw.Flush()
	}

	writeSamples(w, "problems", st.Problems, st.ProblemSamples)
	if st.DecodeErrors > 0 {
		writeSamples(w, "decode errors", st.DecodeErrors, st.DecodeErrorSamples)
	}
	return nil
}

// writeInputs lists several inputs, one line each.
func writeInputs(w io.Writer, inputs []*input) {
	fmt.Fprintf(w, "inputs: %d files\n", len(inputs))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "  file\tformat\tclock\tunit\tlines\tevents\tproblems\tfirst_ts\tlast_ts\n")
	for _, in := range inputs {
		s := in.stats
		first, last := "-", "-"
		if s.FirstTS != nil && s.LastTS != nil {
			first, last = formatTS(*s.FirstTS, s.Unit), formatTS(*s.LastTS, s.Unit)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n",
			describeInput(in), s.Format, s.Clock, s.Unit, s.Lines, s.Events, s.Problems, first, last)
	}
	tw.Flush()
}

func describeInput(in *input) string {
	s := in.path
	if in.path == "-" {
		s = stdinName
	}
	if in.compression != "" {
		s += " (" + in.compression + ")"
	}
	return s
}

func markerWhat(m parse.Marker) string {
	kind := "LOST"
	if m.Kind == "dropped_marker" {
		kind = "DROPPED"
	}
	if m.Count < 0 {
		return kind + " (count not printed)"
	}
	return fmt.Sprintf("%s %d events", kind, m.Count)
}

func nextTS(m parse.Marker, label, unit string) string {
	if m.NextTS == nil {
		return "no later event on this CPU"
	}
	return label + " " + formatTS(*m.NextTS, unit)
}

func writeSamples(w io.Writer, title string, n int64, samples []*parse.SyntaxError) {
	fmt.Fprintf(w, "\n%s: %d", title, n)
	if int64(len(samples)) < n {
		fmt.Fprintf(w, " (first %d listed)", len(samples))
	}
	fmt.Fprintln(w)
	for _, e := range samples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

type nameCount struct {
	name string
	n    int64
}

// sortCounts orders m by count, descending, then by name.
func sortCounts(m map[string]int64) []nameCount {
	out := make([]nameCount, 0, len(m))
	for k, v := range m {
		out = append(out, nameCount{k, v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].n != out[j].n {
			return out[i].n > out[j].n
		}
		return out[i].name < out[j].name
	})
	return out
}

func countList(m map[string]int64) string {
	var parts []string
	for _, kv := range sortCounts(m) {
		parts = append(parts, fmt.Sprintf("%s %d", kv.name, kv.n))
	}
	return strings.Join(parts, ", ")
}

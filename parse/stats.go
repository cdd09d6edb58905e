package parse

import (
	"bytes"
	"sort"

	"github.com/irqtrace/irqtrace/ftrace"
)

// MaxSamples caps the problem and decode-error samples kept per file; the
// counts go on past it.
const MaxSamples = 100

// Marker is a LOST / DROPPED / buffer-started line.
type Marker struct {
	Kind   string `json:"kind"` // lost_marker, dropped_marker, buffer_started, subbuffer_marker
	CPU    int32  `json:"cpu"`
	Count  int64  `json:"count"` // events lost, -1 when the marker gives no count
	File   string `json:"file"`
	Line   int64  `json:"line"`
	Offset int64  `json:"offset"`
	// NextTS is the timestamp of the CPU's first event after the marker:
	// the start of the CPU's trustworthy data for buffer-started, the end
	// of the gap for LOST. Null if no event of that CPU follows.
	NextTS *int64 `json:"next_ts_ns"`
}

// CPUStats summarises the events of one CPU of one file.
type CPUStats struct {
	CPU    int32 `json:"cpu"`
	Events int64 `json:"events"`
	// FirstTS and LastTS are the smallest and largest timestamps.
	FirstTS int64 `json:"first_ts_ns"`
	LastTS  int64 `json:"last_ts_ns"`
	// TrustedFromTS is the first timestamp from which the CPU's buffer is
	// complete: the first event after its "##### CPU N buffer started"
	// marker, or its first event when there is none.
	TrustedFromTS int64 `json:"first_trustworthy_ts_ns"`
	BufferStarted bool  `json:"buffer_started_marker"`
	LostMarkers   int   `json:"lost_markers"`
	// Backwards counts events whose timestamp is smaller than that of the
	// CPU's previous event (in input order).
	Backwards int64 `json:"ts_backwards"`

	firstSeen, lastSeen int64
}

// Stats is the accounting of one input file (or, from Merge, of several).
// Lines = Events + NonEventLines + Problems, always.
type Stats struct {
	File   string `json:"file,omitempty"`
	Format string `json:"format"`
	// Clock is the trace clock when known (from Options.Clock, or "perf"
	// for perf script), else "unknown". Unit is "ns" or "raw".
	Clock string `json:"clock"`
	Unit  string `json:"unit"`

	Lines       int64            `json:"lines"`
	Bytes       int64            `json:"bytes"`
	Events      int64            `json:"events"`
	EventCounts map[string]int64 `json:"event_counts"`
	// NonEventLines counts known non-event lines; NonEventKinds splits
	// them by kind (comment, blank, header, lost_marker, ...).
	NonEventLines  int64            `json:"non_event_lines"`
	NonEventKinds  map[string]int64 `json:"non_event_kinds"`
	Problems       int64            `json:"problems"`
	ProblemSamples []*SyntaxError   `json:"problem_samples"`
	// DecodeErrors counts event lines whose payload did not decode; they
	// are events (raw payload kept) and not part of Problems.
	DecodeErrors       int64          `json:"decode_errors"`
	DecodeErrorSamples []*SyntaxError `json:"decode_error_samples"`
	// GenericEvents counts events outside the catalog (kept with their raw
	// payload and key=value split); FailedToParse counts trace-cmd
	// "[FAILED TO PARSE]" records.
	GenericEvents int64 `json:"generic_events"`
	FailedToParse int64 `json:"failed_to_parse"`

	LostMarkers   []Marker   `json:"lost_markers"`
	LostEvents    int64      `json:"lost_events"` // sum of the counts printed
	BufferStarted []Marker   `json:"buffer_started_markers"`
	CPUs          []CPUStats `json:"cpus"`
	FirstTS       *int64     `json:"first_ts_ns"`
	LastTS        *int64     `json:"last_ts_ns"`
	MixedUnits    bool       `json:"mixed_units,omitempty"`
	Header        Header     `json:"header"`
	Files         []*Stats   `json:"files,omitempty"`
}

// Header holds what the input's header lines state.
type Header struct {
	Tracer          string `json:"tracer,omitempty"`            // "# tracer: nop"
	CPUs            int    `json:"cpus,omitempty"`              // "#P:4" or trace-cmd "cpus=4"
	EntriesInBuffer int64  `json:"entries_in_buffer,omitempty"` // ftrace "entries-in-buffer/entries-written: A/B"
	EntriesWritten  int64  `json:"entries_written,omitempty"`
	Version         string `json:"version,omitempty"` // trace-cmd "version = N"
}

func (h *Header) read(line []byte) {
	switch {
	case bytes.HasPrefix(line, []byte("# tracer: ")):
		h.Tracer = string(bytes.TrimSpace(line[10:]))
	case bytes.HasPrefix(line, []byte("# entries-in-buffer/entries-written: ")):
		t := line[len("# entries-in-buffer/entries-written: "):]
		sl := bytes.IndexByte(t, '/')
		sp := bytes.IndexByte(t, ' ')
		if sl > 0 && sp > sl {
			h.EntriesInBuffer, _ = ftrace.ParseInt(t[:sl])
			h.EntriesWritten, _ = ftrace.ParseInt(t[sl+1 : sp])
		}
		if i := bytes.Index(t, []byte("#P:")); i >= 0 {
			n, _ := ftrace.ParseInt(bytes.TrimSpace(t[i+3:]))
			h.CPUs = int(n)
		}
	case bytes.HasPrefix(line, []byte("cpus=")):
		n, _ := ftrace.ParseInt(bytes.TrimSpace(line[5:]))
		h.CPUs = int(n)
	case bytes.HasPrefix(line, []byte("version = ")):
		h.Version = string(bytes.TrimSpace(line[10:]))
	}
}

// Merge combines per-file stats into one summary whose Files lists them.
// Counts add up; per-CPU first/last timestamps are combined as numbers,
// which is meaningful only when the files share one clock (Clock says
// "mixed" otherwise: read the per-file entries then).
func Merge(files []*Stats) *Stats {
	if len(files) == 1 {
		return files[0]
	}
	t := &Stats{EventCounts: map[string]int64{}, NonEventKinds: map[string]int64{}, Files: files,
		ProblemSamples: []*SyntaxError{}, DecodeErrorSamples: []*SyntaxError{},
		LostMarkers: []Marker{}, BufferStarted: []Marker{}, CPUs: []CPUStats{}}
	cpus := map[int32]*CPUStats{}
	for i, f := range files {
		if i == 0 {
			t.Format, t.Clock, t.Unit, t.Header = f.Format, f.Clock, f.Unit, f.Header
		}
		t.Header.CPUs = max(t.Header.CPUs, f.Header.CPUs)
		if f.Format != t.Format {
			t.Format = "mixed"
		}
		if f.Clock != t.Clock {
			t.Clock = "mixed"
		}
		if f.Unit != t.Unit {
			t.Unit, t.MixedUnits = "mixed", true
		}
		t.Lines += f.Lines
		t.Bytes += f.Bytes
		t.Events += f.Events
		t.NonEventLines += f.NonEventLines
		t.Problems += f.Problems
		t.DecodeErrors += f.DecodeErrors
		t.GenericEvents += f.GenericEvents
		t.FailedToParse += f.FailedToParse
		t.LostEvents += f.LostEvents
		for k, v := range f.EventCounts {
			t.EventCounts[k] += v
		}
		for k, v := range f.NonEventKinds {
			t.NonEventKinds[k] += v
		}
		t.ProblemSamples = appendCapped(t.ProblemSamples, f.ProblemSamples)
		t.DecodeErrorSamples = appendCapped(t.DecodeErrorSamples, f.DecodeErrorSamples)
		t.LostMarkers = append(t.LostMarkers, f.LostMarkers...)
		t.BufferStarted = append(t.BufferStarted, f.BufferStarted...)
		if f.FirstTS != nil && (t.FirstTS == nil || *f.FirstTS < *t.FirstTS) {
			t.FirstTS = f.FirstTS
		}
		if f.LastTS != nil && (t.LastTS == nil || *f.LastTS > *t.LastTS) {
			t.LastTS = f.LastTS
		}
		for _, c := range f.CPUs {
			m, ok := cpus[c.CPU]
			if !ok {
				cc := c
				cpus[c.CPU] = &cc
				continue
			}
			m.Events += c.Events
			m.FirstTS = min(m.FirstTS, c.FirstTS)
			m.LastTS = max(m.LastTS, c.LastTS)
			m.TrustedFromTS = max(m.TrustedFromTS, c.TrustedFromTS)
			m.BufferStarted = m.BufferStarted || c.BufferStarted
			m.LostMarkers += c.LostMarkers
			m.Backwards += c.Backwards
		}
	}
	for _, c := range cpus {
		t.CPUs = append(t.CPUs, *c)
	}
	sort.Slice(t.CPUs, func(i, j int) bool { return t.CPUs[i].CPU < t.CPUs[j].CPU })
	return t
}

func appendCapped(dst, src []*SyntaxError) []*SyntaxError {
	for _, s := range src {
		if len(dst) >= MaxSamples {
			break
		}
		dst = append(dst, s)
	}
	return dst
}

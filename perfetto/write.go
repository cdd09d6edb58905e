package perfetto

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

// Options select what Write exports. The zero value exports everything.
type Options struct {
	// NoHandlers leaves out the per-CPU handler slices (device irqs,
	// system vectors, softirqs), which dominate the size of a long trace.
	NoHandlers bool
}

// Errors of Write.
var (
	ErrNilModel = errors.New("perfetto: nil model")
	// ErrNegativeTime: Perfetto timestamps are unsigned.
	ErrNegativeTime = errors.New("perfetto: negative timestamp")
)

// Write writes m and the findings fs (from rules.Run on m) to w as a
// Perfetto trace: a sequence of TracePacket messages, each framed as a
// Trace.packet field, that ui.perfetto.dev and trace_processor read. The
// package documentation lists the tracks. It returns ErrNilModel for a
// nil model, an error wrapping ErrNegativeTime when a timestamp is below
// zero (nothing is written then), or w's error.
func Write(w io.Writer, m *analysis.Model, fs []rules.Finding, opts Options) error {
	if m == nil {
		return ErrNilModel
	}
	return encode(w, build(m, fs, opts))
}

// timed is one encoded packet and its timestamp.
type timed struct {
	ts  int64
	pkt []byte
}

// encode writes t: first every track descriptor (the first packet also
// clears the sequence's incremental state, as trace_processor expects of
// a new sequence), then every event in time order. Events of equal time
// keep the order in which each track emitted them (trace_processor sorts
// stably), so a slice that ends where the next begins is closed first.
func encode(w io.Writer, t *trace) error {
	var evs []timed
	for _, tr := range t.tracks {
		var err error
		if evs, err = trackEvents(evs, tr); err != nil {
			return err
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].ts < evs[j].ts })

	bw := bufio.NewWriterSize(w, 1<<16)
	var buf []byte
	put := func(pkt []byte) error {
		buf = protowire.AppendTag(buf[:0], tracePacket, protowire.BytesType)
		buf = protowire.AppendBytes(buf, pkt)
		_, err := bw.Write(buf)
		return err
	}
	for i, tr := range t.tracks {
		var p []byte
		p = protowire.AppendTag(p, packetSequenceID, protowire.VarintType)
		p = protowire.AppendVarint(p, sequenceID)
		if i == 0 {
			p = protowire.AppendTag(p, packetSequenceFlags, protowire.VarintType)
			p = protowire.AppendVarint(p, seqIncrementalStateCleared)
		}
		p = protowire.AppendTag(p, packetTrackDescriptor, protowire.BytesType)
		p = protowire.AppendBytes(p, descriptor(tr))
		if err := put(p); err != nil {
			return err
		}
	}
	for _, e := range evs {
		if err := put(e.pkt); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// descriptor encodes tr's TrackDescriptor.
func descriptor(tr *track) []byte {
	var d []byte
	d = protowire.AppendTag(d, trackUUID, protowire.VarintType)
	d = protowire.AppendVarint(d, tr.uuid)
	d = protowire.AppendTag(d, trackName, protowire.BytesType)
	d = protowire.AppendString(d, tr.name)
	if tr.parent != 0 {
		d = protowire.AppendTag(d, trackParentUUID, protowire.VarintType)
		d = protowire.AppendVarint(d, tr.parent)
	}
	if tr.counter {
		var c []byte
		c = protowire.AppendTag(c, counterUnit, protowire.VarintType)
		c = protowire.AppendVarint(c, unitCount)
		d = protowire.AppendTag(d, trackCounter, protowire.BytesType)
		d = protowire.AppendBytes(d, c)
	}
	if tr.explicit {
		d = protowire.AppendTag(d, trackChildOrdering, protowire.VarintType)
		d = protowire.AppendVarint(d, childOrderingExplicit)
	}
	d = protowire.AppendTag(d, trackSiblingOrderRank, protowire.VarintType)
	d = protowire.AppendVarint(d, uint64(int64(tr.rank))) // int32: negative values sign-extend
	if tr.description != "" {
		d = protowire.AppendTag(d, trackDescription, protowire.BytesType)
		d = protowire.AppendString(d, tr.description)
	}
	return d
}

// trackEvents appends tr's events to evs: its slices as BEGIN/END pairs
// (in nesting order), its instants and its counter values.
func trackEvents(evs []timed, tr *track) ([]timed, error) {
	add := func(ts int64, ev []byte) error {
		if ts < 0 {
			return fmt.Errorf("%w: %d on track %q", ErrNegativeTime, ts, tr.name)
		}
		var p []byte
		p = protowire.AppendTag(p, packetTimestamp, protowire.VarintType)
		p = protowire.AppendVarint(p, uint64(ts))
		p = protowire.AppendTag(p, packetSequenceID, protowire.VarintType)
		p = protowire.AppendVarint(p, sequenceID)
		p = protowire.AppendTag(p, packetTrackEvent, protowire.BytesType)
		p = protowire.AppendBytes(p, ev)
		evs = append(evs, timed{ts, p})
		return nil
	}
	end := func(s *slice) error {
		e := event(nil, typeSliceEnd, tr.uuid)
		for _, id := range s.flowOut {
			e = protowire.AppendTag(e, eventFlowIDs, protowire.Fixed64Type)
			e = protowire.AppendFixed64(e, id)
		}
		return add(s.end, e)
	}
	var stack []*slice
	for i := range tr.slices {
		s := &tr.slices[i]
		for len(stack) > 0 && stack[len(stack)-1].end <= s.start {
			if err := end(stack[len(stack)-1]); err != nil {
				return nil, err
			}
			stack = stack[:len(stack)-1]
		}
		e := event(nil, typeSliceBegin, tr.uuid)
		e = named(e, s.name, s.category, s.args)
		for _, id := range s.flowIn {
			e = protowire.AppendTag(e, eventTerminatingFlowIDs, protowire.Fixed64Type)
			e = protowire.AppendFixed64(e, id)
		}
		if err := add(s.start, e); err != nil {
			return nil, err
		}
		stack = append(stack, s)
	}
	for len(stack) > 0 {
		if err := end(stack[len(stack)-1]); err != nil {
			return nil, err
		}
		stack = stack[:len(stack)-1]
	}
	for _, in := range tr.instants {
		e := named(event(nil, typeInstant, tr.uuid), in.name, in.category, in.args)
		if err := add(in.ts, e); err != nil {
			return nil, err
		}
	}
	for _, pt := range tr.points {
		e := event(nil, typeCounter, tr.uuid)
		e = protowire.AppendTag(e, eventCounterValue, protowire.VarintType)
		e = protowire.AppendVarint(e, uint64(pt.value))
		if err := add(pt.ts, e); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// event starts a TrackEvent of type typ on track uuid.
func event(e []byte, typ uint64, uuid uint64) []byte {
	e = protowire.AppendTag(e, eventType, protowire.VarintType)
	e = protowire.AppendVarint(e, typ)
	e = protowire.AppendTag(e, eventTrackUUID, protowire.VarintType)
	return protowire.AppendVarint(e, uuid)
}

// named adds a name, a category and debug annotations to a TrackEvent.
func named(e []byte, name, category string, args []arg) []byte {
	e = protowire.AppendTag(e, eventName, protowire.BytesType)
	e = protowire.AppendString(e, name)
	if category != "" {
		e = protowire.AppendTag(e, eventCategories, protowire.BytesType)
		e = protowire.AppendString(e, category)
	}
	for _, a := range args {
		var d []byte
		d = protowire.AppendTag(d, annotationName, protowire.BytesType)
		d = protowire.AppendString(d, a.name)
		switch a.kind {
		case argString:
			d = protowire.AppendTag(d, annotationString, protowire.BytesType)
			d = protowire.AppendString(d, a.s)
		case argInt:
			d = protowire.AppendTag(d, annotationInt, protowire.VarintType)
			d = protowire.AppendVarint(d, uint64(a.i))
		case argBool:
			d = protowire.AppendTag(d, annotationBool, protowire.VarintType)
			d = protowire.AppendVarint(d, uint64(a.i))
		}
		e = protowire.AppendTag(e, eventDebugAnnotations, protowire.BytesType)
		e = protowire.AppendBytes(e, d)
	}
	return e
}

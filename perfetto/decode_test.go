package perfetto

// A decoder of what Write emits, written against the same field numbers
// (schema.go), independent of the encoder's code paths. It rebuilds the
// slices of each track from their BEGIN/END events the way trace_processor
// does (a stack per track, events in file order), and rejects anything
// Write is not meant to produce: unknown fields, wrong wire types, events
// on undeclared tracks, unbalanced slices, time going backwards, flows
// without both ends.

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

type decoded struct {
	tracks  []*dtrack // in declaration order
	byUUID  map[uint64]*dtrack
	packets int
	flows   map[uint64]*dflow
}

type dtrack struct {
	uuid, parent uint64
	name, desc   string
	rank         int32
	explicit     bool
	counter      bool
	slices       []slice // in BEGIN order
	depths       []int   // of each slice: open slices on the track at its BEGIN
	instants     []instant
	points       []point
	stack        []int // indexes of the open slices
}

// dflow is one flow: the slice it leaves and the one it ends at.
type dflow struct {
	src, dst       *dtrack
	srcSl, dstSl   slice
	srcPkt, dstPkt int
}

// field is one decoded field.
type field struct {
	num protowire.Number
	typ protowire.Type
	v   uint64
	b   []byte
}

// fields splits a message into its fields.
func fields(b []byte) ([]field, error) {
	var out []field
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			f.v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			f.b, n = protowire.ConsumeBytes(b)
		default:
			return nil, fmt.Errorf("field %d: unexpected wire type %d", num, typ)
		}
		if n < 0 {
			return nil, fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}

// want checks that f has wire type typ.
func (f field) want(typ protowire.Type) error {
	if f.typ != typ {
		return fmt.Errorf("field %d has wire type %d, want %d", f.num, f.typ, typ)
	}
	return nil
}

func decode(data []byte) (*decoded, error) {
	d := &decoded{byUUID: map[uint64]*dtrack{}, flows: map[uint64]*dflow{}}
	top, err := fields(data)
	if err != nil {
		return nil, fmt.Errorf("Trace: %w", err)
	}
	lastTS := int64(-1)
	for i, f := range top {
		if f.num != tracePacket || f.typ != protowire.BytesType {
			return nil, fmt.Errorf("Trace: field %d (type %d), want packet = %d", f.num, f.typ, tracePacket)
		}
		d.packets++
		if err := d.packet(i, f.b, &lastTS); err != nil {
			return nil, fmt.Errorf("packet %d: %w", i, err)
		}
	}
	for _, tr := range d.tracks {
		if len(tr.stack) > 0 {
			return nil, fmt.Errorf("track %q: %d slices never end", tr.name, len(tr.stack))
		}
	}
	for id, fl := range d.flows {
		if fl.src == nil || fl.dst == nil {
			return nil, fmt.Errorf("flow %d lacks its source or its destination", id)
		}
		if fl.srcPkt >= fl.dstPkt {
			return nil, fmt.Errorf("flow %d: the source (packet %d) does not come before the destination (packet %d)", id, fl.srcPkt, fl.dstPkt)
		}
	}
	return d, nil
}

func (d *decoded) packet(idx int, b []byte, lastTS *int64) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	var (
		ts           int64
		hasTS, seqOK bool
		flags        uint64
		ev, desc     []byte
	)
	for _, f := range fs {
		switch f.num {
		case packetTimestamp:
			if err := f.want(protowire.VarintType); err != nil {
				return err
			}
			ts, hasTS = int64(f.v), true
		case packetSequenceID:
			if err := f.want(protowire.VarintType); err != nil {
				return err
			}
			seqOK = f.v == sequenceID
		case packetSequenceFlags:
			if err := f.want(protowire.VarintType); err != nil {
				return err
			}
			flags = f.v
		case packetTrackEvent:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			ev = f.b
		case packetTrackDescriptor:
			if err := f.want(protowire.BytesType); err != nil {
				return err
			}
			desc = f.b
		default:
			return fmt.Errorf("unexpected TracePacket field %d", f.num)
		}
	}
	if !seqOK {
		return fmt.Errorf("no trusted_packet_sequence_id %d", sequenceID)
	}
	if (idx == 0) != (flags == seqIncrementalStateCleared) {
		return fmt.Errorf("sequence_flags %d (the first packet, and only it, clears the incremental state)", flags)
	}
	if (ev == nil) == (desc == nil) {
		return fmt.Errorf("want exactly one of track_event and track_descriptor")
	}
	if desc != nil {
		if hasTS {
			return fmt.Errorf("descriptor with a timestamp")
		}
		return d.descriptor(desc)
	}
	if !hasTS {
		return fmt.Errorf("track event without a timestamp")
	}
	if ts < *lastTS {
		return fmt.Errorf("timestamp %d after %d", ts, *lastTS)
	}
	*lastTS = ts
	return d.event(idx, ts, ev)
}

func (d *decoded) descriptor(b []byte) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	tr := &dtrack{}
	for _, f := range fs {
		typ := protowire.VarintType
		switch f.num {
		case trackUUID:
			tr.uuid = f.v
		case trackName:
			typ, tr.name = protowire.BytesType, string(f.b)
		case trackParentUUID:
			tr.parent = f.v
		case trackCounter:
			typ = protowire.BytesType
			cfs, err := fields(f.b)
			if err != nil {
				return err
			}
			if len(cfs) != 1 || cfs[0].num != counterUnit || cfs[0].v != unitCount {
				return fmt.Errorf("CounterDescriptor %v, want unit UNIT_COUNT only", cfs)
			}
			tr.counter = true
		case trackChildOrdering:
			if f.v != childOrderingExplicit {
				return fmt.Errorf("child_ordering %d", f.v)
			}
			tr.explicit = true
		case trackSiblingOrderRank:
			tr.rank = int32(f.v)
		case trackDescription:
			typ, tr.desc = protowire.BytesType, string(f.b)
		default:
			return fmt.Errorf("unexpected TrackDescriptor field %d", f.num)
		}
		if err := f.want(typ); err != nil {
			return err
		}
	}
	if tr.uuid == 0 || d.byUUID[tr.uuid] != nil {
		return fmt.Errorf("track uuid %d is zero or repeated", tr.uuid)
	}
	if tr.parent != 0 && d.byUUID[tr.parent] == nil {
		return fmt.Errorf("track %q: parent %d not declared before it", tr.name, tr.parent)
	}
	d.byUUID[tr.uuid] = tr
	d.tracks = append(d.tracks, tr)
	return nil
}

func (d *decoded) event(idx int, ts int64, b []byte) error {
	fs, err := fields(b)
	if err != nil {
		return err
	}
	var (
		typ, uuid       uint64
		name, cat       string
		hasName, hasVal bool
		val             int64
		args            []arg
		out, in         []uint64
		cats            int
	)
	for _, f := range fs {
		wt := protowire.VarintType
		switch f.num {
		case eventType:
			typ = f.v
		case eventTrackUUID:
			uuid = f.v
		case eventName:
			wt, name, hasName = protowire.BytesType, string(f.b), true
		case eventCategories:
			wt, cat = protowire.BytesType, string(f.b)
			cats++
		case eventCounterValue:
			val, hasVal = int64(f.v), true
		case eventFlowIDs:
			wt = protowire.Fixed64Type
			out = append(out, f.v)
		case eventTerminatingFlowIDs:
			wt = protowire.Fixed64Type
			in = append(in, f.v)
		case eventDebugAnnotations:
			wt = protowire.BytesType
			a, err := annotation(f.b)
			if err != nil {
				return err
			}
			args = append(args, a)
		default:
			return fmt.Errorf("unexpected TrackEvent field %d", f.num)
		}
		if err := f.want(wt); err != nil {
			return err
		}
	}
	tr := d.byUUID[uuid]
	if tr == nil {
		return fmt.Errorf("event on undeclared track %d", uuid)
	}
	if cats > 1 {
		return fmt.Errorf("%d categories", cats)
	}
	if tr.counter != (typ == typeCounter) {
		return fmt.Errorf("event type %d on track %q (counter %t)", typ, tr.name, tr.counter)
	}
	switch typ {
	case typeSliceBegin:
		if !hasName || hasVal || len(out) > 0 {
			return fmt.Errorf("BEGIN on %q: name %t, value %t, flow_ids %v", tr.name, hasName, hasVal, out)
		}
		tr.slices = append(tr.slices, slice{start: ts, name: name, category: cat, args: args, flowIn: in})
		tr.depths = append(tr.depths, len(tr.stack))
		tr.stack = append(tr.stack, len(tr.slices)-1)
		for _, id := range in {
			fl := d.flow(id)
			if fl.dst != nil {
				return fmt.Errorf("flow %d ends twice", id)
			}
			fl.dst, fl.dstPkt = tr, idx
		}
	case typeSliceEnd:
		if hasName || cat != "" || len(args) > 0 || hasVal || len(in) > 0 {
			return fmt.Errorf("END on %q carries more than flow_ids", tr.name)
		}
		if len(tr.stack) == 0 {
			return fmt.Errorf("END on %q with no open slice", tr.name)
		}
		s := &tr.slices[tr.stack[len(tr.stack)-1]]
		tr.stack = tr.stack[:len(tr.stack)-1]
		s.end, s.flowOut = ts, out
		for _, id := range out {
			fl := d.flow(id)
			if fl.src != nil {
				return fmt.Errorf("flow %d leaves twice", id)
			}
			fl.src, fl.srcPkt = tr, idx
			fl.srcSl = *s
		}
		// A destination slice is complete when it ends.
		for _, id := range s.flowIn {
			d.flows[id].dstSl = *s
		}
	case typeInstant:
		if !hasName || hasVal || len(out)+len(in) > 0 {
			return fmt.Errorf("INSTANT on %q: name %t, value %t, flows %v %v", tr.name, hasName, hasVal, out, in)
		}
		tr.instants = append(tr.instants, instant{ts: ts, name: name, category: cat, args: args})
	case typeCounter:
		if !hasVal || hasName || len(args) > 0 || len(out)+len(in) > 0 || cat != "" {
			return fmt.Errorf("COUNTER on %q: value %t, name %t", tr.name, hasVal, hasName)
		}
		tr.points = append(tr.points, point{ts, val})
	default:
		return fmt.Errorf("event type %d", typ)
	}
	return nil
}

func (d *decoded) flow(id uint64) *dflow {
	fl := d.flows[id]
	if fl == nil {
		fl = &dflow{}
		d.flows[id] = fl
	}
	return fl
}

func annotation(b []byte) (arg, error) {
	fs, err := fields(b)
	if err != nil {
		return arg{}, err
	}
	if len(fs) != 2 || fs[0].num != annotationName {
		return arg{}, fmt.Errorf("DebugAnnotation %v: want a name, then one value", fs)
	}
	a := arg{name: string(fs[0].b)}
	v := fs[1]
	switch v.num {
	case annotationString:
		a.kind, a.s = argString, string(v.b)
		return a, v.want(protowire.BytesType)
	case annotationInt:
		a.kind, a.i = argInt, int64(v.v)
	case annotationBool:
		if v.v > 1 {
			return a, fmt.Errorf("bool_value %d", v.v)
		}
		a.kind, a.i = argBool, int64(v.v)
	default:
		return a, fmt.Errorf("unexpected DebugAnnotation field %d", v.num)
	}
	return a, v.want(protowire.VarintType)
}

// find returns the decoded track named name.
func (d *decoded) find(name string) *dtrack {
	for _, tr := range d.tracks {
		if tr.name == name {
			return tr
		}
	}
	return nil
}

// compare reports every difference between what build meant to write
// (t) and what was read back (d).
func compare(t *trace, d *decoded) []string {
	var diffs []string
	add := func(format string, a ...any) {
		if len(diffs) < 20 {
			diffs = append(diffs, fmt.Sprintf(format, a...))
		}
	}
	if len(d.tracks) != len(t.tracks) {
		add("%d tracks read back, %d written", len(d.tracks), len(t.tracks))
	}
	for i, w := range t.tracks {
		if i >= len(d.tracks) {
			break
		}
		g := d.tracks[i]
		if g.uuid != w.uuid || g.parent != w.parent || g.name != w.name || g.desc != w.description ||
			g.rank != w.rank || g.explicit != w.explicit || g.counter != w.counter {
			add("track %d: read %d/%d %q rank %d, wrote %d/%d %q rank %d", i, g.uuid, g.parent, g.name, g.rank, w.uuid, w.parent, w.name, w.rank)
		}
		// Slices are read back in the order they begin, which is the
		// order build sorted them in, at the depth the nesting gives.
		gs, wd := g.slices, nestingDepths(w.slices)
		if len(gs) != len(w.slices) {
			add("track %q: %d slices read back, %d written", w.name, len(gs), len(w.slices))
		} else {
			for j := range gs {
				if a, b := sliceString(gs[j]), sliceString(w.slices[j]); a != b || g.depths[j] != wd[j] {
					add("track %q slice %d:\n read  %s depth %d\n wrote %s depth %d", w.name, j, a, g.depths[j], b, wd[j])
				}
			}
		}
		if fmt.Sprint(g.instants) != fmt.Sprint(w.instants) {
			add("track %q: instants differ", w.name)
		}
		if !slices.Equal(g.points, w.points) && len(g.points)+len(w.points) > 0 {
			add("track %q: counter points differ: read %v, wrote %v", w.name, g.points, w.points)
		}
	}
	if len(d.flows) != t.flows {
		add("%d flows read back, %d written", len(d.flows), t.flows)
	}
	return diffs
}

// nestingDepths returns the depth of each of the sorted slices ss on one
// track: how many slices enclose it.
func nestingDepths(ss []slice) []int {
	var ends []int64
	out := make([]int, len(ss))
	for i, s := range ss {
		for len(ends) > 0 && ends[len(ends)-1] <= s.start {
			ends = ends[:len(ends)-1]
		}
		out[i] = len(ends)
		ends = append(ends, s.end)
	}
	return out
}

func sliceString(s slice) string {
	return fmt.Sprintf("[%d,%d] %q %s %v out%v in%v", s.start, s.end, s.name, s.category, s.args, s.flowOut, s.flowIn)
}

// dump writes d as text: the track tree (children in rank order), each
// track with its slices as read (indented by their depth in the file's
// BEGIN/END nesting), instants and counter points
// in time order, then the flows.
func dump(w io.Writer, d *decoded) {
	children := map[uint64][]*dtrack{}
	for _, tr := range d.tracks {
		children[tr.parent] = append(children[tr.parent], tr)
	}
	var walk func(parent uint64, indent string)
	walk = func(parent uint64, indent string) {
		ks := slices.Clone(children[parent])
		slices.SortStableFunc(ks, func(a, b *dtrack) int { return int(a.rank) - int(b.rank) })
		for _, tr := range ks {
			kind := ""
			if tr.counter {
				kind = " (counter)"
			}
			fmt.Fprintf(w, "%s%s%s rank=%d: %s\n", indent, tr.name, kind, tr.rank, tr.desc)
			for i, s := range tr.slices {
				fmt.Fprintf(w, "%s  %s%s\n", indent, strings.Repeat(". ", tr.depths[i]), sliceString(s))
			}
			for _, in := range tr.instants {
				fmt.Fprintf(w, "%s  @%d %q %s %v\n", indent, in.ts, in.name, in.category, in.args)
			}
			for _, p := range tr.points {
				fmt.Fprintf(w, "%s  %d = %d\n", indent, p.ts, p.value)
			}
			walk(tr.uuid, indent+"  ")
		}
	}
	walk(0, "")
	ids := make([]uint64, 0, len(d.flows))
	for id := range d.flows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fl := d.flows[id]
		fmt.Fprintf(w, "flow %d: %q %q [%d,%d] -> %q %q [%d,%d]\n", id, fl.src.name, fl.srcSl.name, fl.srcSl.start, fl.srcSl.end,
			fl.dst.name, fl.dstSl.name, fl.dstSl.start, fl.dstSl.end)
	}
}

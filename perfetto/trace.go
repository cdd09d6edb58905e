package perfetto

import (
	"fmt"
	"sort"
)

// trace is what Write means to write, before encoding: the tracks with
// their slices, instants and counter points. Tests decode the output and
// compare it with this.
type trace struct {
	tracks []*track
	flows  int // flow ids 1..flows are used
}

// track is one TrackDescriptor and the events on it. Slices are sorted
// with sortSlices and nest properly (see nests); counter tracks hold only
// points.
type track struct {
	uuid, parent uint64
	name         string
	description  string
	rank         int32
	explicit     bool // order children by rank
	counter      bool
	slices       []slice
	instants     []instant
	points       []point
}

// slice is one slice: BEGIN at start, END at end. flowOut ids leave from
// its END event, flowIn ids end at its BEGIN event.
type slice struct {
	start, end int64
	name       string
	category   string
	args       []arg
	flowOut    []uint64
	flowIn     []uint64
}

type instant struct {
	ts       int64
	name     string
	category string
	args     []arg
}

// point is one counter value from ts on.
type point struct{ ts, value int64 }

type argKind uint8

const (
	argString argKind = iota
	argInt
	argBool
)

// arg is one debug annotation.
type arg struct {
	name string
	kind argKind
	s    string
	i    int64
}

func str(name, v string) arg { return arg{name: name, kind: argString, s: v} }
func num[T ~int32 | ~int64 | ~int](name string, v T) arg {
	return arg{name: name, kind: argInt, i: int64(v)}
}
func boolArg(name string, v bool) arg {
	a := arg{name: name, kind: argBool}
	if v {
		a.i = 1
	}
	return a
}

func (a arg) String() string {
	switch a.kind {
	case argInt:
		return fmt.Sprintf("%s=%d", a.name, a.i)
	case argBool:
		return fmt.Sprintf("%s=%t", a.name, a.i != 0)
	}
	return fmt.Sprintf("%s=%q", a.name, a.s)
}

// newTrack adds a track.
func (t *trace) newTrack(parent uint64, name string, rank int32) *track {
	tr := &track{uuid: uint64(len(t.tracks) + 1), parent: parent, name: name, rank: rank}
	t.tracks = append(t.tracks, tr)
	return tr
}

// addSlices sorts ss and puts them on tr; those that cannot nest there go
// to sibling tracks "NAME (overlapping N)", each nesting properly, with
// tr's description and ranks just after tr's.
func (t *trace) addSlices(tr *track, ss []slice) {
	sortSlices(ss)
	lanes := [][]slice{nil}
	stacks := [][]int64{nil} // ends of the open slices of each lane
	for _, s := range ss {
		placed := false
		for i := range lanes {
			st := stacks[i]
			for len(st) > 0 && st[len(st)-1] <= s.start {
				st = st[:len(st)-1]
			}
			stacks[i] = st
			if len(st) == 0 || st[len(st)-1] >= s.end {
				lanes[i] = append(lanes[i], s)
				stacks[i] = append(st, s.end)
				placed = true
				break
			}
		}
		if !placed {
			lanes = append(lanes, []slice{s})
			stacks = append(stacks, []int64{s.end})
		}
	}
	tr.slices = append(tr.slices, lanes[0]...)
	for i, l := range lanes[1:] {
		o := t.newTrack(tr.parent, fmt.Sprintf("%s (overlapping %d)", tr.name, i+1), tr.rank+int32(i)+1)
		o.description = tr.description
		o.slices = l
	}
}

// sortSlices orders slices as they begin: by start; at the same start a
// zero-length slice first (it ends there, before the others begin), then
// the longer first (so that it encloses the shorter); stable otherwise.
func sortSlices(ss []slice) {
	sort.SliceStable(ss, func(i, j int) bool {
		a, b := ss[i], ss[j]
		if a.start != b.start {
			return a.start < b.start
		}
		az, bz := a.end == a.start, b.end == b.start
		if az != bz {
			return az
		}
		return a.end > b.end
	})
}

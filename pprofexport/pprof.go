package pprofexport

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/google/pprof/profile"

	"github.com/irqtrace/irqtrace/analysis"
)

// Interrupt classes, the second frame of every stack.
const (
	ClassDeviceIRQ = "device irq"
	ClassSysvec    = "system vector"
	ClassSoftirq   = "softirq"
)

// Sample value indexes.
const (
	ValueInterrupts = iota // interrupts/count: runs
	ValueTime              // time/nanoseconds: summed run durations
)

// ErrNilModel is returned for a nil model.
var ErrNilModel = errors.New("pprofexport: nil model")

// key identifies one sample: the runs of one handler (leaf name) of one
// class on one CPU. Device irqs are split by the vector they were
// delivered on, so that each sample has a single vector label (pprof's
// -tags assumes one value per label and sample); the split samples share
// their stack, so -top and the flame graph show one entry.
type key struct {
	cpu    int32
	class  int // index into classes
	name   string
	irq    int32 // -1: not a device irq
	vector int32 // -1: unknown or not an APIC vector
}

var classes = [...]string{ClassDeviceIRQ, ClassSysvec, ClassSoftirq}

// Build returns the profile of m's handler runs. file names the recording
// (the profile's mapping file, shown by pprof as "File:"); it may be
// empty. The profile passes CheckValid; a non-nil error wraps its
// complaint or is ErrNilModel.
func Build(m *analysis.Model, file string) (*profile.Profile, error) {
	if m == nil {
		return nil, ErrNilModel
	}
	type acc struct{ n, ns int64 }
	sums := map[key]*acc{}
	add := func(k key, ns int64) {
		a := sums[k]
		if a == nil {
			a = &acc{}
			sums[k] = a
		}
		a.n++
		a.ns += ns
	}
	vecs := newVectorIndex(m)
	for _, h := range m.Handlers {
		add(key{h.CPU, 0, fmt.Sprintf("irq %d %s", h.IRQ, h.Name), h.IRQ, vecs.at(h.IRQ, h.CPU, h.StartNS)}, h.EndNS-h.StartNS)
	}
	for _, s := range m.Sysvecs {
		v := s.Vector
		if v < 0 {
			v = -1
		}
		add(key{s.CPU, 1, s.Name, -1, v}, s.EndNS-s.StartNS)
	}
	for _, s := range m.Softirqs {
		add(key{s.CPU, 2, s.Action, -1, -1}, s.EndNS-s.StartNS)
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.cpu != b.cpu {
			return a.cpu < b.cpu
		}
		if a.class != b.class {
			return a.class < b.class
		}
		if a.irq != b.irq {
			return a.irq < b.irq
		}
		if a.name != b.name {
			return a.name < b.name
		}
		return a.vector < b.vector
	})

	mapping := &profile.Mapping{ID: 1, File: file, HasFunctions: true}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{
			ValueInterrupts: {Type: "interrupts", Unit: "count"},
			ValueTime:       {Type: "time", Unit: "nanoseconds"},
		},
		DefaultSampleType: "time",
		PeriodType:        &profile.ValueType{Type: "interrupts", Unit: "count"},
		Period:            1,
		DurationNanos:     max(0, m.LastNS-m.FirstNS),
		Mapping:           []*profile.Mapping{mapping},
		Comments: []string{
			"irqtrace: interrupt handler runs of " + name(file),
			"stack: CPU -> class (device irq, system vector, softirq) -> irq or vector",
			"time: entry-to-exit duration of each run, inclusive of interrupts nested in it",
		},
	}
	locs := map[string]*profile.Location{}
	loc := func(fn string) *profile.Location {
		if l := locs[fn]; l != nil {
			return l
		}
		id := uint64(len(p.Location) + 1)
		f := &profile.Function{ID: id, Name: fn, SystemName: fn}
		l := &profile.Location{ID: id, Mapping: mapping, Line: []profile.Line{{Function: f}}}
		p.Function = append(p.Function, f)
		p.Location = append(p.Location, l)
		locs[fn] = l
		return l
	}
	for _, k := range keys {
		a := sums[k]
		// Numeric labels carry a unit named after the key (what pprof
		// would infer): the encoding drops a numeric label whose value
		// and unit are both zero, which would lose CPU 0.
		s := &profile.Sample{
			// Leaf first: pprof stores a stack from the leaf to the root.
			Location: []*profile.Location{loc(k.name), loc(classes[k.class]), loc(fmt.Sprintf("CPU %d", k.cpu))},
			Value:    []int64{ValueInterrupts: a.n, ValueTime: a.ns},
			Label:    map[string][]string{"class": {classes[k.class]}},
			NumLabel: map[string][]int64{"cpu": {int64(k.cpu)}},
			NumUnit:  map[string][]string{"cpu": {"cpu"}},
		}
		if k.irq >= 0 {
			s.NumLabel["irq"], s.NumUnit["irq"] = []int64{int64(k.irq)}, []string{"irq"}
		}
		if k.vector >= 0 {
			s.NumLabel["vector"], s.NumUnit["vector"] = []int64{int64(k.vector)}, []string{"vector"}
		}
		p.Sample = append(p.Sample, s)
	}
	if err := p.CheckValid(); err != nil {
		return nil, fmt.Errorf("pprofexport: invalid profile: %w", err)
	}
	return p, nil
}

// Write writes the profile of m (see Build) to w, gzip-compressed, as
// `go tool pprof` reads it.
func Write(w io.Writer, m *analysis.Model, file string) error {
	p, err := Build(m, file)
	if err != nil {
		return err
	}
	return p.Write(w)
}

func name(file string) string {
	if file == "" {
		return "a trace"
	}
	return file
}

// vectorIndex finds the vector a device irq was delivered on, from the
// irq's assignments and its moves in progress (during a move the old
// vector on the old CPU still delivers until the move completes).
type vectorIndex map[int32]*analysis.IRQ

func newVectorIndex(m *analysis.Model) vectorIndex {
	ix := vectorIndex{}
	for _, q := range m.IRQs {
		ix[q.IRQ] = q
	}
	return ix
}

// at returns the vector irq targeted on cpu at ts, or -1 when the model
// does not know it.
func (ix vectorIndex) at(irq, cpu int32, ts int64) int32 {
	q := ix[irq]
	if q == nil {
		return -1
	}
	v := int32(-1)
	for _, a := range q.Assignments {
		if a.CPU != nil && *a.CPU == cpu && a.Vector != nil && a.StartNS <= ts && (a.EndNS == nil || ts <= *a.EndNS) {
			v = *a.Vector // the latest one wins at a boundary
		}
	}
	if v >= 0 {
		return v
	}
	for _, mg := range q.Migrations {
		if mg.FromCPU == cpu && mg.FromVector != nil && mg.TS <= ts && (mg.CompletedNS == nil || ts <= *mg.CompletedNS) {
			v = *mg.FromVector
		}
	}
	return v
}

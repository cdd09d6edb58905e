package analysis

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/irqtrace/irqtrace/ftrace"
)

// Table is one table of the model in Arrow form: a schema and a single
// record batch holding every row. The caller owns Record and must
// Release it.
type Table struct {
	// Name is the table's name: one of TableNames.
	Name   string
	Schema *arrow.Schema
	Record arrow.RecordBatch
}

// TableNames returns the names of the tables Tables builds, in the order
// it returns them:
//
//   - irqs: one row per irq (name, class, handler actions (comma
//     separated), counts of handler runs, assignments, migrations)
//   - assignments: one row per Assignment
//   - migrations: one row per Migration
//   - hotplug_steps: one row per HotplugStep
//   - handlers: one row per Invocation, device handlers (kind
//     "irq_handler") and system vectors (kind "sysvec"), by start time
//   - ipis: one row per IPIDelivery
//   - slots: one row per SlotOwner
func TableNames() []string {
	return []string{"irqs", "assignments", "migrations", "hotplug_steps", "handlers", "ipis", "slots"}
}

// Tables builds the tables of TableNames from the models ms (one per
// recording; rows of several models are concatenated in the order given
// and told apart by their file column, which holds Model.File).
//
// Columns have the model's JSON names where it has one. Timestamps and
// durations are int64 in the recording's unit (nanoseconds, or raw ticks
// for counter clocks, as in the events table); *_line columns are the 1-based input lines the
// row rests on. A value the model does not know (a vector of an inferred
// move, the end of an interval still open at the end of the trace, an
// empty reason) is null, never 0 or "". Each table's schema metadata key
// "irqtrace.table" holds its name.
func Tables(ms []*Model, mem memory.Allocator) ([]Table, error) {
	builders := []func(*tableWriter, *Model){writeIRQs, writeAssignments, writeMigrations, writeSteps, writeHandlers, writeIPIs, writeSlots}
	names := TableNames()
	out := make([]Table, 0, len(names))
	for i, name := range names {
		schema := tableSchema(name)
		w := &tableWriter{b: array.NewRecordBuilder(mem, schema)}
		for _, m := range ms {
			builders[i](w, m)
		}
		rec := w.b.NewRecordBatch()
		w.b.Release()
		if w.err != nil {
			rec.Release()
			for _, t := range out {
				t.Record.Release()
			}
			return nil, fmt.Errorf("model table %s: %w", name, w.err)
		}
		out = append(out, Table{Name: name, Schema: schema, Record: rec})
	}
	return out, nil
}

var dictString = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}

// column kinds of the model tables
const (
	cI32 = iota
	cI64
	cBool
	cStr // dictionary-encoded string
)

type column struct {
	name string
	kind int
	null bool
}

// tableColumns lists each table's columns, in order; the write* functions
// append values in this order.
func tableColumns(name string) []column {
	c := func(name string, kind int, null bool) column { return column{name, kind, null} }
	file := c("file", cStr, false)
	switch name {
	case "irqs":
		return []column{file, c("irq", cI32, false), c("name", cStr, true), c("class", cStr, false),
			c("actions", cStr, true), c("handler_count", cI64, false), c("unhandled", cI64, false),
			c("assignments", cI32, false), c("migrations", cI32, false), c("inferred_migrations", cI32, false),
			c("activations", cI32, false), c("torn_down_ns", cI64, true), c("alloc_failures", cI32, false)}
	case "assignments":
		return []column{file, c("irq", cI32, false), c("cpu", cI32, true), c("vector", cI32, true),
			c("start_ns", cI64, false), c("end_ns", cI64, true), c("start_reason", cStr, false),
			c("end_reason", cStr, true), c("inferred", cBool, false), c("clipped", cBool, false),
			c("start_line", cI64, false), c("end_line", cI64, true)}
	case "migrations":
		return []column{file, c("irq", cI32, false), c("ts_ns", cI64, false),
			c("from_cpu", cI32, false), c("from_vector", cI32, true), c("to_cpu", cI32, true), c("to_vector", cI32, true),
			c("emit_cpu", cI32, true), c("deferred", cBool, false), c("inferred", cBool, false), c("evidence", cStr, true),
			c("completed_ns", cI64, true), c("completion", cStr, false), c("move_ns", cI64, true),
			c("line", cI64, false), c("completion_line", cI64, true)}
	case "hotplug_steps":
		return []column{file, c("cpu", cI32, false), c("ts_ns", cI64, false), c("callback", cStr, false),
			c("step", cI32, false), c("target", cI32, false), c("state", cI32, true), c("run_on_cpu", cI32, false),
			c("duration_ns", cI64, true), c("ret", cI32, true), c("multi", cBool, false), c("down", cBool, false),
			c("line", cI64, false), c("exit_line", cI64, true)}
	case "handlers":
		return []column{file, c("kind", cStr, false), c("cpu", cI32, false), c("irq", cI32, true),
			c("vector", cI32, true), c("name", cStr, true), c("start_ns", cI64, false), c("end_ns", cI64, false),
			c("duration_ns", cI64, false), c("handled", cBool, false), c("depth", cI32, false),
			c("entry_line", cI64, false), c("exit_line", cI64, false)}
	case "ipis":
		return []column{file, c("from_cpu", cI32, false), c("to_cpu", cI32, false), c("kind", cStr, false),
			c("callback", cStr, true), c("send_ns", cI64, false), c("receive_ns", cI64, true),
			c("latency_ns", cI64, true), c("send_line", cI64, false), c("receive_line", cI64, true)}
	case "slots":
		return []column{file, c("cpu", cI32, false), c("vector", cI32, false), c("irq", cI32, false),
			c("start_ns", cI64, false), c("end_ns", cI64, true), c("state", cStr, false),
			c("end_reason", cStr, true), c("inferred", cBool, false)}
	}
	panic("analysis: unknown table " + name)
}

func tableSchema(name string) *arrow.Schema {
	cols := tableColumns(name)
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		var t arrow.DataType
		switch c.kind {
		case cI32:
			t = arrow.PrimitiveTypes.Int32
		case cI64:
			t = arrow.PrimitiveTypes.Int64
		case cBool:
			t = arrow.FixedWidthTypes.Boolean
		case cStr:
			t = dictString
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: c.null}
	}
	md := arrow.NewMetadata([]string{"irqtrace.table"}, []string{name})
	return arrow.NewSchema(fields, &md)
}

// tableWriter appends one row at a time, column by column, in schema
// order; end finishes a row.
type tableWriter struct {
	b   *array.RecordBuilder
	col int
	err error
}

func (w *tableWriter) next() array.Builder {
	f := w.b.Field(w.col)
	w.col++
	return f
}

func (w *tableWriter) end() { w.col = 0 }

func (w *tableWriter) i32(v int32) { w.next().(*array.Int32Builder).Append(v) }

func (w *tableWriter) i32p(v *int32) {
	b := w.next().(*array.Int32Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

func (w *tableWriter) i64(v int64) { w.next().(*array.Int64Builder).Append(v) }

func (w *tableWriter) i64p(v *int64) {
	b := w.next().(*array.Int64Builder)
	if v == nil {
		b.AppendNull()
		return
	}
	b.Append(*v)
}

// line appends a line reference, null when 0 (the model's "none").
func (w *tableWriter) line(v int64) {
	if v == 0 {
		w.i64p(nil)
		return
	}
	w.i64(v)
}

func (w *tableWriter) boolean(v bool) { w.next().(*array.BooleanBuilder).Append(v) }

// str appends s to a dictionary column, null when s is "".
func (w *tableWriter) str(s string) {
	b := w.next().(*array.BinaryDictionaryBuilder)
	if s == "" {
		b.AppendNull()
		return
	}
	if err := b.AppendString(s); err != nil && w.err == nil {
		w.err = err
	}
}

func writeIRQs(w *tableWriter, m *Model) {
	for _, q := range m.IRQs {
		inferred := int32(0)
		for _, mg := range q.Migrations {
			if mg.Inferred {
				inferred++
			}
		}
		actions := strings.Join(q.Actions, ",")
		if actions == "" {
			actions = q.Name
		}
		w.str(m.File)
		w.i32(q.IRQ)
		w.str(q.Name)
		w.str(q.Class)
		w.str(actions)
		w.i64(q.HandlerCount)
		w.i64(q.Unhandled)
		w.i32(int32(len(q.Assignments)))
		w.i32(int32(len(q.Migrations)))
		w.i32(inferred)
		w.i32(int32(len(q.Activations)))
		w.i64p(q.TornDownNS)
		w.i32(int32(len(q.Failures)))
		w.end()
	}
}

func writeAssignments(w *tableWriter, m *Model) {
	for _, q := range m.IRQs {
		for _, a := range q.Assignments {
			w.str(m.File)
			w.i32(q.IRQ)
			w.i32p(a.CPU)
			w.i32p(a.Vector)
			w.i64(a.StartNS)
			w.i64p(a.EndNS)
			w.str(a.StartReason)
			w.str(a.EndReason)
			w.boolean(a.Inferred)
			w.boolean(a.Clipped)
			w.line(a.StartLine)
			w.line(a.EndLine)
			w.end()
		}
	}
}

func writeMigrations(w *tableWriter, m *Model) {
	for _, q := range m.IRQs {
		for _, mg := range q.Migrations {
			var moveNS *int64
			if mg.CompletedNS != nil {
				d := *mg.CompletedNS - mg.TS
				moveNS = &d
			}
			w.str(m.File)
			w.i32(q.IRQ)
			w.i64(mg.TS)
			w.i32(mg.FromCPU)
			w.i32p(mg.FromVector)
			w.i32p(mg.ToCPU)
			w.i32p(mg.ToVector)
			w.i32p(mg.EmitCPU)
			w.boolean(mg.Deferred)
			w.boolean(mg.Inferred)
			w.str(mg.Evidence)
			w.i64p(mg.CompletedNS)
			w.str(mg.Completion)
			w.i64p(moveNS)
			w.line(mg.Line)
			w.line(mg.CompletionLine)
			w.end()
		}
	}
}

func writeSteps(w *tableWriter, m *Model) {
	for _, c := range m.CPUs {
		for _, s := range c.HotplugSteps {
			w.str(m.File)
			w.i32(c.CPU)
			w.i64(s.TS)
			w.str(s.Callback)
			w.i32(s.Step)
			w.i32(s.Target)
			w.i32p(s.State)
			w.i32(s.RunOnCPU)
			w.i64p(s.DurationNS)
			w.i32p(s.Ret)
			w.boolean(s.Multi)
			w.boolean(s.Down)
			w.line(s.Line)
			w.line(s.ExitLine)
			w.end()
		}
	}
}

func writeHandlers(w *tableWriter, m *Model) {
	type row struct {
		inv  *Invocation
		kind string
	}
	rows := make([]row, 0, len(m.Handlers)+len(m.Sysvecs))
	for i := range m.Handlers {
		rows = append(rows, row{&m.Handlers[i], "irq_handler"})
	}
	for i := range m.Sysvecs {
		rows = append(rows, row{&m.Sysvecs[i], "sysvec"})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].inv, rows[j].inv
		if a.StartNS != b.StartNS {
			return a.StartNS < b.StartNS
		}
		return a.EntryLine < b.EntryLine
	})
	for _, r := range rows {
		v := r.inv
		w.str(m.File)
		w.str(r.kind)
		w.i32(v.CPU)
		w.i32p(p32(v.IRQ))
		w.i32p(p32(v.Vector))
		w.str(v.Name)
		w.i64(v.StartNS)
		w.i64(v.EndNS)
		w.i64(v.EndNS - v.StartNS)
		w.boolean(v.Handled)
		w.i32(v.Depth)
		w.line(v.EntryLine)
		w.line(v.ExitLine)
		w.end()
	}
}

func writeIPIs(w *tableWriter, m *Model) {
	for _, d := range m.IPIs {
		var lat *int64
		if d.ReceiveNS != nil {
			l := *d.ReceiveNS - d.SendNS
			lat = &l
		}
		w.str(m.File)
		w.i32(d.FromCPU)
		w.i32(d.ToCPU)
		w.str(d.Kind)
		w.str(d.Callback)
		w.i64(d.SendNS)
		w.i64p(d.ReceiveNS)
		w.i64p(lat)
		w.line(d.SendLine)
		w.line(d.RecvLine)
		w.end()
	}
}

func writeSlots(w *tableWriter, m *Model) {
	for _, s := range m.Slots {
		w.str(m.File)
		w.i32(s.CPU)
		w.i32(s.Vector)
		w.i32(s.IRQ)
		w.i64(s.StartNS)
		w.i64p(s.EndNS)
		w.str(s.State)
		w.str(s.EndReason)
		w.boolean(s.Inferred)
		w.end()
	}
}

// OfflineLines returns, per CPU of m and per entry of its
// OfflineIntervals, the input lines of the events that began and ended
// the interval, found among the events at the interval's bounds: for the
// start the "CPU N is now offline" console message, else a cpuhp event
// for the CPU (the exit of takedown_cpu), else an irq handler entry (a run
// elsewhere during the take-down); for the end the CPU's own event
// (normally irq_matrix_online), else a cpuhp event for the CPU. A line is
// 0 where none is found (or the interval is still open). recs must be the
// events table m was built from.
//
// The model's intervals carry no lines of their own; reports use this to
// cite them.
func OfflineLines(recs []arrow.RecordBatch, m *Model) (map[int32][][2]int64, error) {
	evs, err := extract(recs, m.File)
	if err != nil {
		return nil, err
	}
	// find returns the line of the best event at ts (lowest rank, first
	// in line order), 0 if no event ranks.
	find := func(ts int64, rank func(e *ev) int) int64 {
		best, line := 0, int64(0)
		for i := sort.Search(len(evs), func(i int) bool { return evs[i].ts >= ts }); i < len(evs) && evs[i].ts == ts; i++ {
			if r := rank(&evs[i]); r > 0 && (best == 0 || r < best) {
				best, line = r, evs[i].line
			}
		}
		return line
	}
	isCPUHP := func(e *ev) bool {
		f := e.id.Info().Family
		return f == ftrace.FamCPUHPEnter || f == ftrace.FamCPUHPExit
	}
	out := map[int32][][2]int64{}
	for _, c := range m.CPUs {
		if len(c.OfflineIntervals) == 0 {
			continue
		}
		lines := make([][2]int64, len(c.OfflineIntervals))
		msg := "CPU " + strconv.Itoa(int(c.CPU)) + " is now offline"
		for k, iv := range c.OfflineIntervals {
			if iv[0] != nil {
				lines[k][0] = find(*iv[0], func(e *ev) int {
					switch {
					case e.id == ftrace.EvConsole && reOffline.FindString(e.str) == msg:
						return 1
					case isCPUHP(e) && e.tcpu == c.CPU:
						return 2
					case e.id == ftrace.EvIRQHandlerEntry:
						return 3
					}
					return 0
				})
			}
			if iv[1] != nil {
				lines[k][1] = find(*iv[1], func(e *ev) int {
					switch {
					case e.cpu == c.CPU:
						return 1
					case isCPUHP(e) && e.tcpu == c.CPU:
						return 2
					}
					return 0
				})
			}
		}
		out[c.CPU] = lines
	}
	return out, nil
}

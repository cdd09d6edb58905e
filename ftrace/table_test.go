package ftrace

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// cell reads one value of a table column as a plain Go value (nil if null).
func cell(a arrow.Array, i int) any {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Dictionary:
		return cell(a.Dictionary(), a.GetValueIndex(i))
	case *array.String:
		return a.Value(i)
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int64(a.Value(i))
	case *array.Int16:
		return int64(a.Value(i))
	case *array.Int32:
		return int64(a.Value(i))
	case *array.Int64:
		return a.Value(i)
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Map:
		s, e := a.ValueOffsets(i)
		var kv []string
		for k := s; k < e; k++ {
			kv = append(kv, a.Keys().(*array.String).Value(int(k))+"="+a.Items().(*array.String).Value(int(k)))
		}
		return strings.Join(kv, " ")
	}
	panic(fmt.Sprintf("type %T", a))
}

// tableRows returns every row of the table as column -> non-null value.
func tableRows(t *testing.T, tbl *Table) []map[string]any {
	t.Helper()
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, r := range recs {
		if !r.Schema().Equal(tbl.Schema()) || r.NumCols() != int64(NumColumns) {
			t.Fatalf("record schema differs from the table's")
		}
		for c := 0; c < int(r.NumCols()); c++ {
			if r.Column(c).Len() != int(r.NumRows()) {
				t.Fatalf("column %s: %d values in a record of %d rows", r.ColumnName(c), r.Column(c).Len(), r.NumRows())
			}
		}
		for i := 0; i < int(r.NumRows()); i++ {
			m := map[string]any{}
			for c := 0; c < int(r.NumCols()); c++ {
				if v := cell(r.Column(c), i); v != nil {
					m[r.ColumnName(c)] = v
				}
			}
			out = append(out, m)
		}
	}
	return out
}

func show(m map[string]any) string {
	var s []string
	for k, v := range m {
		s = append(s, fmt.Sprintf("%s=%v", k, v))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func TestTableRoundTrip(t *testing.T) {
	flags, _ := ParseFlags([]byte("dNh2."))
	xflags, _ := ParseFlags([]byte("X.s1"))
	b1 := NewBatch(0)
	// Byte slices are reused and overwritten between appends, as the
	// parser does with its line buffer: the batch must copy what it keeps.
	buf := []byte("cpuhp/1")
	r := Record{TS: 47_783_620_000, CPU: 1, PID: 19, TGID: -1, Comm: buf, Flags: flags, Event: EvVectorUpdate,
		Name: []byte("vector_update"), Line: 10, Offset: 100}
	r.Set(FIRQ, 26)
	r.Set(FVector, 35)
	r.Set(FTargetCPU, 1)
	b1.Append(&r)
	copy(buf, "XXXXXXX")

	r = Record{TS: 48_000_000_000, CPU: 2, PID: 5, TGID: 5, Comm: []byte("bash"), Flags: xflags, Name: []byte("sched_switch"),
		Buffer: []byte("rig"), Raw: []byte("prev_comm=bash ==> next_comm=x"), Line: 11, Offset: 180}
	r.Args = []KV{{[]byte("prev_comm"), []byte("bash")}, {[]byte("next_comm"), []byte("x")}}
	r.Generic = true
	b1.Append(&r)

	r = Record{TS: 49_000_000_000, CPU: 0, PID: 1, TGID: -1, Comm: []byte("rig-init.sh"), Event: EvPrint,
		Name: []byte("print"), System: []byte("ftrace"), Line: 12, Offset: 260}
	r.SetStr(FFunc, []byte("tracing_mark_write"))
	r.SetStr(FText, []byte("RIG: go"))
	r.Set(FAPICDest, 0xffffffff)
	b1.Append(&r)
	b1.Rebase(100, 1000)
	if b1.Len() != 3 {
		t.Fatalf("Len = %d", b1.Len())
	}

	b2 := NewBatch(10)
	r = Record{TS: 7, CPU: 32767, PID: -1, TGID: -1, Comm: []byte(":-1"), Event: EvIRQHandlerExit,
		Name: []byte("irq_handler_exit"), System: []byte("irq"), Line: 1, Offset: 0}
	r.Set(FIRQ, -5)
	r.Set(FRet, 0)
	b2.Append(&r)

	tbl := NewTable()
	tbl.Add("a.txt", b1)
	tbl.Add("empty.txt", NewBatch(0)) // no rows: nothing added
	tbl.Add("b.txt", b2)
	if tbl.Rows() != 4 {
		t.Errorf("Rows = %d", tbl.Rows())
	}
	if got := fmt.Sprint(tbl.EventCounts()); got != "map[irq_handler_exit:1 print:1 sched_switch:1 vector_update:1]" {
		t.Errorf("EventCounts = %s", got)
	}
	want := []string{
		"bh_off=false comm=cpuhp/1 cpu=1 event=vector_update file=a.txt flags=dNh2. hardirq=true irq=26 irqs_off=true line=110 migrate_disable=0 need_resched=true nmi=false offset=1100 pid=19 preempt_depth=2 softirq=false system=irq_vectors target_cpu=1 ts_ns=47783620000 vector=35",
		"args=prev_comm=bash next_comm=x buffer=rig comm=bash cpu=2 event=sched_switch file=a.txt flags=X.s1 hardirq=false line=111 need_resched=false nmi=false offset=1180 payload=prev_comm=bash ==> next_comm=x pid=5 preempt_depth=1 softirq=true tgid=5 ts_ns=48000000000",
		"apicdest=4294967295 comm=rig-init.sh cpu=0 event=print file=a.txt func=tracing_mark_write line=112 offset=1260 pid=1 system=ftrace text=RIG: go ts_ns=49000000000",
		"comm=:-1 cpu=32767 event=irq_handler_exit file=b.txt irq=-5 line=1 offset=0 pid=-1 ret=0 system=irq ts_ns=7",
	}
	rows := tableRows(t, tbl)
	if len(rows) != len(want) {
		t.Fatalf("%d rows", len(rows))
	}
	for i := range want {
		if got := show(rows[i]); got != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, got, want[i])
		}
	}
	// Records is idempotent.
	recs1, _ := tbl.Records()
	recs2, _ := tbl.Records()
	if len(recs1) != len(recs2) || recs1[0] != recs2[0] {
		t.Error("Records built twice")
	}
	tbl.Release()
}

// TestTableManyRows: rows beyond one record batch, sparse fields, a
// dictionary shared by every record batch, per-batch local dictionaries
// merged.
func TestTableManyRows(t *testing.T) {
	tbl := NewTable()
	const perBatch = 12_345
	var rows int
	for bi := 0; bi < 3; bi++ {
		b := NewBatch(perBatch)
		for i := 0; i < perBatch; i++ {
			n := bi*perBatch + i
			r := Record{TS: Timestamp(n), CPU: int32(n % 4), PID: int32(n % 7), TGID: -1,
				Comm: []byte(fmt.Sprintf("task-%d", (n/1000)%5+bi)), Line: int64(i + 1), Offset: int64(i * 80)}
			switch {
			case n%5000 == 0:
				r.Event, r.Name = EvVectorUpdate, []byte("vector_update")
				r.Set(FIRQ, int64(n))
				r.Set(FVector, 33)
				r.Set(FTargetCPU, 1)
			case n%777 == 0:
				r.Name, r.Raw, r.Generic = []byte(fmt.Sprintf("custom_%d", bi)), []byte("x=1"), true
				r.Args = []KV{{[]byte("x"), []byte("1")}}
			default:
				r.Event, r.Name = EvLocalTimerEntry, []byte("local_timer_entry")
				r.Set(FVector, 236)
			}
			b.Append(&r)
			rows++
		}
		tbl.Add(fmt.Sprintf("f%d", bi), b)
	}
	got := tableRows(t, tbl)
	if len(got) != rows {
		t.Fatalf("%d rows, want %d", len(got), rows)
	}
	recs, _ := tbl.Records()
	ev := recs[0].Column(ColEvent).(*array.Dictionary).Dictionary()
	for _, r := range recs {
		if r.NumRows() > RecordRows {
			t.Errorf("record of %d rows", r.NumRows())
		}
		if !array.Equal(r.Column(ColEvent).(*array.Dictionary).Dictionary(), ev) {
			t.Error("record batches carry different event dictionaries")
		}
	}
	for n, m := range got {
		bi, i := n/perBatch, n%perBatch
		if m["ts_ns"] != int64(n) || m["line"] != int64(i+1) || m["offset"] != int64(i*80) || m["file"] != fmt.Sprintf("f%d", bi) ||
			m["comm"] != fmt.Sprintf("task-%d", (n/1000)%5+bi) || m["cpu"] != int64(n%4) {
			t.Fatalf("row %d: %s", n, show(m))
		}
		switch {
		case n%5000 == 0:
			if m["event"] != "vector_update" || m["irq"] != int64(n) || m["vector"] != int64(33) || m["target_cpu"] != int64(1) || len(m) != 12 {
				t.Fatalf("row %d: %s", n, show(m))
			}
		case n%777 == 0:
			if m["event"] != fmt.Sprintf("custom_%d", bi) || m["payload"] != "x=1" || m["args"] != "x=1" || m["vector"] != nil || len(m) != 10 {
				t.Fatalf("row %d: %s", n, show(m))
			}
		default:
			if m["event"] != "local_timer_entry" || m["vector"] != int64(236) || m["system"] != "irq_vectors" || len(m) != 10 {
				t.Fatalf("row %d: %s", n, show(m))
			}
		}
	}
	tbl.Release()
}

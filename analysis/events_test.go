package analysis

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

// TestColumnReaders checks the typed column readers of the extraction
// (intCol, boolCol, strCol: direct buffer access) against the Arrow
// accessors, on every payload column of a real trace cut into record
// batches (sliced arrays with offsets included).
func TestColumnReaders(t *testing.T) {
	text := readText(t, realTrace{"qemu-hotplug", "ftrace.txt.xz"}.path())
	tbl := ftrace.NewTable()
	defer tbl.Release()
	if _, err := parse.Parse(context.Background(), bytes.NewReader(text), "x", tbl, parse.Options{ChunkSize: 200 << 10}); err != nil {
		t.Fatal(err)
	}
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 3 {
		t.Fatalf("%d record batches, want several", len(recs))
	}
	var x extractor
	checked := 0
	for _, rec := range recs {
		for c := 0; c < int(rec.NumCols()); c++ {
			a := rec.Column(c)
			switch a := a.(type) {
			case *array.Int16, *array.Int32, *array.Uint32, *array.Int64:
				ic := newIntCol(a)
				for i := 0; i < a.Len(); i++ {
					var want int64
					switch a := a.(type) {
					case *array.Int16:
						want = int64(a.Value(i))
					case *array.Int32:
						want = int64(a.Value(i))
					case *array.Uint32:
						want = int64(a.Value(i))
					case *array.Int64:
						want = a.Value(i)
					}
					if a.IsNull(i) != ic.isNull(i) || (!a.IsNull(i) && ic.get64(i) != want) {
						t.Fatalf("column %s row %d: got %d null=%v, want %d null=%v", rec.ColumnName(c), i, ic.get64(i), ic.isNull(i), want, a.IsNull(i))
					}
					checked++
				}
			case *array.Boolean:
				bc := newBoolCol(a)
				for i := 0; i < a.Len(); i++ {
					v, ok := bc.get(i)
					if ok != a.IsValid(i) || (ok && v != a.Value(i)) {
						t.Fatalf("column %s row %d: got %v,%v want %v,%v", rec.ColumnName(c), i, v, ok, a.Value(i), a.IsValid(i))
					}
					checked++
				}
			case *array.Dictionary:
				sc := x.strCol(a)
				d, ok := a.Dictionary().(*array.String)
				if !ok {
					continue
				}
				for i := 0; i < a.Len(); i++ {
					want := ""
					if a.IsValid(i) {
						want = d.Value(a.GetValueIndex(i))
					}
					if got := sc.get(i); got != want {
						t.Fatalf("column %s row %d: got %q want %q", rec.ColumnName(c), i, got, want)
					}
					checked++
				}
			}
		}
	}
	if checked < 1_000_000 {
		t.Errorf("checked %d values", checked)
	}
}

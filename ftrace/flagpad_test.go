package ftrace

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// TestFlagsThenNoFlags: a batch whose flagged rows are followed by 8 or
// more rows without a flags column (mixed inputs) used to panic when the
// decoded flag columns were derived.
func TestFlagsThenNoFlags(t *testing.T) {
	b := NewBatch(64)
	f, ok := ParseFlags([]byte("d.h1."))
	if !ok {
		t.Fatal("flags did not parse")
	}
	for i := 0; i < 20; i++ {
		r := Record{Event: EvLocalTimerEntry, Comm: []byte("x"), TGID: -1, Line: int64(i + 1)}
		if i < 3 {
			r.Flags = f
		}
		r.Set(FVector, 236)
		b.Append(&r)
	}
	tab := NewTable()
	tab.Add("f", b)
	recs, err := tab.Records()
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Release()
	hard := recs[0].Column(ColHardirq).(*array.Boolean)
	for i := 0; i < 20; i++ {
		if got, want := hard.IsValid(i), i < 3; got != want {
			t.Errorf("row %d: hardirq valid %v, want %v", i, got, want)
		}
	}
	if !hard.Value(0) {
		t.Error("row 0: hardirq false, want true")
	}
}

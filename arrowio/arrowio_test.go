package arrowio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/irqtrace/irqtrace/ftrace"
	"github.com/irqtrace/irqtrace/parse"
)

// realInputs are real traces of three formats, so that the table has
// every kind of column filled somewhere and null elsewhere: typed payload
// fields, the perf system column, LOST markers' neighbours, generic
// events with their args map.
var realInputs = []string{
	"../testdata/cli/hotplug.ftrace.xz",
	"../testdata/cli/hotplug.perfscript.xz",
	"../testdata/cli/overflow-lost.ftrace",
}

// tgidGeneric adds what the real inputs lack: the TGID column (lines of
// a real trace recorded with the record-tgid option) and events outside
// the catalog, whose payload and args map are filled (the sched_switch
// and sched_wakeup lines are in the kernel's format, written for the
// test).
const tgidGeneric = `# tracer: nop
#
# entries-in-buffer/entries-written: 4/4   #P:2
#
#           TASK-PID       TGID    CPU#  |||||  TIMESTAMP  FUNCTION
#              | |           |       |   |||||     |         |
              bt-17770   (  17770) [001] d.h..   437.341829: local_timer_entry: vector=236
          <idle>-0       (-------) [001] d.h1.   437.351943: call_function_single_entry: vector=251
              bt-17773   (  17770) [000] d..2.   437.351950: sched_switch: prev_comm=bt prev_pid=17773 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120
          <idle>-0       (-------) [000] dNh2.   437.351990: sched_wakeup: comm=bt pid=17773 prio=120 target_cpu=000
`

// realTable parses realInputs (and tgidGeneric) into one events table
// with metadata.
func realTable(t *testing.T) *ftrace.Table {
	t.Helper()
	tbl := ftrace.NewTable()
	for _, name := range realInputs {
		r, _, err := parse.OpenInput(name, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = parse.Parse(context.Background(), r, name, tbl, parse.Options{})
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := parse.Parse(context.Background(), strings.NewReader(tgidGeneric), "tgid-generic", tbl, parse.Options{}); err != nil {
		t.Fatal(err)
	}
	tbl.SetMetadata(arrow.NewMetadata([]string{"irqtrace.files"}, []string{`[{"file":"x"}]`}))
	return tbl
}

func TestRoundTrip(t *testing.T) {
	tbl := realTable(t)
	defer tbl.Release()
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 2 {
		t.Fatalf("want several record batches, got %d", len(recs))
	}
	want := cells(t, tbl.Schema(), recs)
	checkCoverage(t, tbl.Schema(), want)

	for _, ext := range []string{".arrow", ".parquet", ".feather", ".ipc"} {
		t.Run(ext, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			path := filepath.Join(t.TempDir(), "events"+ext)
			if err := writeFile(path, tbl.Schema(), recs, mem); err != nil {
				t.Fatal(err)
			}
			checkOnlyFile(t, path)
			schema, got, err := readFile(path, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer releaseAll(got)

			if v, ok := schema.Metadata().GetValue("irqtrace.files"); !ok || v != `[{"file":"x"}]` {
				t.Errorf("metadata irqtrace.files = %q, %v", v, ok)
			}
			if schema.NumFields() != tbl.Schema().NumFields() {
				t.Fatalf("read back %d columns, want %d", schema.NumFields(), tbl.Schema().NumFields())
			}
			for i, f := range tbl.Schema().Fields() {
				g := schema.Field(i)
				if g.Name != f.Name {
					t.Errorf("column %d: name %q, want %q", i, g.Name, f.Name)
				}
				if f.Type.ID() == arrow.DICTIONARY && g.Type.ID() != arrow.DICTIONARY {
					t.Errorf("column %s: read back as %s, want a dictionary", f.Name, g.Type)
				}
				if f.Type.ID() != arrow.DICTIONARY && !arrow.TypeEqual(f.Type, g.Type) {
					t.Errorf("column %s: read back as %s, want %s", f.Name, g.Type, f.Type)
				}
			}
			gotCells := cells(t, schema, got)
			for c, name := range columnNames(tbl.Schema()) {
				if len(gotCells[c]) != len(want[c]) {
					t.Errorf("column %s: %d rows, want %d", name, len(gotCells[c]), len(want[c]))
					continue
				}
				bad := 0
				for i := range want[c] {
					if gotCells[c][i] != want[c][i] {
						if bad < 3 {
							t.Errorf("column %s row %d: %s, want %s", name, i, gotCells[c][i], want[c][i])
						}
						bad++
					}
				}
				if bad > 3 {
					t.Errorf("column %s: %d rows differ", name, bad)
				}
			}
		})
	}
}

// checkCoverage makes sure the test table exercises what the round trip
// must preserve: nulls and values in nullable columns, and non-empty
// maps in args.
func checkCoverage(t *testing.T, schema *arrow.Schema, cols [][]string) {
	t.Helper()
	for _, name := range []string{"system", "tgid", "flags", "irq", "vector", "name", "text", "target_state", "payload", "args"} {
		i := schema.FieldIndices(name)
		if len(i) != 1 {
			t.Fatalf("no column %q", name)
		}
		nulls, vals := 0, 0
		for _, v := range cols[i[0]] {
			if v == "<null>" {
				nulls++
			} else if v != "{}" {
				vals++
			}
		}
		if nulls == 0 || vals == 0 {
			t.Errorf("test input has %d nulls and %d values in column %s; want both", nulls, vals, name)
		}
	}
}

func columnNames(s *arrow.Schema) []string {
	var n []string
	for _, f := range s.Fields() {
		n = append(n, f.Name)
	}
	return n
}

// cells renders every value of recs as a string, column by column, with
// dictionaries decoded, so that tables that differ only in batching and
// dictionary layout compare equal.
func cells(t *testing.T, schema *arrow.Schema, recs []arrow.RecordBatch) [][]string {
	t.Helper()
	out := make([][]string, schema.NumFields())
	for _, r := range recs {
		for c := range out {
			col := r.Column(c)
			for i := 0; i < col.Len(); i++ {
				out[c] = append(out[c], cell(col, i))
			}
		}
	}
	return out
}

func cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "<null>"
	}
	switch a := a.(type) {
	case *array.Dictionary:
		return cell(a.Dictionary(), a.GetValueIndex(i))
	case *array.Map:
		start, end := a.ValueOffsets(i)
		var kv []string
		for j := start; j < end; j++ {
			kv = append(kv, cell(a.Keys(), int(j))+"="+cell(a.Items(), int(j)))
		}
		return "{" + strings.Join(kv, " ") + "}"
	case *array.String:
		return fmt.Sprintf("%q", a.Value(i))
	}
	return a.ValueStr(i)
}

// checkOnlyFile fails unless path is the only entry of its directory (no
// temporary file left behind).
func checkOnlyFile(t *testing.T, path string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != filepath.Base(path) {
		t.Errorf("directory holds %q, want only %q", names, filepath.Base(path))
	}
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
	}{
		{"a.arrow", FormatIPC}, {"a.feather", FormatIPC}, {"dir.x/a.IPC", FormatIPC},
		{"a.parquet", FormatParquet}, {"A.Parquet", FormatParquet},
		{"a.csv", FormatUnknown}, {"a", FormatUnknown}, {"a.parquet.gz", FormatUnknown},
	} {
		got, err := FormatOf(tc.path)
		if got != tc.want {
			t.Errorf("FormatOf(%q) = %v, want %v", tc.path, got, tc.want)
		}
		if (tc.want == FormatUnknown) != errors.Is(err, ErrUnknownExtension) {
			t.Errorf("FormatOf(%q) error = %v", tc.path, err)
		}
	}
	_, err := FormatOf("out.csv")
	if err == nil || !strings.Contains(err.Error(), `".csv"`) {
		t.Errorf("error %v does not name the extension", err)
	}
}

// smallRecord builds a one-column dictionary record over dict.
func smallRecord(mem memory.Allocator, schema *arrow.Schema, dict ...string) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	db := b.Field(0).(*array.BinaryDictionaryBuilder)
	for _, s := range dict {
		db.AppendString(s)
	}
	return b.NewRecordBatch()
}

func TestWriteFailureLeavesNoFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dictSchema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: &arrow.DictionaryType{
		IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}}}, nil)
	// Two batches with different dictionaries: the IPC file format cannot
	// replace a dictionary, so the writer fails after the first batch.
	r1 := smallRecord(mem, dictSchema, "a", "b")
	defer r1.Release()
	r2 := smallRecord(mem, dictSchema, "c")
	defer r2.Release()
	// A type Parquet cannot store: the writer fails at its start.
	durSchema := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Duration_ns}}, nil)
	db := array.NewRecordBuilder(mem, durSchema)
	db.Field(0).(*array.DurationBuilder).Append(1)
	r3 := db.NewRecordBatch()
	db.Release()
	defer r3.Release()

	for _, tc := range []struct {
		name    string
		file    string
		schema  *arrow.Schema
		recs    []arrow.RecordBatch
		wantErr error
	}{
		{"unknown extension", "out.csv", dictSchema, []arrow.RecordBatch{r1}, ErrUnknownExtension},
		{"missing directory", "nodir/out.arrow", dictSchema, []arrow.RecordBatch{r1}, os.ErrNotExist},
		{"dictionary replaced mid-file", "out.arrow", dictSchema, []arrow.RecordBatch{r1, r2}, nil},
		{"schema mismatch", "out.parquet", durSchema, []arrow.RecordBatch{r1}, nil},
		{"type parquet lacks", "out.parquet", durSchema, []arrow.RecordBatch{r3}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// An existing file under the final name must survive a failed write.
			final := filepath.Join(dir, tc.file)
			keep := filepath.Join(dir, "out.arrow")
			if err := os.WriteFile(keep, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			err := writeFile(final, tc.schema, tc.recs, mem)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.file) {
				t.Errorf("error %q does not name the output %s", err, tc.file)
			}
			checkOnlyFile(t, keep)
			if b, _ := os.ReadFile(keep); string(b) != "old" {
				t.Errorf("existing file changed to %q", b)
			}
		})
	}
}

func TestWriteReplacesAndEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl := ftrace.NewTable()
	schema := tbl.Schema()
	for _, ext := range []string{".arrow", ".parquet"} {
		path := filepath.Join(t.TempDir(), "empty"+ext)
		if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := writeFile(path, schema, nil, mem); err != nil {
			t.Fatal(err)
		}
		checkOnlyFile(t, path)
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644", ext, fi.Mode().Perm())
		}
		s, recs, err := readFile(path, mem)
		if err != nil {
			t.Fatal(err)
		}
		rows := int64(0)
		for _, r := range recs {
			rows += r.NumRows()
		}
		releaseAll(recs)
		if rows != 0 || s.NumFields() != schema.NumFields() {
			t.Errorf("%s: %d rows, %d columns; want 0, %d", ext, rows, s.NumFields(), schema.NumFields())
		}
	}
}

// TestPyarrowReads checks that pyarrow reads both formats, when python3
// with pyarrow is installed (it is optional; the test skips otherwise).
func TestPyarrowReads(t *testing.T) {
	if err := exec.Command("python3", "-c", "import pyarrow, pyarrow.parquet, pyarrow.feather").Run(); err != nil {
		t.Skip("python3 with pyarrow not available")
	}
	tbl := realTable(t)
	defer tbl.Release()
	recs, err := tbl.Records()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, ext := range []string{".arrow", ".parquet"} {
		path := filepath.Join(dir, "events"+ext)
		if err := WriteFile(path, tbl.Schema(), recs); err != nil {
			t.Fatal(err)
		}
		script := `import sys, pyarrow.feather as f, pyarrow.parquet as pq
p = sys.argv[1]
t = pq.read_table(p) if p.endswith(".parquet") else f.read_table(p)
print(t.num_rows, t.num_columns, t.schema.field("event").type, sum(len(x) for x in t.column("args").to_pylist() if x))`
		out, err := exec.Command("python3", "-c", script, path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: pyarrow: %v\n%s", ext, err, out)
		}
		want := fmt.Sprintf("%d %d ", tbl.Rows(), tbl.Schema().NumFields())
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("%s: pyarrow says %q, want prefix %q", ext, out, want)
		}
	}
}

package parse

// Shared test helpers: running Parse on bytes or files, reading the Arrow
// records back as plain Go values, a naive line splitter used to derive
// expectations from the input text, and a MANIFEST.md table reader.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/irqtrace/irqtrace/ftrace"
)

// view is a parsed table read back from its Arrow records.
type view struct {
	recs    []arrow.RecordBatch
	starts  []int // global row index of each record's first row
	n       int
	col     map[string]int
	lineRow map[int64]int // line number -> global row (single-file tables)
}

// parsed is the outcome of one Parse call.
type parsed struct {
	st  *Stats
	tbl *ftrace.Table
	v   *view
}

// parseBytes runs Parse over data and reads the table back.
func parseBytes(t testing.TB, data []byte, name string, opts Options) (*parsed, error) {
	t.Helper()
	tbl := ftrace.NewTable()
	st, err := Parse(context.Background(), bytes.NewReader(data), name, tbl, opts)
	if err != nil {
		return nil, err
	}
	return &parsed{st: st, tbl: tbl, v: newView(t, tbl)}, nil
}

// mustParse is parseBytes that fails the test on error.
func mustParse(t testing.TB, data []byte, name string, opts Options) *parsed {
	t.Helper()
	p, err := parseBytes(t, data, name, opts)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return p
}

func newView(t testing.TB, tbl *ftrace.Table) *view {
	t.Helper()
	v, err := buildView(tbl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Release)
	return v
}

// buildView reads the records of tbl; lineRow indexes rows by line number
// (left nil when line numbers repeat, as with several input files).
func buildView(tbl *ftrace.Table) (*view, error) {
	recs, err := tbl.Records()
	if err != nil {
		return nil, fmt.Errorf("Records: %w", err)
	}
	v := &view{recs: recs, col: map[string]int{}, lineRow: map[int64]int{}}
	for i, f := range tbl.Schema().Fields() {
		v.col[f.Name] = i
	}
	for _, r := range recs {
		if err := checkRecord(r); err != nil {
			return nil, fmt.Errorf("record batch does not validate: %w", err)
		}
		if r.NumCols() != int64(ftrace.NumColumns) {
			return nil, fmt.Errorf("record has %d columns, want %d", r.NumCols(), ftrace.NumColumns)
		}
		v.starts = append(v.starts, v.n)
		v.n += int(r.NumRows())
	}
	for i := 0; i < v.n; i++ {
		ln := v.get(i, "line").(int64)
		if _, dup := v.lineRow[ln]; dup {
			v.lineRow = nil
			break
		}
		v.lineRow[ln] = i
	}
	return v, nil
}

// checkRecord does the structural checks a reader of the table relies on:
// column lengths, types and null counts match, dictionary indices are in
// range.
func checkRecord(r arrow.RecordBatch) error {
	n := int(r.NumRows())
	for c, f := range r.Schema().Fields() {
		a := r.Column(c)
		if a.Len() != n {
			return fmt.Errorf("column %s: %d values, want %d", f.Name, a.Len(), n)
		}
		if !arrow.TypeEqual(a.DataType(), f.Type) {
			return fmt.Errorf("column %s: type %s, schema says %s", f.Name, a.DataType(), f.Type)
		}
		nulls := 0
		for j := 0; j < n; j++ {
			if a.IsNull(j) {
				nulls++
			}
		}
		if nulls != a.NullN() {
			return fmt.Errorf("column %s: %d null slots, NullN says %d", f.Name, nulls, a.NullN())
		}
		if !f.Nullable && nulls != 0 {
			return fmt.Errorf("column %s: non-nullable but has %d nulls", f.Name, nulls)
		}
		if d, ok := a.(*array.Dictionary); ok {
			dl := d.Dictionary().Len()
			for j := 0; j < n; j++ {
				if !d.IsNull(j) && (d.GetValueIndex(j) < 0 || d.GetValueIndex(j) >= dl) {
					return fmt.Errorf("column %s row %d: dictionary index %d of %d", f.Name, j, d.GetValueIndex(j), dl)
				}
			}
		}
	}
	return nil
}

// locate returns the record and row within it of global row i.
func (v *view) locate(i int) (arrow.RecordBatch, int) {
	k := sort.Search(len(v.starts), func(k int) bool { return v.starts[k] > i }) - 1
	return v.recs[k], i - v.starts[k]
}

// get returns the value of column name at global row i as a plain Go value
// (int64, bool, string or []string for maps), or nil when null.
func (v *view) get(i int, name string) any {
	c, ok := v.col[name]
	if !ok {
		panic("no column " + name)
	}
	r, j := v.locate(i)
	return cellValue(r.Column(c), j)
}

// row returns the non-null cells of global row i.
func (v *view) row(i int) map[string]any {
	r, j := v.locate(i)
	m := map[string]any{}
	for c, f := range r.Schema().Fields() {
		if x := cellValue(r.Column(c), j); x != nil {
			m[f.Name] = x
		}
	}
	return m
}

func cellValue(a arrow.Array, j int) any {
	if a.IsNull(j) {
		return nil
	}
	switch a := a.(type) {
	case *array.Dictionary:
		return cellValue(a.Dictionary(), a.GetValueIndex(j))
	case *array.String:
		return a.Value(j)
	case *array.Boolean:
		return a.Value(j)
	case *array.Int8:
		return int64(a.Value(j))
	case *array.Int16:
		return int64(a.Value(j))
	case *array.Int32:
		return int64(a.Value(j))
	case *array.Int64:
		return a.Value(j)
	case *array.Uint32:
		return int64(a.Value(j))
	case *array.Map:
		start, end := a.ValueOffsets(j)
		keys, vals := a.Keys().(*array.String), a.Items().(*array.String)
		out := []string{}
		for k := start; k < end; k++ {
			out = append(out, keys.Value(int(k))+"="+vals.Value(int(k)))
		}
		return out
	}
	panic(fmt.Sprintf("unhandled arrow type %T", a))
}

// rowAtLine returns the global row of the event at line ln.
func (v *view) rowAtLine(t testing.TB, ln int64) int {
	t.Helper()
	i, ok := v.lineRow[ln]
	if !ok {
		t.Fatalf("no event row for line %d", ln)
	}
	return i
}

// diffRow compares a row's non-null cells with want (cells listed in ignore
// are not compared) and returns a readable list of differences.
func diffRow(got, want map[string]any, ignore ...string) []string {
	skip := map[string]bool{}
	for _, k := range ignore {
		skip[k] = true
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var d []string
	for _, k := range keys {
		if skip[k] {
			continue
		}
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			d = append(d, fmt.Sprintf("%s: null, want %#v", k, w))
		case !wok:
			d = append(d, fmt.Sprintf("%s: %#v, want null", k, g))
		case fmt.Sprintf("%#v", g) != fmt.Sprintf("%#v", w):
			d = append(d, fmt.Sprintf("%s: %#v, want %#v", k, g, w))
		}
	}
	return d
}

// ---------------------------------------------------------------------------
// Real trace files.

const testdataDir = "../testdata"

type realTrace struct {
	scenario string
	file     string // file name in testdata/<scenario>/
	format   Format
	column   string // column header of the MANIFEST tables
}

var realTraces = []realTrace{
	{"qemu-hotplug", "ftrace.txt.xz", FormatFtrace, "ftrace"},
	{"qemu-hotplug", "trace-cmd-report.txt.xz", FormatTraceCmd, "trace-cmd"},
	{"qemu-hotplug", "perf-script.txt.xz", FormatPerfScript, "perf"},
	{"qemu-managed", "ftrace.txt.xz", FormatFtrace, "ftrace"},
	{"qemu-managed", "trace-cmd-report.txt.xz", FormatTraceCmd, "trace-cmd"},
	{"qemu-managed", "perf-script.txt.xz", FormatPerfScript, "perf"},
}

func (r realTrace) path() string { return filepath.Join(testdataDir, r.scenario, r.file) }
func (r realTrace) name() string { return r.scenario + "/" + r.file }

// realResult caches the text and the parse of one real trace: each file is
// decompressed and parsed once per test binary.
type realResult struct {
	once sync.Once
	text []byte
	p    *parsed
	err  error
}

var realCache sync.Map // path -> *realResult

// loadReal returns the decompressed text of tr (read through OpenInput) and
// the result of parsing it straight from a second OpenInput stream.
func loadReal(t testing.TB, tr realTrace) ([]byte, *parsed) {
	t.Helper()
	x, _ := realCache.LoadOrStore(tr.path(), &realResult{})
	rr := x.(*realResult)
	rr.once.Do(func() {
		rc, comp, err := OpenInput(tr.path(), nil)
		if err != nil {
			rr.err = err
			return
		}
		rr.text, rr.err = io.ReadAll(rc)
		rc.Close()
		if rr.err != nil {
			return
		}
		if comp != "xz" {
			rr.err = fmt.Errorf("%s: compression %q, want xz", tr.path(), comp)
			return
		}
		rc, _, err = OpenInput(tr.path(), nil)
		if err != nil {
			rr.err = err
			return
		}
		defer rc.Close()
		tbl := ftrace.NewTable()
		st, err := Parse(context.Background(), rc, tr.name(), tbl, Options{})
		if err != nil {
			rr.err = err
			return
		}
		v, err := buildView(tbl)
		if err != nil {
			rr.err = err
			return
		}
		rr.p = &parsed{st: st, tbl: tbl, v: v}
	})
	if rr.err != nil {
		t.Fatalf("loading %s: %v", tr.path(), rr.err)
	}
	return rr.text, rr.p
}

// ---------------------------------------------------------------------------
// Naive line splitting, written independently of the parser: whitespace
// fields, the first field that looks like "[cpu]", then optional flags, the
// timestamp (the first field ending in ':' that is a number) and the event
// name. Used to derive expected counts and values from the input text.

type naiveLine struct {
	no     int64 // 1-based line number
	offset int64 // byte offset of the line
	text   string
	comm   string
	pid    int64
	tgid   string // as printed inside the parentheses, "" if none
	buffer string // trace-cmd instance/file prefix, "" if none
	cpu    int64
	flags  string
	ts     string // as printed, without the ':'
	system string // perf only
	name   string // as printed (system stripped)
	rest   string // text after "name:" with the padding spaces removed
}

var (
	reCPUField = regexp.MustCompile(`^\[\d+\]$`)
	reTSField  = regexp.MustCompile(`^\d+(\.\d+)?:$`)
	reNameTok  = regexp.MustCompile(`^[A-Za-z_][\w:]*:$`)
)

// naiveEvent splits an event line; ok is false for anything else.
func naiveEvent(line string, perf bool) (naiveLine, bool) {
	f := strings.Fields(line)
	ci := -1
	for i, x := range f {
		if reCPUField.MatchString(x) {
			ci = i
			break
		}
	}
	if ci < 1 || ci+2 >= len(f) {
		return naiveLine{}, false
	}
	var n naiveLine
	n.text = line
	n.cpu, _ = strconv.ParseInt(strings.Trim(f[ci], "[]"), 10, 64)
	if perf {
		ids := f[ci-1]
		if k := strings.IndexByte(ids, '/'); k >= 0 {
			n.tgid = ids[:k]
			ids = ids[k+1:]
		}
		pid, err := strconv.ParseInt(ids, 10, 64)
		if err != nil {
			return naiveLine{}, false
		}
		n.pid = pid
		n.comm = strings.Join(f[:ci-1], " ")
	} else {
		pre := f[:ci]
		if line[0] != ' ' && len(pre) > 1 && strings.HasSuffix(pre[0], ":") {
			// trace-cmd with several buffers: "instance: comm-pid [cpu] ..."
			n.buffer, pre = strings.TrimSuffix(pre[0], ":"), pre[1:]
		}
		if last := pre[len(pre)-1]; strings.HasSuffix(last, ")") {
			// "(   123)" splits into "(" and "123)"
			k := len(pre) - 1
			for k >= 0 && !strings.HasPrefix(pre[k], "(") {
				k--
			}
			if k < 0 {
				return naiveLine{}, false
			}
			n.tgid = strings.TrimSpace(strings.Trim(strings.Join(pre[k:], " "), "()"))
			pre = pre[:k]
		}
		cp := strings.Join(pre, " ")
		d := strings.LastIndexByte(cp, '-')
		if d < 0 {
			return naiveLine{}, false
		}
		pid, err := strconv.ParseInt(cp[d+1:], 10, 64)
		if err != nil {
			return naiveLine{}, false
		}
		n.comm, n.pid = cp[:d], pid
	}
	j := ci + 1
	if !reTSField.MatchString(f[j]) {
		n.flags = f[j]
		j++
	}
	if j+1 >= len(f) || !reTSField.MatchString(f[j]) || !reNameTok.MatchString(f[j+1]) {
		return naiveLine{}, false
	}
	n.ts = strings.TrimSuffix(f[j], ":")
	n.name = strings.TrimSuffix(f[j+1], ":")
	if perf {
		k := strings.LastIndexByte(n.name, ':')
		if k < 0 {
			return naiveLine{}, false
		}
		n.system, n.name = n.name[:k], n.name[k+1:]
	}
	// The payload: what follows "<ts>: <name>:" in the original line.
	at := strings.Index(line, f[j]+" ")
	at += len(f[j])
	rest := strings.TrimLeft(line[at:], " ")
	rest = rest[len(f[j+1]):]
	n.rest = strings.TrimLeft(rest, " ")
	return n, true
}

// lines splits text into lines with their numbers and offsets.
func splitLines(text []byte) []naiveLine {
	var out []naiveLine
	var off int64
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	no := int64(0)
	for sc.Scan() {
		no++
		l := sc.Text()
		out = append(out, naiveLine{no: no, offset: off, text: l})
		off += int64(len(l)) + 1
	}
	return out
}

// nsFromText converts a printed "sec.frac" timestamp to nanoseconds with
// math/big (an independent reference for ParseTimestamp).
func nsFromText(s string) int64 {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad timestamp " + s)
	}
	r.Mul(r, big.NewRat(1e9, 1))
	if !r.IsInt() {
		panic("timestamp finer than ns: " + s)
	}
	return r.Num().Int64()
}

// canonicalName is the event name the table uses for a printed name: the
// ftrace text shows trace_marker writes as "tracing_mark_write", the
// catalog event is "print" whatever the format.
func canonicalName(name string) string {
	if name == "tracing_mark_write" {
		return "print"
	}
	return name
}

// ---------------------------------------------------------------------------
// MANIFEST.md tables.

type manifest struct {
	counts map[string]map[string]int64 // column -> event -> count
	totals map[string]int64            // column -> "total lines"
	cpus   map[string]map[int64]manifestCPU
	// offsets from the "Clocks" section: first cpuhp_enter per recorder
	firstCPUHP map[string]string
}

type manifestCPU struct {
	lines       int64
	first, last string
}

var reCPUCell = regexp.MustCompile(`^(\d+) \((\d+\.\d+)\.\.(\d+\.\d+)\)$`)

func readManifest(t testing.TB, scenario string) *manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, scenario, "MANIFEST.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest{counts: map[string]map[string]int64{}, totals: map[string]int64{},
		cpus: map[string]map[int64]manifestCPU{}, firstCPUHP: map[string]string{}}
	cols := []string{"ftrace", "trace-cmd", "perf"}
	for _, c := range cols {
		m.counts[c] = map[string]int64{}
		m.cpus[c] = map[int64]manifestCPU{}
	}
	section := ""
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			section = strings.TrimPrefix(line, "## ")
			continue
		}
		if strings.HasPrefix(line, "- first 'cpuhp_enter:' line:") {
			re := regexp.MustCompile(`ftrace text (\d+\.\d+), trace-cmd (\d+\.\d+), perf (\d+\.\d+)`)
			if s := re.FindStringSubmatch(line); s != nil {
				m.firstCPUHP["ftrace"], m.firstCPUHP["trace-cmd"], m.firstCPUHP["perf"] = s[1], s[2], s[3]
			}
		}
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != 4 || cells[0] == "event" || cells[0] == "cpu" {
			continue
		}
		switch {
		case strings.HasPrefix(section, "Event counts"):
			for k, c := range cols {
				n, err := strconv.ParseInt(cells[k+1], 10, 64)
				if err != nil {
					t.Fatalf("MANIFEST %s: bad count %q", scenario, cells[k+1])
				}
				if cells[0] == "**total lines**" {
					m.totals[c] = n
				} else {
					m.counts[c][cells[0]] = n
				}
			}
		case strings.HasPrefix(section, "Lines per CPU"):
			cpu, err := strconv.ParseInt(cells[0], 10, 64)
			if err != nil {
				t.Fatalf("MANIFEST %s: bad cpu %q", scenario, cells[0])
			}
			for k, c := range cols {
				s := reCPUCell.FindStringSubmatch(cells[k+1])
				if s == nil {
					t.Fatalf("MANIFEST %s: bad per-CPU cell %q", scenario, cells[k+1])
				}
				n, _ := strconv.ParseInt(s[1], 10, 64)
				m.cpus[c][cpu] = manifestCPU{n, s[2], s[3]}
			}
		}
	}
	if len(m.counts["ftrace"]) == 0 || len(m.cpus["ftrace"]) == 0 || len(m.firstCPUHP) == 0 {
		t.Fatalf("MANIFEST %s: tables not found", scenario)
	}
	return m
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/arrowio"
	"github.com/irqtrace/irqtrace/ftrace"
)

// qemuHotplug is the whole qemu hotplug recording (hotplugFtrace is its
// first 3000 lines).
const qemuHotplug = "testdata/qemu-hotplug/ftrace.txt.xz"

// TestLifecycleGolden compares lifecycle's output on the real traces with
// goldens reviewed against the trace lines. JSON goldens keep the first
// three hotplug steps of each CPU (normaliseSteps); the steps' keys are
// checked on the full output by TestLifecycleJSONKeys.
func TestLifecycleGolden(t *testing.T) {
	chdirRoot(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"hotplug-ftrace.lifecycle", []string{"lifecycle", hotplugFtrace}},
		{"hotplug-ftrace.lifecycle-irq35-38", []string{"lifecycle", "--irq", "35", "--irq", "38", hotplugFtrace}},
		{"hotplug-ftrace.lifecycle-json-irq35-38", []string{"lifecycle", "--json", "--irq", "35", "--irq", "38", hotplugFtrace}},
		{"hotplug-ftrace.lifecycle-cpu3-steps", []string{"lifecycle", "--cpu", "3", "--steps", hotplugFtrace}},
		{"qemu-hotplug.lifecycle-irq35-38", []string{"lifecycle", "--irq", "35,38", qemuHotplug}},
		{"qemu-hotplug.lifecycle-json-irq35-38", []string{"lifecycle", "--json", "--irq", "35", "--irq", "38", qemuHotplug}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err != nil {
				t.Fatalf("irqtrace %s: %v", strings.Join(tc.args, " "), r.err)
			}
			if r.stderr != "" {
				t.Errorf("stderr %q", r.stderr)
			}
			out := r.stdout
			if strings.Contains(tc.golden, "-json") {
				var v map[string]any
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("--json output is not one JSON object: %v", err)
				}
				out = normaliseSteps(out)
				if err := json.Unmarshal([]byte(out), &v); err != nil {
					t.Fatalf("normalised JSON: %v", err)
				}
			}
			checkGolden(t, tc.golden+".golden", out)
		})
	}
}

// normaliseSteps keeps the first three elements of every "hotplug_steps"
// list of indented JSON and replaces the rest by one string saying how
// many were left out (the golden stays valid JSON, and small).
func normaliseSteps(s string) string {
	const keep = 3
	lines := strings.Split(s, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		out = append(out, l)
		if strings.TrimSpace(l) != `"hotplug_steps": [` {
			continue
		}
		indent := l[:len(l)-len(strings.TrimLeft(l, " "))] + "  "
		var elems [][]string
		i++
		for ; i < len(lines) && strings.HasPrefix(lines[i], indent); i++ {
			if lines[i] == indent+"{" {
				elems = append(elems, nil)
			}
			elems[len(elems)-1] = append(elems[len(elems)-1], lines[i])
		}
		for k, e := range elems[:min(keep, len(elems))] {
			if k == len(elems)-1 {
				e[len(e)-1] = strings.TrimSuffix(e[len(e)-1], ",")
			} else if !strings.HasSuffix(e[len(e)-1], ",") {
				e[len(e)-1] += ","
			}
			out = append(out, e...)
		}
		if len(elems) > keep {
			out = append(out, fmt.Sprintf("%s\"(%d more steps left out of the golden)\"", indent, len(elems)-keep))
		}
		i-- // the closing bracket
	}
	return strings.Join(out, "\n")
}

// TestLifecycleJSONKeys checks the keys the lifecycle JSON promises, on
// the whole qemu hotplug trace, and that lists are never null.
func TestLifecycleJSONKeys(t *testing.T) {
	chdirRoot(t)
	r := run(t, nil, "lifecycle", "--json", qemuHotplug)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var v struct {
		IRQs      []map[string]json.RawMessage `json:"irqs"`
		CPUs      []map[string]json.RawMessage `json:"cpus"`
		Anomalies []map[string]json.RawMessage `json:"anomalies"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.IRQs) == 0 || len(v.CPUs) != 4 || len(v.Anomalies) == 0 {
		t.Fatalf("%d irqs, %d cpus, %d anomalies", len(v.IRQs), len(v.CPUs), len(v.Anomalies))
	}
	has := func(what string, obj map[string]json.RawMessage, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s: key %q missing", what, k)
			}
		}
	}
	list := func(what string, raw json.RawMessage) []map[string]json.RawMessage {
		t.Helper()
		var l []map[string]json.RawMessage
		if string(raw) == "null" {
			t.Errorf("%s is null", what)
		}
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Errorf("%s: %v", what, err)
		}
		return l
	}
	var inferredNull, moves, steps int
	for _, q := range v.IRQs {
		has("irq", q, "irq", "name", "class", "assignments", "migrations", "handler_count")
		for _, a := range list("assignments", q["assignments"]) {
			has("assignment", a, "cpu", "vector", "start_ns", "end_ns", "end_reason")
		}
		for _, m := range list("migrations", q["migrations"]) {
			moves++
			has("migration", m, "ts_ns", "from_cpu", "from_vector", "to_cpu", "to_vector", "deferred", "inferred",
				"completed_ns", "completion")
			if string(m["inferred"]) == "true" && string(m["to_vector"]) == "null" {
				inferredNull++
			}
			switch c := string(m["completion"]); c {
			case `"free_moved"`, `"forced_offline"`, `"clear"`, `"never"`:
				if (c == `"never"`) != (string(m["completed_ns"]) == "null") {
					t.Errorf("completion %s with completed_ns %s", c, m["completed_ns"])
				}
			default:
				t.Errorf("completion %s", c)
			}
		}
	}
	for _, c := range v.CPUs {
		has("cpu", c, "cpu", "offline_intervals", "hotplug_steps")
		var ivs [][2]*int64
		if err := json.Unmarshal(c["offline_intervals"], &ivs); err != nil || ivs == nil {
			t.Errorf("offline_intervals %s: %v", c["offline_intervals"], err)
		}
		for _, s := range list("hotplug_steps", c["hotplug_steps"]) {
			steps++
			has("hotplug step", s, "ts_ns", "callback", "state", "run_on_cpu", "duration_ns", "ret")
		}
	}
	for _, a := range v.Anomalies {
		has("anomaly", a, "kind", "ts_ns", "line", "message")
	}
	if moves == 0 || inferredNull == 0 || steps == 0 {
		t.Errorf("%d migrations (%d inferred with to_vector null), %d steps", moves, inferredNull, steps)
	}
}

// timelineLine is one transition line of the text output.
type timelineLine struct {
	cpus, irq, text string
}

// timeline returns the transition lines of lifecycle's text output.
func timeline(t *testing.T, out string) []timelineLine {
	t.Helper()
	_, rest, ok := strings.Cut(out, "\ntimeline (")
	if !ok {
		t.Fatal("no timeline section")
	}
	rest, _, _ = strings.Cut(rest, "\n\nanomalies")
	var ls []timelineLine
	for _, l := range strings.Split(rest, "\n")[4:] { // count, 2 legend lines, column header
		// time, [cpus], [irq N], what..., line N
		f := strings.Fields(l)
		if len(f) < 5 {
			t.Fatalf("short timeline line %q", l)
		}
		tl, i := timelineLine{text: l}, 1
		if f[i] != "irq" {
			tl.cpus, i = f[i], i+1
		}
		if f[i] == "irq" {
			tl.irq = f[i+1]
		}
		if !strings.Contains(l, "  line ") {
			t.Errorf("no line reference: %q", l)
		}
		ls = append(ls, tl)
	}
	return ls
}

// TestLifecycleFilters checks --irq and --cpu on the qemu hotplug trace,
// in the text and in the JSON output.
func TestLifecycleFilters(t *testing.T) {
	chdirRoot(t)
	var all struct {
		IRQs []analysis.IRQ `json:"irqs"`
	}
	r := run(t, nil, "lifecycle", "--json", qemuHotplug)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatal(err)
	}
	used := map[string][]string{} // irq -> CPUs it used
	for _, q := range all.IRQs {
		n := strconv.Itoa(int(q.IRQ))
		add := func(c *int32) {
			if c != nil && !slices.Contains(used[n], strconv.Itoa(int(*c))) {
				used[n] = append(used[n], strconv.Itoa(int(*c)))
			}
		}
		for _, a := range q.Assignments {
			add(a.CPU)
		}
		for _, m := range q.Migrations {
			add(&m.FromCPU)
			add(m.ToCPU)
		}
	}
	cpusOf := func(col string) []string { return strings.FieldsFunc(col, func(r rune) bool { return r == '>' }) }

	t.Run("text --irq", func(t *testing.T) {
		r := run(t, nil, "lifecycle", "--irq", "35", qemuHotplug)
		if r.err != nil {
			t.Fatal(r.err)
		}
		ls := timeline(t, r.stdout)
		var cpuEvents int
		for _, l := range ls {
			switch {
			case l.irq == "":
				cpuEvents++
				if !slices.Contains(used["35"], l.cpus) {
					t.Errorf("CPU event of a CPU irq 35 did not use: %q", l.text)
				}
			case l.irq != "35":
				t.Errorf("transition of another irq: %q", l.text)
			}
		}
		if cpuEvents == 0 || len(ls) == cpuEvents {
			t.Errorf("%d lines, %d CPU events", len(ls), cpuEvents)
		}
	})
	t.Run("text --cpu", func(t *testing.T) {
		r := run(t, nil, "lifecycle", "--cpu", "2", "--steps", qemuHotplug)
		if r.err != nil {
			t.Fatal(r.err)
		}
		irqs := map[string]bool{}
		for _, l := range timeline(t, r.stdout) {
			if !slices.Contains(cpusOf(l.cpus), "2") {
				t.Errorf("transition not touching CPU 2: %q", l.text)
			}
			irqs[l.irq] = true
		}
		if len(irqs) < 3 {
			t.Errorf("irqs shown: %v", irqs)
		}
	})
	t.Run("text --irq --cpu", func(t *testing.T) {
		r := run(t, nil, "lifecycle", "--irq", "38", "--cpu", "1", qemuHotplug)
		if r.err != nil {
			t.Fatal(r.err)
		}
		ls := timeline(t, r.stdout)
		for _, l := range ls {
			if l.irq != "" && l.irq != "38" || !slices.Contains(cpusOf(l.cpus), "1") {
				t.Errorf("line outside --irq 38 --cpu 1: %q", l.text)
			}
		}
		if len(ls) == 0 {
			t.Error("nothing shown")
		}
	})
	t.Run("json", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			irqs []int32 // nil: do not check
			cpus []int32
		}{
			{[]string{"--irq", "35"}, []int32{35}, []int32{1, 2, 3}},
			{[]string{"--irq", "38", "--irq", "35"}, []int32{35, 38}, []int32{0, 1, 2, 3}},
			{[]string{"--cpu", "0"}, nil, []int32{0}},
			{[]string{"--irq", "26", "--cpu", "1"}, []int32{26}, []int32{1}},
			{[]string{"--irq", "26", "--cpu", "3"}, []int32{}, []int32{}},
		} {
			r := run(t, nil, append(append([]string{"lifecycle", "--json"}, tc.args...), qemuHotplug)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			var v struct {
				IRQs      []analysis.IRQ     `json:"irqs"`
				CPUs      []analysis.CPU     `json:"cpus"`
				Anomalies []analysis.Anomaly `json:"anomalies"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Fatal(err)
			}
			var irqs, cpus []int32
			for _, q := range v.IRQs {
				irqs = append(irqs, q.IRQ)
			}
			for _, c := range v.CPUs {
				cpus = append(cpus, c.CPU)
			}
			if tc.irqs != nil && !slices.Equal(irqs, tc.irqs) || !slices.Equal(cpus, tc.cpus) {
				t.Errorf("%v: irqs %v cpus %v, want %v %v", tc.args, irqs, cpus, tc.irqs, tc.cpus)
			}
			if tc.irqs == nil { // --cpu only: every irq used the CPU
				for _, q := range irqs {
					if !slices.Contains(used[strconv.Itoa(int(q))], "0") {
						t.Errorf("%v: irq %d never used CPU 0", tc.args, q)
					}
				}
				if len(irqs) == 0 {
					t.Errorf("%v: no irq", tc.args)
				}
			}
			for _, a := range v.Anomalies {
				if tc.irqs != nil && (a.IRQ == nil || !slices.Contains(tc.irqs, *a.IRQ)) || !slices.Contains(tc.cpus, a.CPU) {
					t.Errorf("%v: anomaly outside the filter: %+v", tc.args, a)
				}
			}
		}
	})
}

func TestLifecycleErrors(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(junk, []byte{0, 1, 2, 3, 0xff, 0xfe, 0, 0, 7}, 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"two files", []string{"lifecycle", hotplugFtrace, qemuHotplug}, 2, "give one FILE"},
		{"no file", []string{"lifecycle"}, 2, "no input files"},
		{"negative irq", []string{"lifecycle", "--irq", "-1", hotplugFtrace}, 2, "--irq"},
		{"bad irq", []string{"lifecycle", "--irq", "x", hotplugFtrace}, 2, "--irq"},
		{"negative cpu", []string{"lifecycle", "--cpu", "-3", hotplugFtrace}, 2, "--cpu"},
		{"empty file", []string{"lifecycle", empty}, 1, "empty"},
		{"binary file", []string{"lifecycle", "--json", junk}, 1, "binary"},
		{"missing file", []string{"lifecycle", filepath.Join(dir, "nosuch")}, 1, "no such file"},
		{"strict bad line", []string{"lifecycle", "--strict", badLine}, 1, "badline.ftrace:19"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err == nil {
				t.Fatalf("no error; stdout:\n%.300s", r.stdout)
			}
			if c := exitCode(r.err); c != tc.code {
				t.Errorf("exit status %d, want %d (%v)", c, tc.code, r.err)
			}
			if msg := r.err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty:\n%.300s", r.stdout)
			}
		})
	}
	// The real main prints one line and exits 1 (2 for usage errors).
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"lifecycle", empty}, 1},
		{[]string{"lifecycle", hotplugFtrace, qemuHotplug}, 2},
	} {
		stdout, stderr, code := runMain(t, tc.args...)
		if code != tc.code || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "irqtrace: ") {
			t.Errorf("irqtrace %s: exit %d, stdout %q, stderr %q", strings.Join(tc.args, " "), code, stdout, stderr)
		}
	}
	// A lenient run over a trace with bad lines reports them on stderr.
	r := run(t, nil, "lifecycle", badLine)
	if r.err != nil || !strings.Contains(r.stderr, "2 problem lines skipped") || !strings.HasPrefix(r.stdout, "file ") {
		t.Errorf("lifecycle %s: %v, stderr %q", badLine, r.err, r.stderr)
	}
}

// TestConvertModel checks convert --model: every model table is written
// next to OUT, reads back, and holds as many rows as the models built
// from the same inputs have entries, with the file column and line
// references set and nulls where the model does not know a value.
func TestConvertModel(t *testing.T) {
	chdirRoot(t)
	inputs := []string{hotplugFtrace, hotplugPerf}
	// The models, built as lifecycle builds them.
	var models []*analysis.Model
	for _, in := range inputs {
		tb := ftrace.NewTable()
		p, err := parseInput(context.Background(), in, Options{}, tb)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := tb.Records()
		if err != nil {
			t.Fatal(err)
		}
		m, err := buildModel(recs, p.stats)
		tb.Release()
		if err != nil {
			t.Fatal(err)
		}
		models = append(models, m)
	}
	want := map[string]int64{}
	var nullToVector int64
	for _, m := range models {
		want["irqs"] += int64(len(m.IRQs))
		for _, q := range m.IRQs {
			want["assignments"] += int64(len(q.Assignments))
			want["migrations"] += int64(len(q.Migrations))
			for _, mg := range q.Migrations {
				if mg.ToVector == nil {
					nullToVector++
				}
			}
		}
		for _, c := range m.CPUs {
			want["hotplug_steps"] += int64(len(c.HotplugSteps))
		}
		want["handlers"] += int64(len(m.Handlers) + len(m.Sysvecs))
		want["ipis"] += int64(len(m.IPIs))
		want["slots"] += int64(len(m.Slots))
	}
	if want["migrations"] == 0 || want["hotplug_steps"] == 0 || want["handlers"] == 0 || nullToVector == 0 {
		t.Fatalf("the inputs lack model rows: %v, %d null to_vector", want, nullToVector)
	}

	// Tables releases everything it builds.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	tables, err := analysis.Tables(models, mem)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if got := tb.Record.NumRows(); got != want[tb.Name] {
			t.Errorf("analysis.Tables: %s has %d rows, want %d", tb.Name, got, want[tb.Name])
		}
		tb.Record.Release()
	}
	mem.AssertSize(t, 0)

	for _, ext := range []string{".parquet", ".arrow"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "out"+ext)
			r := run(t, nil, append([]string{"convert", "--model", "-o", out}, inputs...)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if n := strings.Count(r.stderr, "irqtrace: wrote "); n != 1+len(analysis.TableNames()) {
				t.Errorf("stderr has %d 'wrote' lines:\n%s", n, r.stderr)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1+len(analysis.TableNames()) {
				t.Errorf("%s holds %d files, want %d", dir, len(ents), 1+len(analysis.TableNames()))
			}
			for _, name := range analysis.TableNames() {
				path := filepath.Join(dir, "out."+name+ext)
				if !strings.Contains(r.stderr, "wrote "+path+" (") {
					t.Errorf("stderr does not report %s", path)
				}
				schema, recs, err := arrowio.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				var rows int64
				files := map[string]bool{}
				for _, rec := range recs {
					rows += rec.NumRows()
					for _, f := range stringColumn(t, rec, "file") {
						files[f] = true
					}
					if name == "migrations" {
						nulls := int64(rec.Column(schema.FieldIndices("to_vector")[0]).NullN())
						if nulls != nullToVector {
							t.Errorf("migrations: %d null to_vector, want %d", nulls, nullToVector)
						}
						lines := rec.Column(schema.FieldIndices("line")[0])
						if lines.NullN() != 0 {
							t.Errorf("migrations: %d rows without a line", lines.NullN())
						}
					}
					rec.Release()
				}
				if rows != want[name] {
					t.Errorf("%s: %d rows, want %d", path, rows, want[name])
				}
				if rows > 0 && len(files) != len(inputs) && name != "ipis" && name != "slots" {
					t.Errorf("%s: file column holds %v, want %v", path, files, inputs)
				}
				if v, _ := schema.Metadata().GetValue("irqtrace.table"); v != name {
					t.Errorf("%s: irqtrace.table = %q", path, v)
				}
			}
		})
	}

	// A failed convert --model leaves nothing behind.
	dir := t.TempDir()
	if r := run(t, nil, "convert", "--model", "--strict", hotplugFtrace, badLine, "-o", filepath.Join(dir, "out.parquet")); r.err == nil {
		t.Fatal("no error")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%s holds %v after a failed convert --model", dir, ents)
	}
}

// stringColumn returns the values of a dictionary-encoded string column.
func stringColumn(t *testing.T, rec arrow.RecordBatch, name string) []string {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s", name)
	}
	d, ok := rec.Column(idx[0]).(*array.Dictionary)
	if !ok {
		t.Fatalf("column %s is %T", name, rec.Column(idx[0]))
	}
	dict := d.Dictionary().(*array.String)
	out := make([]string, d.Len())
	for i := range out {
		out[i] = dict.Value(d.GetValueIndex(i))
	}
	return out
}

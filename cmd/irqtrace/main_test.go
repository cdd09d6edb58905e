package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/irqtrace/irqtrace/arrowio"
	"github.com/irqtrace/irqtrace/parse"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMain runs main itself when the test binary is started by
// runMain, so that the exit status and stderr of the real main are tested.
func TestMain(m *testing.M) {
	if os.Getenv("IRQTRACE_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const cliDir = "testdata/cli"

// Real inputs, relative to the repository root (tests chdir there so
// that paths in the output are the ones a user types).
const (
	hotplugFtrace = cliDir + "/hotplug.ftrace.xz"
	hotplugTC     = cliDir + "/hotplug.tcreport.xz"
	hotplugPerf   = cliDir + "/hotplug.perfscript.xz"
	overflowLost  = cliDir + "/overflow-lost.ftrace"
	lostPipe      = cliDir + "/lost.tracepipe.gz"
	x86tsc        = cliDir + "/x86tsc.ftrace"
	badLine       = cliDir + "/badline.ftrace"
)

func chdirRoot(t *testing.T) {
	t.Helper()
	t.Chdir("../..")
}

type result struct {
	stdout, stderr string
	err            error
}

// run executes the root command as main does, in process.
func run(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	cmd.SetArgs(args)
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	cmd.SetIn(stdin)
	err := cmd.Execute()
	return result{out.String(), errb.String(), err}
}

// runMain executes the real main in a child process and returns its
// stdout, stderr and exit status.
func runMain(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "IRQTRACE_TEST_MAIN=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// checkGolden compares got with testdata/cli/name, or rewrites it under
// -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(cliDir, name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/irqtrace -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s differs from the output at line %d:\n got: %q\nwant: %q\n(review, then rewrite with -update)", path, i+1, g, w)
			return
		}
	}
}

func TestGolden(t *testing.T) {
	chdirRoot(t)
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		{"hotplug-ftrace.stats", []string{"stats", hotplugFtrace}},
		{"hotplug-ftrace.stats-json", []string{"stats", "--json", hotplugFtrace}},
		{"hotplug-tcreport.stats", []string{"stats", hotplugTC}},
		{"hotplug-perfscript.stats", []string{"stats", hotplugPerf}},
		{"hotplug-all.stats", []string{"stats", hotplugFtrace, hotplugTC, hotplugPerf}},
		{"hotplug-all.stats-json", []string{"stats", "--json", hotplugFtrace, hotplugTC, hotplugPerf}},
		{"overflow-lost.stats", []string{"stats", overflowLost}},
		{"overflow-lost.stats-json", []string{"stats", "--json", overflowLost}},
		{"lost-tracepipe.stats", []string{"stats", lostPipe}},
		{"x86tsc.stats-clock", []string{"stats", "--clock", "x86-tsc", x86tsc}},
		{"badline.stats", []string{"stats", badLine}},
		{"badline.stats-json", []string{"stats", "--json", badLine}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err != nil {
				t.Fatalf("irqtrace %s: %v", strings.Join(tc.args, " "), r.err)
			}
			checkGolden(t, tc.golden+".golden", r.stdout)
			// stderr has a golden only when it is not empty.
			errGolden := tc.golden + ".stderr.golden"
			_, err := os.Stat(filepath.Join(cliDir, errGolden))
			switch {
			case r.stderr != "" || err == nil && !*update:
				checkGolden(t, errGolden, r.stderr)
			case *update && err == nil:
				os.Remove(filepath.Join(cliDir, errGolden))
			}
			if strings.HasSuffix(tc.golden, "-json") {
				checkJSON(t, r.stdout)
			}
		})
	}
}

// checkJSON checks the keys the stats JSON promises and its accounting.
func checkJSON(t *testing.T, out string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("stats --json output is not one JSON object: %v", err)
	}
	for _, k := range []string{"format", "lines", "events", "event_counts", "non_event_lines", "problems",
		"problem_samples", "lost_markers", "cpus", "first_ts_ns", "last_ts_ns"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
	var st parse.Stats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "lines", "events", "event_counts", "non_event_lines", "problems",
		"problem_samples", "lost_markers", "cpus"} {
		if string(m[k]) == "null" {
			t.Errorf("key %q is null", k)
		}
	}
	// The time span is null exactly when there are no events.
	if (string(m["first_ts_ns"]) == "null") != (st.Events == 0) || (string(m["last_ts_ns"]) == "null") != (st.Events == 0) {
		t.Errorf("first_ts_ns %s, last_ts_ns %s with %d events", m["first_ts_ns"], m["last_ts_ns"], st.Events)
	}
	all := append([]*parse.Stats{&st}, st.Files...)
	for _, s := range all {
		if s.Lines != s.Events+s.NonEventLines+s.Problems {
			t.Errorf("%s: lines %d != events %d + non-event %d + problems %d", s.File, s.Lines, s.Events, s.NonEventLines, s.Problems)
		}
		var sum, cpuSum, kinds int64
		for _, n := range s.EventCounts {
			sum += n
		}
		for _, c := range s.CPUs {
			cpuSum += c.Events
		}
		for _, n := range s.NonEventKinds {
			kinds += n
		}
		if sum != s.Events || cpuSum != s.Events {
			t.Errorf("%s: events %d, sum of event_counts %d, sum over cpus %d", s.File, s.Events, sum, cpuSum)
		}
		if kinds != s.NonEventLines {
			t.Errorf("%s: non_event_lines %d, sum of non_event_kinds %d", s.File, s.NonEventLines, kinds)
		}
		if len(s.ProblemSamples) != int(min(s.Problems, parse.MaxSamples)) {
			t.Errorf("%s: %d problem samples for %d problems", s.File, len(s.ProblemSamples), s.Problems)
		}
	}
}

// TestStdinAndCompression checks that "-" and every compression give the
// same stats as the file itself.
func TestStdinAndCompression(t *testing.T) {
	chdirRoot(t)
	want := run(t, nil, "stats", hotplugFtrace)
	if want.err != nil {
		t.Fatal(want.err)
	}
	compressed, err := os.ReadFile(hotplugFtrace)
	if err != nil {
		t.Fatal(err)
	}
	rc, _, err := parse.OpenInput(hotplugFtrace, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()

	dir := t.TempDir()
	for _, tc := range []struct {
		name, comp string
		data       []byte
		stdin      bool
	}{
		{"stdin xz", "xz", compressed, true},
		{"stdin plain", "", plain, true},
		{"plain", "", plain, false},
		{"gzip", "gzip", gz.Bytes(), false},
		{"zstd", "zstd", zs.Bytes(), false},
		{"stdin zstd", "zstd", zs.Bytes(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arg, name := "-", stdinName
			var stdin io.Reader = bytes.NewReader(tc.data)
			if !tc.stdin {
				arg = filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
				name = arg
				if err := os.WriteFile(arg, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
				stdin = nil
			}
			r := run(t, stdin, "stats", arg)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if tc.comp != "" {
				name += " (" + tc.comp + ")"
			}
			w := strings.Replace(want.stdout, hotplugFtrace+" (xz)", name, 1)
			if r.stdout != w {
				t.Errorf("output differs from that of %s:\n%s", hotplugFtrace, r.stdout)
			}
		})
	}
}

// TestBadInput checks inputs that are not traces: each is a failure
// (exit status 1) with a one-line error, never a panic or a hang.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i * 7919 >> 3)
	}
	long := bytes.Repeat([]byte("x"), 3<<20)
	files := map[string][]byte{
		"empty":  nil,
		"blank":  []byte("\n\n  \n"),
		"binary": junk,
		"json":   []byte(`{"traceEvents": [{"name": "irq", "ph": "X", "ts": 1}]}` + "\n"),
		"text":   []byte("hello\nthis is not a trace\n"),
		"long":   long,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string // substring of the error
	}{
		{"empty file", []string{"stats", filepath.Join(dir, "empty")}, "empty"},
		{"blank file", []string{"stats", filepath.Join(dir, "blank")}, "empty"},
		{"binary junk", []string{"stats", filepath.Join(dir, "binary")}, "binary"},
		{"JSON document", []string{"stats", filepath.Join(dir, "json")}, "JSON"},
		{"JSON --json", []string{"stats", "--json", filepath.Join(dir, "json")}, "JSON"},
		{"plain text", []string{"stats", filepath.Join(dir, "text")}, "expected"},
		{"one huge line", []string{"stats", filepath.Join(dir, "long")}, "expected"},
		{"missing file", []string{"stats", filepath.Join(dir, "nosuch")}, "no such file"},
		{"directory", []string{"stats", dir}, "directory"},
		{"convert empty", []string{"convert", filepath.Join(dir, "empty"), "-o", filepath.Join(dir, "out.parquet")}, "empty"},
		{"empty stdin", []string{"stats", "-"}, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err == nil {
				t.Fatalf("no error; stdout:\n%s", r.stdout)
			}
			if c := exitCode(r.err); c != 1 {
				t.Errorf("exit status %d, want 1", c)
			}
			msg := r.err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, tc.want) {
				t.Errorf("error %q: want one line containing %q", msg, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty:\n%s", r.stdout)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.parquet")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed convert left out.parquet: %v", err)
	}
}

func TestStrict(t *testing.T) {
	chdirRoot(t)
	r := run(t, nil, "stats", "--strict", badLine)
	if r.err == nil {
		t.Fatal("--strict accepted a bad line")
	}
	var se *parse.SyntaxError
	if !errors.As(r.err, &se) || se.Line != 19 || exitCode(r.err) != 1 {
		t.Errorf("error %v (line %d), exit %d: want the line 19 SyntaxError, exit 1", r.err, se.Line, exitCode(r.err))
	}
	if r.stdout != "" || strings.Contains(r.err.Error(), "\n") {
		t.Errorf("stdout %q, error %q", r.stdout, r.err)
	}
	// A clean file passes --strict.
	if r := run(t, nil, "stats", "--strict", hotplugFtrace); r.err != nil {
		t.Errorf("--strict on a clean trace: %v", r.err)
	}
}

func TestUsageErrors(t *testing.T) {
	chdirRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no command", nil, "missing command"},
		{"unknown command", []string{"stat", hotplugFtrace}, `unknown command "stat"`},
		{"unknown flag", []string{"stats", "--bogus", hotplugFtrace}, "--bogus"},
		{"no files", []string{"stats"}, "no input files"},
		{"bad format", []string{"stats", "--format", "csv", hotplugFtrace}, "--format"},
		{"bad clock", []string{"stats", "--clock", "a b", hotplugFtrace}, "--clock"},
		{"stdin twice", []string{"stats", "-", "-"}, "standard input"},
		{"convert no output", []string{"convert", hotplugFtrace}, "-o"},
		{"convert bad extension", []string{"convert", hotplugFtrace, "-o", "out.csv"}, `".csv"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, tc.args...)
			if r.err == nil {
				t.Fatal("no error")
			}
			if c := exitCode(r.err); c != 2 {
				t.Errorf("exit status %d, want 2 (error %v)", c, r.err)
			}
			if !strings.Contains(r.err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", r.err, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty:\n%s", r.stdout)
			}
		})
	}
	if _, err := os.Stat("out.csv"); err == nil {
		t.Error("out.csv was created")
	}
}

func TestFormatFlag(t *testing.T) {
	chdirRoot(t)
	r := run(t, nil, "stats", "--format", "trace-cmd", "--json", hotplugTC)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !strings.Contains(r.stdout, `"format": "trace-cmd"`) {
		t.Errorf("forced format not reported:\n%.300s", r.stdout)
	}
	// Forcing perf-script on ftrace text makes every event line a problem.
	r = run(t, nil, "stats", "--format", "perf-script", "--json", overflowLost)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkJSON(t, r.stdout)
}

// TestMainExit runs the real main: errors are printed once, prefixed
// "irqtrace: ", with exit status 1 for failures and 2 for usage errors.
func TestMainExit(t *testing.T) {
	chdirRoot(t)
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"stats", hotplugFtrace}, 0},
		{[]string{"stats", empty}, 1},
		{[]string{"stats", "--strict", badLine}, 1},
		{[]string{"stats", "nosuch.txt"}, 1},
		{[]string{"stats", "--format", "x", hotplugFtrace}, 2},
		{[]string{"frobnicate"}, 2},
	} {
		stdout, stderr, code := runMain(t, tc.args...)
		if code != tc.code {
			t.Errorf("irqtrace %s: exit status %d, want %d; stderr %q", strings.Join(tc.args, " "), code, tc.code, stderr)
		}
		if tc.code == 0 {
			if stderr != "" || stdout == "" {
				t.Errorf("irqtrace %s: stderr %q", strings.Join(tc.args, " "), stderr)
			}
			continue
		}
		if !strings.HasPrefix(stderr, "irqtrace: ") || strings.Count(stderr, "\n") != 1 || strings.Count(stderr, "irqtrace: ") != 1 {
			t.Errorf("irqtrace %s: stderr %q, want one line \"irqtrace: ...\"", strings.Join(tc.args, " "), stderr)
		}
		if stdout != "" {
			t.Errorf("irqtrace %s: stdout %q", strings.Join(tc.args, " "), stdout)
		}
	}
}

func TestConvert(t *testing.T) {
	chdirRoot(t)
	inputs := []string{hotplugFtrace, hotplugTC, hotplugPerf, badLine}
	var wantRows int64
	var want []fileMeta
	for _, in := range inputs {
		r := run(t, nil, "stats", "--json", in)
		if r.err != nil {
			t.Fatal(r.err)
		}
		var st parse.Stats
		if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
			t.Fatal(err)
		}
		wantRows += st.Events
		want = append(want, fileMeta{in, st.Format, st.Clock, st.Unit, st.Lines, st.Events})
	}
	for _, ext := range []string{".parquet", ".arrow"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "events"+ext)
			r := run(t, nil, append([]string{"convert", "-o", out}, inputs...)...)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
			fi, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			format := strings.TrimPrefix(ext, ".")
			summary := regexp.MustCompile(`^irqtrace: wrote (.*) \((\w+)\): (\d+) rows, (\d+) columns, (\d+) bytes\n`).FindStringSubmatch(r.stderr)
			if summary == nil || summary[1] != out || summary[2] != format || summary[3] != itoa(wantRows) || summary[5] != itoa(fi.Size()) {
				t.Errorf("stderr %q, want the summary of %s: %d rows, %d bytes", r.stderr, out, wantRows, fi.Size())
			}
			if !strings.Contains(r.stderr, "2 problem lines skipped") {
				t.Errorf("stderr %q does not count the problem lines", r.stderr)
			}
			schema, recs, err := arrowio.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var rows int64
			for _, rec := range recs {
				rows += rec.NumRows()
				rec.Release()
			}
			if rows != wantRows || summary != nil && itoa(int64(schema.NumFields())) != summary[4] {
				t.Errorf("read back %d rows, %d columns; want %d rows", rows, schema.NumFields(), wantRows)
			}
			meta, ok := schema.Metadata().GetValue("irqtrace.files")
			if !ok {
				t.Fatal("no irqtrace.files metadata")
			}
			var got []fileMeta
			if err := json.Unmarshal([]byte(meta), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("irqtrace.files = %s", meta)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Errorf("irqtrace.files[%d] = %+v, want %+v", i, got[i], want[i])
				}
			}
			for _, k := range []string{`"file"`, `"format"`, `"clock"`, `"unit"`, `"lines"`, `"events"`} {
				if !strings.Contains(meta, k) {
					t.Errorf("irqtrace.files lacks key %s: %s", k, meta)
				}
			}
		})
	}
}

// TestConvertFailureLeavesNoFile checks the atomic write end to end: a
// convert that fails leaves nothing under the output name (and no
// temporary file), and keeps a file that was there before.
func TestConvertFailureLeavesNoFile(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		out  string
	}{
		{"output directory missing", []string{"convert", hotplugFtrace}, filepath.Join(dir, "nodir", "events.parquet")},
		{"strict on a bad line", []string{"convert", "--strict", hotplugFtrace, badLine}, filepath.Join(dir, "events.parquet")},
		{"strict, arrow", []string{"convert", "--strict", badLine}, filepath.Join(dir, "events.arrow")},
		{"second input missing", []string{"convert", hotplugFtrace, "nosuch.txt"}, filepath.Join(dir, "events.arrow")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, append(tc.args, "-o", tc.out)...)
			if r.err == nil || exitCode(r.err) != 1 {
				t.Fatalf("error %v, want a failure (exit 1)", r.err)
			}
			if _, err := os.Stat(tc.out); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after a failed convert (%v)", tc.out, err)
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 0 {
				t.Errorf("%s holds %v after a failed convert", dir, ents)
			}
		})
	}
	// An existing output survives a failed convert.
	out := filepath.Join(dir, "keep.parquet")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "convert", "--strict", badLine, "-o", out); r.err == nil {
		t.Fatal("no error")
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Errorf("existing output changed to %q", b)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

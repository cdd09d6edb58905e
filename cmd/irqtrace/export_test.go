package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/pprof/profile"
)

// TestExport writes both formats in one run and checks the files and the
// stderr report.
func TestExport(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	pp, pf := filepath.Join(dir, "irq.pb.gz"), filepath.Join(dir, "irq.pftrace")
	r := run(t, nil, "export", hotplugFtrace, "--pprof", pp, "--perfetto", pf)
	if r.err != nil {
		t.Fatalf("export: %v\n%s", r.err, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	for _, want := range []string{"wrote " + pp + " (pprof profile): ", "wrote " + pf + " (Perfetto trace): "} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	f, err := os.Open(pp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := profile.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Sample) == 0 || p.Mapping[0].File != "hotplug.ftrace.xz" {
		t.Errorf("profile: %d samples, file %q", len(p.Sample), p.Mapping[0].File)
	}
	if fi, err := os.Stat(pf); err != nil || fi.Size() == 0 {
		t.Errorf("perfetto output: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestExportUsage(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "x")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", hotplugFtrace}, "nothing to write"},
		{[]string{"export", "--pprof", out}, "no input files"},
		{[]string{"export", hotplugFtrace, overflowLost, "--pprof", out}, "give one FILE"},
		{[]string{"export", hotplugFtrace, "--pprof", out, "--perfetto", out}, "--perfetto: "},
		{[]string{"export", hotplugFtrace, "--pprof", out, "--perfetto-no-handlers"}, "--perfetto-no-handlers"},
	} {
		r := run(t, nil, c.args...)
		var u *usageError
		if !errors.As(r.err, &u) || !strings.Contains(r.err.Error(), c.want) {
			t.Errorf("%v: error %v, want a usage error with %q", c.args, r.err, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: wrote %s", c.args, out)
		}
	}
}

// TestExportAtomic: when one output cannot be written, neither appears
// and no temporary file is left.
func TestExportAtomic(t *testing.T) {
	chdirRoot(t)
	dir := t.TempDir()
	pp := filepath.Join(dir, "irq.pb.gz")
	bad := filepath.Join(dir, "missing-dir", "irq.pftrace")
	r := run(t, nil, "export", hotplugFtrace, "--pprof", pp, "--perfetto", bad)
	if r.err == nil || !strings.Contains(r.err.Error(), "writing "+bad) {
		t.Fatalf("error %v, want one naming %s", r.err, bad)
	}
	if exitCode(r.err) != 1 {
		t.Errorf("exit status %d, want 1", exitCode(r.err))
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the output directory: %v", ents)
	}
}

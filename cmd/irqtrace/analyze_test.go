package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestAnalyzeFailOn: --fail-on maps findings to the exit status (3), and
// only for findings at or above the asked severity.
func TestAnalyzeFailOn(t *testing.T) {
	chdirRoot(t)
	const torn = "testdata/scenario/torn-slot.ftrace.xz"
	const clean = "testdata/qemu-hotplug/ftrace.txt.xz"
	for _, c := range []struct {
		name string
		args []string
		code int
	}{
		{"torn error", []string{"analyze", "--fail-on", "error", torn}, 3},
		{"torn warning", []string{"analyze", "--fail-on", "warning", torn}, 3},
		{"clean warning", []string{"analyze", "--fail-on", "warning", clean}, 0},
		{"no fail-on", []string{"analyze", torn}, 0},
		{"bad severity", []string{"analyze", "--fail-on", "info", torn}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, nil, c.args...)
			code := 0
			if r.err != nil {
				code = exitCode(r.err)
			}
			if code != c.code {
				t.Errorf("exit %d (%v), want %d", code, r.err, c.code)
			}
		})
	}
}

// TestAnalyzeJSON: the keys the issue promises, and the torn-slot finding
// citing the printk line of the generated trace.
func TestAnalyzeJSON(t *testing.T) {
	chdirRoot(t)
	r := run(t, nil, "analyze", "--json", "testdata/scenario/torn-slot.ftrace.xz")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var out struct {
		Summary  map[string]any   `json:"summary"`
		Findings []map[string]any `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	if out.Summary == nil || out.Summary["events"] == nil {
		t.Fatalf("summary = %v", out.Summary)
	}
	found := false
	for _, f := range out.Findings {
		for _, k := range []string{"rule", "severity", "evidence", "ts_ns", "cpu", "irq", "vector", "message", "lines"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %q: %v", k, f)
			}
		}
		if f["rule"] == "spurious-vector" && f["severity"] == "error" {
			found = true
			lines, _ := f["lines"].([]any)
			if len(lines) == 0 || !strings.HasSuffix(lines[0].(string), ":3794") {
				t.Errorf("torn finding cites %v, want the printk line 3794 first", lines)
			}
		}
	}
	if !found {
		t.Error("no spurious-vector error on the torn-slot trace")
	}
	// Several files: one object with files.
	r = run(t, nil, "analyze", "--json", "testdata/scenario/torn-slot.ftrace.xz", "testdata/qemu-managed/ftrace.txt.xz")
	if r.err != nil {
		t.Fatal(r.err)
	}
	var multi map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &multi); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"summary", "findings", "files"} {
		if _, ok := multi[k]; !ok {
			t.Errorf("multi-file JSON lacks %q", k)
		}
	}
}

// TestRulesCommand lists every rule with its documentation.
func TestRulesCommand(t *testing.T) {
	r := run(t, nil, "rules")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, id := range []string{"spurious-vector", "unhandled-irq", "irr-retrigger", "lost-interrupt",
		"move-never-completed", "ipi-unanswered", "hotplug-lost-wakeup", "trace-data-loss"} {
		if !strings.Contains(r.stdout, id+": ") {
			t.Errorf("rules output lacks %s", id)
		}
	}
	for _, k := range []string{"detects:", "evidence:", "thresholds:", "false positives:"} {
		if strings.Count(r.stdout, k) != 8 {
			t.Errorf("%q appears %d times, want 8", k, strings.Count(r.stdout, k))
		}
	}
}

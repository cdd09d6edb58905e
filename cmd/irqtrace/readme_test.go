package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADME checks that the README's example output of stats, lifecycle
// and analyze is still what irqtrace prints: for each example block with a
// single "$ ... irqtrace stats|lifecycle ..." command, the block's lines
// (but "...") must appear in the real output, in order.
func TestREADME(t *testing.T) {
	chdirRoot(t)
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(b), "```")
	checked := 0
	for i := 1; i < len(blocks); i += 2 {
		lines := strings.Split(strings.TrimPrefix(blocks[i], "\n"), "\n")
		if !strings.HasPrefix(lines[0], "$ ") || strings.Contains(strings.Join(lines[1:], "\n"), "\n$ ") {
			continue
		}
		cmd := strings.Fields(strings.TrimPrefix(lines[0], "$ "))
		if strings.Join(cmd[:min(3, len(cmd))], " ") == "go run ./cmd/irqtrace" {
			cmd = append([]string{"irqtrace"}, cmd[3:]...)
		}
		if len(cmd) < 2 || cmd[0] != "irqtrace" || cmd[1] != "stats" && cmd[1] != "lifecycle" && cmd[1] != "analyze" {
			continue
		}
		r := run(t, nil, cmd[1:]...)
		if r.err != nil {
			t.Errorf("README: %s: %v", lines[0], r.err)
			continue
		}
		out := strings.Split(r.stdout, "\n")
		j := 0
		for _, want := range lines[1:] {
			if strings.TrimSpace(want) == "..." || want == "" {
				continue
			}
			for j < len(out) && out[j] != want {
				j++
			}
			if j == len(out) {
				t.Errorf("README: %s: line %q is not in the output (in this order)", lines[0], want)
				break
			}
		}
		checked++
	}
	if checked < 4 {
		t.Errorf("checked %d README examples, want at least 4", checked)
	}
}

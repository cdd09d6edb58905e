package parse

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/ftrace"
)

// TestDetectRejects: inputs that are not tracer text get an error wrapping
// ErrUnknownFormat whose message says what the input looks like and what
// was expected.
func TestDetectRejects(t *testing.T) {
	junk := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(junk)
	tests := []struct {
		name string
		in   []byte
		msg  []string // substrings the message must contain
	}{
		{"empty", nil, []string{"empty", "expected"}},
		{"whitespace only", []byte(" \n\t\r\n   \n"), []string{"empty", "expected"}},
		{"binary junk", junk, []string{"binary", "expected"}},
		{"NUL bytes", append([]byte("          <idle>-0 [000] 1.0: x: y\n"), make([]byte, 200)...), []string{"binary"}},
		{"trace.dat", append([]byte("\x17\x08\x44tracing6\x00\x00\x00\x00"), junk[:500]...), []string{"trace.dat", "trace-cmd report"}},
		{"perf.data", append([]byte("PERFILE2"), junk[:500]...), []string{"perf.data", "perf script"}},
		{"JSON object", []byte(`{"format": "ftrace", "events": []}`), []string{"JSON"}},
		{"JSON object indented", []byte("\n  {\n  \"a\": 1\n}\n"), []string{"JSON"}},
		{"JSON array of objects", []byte(`[{"a": 1}, {"b": 2}]`), []string{"JSON"}},
		{"JSON array of numbers", []byte(`[1, 2, 3]`), []string{"JSON"}},
		{"JSON array of strings", []byte(`["x", "y"]`), []string{"JSON"}},
		{"JSON array of arrays", []byte("[[1,2],[3,4]]"), []string{"JSON"}},
		{"empty JSON array", []byte("[]"), []string{"JSON"}},
		{"English text", []byte(strings.Repeat("The quick brown fox jumps over the lazy dog [1]. It: was fun.\n", 40)),
			[]string{"no line looks like a trace event", "expected"}},
		{"dmesg", []byte("[    0.275906] ..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1\n[    1.000000] smpboot: CPU 1 is now offline\n"),
			[]string{"no line looks like a trace event"}},
		{"only comments", []byte("# just a comment\n# another\n"), []string{"no line looks like a trace event"}},
		{"CSV", []byte("ts,cpu,event\n1.0,0,irq_handler_entry\n"), []string{"no line looks like a trace event"}},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			f, err := Detect(c.in)
			if !errors.Is(err, ErrUnknownFormat) || f != FormatUnknown {
				t.Fatalf("Detect = %v, %v; want ErrUnknownFormat", f, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") {
				t.Errorf("message spans lines: %q", msg)
			}
			for _, s := range c.msg {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q lacks %q", msg, s)
				}
			}
			// Parse refuses it too, naming the input, and never panics.
			p, err := parseBytes(t, c.in, "input.bin", Options{})
			if !errors.Is(err, ErrUnknownFormat) || p != nil || !strings.HasPrefix(err.Error(), "input.bin: ") {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

// TestDetectFormats: the minimal inputs of each format, and the edge cases
// between them.
func TestDetectFormats(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Format
	}{
		{"ftrace header only, no events", "# tracer: nop\n#\n# entries-in-buffer/entries-written: 0/0   #P:4\n#\n", FormatFtrace},
		{"ftrace", "# tracer: nop\n          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4\n", FormatFtrace},
		{"trace_pipe one line", "          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4\n", FormatTracePipe},
		{"trace_pipe starting with LOST", "CPU:4 [LOST 2311 EVENTS]\n         cpuhp/4-33      [004] .....  1024.001217: cpuhp_enter: cpu: 0004 target:   0 step: 226 (sched_cpu_deactivate)\n", FormatTracePipe},
		{"trace-cmd cpus=", "cpus=4\n          <idle>-0     [003]   612.301255: irq_handler_entry:    irq=129 name=nvme0q4\n", FormatTraceCmd},
		{"trace-cmd version first", "version = 6\ncpus=4\nCPU 1 is empty\n          <idle>-0     [003]   612.301255: reschedule_entry:     vector=253\n", FormatTraceCmd},
		{"trace-cmd header only", "cpus=4\n", FormatTraceCmd},
		{"trace-cmd without header, padded names", strings.Repeat("          <idle>-0     [003]   612.301255: reschedule_entry:     vector=253\n", 5), FormatTraceCmd},
		{"perf", "         swapper     0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4\n", FormatPerfScript},
		{"perf unknown comm first", "           :1696  1696 [002]   100.000001: irq_vectors:reschedule_entry: vector=253\n", FormatPerfScript},
		{"CRLF ftrace", "# tracer: nop\r\n          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4\r\n", FormatFtrace},
		{"no final newline", "          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4", FormatTracePipe},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			f, err := Detect([]byte(c.in))
			if err != nil || f != c.want {
				t.Errorf("Detect = %v, %v; want %v", f, err, c.want)
			}
		})
	}
}

// TestDetectCutWindow: Detect sees the first SniffLen bytes of a large
// input; a line cut at the window's end must not decide the format, and a
// huge first line must not make the input "binary".
func TestDetectCutWindow(t *testing.T) {
	text, _ := loadReal(t, realTraces[2]) // perf script
	for cut := SniffLen - 200; cut <= SniffLen; cut += 37 {
		if f, err := Detect(text[:SniffLen][:cut]); err != nil || f != FormatPerfScript {
			t.Fatalf("cut at %d: %v, %v", cut, f, err)
		}
	}
	// A UTF-8 rune cut at the end of the window.
	line := "     rig-init.sh-1       [000] .....    44.446058: tracing_mark_write: " + strings.Repeat("é", 40) + "\n"
	in := []byte("# tracer: nop\n" + strings.Repeat(line, SniffLen/len(line)+2))
	for cut := SniffLen - 3; cut <= SniffLen; cut++ {
		if f, err := Detect(in[:cut]); err != nil || f != FormatFtrace {
			t.Errorf("cut at %d: %v, %v", cut, f, err)
		}
	}
	// First line longer than the window: header then a 1 MB marker.
	big := []byte("# tracer: nop\n" + "     rig-init.sh-1       [000] .....    44.446058: tracing_mark_write: " + strings.Repeat("a", 1<<20) + "\n")
	if f, err := Detect(big[:SniffLen]); err != nil || f != FormatFtrace {
		t.Errorf("long first event: %v, %v", f, err)
	}
}

// TestParseForcedFormat: Options.Format skips detection: an input that
// would be detected as trace_pipe, read with the perf grammar, has no
// event and only problems, which is an error naming the format.
func TestParseForcedFormat(t *testing.T) {
	in := []byte("          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4\n")
	p := mustParse(t, in, "f", Options{Format: FormatFtrace})
	if p.st.Format != "ftrace" || p.st.Events != 1 {
		t.Errorf("forced ftrace: %s, %d events", p.st.Format, p.st.Events)
	}
	if _, err := Parse(context.Background(), bytes.NewReader(in), "f", nil, Options{Format: FormatPerfScript}); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "perf-script") {
		t.Errorf("forced perf on ftrace text: err = %v, want ErrUnknownFormat naming perf-script", err)
	}
	in2 := append([]byte("         swapper     0 [003]   612.301255: irq:irq_handler_entry: irq=129 name=nvme0q4\n"), in...)
	p = mustParse(t, in2, "f", Options{Format: FormatPerfScript, Clock: "mono"})
	if p.st.Format != "perf-script" || p.st.Events != 1 || p.st.Problems != 1 || p.st.Clock != "mono" {
		t.Errorf("forced perf: %s, %d events, %d problems, clock %s", p.st.Format, p.st.Events, p.st.Problems, p.st.Clock)
	}
	// Clock: unknown for text formats, "perf" for perf script, else as given.
	for _, c := range []struct {
		in    []byte
		opt   string
		clock string
	}{
		{in, "", "unknown"},
		{in, "x86-tsc", "x86-tsc"},
		{[]byte("         swapper     0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4\n"), "", "perf"},
	} {
		if p := mustParse(t, c.in, "f", Options{Clock: c.opt}); p.st.Clock != c.clock {
			t.Errorf("Clock = %q, want %q", p.st.Clock, c.clock)
		}
	}
}

// TestParseLineKinds checks parseLine's classification of single lines
// (the unit under the reader).
func TestParseLineKinds(t *testing.T) {
	tests := []struct {
		line string
		perf bool
		kind LineKind
		cpu  int32
		cnt  int64
	}{
		{"", false, KindBlank, 0, 0},
		{"   \t ", false, KindBlank, 0, 0},
		{"# tracer: nop", false, KindComment, 0, 0},
		{"#", false, KindComment, 0, 0},
		{"##### CPU 3 buffer started ####", false, KindBufferStarted, 3, -1},
		{"##### CPU 1023 buffer started ####", false, KindBufferStarted, 1023, -1},
		{"##### not a marker", false, KindComment, 0, 0},
		{"CPU:2 [LOST 2311 EVENTS]", false, KindLost, 2, 2311},
		{"CPU:2 [LOST EVENTS]", false, KindLost, 2, -1},
		{"CPU:12 [LOST 0 EVENTS]", false, KindLost, 12, 0},
		{"CPU:3 [1234 EVENTS DROPPED]", false, KindDropped, 3, 1234},
		{"CPU:3 [EVENTS DROPPED]", false, KindDropped, 3, -1},
		{"CPU:0 [SUBBUFFER START]", false, KindSubbuffer, 0, -1},
		{"CPU 2 is empty", false, KindHeader, 0, 0},
		{"cpus=8", false, KindHeader, 0, 0},
		{"version = 6", false, KindHeader, 0, 0},
		{" => __irq_move_irq", false, KindCallchain, 0, 0},
		{"\tffffffff810f1234 __handle_irq_event_percpu+0x134 ([kernel.kallsyms])", true, KindCallchain, 0, 0},
		{"\t    7f1234567890 [unknown] (/usr/lib/libc.so.6)", true, KindCallchain, 0, 0},
		{"CPU:x [LOST 1 EVENTS]", false, KindProblem, 0, 0},
		{"cpus=many", false, KindProblem, 0, 0},
		{"         swapper     0 [003]   612.301255:     irq:: irq=1", true, KindProblem, 0, 0}, // system, no event
		{"          <idle>-0       [003] d.h1.   612.301255: irq_handler_entry: irq=129 name=nvme0q4", false, KindEvent, 0, 0},
		{"         swapper     0 [003]   612.301255:     irq:irq_handler_entry: irq=129 name=nvme0q4", true, KindEvent, 0, 0},
	}
	for _, c := range tests {
		t.Run(c.line, func(t *testing.T) {
			var rec ftrace.Record
			r := parseLine([]byte(c.line), c.perf, &rec)
			if r.kind != c.kind {
				t.Fatalf("kind = %v, want %v", r.kind, c.kind)
			}
			if r.kind != KindEvent && r.kind != KindProblem && (r.kind == KindLost || r.kind == KindDropped ||
				r.kind == KindBufferStarted || r.kind == KindSubbuffer) && (r.cpu != c.cpu || r.count != c.cnt) {
				t.Errorf("cpu %d count %d, want %d %d", r.cpu, r.count, c.cpu, c.cnt)
			}
			if r.kind == KindProblem && (r.err == nil || r.msg == "") {
				t.Errorf("problem without error or message")
			}
		})
	}
}

package perfetto

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/internal/golden"

	"github.com/irqtrace/irqtrace/analysis"
	"github.com/irqtrace/irqtrace/rules"
)

func p32(v int32) *int32 { return &v }
func p64(v int64) *int64 { return &v }

// smallModel is a hand-built model with one of everything: irq 35 moves
// from CPU 1 vector 34 to CPU 0 vector 40 as CPU 1 goes offline (a traced
// move with a move-in-progress window); irq 36 is moved off CPU 1 to an
// unknown destination (no flow); CPU 0 runs a NET_RX softirq with a
// device irq and a timer tick nested in it and a zero-length
// call_function_single where the softirq ends; CPU 1 has a take-down with
// two steps, a step with no exit, an offline interval and a bring-up.
func smallModel() (*analysis.Model, []rules.Finding) {
	m := &analysis.Model{
		File: "small.ftrace", FirstNS: 1000, LastNS: 20000,
		CPUs: []*analysis.CPU{
			{CPU: 0},
			{CPU: 1,
				OfflineIntervals: [][2]*int64{{p64(8000), p64(15000)}},
				TakeDowns:        []analysis.Window{{StartNS: 5000, EndNS: p64(9000), Steps: 2, Line: 20}},
				BringUps:         []analysis.Window{{StartNS: 14000, EndNS: p64(16000), Steps: 1, Line: 40}},
				HotplugSteps: []analysis.HotplugStep{
					{TS: 5000, Callback: "sched_cpu_deactivate", Step: 200, Target: 0, State: p32(199), RunOnCPU: 1, DurationNS: p64(1000), Ret: p32(0), Down: true, Line: 20, ExitLine: 21},
					{TS: 7000, Callback: "takedown_cpu", Step: 150, Target: 0, State: p32(149), RunOnCPU: 0, DurationNS: p64(2000), Ret: p32(0), Down: true, Line: 22, ExitLine: 30},
					{TS: 9500, Callback: "smpcfd_dying_cpu", Step: 140, Target: 0, RunOnCPU: 1, Down: true, Line: 31},
					{TS: 14000, Callback: "bringup_cpu", Step: 100, Target: 200, State: p32(100), RunOnCPU: 0, DurationNS: p64(2000), Ret: p32(-16), Line: 40, ExitLine: 41},
				},
			},
		},
		IRQs: []*analysis.IRQ{
			{IRQ: 36, Name: "nvme0q1", Class: analysis.ClassManaged,
				Assignments: []analysis.Assignment{
					{CPU: p32(1), Vector: p32(35), StartNS: 1000, EndNS: p64(8000), StartReason: "before_trace", EndReason: "cpu_offline", Clipped: true, StartLine: 3, EndLine: 24},
					{StartNS: 8000, StartReason: "cpu_offline_move", Inferred: true, StartLine: 24},
				},
				Migrations: []analysis.Migration{{TS: 8000, FromCPU: 1, FromVector: p32(35), CompletedNS: p64(8000), Completion: analysis.CompletionForcedOffline, Inferred: true, Evidence: "CPU 1 went offline", Line: 24}},
			},
			{IRQ: 35, Name: "virtio2-virtqueues", Class: analysis.ClassReservation,
				Assignments: []analysis.Assignment{
					{CPU: p32(1), Vector: p32(34), StartNS: 1000, EndNS: p64(8500), StartReason: "before_trace", EndReason: "migrated", Clipped: true, StartLine: 2, EndLine: 25},
					{CPU: p32(0), Vector: p32(40), StartNS: 8500, StartReason: "migrated", StartLine: 25},
				},
				Migrations: []analysis.Migration{{TS: 8500, FromCPU: 1, FromVector: p32(34), ToCPU: p32(0), ToVector: p32(40), EmitCPU: p32(1),
					CompletedNS: p64(8700), Completion: analysis.CompletionFreeMoved, Line: 25, CompletionLine: 26}},
			},
		},
		Slots: []analysis.SlotOwner{
			{CPU: 1, Vector: 34, IRQ: 35, StartNS: 1000, EndNS: p64(8500), State: "owned"},
			{CPU: 1, Vector: 34, IRQ: 35, StartNS: 8500, EndNS: p64(8700), State: "moving"},
			{CPU: 0, Vector: 40, IRQ: 35, StartNS: 8500, State: "owned"},
			{CPU: 1, Vector: 35, IRQ: 36, StartNS: 1000, EndNS: p64(8000), State: "owned"},
		},
		Handlers: []analysis.Invocation{
			{CPU: 1, IRQ: 35, Vector: -1 << 31, Name: "virtio2-virtqueues", StartNS: 2000, EndNS: 2600, Handled: true, EntryLine: 4, ExitLine: 5},
			{CPU: 0, IRQ: 35, Vector: -1 << 31, Name: "virtio2-virtqueues", StartNS: 10000, EndNS: 10500, Handled: true, EntryLine: 50, ExitLine: 51},
			{CPU: 0, IRQ: 35, Vector: -1 << 31, Name: "virtio2-virtqueues", StartNS: 11500, EndNS: 11800, EntryLine: 54, ExitLine: 55},
		},
		Sysvecs: []analysis.Invocation{
			{CPU: 0, IRQ: -1 << 31, Vector: 236, Name: "local_timer", StartNS: 12000, EndNS: 12100, Handled: true, EntryLine: 56, ExitLine: 57},
			{CPU: 0, IRQ: -1 << 31, Vector: 251, Name: "call_function_single", StartNS: 13000, EndNS: 13000, Handled: true, EntryLine: 59, ExitLine: 60},
		},
		Softirqs: []analysis.SoftirqRun{{CPU: 0, Vec: 3, Action: "NET_RX", RaiseNS: p64(10400), StartNS: 11000, EndNS: 13000, EntryLine: 52}},
	}
	fs := []rules.Finding{{
		Rule: "lost-irq-suspect", Severity: rules.Warning, Evidence: rules.Inferred, TS: 9000,
		CPU: p32(0), IRQ: p32(35), Vector: p32(40),
		Title: "irq 35 silent after its move", Message: "irq 35 stayed silent after it moved to CPU 0 vector 40.",
		Lines: []string{"small.ftrace:25", "small.ftrace:26"}, Window: &[2]int64{8500, 10000},
	}}
	return m, fs
}

// roundTrip writes m and fs, decodes the output and checks that it holds
// exactly what build meant to write.
func roundTrip(t *testing.T, m *analysis.Model, fs []rules.Finding, opts Options) (*decoded, []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, m, fs, opts); err != nil {
		t.Fatal(err)
	}
	d, err := decode(buf.Bytes())
	if err != nil {
		t.Fatalf("decoding the output: %v", err)
	}
	if diffs := compare(build(m, fs, opts), d); len(diffs) > 0 {
		t.Fatalf("read back differs from what was meant:\n%s", strings.Join(diffs, "\n"))
	}
	return d, buf.Bytes()
}

func TestSmallGolden(t *testing.T) {
	m, fs := smallModel()
	d, _ := roundTrip(t, m, fs, Options{})
	var got bytes.Buffer
	dump(&got, d)
	checkGolden(t, filepath.Join("testdata", "small.dump.golden"), got.Bytes())

	if n := len(d.flows); n != 1 {
		t.Errorf("%d flows, want 1 (irq 36's destination is unknown)", n)
	}
	for _, c := range []struct {
		track  string
		slices int
	}{{"CPU 0", 5}, {"CPU 1", 1}, {"CPU 1 hotplug", 5}, {"CPU 1 offline", 1}, {"irq 35 virtio2-virtqueues", 2}, {"irq 35 virtio2-virtqueues moves", 1}, {"irq 36 nvme0q1", 2}} {
		if tr := d.find(c.track); tr == nil || len(tr.slices) != c.slices {
			t.Errorf("track %q: want %d slices (track %v)", c.track, c.slices, tr)
		}
	}
}

// TestOverlap: slices that cross on one track go to a sibling track, and
// nothing is lost.
func TestOverlap(t *testing.T) {
	m := &analysis.Model{FirstNS: 0, LastNS: 10000, Handlers: []analysis.Invocation{
		{CPU: 0, IRQ: 1, Name: "a", StartNS: 1000, EndNS: 3000, Handled: true},
		{CPU: 0, IRQ: 2, Name: "b", StartNS: 2000, EndNS: 4000, Handled: true},
		{CPU: 0, IRQ: 3, Name: "c", StartNS: 2500, EndNS: 3500, Handled: true},
		{CPU: 0, IRQ: 4, Name: "d", StartNS: 3000, EndNS: 5000, Handled: true},
	}}
	d, _ := roundTrip(t, m, nil, Options{})
	main, over := d.find("CPU 0"), d.find("CPU 0 (overlapping 1)")
	if main == nil || over == nil {
		t.Fatalf("tracks: want CPU 0 and CPU 0 (overlapping 1)")
	}
	// a [1000,3000] and d [3000,5000] nest on CPU 0 (d begins as a ends);
	// b and c [2500,3500] inside it go to the overlap track.
	if len(main.slices) != 2 || len(over.slices) != 2 || over.rank != main.rank+1 || over.parent != main.parent {
		t.Errorf("CPU 0 has %d slices, the overlap track %d (rank %d, CPU 0 rank %d)", len(main.slices), len(over.slices), over.rank, main.rank)
	}
}

func TestNoHandlers(t *testing.T) {
	m, fs := smallModel()
	d, _ := roundTrip(t, m, fs, Options{NoHandlers: true})
	for _, tr := range d.tracks {
		if tr.name == "CPU 0" || tr.name == "CPU 1" {
			t.Errorf("track %q written with NoHandlers", tr.name)
		}
	}
	if d.find("CPU 1 hotplug") == nil || d.find("Findings") == nil {
		t.Errorf("NoHandlers dropped more than the handler runs")
	}
}

func TestErrors(t *testing.T) {
	if err := Write(&bytes.Buffer{}, nil, nil, Options{}); !errors.Is(err, ErrNilModel) {
		t.Errorf("nil model: %v", err)
	}
	m := &analysis.Model{FirstNS: -10, LastNS: 0, Handlers: []analysis.Invocation{{CPU: 0, IRQ: 1, Name: "x", StartNS: -5, EndNS: -1}}}
	var buf bytes.Buffer
	if err := Write(&buf, m, nil, Options{}); !errors.Is(err, ErrNegativeTime) || buf.Len() > 0 {
		t.Errorf("negative timestamp: %v, %d bytes written", err, buf.Len())
	}
}

// TestEmpty: an empty model gives the three group tracks and nothing else.
func TestEmpty(t *testing.T) {
	d, _ := roundTrip(t, &analysis.Model{}, nil, Options{})
	if len(d.tracks) != 3 || d.packets != 3 {
		t.Errorf("%d tracks, %d packets", len(d.tracks), d.packets)
	}
}

// TestProtoc decodes the small trace with protoc against Perfetto's own
// schema when $PERFETTO_TRACE_PROTO names a copy of perfetto_trace.proto
// (protos/perfetto/trace/perfetto_trace.proto of github.com/google/perfetto)
// and protoc is installed: every field must be known to the official
// schema with the wire type used here.
func TestProtoc(t *testing.T) {
	schema := os.Getenv("PERFETTO_TRACE_PROTO")
	protoc, err := exec.LookPath("protoc")
	if schema == "" || err != nil {
		t.Skip("set PERFETTO_TRACE_PROTO to perfetto_trace.proto and install protoc to check against the official schema")
	}
	m, fs := smallModel()
	_, data := roundTrip(t, m, fs, Options{})
	cmd := exec.Command(protoc, "--proto_path="+filepath.Dir(schema), "--decode=perfetto.protos.Trace", filepath.Base(schema))
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("protoc --decode: %v\n%s", err, stderr.String())
	}
	if unknown := regexp.MustCompile(`(?m)^\s*[0-9]+: `).FindAll(out, -1); len(unknown) > 0 {
		t.Errorf("protoc shows %d fields the official schema does not know, e.g. %q", len(unknown), unknown[0])
	}
	for _, want := range []string{"track_event {", "type: TYPE_SLICE_BEGIN", "type: TYPE_SLICE_END", "type: TYPE_INSTANT", "type: TYPE_COUNTER",
		"flow_ids: 1", "terminating_flow_ids: 1", "counter_value:", `name: "CPU 1 hotplug"`, "unit: UNIT_COUNT", "child_ordering: EXPLICIT",
		"string_value:", "bool_value:", "int_value:", "sequence_flags: 1", "trusted_packet_sequence_id: 1"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("protoc output lacks %q", want)
		}
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	golden.Check(t, path, got)
}

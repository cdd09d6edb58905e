package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irqtrace/irqtrace/internal/golden"

	"github.com/irqtrace/irqtrace/analysis"
)

func i32(v int32) *int32 { return &v }
func i64(v int64) *int64 { return &v }

const s = int64(1e9) // one second in ns

// synthetic is a hand-built model with what the real test traces lack:
// a move never completed, a vector_clear, a teardown, a failed
// allocation, a move completed by a later offline, a failed cpuhp step,
// an unfinished bring-up, a managed shutdown with parking, and anomalies
// with and without an explanation.
func synthetic() *analysis.Model {
	return &analysis.Model{
		File: "synthetic.ftrace", FirstNS: 1 * s, LastNS: 3*s + 500_000_000, Events: 100,
		Counts: analysis.Counts{Migrations: 3, InferredMoves: 1, HotplugSteps: 2, Handlers: 7},
		Matrix: analysis.MatrixSummary{Events: 4, Checks: 10, Matches: 9, Explained: 1},
		IRQs: []*analysis.IRQ{
			{IRQ: 24, Name: "eth0", Class: analysis.ClassReservation, HandlerCount: 5,
				Activations: []analysis.Activation{{StartNS: 1*s + 100_000_000, EndNS: i64(3 * s), StartLine: 10, EndLine: 90}},
				Assignments: []analysis.Assignment{
					{CPU: i32(0), Vector: i32(33), StartNS: 1*s + 100_000_000, EndNS: i64(1*s + 500_000_000),
						StartReason: "vector_update", EndReason: "migrated", StartLine: 12, EndLine: 20},
					{CPU: i32(1), Vector: i32(34), StartNS: 1*s + 500_000_000, EndNS: i64(3 * s),
						StartReason: "migrated", EndReason: "clear", StartLine: 20, EndLine: 91},
				},
				Migrations: []analysis.Migration{{TS: 1*s + 500_000_000, FromCPU: 0, FromVector: i32(33), ToCPU: i32(1), ToVector: i32(34),
					EmitCPU: i32(0), Deferred: true, Completion: analysis.CompletionNever, Line: 20}},
				Failures:   []analysis.AllocFailure{{TS: 1*s + 400_000_000, Ret: -28, What: "vector_alloc", Line: 18}},
				TornDownNS: i64(3*s + 200_000_000),
			},
			{IRQ: 30, Name: "nvme0q1", Class: analysis.ClassManaged, HandlerCount: 1,
				Assignments: []analysis.Assignment{
					{CPU: i32(2), StartNS: 1 * s, EndNS: i64(2 * s), StartReason: "before_trace", EndReason: "cpu_offline",
						StartLine: 5, EndLine: 50, Clipped: true},
					{CPU: i32(2), Vector: i32(35), StartNS: 2*s + 600_000_000, StartReason: "vector_update", StartLine: 70},
				},
				Parked: []analysis.Interval{{StartNS: 2 * s, EndNS: i64(2*s + 600_000_000), Line: 50}},
			},
			{IRQ: 31, Name: "a-very-long-irq-action-name-indeed", Class: analysis.ClassUnknown, HandlerCount: 1,
				Assignments: []analysis.Assignment{
					{CPU: i32(2), StartNS: 1 * s, EndNS: i64(2 * s), StartReason: "before_trace", EndReason: "cpu_offline",
						StartLine: 6, EndLine: 50, Clipped: true},
					{CPU: i32(3), StartNS: 2 * s, StartReason: "cpu_offline_move", StartLine: 50, Inferred: true},
				},
				Migrations: []analysis.Migration{{TS: 2 * s, FromCPU: 2, ToCPU: i32(3), Inferred: true,
					Evidence: "handler run on the new CPU; next vector_update prev_cpu/prev_vector", CompletedNS: i64(2 * s),
					Completion: analysis.CompletionForcedOffline, Line: 50}},
			},
			{IRQ: 40, Class: analysis.ClassUnknown,
				Assignments: []analysis.Assignment{
					{CPU: i32(3), Vector: i32(36), StartNS: 1 * s, EndNS: i64(1*s + 900_000_000), StartReason: "before_trace",
						EndReason: "migrated", StartLine: 44, EndLine: 45, Clipped: true},
					{CPU: i32(2), Vector: i32(40), StartNS: 1*s + 900_000_000, EndNS: i64(2 * s), StartReason: "migrated",
						EndReason: "cpu_offline", StartLine: 45, EndLine: 50},
				},
				Migrations: []analysis.Migration{
					{TS: 1*s + 900_000_000, FromCPU: 3, FromVector: i32(36), ToCPU: i32(2), ToVector: i32(40), EmitCPU: i32(0),
						CompletedNS: i64(2 * s), Completion: analysis.CompletionForcedOffline, Line: 45, CompletionLine: 50},
					{TS: 2 * s, FromCPU: 2, FromVector: i32(40), Inferred: true, Evidence: "CPU offline",
						CompletedNS: i64(2 * s), Completion: analysis.CompletionForcedOffline, Line: 50},
				},
			},
		},
		CPUs: []*analysis.CPU{
			{CPU: 0}, {CPU: 1},
			{CPU: 2, OfflineIntervals: [][2]*int64{{i64(2 * s), i64(2*s + 600_000_000)}},
				TakeDowns: []analysis.Window{{StartNS: 1*s + 950_000_000, EndNS: i64(2*s + 10_000_000), Steps: 2, Line: 40}},
				BringUps:  []analysis.Window{{StartNS: 2*s + 500_000_000, Steps: 1, Line: 60}},
				HotplugSteps: []analysis.HotplugStep{
					{TS: 1*s + 950_000_000, Callback: "sched_cpu_deactivate", Step: 235, Target: 0, State: i32(234), RunOnCPU: 2,
						DurationNS: i64(1_500), Ret: i32(0), Down: true, Line: 40, ExitLine: 42},
					{TS: 1*s + 960_000_000, Callback: "blk_mq_hctx_notify_offline", Step: 159, Target: 0, State: i32(159), RunOnCPU: 2,
						DurationNS: i64(12_000_000), Ret: i32(-16), Multi: true, Down: true, Line: 41, ExitLine: 43},
					{TS: 2*s + 500_000_000, Callback: "bringup_cpu", Step: 90, Target: 236, RunOnCPU: 0, Line: 60},
				}},
			{CPU: 3},
		},
		Anomalies: []analysis.Anomaly{
			{Kind: "prev_slot_mismatch", TS: 1*s + 500_000_000, CPU: 0, IRQ: i32(24), Line: 20,
				Message: "vector_update of irq 24 says it held 0.33, the model says 0.32"},
			{Kind: "matrix_mismatch", TS: 2*s + 600_000_000, CPU: 2, Line: 65, Explained: true,
				Message: "irq_matrix_online: online_maps = 4, the model expected 5 (a CPU went offline or online since the previous irq_matrix event, which changes the counters without events)"},
		},
	}
}

// offlineLines are the lines of cpu2's offline and online.
var offlineLines = map[int32][][2]int64{2: {{50, 66}}}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestLifecycleGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts LifecycleOptions
	}{
		{"all", LifecycleOptions{OfflineLines: offlineLines}},
		{"steps", LifecycleOptions{Steps: true, OfflineLines: offlineLines}},
		{"irq30", LifecycleOptions{IRQs: []int32{30}, OfflineLines: offlineLines}},
		{"cpu3", LifecycleOptions{CPUs: []int32{3}, OfflineLines: offlineLines}},
		{"irq24-cpu1-missing", LifecycleOptions{IRQs: []int32{24, 99}, CPUs: []int32{1, 7}}},
		{"raw", LifecycleOptions{Raw: true, IRQs: []int32{24}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Lifecycle(&b, synthetic(), tc.opts); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, "synthetic."+tc.name+".golden", b.Bytes())
			for i, l := range strings.Split(b.String(), "\n") {
				if len(l) > 99 {
					t.Errorf("line %d is %d columns: %q", i+1, len(l), l)
				}
			}
			// Deterministic: the same model gives the same bytes.
			var again bytes.Buffer
			Lifecycle(&again, synthetic(), tc.opts)
			if !bytes.Equal(b.Bytes(), again.Bytes()) {
				t.Error("two runs differ")
			}
		})
	}
}

func TestLifecycleJSON(t *testing.T) {
	var b bytes.Buffer
	if err := LifecycleJSON(&b, synthetic(), LifecycleOptions{}); err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "synthetic.json.golden", b.Bytes())

	for _, tc := range []struct {
		name           string
		opts           LifecycleOptions
		irqs, cpus     []int32
		anomalies      int
		missIRQ, missC []int32
	}{
		{"all", LifecycleOptions{}, []int32{24, 30, 31, 40}, []int32{0, 1, 2, 3}, 2, nil, nil},
		{"irq 30", LifecycleOptions{IRQs: []int32{30}}, []int32{30}, []int32{2}, 0, nil, nil},
		{"irq 24", LifecycleOptions{IRQs: []int32{24}}, []int32{24}, []int32{0, 1}, 1, nil, nil},
		{"cpu 3", LifecycleOptions{CPUs: []int32{3}}, []int32{31, 40}, []int32{3}, 0, nil, nil},
		{"irq 31 cpu 3", LifecycleOptions{IRQs: []int32{31, 5}, CPUs: []int32{3, 9}}, []int32{31}, []int32{3}, 0, []int32{5}, []int32{9}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := LifecycleJSON(&b, synthetic(), tc.opts); err != nil {
				t.Fatal(err)
			}
			var got struct {
				IRQs []struct {
					IRQ        int32             `json:"irq"`
					Migrations []json.RawMessage `json:"migrations"`
				} `json:"irqs"`
				CPUs []struct {
					CPU int32 `json:"cpu"`
				} `json:"cpus"`
				Anomalies []json.RawMessage `json:"anomalies"`
				Filter    struct {
					MissingIRQs []int32 `json:"missing_irqs"`
					MissingCPUs []int32 `json:"missing_cpus"`
				} `json:"filter"`
			}
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			var irqs, cpus []int32
			for _, q := range got.IRQs {
				irqs = append(irqs, q.IRQ)
				if q.Migrations == nil {
					t.Errorf("irq %d: migrations is null", q.IRQ)
				}
			}
			for _, c := range got.CPUs {
				cpus = append(cpus, c.CPU)
			}
			if !equal(irqs, tc.irqs) || !equal(cpus, tc.cpus) || len(got.Anomalies) != tc.anomalies {
				t.Errorf("irqs %v cpus %v anomalies %d; want %v %v %d", irqs, cpus, len(got.Anomalies), tc.irqs, tc.cpus, tc.anomalies)
			}
			if !equal(got.Filter.MissingIRQs, tc.missIRQ) || !equal(got.Filter.MissingCPUs, tc.missC) {
				t.Errorf("missing %v %v, want %v %v", got.Filter.MissingIRQs, got.Filter.MissingCPUs, tc.missIRQ, tc.missC)
			}
			if strings.Contains(b.String(), ": null,\n") && strings.Contains(b.String(), `"migrations": null`) {
				t.Error("a list is null")
			}
		})
	}
}

func equal(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestClock(t *testing.T) {
	ns, raw := clock{}, clock{raw: true}
	for _, tc := range []struct {
		got, want string
	}{
		{ns.ts(0), "0.000000"},
		{ns.ts(50_092_357_000), "50.092357"},
		{ns.ts(50_092_357_999), "50.092357"}, // truncated, never rounded up
		// Past float64's 2^53: integer arithmetic keeps every digit.
		{ns.ts(9_007_199_254_740_993), "9007199.254740"},
		{ns.ts(-1_500_000), "-0.001500"},
		{raw.ts(123456789012), "123456789012"},
		{ns.dur(2_500_000_000), "2.500000 s"},
		{ns.dur(119_065_000), "119.065 ms"},
		{ns.dur(300_000), "300 us"},
		{ns.dur(352), "0.352 us"},
		{ns.dur(1_000_000), "1.000 ms"},
		{raw.dur(17), "17 ticks"},
		{slot(i32(2), i32(41)), "2.41"},
		{slot(i32(2), nil), "2.?"},
		{slot(nil, nil), "?"},
		{cpuList([]int32{0, 1, 2, 3}), "0-3"},
		{cpuList([]int32{1, 3, 4, 5, 7}), "1,3-5,7"},
		{cpuList(nil), ""},
		{wrap("> ", "aaa bbb ccc", "  ", 8), "> aaa\n  bbb\n  ccc\n"},
		{wrap("> ", "averyverylongword x", "  ", 8), "> averyverylongword\n  x\n"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

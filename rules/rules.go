package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/irqtrace/irqtrace/analysis"
)

// Severity grades a finding.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Warning
	Error
)

var sevNames = [...]string{"info", "warning", "error"}

func (s Severity) String() string { return sevNames[s] }

// MarshalJSON writes the severity's name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// ParseSeverity reads "info", "warning" or "error".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range sevNames {
		if n == s {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want info, warning or error)", s)
}

// Evidence kinds.
const (
	Direct   = "direct"   // a tracepoint or kernel message says it
	Inferred = "inferred" // timing or absence of events suggests it
)

// Finding is one conclusion of a rule.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Evidence string   `json:"evidence"`
	TS       int64    `json:"ts_ns"`
	CPU      *int32   `json:"cpu"`
	IRQ      *int32   `json:"irq"`
	Vector   *int32   `json:"vector"`
	// Title is a one-line summary; Message the plain-English explanation.
	Title   string `json:"title"`
	Message string `json:"message"`
	// Lines cite the input lines that support the finding, as file:line.
	Lines []string `json:"lines"`
	// Window is the time span the finding is about, when it has one.
	Window *[2]int64 `json:"window_ns,omitempty"`
	// Weakened is set when the window overlaps a gap in the trace's
	// coverage: the finding may be an artefact of lost data.
	Weakened bool `json:"weakened,omitempty"`
}

// Doc documents a rule.
type Doc struct {
	ID             string `json:"id"`
	Summary        string `json:"summary"`
	Detects        string `json:"detects"`
	Evidence       string `json:"evidence"`
	Thresholds     string `json:"thresholds"`
	FalsePositives string `json:"false_positives"`
}

// Rule is one check over a model.
type Rule interface {
	Doc() Doc
	Check(in *Input) []Finding
}

// Input is what rules read: the model of one recording and the name of
// its file (for line citations).
type Input struct {
	Model *analysis.Model
	File  string

	// takedowns indexes each CPU's takedown_cpu steps by time (built on
	// first use; rules read the model only).
	takedowns map[int32][]*analysis.HotplugStep
}

// Options hold every rule's thresholds. DefaultOptions gives the values
// documented in each rule.
type Options struct {
	// RetriggerWindow: a handler run this soon after a move (or after the
	// take-down of the irq's old CPU) is a probable retrigger.
	RetriggerWindow time.Duration
	// UnhandledStorm: this many ret=unhandled exits of one irq within
	// UnhandledWindow make a storm.
	UnhandledStorm  int
	UnhandledWindow time.Duration
	// SilenceFactor and MinSilence: an irq that fired at least MinRuns
	// times is suspected lost when, after a move, it stays silent longer
	// than SilenceFactor times its median gap and at least MinSilence.
	SilenceFactor float64
	MinSilence    time.Duration
	MinRuns       int
	// IPIWindow: a send with no receive within this time is unanswered;
	// IPILatency: a delivered IPI slower than this is an outlier.
	IPIWindow  time.Duration
	IPILatency time.Duration
	// TornWindow: a "No irq handler" or spurious entry this soon after a
	// vector_update whose slots match is the torn-MSI signature.
	TornWindow time.Duration
	// MoveGrace: a move still in progress at the end of the trace is only
	// reported when it began at least this long before the end.
	MoveGrace time.Duration
	// WakeHistory: a task left asleep on an offlined CPU is a warning only
	// when it had been woken at least this many times before (and sleeps
	// SilenceFactor times longer than it used to, at least MinSilence).
	WakeHistory int
}

// DefaultOptions are the documented thresholds.
var DefaultOptions = Options{
	RetriggerWindow: time.Millisecond,
	UnhandledStorm:  100,
	UnhandledWindow: 100 * time.Millisecond,
	SilenceFactor:   50,
	MinSilence:      time.Second,
	MinRuns:         20,
	IPIWindow:       100 * time.Millisecond,
	IPILatency:      10 * time.Millisecond,
	TornWindow:      10 * time.Millisecond,
	MoveGrace:       time.Second,
	WakeHistory:     3,
}

// Default returns the rules in their documented order.
func Default(o Options) []Rule {
	return []Rule{
		&SpuriousVector{o},
		&UnhandledIRQ{o},
		&IRRRetrigger{o},
		&LostInterrupt{o},
		&MoveNeverCompleted{o},
		&IPIUnanswered{o},
		&HotplugLostWakeup{o},
		&TraceDataLoss{o},
	}
}

// Run applies rules to in and returns their findings sorted by time, then
// rule ID, then IRQ.
func Run(rs []Rule, in *Input) []Finding {
	var out []Finding
	for _, r := range rs {
		id := r.Doc().ID
		for _, f := range r.Check(in) {
			f.Rule = id
			if f.Lines == nil {
				f.Lines = []string{}
			}
			if f.Window != nil {
				f.Weakened = f.Weakened || overlapsGap(in.Model, f.CPU, f.Window[0], f.Window[1])
			}
			out = append(out, f)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TS != b.TS {
			return a.TS < b.TS
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return deref(a.IRQ) < deref(b.IRQ)
	})
	return out
}

func deref(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

// overlapsGap reports whether [start, end] is not fully inside one
// coverage window of cpu (of every CPU when cpu is nil). A window that
// ends with the trace (reason trace_end) covers up to the trace's last
// event: a CPU whose last event comes before the trace's did not lose
// anything (it was quiet, or offline, which ftrace records as nothing).
func overlapsGap(m *analysis.Model, cpu *int32, start, end int64) bool {
	covered := func(c int32) bool {
		for _, w := range m.Coverage {
			wend := w.EndNS
			if w.Reason == "trace_end" {
				wend = max(wend, m.LastNS)
			}
			if w.CPU == c && w.StartNS <= start && end <= wend {
				return true
			}
		}
		return false
	}
	if cpu != nil {
		return !covered(*cpu)
	}
	for _, c := range m.CPUs {
		if !covered(c.CPU) {
			return true
		}
	}
	return false
}

func (in *Input) line(n int64) string { return fmt.Sprintf("%s:%d", in.File, n) }

func (in *Input) lines(ns ...int64) []string {
	out := make([]string, 0, len(ns))
	seen := map[int64]bool{}
	for _, n := range ns {
		if n > 0 && !seen[n] {
			seen[n] = true
			out = append(out, in.line(n))
		}
	}
	return out
}

func p32(v int32) *int32 { return &v }

// sec formats ns as seconds with 6 decimals using integer math.
func sec(ns int64) string {
	neg := ""
	if ns < 0 {
		neg, ns = "-", -ns
	}
	return fmt.Sprintf("%s%d.%06d", neg, ns/1e9, ns%1e9/1e3)
}

// dur formats a duration in the unit a person reads best.
func dur(ns int64) string {
	switch {
	case ns < 10_000:
		return fmt.Sprintf("%d ns", ns)
	case ns < 10_000_000:
		return fmt.Sprintf("%d us", ns/1000)
	case ns < 10_000_000_000:
		return fmt.Sprintf("%d ms", ns/1_000_000)
	}
	return fmt.Sprintf("%d s", ns/1_000_000_000)
}

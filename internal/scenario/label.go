package scenario

import (
	"fmt"
	"sort"
)

// Severities by name, in increasing order (package rules' names).
var severities = []string{"info", "warning", "error"}

// SeverityRank returns the order of a severity name (info 0, warning 1,
// error 2), -1 for an unknown name.
func SeverityRank(s string) int {
	for i, n := range severities {
		if n == s {
			return i
		}
	}
	return -1
}

// Label is one finding a correct analyzer must report.
type Label struct {
	Rule string `json:"rule"`
	// Severity is the least severity; Max the highest ("" = any).
	Severity string `json:"severity"`
	Max      string `json:"max_severity,omitempty"`
	// IRQ and CPU the finding must name (-1: not checked).
	IRQ int32 `json:"irq"`
	CPU int32 `json:"cpu"`
	// TS is the expected finding time; the finding's ts_ns must be within
	// Slack of it.
	TS    int64 `json:"ts_ns"`
	Slack int64 `json:"slack_ns"`
	// Evidence, when set, is the evidence the finding must give.
	Evidence string `json:"evidence,omitempty"`
	// Weakened: "yes" or "no" when the finding's weakened flag is checked.
	Weakened string `json:"weakened,omitempty"`
	// Cite lists input lines of which the finding must cite at least one.
	Cite []int64 `json:"cite,omitempty"`
	// Why says what was planted.
	Why string `json:"why"`

	cite []Ref
}

func (l Label) String() string {
	return fmt.Sprintf("%s>=%s irq=%d cpu=%d ts=%s±%s (%s)", l.Rule, l.Severity, l.IRQ, l.CPU, secs(l.TS), secs(l.Slack), l.Why)
}

func secs(ns int64) string { return fmt.Sprintf("%d.%06d", ns/1e9, ns%1e9/1e3) }

// Scenario is one generated trace with its ground truth.
type Scenario struct {
	// Name is the generator's name (see Catalog); Mode the failure mode it
	// plants or imitates.
	Name      string `json:"name"`
	Mode      string `json:"mode"`
	LookAlike bool   `json:"look_alike"`
	Seed      uint64 `json:"seed"`
	Kernel    string `json:"kernel"`
	Text      []byte `json:"-"`
	// Labels must each be matched by a finding.
	Labels []Label `json:"labels"`
	// Ceiling: a finding that matches no label must be below this
	// severity ("warning": only info findings besides the labels).
	Ceiling string `json:"ceiling"`
	// Facts are plain-language notes on what was generated.
	Facts []string `json:"facts"`
}

// Finding is what a label is checked against (the fields of a
// rules.Finding that labels constrain).
type Finding struct {
	Rule     string
	Severity string
	Evidence string
	TS       int64
	CPU, IRQ *int32
	Weakened bool
	Lines    []int64
}

// Matches reports whether f satisfies l.
func (l *Label) Matches(f *Finding) bool {
	if f.Rule != l.Rule || SeverityRank(f.Severity) < SeverityRank(l.Severity) {
		return false
	}
	if l.Max != "" && SeverityRank(f.Severity) > SeverityRank(l.Max) {
		return false
	}
	if l.IRQ >= 0 && (f.IRQ == nil || *f.IRQ != l.IRQ) {
		return false
	}
	if l.CPU >= 0 && (f.CPU == nil || *f.CPU != l.CPU) {
		return false
	}
	if d := f.TS - l.TS; d > l.Slack || -d > l.Slack {
		return false
	}
	if l.Evidence != "" && f.Evidence != l.Evidence {
		return false
	}
	if l.Weakened == "yes" && !f.Weakened || l.Weakened == "no" && f.Weakened {
		return false
	}
	if len(l.Cite) > 0 {
		ok := false
		for _, c := range l.Cite {
			for _, n := range f.Lines {
				if n == c {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// Result is the comparison of a scenario's labels with findings.
type Result struct {
	// Found[i] is the index of the finding matching Labels[i] (-1: missed).
	Found []int
	// Extra lists findings matching no label at or above the ceiling
	// (false alarms).
	Extra []int
}

// Check compares findings with the scenario's labels.
func (sc *Scenario) Check(fs []Finding) Result {
	r := Result{Found: make([]int, len(sc.Labels))}
	used := map[int]bool{}
	for i := range sc.Labels {
		r.Found[i] = -1
		for j := range fs {
			if !used[j] && sc.Labels[i].Matches(&fs[j]) {
				r.Found[i] = j
				used[j] = true
				break
			}
		}
	}
	ceil := SeverityRank(sc.Ceiling)
	for j := range fs {
		if used[j] || ceil < 0 || SeverityRank(fs[j].Severity) < ceil {
			continue
		}
		// A finding that matches a label already matched by another one
		// (e.g. two findings of the same planted fault) is not an alarm.
		dup := false
		for i := range sc.Labels {
			if sc.Labels[i].Matches(&fs[j]) {
				dup = true
			}
		}
		if !dup {
			r.Extra = append(r.Extra, j)
		}
	}
	return r
}

// labeler collects labels whose cited lines are known only after Render.
type labeler struct {
	labels []Label
}

func (lb *labeler) add(l Label, cite ...Ref) {
	if l.Slack == 0 {
		l.Slack = 2e6
	}
	l.cite = cite
	lb.labels = append(lb.labels, l)
}

func (lb *labeler) resolve(lines []int64) []Label {
	out := make([]Label, 0, len(lb.labels))
	for _, l := range lb.labels {
		for _, r := range l.cite {
			if r >= 0 && int(r) < len(lines) && lines[r] > 0 {
				l.Cite = append(l.Cite, lines[r])
			}
		}
		sort.Slice(l.Cite, func(i, j int) bool { return l.Cite[i] < l.Cite[j] })
		l.cite = nil
		out = append(out, l)
	}
	return out
}

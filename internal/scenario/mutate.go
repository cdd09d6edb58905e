package scenario

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Mutations of real ftrace `trace` files: each plants one failure mode in
// a clean recording and returns the changed text with its labels. Lines
// are removed or inserted whole, in the exact layout of their neighbours
// (comm, pid, flags of the CPU at that moment), in timestamp order, and
// the header's entry counts follow, so the result parses with no problem.

// Mutation is a real trace changed to hold one failure mode.
type Mutation struct {
	Name    string
	Text    []byte
	Labels  []Label
	Ceiling string
	Facts   []string
	// Added and Dropped count the event lines inserted and removed.
	Added, Dropped int
}

// ErrNoCandidate: the trace has nothing the mutation can use.
var ErrNoCandidate = errors.New("no candidate in this trace")

// tline is one line of a trace text, split.
type tline struct {
	text  string
	event bool
	cpu   int32
	ts    int64
	comm  string
	pid   int32
	flags string
	name  string
	body  string
}

var reFtraceLine = regexp.MustCompile(`^\s*(.+)-(\d+)\s+\[(\d+)\]\s+([.a-zA-Z0-9]{5})\s+(\d+)\.(\d{6}):\s+(\S+?):?\s(.*)$`)

func splitLines(text []byte) []tline {
	raw := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	out := make([]tline, len(raw))
	for i, l := range raw {
		out[i].text = l
		m := reFtraceLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		cpu, _ := strconv.Atoi(m[3])
		pid, _ := strconv.Atoi(m[2])
		s, _ := strconv.ParseInt(m[5], 10, 64)
		u, _ := strconv.ParseInt(m[6], 10, 64)
		name, body := m[7], m[8]
		if strings.HasPrefix(body, "<-") { // "func <-parent"
			name, body = "function", m[7]+" "+body
		}
		out[i] = tline{text: l, event: true, cpu: int32(cpu), ts: s*1e9 + u*1000, comm: strings.TrimSpace(m[1]), pid: int32(pid),
			flags: m[4], name: name, body: body}
	}
	return out
}

// kvs reads the key=value fields of a payload.
func kvs(body string) map[string]int64 {
	out := map[string]int64{}
	for _, f := range strings.Fields(body) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSuffix(v, ","), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// edit collects removals and insertions and renders the new text.
type edit struct {
	lines  []tline
	drop   map[int]bool
	insert map[int][]tline // new lines before index i
	fix    map[int]string  // replaced text
	added  int
}

func newEdit(lines []tline) *edit {
	return &edit{lines: lines, drop: map[int]bool{}, insert: map[int][]tline{}, fix: map[int]string{}}
}

// add inserts an event at its place in time order (after every line with
// a timestamp <= ts) and returns a key to find its new line number.
func (e *edit) add(l tline) int {
	pos := len(e.lines)
	for i, x := range e.lines {
		if x.event && x.ts > l.ts {
			pos = i
			break
		}
	}
	l.text = FormatLine(Event{TS: l.ts, CPU: l.cpu, Comm: l.comm, PID: l.pid, Flags: l.flags, Name: l.name, Body: l.body})
	l.event = true
	e.insert[pos] = append(e.insert[pos], l)
	e.added++
	return pos*1000 + len(e.insert[pos]) - 1
}

// render returns the text and maps: old index -> new line, insert key ->
// new line.
func (e *edit) render() ([]byte, map[int]int64, map[int]int64) {
	var b strings.Builder
	old := map[int]int64{}
	ins := map[int]int64{}
	no := int64(0)
	delta := e.added - len(e.drop)
	for i := 0; i <= len(e.lines); i++ {
		for k, l := range e.insert[i] {
			no++
			ins[i*1000+k] = no
			b.WriteString(l.text)
			b.WriteByte('\n')
		}
		if i == len(e.lines) {
			break
		}
		if e.drop[i] {
			continue
		}
		no++
		old[i] = no
		t := e.lines[i].text
		if f, ok := e.fix[i]; ok {
			t = f
		}
		if strings.HasPrefix(t, "# entries-in-buffer/entries-written: ") {
			t = fixEntries(t, delta)
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	return []byte(b.String()), old, ins
}

var reEntries = regexp.MustCompile(`^# entries-in-buffer/entries-written: (\d+)/(\d+)(.*)$`)

func fixEntries(l string, delta int) string {
	m := reEntries.FindStringSubmatch(l)
	if m == nil {
		return l
	}
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	return fmt.Sprintf("# entries-in-buffer/entries-written: %d/%d%s", a+delta, b+delta, m[3])
}

// contextOf returns the task and flags style of cpu just before ts (the
// idle task when nothing is known).
func contextOf(lines []tline, cpu int32, ts int64) (string, int32) {
	comm, pid := "<idle>", int32(0)
	for _, l := range lines {
		if !l.event {
			continue
		}
		if l.ts > ts {
			break
		}
		if l.cpu == cpu {
			comm, pid = l.comm, l.pid
		}
	}
	return comm, pid
}

func hardFlagsFor(pid int32) string {
	if pid == 0 {
		return "d.h1."
	}
	return "d.h.."
}

// queueKey is the device part of an action name (see rules' devicePrefix).
func queueKey(name string) string {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	if i == len(name) || i == 0 {
		return ""
	}
	c := name[i-1]
	if c == '-' || c == '.' || c == '_' || c == ':' || i >= 2 && name[i-2] >= '0' && name[i-2] <= '9' && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return name[:i]
	}
	return ""
}

// ---- drop the handler runs that follow a real migration ----

type moveCand struct {
	upd          int // index of the vector_update line
	irq          int32
	ts           int64
	from, to     int32
	fromV, toV   int64
	name         string
	median       int64
	siblings     []string
	lastRunAfter int64
}

// DropAfterMove makes an irq go silent after one of its real migrations:
// every handler run of the irq after the vector_update is removed (but the
// run of the interrupt that triggered a deferred move, on the old CPU), as
// are its later vector events and the cleanup of the move (the new vector
// never fired), with the matrix counters of later irq_matrix lines
// corrected for the slot that stays allocated. Candidates are the last
// traced migration of each irq that fired at least 25 times before it, at
// least 1.5 s before the end. When another queue of the same device keeps
// firing, that is the busy evidence; when the device has a single vector,
// a driver timeout printk is inserted into the silence instead. pick
// selects among the candidates (those with siblings first).
func DropAfterMove(text []byte, pick int) (*Mutation, error) {
	lines := splitLines(text)
	runs := map[int32][]int64{}
	names := map[int32]string{}
	var end int64
	for _, l := range lines {
		if !l.event {
			continue
		}
		end = max(end, l.ts)
		if l.name == "irq_handler_entry" {
			kv := kvs(l.body)
			n := int32(kv["irq"])
			runs[n] = append(runs[n], l.ts)
			if names[n] == "" {
				if _, v, ok := strings.Cut(l.body, "name="); ok {
					names[n] = v
				}
			}
		}
	}
	last := map[int32]int{}
	for i, l := range lines {
		if l.event && l.name == "vector_update" {
			kv := kvs(l.body)
			if kv["prev_vector"] != 0 {
				last[int32(kv["irq"])] = i
			}
		}
	}
	var cands []moveCand
	for n, i := range last {
		l := lines[i]
		kv := kvs(l.body)
		rs := runs[n]
		before := sort.Search(len(rs), func(k int) bool { return rs[k] > l.ts })
		if before < 25 || before == len(rs) {
			continue
		}
		gaps := make([]int64, 0, before)
		for k := 1; k < before; k++ {
			gaps = append(gaps, rs[k]-rs[k-1])
		}
		sort.Slice(gaps, func(a, b int) bool { return gaps[a] < gaps[b] })
		med := gaps[len(gaps)/2]
		limit := max(50*med, 1_000_000_000)
		if end-l.ts < limit+500_000_000 {
			continue
		}
		c := moveCand{upd: i, irq: n, ts: l.ts, from: int32(kv["prev_cpu"]), to: int32(kv["cpu"]), fromV: kv["prev_vector"], toV: kv["vector"],
			name: names[n], median: med}
		if key := queueKey(names[n]); key != "" {
			for m, nm := range names {
				if m == n || queueKey(nm) != key {
					continue
				}
				rm := runs[m]
				k := sort.Search(len(rm), func(k int) bool { return rm[k] > l.ts+(end-l.ts)/2 })
				if k < len(rm) {
					c.siblings = append(c.siblings, fmt.Sprintf("irq %d %s", m, nm))
				}
			}
		}
		if len(c.siblings) == 0 && timeoutMsg(c.name, 0) == "" {
			continue // no sibling, and no driver message to plant
		}
		cands = append(cands, c)
	}
	if len(cands) == 0 {
		return nil, ErrNoCandidate
	}
	sort.Slice(cands, func(a, b int) bool {
		if (len(cands[a].siblings) > 0) != (len(cands[b].siblings) > 0) {
			return len(cands[a].siblings) > 0
		}
		return cands[a].irq < cands[b].irq
	})
	c := cands[pick%len(cands)]
	e := newEdit(lines)
	irqField := fmt.Sprintf("irq=%d ", c.irq)
	kept := false
	freed := false
	for i := c.upd + 1; i < len(lines); i++ {
		l := lines[i]
		if !l.event || !strings.HasPrefix(l.body+" ", irqField) {
			continue
		}
		switch {
		case l.name == "irq_handler_entry" || l.name == "irq_handler_exit":
			// The deferred move's own interrupt, on the old CPU right after.
			if !kept && l.cpu == c.from && l.ts-c.ts <= 1_000_000 {
				if l.name == "irq_handler_exit" {
					kept = true
				}
				continue
			}
			e.drop[i] = true
		case strings.HasPrefix(l.name, "vector_"):
			e.drop[i] = true
			if l.name == "vector_free_moved" {
				freed = true
				// Its irq_matrix_free follows on the same CPU.
				for j := i + 1; j < len(lines) && j < i+20; j++ {
					if lines[j].event && lines[j].cpu == l.cpu && lines[j].name == "irq_matrix_free" {
						e.drop[j] = true
						break
					}
				}
			}
		}
	}
	if freed {
		fixMatrix(e, c)
	}
	m := &Mutation{Name: "drop-after-move", Ceiling: "warning", Dropped: len(e.drop)}
	why := fmt.Sprintf("irq %d (%s) moved %d.%d -> %d.%d at %s; its %d later handler runs were removed", c.irq, c.name, c.from, c.fromV, c.to, c.toV, secs(c.ts), len(e.drop))
	var tkey = -1
	if len(c.siblings) > 0 {
		why += "; still firing: " + strings.Join(c.siblings, ", ")
	} else {
		// A single-vector device: its driver times out in the silence.
		t := c.ts + (end-c.ts)*6/10
		t -= t % 1000
		comm, pid := contextOf(lines, 0, t)
		tkey = e.add(tline{ts: t, cpu: 0, comm: comm, pid: pid, flags: "d....", name: "console", body: timeoutMsg(c.name, 0)})
		why += "; single-vector device: a driver timeout printk was inserted at " + secs(t)
	}
	out, old, ins := e.render()
	m.Text, m.Added = out, e.added
	l := Label{Rule: "lost-interrupt", Severity: "warning", IRQ: c.irq, CPU: c.to, TS: c.ts, Slack: 1000, Why: why, Cite: []int64{old[c.upd]}}
	m.Labels = append(m.Labels, l)
	if tkey >= 0 {
		m.Facts = append(m.Facts, fmt.Sprintf("inserted timeout printk at line %d", ins[tkey]))
	}
	m.Facts = append(m.Facts, why)
	return m, nil
}

var reMatrixNum = regexp.MustCompile(`\b(avl|alloc|global_avl|total_alloc)=(\d+)`)

// fixMatrix corrects the counters of the irq_matrix lines after the
// removed cleanup of c: the old slot stays allocated on c.from (avl one
// lower, alloc one higher) until that CPU next goes offline, where the
// kernel frees it without a line.
func fixMatrix(e *edit, c moveCand) {
	offline := fmt.Sprintf("CPU %d is now offline", c.from)
	for i := c.upd + 1; i < len(e.lines); i++ {
		l := e.lines[i]
		if !l.event {
			continue
		}
		if l.name == "console" && strings.Contains(l.body, offline) {
			return
		}
		if !strings.HasPrefix(l.name, "irq_matrix_") || e.drop[i] {
			continue
		}
		kv := kvs(l.body)
		_, hasCPU := kv["cpu"]
		same := hasCPU && int32(kv["cpu"]) == c.from
		e.fix[i] = reMatrixNum.ReplaceAllStringFunc(l.text, func(f string) string {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch {
			case k == "global_avl":
				n--
			case k == "total_alloc":
				n++
			case k == "avl" && same:
				n--
			case k == "alloc" && same:
				n++
			}
			return fmt.Sprintf("%s=%d", k, n)
		})
	}
}

// ---- a delivery on a torn slot ----

// InsertTornSlot inserts the 6.1 printk "__common_interrupt: C.V No irq
// handler for vector" a few microseconds after a real vector_update, on
// the slot that mixes the move's new CPU with its old vector (or the old
// CPU with the new vector) and that no irq owned then. pick selects the
// vector_update.
func InsertTornSlot(text []byte, pick int) (*Mutation, error) {
	lines := splitLines(text)
	owner := map[[2]int64]int64{} // (cpu, vector) -> irq, from vector events
	type cand struct {
		i                int
		irq              int64
		cpu, vec         int64
		ts               int64
		from, to, fv, tv int64
	}
	var cands []cand
	for i, l := range lines {
		if !l.event {
			continue
		}
		kv := kvs(l.body)
		switch l.name {
		case "vector_update":
			if kv["prev_vector"] != 0 {
				mixA := [2]int64{kv["cpu"], kv["prev_vector"]}
				mixB := [2]int64{kv["prev_cpu"], kv["vector"]}
				if _, ok := owner[mixA]; !ok && mixA != [2]int64{kv["cpu"], kv["vector"]} {
					cands = append(cands, cand{i, kv["irq"], mixA[0], mixA[1], l.ts, kv["prev_cpu"], kv["cpu"], kv["prev_vector"], kv["vector"]})
				} else if _, ok := owner[mixB]; !ok && mixB != [2]int64{kv["prev_cpu"], kv["prev_vector"]} {
					cands = append(cands, cand{i, kv["irq"], mixB[0], mixB[1], l.ts, kv["prev_cpu"], kv["cpu"], kv["prev_vector"], kv["vector"]})
				}
			}
			owner[[2]int64{kv["cpu"], kv["vector"]}] = kv["irq"]
		case "vector_free_moved", "vector_clear":
			delete(owner, [2]int64{kv["cpu"], kv["vector"]})
		}
	}
	if len(cands) == 0 {
		return nil, ErrNoCandidate
	}
	c := cands[pick%len(cands)]
	e := newEdit(lines)
	t := c.ts + int64(3+pick%17)*1000
	comm, pid := contextOf(lines, int32(c.cpu), t)
	key := e.add(tline{ts: t, cpu: int32(c.cpu), comm: comm, pid: pid, flags: hardFlagsFor(pid), name: "console",
		body: fmt.Sprintf(Kernel61.NoHandler, c.cpu, c.vec)})
	out, old, ins := e.render()
	why := fmt.Sprintf("irq %d moved %d.%d -> %d.%d at %s (line %d); \"No irq handler\" inserted on %d.%d at %s", c.irq, c.from, c.fv, c.to, c.tv,
		secs(c.ts), old[c.i], c.cpu, c.vec, secs(t))
	return &Mutation{Name: "torn-slot", Text: out, Ceiling: "warning", Added: 1, Facts: []string{why},
		Labels: []Label{{Rule: "spurious-vector", Severity: "error", IRQ: int32(c.irq), CPU: int32(c.cpu), TS: t, Slack: 1000, Why: why,
			Cite: []int64{ins[key]}}}}, nil
}

// ---- an IPI nobody receives ----

// InsertUnansweredIPI inserts an ipi_send_cpu (call-function, or
// reschedule) from one CPU to another that takes no IPI of that kind for
// the next 150 ms although it runs (it has events before and after), and
// has taken that kind before. pick selects among the candidates.
func InsertUnansweredIPI(text []byte, pick int) (*Mutation, error) {
	lines := splitLines(text)
	type ev struct {
		ts  int64
		cpu int32
	}
	var all []ev
	recv := map[string]map[int32][]int64{"call_function_single": {}, "reschedule": {}}
	var end int64
	for _, l := range lines {
		if !l.event {
			continue
		}
		all = append(all, ev{l.ts, l.cpu})
		end = max(end, l.ts)
		for k := range recv {
			if l.name == k+"_entry" {
				recv[k][l.cpu] = append(recv[k][l.cpu], l.ts)
			}
		}
	}
	hasEvent := func(cpu int32, from, to int64) bool {
		for _, x := range all {
			if x.cpu == cpu && x.ts >= from && x.ts <= to {
				return true
			}
		}
		return false
	}
	type cand struct {
		kind     string
		from, to int32
		ts       int64
	}
	var cands []cand
	const quiet = 150_000_000
	for _, kind := range []string{"call_function_single", "reschedule"} {
		for cpu, rs := range recv[kind] {
			for k := 0; k < len(rs); k++ {
				t := rs[k] + 2_000_000
				next := end + 1
				if k+1 < len(rs) {
					next = rs[k+1]
				}
				if next-t <= quiet || t+quiet+10_000_000 > end {
					continue
				}
				// The target runs on (it is online, not merely quiet).
				if !hasEvent(cpu, t+quiet, end) || !hasEvent(cpu, t-30_000_000, t) {
					continue
				}
				for _, x := range all {
					if x.cpu != cpu && x.ts >= t && x.ts <= t+5_000_000 {
						cands = append(cands, cand{kind, x.cpu, cpu, x.ts + 1000})
						break
					}
				}
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil, ErrNoCandidate
	}
	sort.Slice(cands, func(a, b int) bool { return cands[a].ts < cands[b].ts })
	c := cands[pick%len(cands)]
	e := newEdit(lines)
	comm, pid := contextOf(lines, c.from, c.ts)
	body := fmt.Sprintf("cpu=%d callsite=generic_exec_single+0x36/0x50 callback=generic_smp_call_function_single_interrupt+0x0/0x10", c.to)
	if c.kind == "reschedule" {
		body = fmt.Sprintf("cpu=%d callsite=resched_curr+0x60/0xe0 callback=0x0", c.to)
	}
	key := e.add(tline{ts: c.ts, cpu: c.from, comm: comm, pid: pid, flags: "d..2.", name: "ipi_send_cpu", body: body})
	out, _, ins := e.render()
	why := fmt.Sprintf("CPU %d sends a %s IPI to CPU %d at %s, which takes none for 150 ms", c.from, c.kind, c.to, secs(c.ts))
	return &Mutation{Name: "unanswered-ipi", Text: out, Ceiling: "warning", Added: 1, Facts: []string{why},
		Labels: []Label{{Rule: "ipi-unanswered", Severity: "warning", IRQ: -1, CPU: c.to, TS: c.ts, Slack: 1000, Why: why, Cite: []int64{ins[key]}}}}, nil
}

// Check compares findings with the mutation's labels (as Scenario.Check).
func (m *Mutation) Check(fs []Finding) Result {
	sc := Scenario{Labels: m.Labels, Ceiling: m.Ceiling}
	return sc.Check(fs)
}

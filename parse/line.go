package parse

import (
	"bytes"

	"github.com/irqtrace/irqtrace/ftrace"
)

// LineKind classifies one input line.
type LineKind uint8

// Line kinds. Everything but KindEvent and KindProblem is a known
// non-event line.
const (
	KindEvent LineKind = iota
	KindProblem
	KindBlank
	KindComment       // "#..." header and comment lines
	KindLost          // CPU:N [LOST N EVENTS] / [LOST EVENTS]
	KindDropped       // trace-cmd CPU:N [N EVENTS DROPPED] / [EVENTS DROPPED]
	KindBufferStarted // ##### CPU N buffer started ####
	KindSubbuffer     // trace-cmd CPU:N [SUBBUFFER START]
	KindHeader        // trace-cmd cpus=N, version = N, CPU N is empty
	KindCallchain     // perf -g frame lines, ftrace stacktrace " => sym" lines
	numKinds
)

var kindNames = [numKinds]string{
	KindEvent: "event", KindProblem: "problem", KindBlank: "blank", KindComment: "comment",
	KindLost: "lost_marker", KindDropped: "dropped_marker", KindBufferStarted: "buffer_started",
	KindSubbuffer: "subbuffer_marker", KindHeader: "header", KindCallchain: "callchain",
}

func (k LineKind) String() string { return kindNames[k] }

// lineResult is what classifying one line yields besides the record.
type lineResult struct {
	kind  LineKind
	cpu   int32 // markers
	count int64 // LOST/DROPPED count, -1 if not printed
	err   error // KindProblem
	msg   string
}

// parseLine classifies line (without its newline) and, for an event, fills
// rec's prefix fields, name and raw payload. perf selects perf-script's
// prefix grammar; otherwise the ftrace-like one (ftrace, trace_pipe,
// trace-cmd report).
func parseLine(line []byte, perf bool, rec *ftrace.Record) lineResult {
	if len(line) == 0 {
		return lineResult{kind: KindBlank}
	}
	// Fast path: event lines start with the right-aligned comm.
	c := line[0]
	if c == '#' {
		if bytes.HasPrefix(line, []byte("#####")) {
			return parseBufferStarted(line)
		}
		return lineResult{kind: KindComment}
	}
	if c == 'C' && bytes.HasPrefix(line, []byte("CPU")) {
		if r, ok := parseCPUMarker(line); ok {
			return r
		}
	}
	if c == 'c' && bytes.HasPrefix(line, []byte("cpus=")) {
		if _, ok := ftrace.ParseInt(bytes.TrimSpace(line[5:])); ok {
			return lineResult{kind: KindHeader}
		}
	}
	if c == 'v' && bytes.HasPrefix(line, []byte("version = ")) {
		return lineResult{kind: KindHeader}
	}
	if c == '\t' || c == ' ' {
		t := bytes.TrimLeft(line, " \t")
		if len(t) == 0 {
			return lineResult{kind: KindBlank}
		}
		if isCallchain(t, c == '\t') {
			return lineResult{kind: KindCallchain}
		}
	}
	if perf {
		return parsePerfPrefix(line, rec)
	}
	return parseFtracePrefix(line, rec)
}

// isCallchain recognises perf -g frames ("\tffffffff81234567 sym+0x1 (dso)")
// and ftrace stacktrace lines (" => sym").
func isCallchain(t []byte, tab bool) bool {
	if bytes.HasPrefix(t, []byte("=> ")) {
		return true
	}
	if !tab {
		// perf indents frames with a tab and spaces; ftrace never starts
		// an event line with a hex run followed by a space and a symbol.
		i := 0
		for i < len(t) && isHex(t[i]) {
			i++
		}
		return i >= 8 && i < len(t) && t[i] == ' ' && bytes.HasSuffix(t, []byte(")"))
	}
	i := 0
	for i < len(t) && isHex(t[i]) {
		i++
	}
	return i >= 1 && (i == len(t) || t[i] == ' ')
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
}

// parseCPUMarker handles the "CPU:N [...]" lines and trace-cmd's
// "CPU N is empty".
func parseCPUMarker(line []byte) (lineResult, bool) {
	if bytes.HasPrefix(line, []byte("CPU ")) && bytes.HasSuffix(line, []byte(" is empty")) {
		return lineResult{kind: KindHeader}, true
	}
	if !bytes.HasPrefix(line, []byte("CPU:")) {
		return lineResult{}, false
	}
	rest := line[4:]
	sp := bytes.IndexByte(rest, ' ')
	if sp <= 0 {
		return lineResult{}, false
	}
	cpu, ok := ftrace.ParseInt(rest[:sp])
	if !ok || cpu < 0 || cpu > 1<<15-1 {
		return lineResult{kind: KindProblem, err: ErrBadMarker, msg: "bad CPU number in marker"}, true
	}
	m := bytes.TrimSpace(rest[sp:])
	if len(m) < 2 || m[0] != '[' || m[len(m)-1] != ']' {
		return lineResult{}, false
	}
	m = m[1 : len(m)-1]
	r := lineResult{cpu: int32(cpu), count: -1}
	switch {
	case bytes.Equal(m, []byte("LOST EVENTS")):
		r.kind = KindLost
	case bytes.HasPrefix(m, []byte("LOST ")) && bytes.HasSuffix(m, []byte(" EVENTS")):
		n, ok := ftrace.ParseInt(m[5 : len(m)-7])
		if !ok || n < 0 {
			return lineResult{kind: KindProblem, err: ErrBadMarker, msg: "bad LOST count"}, true
		}
		r.kind, r.count = KindLost, n
	case bytes.Equal(m, []byte("EVENTS DROPPED")):
		r.kind = KindDropped
	case bytes.HasSuffix(m, []byte(" EVENTS DROPPED")):
		n, ok := ftrace.ParseInt(m[:len(m)-15])
		if !ok || n < 0 {
			return lineResult{kind: KindProblem, err: ErrBadMarker, msg: "bad DROPPED count"}, true
		}
		r.kind, r.count = KindDropped, n
	case bytes.Equal(m, []byte("SUBBUFFER START")):
		r.kind = KindSubbuffer
	default:
		return lineResult{}, false
	}
	return r, true
}

// parseBufferStarted handles "##### CPU 3 buffer started ####".
func parseBufferStarted(line []byte) lineResult {
	t := bytes.Trim(line, "# ")
	if !bytes.HasPrefix(t, []byte("CPU ")) || !bytes.HasSuffix(t, []byte(" buffer started")) {
		return lineResult{kind: KindComment}
	}
	n, ok := ftrace.ParseInt(t[4 : len(t)-15])
	if !ok || n < 0 || n > 1<<15-1 {
		return lineResult{kind: KindProblem, err: ErrBadMarker, msg: "bad CPU number in buffer-started marker"}
	}
	return lineResult{kind: KindBufferStarted, cpu: int32(n), count: -1}
}

// findCPU finds the "[cpu]" column: a '[' preceded by a space, digits, ']'
// and then a space or the end of the line. It returns the index of '[',
// the index after ']' and the CPU, starting the search at from.
func findCPU(line []byte, from int) (open, end int, cpu int64, ok bool) {
	for from < len(line) {
		i := bytes.IndexByte(line[from:], '[')
		if i < 0 {
			return 0, 0, 0, false
		}
		i += from
		from = i + 1
		if i == 0 || line[i-1] != ' ' {
			continue
		}
		j := i + 1
		var n int64
		for j < len(line) && line[j] >= '0' && line[j] <= '9' && j-i <= 6 {
			n = n*10 + int64(line[j]-'0')
			j++
		}
		if j == i+1 || j >= len(line) || line[j] != ']' || j-i > 6 {
			continue
		}
		if j+1 < len(line) && line[j+1] != ' ' {
			continue
		}
		if n > 1<<15-1 {
			continue
		}
		return i, j + 1, n, true
	}
	return 0, 0, 0, false
}

// parseFtracePrefix parses "comm-pid [(tgid)] [cpu] [flags] ts: event: payload"
// (ftrace text, trace_pipe, trace-cmd report; the latter may prefix a
// buffer/file name and ": ").
func parseFtracePrefix(line []byte, rec *ftrace.Record) lineResult {
	from := 0
	for {
		open, end, cpu, ok := findCPU(line, from)
		if !ok {
			return problem(ErrBadPrefix, "no task-pid [cpu] prefix")
		}
		from = open + 1
		k := open - 1
		for k >= 0 && line[k] == ' ' {
			k--
		}
		rec.TGID = -1
		if k >= 0 && line[k] == ')' {
			l := bytes.LastIndexByte(line[:k], '(')
			if l < 0 {
				continue
			}
			tg := bytes.TrimSpace(line[l+1 : k])
			if n, ok := ftrace.ParseInt(tg); ok && n >= 0 && n <= 1<<31-1 {
				rec.TGID = int32(n)
			} else if len(bytes.Trim(tg, "-")) != 0 {
				continue
			}
			k = l - 1
			for k >= 0 && line[k] == ' ' {
				k--
			}
		}
		// pid digits, then '-'
		e := k + 1
		for k >= 0 && line[k] >= '0' && line[k] <= '9' {
			k--
		}
		if k == e-1 || k < 0 || line[k] != '-' || e-k-1 > 10 {
			continue
		}
		pid, ok := ftrace.ParseInt(line[k+1 : e])
		if !ok || pid > 1<<31-1 {
			continue
		}
		comm := line[:k]
		s := 0
		for s < len(comm) && comm[s] == ' ' {
			s++
		}
		comm = comm[s:]
		rec.Buffer = nil
		if i := bytes.Index(comm, []byte(": ")); i > 0 && s == 0 {
			// trace-cmd report of several files / instances: "name: comm-pid ..."
			rec.Buffer = comm[:i]
			comm = bytes.TrimLeft(comm[i+2:], " ")
		}
		rec.Comm = comm
		rec.PID = int32(pid)
		rec.CPU = int32(cpu)
		return parseAfterCPU(line, end, false, rec)
	}
}

// parsePerfPrefix parses perf script's "comm tid [cpu] ts: sys:event: payload"
// (or "comm pid/tid [cpu] ...").
func parsePerfPrefix(line []byte, rec *ftrace.Record) lineResult {
	from := 0
	for {
		open, end, cpu, ok := findCPU(line, from)
		if !ok {
			return problem(ErrBadPrefix, "no comm tid [cpu] prefix")
		}
		from = open + 1
		k := open - 1
		for k >= 0 && line[k] == ' ' {
			k--
		}
		e := k + 1
		for k >= 0 && (line[k] >= '0' && line[k] <= '9' || line[k] == '/' || line[k] == '-') {
			k--
		}
		if k == e-1 || (k >= 0 && line[k] != ' ') {
			continue
		}
		ids := line[k+1 : e]
		tid := ids
		rec.TGID = -1
		if sl := bytes.IndexByte(ids, '/'); sl >= 0 {
			p, ok := ftrace.ParseInt(ids[:sl])
			if !ok || p < -1 || p > 1<<31-1 {
				continue
			}
			rec.TGID = int32(p)
			tid = ids[sl+1:]
		}
		t, ok := ftrace.ParseInt(tid)
		if !ok || t < -1 || t > 1<<31-1 {
			continue
		}
		if k < 0 {
			k = 0
		}
		rec.Comm = bytes.TrimSpace(line[:k])
		rec.PID = int32(t)
		rec.CPU = int32(cpu)
		rec.Buffer = nil
		return parseAfterCPU(line, end, true, rec)
	}
}

// parseAfterCPU parses "[flags] ts: event: payload" from line[i:].
func parseAfterCPU(line []byte, i int, perf bool, rec *ftrace.Record) lineResult {
	tok, i := token(line, i)
	rec.Flags = ftrace.Flags{}
	if len(tok) == 0 || tok[len(tok)-1] != ':' {
		f, ok := ftrace.ParseFlags(tok)
		if !ok {
			return problem(ErrBadTimestamp, "expected flags or timestamp after [cpu]")
		}
		rec.Flags = f
		tok, i = token(line, i)
		if len(tok) == 0 || tok[len(tok)-1] != ':' {
			return problem(ErrBadTimestamp, "expected timestamp after flags")
		}
	}
	ts, unit, err := ftrace.ParseTimestamp(tok[:len(tok)-1])
	if err != nil {
		return problem(ErrBadTimestamp, "bad timestamp")
	}
	rec.TS, rec.Unit = ts, unit
	for i < len(line) && line[i] == ' ' {
		i++
	}
	rest := line[i:]
	// The event name runs to the first ':' (perf: the second, after the
	// system) that is followed by a space or the end of the line. A space
	// first means a function-tracer line "func <-parent".
	j := 0
	for j < len(rest) && rest[j] != ' ' && !(rest[j] == ':' && (j+1 == len(rest) || rest[j+1] == ' ')) {
		j++
	}
	if j == 0 {
		return problem(ErrNoEventName, "no event name")
	}
	name := rest[:j]
	rec.System = nil
	if j == len(rest) || rest[j] == ' ' {
		// "func <-parent" (ftrace function tracer) or a bare symbol.
		if perf || !(j == len(rest) || bytes.HasPrefix(rest[j+1:], []byte("<-"))) {
			return problem(ErrNoEventName, "no event name")
		}
		rec.Event = ftrace.EvFunction
		rec.Name = []byte("function")
		rec.Raw = rest
		return lineResult{kind: KindEvent}
	}
	if perf {
		c := bytes.LastIndexByte(name, ':')
		if c > 0 {
			rec.System = name[:c]
			name = name[c+1:]
		}
		if len(name) == 0 {
			return problem(ErrNoEventName, "no event name after the system")
		}
	}
	rec.Name = name
	rec.Event = ftrace.Lookup(name)
	p := rest[j+1:]
	for len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	rec.Raw = p
	return lineResult{kind: KindEvent}
}

func token(line []byte, i int) ([]byte, int) {
	for i < len(line) && line[i] == ' ' {
		i++
	}
	j := i
	for j < len(line) && line[j] != ' ' {
		j++
	}
	return line[i:j], j
}

func problem(err error, msg string) lineResult {
	return lineResult{kind: KindProblem, err: err, msg: msg}
}

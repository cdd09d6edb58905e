package parse

// Expected table cells derived from the text of an event line. This is a
// second, deliberately simple reading of the formats of
// shared/docs/tracepoints.md sections 1 and 4 (strings.Fields, strconv),
// written without looking at the parser's code paths, so that comparing the
// two catches mistakes in either.

import (
	"strconv"
	"strings"
)

// systemOf is the event system of each catalog event (tracepoints.md 1.2-1.8).
var systemOf = func() map[string]string {
	m := map[string]string{
		"cpuhp_enter": "cpuhp", "cpuhp_multi_enter": "cpuhp", "cpuhp_exit": "cpuhp",
		"irq_handler_entry": "irq", "irq_handler_exit": "irq", "softirq_entry": "irq",
		"softirq_exit": "irq", "softirq_raise": "irq", "tasklet_entry": "irq", "tasklet_exit": "irq",
		"ipi_raise": "ipi", "ipi_entry": "ipi", "ipi_exit": "ipi", "ipi_send_cpu": "ipi",
		"ipi_send_cpumask": "ipi", "console": "printk", "print": "ftrace", "function": "ftrace",
	}
	for _, s := range sysvecNames {
		m[s+"_entry"] = "irq_vectors"
		m[s+"_exit"] = "irq_vectors"
	}
	for _, s := range []string{"vector_config", "vector_update", "vector_clear", "vector_reserve_managed",
		"vector_reserve", "vector_alloc", "vector_alloc_managed", "vector_activate", "vector_deactivate",
		"vector_teardown", "vector_setup", "vector_free_moved"} {
		m[s] = "irq_vectors"
	}
	for _, s := range []string{"online", "offline", "reserve", "remove_reserved", "assign_system",
		"reserve_managed", "remove_managed", "alloc_managed", "assign", "alloc", "free", "alloc_reserved"} {
		m["irq_matrix_"+s] = "irq_matrix"
	}
	return m
}()

var sysvecNames = []string{"local_timer", "spurious_apic", "error_apic", "x86_platform_ipi", "irq_work",
	"reschedule", "call_function", "call_function_single", "threshold_apic", "deferred_error_apic", "thermal_apic"}

// kvColumn maps a printed key of the key=value events (and the binary field
// names trace-cmd prints for [FAILED TO PARSE]) to its column.
var kvColumn = map[string]string{
	"irq": "irq", "vector": "vector", "bit": "vector", "cpu": "target_cpu",
	"prev_vector": "prev_vector", "prev_cpu": "prev_cpu", "apicdest": "apicdest", "ret": "ret",
	"reserved": "reserved", "is_managed": "is_managed", "can_reserve": "can_reserve",
	"reserve": "reserve", "early": "reserve", "has_reserved": "has_reserved", "is_legacy": "is_legacy",
	"online": "online", "avl": "avl", "available": "avl", "alloc": "alloc", "allocated": "alloc",
	"managed": "managed", "online_maps": "online_maps", "global_avl": "global_avl",
	"global_available": "global_avl", "global_rsvd": "global_rsvd", "global_reserved": "global_rsvd",
	"total_alloc": "total_alloc", "total_allocated": "total_alloc",
}

var boolColumns = map[string]bool{"reserved": true, "is_managed": true, "can_reserve": true,
	"reserve": true, "has_reserved": true, "is_legacy": true, "online": true}

func isKVEvent(name string) bool {
	s := systemOf[name]
	return s == "irq_vectors" || s == "irq_matrix"
}

// num parses a decimal (leading zeros allowed, as in cpuhp's "0003") or
// 0x-hex integer; it panics on anything else, which in a test means the
// expectation itself is wrong.
func num(s string) int64 {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		n, err := strconv.ParseUint(h, 16, 63)
		if err != nil {
			panic("not a number: " + s)
		}
		return int64(n)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic("not a number: " + s)
	}
	return n
}

// expectedPayload returns the payload cells of event name with payload text
// rest, as printed by format ("ftrace", "trace-cmd", "perf").
func expectedPayload(name, rest string) map[string]any {
	m := map[string]any{}
	f := strings.Fields(rest)
	switch {
	case strings.HasPrefix(rest, "[FAILED TO PARSE]"):
		// Fields libtraceevent could read, by binary name; the raw payload
		// and the key=value split are kept.
		m["payload"] = rest
		var args []string
		for _, tok := range f[3:] {
			k, v, _ := strings.Cut(tok, "=")
			v = strings.TrimSuffix(v, ",")
			if c, ok := kvColumn[k]; ok && isKVEvent(name) {
				if boolColumns[c] {
					m[c] = v != "0"
				} else {
					m[c] = num(v)
				}
				continue
			}
			args = append(args, k+"="+v)
		}
		if args == nil {
			args = []string{}
		}
		m["args"] = args
	case isKVEvent(name):
		for _, tok := range f {
			k, v, ok := strings.Cut(tok, "=")
			if !ok {
				panic("not key=value: " + tok)
			}
			v = strings.TrimSuffix(v, ",")
			c := kvColumn[k]
			if boolColumns[c] {
				m[c] = v != "0"
			} else {
				m[c] = num(v)
			}
		}
		if (name == "vector_update" || name == "vector_clear") && m["prev_vector"] == int64(0) {
			// vector 0 is never a device vector: no previous slot.
			delete(m, "prev_vector")
			delete(m, "prev_cpu")
		}
	case strings.HasPrefix(name, "cpuhp_"):
		for i := 0; i < len(f); i++ {
			tok := f[i]
			if strings.HasPrefix(tok, "(") {
				m["func"] = strings.Trim(tok, "()")
				continue
			}
			col := map[string]string{"cpu:": "target_cpu", "target:": "target_state", "step:": "step",
				"state:": "state", "ret:": "ret"}[tok]
			i++
			m[col] = num(f[i])
		}
	case name == "irq_handler_entry":
		irq, nm, _ := strings.Cut(rest, " name=")
		m["irq"] = num(strings.TrimPrefix(irq, "irq="))
		m["name"] = nm
	case name == "irq_handler_exit":
		m["irq"] = num(strings.TrimPrefix(f[0], "irq="))
		m["ret"] = map[string]int64{"ret=handled": 1, "ret=unhandled": 0}[f[1]]
	case strings.HasPrefix(name, "softirq_"):
		m["vec"] = num(strings.TrimPrefix(f[0], "vec="))
		m["name"] = strings.TrimSuffix(strings.TrimPrefix(f[1], "[action="), "]")
	case strings.HasPrefix(name, "tasklet_"):
		m["name"] = strings.TrimPrefix(f[0], "tasklet=")
		m["func"] = strings.TrimPrefix(f[1], "function=")
	case name == "ipi_send_cpu" || name == "ipi_send_cpumask":
		for _, tok := range f {
			k, v, _ := strings.Cut(tok, "=")
			switch k {
			case "cpu":
				m["target_cpu"] = num(v)
			case "cpumask":
				m["cpumask"] = v
			case "callsite":
				m["caller"] = v
			case "callback":
				m["func"] = v
			}
		}
	case name == "ipi_raise":
		m["cpumask"] = strings.TrimPrefix(f[0], "target_mask=")
		m["name"] = strings.Trim(strings.TrimSpace(strings.TrimPrefix(rest, f[0])), "()")
	case name == "ipi_entry" || name == "ipi_exit":
		m["name"] = strings.Trim(rest, "()")
	case name == "console":
		m["text"] = rest
	case name == "tracing_mark_write":
		m["func"] = "tracing_mark_write"
		m["text"] = rest
	case name == "print":
		sym, text, _ := strings.Cut(rest, ": ")
		m["func"] = sym
		m["text"] = text
	default:
		// Outside the catalog: raw payload and the key=value split.
		m["payload"] = rest
		args := []string{}
		for _, tok := range f {
			if k, v, ok := strings.Cut(tok, "="); ok && k != "" {
				args = append(args, k+"="+strings.TrimSuffix(v, ","))
			}
		}
		m["args"] = args
	}
	return m
}

// expectedFlags decodes an irq-info column per tracepoints.md 4.1.
func expectedFlags(s string) map[string]any {
	m := map[string]any{"flags": s}
	switch s[0] {
	case 'd':
		m["irqs_off"], m["bh_off"] = true, false
	case 'D':
		m["irqs_off"], m["bh_off"] = true, true
	case 'b':
		m["irqs_off"], m["bh_off"] = false, true
	case '.':
		m["irqs_off"], m["bh_off"] = false, false
	case 'X': // irq state unknown: both null
	}
	m["need_resched"] = s[1] != '.'
	m["hardirq"] = strings.ContainsRune("hHZ", rune(s[2]))
	m["softirq"] = strings.ContainsRune("sH", rune(s[2]))
	m["nmi"] = strings.ContainsRune("zZ", rune(s[2]))
	m["preempt_depth"] = hexOrDot(s[3])
	if len(s) >= 5 {
		m["migrate_disable"] = hexOrDot(s[4])
	}
	return m
}

func hexOrDot(c byte) int64 {
	if c == '.' {
		return 0
	}
	n, err := strconv.ParseInt(string(c), 16, 64)
	if err != nil {
		panic("bad flag digit")
	}
	return n
}

// expectedRow returns every non-null cell of the row event line n of file
// must produce.
func expectedRow(file string, n naiveLine) map[string]any {
	m := map[string]any{
		"cpu": n.cpu, "pid": n.pid, "comm": strings.TrimSpace(n.comm), "file": file,
		"line": n.no, "offset": n.offset, "event": canonicalName(n.name),
	}
	if strings.Contains(n.ts, ".") && len(n.ts)-strings.IndexByte(n.ts, '.')-1 <= 9 {
		m["ts_ns"] = nsFromText(n.ts)
	} else {
		m["ts_ns"] = num(strings.Replace(n.ts, ".", "", 1))
	}
	if n.system != "" {
		m["system"] = n.system
	} else if s, ok := systemOf[canonicalName(n.name)]; ok {
		m["system"] = s
	}
	if n.buffer != "" {
		m["buffer"] = n.buffer
	}
	if n.tgid != "" && strings.Trim(n.tgid, "-") != "" {
		m["tgid"] = num(n.tgid)
	}
	if n.flags != "" {
		for k, v := range expectedFlags(n.flags) {
			m[k] = v
		}
	}
	for k, v := range expectedPayload(n.name, n.rest) {
		m[k] = v
	}
	return m
}

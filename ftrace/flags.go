package ftrace

// Flags is the decoded irq-info column of a record ("d.h1." in ftrace text,
// "d.h1." or "dNh.." in trace-cmd 3.3+). Present is false when the input
// has no such column (trace-cmd <= 3.2, perf script, irq-info off).
type Flags struct {
	Present        bool
	Raw            [8]byte // the column as printed, NUL padded
	RawLen         uint8
	IRQsOff        bool // 'd' or 'D'
	BHOff          bool // 'b' or 'D'
	IRQFlagUnknown bool // 'X': arch without irq-flag support
	NeedResched    byte // '.' none, 'N', 'n', 'p', 'L', 'l', 'b', 'B'
	Hardirq        bool // 'h', 'H' (hardirq in softirq) or 'Z' (NMI in hardirq)
	Softirq        bool // 's' or 'H'
	NMI            bool // 'z' or 'Z'
	PreemptDepth   uint8
	HasMigrate     bool // a migrate-disable column was printed
	MigrateDisable uint8
}

// ParseFlags decodes a 4- to 7-character irq-info column. It reports false
// when b is not such a column (so that the caller can try to read it as a
// timestamp instead).
//
// Kernel layout (kernel/trace/trace_output.c trace_print_lat_fmt):
// irqs-off, need-resched, hardirq/softirq, preempt depth, and since ~5.13
// migrate-disable. libtraceevent (trace-cmd 3.3+) prints the preempt count
// as two nibbles instead of depth + migrate; both read back the same way.
func ParseFlags(b []byte) (Flags, bool) {
	var f Flags
	if len(b) < 4 || len(b) > len(f.Raw) {
		return f, false
	}
	switch b[0] {
	case 'd':
		f.IRQsOff = true
	case 'D':
		f.IRQsOff, f.BHOff = true, true
	case 'b':
		f.BHOff = true
	case 'X':
		f.IRQFlagUnknown = true
	case '.':
	default:
		return f, false
	}
	switch b[1] {
	case '.', 'N', 'n', 'p', 'L', 'l', 'b', 'B':
		f.NeedResched = b[1]
	default:
		return f, false
	}
	switch b[2] {
	case 'Z':
		f.NMI, f.Hardirq = true, true
	case 'z':
		f.NMI = true
	case 'H':
		f.Hardirq, f.Softirq = true, true
	case 'h':
		f.Hardirq = true
	case 's':
		f.Softirq = true
	case '.':
	default:
		return f, false
	}
	d, ok := hexDigit(b[3])
	if !ok {
		return f, false
	}
	f.PreemptDepth = d
	if len(b) >= 5 {
		m, ok := hexDigit(b[4])
		if !ok {
			return f, false
		}
		f.HasMigrate, f.MigrateDisable = true, m
		for _, c := range b[5:] {
			if _, ok := hexDigit(c); !ok {
				return f, false
			}
		}
	}
	f.Present = true
	f.RawLen = uint8(copy(f.Raw[:], b))
	return f, true
}

func hexDigit(c byte) (uint8, bool) {
	switch {
	case c == '.':
		return 0, true
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

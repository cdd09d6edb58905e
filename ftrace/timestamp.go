package ftrace

import "errors"

// Unit says how to read a Timestamp.
type Unit uint8

const (
	// UnitNS: nanoseconds of a clock that counts time (local, global,
	// perf, mono, boot, ...), printed by the tracers as seconds.fraction.
	UnitNS Unit = iota
	// UnitRaw: ticks of a clock that does not count nanoseconds (counter,
	// x86-tsc, uptime), printed as a bare integer.
	UnitRaw
)

func (u Unit) String() string {
	if u == UnitRaw {
		return "raw"
	}
	return "ns"
}

// Timestamp is an instant of one trace clock: int64 nanoseconds for UnitNS,
// raw ticks for UnitRaw. Timestamps of different clocks must never be
// compared or merged.
type Timestamp int64

// ErrBadTimestamp is wrapped by errors about malformed timestamps.
var ErrBadTimestamp = errors.New("bad timestamp")

// ParseTimestamp parses a tracer timestamp without going through float64:
// "612.301255" (µs precision, the default of every text tracer),
// "612.301255123" (ns, trace-cmd -t, perf --ns) or "48213" (a raw counter).
// Fractions of 1..9 digits are scaled to nanoseconds. A fraction of more
// than 9 digits is what trace-cmd prints for clocks it does not treat as
// time (%5llu.%012llu of the raw value); it is read back as the raw integer.
func ParseTimestamp(b []byte) (Timestamp, Unit, error) {
	if len(b) == 0 {
		return 0, 0, ErrBadTimestamp
	}
	var sec uint64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		c := b[i] - '0'
		if c > 9 || i >= 19 {
			return 0, 0, ErrBadTimestamp
		}
		sec = sec*10 + uint64(c)
	}
	if i == 0 {
		return 0, 0, ErrBadTimestamp
	}
	if i == len(b) {
		if sec > 1<<63-1 {
			return 0, 0, ErrBadTimestamp
		}
		return Timestamp(sec), UnitRaw, nil
	}
	frac := b[i+1:]
	nd := len(frac)
	if nd == 0 || nd > 18 {
		return 0, 0, ErrBadTimestamp
	}
	var f uint64
	for _, c := range frac {
		c -= '0'
		if c > 9 {
			return 0, 0, ErrBadTimestamp
		}
		f = f*10 + uint64(c)
	}
	if nd > 9 {
		// raw value split at 10^nd
		p := pow10[nd]
		if sec > (1<<63-1-f)/p {
			return 0, 0, ErrBadTimestamp
		}
		return Timestamp(sec*p + f), UnitRaw, nil
	}
	if sec > maxSec {
		return 0, 0, ErrBadTimestamp
	}
	return Timestamp(sec*1e9 + f*pow10[9-nd]), UnitNS, nil
}

var pow10 = [...]uint64{1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18}

const maxSec = uint64(1<<63-1)/1e9 - 1

package ftrace

import (
	"errors"
	"math/big"
	"regexp"
	"testing"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		unit Unit
		ok   bool
	}{
		{"612.301255", 612_301_255_000, UnitNS, true},
		{"44.373301", 44_373_301_000, UnitNS, true},
		{"0.000001", 1000, UnitNS, true},
		{"612.301255123", 612_301_255_123, UnitNS, true}, // trace-cmd -t, perf --ns
		{"1.5", 1_500_000_000, UnitNS, true},
		{"0.000000001", 1, UnitNS, true},
		{"00012.000100", 12_000_100_000, UnitNS, true},
		{"9223372035.999999999", 9_223_372_035_999_999_999, UnitNS, true}, // the largest second accepted
		{"48213", 48213, UnitRaw, true},                                   // counter clock
		{"1187345129937", 1187345129937, UnitRaw, true},                   // x86-tsc
		{"0", 0, UnitRaw, true},
		{"9223372036854775807", 1<<63 - 1, UnitRaw, true},
		{"1.187345129937", 1187345129937, UnitRaw, true}, // trace-cmd %5llu.%012llu of a raw clock
		{"0.0000000001", 1, UnitRaw, true},
		{"9223372.036854775807", 1<<63 - 1, UnitRaw, true},
		{"9223372.036854775808", 0, 0, false},
		{"9223372036854775808", 0, 0, false},
		{"99999999999999999999", 0, 0, false},
		{"18446744073709551616", 0, 0, false},
		{"", 0, 0, false},
		{".5", 0, 0, false},
		{"5.", 0, 0, false},
		{"1.2.3", 0, 0, false},
		{"-1.5", 0, 0, false},
		{"+1.5", 0, 0, false},
		{"1e3", 0, 0, false},
		{"12:", 0, 0, false},
		{"1.0000000000000000000", 0, 0, false}, // 19 fraction digits
		{" 1.5", 0, 0, false},
		{"0x10", 0, 0, false},
	}
	for _, c := range tests {
		ts, unit, err := ParseTimestamp([]byte(c.in))
		if c.ok != (err == nil) {
			t.Errorf("ParseTimestamp(%q) err = %v", c.in, err)
			continue
		}
		if !c.ok {
			if !errors.Is(err, ErrBadTimestamp) {
				t.Errorf("ParseTimestamp(%q) err = %v, want ErrBadTimestamp", c.in, err)
			}
			continue
		}
		if int64(ts) != c.want || unit != c.unit {
			t.Errorf("ParseTimestamp(%q) = %d %v, want %d %v", c.in, ts, unit, c.want, c.unit)
		}
	}
	if UnitNS.String() != "ns" || UnitRaw.String() != "raw" {
		t.Error("Unit names")
	}
}

var reTS = regexp.MustCompile(`^([0-9]{1,19})(?:\.([0-9]{1,18}))?$`)

// refTimestamp is the reference reading of a timestamp with math/big:
// seconds.fraction of 1-9 digits -> nanoseconds; 10-18 fraction digits ->
// the raw integer of the digits; a bare integer -> raw. ok is false for
// malformed input or a value outside int64. gray marks values the parser
// may refuse although they fit: seconds above maxSec with a ns fraction
// (documented limit, ~292 years).
func refTimestamp(s string) (v int64, unit Unit, ok, gray bool) {
	m := reTS.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false, false
	}
	sec, _ := new(big.Int).SetString(m[1], 10)
	r := new(big.Int)
	switch frac := m[2]; {
	case frac == "":
		r.Set(sec)
		unit = UnitRaw
	case len(frac) > 9:
		r.SetString(m[1]+frac, 10)
		unit = UnitRaw
	default:
		f, _ := new(big.Int).SetString(frac, 10)
		for i := len(frac); i < 9; i++ {
			f.Mul(f, big.NewInt(10))
		}
		r.Mul(sec, big.NewInt(1e9)).Add(r, f)
		unit = UnitNS
		gray = sec.Cmp(big.NewInt(int64(maxSec))) > 0
	}
	if !r.IsInt64() {
		return 0, 0, false, false
	}
	return r.Int64(), unit, true, gray
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"612.301255", "612.301255123", "48213", "1.187345129937", "9223372036854775807",
		"9223372036.854775807", "9223372035.999999999", "0.1", "", ".", "1.", "00000000000000000001.1",
		"9223372036854775808", "9223372.036854775807", "1234567890123456789.123456789012345678"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, unit, err := ParseTimestamp(b)
		v, u, ok, gray := refTimestamp(string(b))
		switch {
		case err == nil && (!ok || int64(ts) != v || unit != u):
			t.Fatalf("ParseTimestamp(%q) = %d %v; reference %d %v ok=%v", b, ts, unit, v, u, ok)
		case err != nil && ok && !gray:
			t.Fatalf("ParseTimestamp(%q) = %v; reference %d %v", b, err, v, u)
		case err != nil && !errors.Is(err, ErrBadTimestamp):
			t.Fatalf("ParseTimestamp(%q) error %v does not wrap ErrBadTimestamp", b, err)
		}
	})
}

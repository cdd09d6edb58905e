package report

import (
	"fmt"
	"strconv"
)

// clock formats timestamps and durations of one recording: nanoseconds
// (printed as seconds with six decimals, truncated to the microsecond)
// or raw counter ticks (printed as integers).
type clock struct{ raw bool }

// ts formats an instant: "50.092357" for 50092357000 ns.
func (c clock) ts(ns int64) string {
	if c.raw {
		return strconv.FormatInt(ns, 10)
	}
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	return fmt.Sprintf("%s%d.%06d", sign, ns/1e9, ns%1e9/1e3)
}

// tsp formats a possibly unknown instant ("-" for nil).
func (c clock) tsp(ns *int64) string {
	if ns == nil {
		return "-"
	}
	return c.ts(*ns)
}

// dur formats a span: "1.234567 s", "119.065 ms", "35 us", "0.352 us".
func (c clock) dur(ns int64) string {
	if c.raw {
		return strconv.FormatInt(ns, 10) + " ticks"
	}
	sign := ""
	if ns < 0 {
		sign, ns = "-", -ns
	}
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%s%d.%06d s", sign, ns/1e9, ns%1e9/1e3)
	case ns >= 1e6:
		return fmt.Sprintf("%s%d.%03d ms", sign, ns/1e6, ns%1e6/1e3)
	case ns%1e3 == 0:
		return fmt.Sprintf("%s%d us", sign, ns/1e3)
	}
	return fmt.Sprintf("%s%d.%03d us", sign, ns/1e3, ns%1e3)
}

// slot formats a (cpu, vector) pair as cpu.vector, "?" for what the
// model does not know: "2.41", "2.?", "?".
func slot(cpu, vector *int32) string {
	if cpu == nil {
		return "?"
	}
	v := "?"
	if vector != nil {
		v = strconv.Itoa(int(*vector))
	}
	return strconv.Itoa(int(*cpu)) + "." + v
}

// cpuList formats CPU numbers as a compact list: "0-3", "1,3", "" when
// empty. cpus must be sorted.
func cpuList(cpus []int32) string {
	s := ""
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if s != "" {
			s += ","
		}
		s += strconv.Itoa(int(cpus[i]))
		if j > i {
			s += "-" + strconv.Itoa(int(cpus[j]))
		}
		i = j + 1
	}
	return s
}

// plural returns "1 thing" or "n things".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

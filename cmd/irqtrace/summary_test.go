package main

import (
	"math"
	"testing"

	"github.com/irqtrace/irqtrace/parse"
)

func TestFormatTS(t *testing.T) {
	for _, tc := range []struct {
		v    int64
		unit string
		want string
	}{
		{0, "ns", "0.000000000"},
		{44373301000, "ns", "44.373301000"},
		{1, "ns", "0.000000001"},
		{-1500000000, "ns", "-1.500000000"},
		{math.MaxInt64, "ns", "9223372036.854775807"},
		{math.MinInt64, "ns", "-9223372036.854775808"},
		{1137484483615, "raw", "1137484483615"},
		{-5, "mixed", "-5"},
	} {
		if got := formatTS(tc.v, tc.unit); got != tc.want {
			t.Errorf("formatTS(%d, %s) = %q, want %q", tc.v, tc.unit, got, tc.want)
		}
	}
}

func TestCPURanges(t *testing.T) {
	cpus := func(ns ...int32) []parse.CPUStats {
		var out []parse.CPUStats
		for _, n := range ns {
			out = append(out, parse.CPUStats{CPU: n})
		}
		return out
	}
	for _, tc := range []struct {
		cpus []parse.CPUStats
		want string
	}{
		{nil, ""},
		{cpus(0), "0"},
		{cpus(0, 1, 2, 3), "0-3"},
		{cpus(0, 2, 3, 4, 7, 9, 10), "0,2-4,7,9-10"},
	} {
		if got := cpuRanges(tc.cpus); got != tc.want {
			t.Errorf("cpuRanges = %q, want %q", got, tc.want)
		}
	}
}

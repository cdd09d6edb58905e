package analysis

import (
	"fmt"
	"sort"
)

// Latency summarises one distribution of durations in ns.
type Latency struct {
	// Kind is "irq", "sysvec", "softirq" (raise to entry), "softirq_run"
	// or "ipi" (send to receive); Name says which one ("35 virtio2-virtqueues",
	// "local_timer", "TIMER", "reschedule").
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	IRQ   *int32 `json:"irq,omitempty"`
	Count int    `json:"count"`
	P50   int64  `json:"p50_ns"`
	P99   int64  `json:"p99_ns"`
	P999  int64  `json:"p999_ns"`
	Max   int64  `json:"max_ns"`
	Sum   int64  `json:"sum_ns"`
	// Values are the sorted samples (kept for histograms and plots).
	Values []int64 `json:"-"`
}

// Quantile returns the q-quantile (0..1) of sorted values by the nearest
// rank method (the smallest value with at least q of the samples at or
// below it).
func Quantile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func newLatency(kind, name string, irq *int32, v []int64) Latency {
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	l := Latency{Kind: kind, Name: name, IRQ: irq, Count: len(v), Values: v}
	for _, x := range v {
		l.Sum += x
	}
	if len(v) > 0 {
		l.P50, l.P99, l.P999, l.Max = Quantile(v, .5), Quantile(v, .99), Quantile(v, .999), v[len(v)-1]
	}
	return l
}

// Latencies returns the duration distributions of the model: device irq
// handler runs per irq, system vector runs per vector, softirq raise-to-
// entry ("softirq") and run times ("softirq_run") per action, and IPI
// send-to-receive per kind. Within a kind, the largest total time first.
func (m *Model) Latencies() []Latency {
	var out []Latency
	type key struct {
		kind, name string
		irq        int32
	}
	vals := map[key][]int64{}
	add := func(kind, name string, irq int32, v int64) {
		k := key{kind, name, irq}
		vals[k] = append(vals[k], v)
	}
	for _, h := range m.Handlers {
		add("irq", fmt.Sprintf("%d %s", h.IRQ, h.Name), h.IRQ, h.EndNS-h.StartNS)
	}
	for _, s := range m.Sysvecs {
		add("sysvec", s.Name, null, s.EndNS-s.StartNS)
	}
	for _, s := range m.Softirqs {
		if s.RaiseNS != nil {
			add("softirq", s.Action, null, s.StartNS-*s.RaiseNS)
		}
		add("softirq_run", s.Action, null, s.EndNS-s.StartNS)
	}
	for _, d := range m.IPIs {
		if d.ReceiveNS != nil {
			add("ipi", d.Kind, null, *d.ReceiveNS-d.SendNS)
		}
	}
	for k, v := range vals {
		out = append(out, newLatency(k.kind, k.name, p32(k.irq), v))
	}
	order := map[string]int{"irq": 0, "sysvec": 1, "softirq": 2, "softirq_run": 3, "ipi": 4}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return order[a.Kind] < order[b.Kind]
		}
		if a.Sum != b.Sum {
			return a.Sum > b.Sum
		}
		return a.Name < b.Name
	})
	return out
}

package ftrace

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
)

// fv is an expected decoded payload: field -> int64 (bools as 0/1) or
// string. Has must hold exactly these fields.
type fv map[Field]any

func (w fv) String() string {
	var s []string
	for f, v := range w {
		s = append(s, fmt.Sprintf("%s=%v", f.Column(), v))
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func gotFields(p *Payload) fv {
	m := fv{}
	for f := Field(0); f < NumFields; f++ {
		if p.Has&(1<<f) == 0 {
			continue
		}
		if f >= FName {
			s, _ := p.Str(f)
			m[f] = string(s)
		} else {
			v, _ := p.Int(f)
			m[f] = v
		}
	}
	return m
}

func norm(w fv) fv {
	m := fv{}
	for f, v := range w {
		if i, ok := v.(int); ok {
			v = int64(i)
		}
		m[f] = v
	}
	return m
}

func argsString(p *Payload) string {
	var s []string
	for _, kv := range p.Args {
		s = append(s, string(kv.Key)+"="+string(kv.Value))
	}
	return strings.Join(s, " ")
}

func TestDecode(t *testing.T) {
	tests := []struct {
		event   string // as printed
		payload string
		want    fv
		generic bool
		args    string
		err     error // ErrMissingField / ErrBadValue
		errFld  string
	}{
		// x86 system vectors
		{"local_timer_entry", "vector=236", fv{FVector: 236}, false, "", nil, ""},
		{"spurious_apic_exit", "vector=255", fv{FVector: 255}, false, "", nil, ""},
		{"call_function_single_entry", "vector=251", fv{FVector: 251}, false, "", nil, ""},
		{"reschedule_exit", "", nil, false, "", ErrMissingField, "vector"},
		{"reschedule_exit", "vector=", nil, false, "", ErrBadValue, "vector"},
		{"reschedule_exit", "vector=x", nil, false, "", ErrBadValue, "vector"},
		{"reschedule_exit", "vector=40000", nil, false, "", ErrBadValue, "vector"},
		{"reschedule_exit", "253", nil, false, "", ErrBadValue, "253"},
		// vector management
		{"vector_config", "irq=26 vector=35 cpu=1 apicdest=0x00000002", fv{FIRQ: 26, FVector: 35, FTargetCPU: 1, FAPICDest: 2}, false, "", nil, ""},
		{"vector_config", "irq=26 vector=239 cpu=0 apicdest=0xffffffff", fv{FIRQ: 26, FVector: 239, FTargetCPU: 0, FAPICDest: 0xffffffff}, false, "", nil, ""},
		{"vector_config", "irq=26 vector=35 cpu=1 apicdest=0x100000000", nil, false, "", ErrBadValue, "apicdest"},
		{"vector_update", "irq=26 vector=35 cpu=1 prev_vector=0 prev_cpu=1", fv{FIRQ: 26, FVector: 35, FTargetCPU: 1}, false, "", nil, ""},
		{"vector_update", "irq=26 vector=35 cpu=1 prev_vector=0 prev_cpu=0", fv{FIRQ: 26, FVector: 35, FTargetCPU: 1}, false, "", nil, ""},
		{"vector_update", "irq=38 vector=33 cpu=3 prev_vector=38 prev_cpu=0", fv{FIRQ: 38, FVector: 33, FTargetCPU: 3, FPrevVector: 38, FPrevCPU: 0}, false, "", nil, ""},
		{"vector_update", "irq=38 vector=33 cpu=3 prev_vector=38", nil, false, "", ErrMissingField, "prev_cpu"},
		{"vector_update", "irq=38 vector=33 cpu=-1 prev_vector=38 prev_cpu=0", nil, false, "", ErrBadValue, "target_cpu"},
		{"vector_clear", "irq=40 vector=33 cpu=3 prev_vector=34 prev_cpu=2", fv{FIRQ: 40, FVector: 33, FTargetCPU: 3, FPrevVector: 34, FPrevCPU: 2}, false, "", nil, ""},
		{"vector_reserve_managed", "irq=40 ret=-28", fv{FIRQ: 40, FRet: -28}, false, "", nil, ""},
		{"vector_reserve", "irq=41 ret=0", fv{FIRQ: 41, FRet: 0}, false, "", nil, ""},
		{"vector_alloc", "irq=35 vector=43 reserved=0 ret=0", fv{FIRQ: 35, FVector: 43, FReserved: 0, FRet: 0}, false, "", nil, ""},
		{"vector_alloc", "irq=35 vector=0 reserved=1 ret=-28", fv{FIRQ: 35, FVector: 0, FReserved: 1, FRet: -28}, false, "", nil, ""},
		{"vector_alloc", "irq=35 vector=0 reserved=2 ret=-28", nil, false, "", ErrBadValue, "reserved"},
		{"vector_alloc_managed", "irq=26 vector=35 ret=0", fv{FIRQ: 26, FVector: 35, FRet: 0}, false, "", nil, ""},
		{"vector_activate", "irq=26 is_managed=1 can_reserve=0 reserve=0", fv{FIRQ: 26, FIsManaged: 1, FCanReserve: 0, FReserve: 0}, false, "", nil, ""},
		{"vector_activate", "irq=26 is_managed=0 can_reserve=1 early=1", fv{FIRQ: 26, FIsManaged: 0, FCanReserve: 1, FReserve: 1}, false, "", nil, ""},
		{"vector_deactivate", "irq=26 is_managed=1 can_reserve=0 reserve=0", fv{FIRQ: 26, FIsManaged: 1, FCanReserve: 0, FReserve: 0}, false, "", nil, ""},
		{"vector_teardown", "irq=26 is_managed=1 has_reserved=0", fv{FIRQ: 26, FIsManaged: 1, FHasReserved: 0}, false, "", nil, ""},
		{"vector_setup", "irq=4 is_legacy=1 ret=0", fv{FIRQ: 4, FIsLegacy: 1, FRet: 0}, false, "", nil, ""},
		{"vector_free_moved", "irq=35 cpu=2 vector=41 is_managed=0", fv{FIRQ: 35, FTargetCPU: 2, FVector: 41, FIsManaged: 0}, false, "", nil, ""},
		// unknown keys are kept as arguments (a future field)
		{"vector_free_moved", "irq=35 cpu=2 vector=41 is_managed=0 new=7", fv{FIRQ: 35, FTargetCPU: 2, FVector: 41, FIsManaged: 0}, false, "new=7", nil, ""},
		// irq_matrix: note the commas after global_avl and global_rsvd
		{"irq_matrix_online", "online_maps=4 global_avl=771, global_rsvd=12, total_alloc=27", fv{FOnlineMaps: 4, FGlobalAvl: 771, FGlobalRsvd: 12, FTotalAlloc: 27}, false, "", nil, ""},
		{"irq_matrix_assign_system", "bit=236 online_maps=1 global_avl=0, global_rsvd=0, total_alloc=0", fv{FVector: 236, FOnlineMaps: 1, FGlobalAvl: 0, FGlobalRsvd: 0, FTotalAlloc: 0}, false, "", nil, ""},
		{"irq_matrix_alloc", "bit=43 cpu=1 online=1 avl=190 alloc=10 managed=4 online_maps=4 global_avl=770, global_rsvd=12, total_alloc=31",
			fv{FVector: 43, FTargetCPU: 1, FOnline: 1, FAvl: 190, FAlloc: 10, FManaged: 4, FOnlineMaps: 4, FGlobalAvl: 770, FGlobalRsvd: 12, FTotalAlloc: 31}, false, "", nil, ""},
		{"irq_matrix_free", "bit=43 cpu=1 online=1 avl=190 alloc=10 managed=4 online_maps=4 global_avl=770, global_rsvd=12,", nil, false, "", ErrMissingField, "total_alloc"},
		// cpuhp
		{"cpuhp_enter", "cpu: 0001 target: 153 step: 236 (cpuhp_kick_ap_work)", fv{FTargetCPU: 1, FTargetState: 153, FStep: 236, FFunc: "cpuhp_kick_ap_work"}, false, "", nil, ""},
		{"cpuhp_multi_enter", "cpu: 0003 target:   0 step:  65 (zswap_cpu_comp_dead)", fv{FTargetCPU: 3, FTargetState: 0, FStep: 65, FFunc: "zswap_cpu_comp_dead"}, false, "", nil, ""},
		{"cpuhp_exit", " cpu: 0003  state: 234 step: 235 ret: 0", fv{FTargetCPU: 3, FState: 234, FStep: 235, FRet: 0}, false, "", nil, ""},
		{"cpuhp_exit", "cpu: 0003  state: 234 step: 235 ret: -16", fv{FTargetCPU: 3, FState: 234, FStep: 235, FRet: -16}, false, "", nil, ""},
		{"cpuhp_enter", "cpu: 0001 target: 153 step: 236", nil, false, "", ErrMissingField, "func"},
		{"cpuhp_enter", "cpu: 0001 target: 153 step: 236 (", nil, false, "", ErrBadValue, "func"},
		{"cpuhp_exit", "cpu: 0003 state: x step: 235 ret: 0", nil, false, "", ErrBadValue, "state"},
		{"cpuhp_exit", ": 0 cpu: 0003 state: 1 step: 235 ret: 0", nil, false, "", ErrBadValue, ":"},
		// irq
		{"irq_handler_entry", "irq=28 name=virtio0-req.3", fv{FIRQ: 28, FName: "virtio0-req.3"}, false, "", nil, ""},
		{"irq_handler_entry", "irq=9 name=acpi", fv{FIRQ: 9, FName: "acpi"}, false, "", nil, ""},
		{"irq_handler_entry", "irq=9", nil, false, "", ErrMissingField, "name"},
		{"irq_handler_exit", "irq=28 ret=handled", fv{FIRQ: 28, FRet: 1}, false, "", nil, ""},
		{"irq_handler_exit", "irq=28 ret=unhandled", fv{FIRQ: 28, FRet: 0}, false, "", nil, ""},
		{"irq_handler_exit", "irq=28", nil, false, "", ErrMissingField, "ret"},
		{"softirq_entry", "vec=1 [action=TIMER]", fv{FVec: 1, FName: "TIMER"}, false, "", nil, ""},
		{"softirq_raise", "vec=9 [action=RCU]", fv{FVec: 9, FName: "RCU"}, false, "", nil, ""},
		{"softirq_exit", "vec=300 [action=RCU]", nil, false, "", ErrBadValue, "vec"},
		{"softirq_exit", "vec=3", nil, false, "", ErrMissingField, "action"},
		{"tasklet_entry", "tasklet=0xffff8881003c2e00 function=tcp_tasklet_func", fv{FName: "0xffff8881003c2e00", FFunc: "tcp_tasklet_func"}, false, "", nil, ""},
		{"tasklet_exit", "tasklet=t [m] function=f [m]", fv{FName: "t", FFunc: "f"}, false, "", nil, ""},
		// ipi
		{"ipi_raise", "target_mask=00000000,00000001 (Function call interrupts)", fv{FCPUMask: "00000000,00000001", FName: "Function call interrupts"}, false, "", nil, ""},
		{"ipi_entry", "(Rescheduling interrupts)", fv{FName: "Rescheduling interrupts"}, false, "", nil, ""},
		{"ipi_exit", "Rescheduling interrupts", nil, false, "", ErrMissingField, "reason"},
		{"ipi_send_cpu", "cpu=3 callsite=generic_exec_single+0x3f/0x120 callback=0x0", fv{FTargetCPU: 3, FCaller: "generic_exec_single+0x3f/0x120", FFunc: "0x0"}, false, "", nil, ""},
		{"ipi_send_cpu", "cpu=3 callsite=x+0x1 callback=generic_smp_call_function_single_interrupt+0x0/0x10", fv{FTargetCPU: 3, FCaller: "x+0x1", FFunc: "generic_smp_call_function_single_interrupt+0x0/0x10"}, false, "", nil, ""},
		{"ipi_send_cpumask", "cpumask=00000000,00000030 callsite=on_each_cpu_cond_mask+0x20/0x40 callback=0x0", fv{FCPUMask: "00000000,00000030", FCaller: "on_each_cpu_cond_mask+0x20/0x40", FFunc: "0x0"}, false, "", nil, ""},
		{"ipi_send_cpumask", "callsite=a callback=b", nil, false, "", ErrMissingField, "cpumask"},
		// printk, markers, function tracer
		{"console", "smpboot: CPU 1 is now offline", fv{FText: "smpboot: CPU 1 is now offline"}, false, "", nil, ""},
		{"console", "[   46.710550] a  b ", fv{FText: "[   46.710550] a  b "}, false, "", nil, ""},
		{"tracing_mark_write", "RIG: capture start scenario=hotplug seed=21", fv{FFunc: "tracing_mark_write", FText: "RIG: capture start scenario=hotplug seed=21"}, false, "", nil, ""},
		{"print", "tracing_mark_write: RIG: a: b", fv{FFunc: "tracing_mark_write", FText: "RIG: a: b"}, false, "", nil, ""},
		{"print", "0xffffffff81234567: hello", fv{FFunc: "0xffffffff81234567", FText: "hello"}, false, "", nil, ""},
		{"print", "no symbol here", fv{FText: "no symbol here"}, false, "", nil, ""},
		{"function", "__irq_move_irq <-apic_ack_edge", fv{FFunc: "__irq_move_irq", FCaller: "apic_ack_edge"}, false, "", nil, ""},
		{"function", "   __irq_move_irq", fv{FFunc: "__irq_move_irq"}, false, "", nil, ""},
		{"function", "   apic_ack_edge <-- irq_chip_ack_parent", fv{FFunc: "apic_ack_edge", FCaller: "irq_chip_ack_parent"}, false, "", nil, ""},
		{"function", "a b", nil, false, "", ErrBadValue, "parent"},
		{"function", "", nil, false, "", ErrMissingField, "func"},
		// outside the catalog
		{"sched_switch", "prev_comm=bash prev_pid=5 ==> next_comm=x next_pid=0,", fv{}, true, "prev_comm=bash prev_pid=5 next_comm=x next_pid=0", nil, ""},
		{"cpuhp_latency", " cpu:3 state:ONLINE latency:1234 USEC ret: 0", fv{}, true, "", nil, ""},
		// [FAILED TO PARSE]: the binary field names
		{"irq_matrix_alloc", "[FAILED TO PARSE] bit=36 cpu=1 online=1 available=199 allocated=2 managed=0 online_maps=8 global_available=1590 global_reserved=6 total_allocated=15",
			fv{FVector: 36, FTargetCPU: 1, FOnline: 1, FAvl: 199, FAlloc: 2, FManaged: 0, FOnlineMaps: 8, FGlobalAvl: 1590, FGlobalRsvd: 6, FTotalAlloc: 15}, true, "", nil, ""},
		{"vector_update", "[FAILED TO PARSE] irq=3 vector=33", fv{FIRQ: 3, FVector: 33}, true, "", nil, ""},
		{"sched_waking", "[FAILED TO PARSE] comm=bash pid=5", fv{}, true, "comm=bash pid=5", nil, ""},
	}
	for _, c := range tests {
		t.Run(c.event+"/"+c.payload, func(t *testing.T) {
			id := Lookup([]byte(c.event))
			var p Payload
			err := Decode(id, []byte(c.event), []byte(c.payload), &p)
			if c.err != nil {
				var fe *FieldError
				if !errors.Is(err, c.err) || !errors.As(err, &fe) || fe.Field != c.errFld || fe.Event != id.String() && id != EvFunction {
					t.Fatalf("err = %v, want %v on field %s", err, c.err, c.errFld)
				}
				if !strings.Contains(err.Error(), c.errFld) {
					t.Errorf("message %q does not name the field", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got, want := gotFields(&p), norm(c.want); got.String() != want.String() {
				t.Errorf("fields = %v\n          want %v", got, want)
			}
			if p.Generic != c.generic || argsString(&p) != c.args {
				t.Errorf("generic %v args %q, want %v %q", p.Generic, argsString(&p), c.generic, c.args)
			}
		})
	}
}

// TestDecodeReuse: a Payload reused after Reset carries nothing over.
func TestDecodeReuse(t *testing.T) {
	var p Payload
	if err := Decode(EvVectorUpdate, nil, []byte("irq=38 vector=33 cpu=3 prev_vector=38 prev_cpu=0 x=1"), &p); err != nil {
		t.Fatal(err)
	}
	p.Reset()
	if err := Decode(EvLocalTimerEntry, nil, []byte("vector=236"), &p); err != nil {
		t.Fatal(err)
	}
	if got := gotFields(&p).String(); got != "vector=236" || len(p.Args) != 0 || p.Generic {
		t.Errorf("after reuse: %s args %v generic %v", got, p.Args, p.Generic)
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true}, {"0003", 3, true}, {"-28", -28, true}, {"0x00000002", 2, true}, {"0XfF", 255, true},
		{"0x7fffffffffffffff", 0, false}, // 16 hex digits: more than the 63-bit limit
		{"0xfffffffffffffff", 1<<60 - 1, true},
		{"999999999999999999", 999999999999999999, true}, {"9999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"0x", 0, false}, {"1a", 0, false}, {"+1", 0, false}, {" 1", 0, false},
		{"0xg", 0, false}, {"--1", 0, false},
	}
	for _, c := range tests {
		got, ok := ParseInt([]byte(c.in))
		if ok != c.ok || ok && got != c.want {
			t.Errorf("ParseInt(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestCatalog: every event of tracepoints.md section 1 is in the catalog
// under its system, names are unique, and lookups agree.
func TestCatalog(t *testing.T) {
	doc := map[string][]string{
		"irq_vectors": {"local_timer_entry", "local_timer_exit", "spurious_apic_entry", "spurious_apic_exit",
			"error_apic_entry", "error_apic_exit", "x86_platform_ipi_entry", "x86_platform_ipi_exit",
			"irq_work_entry", "irq_work_exit", "reschedule_entry", "reschedule_exit", "call_function_entry",
			"call_function_exit", "call_function_single_entry", "call_function_single_exit",
			"threshold_apic_entry", "threshold_apic_exit", "deferred_error_apic_entry", "deferred_error_apic_exit",
			"thermal_apic_entry", "thermal_apic_exit", "vector_config", "vector_update", "vector_clear",
			"vector_reserve_managed", "vector_reserve", "vector_alloc", "vector_alloc_managed", "vector_activate",
			"vector_deactivate", "vector_teardown", "vector_setup", "vector_free_moved"},
		"irq_matrix": {"irq_matrix_online", "irq_matrix_offline", "irq_matrix_reserve", "irq_matrix_remove_reserved",
			"irq_matrix_assign_system", "irq_matrix_reserve_managed", "irq_matrix_remove_managed",
			"irq_matrix_alloc_managed", "irq_matrix_assign", "irq_matrix_alloc", "irq_matrix_free", "irq_matrix_alloc_reserved"},
		"cpuhp":  {"cpuhp_enter", "cpuhp_multi_enter", "cpuhp_exit"},
		"irq":    {"irq_handler_entry", "irq_handler_exit", "softirq_entry", "softirq_exit", "softirq_raise", "tasklet_entry", "tasklet_exit"},
		"ipi":    {"ipi_raise", "ipi_entry", "ipi_exit", "ipi_send_cpu", "ipi_send_cpumask"},
		"printk": {"console"},
		"ftrace": {"print", "function"},
	}
	n := 0
	for sys, names := range doc {
		for _, name := range names {
			n++
			id := Lookup([]byte(name))
			if id == EvUnknown || id.String() != name || id.Info().System != sys {
				t.Errorf("%s:%s -> %d %q %q", sys, name, id, id.String(), id.Info().System)
			}
		}
	}
	if ev := Events(); len(ev) != n || NumEvents != n+1 {
		t.Errorf("%d catalog events (NumEvents %d), the document lists %d", len(ev), NumEvents, n)
	}
	seen := map[string]bool{}
	for _, e := range Events() {
		if seen[e.Name] {
			t.Errorf("duplicate %s", e.Name)
		}
		seen[e.Name] = true
	}
	if Lookup([]byte("tracing_mark_write")) != EvPrint {
		t.Error("tracing_mark_write is not an alias of print")
	}
	for _, s := range []string{"", "sched_switch", "irq:irq_handler_entry", "VECTOR_UPDATE"} {
		if Lookup([]byte(s)) != EvUnknown {
			t.Errorf("Lookup(%q) is not EvUnknown", s)
		}
	}
	if EventID(60000).String() != "" || EvUnknown.String() != "" {
		t.Error("out-of-range IDs must read as unknown")
	}
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want Flags // Raw/RawLen/Present filled by the test
	}{
		{"d.h1", true, Flags{IRQsOff: true, NeedResched: '.', Hardirq: true, PreemptDepth: 1}},
		{"d.h1.", true, Flags{IRQsOff: true, NeedResched: '.', Hardirq: true, PreemptDepth: 1, HasMigrate: true}},
		{"D.s2f", true, Flags{IRQsOff: true, BHOff: true, NeedResched: '.', Softirq: true, PreemptDepth: 2, HasMigrate: true, MigrateDisable: 15}},
		{"b...1", true, Flags{BHOff: true, NeedResched: '.', HasMigrate: true, MigrateDisable: 1}},
		{"X.z..", true, Flags{IRQFlagUnknown: true, NeedResched: '.', NMI: true, HasMigrate: true}},
		{".NZ..", true, Flags{NeedResched: 'N', NMI: true, Hardirq: true, HasMigrate: true}},
		{".nH..", true, Flags{NeedResched: 'n', Hardirq: true, Softirq: true, HasMigrate: true}},
		{".p...", true, Flags{NeedResched: 'p', HasMigrate: true}},
		{".l...", true, Flags{NeedResched: 'l', HasMigrate: true}},
		{".L...", true, Flags{NeedResched: 'L', HasMigrate: true}},
		{".b...", true, Flags{NeedResched: 'b', HasMigrate: true}},
		{".B...", true, Flags{NeedResched: 'B', HasMigrate: true}},
		{"d.h1..", true, Flags{IRQsOff: true, NeedResched: '.', Hardirq: true, PreemptDepth: 1, HasMigrate: true}},
		{"dNh1.2.", true, Flags{IRQsOff: true, NeedResched: 'N', Hardirq: true, PreemptDepth: 1, HasMigrate: true}},
		{"d.h1....", true, Flags{IRQsOff: true, NeedResched: '.', Hardirq: true, PreemptDepth: 1, HasMigrate: true}},
		{"d.h1.....", false, Flags{}},
		{"d.h", false, Flags{}},
		{"", false, Flags{}},
		{"q.h1.", false, Flags{}},
		{"dqh1.", false, Flags{}},
		{"d.q1.", false, Flags{}},
		{"d.hg.", false, Flags{}},
		{"d.h1g", false, Flags{}},
		{"d.h1.g", false, Flags{}},
		{"612.301255:", false, Flags{}},
		{"12345", false, Flags{}},
		{"d.hA.", false, Flags{}}, // depths are lower-case hex
	}
	for _, c := range tests {
		got, ok := ParseFlags([]byte(c.in))
		if ok != c.ok {
			t.Errorf("ParseFlags(%q) ok = %v", c.in, ok)
			continue
		}
		if !ok {
			continue
		}
		want := c.want
		want.Present = true
		want.RawLen = uint8(copy(want.Raw[:], c.in))
		if got != want {
			t.Errorf("ParseFlags(%q) =\n %+v, want\n %+v", c.in, got, want)
		}
	}
}

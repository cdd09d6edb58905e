package ftrace

// EventID identifies an event of the catalog. IDs are stable within one
// build of irqtrace only; tables store event names, never IDs.
type EventID uint16

// Family groups events that share a payload layout (a TP_printk class).
type Family uint8

// Payload families.
const (
	FamGeneric            Family = iota // any event outside the catalog: raw payload + key=value split
	FamSysvec                           // "vector=%d": x86 system-vector entry/exit
	FamVectorConfig                     // vector_config
	FamVectorMod                        // vector_update, vector_clear
	FamVectorReserve                    // vector_reserve, vector_reserve_managed
	FamVectorAlloc                      // vector_alloc
	FamVectorAllocMgd                   // vector_alloc_managed
	FamVectorActivate                   // vector_activate, vector_deactivate
	FamVectorTeardown                   // vector_teardown
	FamVectorSetup                      // vector_setup
	FamVectorFreeMoved                  // vector_free_moved
	FamMatrixGlobal                     // irq_matrix_global class
	FamMatrixGlobalUpdate               // irq_matrix_global_update class
	FamMatrixCPU                        // irq_matrix_cpu class
	FamCPUHPEnter                       // cpuhp_enter, cpuhp_multi_enter
	FamCPUHPExit                        // cpuhp_exit
	FamHandlerEntry                     // irq_handler_entry
	FamHandlerExit                      // irq_handler_exit
	FamSoftirq                          // softirq_entry/exit/raise
	FamTasklet                          // tasklet_entry/exit
	FamIPIRaise                         // ipi_raise
	FamIPIReason                        // ipi_entry/exit
	FamIPISendCPU                       // ipi_send_cpu
	FamIPISendMask                      // ipi_send_cpumask
	FamConsole                          // printk:console
	FamPrint                            // ftrace:print (trace_marker writes)
	FamFunction                         // ftrace:function (function tracer)
)

// Event describes one catalog entry.
type Event struct {
	Name   string // kernel event name, without the system
	System string // event system (irq_vectors, irq_matrix, ...)
	Family Family
}

// Catalog event IDs. EvUnknown marks an event outside the catalog.
const (
	EvUnknown EventID = iota
	EvLocalTimerEntry
	EvLocalTimerExit
	EvSpuriousAPICEntry
	EvSpuriousAPICExit
	EvErrorAPICEntry
	EvErrorAPICExit
	EvX86PlatformIPIEntry
	EvX86PlatformIPIExit
	EvIRQWorkEntry
	EvIRQWorkExit
	EvRescheduleEntry
	EvRescheduleExit
	EvCallFunctionEntry
	EvCallFunctionExit
	EvCallFunctionSingleEntry
	EvCallFunctionSingleExit
	EvThresholdAPICEntry
	EvThresholdAPICExit
	EvDeferredErrorAPICEntry
	EvDeferredErrorAPICExit
	EvThermalAPICEntry
	EvThermalAPICExit
	EvVectorConfig
	EvVectorUpdate
	EvVectorClear
	EvVectorReserveManaged
	EvVectorReserve
	EvVectorAlloc
	EvVectorAllocManaged
	EvVectorActivate
	EvVectorDeactivate
	EvVectorTeardown
	EvVectorSetup
	EvVectorFreeMoved
	EvMatrixOnline
	EvMatrixOffline
	EvMatrixReserve
	EvMatrixRemoveReserved
	EvMatrixAssignSystem
	EvMatrixReserveManaged
	EvMatrixRemoveManaged
	EvMatrixAllocManaged
	EvMatrixAssign
	EvMatrixAlloc
	EvMatrixFree
	EvMatrixAllocReserved
	EvCPUHPEnter
	EvCPUHPMultiEnter
	EvCPUHPExit
	EvIRQHandlerEntry
	EvIRQHandlerExit
	EvSoftirqEntry
	EvSoftirqExit
	EvSoftirqRaise
	EvTaskletEntry
	EvTaskletExit
	EvIPIRaise
	EvIPIEntry
	EvIPIExit
	EvIPISendCPU
	EvIPISendCPUMask
	EvConsole
	EvPrint
	EvFunction
	numEvents
)

var catalog = [numEvents]Event{
	EvUnknown:                 {"", "", FamGeneric},
	EvLocalTimerEntry:         {"local_timer_entry", "irq_vectors", FamSysvec},
	EvLocalTimerExit:          {"local_timer_exit", "irq_vectors", FamSysvec},
	EvSpuriousAPICEntry:       {"spurious_apic_entry", "irq_vectors", FamSysvec},
	EvSpuriousAPICExit:        {"spurious_apic_exit", "irq_vectors", FamSysvec},
	EvErrorAPICEntry:          {"error_apic_entry", "irq_vectors", FamSysvec},
	EvErrorAPICExit:           {"error_apic_exit", "irq_vectors", FamSysvec},
	EvX86PlatformIPIEntry:     {"x86_platform_ipi_entry", "irq_vectors", FamSysvec},
	EvX86PlatformIPIExit:      {"x86_platform_ipi_exit", "irq_vectors", FamSysvec},
	EvIRQWorkEntry:            {"irq_work_entry", "irq_vectors", FamSysvec},
	EvIRQWorkExit:             {"irq_work_exit", "irq_vectors", FamSysvec},
	EvRescheduleEntry:         {"reschedule_entry", "irq_vectors", FamSysvec},
	EvRescheduleExit:          {"reschedule_exit", "irq_vectors", FamSysvec},
	EvCallFunctionEntry:       {"call_function_entry", "irq_vectors", FamSysvec},
	EvCallFunctionExit:        {"call_function_exit", "irq_vectors", FamSysvec},
	EvCallFunctionSingleEntry: {"call_function_single_entry", "irq_vectors", FamSysvec},
	EvCallFunctionSingleExit:  {"call_function_single_exit", "irq_vectors", FamSysvec},
	EvThresholdAPICEntry:      {"threshold_apic_entry", "irq_vectors", FamSysvec},
	EvThresholdAPICExit:       {"threshold_apic_exit", "irq_vectors", FamSysvec},
	EvDeferredErrorAPICEntry:  {"deferred_error_apic_entry", "irq_vectors", FamSysvec},
	EvDeferredErrorAPICExit:   {"deferred_error_apic_exit", "irq_vectors", FamSysvec},
	EvThermalAPICEntry:        {"thermal_apic_entry", "irq_vectors", FamSysvec},
	EvThermalAPICExit:         {"thermal_apic_exit", "irq_vectors", FamSysvec},
	EvVectorConfig:            {"vector_config", "irq_vectors", FamVectorConfig},
	EvVectorUpdate:            {"vector_update", "irq_vectors", FamVectorMod},
	EvVectorClear:             {"vector_clear", "irq_vectors", FamVectorMod},
	EvVectorReserveManaged:    {"vector_reserve_managed", "irq_vectors", FamVectorReserve},
	EvVectorReserve:           {"vector_reserve", "irq_vectors", FamVectorReserve},
	EvVectorAlloc:             {"vector_alloc", "irq_vectors", FamVectorAlloc},
	EvVectorAllocManaged:      {"vector_alloc_managed", "irq_vectors", FamVectorAllocMgd},
	EvVectorActivate:          {"vector_activate", "irq_vectors", FamVectorActivate},
	EvVectorDeactivate:        {"vector_deactivate", "irq_vectors", FamVectorActivate},
	EvVectorTeardown:          {"vector_teardown", "irq_vectors", FamVectorTeardown},
	EvVectorSetup:             {"vector_setup", "irq_vectors", FamVectorSetup},
	EvVectorFreeMoved:         {"vector_free_moved", "irq_vectors", FamVectorFreeMoved},
	EvMatrixOnline:            {"irq_matrix_online", "irq_matrix", FamMatrixGlobal},
	EvMatrixOffline:           {"irq_matrix_offline", "irq_matrix", FamMatrixGlobal},
	EvMatrixReserve:           {"irq_matrix_reserve", "irq_matrix", FamMatrixGlobal},
	EvMatrixRemoveReserved:    {"irq_matrix_remove_reserved", "irq_matrix", FamMatrixGlobal},
	EvMatrixAssignSystem:      {"irq_matrix_assign_system", "irq_matrix", FamMatrixGlobalUpdate},
	EvMatrixReserveManaged:    {"irq_matrix_reserve_managed", "irq_matrix", FamMatrixCPU},
	EvMatrixRemoveManaged:     {"irq_matrix_remove_managed", "irq_matrix", FamMatrixCPU},
	EvMatrixAllocManaged:      {"irq_matrix_alloc_managed", "irq_matrix", FamMatrixCPU},
	EvMatrixAssign:            {"irq_matrix_assign", "irq_matrix", FamMatrixCPU},
	EvMatrixAlloc:             {"irq_matrix_alloc", "irq_matrix", FamMatrixCPU},
	EvMatrixFree:              {"irq_matrix_free", "irq_matrix", FamMatrixCPU},
	EvMatrixAllocReserved:     {"irq_matrix_alloc_reserved", "irq_matrix", FamMatrixCPU},
	EvCPUHPEnter:              {"cpuhp_enter", "cpuhp", FamCPUHPEnter},
	EvCPUHPMultiEnter:         {"cpuhp_multi_enter", "cpuhp", FamCPUHPEnter},
	EvCPUHPExit:               {"cpuhp_exit", "cpuhp", FamCPUHPExit},
	EvIRQHandlerEntry:         {"irq_handler_entry", "irq", FamHandlerEntry},
	EvIRQHandlerExit:          {"irq_handler_exit", "irq", FamHandlerExit},
	EvSoftirqEntry:            {"softirq_entry", "irq", FamSoftirq},
	EvSoftirqExit:             {"softirq_exit", "irq", FamSoftirq},
	EvSoftirqRaise:            {"softirq_raise", "irq", FamSoftirq},
	EvTaskletEntry:            {"tasklet_entry", "irq", FamTasklet},
	EvTaskletExit:             {"tasklet_exit", "irq", FamTasklet},
	EvIPIRaise:                {"ipi_raise", "ipi", FamIPIRaise},
	EvIPIEntry:                {"ipi_entry", "ipi", FamIPIReason},
	EvIPIExit:                 {"ipi_exit", "ipi", FamIPIReason},
	EvIPISendCPU:              {"ipi_send_cpu", "ipi", FamIPISendCPU},
	EvIPISendCPUMask:          {"ipi_send_cpumask", "ipi", FamIPISendMask},
	EvConsole:                 {"console", "printk", FamConsole},
	EvPrint:                   {"print", "ftrace", FamPrint},
	EvFunction:                {"function", "ftrace", FamFunction},
}

// NumEvents is the number of catalog IDs, EvUnknown included.
const NumEvents = int(numEvents)

var byName = func() map[string]EventID {
	m := make(map[string]EventID, numEvents+2)
	for id := EvUnknown + 1; id < numEvents; id++ {
		m[catalog[id].Name] = id
	}
	// Aliases: the ftrace text renders a trace_marker write with the
	// symbol of its writer in place of the event name.
	m["tracing_mark_write"] = EvPrint
	return m
}()

// Info returns the catalog entry of id.
func (id EventID) Info() Event {
	if id >= numEvents {
		return catalog[EvUnknown]
	}
	return catalog[id]
}

// String returns the event's kernel name ("" for EvUnknown).
func (id EventID) String() string { return id.Info().Name }

// Lookup returns the catalog ID of an event name given without its system
// (EvUnknown if the name is not in the catalog). It does not allocate.
func Lookup(name []byte) EventID {
	return byName[string(name)]
}

// Events returns the catalog in ID order, EvUnknown excluded.
func Events() []Event {
	out := make([]Event, 0, numEvents-1)
	for id := EvUnknown + 1; id < numEvents; id++ {
		out = append(out, catalog[id])
	}
	return out
}

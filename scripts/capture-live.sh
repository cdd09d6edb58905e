#!/usr/bin/env bash
# capture-live.sh - capture small, REAL interrupt traces from this machine's
# live tracefs into testdata/live/ (plus a MANIFEST.md with ground-truth counts).
#
# Usage (as root):  scripts/capture-live.sh [OUTDIR]
#   OUTDIR defaults to <repo>/testdata/live. Re-runnable: every output file is
#   regenerated from scratch on each run.
#   NO_APT=1     do not try to apt-get install trace-cmd / linux-perf when missing
#
# Rules this script follows:
#   * never touches the top-level ftrace buffer: everything is done in a private
#     instance (instances/irqtrace-cap; trace-cmd uses instances/irqtrace-tcmd),
#     which is torn down by an EXIT trap, also on error/interrupt;
#   * never changes irq affinity or CPU hotplug state.
#   * perf uses its own perf_event buffers.
set -uo pipefail

TRACEFS=${TRACEFS:-/sys/kernel/tracing}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/testdata/live}
INST_NAME=irqtrace-cap
TCMD_INST=irqtrace-tcmd
I=$TRACEFS/instances/$INST_NAME
MAX_PLAIN=$((300 * 1024))          # store uncompressed below this size, else xz -9
WORK=$(mktemp -d /tmp/irqtrace-capture.XXXXXX)
LOG=$WORK/capture.log
BGPIDS=()

log() { echo "[capture-live] $*" | tee -a "$LOG" >&2; }

# ---------------------------------------------------------------- cleanup
teardown_instance() {           # $1 = instance dir; disables everything, rmdir
    local d=$1
    [ -d "$d" ] || return 0
    { echo 0 > "$d/tracing_on"; } 2>/dev/null
    { echo nop > "$d/current_tracer"; } 2>/dev/null
    { echo > "$d/set_event"; } 2>/dev/null
    [ "${FUNC_FILTER_SET:-0}" = 1 ] && { : > "$d/set_ftrace_filter"; } 2>/dev/null
    rmdir "$d" 2>/dev/null || log "WARNING: could not rmdir $d"
}
cleanup() {
    local p
    for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    teardown_instance "$I"
    teardown_instance "$TRACEFS/instances/$TCMD_INST"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }
if [ ! -e "$TRACEFS/instances" ]; then
    mount -t tracefs nodev "$TRACEFS" || { echo "cannot mount tracefs" >&2; exit 1; }
fi
mkdir -p "$OUT"
# regenerate everything we own (only our own files)
rm -rf "$OUT/formats"
rm -f "$OUT"/count-events.awk "$OUT"/ftrace-*.txt "$OUT"/ftrace-*.txt.xz "$OUT"/trace_pipe*.txt "$OUT"/trace_pipe*.txt.xz \
      "$OUT"/trace-cmd-*.txt "$OUT"/trace-cmd-*.txt.xz "$OUT"/perf-script*.txt "$OUT"/perf-script*.txt.xz \
      "$OUT"/trace.dat "$OUT"/trace.dat.xz "$OUT"/perf.data "$OUT"/perf.data.xz "$OUT"/perf-callchain.data \
      "$OUT"/uname.txt "$OUT"/trace_clock.txt "$OUT"/tool-versions.txt "$OUT"/MANIFEST.md "$OUT"/capture-log.txt

# results table rows: file|status|command/options|notes
RESULTS=$WORK/results
: > "$RESULTS"
result() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" >> "$RESULTS"; }

# ---------------------------------------------------------------- helpers
new_instance() {                # fresh instance with kernel default options
    teardown_instance "$I"
    mkdir "$I" || { log "cannot create instance $I"; return 1; }
    echo 0 > "$I/tracing_on"
}
enable_irq_events() {           # irq:*, irq_vectors:*, ipi:*, printk:console (if present)
    echo 'irq:*' > "$I/set_event"
    echo 'irq_vectors:*' >> "$I/set_event"
    echo 'ipi:*' >> "$I/set_event"
    if grep -qx 'printk:console' "$TRACEFS/available_events"; then
        echo 'printk:console' >> "$I/set_event"
    fi
}
marker() {   # only ever writes to an existing instance's trace_marker
    [ -n "${I:-}" ] && [ -e "$I/trace_marker" ] || return 0
    { echo "IRQTRACE: marker $1" > "$I/trace_marker"; } 2>/dev/null || true
}
# Generate interrupt activity for roughly $1 seconds:
# virtio-blk completions (O_DIRECT dd), timer ticks, IPIs from fork/exec/wakeups,
# a kernel log line (printk:console -> serial console) and trace_marker lines.
activity() {
    local dur=${1:-0.4} tag=${2:-a}
    marker "1 ($tag start)"
    dd if=/dev/zero of="$WORK/dd.bin" bs=64k count=8 oflag=direct status=none 2>/dev/null
    marker "2 ($tag after dd)"
    { echo "irqtrace: capture-live kmsg ($tag)" > /dev/kmsg; } 2>/dev/null || true
    local p1 p2
    ( sleep 0.02 ) & p1=$!
    ( sleep 0.03 ) & p2=$!
    wait "$p1" "$p2"
    sleep "$dur"
    dd if="$WORK/dd.bin" of=/dev/null bs=64k iflag=direct status=none 2>/dev/null
    marker "3 ($tag end)"
}
# busy loop for $1 seconds (used under perf: on this machine perf records no
# tracepoint samples from the idle task of CPU1, so keep the CPUs busy)
spin() { timeout "$1" bash -c 'while :; do :; done' 2>/dev/null; return 0; }
export -f activity marker spin
export WORK

show_cmd() {   # print an argv with single quotes around words that need them; strip $WORK/
    local a out=""
    for a in "$@"; do
        a=${a//$WORK\//}
        case $a in *[[:space:]\&\;\|\*]*) out+="'$a' ";; *) out+="$a ";; esac
    done
    printf '%s' "${out% }"
}
fits() { [ "$(stat -c %s "$1")" -le "$MAX_PLAIN" ]; }
# Store $1 (a file in $WORK) as $2 in $OUT, xz -9 if it is too big.
store() {
    local src=$1 name=$2 sz
    sz=$(stat -c %s "$src")
    cp "$src" "$WORK/plain-$name"     # keep the plain copy for counting
    if [ "$sz" -gt "$MAX_PLAIN" ]; then
        xz -9 -c "$src" > "$OUT/$name.xz"
        echo "$name.xz"
    else
        cp "$src" "$OUT/$name"
        echo "$name"
    fi
}
# Standard ftrace capture: $1=outfile name, $2=clock, $3=window seconds, rest = "option=value" pairs
ftrace_capture() {
    local name=$1 clock=$2 win=$3; shift 3
    local opt desc="instance $INST_NAME; set_event irq:* irq_vectors:* ipi:* printk:console; trace_clock=$clock"
    new_instance || return 1
    echo "$clock" > "$I/trace_clock" || { result "$name" FAILED "trace_clock=$clock" "clock not accepted"; return 1; }
    for opt in "$@"; do
        if echo "${opt#*=}" > "$I/options/${opt%%=*}"; then
            desc="$desc; options/${opt%%=*}=${opt#*=}"
        else
            result "$name" FAILED "options/$opt" "option write failed"; return 1
        fi
    done
    enable_irq_events
    # the event rate depends on the machine's load: shrink the window until the text fits
    local w note=""
    for w in "$win" 0.05 0.01 0; do
        echo > "$I/trace"
        echo 1 > "$I/tracing_on"
        activity "$w" "$name"
        echo 0 > "$I/tracing_on"
        cat "$I/trace" > "$WORK/$name"
        [ "$(stat -c %s "$WORK/$name")" -le "$MAX_PLAIN" ] && break
        note="$note retried: $(stat -c %s "$WORK/$name") bytes with window ${w}s;"
    done
    local stored; stored=$(store "$WORK/$name" "$name")
    result "$stored" OK "$desc; activity() with sleep ${w}s; cat instances/$INST_NAME/trace" "$note"
}

# ================================================================ captures
log "output: $OUT   kernel: $(uname -r)"

# ---- 1-4 (+ latency-format bonus)
ftrace_capture ftrace-irqinfo.txt   local   0.2
ftrace_capture ftrace-noirqinfo.txt local   0.2 irq-info=0
ftrace_capture ftrace-tgid.txt      local   0.2 record-tgid=1
ftrace_capture ftrace-counter.txt   counter 0.2
ftrace_capture ftrace-x86tsc.txt    x86-tsc 0.2
ftrace_capture ftrace-latency.txt   local   0.2 latency-format=1

# ---- 5 function tracer (filtered to irq-related functions)
FUNC_CANDIDATES="handle_irq_event handle_edge_irq handle_fasteoi_irq handle_level_irq __handle_irq_event_percpu handle_irq_event_percpu irq_chip_retrigger_hierarchy apic_retrigger_irq __irq_move_irq irq_move_masked_irq note_interrupt"
function_capture() {
    local name=ftrace-function.txt f ok=() err
    new_instance || return 1
    if ! grep -qw function "$I/available_tracers" 2>/dev/null; then
        result "$name" SKIPPED "function tracer" "function tracer not in instance available_tracers"; return 1
    fi
    FUNC_FILTER_SET=1
    for f in $FUNC_CANDIDATES; do
        if err=$( { echo "$f" >> "$I/set_ftrace_filter"; } 2>&1 ); then ok+=("$f"); fi
    done
    if [ ${#ok[@]} -eq 0 ]; then
        result "$name" SKIPPED "echo <func> >> instances/$INST_NAME/set_ftrace_filter" \
            "no candidate accepted; last error: ${err##*: } (this machine denies set_ftrace_filter / available_filter_functions; never traced unfiltered)"
        return 1
    fi
    if ! err=$( { echo function > "$I/current_tracer"; } 2>&1 ); then
        result "$name" SKIPPED "echo function > instances/$INST_NAME/current_tracer" "write failed: ${err##*: }"
        return 1
    fi
    enable_irq_events
    echo > "$I/trace"; echo 1 > "$I/tracing_on"
    activity 0.3 function
    echo 0 > "$I/tracing_on"
    cat "$I/trace" > "$WORK/$name"
    echo nop > "$I/current_tracer"
    local stored; stored=$(store "$WORK/$name" "$name")
    result "$stored" OK "current_tracer=function; set_ftrace_filter=${ok[*]}; irq events enabled; clock local" ""
}
function_capture

# ---- 6 trace_pipe
pipe_capture() {
    local name=trace_pipe.txt d note=""
    for d in 0.5 0.25 0.1; do   # reader time; shrinks if the machine is busy
        new_instance || return 1
        enable_irq_events
        echo 1 > "$I/tracing_on"
        timeout "$d" cat "$I/trace_pipe" > "$WORK/$name" &
        local rp=$!; BGPIDS+=("$rp")
        activity 0 pipe
        wait "$rp"
        echo 0 > "$I/tracing_on"
        fits "$WORK/$name" && break
        note="$note retried: $(stat -c %s "$WORK/$name") bytes with ${d}s;"
    done
    local stored; stored=$(store "$WORK/$name" "$name")
    result "$stored" OK "default options, clock local; tracing_on=1 then 'timeout $d cat instances/$INST_NAME/trace_pipe' while activity() (sleep 0) runs" "$note"
}
pipe_capture

# ---- 7 overflow / lost-event markers
flood() {   # $1 tag, $2 count: trace_marker writes + O_DIRECT io
    local i dp
    dd if=/dev/zero of="$WORK/flood-$1.bin" bs=64k count=32 oflag=direct status=none 2>/dev/null & dp=$!
    for ((i = 1; i <= $2; i++)); do echo "IRQTRACE: flood $1 $i" > "$I/trace_marker"; done
    wait "$dp"
}
overflow_setup() {
    new_instance || return 1
    echo 1 > "$I/buffer_size_kb"            # kernel rounds up to its minimum
    OVF_KB=$(cat "$I/buffer_size_kb")
    enable_irq_events
    echo > "$I/trace"
}
# 7a: tracing stopped before reading `trace`, buffer overrun -> "##### CPU N buffer started ####"
overflow_started() {
    local name=ftrace-overflow.txt try
    for try in 1 2 3 4 5; do
        overflow_setup || return 1
        echo 1 > "$I/tracing_on"
        flood a 600 & local fp=$!; BGPIDS+=("$fp")
        flood b 300; wait "$fp"
        sleep 0.05
        echo 0 > "$I/tracing_on"
        cat "$I/trace" > "$WORK/$name"
        if grep -Eq '^##### CPU [0-9]+ buffer started ####$|^CPU:[0-9]+ \[LOST' "$WORK/$name"; then
            local stored; stored=$(store "$WORK/$name" "$name")
            result "$stored" OK "buffer_size_kb=1 (kernel gives $OVF_KB); default options (overwrite=1, annotate=1); clock local; 2 parallel loops of trace_marker writes (600+300) + O_DIRECT dd; tracing_on=0; cat trace" "attempt $try"
            return 0
        fi
    done
    result "$name" FAILED "see ftrace-overflow" "no marker after 5 attempts"
}
# 7b: read `trace` while writers keep overrunning it (pause-on-trace=0) -> "CPU:N [LOST EVENTS]"
overflow_lost_iter() {
    local name=ftrace-overflow-lost.txt try
    for try in 1 2 3 4 5 6 7 8 9 10; do
        overflow_setup || return 1
        echo 0 > "$I/options/pause-on-trace"
        echo 1 > "$I/tracing_on"
        flood a 10000 & local f1=$!; BGPIDS+=("$f1")
        flood b 10000 & local f2=$!; BGPIDS+=("$f2")
        sleep 0.05
        # one read() of 4 KiB, pause while the writers lap the iterator, then read the rest
        { exec 3< "$I/trace"; dd bs=4096 count=1 status=none <&3; sleep 0.3; cat <&3; exec 3<&-; } > "$WORK/$name"
        wait "$f1" "$f2"
        echo 0 > "$I/tracing_on"
        if grep -Eq '^CPU:[0-9]+ \[LOST' "$WORK/$name"; then
            local stored; stored=$(store "$WORK/$name" "$name")
            result "$stored" OK "buffer_size_kb=1 (kernel gives $OVF_KB); options/pause-on-trace=0; clock local; tracing left ON while reading: 2 parallel loops of 10000 trace_marker writes + dd; after 0.05 s read trace as: one 4096-byte read(), sleep 0.3, cat rest" "attempt $try"
            return 0
        fi
    done
    result "$name" FAILED "see ftrace-overflow-lost" "no LOST marker after 10 attempts"
}
# 7c: overrun first, then start a trace_pipe reader -> "CPU:N [LOST N EVENTS]"
overflow_lost_pipe() {
    local name=trace_pipe-lost.txt try d=0.5 note=""
    for try in 1 2 3 4 5 6; do
        overflow_setup || return 1
        echo 1 > "$I/tracing_on"
        flood a 600 & local fp=$!; BGPIDS+=("$fp")
        flood b 300; wait "$fp"
        timeout "$d" cat "$I/trace_pipe" > "$WORK/$name"
        echo 0 > "$I/tracing_on"
        if grep -Eq '^CPU:[0-9]+ \[LOST' "$WORK/$name"; then
            if fits "$WORK/$name" || [ "$try" -ge 5 ]; then
                local stored; stored=$(store "$WORK/$name" "$name")
                result "$stored" OK "buffer_size_kb=1 (kernel gives $OVF_KB); default options; clock local; overrun first (2 parallel trace_marker loops 600+300 + dd), THEN 'timeout $d cat trace_pipe' with tracing still on" "attempt $try;$note"
                return 0
            fi
            note="$note $(stat -c %s "$WORK/$name") bytes with ${d}s;"
            d=0.15
        fi
    done
    result "$name" FAILED "see trace_pipe-lost" "no LOST marker after 6 attempts"
}
overflow_started
overflow_lost_iter
overflow_lost_pipe

# ---- reference material from the instance (formats, clocks)
new_instance
mkdir -p "$OUT/formats"
for ev in irq/'*' irq_vectors/'*' ipi/'*' printk/console ftrace/print; do
    for d in $I/events/$ev; do
        [ -f "$d/format" ] || continue
        rel=${d#$I/events/}
        mkdir -p "$OUT/formats/$rel"
        cat "$d/format" > "$OUT/formats/$rel/format"
    done
done
cat "$I/trace_clock" > "$OUT/trace_clock.txt"
teardown_instance "$I"
uname -a > "$OUT/uname.txt"

# ---- install tools if missing (Debian)
ensure_tool() {  # $1 command, $2 package
    command -v "$1" >/dev/null 2>&1 && return 0
    [ "${NO_APT:-0}" = 1 ] && return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    log "installing $2"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >> "$LOG" 2>&1
    command -v "$1" >/dev/null 2>&1
}

# ---- 8 trace-cmd (instance only)
top_snapshot() {  # top-level settings that must not change (reads only small control files)
    local f
    for f in tracing_on current_tracer set_event trace_clock buffer_size_kb trace_options tracing_cpumask; do
        printf '%s: %s\n' "$f" "$(tr '\n' ' ' < "$TRACEFS/$f" 2>&1)"
    done
}
tracecmd_capture() {
    if ! ensure_tool trace-cmd trace-cmd; then
        result "trace-cmd-report.txt" SKIPPED "trace-cmd" "trace-cmd not installable"; return 1
    fi
    teardown_instance "$TRACEFS/instances/$TCMD_INST"
    top_snapshot > "$WORK/top-before"
    # -B <inst>: only that instance is recorded (top instance has no events -> not recorded)
    # -d: do not enable function tracing (else trace-cmd writes /proc/sys/kernel/ftrace_enabled: EPERM here)
    # -k: skip trace-cmd's end-of-run reset (it would write set_ftrace_filter: EPERM here,
    #     and die before removing the instance); our trap tears the instance down instead.
    # The workload is activity(); its window shrinks if the report text gets too big.
    local w cmd rc note=""
    for w in 0.3 0.1 0.02; do
        rm -f "$WORK/trace.dat"
        cmd=(trace-cmd record -k -d -B "$TCMD_INST" -e irq -e irq_vectors -e ipi --compression none -o "$WORK/trace.dat"
             env I="$TRACEFS/instances/$TCMD_INST" bash -c "activity $w tcmd")
        "${cmd[@]}" > "$WORK/tcmd-record.log" 2>&1; rc=$?
        teardown_instance "$TRACEFS/instances/$TCMD_INST"
        [ $rc -eq 0 ] && [ -s "$WORK/trace.dat" ] || break
        trace-cmd report -i "$WORK/trace.dat" > "$WORK/trace-cmd-report.txt" 2> "$WORK/tcmd-report.err"
        [ "$(stat -c %s "$WORK/trace-cmd-report.txt")" -le "$MAX_PLAIN" ] && break
        note="$note retried: report was $(stat -c %s "$WORK/trace-cmd-report.txt") bytes with window ${w}s;"
    done
    top_snapshot > "$WORK/top-after"
    if diff -u "$WORK/top-before" "$WORK/top-after" > "$WORK/top-diff"; then TOPCHK="top-level tracefs state unchanged (tracing_on,current_tracer,set_event,trace_clock,buffer_size_kb,trace_options,tracing_cpumask; the top-level trace file itself is never opened);$note"; else TOPCHK="WARNING top-level state changed: $(tr '\n' ' ' < "$WORK/top-diff");$note"; fi
    if [ $rc -ne 0 ] || [ ! -s "$WORK/trace.dat" ]; then
        result "trace-cmd-report.txt" FAILED "${cmd[*]}" "rc=$rc: $(tail -3 "$WORK/tcmd-record.log" | tr '\n' ' ')"; return 1
    fi
    trace-cmd report -t -i "$WORK/trace.dat" > "$WORK/trace-cmd-report-ns.txt" 2>> "$WORK/tcmd-report.err"
    local s1 s2; s1=$(store "$WORK/trace-cmd-report.txt" trace-cmd-report.txt); s2=$(store "$WORK/trace-cmd-report-ns.txt" trace-cmd-report-ns.txt)
    local rec; rec=$(show_cmd "${cmd[@]}")
    result "$s1" OK "$rec   (workload = activity() with sleep ${w} s, markers go to the trace-cmd instance); trace-cmd report -i trace.dat" "$TOPCHK"
    result "$s2" OK "same trace.dat; trace-cmd report -t -i trace.dat" ""
    # trace.dat embeds /proc/kallsyms (~5 MB): keep it xz-compressed if that is < 1 MB
    local dsz; dsz=$(stat -c %s "$WORK/trace.dat")
    if [ "$dsz" -lt 1048576 ]; then cp "$WORK/trace.dat" "$OUT/trace.dat"; DAT=trace.dat
    else
        xz -9 -c "$WORK/trace.dat" > "$WORK/trace.dat.xz"
        if [ "$(stat -c %s "$WORK/trace.dat.xz")" -lt 1048576 ]; then cp "$WORK/trace.dat.xz" "$OUT/"; DAT=trace.dat.xz
        else DAT="(not kept: $(stat -c %s "$WORK/trace.dat.xz") bytes xz)"; fi
    fi
    result "$DAT" OK "raw trace-cmd data (file version 7, --compression none; $dsz bytes uncompressed)" ""
}
DAT=""; TOPCHK=""
tracecmd_capture

# ---- 9 perf
perf_capture() {
    if ! ensure_tool perf linux-perf; then
        result "perf-script.txt" SKIPPED "perf" "perf not installable"; return 1
    fi
    local evs=(-e irq:irq_handler_entry -e irq:irq_handler_exit -e irq:softirq_entry -e irq:softirq_exit
               -e irq_vectors:local_timer_entry -e irq_vectors:local_timer_exit
               -e irq_vectors:reschedule_entry -e irq_vectors:reschedule_exit
               -e irq_vectors:call_function_single_entry -e irq_vectors:call_function_single_exit
               -e ipi:ipi_send_cpu -e ipi:ipi_send_cpumask)
    local w sp cmd rc rec note=""
    for w in "0.5 0.9" "0.2 0.4" "0.05 0.15"; do   # activity sleep, busy-loop seconds
        read -r w sp <<< "$w"
        rm -f "$WORK/perf.data"
        cmd=(perf record -q -a "${evs[@]}" -o "$WORK/perf.data" -- bash -c "spin $sp & activity $w perf; wait")
        "${cmd[@]}" > "$WORK/perf-record.log" 2>&1; rc=$?
        if [ $rc -ne 0 ] || [ ! -s "$WORK/perf.data" ]; then
            result "perf-script.txt" FAILED "${cmd[*]}" "rc=$rc: $(tail -3 "$WORK/perf-record.log" | tr '\n' ' ')"; return 1
        fi
        perf script -i "$WORK/perf.data" > "$WORK/perf-script.txt" 2> "$WORK/perf-script.err"
        perf script -i "$WORK/perf.data" --ns > "$WORK/perf-script-ns.txt" 2>> "$WORK/perf-script.err"
        perf script -i "$WORK/perf.data" -F comm,pid,tid,cpu,time,event,trace > "$WORK/perf-script-pidtid.txt" 2>> "$WORK/perf-script.err"
        fits "$WORK/perf-script-ns.txt" && fits "$WORK/perf-script-pidtid.txt" && break
        note="$note retried: --ns output was $(stat -c %s "$WORK/perf-script-ns.txt") bytes with sleep ${w}s;"
    done
    rec=$(show_cmd "${cmd[@]}")
    local s
    s=$(store "$WORK/perf-script.txt" perf-script.txt);               result "$s" OK "$rec   (workload = activity() with sleep ${w}s + a ${sp}s busy loop); perf script -i perf.data" "$note"
    s=$(store "$WORK/perf-script-ns.txt" perf-script-ns.txt);         result "$s" OK "same perf.data; perf script -i perf.data --ns" ""
    s=$(store "$WORK/perf-script-pidtid.txt" perf-script-pidtid.txt); result "$s" OK "same perf.data; perf script -i perf.data -F comm,pid,tid,cpu,time,event,trace" ""
    if [ "$(stat -c %s "$WORK/perf.data")" -lt 1048576 ]; then cp "$WORK/perf.data" "$OUT/perf.data"; result perf.data OK "raw perf.data of the record above" ""; fi
    # callchains (kernel only: user stacks of unrelated processes would be large and noisy)
    local cc note=""
    for w in "0.2 0.4" "0.05 0.15" "0 0.05"; do
        read -r w sp <<< "$w"
        rm -f "$WORK/perf-callchain.data"
        cc=(perf record -q -a -g --kernel-callchains -e irq:irq_handler_entry -o "$WORK/perf-callchain.data" -- bash -c "spin $sp & activity $w perfcc; wait")
        "${cc[@]}" > "$WORK/perf-cc.log" 2>&1; rc=$?
        if [ $rc -ne 0 ]; then
            result "perf-script-callchain.txt" FAILED "${cc[*]}" "rc=$rc"; return 1
        fi
        perf script -i "$WORK/perf-callchain.data" > "$WORK/perf-script-callchain.txt" 2>> "$WORK/perf-script.err"
        fits "$WORK/perf-script-callchain.txt" && break
        note="$note retried: $(stat -c %s "$WORK/perf-script-callchain.txt") bytes with sleep ${w}s;"
    done
    rec=$(show_cmd "${cc[@]}")
    s=$(store "$WORK/perf-script-callchain.txt" perf-script-callchain.txt); result "$s" OK "$rec   (workload = activity() with sleep ${w}s + a ${sp}s busy loop); perf script -i perf-callchain.data" "$note"
    if [ "$(stat -c %s "$WORK/perf-callchain.data")" -lt 1048576 ]; then cp "$WORK/perf-callchain.data" "$OUT/"; result perf-callchain.data OK "raw perf.data of the -g record above" ""; fi
}
perf_capture

# ---- tool versions
{
    echo "kernel: $(uname -r) ($(uname -m)), $(nproc) CPUs"
    echo "bash: ${BASH_VERSION}"
    command -v trace-cmd >/dev/null && echo "trace-cmd: $(trace-cmd --version 2>&1 | grep -m1 version)"
    command -v perf >/dev/null && echo "perf: $(perf --version 2>&1)"
    if command -v dpkg-query >/dev/null; then
        dpkg-query -W -f='deb ${Package} ${Version}\n' trace-cmd linux-perf libtraceevent1 libtracefs1 2>/dev/null
    fi
    [ -r /etc/debian_version ] && echo "debian_version: $(cat /etc/debian_version)"
} > "$OUT/tool-versions.txt"

# ================================================================ MANIFEST
# Ground-truth counting. All counts are computed on the UNCOMPRESSED text.
#  event name  = the field right after the timestamp field:
#      ftrace/trace_pipe/trace-cmd/perf: timestamp field matches ^[0-9]+(\.[0-9]+)?:$
#      latency-format: timestamp field matches ^[0-9]+us.?:?$ (optionally followed by a lone ':')
#    a name ending in ':' is an event; a name without ':' followed by '<-parent' is a
#    function-tracer line (counted as "<function> name").
COUNT_AWK='# count-events.awk - irqtrace ground truth: lines per event name.
# Usage: awk -f count-events.awk FILE | sort
# The event name is the field right after the timestamp field:
#   ftrace/trace_pipe/trace-cmd/perf: a field matching ^[0-9]+(\.[0-9]+)?:$
#   latency-format: "<N>us<c>:" or "<N>us" followed by a lone ":"
# A name ending in ":" is an event (colon stripped; perf names are sys:event).
# A name without ":" whose next-but-one field starts with "<-" is a function-tracer
# line, counted as "<function> NAME"; anything else as "<other> NAME".
# Lines starting with "#" or TAB are never counted.
/^#/ || /^\t/ { next }
{
  for (i = 1; i <= NF; i++) {
    if ($i ~ /^[0-9]+(\.[0-9]+)?:$/ || $i ~ /^[0-9]+us[^ ]?:$/) { n = $(i+1); break }
    if ($i ~ /^[0-9]+us$/ && $(i+1) == ":") { i++; n = $(i+1); break }
  }
  if (i > NF) next
  if (n ~ /:$/) { sub(/:$/, "", n); c[n]++ }
  else if ($(i+2) ~ /^<-/) c["<function> " n]++
  else c["<other> " n]++
}
END { for (k in c) printf "%s\t%d\n", k, c[k] }
'
printf '%s' "$COUNT_AWK" > "$OUT/count-events.awk"

count_block() {   # $1 = stored name, $2 = plain file
    local f=$2 total hdr started lost lostn dropped func blank cc
    total=$(wc -l < "$f")
    started=$(grep -Ec '^##### CPU [0-9]+ buffer started ####$' "$f")
    hdr=$(grep -E '^#' "$f" | grep -Evc '^##### CPU [0-9]+ buffer started ####$')
    lost=$(grep -Ec '^CPU:[0-9]+ \[LOST ([0-9]+ )?EVENTS\]$' "$f")
    lostn=$(grep -Eo '^CPU:[0-9]+ \[LOST [0-9]+ EVENTS\]$' "$f" | awk '{gsub(/\[/,"",$2); s+=$3} END {print s+0}')
    dropped=$(grep -Ec 'EVENTS DROPPED\]' "$f")
    func=$(grep -Ec ' <-[^ ]+$' "$f")
    blank=$(grep -Ec '^$' "$f")
    cc=$(grep -Ec $'^\t' "$f")
    echo "- total lines: **$total**"
    echo "- header/comment lines (^#, excluding '##### CPU' markers): $hdr"
    echo "- '##### CPU N buffer started ####' lines: $started"
    echo "- 'CPU:N [LOST ...EVENTS]' lines: $lost (sum of N in 'LOST N EVENTS': $lostn)"
    [ "$dropped" -gt 0 ] && echo "- trace-cmd 'EVENTS DROPPED' lines: $dropped"
    [ "$func" -gt 0 ] && echo "- function-tracer lines (' <-parent' at end of line): $func"
    [ "$blank" -gt 0 ] && echo "- empty lines: $blank"
    [ "$cc" -gt 0 ] && echo "- callchain frame lines (start with TAB): $cc"
    local matched other
    matched=$(awk -f "$OUT/count-events.awk" "$f" | awk -F'\t' '{s += $2} END {print s+0}')
    other=$((total - hdr - started - lost - dropped - matched - blank - cc))
    echo "- lines counted by count-events.awk: $matched"
    echo "- other lines (total minus all of the above): $other"
    echo "- per event: \`awk -f count-events.awk F\` | cross-check \`grep -cF ' NAME: ' F\`:"
    echo
    echo '  | event | count (awk) | grep -cF " NAME: " |'
    echo '  |---|---:|---:|'
    awk -f "$OUT/count-events.awk" "$f" | LC_ALL=C sort | while IFS=$'\t' read -r ev n; do
        local g="-"
        case $ev in "<"*) ;; *) g=$(grep -cF " $ev: " "$f");; esac
        echo "  | \`$ev\` | $n | $g |"
    done
    echo
}

{
    echo "# testdata/live - real traces captured on a live machine"
    echo
    echo "Generated by \`scripts/capture-live.sh\` on $(date -u +%Y-%m-%dT%H:%M:%SZ)."
    echo
    echo "- kernel: \`$(uname -srvm)\`, $(nproc) CPUs"
    echo "- tools: see \`tool-versions.txt\`; \`uname.txt\`; available clocks: \`trace_clock.txt\`"
    echo "- every ftrace capture used a private instance \`instances/$INST_NAME\` (trace-cmd: \`instances/$TCMD_INST\`), never the top-level buffer."
    echo "- event format files of the enabled events: \`formats/<system>/<event>/format\`."
    echo "- *.xz files: counts below refer to the decompressed text."
    echo "- files are regenerated on every run, so counts here match only the files of the same run."
    echo
    echo "## Counting method (exact commands, run on the uncompressed file F)"
    echo
    echo '```sh'
    echo "total:          wc -l < F"
    echo "header/comment: grep -E '^#' F | grep -Evc '^##### CPU [0-9]+ buffer started ####\$'"
    echo "buffer started: grep -Ec '^##### CPU [0-9]+ buffer started ####\$' F"
    echo "LOST markers:   grep -Ec '^CPU:[0-9]+ \\[LOST ([0-9]+ )?EVENTS\\]\$' F"
    echo "function lines: grep -Ec ' <-[^ ]+\$' F"
    echo "callchain:      grep -Ec \$'^\\t' F"
    echo "cross-check:    grep -cF ' NAME: ' F      # NAME = event name, perf uses 'sys:name'"
    echo "per-event:      awk -f count-events.awk F | LC_ALL=C sort"
    echo "other lines:    total - header - started - LOST - DROPPED - per-event sum - empty - callchain"
    echo '```'
    echo
    echo "\`count-events.awk\` (in this directory) is the exact awk program used."
    echo
    echo "## How activity was generated"
    echo
    echo "\`activity()\` in the script: trace_marker 'IRQTRACE: marker 1 (<tag> start)'; \`dd if=/dev/zero of=<tmp> bs=64k count=8 oflag=direct\`"
    echo "(virtio-blk irq 36 + BLOCK softirq); marker 2; one line to /dev/kmsg (printk:console); two short forked sleeps (IPIs);"
    echo "\`sleep <window>\`; \`dd iflag=direct\` read back; marker 3. Everything else in the traces is whatever the machine was doing."
    echo "Overflow captures add flood(): a loop of \`echo 'IRQTRACE: flood <tag> <i>' > trace_marker\` plus an O_DIRECT dd."
    echo
    echo "## Results"
    echo
    echo "| file | status | how | notes |"
    echo "|---|---|---|---|"
    while IFS=$'\t' read -r f st how notes; do
        echo "| \`$f\` | $st | $how | $notes |"
    done < "$RESULTS"
    echo
    echo "## Per-file counts"
    echo
    for p in "$WORK"/plain-*; do
        [ -e "$p" ] || continue
        n=${p##*/plain-}
        if [ -e "$OUT/$n.xz" ]; then sn="$n.xz"; else sn=$n; fi
        echo "### \`$sn\`"
        echo
        echo "- size: $(stat -c %s "$p") bytes uncompressed"
        count_block "$sn" "$p"
    done
} > "$OUT/MANIFEST.md"

cp "$LOG" "$OUT/capture-log.txt" 2>/dev/null || true
log "done"
cut -f1,2,4 "$RESULTS" >&2

# count-events.awk - irqtrace ground truth: lines per event name.
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

package parse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/irqtrace/irqtrace/ftrace"
)

// Format is a recognised input format.
type Format uint8

// Input formats.
const (
	FormatUnknown    Format = iota
	FormatFtrace            // tracefs "trace" file, with header
	FormatTracePipe         // ftrace line layout without header
	FormatTraceCmd          // trace-cmd report
	FormatPerfScript        // perf script
)

var formatNames = [...]string{"unknown", "ftrace", "trace_pipe", "trace-cmd", "perf-script"}

func (f Format) String() string { return formatNames[f] }

// ParseFormat returns the Format named s (as String prints it; "auto" and
// "" give FormatUnknown, which means: detect).
func ParseFormat(s string) (Format, error) {
	if s == "" || s == "auto" {
		return FormatUnknown, nil
	}
	for f, n := range formatNames {
		if f > 0 && n == s {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (want auto, ftrace, trace_pipe, trace-cmd or perf-script)", s)
}

// SniffLen is how much of an input Detect looks at.
const SniffLen = 64 << 10

// Detect recognises the format of an input from its first bytes (up to
// SniffLen). It returns an error wrapping ErrUnknownFormat, with a message
// that says what the input looks like and what was expected, when head is
// empty, binary, JSON or has no parseable trace line.
func Detect(head []byte) (Format, error) {
	if len(bytes.TrimSpace(head)) == 0 {
		return 0, fmt.Errorf("%w: the input is empty; expected tracer text output (ftrace trace or trace_pipe, trace-cmd report, perf script)", ErrUnknownFormat)
	}
	switch {
	case bytes.HasPrefix(head, []byte("\x17\x08\x44tracing")):
		return 0, fmt.Errorf("%w: this is a binary trace-cmd trace.dat, which is not read yet; convert it with 'trace-cmd report -i FILE > FILE.txt'", ErrUnknownFormat)
	case bytes.HasPrefix(head, []byte("PERFILE2")), bytes.HasPrefix(head, []byte("PERFFILE")):
		return 0, fmt.Errorf("%w: this is a binary perf.data, which is not read yet; convert it with 'perf script -i FILE > FILE.txt'", ErrUnknownFormat)
	}
	if isBinary(head) {
		return 0, fmt.Errorf("%w: the input is binary data, not text; expected tracer text output (ftrace trace or trace_pipe, trace-cmd report, perf script)", ErrUnknownFormat)
	}
	if t := bytes.TrimLeft(head, " \t\r\n"); t[0] == '{' || t[0] == '[' && looksJSON(t) {
		return 0, fmt.Errorf("%w: the input looks like a JSON document; expected tracer text output (ftrace trace or trace_pipe, trace-cmd report, perf script)", ErrUnknownFormat)
	}
	var (
		header, tcHeader         bool
		ftraceOK, perfOK, padded int
		rec                      ftrace.Record
		lines                    int
	)
	rest := head
	for len(rest) > 0 && lines < 400 {
		var line []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			if len(head) == SniffLen {
				break // cut line at the end of the window
			}
			line, rest = rest, nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		lines++
		switch {
		case bytes.HasPrefix(line, []byte("# tracer:")):
			header = true
			continue
		case lines == 1 && (bytes.HasPrefix(line, []byte("cpus=")) || bytes.HasPrefix(line, []byte("version = "))):
			tcHeader = true
			continue
		case line[0] == '#':
			if bytes.Contains(line, []byte(" latency trace v")) {
				return 0, fmt.Errorf("%w: this is ftrace latency-format output (options/latency-format=1), whose timestamps are microseconds since the buffer reset; read the trace with latency-format off ('echo 0 > options/latency-format')", ErrUnknownFormat)
			}
			continue
		}
		if r := parseLine(line, false, &rec); r.kind == KindEvent {
			ftraceOK++
			if rec.Event != ftrace.EvFunction && isPadded(line, rec.Name) {
				padded++
			}
		} else if r := parseLine(line, true, &rec); r.kind == KindEvent && rec.System != nil {
			perfOK++
		}
	}
	switch {
	case tcHeader && ftraceOK > 0:
		return FormatTraceCmd, nil
	case header && ftraceOK >= perfOK:
		return FormatFtrace, nil
	case ftraceOK > 0 && ftraceOK >= perfOK:
		if padded > ftraceOK/2 {
			return FormatTraceCmd, nil
		}
		return FormatTracePipe, nil
	case perfOK > 0:
		return FormatPerfScript, nil
	case header:
		return FormatFtrace, nil // a trace with a header but no events
	case tcHeader:
		return FormatTraceCmd, nil
	}
	return 0, fmt.Errorf("%w: no line looks like a trace event; expected ftrace text ('comm-pid [cpu] ts: event: ...' lines), trace-cmd report ('cpus=N' then events) or perf script ('comm tid [cpu] ts: sys:event: ...')", ErrUnknownFormat)
}

// looksJSON reports whether b starts with a few well-formed JSON tokens
// (any JSON array does; a dmesg line "[    0.275906] text" does not).
func looksJSON(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	for i := 0; i < 8; i++ {
		if _, err := d.Token(); err != nil {
			return err == io.EOF && i > 0
		}
	}
	return true
}

// isPadded reports whether the event name is followed by ':' and at least
// two spaces, as trace-cmd pads names to 20 characters.
func isPadded(line, name []byte) bool {
	i := bytes.Index(line, append(append([]byte{}, name...), ':'))
	if i < 0 {
		return false
	}
	j := i + len(name) + 1
	return len(name) < 19 && j+1 < len(line) && line[j] == ' ' && line[j+1] == ' '
}

func isBinary(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return true
	}
	bad := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			if len(b)-i < 4 && len(b) == SniffLen {
				break // a rune cut by the window
			}
			bad++
		} else if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			bad++
		}
		i += n
	}
	return bad*100 > len(b)
}

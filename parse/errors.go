package parse

import (
	"errors"
	"fmt"
)

// Sentinel errors. SyntaxError.Err is one of these (or an ftrace decode
// error); match them with errors.Is.
var (
	ErrUnknownFormat = errors.New("not a recognised trace format")
	ErrBadPrefix     = errors.New("no task-pid [cpu] prefix")
	ErrBadTimestamp  = errors.New("bad timestamp")
	ErrNoEventName   = errors.New("no event name")
	ErrLineTooLong   = errors.New("line too long")
	ErrBadMarker     = errors.New("malformed marker line")
)

// MaxLineLen bounds the length of one input line (the kernel's own
// longest lines, printk and trace_marker text, stay under 4 KiB); a longer
// line is reported as a problem and skipped without being buffered whole.
const MaxLineLen = 256 << 10

// SyntaxError is a positioned problem in an input file.
type SyntaxError struct {
	File    string `json:"file"`
	Line    int64  `json:"line"`   // 1-based
	Offset  int64  `json:"offset"` // byte offset of the line's start, 0-based
	Msg     string `json:"message"`
	Excerpt string `json:"excerpt"` // at most 80 bytes of the line
	Err     error  `json:"-"`
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s (offset %d): %q", e.File, e.Line, e.Msg, e.Offset, e.Excerpt)
}

func (e *SyntaxError) Unwrap() error { return e.Err }

func excerpt(b []byte) string {
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}

package ftrace

import (
	"bytes"
	"errors"
	"fmt"
)

// Sentinel errors of payload decoding.
var (
	ErrMissingField = errors.New("missing field")
	ErrBadValue     = errors.New("bad field value")
)

// FieldError says which field of which event failed to decode.
type FieldError struct {
	Event string
	Field string
	Err   error // ErrMissingField or ErrBadValue
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s: field %s: %v", e.Event, e.Field, e.Err)
}

func (e *FieldError) Unwrap() error { return e.Err }

// failedToParse is libtraceevent's marker for a record whose print format it
// could not evaluate; the binary field names follow as name=value pairs.
var failedToParse = []byte("[FAILED TO PARSE]")

// Decode fills p from the payload text of an event with catalog ID id.
// name is the event name as printed (used for the print and function
// events, whose renderings differ between tracers). On error p holds what
// was decoded so far; the caller keeps the raw payload. A trace-cmd
// "[FAILED TO PARSE]" payload is decoded from its name=value pairs, which
// use the binary field names (available=, global_reserved=, ...).
func Decode(id EventID, name, b []byte, p *Payload) error {
	fam := id.Info().Family
	if bytes.HasPrefix(b, failedToParse) {
		// Only the fields libtraceevent could read are there: keep what
		// decodes, and the rest as generic arguments.
		b = b[len(failedToParse):]
		if fam == FamGeneric {
			splitArgs(b, p)
		} else if err := decodeKV(b, p); err != nil {
			return &FieldError{id.String(), err.field, err.err}
		}
		p.Generic = true
		return nil
	}
	switch fam {
	case FamGeneric:
		splitArgs(b, p)
		p.Generic = true
		return nil
	case FamSysvec, FamVectorConfig, FamVectorMod, FamVectorReserve, FamVectorAlloc,
		FamVectorAllocMgd, FamVectorActivate, FamVectorTeardown, FamVectorSetup,
		FamVectorFreeMoved, FamMatrixGlobal, FamMatrixGlobalUpdate, FamMatrixCPU:
		if err := decodeKV(b, p); err != nil {
			return &FieldError{id.String(), err.field, err.err}
		}
		if id == EvVectorUpdate || id == EvVectorClear {
			// prev_vector=0 prev_cpu=0: no previous slot (first assignment).
			if v, ok := p.Int(FPrevVector); ok && v == 0 {
				p.Has &^= 1<<FPrevVector | 1<<FPrevCPU
				return checkRequired(id, p, required[fam]&^(1<<FPrevVector|1<<FPrevCPU))
			}
		}
		return checkRequired(id, p, required[fam])
	case FamCPUHPEnter, FamCPUHPExit:
		return decodeCPUHP(id, b, p)
	case FamHandlerEntry:
		return decodeHandlerEntry(id, b, p)
	case FamHandlerExit:
		return decodeHandlerExit(id, b, p)
	case FamSoftirq:
		return decodeSoftirq(id, b, p)
	case FamTasklet:
		return decodeTwoSyms(id, b, p, "tasklet=", FName, "function=", FFunc)
	case FamIPIRaise:
		return decodeIPIRaise(id, b, p)
	case FamIPIReason:
		return decodeParenReason(id, b, p)
	case FamIPISendCPU, FamIPISendMask:
		return decodeIPISend(id, b, p)
	case FamConsole:
		p.SetStr(FText, trimNL(b))
		return nil
	case FamPrint:
		return decodePrint(name, b, p)
	case FamFunction:
		return decodeFunction(name, b, p)
	}
	return nil
}

var required = [...]uint64{
	FamSysvec:             1 << FVector,
	FamVectorConfig:       1<<FIRQ | 1<<FVector | 1<<FTargetCPU | 1<<FAPICDest,
	FamVectorMod:          1<<FIRQ | 1<<FVector | 1<<FTargetCPU | 1<<FPrevVector | 1<<FPrevCPU,
	FamVectorReserve:      1<<FIRQ | 1<<FRet,
	FamVectorAlloc:        1<<FIRQ | 1<<FVector | 1<<FReserved | 1<<FRet,
	FamVectorAllocMgd:     1<<FIRQ | 1<<FVector | 1<<FRet,
	FamVectorActivate:     1<<FIRQ | 1<<FIsManaged | 1<<FCanReserve | 1<<FReserve,
	FamVectorTeardown:     1<<FIRQ | 1<<FIsManaged | 1<<FHasReserved,
	FamVectorSetup:        1<<FIRQ | 1<<FIsLegacy | 1<<FRet,
	FamVectorFreeMoved:    1<<FIRQ | 1<<FTargetCPU | 1<<FVector | 1<<FIsManaged,
	FamMatrixGlobal:       1<<FOnlineMaps | 1<<FGlobalAvl | 1<<FGlobalRsvd | 1<<FTotalAlloc,
	FamMatrixGlobalUpdate: 1<<FVector | 1<<FOnlineMaps | 1<<FGlobalAvl | 1<<FGlobalRsvd | 1<<FTotalAlloc,
	FamMatrixCPU: 1<<FVector | 1<<FTargetCPU | 1<<FOnline | 1<<FAvl | 1<<FAlloc | 1<<FManaged |
		1<<FOnlineMaps | 1<<FGlobalAvl | 1<<FGlobalRsvd | 1<<FTotalAlloc,
}

func checkRequired(id EventID, p *Payload, want uint64) error {
	if missing := want &^ p.Has; missing != 0 {
		for f := Field(0); f < NumFields; f++ {
			if missing&(1<<f) != 0 {
				return &FieldError{id.String(), f.Column(), ErrMissingField}
			}
		}
	}
	return nil
}

// keyField maps a printed (or binary, for [FAILED TO PARSE]) key to a field.
func keyField(k []byte) (Field, bool) {
	switch string(k) {
	case "irq":
		return FIRQ, true
	case "vector", "bit":
		return FVector, true
	case "cpu":
		return FTargetCPU, true
	case "prev_vector":
		return FPrevVector, true
	case "prev_cpu":
		return FPrevCPU, true
	case "apicdest":
		return FAPICDest, true
	case "ret":
		return FRet, true
	case "reserved":
		return FReserved, true
	case "is_managed":
		return FIsManaged, true
	case "can_reserve":
		return FCanReserve, true
	case "reserve", "early":
		return FReserve, true
	case "has_reserved":
		return FHasReserved, true
	case "is_legacy":
		return FIsLegacy, true
	case "online":
		return FOnline, true
	case "avl", "available":
		return FAvl, true
	case "alloc", "allocated":
		return FAlloc, true
	case "managed":
		return FManaged, true
	case "online_maps":
		return FOnlineMaps, true
	case "global_avl", "global_available":
		return FGlobalAvl, true
	case "global_rsvd", "global_reserved":
		return FGlobalRsvd, true
	case "total_alloc", "total_allocated":
		return FTotalAlloc, true
	}
	return 0, false
}

// fieldRange is the inclusive range each integer field's column can hold.
var fieldRange = [FName][2]int64{
	FIRQ: {-1 << 31, 1<<31 - 1}, FVector: {-1 << 15, 1<<15 - 1}, FTargetCPU: {0, 1<<15 - 1},
	FPrevVector: {0, 1<<15 - 1}, FPrevCPU: {0, 1<<15 - 1}, FAPICDest: {0, 1<<32 - 1},
	FRet: {-1 << 31, 1<<31 - 1}, FReserved: {0, 1}, FIsManaged: {0, 1}, FCanReserve: {0, 1},
	FReserve: {0, 1}, FHasReserved: {0, 1}, FIsLegacy: {0, 1}, FOnline: {0, 1},
	FAvl: {0, 1<<31 - 1}, FAlloc: {0, 1<<31 - 1}, FManaged: {0, 1<<31 - 1}, FOnlineMaps: {0, 1<<31 - 1},
	FGlobalAvl: {0, 1<<32 - 1}, FGlobalRsvd: {0, 1<<32 - 1}, FTotalAlloc: {0, 1<<32 - 1},
	FTargetState: {-1 << 15, 1<<15 - 1}, FStep: {-1 << 15, 1<<15 - 1}, FState: {-1 << 15, 1<<15 - 1},
	FVec: {0, 255},
}

type kvErr struct {
	field string
	err   error
}

// decodeKV decodes "k=v k=v, k=v" payloads (the commas after global_avl
// and global_rsvd values are the kernel's).
func decodeKV(b []byte, p *Payload) *kvErr {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		if len(tok) == 0 {
			continue
		}
		eq := bytes.IndexByte(tok, '=')
		if eq <= 0 {
			return &kvErr{string(tok), ErrBadValue}
		}
		k, v := tok[:eq], tok[eq+1:]
		if n := len(v); n > 0 && v[n-1] == ',' {
			v = v[:n-1]
		}
		f, ok := keyField(k)
		if !ok {
			p.Args = append(p.Args, KV{k, v})
			continue
		}
		n, ok := ParseInt(v)
		if !ok || n < fieldRange[f][0] || n > fieldRange[f][1] {
			return &kvErr{f.Column(), ErrBadValue}
		}
		p.Set(f, n)
	}
	return nil
}

// nextToken returns the next space-separated token of b and the rest.
func nextToken(b []byte) (tok, rest []byte) {
	i := 0
	for i < len(b) && b[i] == ' ' {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], b[j:]
}

// ParseInt parses a decimal (optionally negative, leading zeros allowed) or
// 0x-prefixed hexadecimal integer that fits in 63 bits.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	if b[0] == '-' {
		neg, b = true, b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var n uint64
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		if len(b) > 2+15 {
			return 0, false
		}
		for _, c := range b[2:] {
			d, ok := hexVal(c)
			if !ok {
				return 0, false
			}
			n = n<<4 | uint64(d)
		}
	} else {
		if len(b) > 18 {
			return 0, false
		}
		for _, c := range b {
			c -= '0'
			if c > 9 {
				return 0, false
			}
			n = n*10 + uint64(c)
		}
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// decodeCPUHP decodes the "key: value" layout of the cpuhp events:
//
//	cpu: 0004 target:   0 step: 226 (sched_cpu_deactivate)
//	 cpu: 0003  state: 234 step: 235 ret: 0
func decodeCPUHP(id EventID, b []byte, p *Payload) error {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		if len(tok) == 0 {
			continue
		}
		if tok[0] == '(' {
			if tok[len(tok)-1] != ')' || len(tok) < 3 {
				return &FieldError{id.String(), "func", ErrBadValue}
			}
			p.SetStr(FFunc, tok[1:len(tok)-1])
			continue
		}
		if tok[len(tok)-1] != ':' || len(tok) == 1 {
			return &FieldError{id.String(), string(tok), ErrBadValue}
		}
		key := tok[:len(tok)-1]
		var val []byte
		val, b = nextToken(b)
		var f Field
		switch string(key) {
		case "cpu":
			f = FTargetCPU
		case "target":
			f = FTargetState
		case "step":
			f = FStep
		case "state":
			f = FState
		case "ret":
			f = FRet
		default:
			p.Args = append(p.Args, KV{key, val})
			continue
		}
		n, ok := ParseInt(val)
		if !ok || n < fieldRange[f][0] || n > fieldRange[f][1] {
			return &FieldError{id.String(), f.Column(), ErrBadValue}
		}
		p.Set(f, n)
	}
	want := uint64(1<<FTargetCPU | 1<<FStep)
	if id == EvCPUHPExit {
		want |= 1<<FState | 1<<FRet
	} else {
		want |= 1<<FTargetState | 1<<FFunc
	}
	return checkRequired(id, p, want)
}

// decodeHandlerEntry: "irq=%d name=%s"; the name runs to the end of the line.
func decodeHandlerEntry(id EventID, b []byte, p *Payload) error {
	b = bytes.TrimLeft(b, " ")
	if !bytes.HasPrefix(b, []byte("irq=")) {
		return &FieldError{id.String(), "irq", ErrMissingField}
	}
	tok, rest := nextToken(b[4:])
	n, ok := ParseInt(tok)
	if !ok || n < fieldRange[FIRQ][0] || n > fieldRange[FIRQ][1] {
		return &FieldError{id.String(), "irq", ErrBadValue}
	}
	p.Set(FIRQ, n)
	rest = bytes.TrimLeft(rest, " ")
	if !bytes.HasPrefix(rest, []byte("name=")) {
		return &FieldError{id.String(), "name", ErrMissingField}
	}
	p.SetStr(FName, trimNL(rest[5:]))
	return nil
}

// decodeHandlerExit: "irq=%d ret=handled|unhandled". ret is stored as the
// kernel's irqreturn_t truth value: 1 handled, 0 unhandled.
func decodeHandlerExit(id EventID, b []byte, p *Payload) error {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		switch {
		case len(tok) == 0:
		case bytes.HasPrefix(tok, []byte("irq=")):
			n, ok := ParseInt(tok[4:])
			if !ok || n < fieldRange[FIRQ][0] || n > fieldRange[FIRQ][1] {
				return &FieldError{id.String(), "irq", ErrBadValue}
			}
			p.Set(FIRQ, n)
		case bytes.Equal(tok, []byte("ret=handled")):
			p.Set(FRet, 1)
		case bytes.Equal(tok, []byte("ret=unhandled")):
			p.Set(FRet, 0)
		default:
			return &FieldError{id.String(), string(tok), ErrBadValue}
		}
	}
	return checkRequired(id, p, 1<<FIRQ|1<<FRet)
}

// decodeSoftirq: "vec=%u [action=%s]".
func decodeSoftirq(id EventID, b []byte, p *Payload) error {
	tok, rest := nextToken(b)
	if !bytes.HasPrefix(tok, []byte("vec=")) {
		return &FieldError{id.String(), "vec", ErrMissingField}
	}
	n, ok := ParseInt(tok[4:])
	if !ok || n < 0 || n > 255 {
		return &FieldError{id.String(), "vec", ErrBadValue}
	}
	p.Set(FVec, n)
	tok, _ = nextToken(rest)
	if !bytes.HasPrefix(tok, []byte("[action=")) || tok[len(tok)-1] != ']' {
		return &FieldError{id.String(), "action", ErrMissingField}
	}
	p.SetStr(FName, tok[8:len(tok)-1])
	return nil
}

// decodeTwoSyms decodes "k1=sym k2=sym" (tasklet_entry/exit).
func decodeTwoSyms(id EventID, b []byte, p *Payload, k1 string, f1 Field, k2 string, f2 Field) error {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		switch {
		case len(tok) == 0:
		case bytes.HasPrefix(tok, []byte(k1)):
			p.SetStr(f1, tok[len(k1):])
		case bytes.HasPrefix(tok, []byte(k2)):
			p.SetStr(f2, tok[len(k2):])
		default:
			// %ps of a module symbol prints "sym [mod]": keep it with the symbol.
			if tok[0] == '[' && p.Has != 0 {
				continue
			}
			return &FieldError{id.String(), string(tok), ErrBadValue}
		}
	}
	return checkRequired(id, p, 1<<f1|1<<f2)
}

// decodeIPIRaise: "target_mask=%s (%s)".
func decodeIPIRaise(id EventID, b []byte, p *Payload) error {
	tok, rest := nextToken(b)
	if !bytes.HasPrefix(tok, []byte("target_mask=")) {
		return &FieldError{id.String(), "target_mask", ErrMissingField}
	}
	p.SetStr(FCPUMask, tok[len("target_mask="):])
	return decodeParenReason(id, rest, p)
}

// decodeParenReason: "(%s)" (ipi_entry/exit reason, may contain spaces).
func decodeParenReason(id EventID, b []byte, p *Payload) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '(' || b[len(b)-1] != ')' {
		return &FieldError{id.String(), "reason", ErrMissingField}
	}
	p.SetStr(FName, b[1:len(b)-1])
	return nil
}

// decodeIPISend: "cpu=%u callsite=%pS callback=%pS" or
// "cpumask=%s callsite=%pS callback=%pS".
func decodeIPISend(id EventID, b []byte, p *Payload) error {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		switch {
		case len(tok) == 0:
		case bytes.HasPrefix(tok, []byte("cpu=")):
			n, ok := ParseInt(tok[4:])
			if !ok || n < 0 || n > fieldRange[FTargetCPU][1] {
				return &FieldError{id.String(), "cpu", ErrBadValue}
			}
			p.Set(FTargetCPU, n)
		case bytes.HasPrefix(tok, []byte("cpumask=")):
			p.SetStr(FCPUMask, tok[8:])
		case bytes.HasPrefix(tok, []byte("callsite=")):
			p.SetStr(FCaller, tok[9:])
		case bytes.HasPrefix(tok, []byte("callback=")):
			p.SetStr(FFunc, tok[9:])
		default:
			return &FieldError{id.String(), string(tok), ErrBadValue}
		}
	}
	want := uint64(1<<FCaller | 1<<FFunc)
	if id == EvIPISendCPU {
		want |= 1 << FTargetCPU
	} else {
		want |= 1 << FCPUMask
	}
	return checkRequired(id, p, want)
}

// decodePrint decodes a trace_marker write. ftrace text prints it as the
// event "tracing_mark_write" with the text as payload; trace-cmd report
// and perf print the event "print" with the payload "%ps: %s" (the writer's
// symbol, then the text).
func decodePrint(name, b []byte, p *Payload) error {
	if !bytes.Equal(name, []byte("print")) {
		p.SetStr(FFunc, name)
		p.SetStr(FText, trimNL(b))
		return nil
	}
	b = bytes.TrimLeft(b, " ")
	if i := bytes.Index(b, []byte(": ")); i > 0 && bytes.IndexByte(b[:i], ' ') < 0 {
		p.SetStr(FFunc, b[:i])
		b = b[i+2:]
	}
	p.SetStr(FText, trimNL(b))
	return nil
}

// decodeFunction decodes a function-tracer entry: "func <-parent" (ftrace
// text, where the parser passes the function as payload), or trace-cmd's
// "function:" payload of the function indented by call depth, optionally
// followed by "<-- parent".
func decodeFunction(name, b []byte, p *Payload) error {
	b = bytes.TrimSpace(b)
	fn, rest := nextToken(b)
	if len(fn) == 0 {
		return &FieldError{"function", "func", ErrMissingField}
	}
	p.SetStr(FFunc, fn)
	par, rest := nextToken(rest)
	if bytes.Equal(par, []byte("<--")) {
		par, rest = nextToken(rest)
	} else if bytes.HasPrefix(par, []byte("<-")) {
		par = par[2:]
	} else if len(par) > 0 {
		return &FieldError{"function", "parent", ErrBadValue}
	}
	if len(par) > 0 {
		p.SetStr(FCaller, par)
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return &FieldError{"function", "parent", ErrBadValue}
	}
	return nil
}

// splitArgs fills p.Args with the key=value tokens of a generic payload
// (trailing commas stripped); other tokens are left to the raw payload.
func splitArgs(b []byte, p *Payload) {
	for len(b) > 0 {
		var tok []byte
		tok, b = nextToken(b)
		eq := bytes.IndexByte(tok, '=')
		if eq <= 0 {
			continue
		}
		v := tok[eq+1:]
		if n := len(v); n > 0 && v[n-1] == ',' {
			v = v[:n-1]
		}
		p.Args = append(p.Args, KV{tok[:eq], v})
	}
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

package ftrace

import (
	"bytes"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// columnRange is the value range of each integer payload column, read off
// the Arrow schema (the contract with the table's readers).
func columnRange(f Field) (lo, hi int64) {
	switch Schema(nil).Field(ColFirstField + int(f)).Type.ID() {
	case arrow.BOOL:
		return 0, 1
	case arrow.INT8:
		return -1 << 7, 1<<7 - 1
	case arrow.INT16:
		return -1 << 15, 1<<15 - 1
	case arrow.INT32:
		return -1 << 31, 1<<31 - 1
	case arrow.UINT32:
		return 0, 1<<32 - 1
	}
	panic("not an integer column: " + f.Column())
}

// FuzzDecode feeds random payloads to the decoder of every catalog event:
// no panic; either a *FieldError wrapping one of the two sentinels, or
// values that fit their columns and strings that are pieces of the input.
func FuzzDecode(f *testing.F) {
	seeds := []string{
		"vector=236", "irq=26 vector=35 cpu=1 apicdest=0x00000002", "irq=26 vector=35 cpu=1 prev_vector=0 prev_cpu=1",
		"irq=40 ret=-28", "irq=35 vector=43 reserved=0 ret=0", "irq=26 is_managed=1 can_reserve=0 reserve=0",
		"irq=26 is_managed=1 has_reserved=0", "irq=4 is_legacy=1 ret=0", "irq=35 cpu=2 vector=41 is_managed=0",
		"online_maps=4 global_avl=771, global_rsvd=12, total_alloc=27",
		"bit=236 online_maps=1 global_avl=0, global_rsvd=0, total_alloc=0",
		"bit=43 cpu=1 online=1 avl=190 alloc=10 managed=4 online_maps=4 global_avl=770, global_rsvd=12, total_alloc=31",
		"cpu: 0001 target: 153 step: 236 (cpuhp_kick_ap_work)", " cpu: 0003  state: 234 step: 235 ret: 0",
		"irq=28 name=virtio0-req.3", "irq=28 ret=handled", "vec=1 [action=TIMER]",
		"tasklet=0xffff8881003c2e00 function=tcp_tasklet_func", "target_mask=00000000,00000001 (Function call interrupts)",
		"(Rescheduling interrupts)", "cpu=3 callsite=generic_exec_single+0x3f/0x120 callback=0x0",
		"cpumask=00000000,00000030 callsite=on_each_cpu_cond_mask+0x20/0x40 callback=0x0",
		"tracing_mark_write: RIG: a", "__irq_move_irq <-apic_ack_edge", "apic_ack_edge <-- x",
		"[FAILED TO PARSE] bit=36 cpu=1 online=1 available=199", "prev_comm=bash prev_pid=5 ==> next_comm=x",
		"", " ", "=", "a=", "=b", "(", ")", "[", "cpu:", "irq=-", "vector=0x", "vector=99999999999999999999",
	}
	for id := EventID(0); id < numEvents; id++ {
		for _, s := range seeds {
			f.Add(uint16(id), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, rawID uint16, b []byte) {
		id := EventID(rawID % uint16(numEvents+1)) // numEvents itself: out of range, read as unknown
		name := []byte(id.String())
		if id == EvPrint && rawID&0x100 != 0 {
			name = []byte("tracing_mark_write")
		}
		var p Payload
		err := Decode(id, name, b, &p)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || !(errors.Is(err, ErrMissingField) || errors.Is(err, ErrBadValue)) {
				t.Fatalf("Decode(%v, %q): error %v is not a FieldError with a sentinel", id, b, err)
			}
			return
		}
		for fl := Field(0); fl < NumFields; fl++ {
			if p.Has&(1<<fl) == 0 {
				continue
			}
			if fl >= FName {
				s, _ := p.Str(fl)
				if !bytes.Contains(b, s) && !bytes.Equal(s, name) {
					t.Fatalf("Decode(%v, %q): %s = %q is not part of the input", id, b, fl.Column(), s)
				}
				continue
			}
			v, _ := p.Int(fl)
			if lo, hi := columnRange(fl); v < lo || v > hi {
				t.Fatalf("Decode(%v, %q): %s = %d outside [%d, %d]", id, b, fl.Column(), v, lo, hi)
			}
		}
		if p.Has>>NumFields != 0 {
			t.Fatalf("Decode(%v, %q): Has has bits past the fields: %x", id, b, p.Has)
		}
		for _, kv := range p.Args {
			if !bytes.Contains(b, kv.Key) || !bytes.Contains(b, kv.Value) || len(kv.Key) == 0 {
				t.Fatalf("Decode(%v, %q): argument %q=%q is not part of the input", id, b, kv.Key, kv.Value)
			}
		}
		if id.Info().Family == FamGeneric && !p.Generic {
			t.Fatalf("Decode(%v, %q): an event outside the catalog must be generic", id, b)
		}
	})
}

package analysis

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestInvocationJSON: absent irq / vector are null, present ones numbers.
func TestInvocationJSON(t *testing.T) {
	b, err := json.Marshal([]Invocation{
		{CPU: 1, IRQ: null, Vector: 236, Name: "local_timer"},
		{CPU: 2, IRQ: 35, Vector: null, Name: "virtio2-virtqueues"},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"irq":null,"vector":236`, `"irq":35,"vector":null`, `"name":"local_timer"`, `"cpu":2`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON %s lacks %s", s, want)
		}
	}
	if strings.Contains(s, "2147483648") {
		t.Errorf("JSON %s leaks the null sentinel", s)
	}
}

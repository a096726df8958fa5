package metrics

import (
	"testing"
	"unsafe"

	"github.com/candor/candor/internal/domain"
)

// The dataset's bytes a record (BenchmarkDatasetMemory, goal ≤ 130 at
// scale 10) rest on these sizes; a field added to a row shows here first.
func TestRowSizes(t *testing.T) {
	for name, c := range map[string]struct{ got, want uintptr }{
		"chgRow (a change)":    {unsafe.Sizeof(chgRow{}), 52},
		"Dep (a deployment)":   {unsafe.Sizeof(Dep{}), 80},
		"ticketRow (a ticket)": {unsafe.Sizeof(ticketRow{}), 72},
		"depRow (a production deployment in the walk order)": {unsafe.Sizeof(depRow{}), 24},
	} {
		if c.got != c.want {
			t.Errorf("%s is %d bytes, want %d", name, c.got, c.want)
		}
	}
}

func TestNanosRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 1 << 32, -(1 << 32), 1<<63 - 1, -1 << 63, 1795000000123456789} {
		if got := nanosOf(n).ns(); got != n {
			t.Errorf("nanosOf(%d).ns() = %d", n, got)
		}
	}
}

func TestChangeNamesakeFlagKeepsTheSource(t *testing.T) {
	c := chgRow{src: 12345}
	c.setFollows(true)
	if !c.follows() || c.srcCode() != 12345 {
		t.Fatalf("after setFollows(true): follows %v, source %d", c.follows(), c.srcCode())
	}
	c.setFollows(false)
	if c.follows() || c.srcCode() != 12345 {
		t.Fatalf("after setFollows(false): follows %v, source %d", c.follows(), c.srcCode())
	}
}

func TestTicketEscalatedFlagKeepsTheSegment(t *testing.T) {
	d := NewDataset(DefaultConfig())
	for _, esc := range []bool{false, true} {
		r := convTicket(d, &domain.Ticket{Meta: domain.Meta{ID: "t-1", Source: "zendesk"}, Segment: "enterprise", Escalated: esc})
		if r.escalated() != esc || d.str(r.segment()) != "enterprise" {
			t.Errorf("escalated %v: row says escalated %v, segment %q", esc, r.escalated(), d.str(r.segment()))
		}
	}
}

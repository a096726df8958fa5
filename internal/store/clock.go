package store

import (
	"sync/atomic"
	"time"
)

// Clocked is a store whose stamps — a record's ingestion time, a
// document's creation, a ledger entry's time — can come from a clock other
// than the system's. `candor demo` stores its year of records day by day,
// each day's at that day's newest time, as a server that had received them
// as they happened would hold them: its ledger then spans the year, and an
// evidence pack of a quarter that has ended finds entries to verify.
type Clocked interface {
	SetClock(now func() time.Time)
	// Now is the time by the store's clock: what else is stamped while
	// it is set (the configuration's initial set, a proposal) reads it,
	// so that a document and its ledger entry agree.
	Now() time.Time
}

// ClockSlot holds a store's clock; the zero value is the system's. Both
// SQL stores embed one. It is read by every write, possibly while another
// goroutine sets it, hence the atomic pointer.
type ClockSlot struct {
	p atomic.Pointer[func() time.Time]
}

// SetClock makes now the store's clock; nil gives the system's back.
func (c *ClockSlot) SetClock(now func() time.Time) {
	if now == nil {
		c.p.Store(nil)
		return
	}
	c.p.Store(&now)
}

// Now is the time by the store's clock.
func (c *ClockSlot) Now() time.Time {
	if f := c.p.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

package engine

import (
	"time"

	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/metrics"
)

// SetImageCheck sets how often KeepImage looks (before it starts).
func (e *Engine) SetImageCheck(d time.Duration) { e.img.check = d }

// StaleHeld is the number of stale results the published datasets hold.
func (e *Engine) StaleHeld() int {
	w := e.acquire()
	defer w.mu.RUnlock()
	n := 0
	for _, ds := range w.datasets() {
		n += ds.StaleHeld()
	}
	return n
}

// SetPrefetchRows bounds the rows read ahead of a start from the state.
func (e *Engine) SetPrefetchRows(n int) { e.prefetchRows = n }

// StateMapping is the dataset state file the published dataset was read
// from in place; nil for one built in the heap.
func (e *Engine) StateMapping() *image.Mapped {
	w := e.cur.Load()
	return w.mapped
}

// SetRebaseRows sets the least sequence a first load without a state
// must reach to write one and go on from it.
func (e *Engine) SetRebaseRows(n int64) { e.rebaseRows = n }

// SetRebaseCommitted runs fn between the commit of a rebase's state and
// its read-back.
func (e *Engine) SetRebaseCommitted(fn func()) { e.rebaseCommitted = fn }

// SetMoveHook runs fn with the old mapping as a move starts ("start")
// and once it has given the mapping's pages back ("released").
func (e *Engine) SetMoveHook(fn func(stage string, old *image.Mapped)) { e.moveHook = fn }

// SetMaxMoves bounds the moves of a following engine.
func (e *Engine) SetMaxMoves(n int) { e.maxMoves = n }

// PlanStrings is planStrings: whether old's string pages (read from om)
// could be moved onto nw's file nm.
func (e *Engine) PlanStrings(old *metrics.Dataset, om *image.Mapped, nw *metrics.Dataset, nm *image.Mapped) error {
	_, err := e.planStrings(old, om, nw, nm)
	return err
}

// SetOneShotKeepBytes bounds the state a one-shot engine keeps the pages
// of; the returned function puts the bound back.
func SetOneShotKeepBytes(n int64) (restore func()) {
	old := oneShotKeepBytes
	oneShotKeepBytes = n
	return func() { oneShotKeepBytes = old }
}

// BulkHeld says whether a large catch-up's gcpace.Bulk policy is held
// for the move-on that takes its rows out of the heap.
func (e *Engine) BulkHeld() bool {
	e.refresh.Lock()
	defer e.refresh.Unlock()
	return e.bulkHeld != nil
}

// SetBulkHoldMax bounds how long a large catch-up's bulk policy waits
// for its move-on; the returned function puts the bound back.
func SetBulkHoldMax(d time.Duration) (restore func()) {
	old := bulkHoldMax
	bulkHoldMax = d
	return func() { bulkHoldMax = old }
}

// Arena is the file the published dataset's rows of a large catch-up are
// kept in; nil when none.
func (e *Engine) Arena() *image.Arena { return e.cur.Load().arena }

// SetArenaAnyFS lets the engine keep a large catch-up's rows in a file
// whatever the file system of its temporary directory (image.NewArena).
func (e *Engine) SetArenaAnyFS() { e.arenaAnyFS = true }

package connect

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/store"
)

// Refused, unverified deliveries past refusalRate are not logged one by
// one — anyone can send them, and each would cost the store a write — but
// they are counted: per source and minute, in memory, and added to the
// store's counts (store.NotLogged) every NotLoggedEvery and when the
// server stops (FlushNotLogged). The data sources report adds them to its
// rejected count and says how many were not logged, so that a flood never
// reads as a trickle.
//
// What the count covers: every instance sharing the store adds its own,
// so the report sums them all — but for what an instance counted since
// its last flush, which only that instance's own report includes (the
// report of another, and `candor sources`, see it at the next flush, at
// most NotLoggedEvery later), and for what an instance that died without
// stopping (kill -9, a crash) had not flushed.

// NotLoggedEvery is how often a server adds its refusals not logged to the
// store's counts (RunNotLogged).
const NotLoggedEvery = health.NotLoggedEvery

// notLogged counts the refusals not logged, until they are flushed.
type notLogged struct {
	// flushing is held by a flush from taking the counts until they are
	// written, and shared by a report reading the counts and the store:
	// a report sees each refusal once, pending or written, never both or
	// neither.
	flushing sync.RWMutex
	mu       sync.Mutex // guards pending
	pending  map[notLoggedKey]int64
}

type notLoggedKey struct {
	source string
	minute int64 // unix nanoseconds of the minute's start
}

// add counts one refusal of source received at t.
func (n *notLogged) add(source string, t time.Time) {
	k := notLoggedKey{source, t.UTC().Truncate(time.Minute).UnixNano()}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.pending == nil {
		n.pending = map[notLoggedKey]int64{}
	}
	n.pending[k]++
}

// count is how many refusals of source not yet flushed fall in the minutes
// beginning in [since, until], as the store counts its own
// (store.NotLoggedSQL). The caller holds flushing (shared).
func (n *notLogged) count(source string, since, until time.Time) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out int64
	for k, c := range n.pending {
		if k.source == source && k.minute >= since.UnixNano() && k.minute <= until.UnixNano() {
			out += c
		}
	}
	return out
}

// flush adds the pending counts to the store's; on failure they are kept
// for the next flush.
func (n *notLogged) flush(ctx context.Context, st store.DeliveryStore) error {
	n.flushing.Lock()
	defer n.flushing.Unlock()
	n.mu.Lock()
	taken := n.pending
	n.pending = nil
	n.mu.Unlock()
	if len(taken) == 0 {
		return nil
	}
	counts := make([]store.NotLogged, 0, len(taken))
	for k, c := range taken {
		counts = append(counts, store.NotLogged{Source: k.source, Minute: time.Unix(0, k.minute).UTC(), Count: c})
	}
	err := st.AddNotLogged(ctx, counts)
	if err != nil {
		n.mu.Lock()
		if n.pending == nil {
			n.pending = map[notLoggedKey]int64{}
		}
		for k, c := range taken {
			n.pending[k] += c
		}
		n.mu.Unlock()
	}
	return err
}

// FlushNotLogged adds the refusals this instance counted without logging
// them to the store's counts now (serve does when it stops).
func (s *Service) FlushNotLogged(ctx context.Context) error {
	return s.notLogged.flush(ctx, s.st)
}

// notLoggedWait bounds how long a periodic flush waits for the store: a
// report waits for a flush under way (notLogged.flushing), and an import
// may hold SQLite's writer for long. Counts not written are kept for the
// next flush.
const notLoggedWait = time.Second

// RunNotLogged flushes the refusals not logged every `every` until ctx
// ends (serve runs it; it does not flush at the end: FlushNotLogged, once
// no more deliveries arrive).
func (s *Service) RunNotLogged(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fctx, cancel := context.WithTimeout(ctx, notLoggedWait)
			err := s.FlushNotLogged(fctx)
			cancel()
			// A store busy past the wait is tried again at the next tick.
			if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
				s.log.Warn("webhook: adding the refused deliveries not logged to the store's counts (kept to try again)", "err", err)
			}
		}
	}
}

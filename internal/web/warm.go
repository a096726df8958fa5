package web

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// The warmer keeps what a reader opens first — the scorecard with its
// escalations panel, and every role view, unfiltered at the default window
// — computed for the minute pages answer at (defaultAsOf), so that the
// first reader of a minute does not pay for the computation. It warms the
// next minute shortly before it begins, the current one again after new
// data (which drops the results it can change), and nothing otherwise.
// The results land in the engine's result cache, which every request reads;
// the warmer only computes earlier what the first request would.

// warmLead is how long before a minute begins the warmer computes it.
// Records that arrive in between with times up to that minute drop the
// results they change (the result cache's invalidation), and the warmer
// computes those again once it sees the new data.
const warmLead = 15 * time.Second

// warmEvery is how often the warmer looks at the clock and the data.
const warmEvery = time.Second

// warmState is what the warmer has computed: at which minute, at which
// data sequence.
type warmState struct {
	at  time.Time
	seq int64
}

// warmer decides what to compute; Server.Warm does the computing.
type warmer struct {
	done []warmState // at most two: the current minute and the next
}

// due returns the minutes to compute at time now with the data at
// sequence seq: the current minute unless it is computed at seq, and,
// within warmLead of the next minute, that minute unless it is.
func (w *warmer) due(now time.Time, seq int64) []time.Time {
	cur := now.UTC().Truncate(time.Minute)
	want := []time.Time{cur}
	if next := cur.Add(time.Minute); next.Sub(now) <= warmLead {
		want = append(want, next)
	}
	var out []time.Time
	for _, at := range want {
		fresh := false
		for _, d := range w.done {
			fresh = fresh || d.at.Equal(at) && d.seq == seq
		}
		if !fresh {
			out = append(out, at)
		}
	}
	return out
}

// did records that minute at was computed at sequence seq, forgetting
// minutes before now's.
func (w *warmer) did(now time.Time, at time.Time, seq int64) {
	cur := now.UTC().Truncate(time.Minute)
	kept := w.done[:0]
	for _, d := range w.done {
		if !d.at.Before(cur) && !d.at.Equal(at) {
			kept = append(kept, d)
		}
	}
	w.done = append(kept, warmState{at: at, seq: seq})
}

// Warm keeps the default pages computed (see warmer) until ctx ends. It
// waits for the engine's first load. Run it beside the handler:
//
//	h := s.Handler()
//	go s.Warm(ctx)
func (s *Server) Warm(ctx context.Context) {
	if err := s.Engine.WaitFor(ctx, 0); err != nil {
		return
	}
	var w warmer
	t := time.NewTicker(warmEvery)
	defer t.Stop()
	for {
		for _, at := range w.due(s.Now(), s.Engine.Seq()) {
			// The sequence is read before computing: data that lands
			// meanwhile makes the minute due again.
			seq := s.Engine.Seq()
			if err := s.warmAt(ctx, at); err != nil {
				var wp *scorecard.WorkerPanic
				if errors.As(err, &wp) {
					// Not tried again before the next minute or new data:
					// the same data would panic again every second.
					s.Log.Error("warming the default pages panicked; the first reader of the page will be answered 500", "as_of", at, "panic", fmt.Sprint(wp.Value), "stack", string(wp.Stack))
					w.did(s.Now(), at, seq)
					continue
				}
				if ctx.Err() == nil {
					s.Log.Warn("warming the default pages", "as_of", at, "err", err)
				}
				break
			}
			w.did(s.Now(), at, seq)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// warmAt computes the scorecard, its escalations and every role view as
// of at, for a reader who may see everything: a reader who may see less
// reads a subset of the same cached results.
//
// A panic while computing (a formula meeting data it cannot handle) is
// returned as a *scorecard.WorkerPanic: raised on the warmer's goroutine
// it ended the whole server, where a reader's request is answered 500.
func (s *Server) warmAt(ctx context.Context, at time.Time) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = scorecard.AsPanic(v)
		}
	}()
	acks, err := s.acks.List(ctx, s.Store, "")
	if err != nil {
		return err
	}
	return s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		opt := scorecard.Options{AsOf: at}
		scorecard.Build(s.Catalog, ds, opt)
		escalation.Escalations(s.Catalog, ds, acks, escalation.Options{AsOf: at})
		for _, v := range s.Catalog.ViewsInForce() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if _, err := scorecard.View(s.Catalog, ds, v.ID, opt); err != nil {
				return err
			}
		}
		return nil
	})
}

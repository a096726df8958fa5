// Package adoption keeps who opened which page, metric and role view, per
// week, as counts (SPEC §5; no content, no finer times), and makes the
// quarterly review of what nobody uses: metrics and views nobody opened,
// and metrics that were red without anyone acknowledging them — candidates
// to retire or to fix.
package adoption

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/candor/candor/internal/store"
)

// Week is the week holding t, named by its Monday (UTC), YYYY-MM-DD.
func Week(t time.Time) string { return weekStart(t).Format(time.DateOnly) }

func weekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// Subjects of an open.
func MetricSubject(id string) string { return "metric:" + id }
func ViewSubject(id string) string   { return "view:" + id }

// DefaultEvery is how often a Recorder adds its counts to the store.
const DefaultEvery = 30 * time.Second

// Recorder counts opens in memory and adds them to the store at most
// every Every (on the next open after it) and at Flush: a page view costs
// a map increment, not a write that would queue behind an import. Counts
// not yet flushed are lost if the process dies, which a count can afford.
type Recorder struct {
	Store store.AdoptionStore
	Every time.Duration
	Log   *slog.Logger

	mu       sync.Mutex
	pending  map[store.Opens]int64 // Count zero in the key
	since    time.Time
	flushing bool
}

// Open counts one open of page (with subject, or "") by who at t.
func (r *Recorder) Open(t time.Time, who, page, subject string) {
	if r == nil || who == "" {
		return
	}
	k := store.Opens{Week: Week(t), Who: who, Page: page, Subject: subject}
	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[store.Opens]int64{}
	}
	if len(r.pending) == 0 {
		r.since = t
	}
	r.pending[k]++
	due := !r.flushing && t.Sub(r.since) >= r.every()
	if due {
		r.flushing = true
	}
	r.mu.Unlock()
	if due {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := r.flush(ctx); err != nil && r.Log != nil {
				r.Log.Warn("adding adoption counts", "err", err)
			}
		}()
	}
}

func (r *Recorder) every() time.Duration {
	if r.Every > 0 {
		return r.Every
	}
	return DefaultEvery
}

// Flush adds the pending counts to the store now.
func (r *Recorder) Flush(ctx context.Context) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	r.flushing = true
	r.mu.Unlock()
	return r.flush(ctx)
}

// flush takes the pending counts and writes them; on failure they are put
// back, so the next flush tries again.
func (r *Recorder) flush(ctx context.Context) error {
	r.mu.Lock()
	taken := r.pending
	r.pending = nil
	r.mu.Unlock()
	opens := make([]store.Opens, 0, len(taken))
	for k, n := range taken {
		k.Count = n
		opens = append(opens, k)
	}
	err := r.Store.AddOpens(ctx, opens)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushing = false
	if err != nil {
		if r.pending == nil {
			r.pending = map[store.Opens]int64{}
		}
		for k, n := range taken {
			r.pending[k] += n
		}
	}
	return err
}

package escalation

import (
	"context"
	"log/slog"
	"time"

	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Watcher raises escalations periodically. Run it on the leader instance
// (package leader); raising stays once a day per escalation even when two
// instances briefly both lead (Raise's document keys).
type Watcher struct {
	Docs     store.DocStore
	Engine   *engine.Engine
	Catalog  *catalog.Catalog
	Notifier Notifier
	// Every is how often it checks (DefaultEvery when zero).
	Every time.Duration
	// Now is the clock (time.Now when nil); Log receives failures.
	Now func() time.Time
	Log *slog.Logger
	// Annotations are the configured business-cycle periods; with those posted over the API
	// they exempt a metric's weeks from degrading as its definition says (Options).
	Annotations []catalog.Annotation
}

// DefaultEvery is how often the watcher checks by default.
const DefaultEvery = time.Hour

// Run checks at once and then every w.Every until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = DefaultEvery
	}
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil && w.Log != nil {
			w.Log.Error("raising escalations", "err", err)
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// RunOnce computes the escalations as of now and raises the new ones.
func (w *Watcher) RunOnce(ctx context.Context) (int, error) {
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	asOf := now().UTC()
	acks, err := List(ctx, w.Docs, "")
	if err != nil {
		return 0, err
	}
	anns, err := annotation.List(ctx, w.Docs, w.Annotations)
	if err != nil {
		return 0, err
	}
	var es []Escalation
	if err := w.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		es = Escalations(w.Catalog, ds, acks, Options{AsOf: asOf, Annotations: annotation.Annotations(anns)})
		return nil
	}); err != nil {
		return 0, err
	}
	return Raise(ctx, w.Docs, w.Notifier, es, asOf)
}

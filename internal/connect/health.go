package connect

import (
	"context"
	"slices"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/store"
)

// kindsFed are the record kinds each source maps onto.
var kindsFed = map[string][]domain.Kind{
	"github":       {domain.KindDeployment, domain.KindChange},
	"gitlab":       {domain.KindDeployment, domain.KindChange},
	"cdevents":     {domain.KindDeployment, domain.KindChange, domain.KindIncident},
	"jenkins":      {domain.KindDeployment},
	"argocd":       {domain.KindDeployment},
	"pagerduty":    {domain.KindIncident},
	"opsgenie":     {domain.KindIncident},
	"alertmanager": {domain.KindIncident},
	"jira":         {domain.KindIncident, domain.KindTicket},
	"zendesk":      {domain.KindTicket, domain.KindSurvey},
	"stripe":       {domain.KindSubscription},
}

// DefaultHealthPeriod is the period delivery counts cover by default.
const DefaultHealthPeriod = 7 * 24 * time.Hour

// The health report lists at most this many rejected deliveries and
// failed runs per source.
const (
	maxHealthRejects = 10
	maxSyncErrors    = 5
)

// Health reports, as of asOf, every connector source that is configured
// or has delivered or synced anything: what it feeds, its deliveries over
// the period before asOf by outcome, its latest rejects with their
// reasons, its collector's last runs and errors, and when it last worked.
// The scorecard judges it (scorecard.Sources).
//
// Its counts include the refusals this instance counted without logging
// them and has not yet added to the store's (notLogged); Health, over the
// store alone, has those of every instance up to its last flush.
func (s *Service) Health(ctx context.Context, asOf time.Time, period time.Duration) ([]health.Connector, error) {
	s.notLogged.flushing.RLock()
	defer s.notLogged.flushing.RUnlock()
	return sourcesHealth(ctx, s.st, s.cfg, asOf, period, &s.notLogged)
}

// Feeds is the connection health the scorecard's unknown rule reads: the
// configured sources that feed a state kind, with when each last worked.
func (s *Service) Feeds(ctx context.Context, asOf time.Time) ([]health.Connector, error) {
	return Feeds(ctx, s.st, s.cfg, asOf)
}

// Health is Service.Health over a store and a configuration: the
// refusals not logged that an instance has not yet added to the store's
// counts are not in it.
func Health(ctx context.Context, st store.Store, cfg Config, asOf time.Time, period time.Duration) ([]health.Connector, error) {
	return sourcesHealth(ctx, st, cfg, asOf, period, nil)
}

// sourcesHealth is Health with this instance's pending refusals not logged
// (nil: none).
func sourcesHealth(ctx context.Context, st store.Store, cfg Config, asOf time.Time, period time.Duration, pending *notLogged) ([]health.Connector, error) {
	if period <= 0 {
		period = DefaultHealthPeriod
	}
	var out []health.Connector
	for _, src := range Sources() {
		h, err := connectorHealth(ctx, st, &cfg, src, asOf, period, true, pending)
		if err != nil {
			return nil, err
		}
		if h.Configured || h.LastDelivery != nil || h.LastSync != nil {
			out = append(out, h)
		}
	}
	return out, nil
}

// Feeds is Service.Feeds over a store and a configuration.
func Feeds(ctx context.Context, st store.Store, cfg Config, asOf time.Time) ([]health.Connector, error) {
	var out []health.Connector
	for _, src := range Sources() {
		if !slices.ContainsFunc(kindsFed[src], domain.Kind.State) {
			continue
		}
		// No period: only when it last worked is needed.
		h, err := connectorHealth(ctx, st, &cfg, src, asOf, 0, false, nil)
		if err != nil {
			return nil, err
		}
		if h.Configured {
			out = append(out, h)
		}
	}
	return out, nil
}

// connectorHealth reads one source's health; full adds the rejects,
// pending the refusals not logged this instance has not flushed.
func connectorHealth(ctx context.Context, st store.Store, cfg *Config, src string, asOf time.Time, period time.Duration, full bool, pending *notLogged) (health.Connector, error) {
	h := health.Connector{Source: src, Period: catalog.FormatWindow(period), Counts: map[string]int64{},
		Rejects: []health.Reject{}, SyncErrors: []health.Run{}}
	for _, k := range kindsFed[src] {
		h.Kinds = append(h.Kinds, string(k))
	}
	if slices.Contains(signedSources, src) {
		h.Webhook = cfg.secret(src) != ""
	}
	if slices.Contains(syncSources, src) && cfg.ready(src) == "" {
		h.Collector, h.SyncEvery = true, cfg.syncOf(src).Every
	}
	stats, err := st.DeliveryStats(ctx, src, asOf.Add(-period), asOf)
	if err != nil {
		return h, err
	}
	for _, o := range []string{store.DeliveryAccepted, store.DeliveryDuplicate, store.DeliveryIgnored, store.DeliveryRejected} {
		h.Counts[o] = stats.Counts[o]
	}
	// Refusals counted, not logged, are rejected deliveries all the same.
	h.NotLogged = stats.NotLogged
	if pending != nil {
		h.NotLogged += pending.count(src, asOf.Add(-period), asOf)
	}
	h.Counts[store.DeliveryRejected] += h.NotLogged
	if !stats.Last.IsZero() {
		h.LastDelivery = &stats.Last
		// A source verified by API token has no setting of its own: that
		// it sends deliveries is what says it is set up.
		h.Webhook = h.Webhook || !slices.Contains(signedSources, src)
	}
	lastOK := stats.LastOK
	if full {
		rejects, err := st.Deliveries(ctx, store.DeliveryFilter{Source: src, Outcome: store.DeliveryRejected, Before: asOf, Limit: maxHealthRejects})
		if err != nil {
			return h, err
		}
		for _, d := range rejects {
			h.Rejects = append(h.Rejects, health.Reject{At: d.ReceivedAt, DeliveryID: d.DeliveryID, Event: d.Event, Reason: d.Reason})
		}
	}
	if slices.Contains(syncSources, src) {
		syncOK, err := syncHealth(ctx, st, src, asOf, &h)
		if err != nil {
			return h, err
		}
		if syncOK.After(lastOK) {
			lastOK = syncOK
		}
	}
	if !lastOK.IsZero() {
		h.LastOK = &lastOK
	}
	h.Configured = h.Webhook || h.Collector
	return h, nil
}

// syncHealth fills a collector's runs in h and returns when its last
// successful run finished (zero if none had by asOf).
func syncHealth(ctx context.Context, st store.Store, src string, asOf time.Time, h *health.Connector) (time.Time, error) {
	runs, err := st.SyncRuns(ctx, store.SyncRunFilter{Source: src, Before: asOf, Limit: maxSyncErrors + 1})
	if err != nil {
		return time.Time{}, err
	}
	if len(runs) == 0 {
		return time.Time{}, nil
	}
	last := healthRun(runs[0])
	h.LastSync = &last
	var ok time.Time
	for _, r := range runs {
		if r.Outcome == store.SyncOK {
			ok = r.FinishedAt
			break
		}
		if len(h.SyncErrors) < maxSyncErrors {
			h.SyncErrors = append(h.SyncErrors, healthRun(r))
		}
	}
	if ok.IsZero() {
		// More failures than were read: the last success is further back.
		older, err := st.SyncRuns(ctx, store.SyncRunFilter{Source: src, Outcome: store.SyncOK, Before: asOf, Limit: 1})
		if err != nil {
			return time.Time{}, err
		}
		if len(older) > 0 {
			ok = older[0].FinishedAt
		}
	}
	if !ok.IsZero() {
		h.LastSyncOK = &ok
	}
	return ok, nil
}

func healthRun(r store.SyncRun) health.Run {
	return health.Run{StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Outcome: r.Outcome, Error: r.Error, Pages: r.Pages,
		Accepted: r.Accepted, Ignored: r.Ignored, Rejected: r.Rejected, Inserted: r.Inserted, Replaced: r.Replaced, Unchanged: r.Unchanged}
}

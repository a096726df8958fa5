package scorecard

import (
	"fmt"
	"github.com/candor/candor/internal/plural"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
)

// Statuses of a record kind on the data sources page.
const (
	KindFresh     = "fresh"
	KindStale     = "stale"
	KindNeverSent = "never_sent"
)

// SourcesReport is the data sources page (SPEC §5, data quality) as of a
// time: every record kind with how many of its records exist then, its
// newest data, its freshness limit and status, and the data problems
// found in the records.
type SourcesReport struct {
	AsOf     time.Time         `json:"as_of"`
	Kinds    []KindSource      `json:"kinds"`
	Problems []metrics.Problem `json:"problems"`
	// Quarantined are the stored rows left out because they could not be
	// decoded (corrupted, or written by a newer version), whatever as_of.
	Quarantined []metrics.QuarantinedRow `json:"quarantined"`
}

// KindSource is one record kind on the data sources page.
type KindSource struct {
	Kind string `json:"kind"`
	// Records counts the records that exist at as_of (SPEC §3: from their
	// defining time; period kinds from their period's start).
	Records  int        `json:"records"`
	LastData *time.Time `json:"last_data"`
	// Limit is the freshness limit the kind is judged by: a configured
	// one, else the tightest any catalog metric reading it uses, else the
	// default. Empty for state kinds.
	Limit string `json:"limit,omitempty"`
	// State marks a state kind (SPEC §4): never stale by its records' own
	// times, only fresh or never sent.
	State  bool   `json:"state,omitempty"`
	Status string `json:"status"`
	// Problems counts the data problems of the kind's records.
	Problems int `json:"problems"`
}

// Sources builds the data sources report. It reads every record that
// names another (for the data problems), so it is a page, not a card.
func Sources(cat *catalog.Catalog, ds *metrics.Dataset, asOf time.Time) *SourcesReport {
	r := &SourcesReport{AsOf: asOf.UTC(), Problems: ds.Problems(asOf), Quarantined: ds.Quarantined()}
	if r.Problems == nil {
		r.Problems = []metrics.Problem{}
	}
	perKind := map[domain.Kind]int{}
	for _, p := range r.Problems {
		perKind[p.Kind]++
	}
	for _, k := range domain.Kinds {
		ks := KindSource{Kind: string(k), Records: ds.CountAt(k, asOf), State: k.State(), Problems: perKind[k]}
		limit := kindLimit(cat, ds, k)
		sf := sourceFreshness(ds, k, limit, asOf)
		ks.LastData = sf.LastData
		switch {
		case ks.Records == 0 && sf.LastData == nil:
			ks.Status = KindNeverSent
		case sf.Stale:
			ks.Status = KindStale
		default:
			ks.Status = KindFresh
		}
		if !ks.State {
			ks.Limit = sf.Limit
		}
		r.Kinds = append(r.Kinds, ks)
	}
	return r
}

// kindLimit is the freshness limit of a kind on the data sources page: a
// configured one, else the tightest limit a catalog metric reading the
// kind uses (the page says stale when any card would), else the default.
func kindLimit(cat *catalog.Catalog, ds *metrics.Dataset, k domain.Kind) time.Duration {
	var limit time.Duration
	for _, m := range cat.Metrics {
		for _, s := range m.Sources {
			if s.Kind == string(k) && (limit == 0 || s.Freshness < limit) {
				limit = s.Freshness
			}
		}
	}
	if limit == 0 {
		limit, _ = catalog.DefaultFreshness(string(k))
	}
	return configuredLimit(ds, k, limit)
}

// configuredLimit is the organisation's configured freshness limit for a
// kind, or limit when none is configured.
func configuredLimit(ds *metrics.Dataset, k domain.Kind, limit time.Duration) time.Duration {
	if l, ok := ds.Config().Freshness[k]; ok && l > 0 {
		return l
	}
	return limit
}

// sourceFreshness judges one kind as of asOf (SPEC §4): stale when it has
// no data by then, or, for a kind of events, when its newest data is older
// than limit. A state kind (a subscription book, quotas, budgets) is never
// stale by its records' own times: a book that did not change is quiet,
// not broken. (A connector's connection health could make it stale; there
// are no connectors yet.)
func sourceFreshness(ds *metrics.Dataset, k domain.Kind, limit time.Duration, asOf time.Time) SourceFresh {
	sf := SourceFresh{Kind: string(k), State: k.State()}
	if !k.State() {
		// A state kind has no age limit to show (SPEC §4).
		sf.Limit = catalog.FormatWindow(limit)
	}
	last, ok := ds.LastData(k, asOf)
	switch {
	case ok:
		sf.LastData = &last
		sf.Stale = !k.State() && asOf.Sub(last) > limit
	case k.State():
		// No times to judge by: a state kind has data once it has records.
		sf.Stale = ds.CountAt(k, asOf) == 0
	default:
		sf.Stale = true
	}
	return sf
}

// SourcesText renders the data sources report for people.
func SourcesText(r *SourcesReport, o TextOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", paint(o.Color, ansiBold, "Data sources as of "+r.AsOf.Format(time.RFC3339)))
	fmt.Fprintf(&b, "%-14s %9s  %-20s  %-6s  %s\n", "kind", "records", "last data", "limit", "status")
	for _, k := range r.Kinds {
		last, limit := "—", "—"
		if k.LastData != nil {
			last = k.LastData.Format(time.RFC3339)
		}
		if k.Limit != "" {
			limit = k.Limit
		}
		status := map[string]string{KindFresh: "fresh", KindStale: "stale", KindNeverSent: "never sent"}[k.Status]
		color := map[string]string{KindFresh: statusColor[catalog.Green], KindStale: statusColor[catalog.Red], KindNeverSent: statusColor[catalog.Unknown]}[k.Status]
		status = paint(o.Color, color, status)
		if k.State {
			status += " (state kind: never stale by its records' own times)"
		}
		if k.Problems > 0 {
			status += ", " + plural.Count(k.Problems, "data problem")
		}
		fmt.Fprintf(&b, "%-14s %9d  %-20s  %-6s  %s\n", k.Kind, k.Records, last, limit, status)
	}
	writeProblems(&b, r.Problems)
	if len(r.Quarantined) > 0 {
		fmt.Fprintf(&b, "\nStored rows left out, unreadable (%d):\n", len(r.Quarantined))
		for _, q := range r.Quarantined {
			fmt.Fprintf(&b, "  %s %s/%s (seq %d): %s\n", q.Kind, q.Source, q.ID, q.Seq, q.Reason)
		}
	}
	return b.String()
}

// writeProblems lists data problems under a heading; nothing when none.
func writeProblems(b *strings.Builder, ps []metrics.Problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "\nData problems (%d):\n", len(ps))
	for _, p := range ps {
		fmt.Fprintf(b, "  %s\n", p)
	}
}

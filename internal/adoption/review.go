package adoption

import (
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// QuarterWeeks is the span of the quarterly review: the 13 weeks up to and
// including as_of's.
const QuarterWeeks = 13

// Review is the quarterly review: what nobody opened, and what was red
// with nobody acknowledging it, over the quarter up to AsOf.
type Review struct {
	AsOf time.Time `json:"as_of"`
	// From and To are the weeks covered: From ≤ week < To.
	From string `json:"from_week"`
	To   string `json:"to_week"`
	// Metrics and Views are those nobody opened in the quarter (their
	// page, or their API), of the metrics in force and the views.
	Metrics []Item `json:"unopened_metrics"`
	Views   []Item `json:"unopened_views"`
	// Unacknowledged are the metrics red at organisation level at one or
	// more of the quarter's weekly checks (each Monday 00:00 UTC), with no
	// acknowledgement made in the quarter.
	Unacknowledged []RedItem `json:"red_never_acknowledged"`
	// Opens counts every open in the quarter, and Openers the people.
	Opens   int64 `json:"opens"`
	Openers int   `json:"openers"`
}

// Span words the weeks the review covers as the pages word dates: "7 Sep
// 2026 – 6 Dec 2026" (To is the Monday after the last week); the JSON
// keeps From and To as they are.
func (r Review) Span() string {
	from, err1 := time.Parse(time.DateOnly, r.From)
	to, err2 := time.Parse(time.DateOnly, r.To)
	if err1 != nil || err2 != nil {
		return r.From + " – " + r.To
	}
	return from.Format("2 Jan 2006") + " – " + to.AddDate(0, 0, -1).Format("2 Jan 2006")
}

// Item is a metric or a view.
type Item struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Pillar string `json:"pillar,omitempty"`
	Owner  string `json:"owner,omitempty"`
}

// RedItem is a metric found red, with how often and when last.
type RedItem struct {
	Item
	RedChecks int       `json:"red_checks"`
	LastRed   time.Time `json:"last_red"`
}

// Quarter returns the weeks of the review as of asOf: From ≤ week < To.
func Quarter(asOf time.Time) (from, to string) {
	end := weekStart(asOf).AddDate(0, 0, 7)
	return end.AddDate(0, 0, -7*QuarterWeeks).Format(time.DateOnly), end.Format(time.DateOnly)
}

// Build makes the review as of asOf from the quarter's opens (Quarter's
// weeks), the acknowledgements and the data. Every metric and view in
// force is reviewed for opens (the catalog is no secret: docs/metrics.md),
// but only those visible accepts (nil: all) for their status. Call it under
// the engine's read lock.
func Build(cat *catalog.Catalog, ds *metrics.Dataset, opens []store.Opens, acks []escalation.Acknowledgement, asOf time.Time, visible func(*catalog.Metric) bool) *Review {
	from, to := Quarter(asOf)
	rv := &Review{AsOf: asOf.UTC(), From: from, To: to, Metrics: []Item{}, Views: []Item{}, Unacknowledged: []RedItem{}}
	opened := map[string]bool{}
	people := map[string]bool{}
	for _, o := range opens {
		if o.Week < from || o.Week >= to {
			continue
		}
		rv.Opens += o.Count
		if o.Who != "" {
			people[o.Who] = true
		}
		opened[o.Subject] = true
	}
	rv.Openers = len(people)
	cat = cat.At(asOf)
	start := weekStartOf(from)
	acked := map[string]bool{}
	for _, a := range acks {
		if !a.At.Before(start) && !a.At.After(asOf) {
			acked[a.Metric] = true
		}
	}
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		if m.Retired {
			continue
		}
		it := Item{ID: m.ID, Name: m.Name, Pillar: m.Pillar, Owner: m.Owner}
		if !opened[MetricSubject(m.ID)] {
			rv.Metrics = append(rv.Metrics, it)
		}
		// A status is the metric's numbers speaking: only for those who
		// may see them.
		if (visible != nil && !visible(m)) || acked[m.ID] || !scorecard.Computed(m) || m.JudgedBy != "" {
			continue
		}
		red := RedItem{Item: it}
		// Checked each Monday 00:00 UTC of the quarter: points that stay
		// the same all week, so their results stay in the metric cache.
		for k := 0; k < QuarterWeeks; k++ {
			t := weekStart(asOf).AddDate(0, 0, -7*k)
			if scorecard.Evaluate(ds, m, scorecard.Options{AsOf: t}, metrics.Scope{}, false).Status == catalog.Red {
				red.RedChecks++
				if red.LastRed.IsZero() {
					red.LastRed = t.UTC()
				}
			}
		}
		if red.RedChecks > 0 {
			rv.Unacknowledged = append(rv.Unacknowledged, red)
		}
	}
	for _, v := range cat.ViewsInForce() {
		if !opened[ViewSubject(v.ID)] {
			rv.Views = append(rv.Views, Item{ID: v.ID, Name: v.Name})
		}
	}
	return rv
}

func weekStartOf(week string) time.Time {
	t, _ := time.Parse(time.DateOnly, week)
	return t
}

// Text renders the review for people.
func (rv *Review) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Quarterly review as of %s (weeks %s to %s: %s by %s)\n", rv.AsOf.Format(time.RFC3339), rv.From, rv.To,
		plural.Count(rv.Opens, "open"), plural.Counts(rv.Openers, "person", "people"))
	fmt.Fprintf(&b, "\nMetrics nobody opened (%d): candidates to retire\n", len(rv.Metrics))
	for _, m := range rv.Metrics {
		fmt.Fprintf(&b, "  %s — %s (%s, owner %s)\n", m.ID, m.Name, m.Pillar, m.Owner)
	}
	fmt.Fprintf(&b, "\nRole views nobody opened (%d)\n", len(rv.Views))
	for _, v := range rv.Views {
		fmt.Fprintf(&b, "  %s — %s\n", v.ID, v.Name)
	}
	fmt.Fprintf(&b, "\nMetrics red and never acknowledged (%d): candidates to fix\n", len(rv.Unacknowledged))
	for _, m := range rv.Unacknowledged {
		fmt.Fprintf(&b, "  %s — red at %d of %d weekly checks, last %s (owner %s)\n", m.ID, m.RedChecks, QuarterWeeks, m.LastRed.Format(time.DateOnly), m.Owner)
	}
	return b.String()
}

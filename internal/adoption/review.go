package adoption

import (
	"context"
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
// with nobody acknowledging it, over the quarter up to AsOf — or over the
// part of it since the counts began, which is all that was observed.
type Review struct {
	AsOf time.Time `json:"as_of"`
	// From and To are the weeks covered: From ≤ week < To. From is the
	// quarter's first week, or the week the counts began if later.
	From string `json:"from_week"`
	To   string `json:"to_week"`
	// Began is when the adoption counts began on this store; Weeks the
	// weeks covered (0 when they began after the quarter).
	Began time.Time `json:"counts_began"`
	Weeks int       `json:"weeks"`
	// Judged is false when fewer than MinWeeks were covered: then nothing
	// is named, Metrics, Views and Unacknowledged are null, as "nobody
	// opened it" in the store's first days would name every metric.
	Judged bool `json:"judged"`
	// Metrics and Views are those nobody opened in the weeks covered
	// (their page, or their API), of the metrics in force and the views.
	Metrics []Item `json:"unopened_metrics"`
	Views   []Item `json:"unopened_views"`
	// Unacknowledged are the metrics red at organisation level at one or
	// more of the weekly checks (each covered week's Monday 00:00 UTC),
	// with no acknowledgement made in the weeks covered.
	Unacknowledged []RedItem `json:"red_never_acknowledged"`
	// Opens counts every open in the weeks covered, and Openers the people.
	Opens   int64 `json:"opens"`
	Openers int   `json:"openers"`
}

// MinWeeks is the fewest weeks of counts the review judges from: a month,
// so that what is opened monthly is not named as unused.
const MinWeeks = 4

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

// Build makes the review as of asOf from what is kept (ReadKept: the
// quarter's opens, the acknowledgements, when the counts began) and the
// data, judging only from the week the counts began. Every metric
// and view in force is reviewed for opens (the catalog is no secret:
// docs/metrics.md), but only those visible accepts (nil: all) for their
// status. Call it under the engine's read lock.
func Build(cat *catalog.Catalog, ds *metrics.Dataset, k Kept, asOf time.Time, visible func(*catalog.Metric) bool) *Review {
	opens, acks, began := k.Opens, k.Acks, k.Began
	from, to := Quarter(asOf)
	if w := Week(began); w > from {
		from = min(w, to)
	}
	rv := &Review{AsOf: asOf.UTC(), From: from, To: to, Began: began.UTC()}
	rv.Weeks = int(weekStartOf(to).Sub(weekStartOf(from)).Hours()) / (7 * 24)
	opened := map[string]bool{}
	people := map[string]bool{}
	for _, o := range opens {
		if o.Week < from || o.Week >= to {
			continue
		}
		rv.Opens += o.Count
		// People are users; an API token's opens count as opens, not as
		// a person (the demo's token had been one of two "people").
		if isPerson(o.Who) {
			people[o.Who] = true
		}
		opened[o.Subject] = true
	}
	rv.Openers = len(people)
	if rv.Weeks < MinWeeks {
		return rv
	}
	rv.Judged = true
	rv.Metrics, rv.Views, rv.Unacknowledged = []Item{}, []Item{}, []RedItem{}
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
		// Checked each Monday 00:00 UTC of the weeks covered: points that
		// stay the same all week, so their results stay in the metric
		// cache. Not before the counts began: nobody could have
		// acknowledged a red the store never showed.
		for k := 0; k < rv.Weeks; k++ {
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

// Kept is what Build reads from the store for a review as of an instant.
type Kept struct {
	Opens []store.Opens
	Acks  []escalation.Acknowledgement
	Began time.Time
}

// ReadKept reads the quarter's opens as of asOf, the acknowledgements and
// when the counts began.
func ReadKept(ctx context.Context, st interface {
	store.AdoptionStore
	store.DocStore
}, asOf time.Time) (Kept, error) {
	var k Kept
	from, to := Quarter(asOf)
	var err error
	if k.Opens, err = st.Opens(ctx, from, to); err != nil {
		return k, err
	}
	if k.Acks, err = escalation.List(ctx, st, ""); err != nil {
		return k, err
	}
	k.Began, err = st.OpensBegan(ctx)
	return k, err
}

func weekStartOf(week string) time.Time {
	t, _ := time.Parse(time.DateOnly, week)
	return t
}

// Partial says why the review covers fewer than the quarter's weeks, ""
// when it covers them all: the counts began within the quarter, or too
// recently to judge from.
func (r Review) Partial() string {
	if r.Weeks >= QuarterWeeks {
		return ""
	}
	began := r.Began.Format("2 Jan 2006")
	if r.Weeks == 0 {
		return fmt.Sprintf("The adoption counts began %s, after this review's as of (%s): no week of counts to judge from.", began, r.AsOf.Format("2 Jan 2006"))
	}
	if !r.Judged {
		return fmt.Sprintf("The adoption counts began %s: %s of counts, too few to name what nobody opens or acknowledges (the review judges from %d weeks).",
			began, plural.Count(r.Weeks, "week"), MinWeeks)
	}
	return fmt.Sprintf("The adoption counts began %s: the review covers the %d weeks since, not the quarter's %d.", began, r.Weeks, QuarterWeeks)
}

// Text renders the review for people.
func (rv *Review) Text() string {
	var b strings.Builder
	// The weeks as the page words them: their last day, where "to
	// 2026-12-07" (the next Monday) read as a week still to come.
	fmt.Fprintf(&b, "Quarterly review as of %s (weeks %s: %s by %s)\n", rv.AsOf.Format(time.RFC3339), rv.Span(),
		plural.Count(rv.Opens, "open"), plural.Counts(rv.Openers, "person", "people"))
	if p := rv.Partial(); p != "" {
		fmt.Fprintf(&b, "%s\n", p)
	}
	if !rv.Judged {
		return b.String()
	}
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
		fmt.Fprintf(&b, "  %s — red at %d of %d weekly checks, last %s (owner %s)\n", m.ID, m.RedChecks, rv.Weeks, m.LastRed.Format(time.DateOnly), m.Owner)
	}
	return b.String()
}

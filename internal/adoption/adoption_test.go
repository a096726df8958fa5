package adoption

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

func TestWeekIsItsMonday(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-30T00:00:00Z": "2026-03-30", // a Monday
		"2026-04-05T23:59:59Z": "2026-03-30", // the Sunday after
		"2026-03-29T12:00:00Z": "2026-03-23",
	} {
		at, _ := time.Parse(time.RFC3339, in)
		if got := Week(at); got != want {
			t.Errorf("Week(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestRecorderCountsAndFlushes(t *testing.T) {
	st := sqlitetest.Open(t)
	r := &Recorder{Store: st, Every: time.Hour}
	at := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	for range 3 {
		r.Open(at, "user:a@example.com", "GET /metrics/{id}", MetricSubject("mttr"))
	}
	r.Open(at, "user:b@example.com", "GET /{$}", "")
	r.Open(at, "", "GET /{$}", "") // anonymous: not counted
	if got, _ := st.Opens(context.Background(), "2026-01-01", "2027-01-01"); len(got) != 0 {
		t.Fatalf("written before it was due: %+v", got)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.Open(at, "user:a@example.com", "GET /metrics/{id}", MetricSubject("mttr"))
	r.Flush(context.Background())
	got, _ := st.Opens(context.Background(), "2026-01-01", "2027-01-01")
	want := []store.Opens{
		{Week: "2026-03-30", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 4},
		{Week: "2026-03-30", Who: "user:b@example.com", Page: "GET /{$}", Count: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("opens = %+v, want %+v", got, want)
	}
}

// quarterOfFailures is a store whose deployments fail half the time for
// the 100 days up to asOf (change failure rate red at every weekly check).
func quarterOfFailures(t *testing.T, asOf time.Time) store.Store {
	t.Helper()
	var b strings.Builder
	for d := range 100 {
		day := asOf.Add(-time.Duration(100-d) * 24 * time.Hour)
		for k := range 4 {
			status, reason := "success", ""
			if k%2 == 0 {
				status, reason = "failure", `,"reason":"hotfix"`
			}
			fmt.Fprintf(&b, `{"kind":"deployment","id":"d%d-%d","service":"api","environment":"production","finished_at":%q,"status":%q%s}`+"\n",
				d, k, day.Add(time.Duration(k)*time.Hour).Format(time.RFC3339), status, reason)
		}
		if d%5 == 0 {
			fmt.Fprintf(&b, `{"kind":"incident","id":"i%d","service":"db","severity":"P4","opened_at":%q,"resolved_at":%q}`+"\n",
				d, day.Format(time.RFC3339), day.Add(time.Hour).Format(time.RFC3339))
		}
	}
	st := sqlitetest.Open(t)
	if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "q.ndjson", Reader: strings.NewReader(b.String())}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestReview: deployments fail half the time for the whole quarter (change
// failure rate red); mttr is opened, the rest not; an acknowledgement of
// rework_rate takes it off the red list.
func TestReview(t *testing.T) {
	asOf := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	st := quarterOfFailures(t, asOf)
	cat, _ := catalog.Default()
	opens := []store.Opens{
		{Week: "2026-03-30", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: MetricSubject("mttr"), Count: 2},
		{Week: "2026-03-23", Who: "user:b@example.com", Page: "GET /views/{role}", Subject: ViewSubject("ceo"), Count: 1},
		// Before the quarter: does not count.
		{Week: "2025-06-02", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: MetricSubject("availability"), Count: 9},
	}
	acks := []escalation.Acknowledgement{{Metric: "rework_rate", At: asOf.Add(-30 * 24 * time.Hour)}}
	kept := Kept{Opens: opens, Acks: acks, Began: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)}
	var rv *Review
	engine.New(st, metrics.DefaultConfig()).Read(context.Background(), func(ds *metrics.Dataset) error {
		rv = Build(cat, ds, kept, asOf, nil)
		return nil
	})
	if rv.Opens != 3 || rv.Openers != 2 {
		t.Errorf("opens %d by %d", rv.Opens, rv.Openers)
	}
	ids := func(items []Item) []string {
		var out []string
		for _, i := range items {
			out = append(out, i.ID)
		}
		return out
	}
	if m := ids(rv.Metrics); slices.Contains(m, "mttr") || !slices.Contains(m, "availability") || !slices.Contains(m, "change_failure_rate") {
		t.Errorf("unopened metrics: %v", m)
	}
	if v := ids(rv.Views); slices.Contains(v, "ceo") || !slices.Contains(v, "cro") {
		t.Errorf("unopened views: %v", v)
	}
	var red []string
	for _, r := range rv.Unacknowledged {
		red = append(red, r.ID)
		if r.RedChecks != QuarterWeeks && r.ID == "change_failure_rate" {
			t.Errorf("change_failure_rate red at %d checks, want %d", r.RedChecks, QuarterWeeks)
		}
	}
	if !slices.Contains(red, "change_failure_rate") || slices.Contains(red, "rework_rate") {
		t.Errorf("red never acknowledged: %v", red)
	}
	if !strings.Contains(rv.Text(), "change_failure_rate — red at 13 of 13 weekly checks") {
		t.Errorf("text:\n%s", rv.Text())
	}
	// Someone who may not see change_failure_rate's numbers (an
	// administrator) still learns nobody opened it, but not that it was red.
	engine.New(st, metrics.DefaultConfig()).Read(context.Background(), func(ds *metrics.Dataset) error {
		rv = Build(cat, ds, kept, asOf, func(m *catalog.Metric) bool { return m.ID != "change_failure_rate" })
		return nil
	})
	if !slices.Contains(ids(rv.Metrics), "change_failure_rate") || len(rv.Unacknowledged) != len(red)-1 {
		t.Errorf("with change_failure_rate hidden: unopened %v, red %+v", ids(rv.Metrics), rv.Unacknowledged)
	}
	for _, r := range rv.Unacknowledged {
		if r.ID == "change_failure_rate" {
			t.Errorf("a hidden metric's red status is in the review")
		}
	}
}

// TestReviewFromTheCountsBegan: a store whose counts began within the
// quarter is judged only over the weeks since — and not at all over fewer
// than MinWeeks, where it named every metric "nobody opened" and every
// red one "never acknowledged" over a quarter before the store existed.
func TestReviewFromTheCountsBegan(t *testing.T) {
	asOf := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	st := quarterOfFailures(t, asOf)
	cat, _ := catalog.Default()
	review := func(began time.Time) *Review {
		var rv *Review
		engine.New(st, metrics.DefaultConfig()).Read(context.Background(), func(ds *metrics.Dataset) error {
			rv = Build(cat, ds, Kept{Began: began}, asOf, nil)
			return nil
		})
		return rv
	}
	// Minutes old: the week of as_of only, too few to judge.
	rv := review(asOf.Add(-10 * time.Minute))
	if rv.Judged || rv.Weeks != 1 || rv.From != "2026-03-30" || rv.Metrics != nil || rv.Views != nil || rv.Unacknowledged != nil {
		t.Errorf("a store minutes old is judged: weeks %d from %s, unopened %d, red %d", rv.Weeks, rv.From, len(rv.Metrics), len(rv.Unacknowledged))
	}
	text := rv.Text()
	if !strings.Contains(text, "The adoption counts began 31 Mar 2026: 1 week of counts, too few") || strings.Contains(text, "nobody opened") {
		t.Errorf("text of a store minutes old:\n%s", text)
	}
	// Began after as_of: no week covered.
	if rv := review(asOf.AddDate(0, 1, 0)); rv.Judged || rv.Weeks != 0 || rv.From != rv.To || !strings.Contains(rv.Text(), "began 1 May 2026, after this review's as of (31 Mar 2026)") {
		t.Errorf("counts begun after as_of: weeks %d, %s to %s:\n%s", rv.Weeks, rv.From, rv.To, rv.Text())
	}
	// Six weeks of counts (a Wednesday's, counting its week): judged over
	// those weeks, red checks out of as many.
	rv = review(time.Date(2026, 2, 25, 9, 0, 0, 0, time.UTC))
	if !rv.Judged || rv.Weeks != 6 || rv.From != "2026-02-23" || !slices.ContainsFunc(rv.Metrics, func(i Item) bool { return i.ID == "mttr" }) {
		t.Errorf("six weeks of counts: judged %v, weeks %d from %s, unopened %d", rv.Judged, rv.Weeks, rv.From, len(rv.Metrics))
	}
	text = rv.Text()
	for _, want := range []string{"the review covers the 6 weeks since, not the quarter's 13", "change_failure_rate — red at 6 of 6 weekly checks",
		// The weeks as the page words them, to their last day.
		"(weeks 23 Feb 2026 – 5 Apr 2026:"} {
		if !strings.Contains(text, want) {
			t.Errorf("text of six weeks lacks %q:\n%s", want, text)
		}
	}
}

// TestCounts: the weeks holding from and to, each week's total opens and
// distinct openers (a forgotten opener counts opens, not an opener).
func TestCounts(t *testing.T) {
	st := sqlitetest.Open(t)
	st.AddOpens(context.Background(), []store.Opens{
		{Week: "2026-03-23", Who: "user:a@example.com", Page: "GET /{$}", Count: 2},
		{Week: "2026-03-23", Who: "user:a@example.com", Page: "GET /metrics/{id}", Subject: MetricSubject("mttr"), Count: 1},
		{Week: "2026-03-23", Who: "", Page: "GET /{$}", Count: 4},
		{Week: "2026-03-30", Who: "user:b@example.com", Page: "GET /views/{role}", Subject: ViewSubject("ceo"), Count: 3},
		{Week: "2026-04-06", Who: "user:b@example.com", Page: "GET /{$}", Count: 7},
	})
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	from, to, err := Span(time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 5, 23, 0, 0, 0, time.UTC), now)
	if err != nil || from != "2026-03-23" || to != "2026-04-06" {
		t.Fatalf("Span = %s, %s, %v", from, to, err)
	}
	if f, to, _ := Span(time.Time{}, time.Time{}, now); f != "2026-03-09" || to != "2026-06-08" {
		t.Errorf("the default span is %s to %s, want the quarter up to now", f, to)
	}
	if _, _, err := Span(time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC), now); err == nil {
		t.Error("to before from is accepted")
	}
	c, err := LoadCounts(context.Background(), st, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := []WeekTotal{{Week: "2026-03-23", Opens: 7, Openers: 1}, {Week: "2026-03-30", Opens: 3, Openers: 1}}
	if !slices.Equal(c.Weeks, want) || len(c.Opens) != 4 {
		t.Fatalf("counts: %+v", c)
	}
	// The text names the last week counted, not the Monday after it.
	for _, s := range []string{"Adoption, weeks 2026-03-23 to 2026-03-30 (", "Week 2026-03-23: 7 opens by 1 person", "(forgotten)", "view:ceo"} {
		if !strings.Contains(c.Text(), s) {
			t.Errorf("text lacks %q:\n%s", s, c.Text())
		}
	}
}

// The review's weeks in words: To is the Monday after the last week.
func TestReviewSpan(t *testing.T) {
	if got := (Review{From: "2026-09-07", To: "2026-12-07"}).Span(); got != "7 Sep 2026 – 6 Dec 2026" {
		t.Errorf("Span = %q", got)
	}
}

// The review's people are users: an API token's opens count as opens,
// not as a person.
func TestReviewPeopleAreUsers(t *testing.T) {
	asOf := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	st := quarterOfFailures(t, asOf)
	cat, _ := catalog.Default()
	opens := []store.Opens{
		{Week: "2026-03-30", Who: "user:a@example.com", Page: "GET /{$}", Count: 2},
		{Week: "2026-03-30", Who: "token:demo", Page: "GET /api/v1/scorecard", Count: 5},
	}
	var rv *Review
	engine.New(st, metrics.DefaultConfig()).Read(context.Background(), func(ds *metrics.Dataset) error {
		rv = Build(cat, ds, Kept{Opens: opens, Began: asOf.AddDate(-1, 0, 0)}, asOf, nil)
		return nil
	})
	if rv.Opens != 7 || rv.Openers != 1 {
		t.Errorf("opens %d by %d people; want 7 by 1", rv.Opens, rv.Openers)
	}
}

// The weeks' counts call the same openers people as the review does
// (users only); API tokens are counted apart and never called a person.
func TestCountsPeopleAreUsers(t *testing.T) {
	st := sqlitetest.Open(t)
	st.AddOpens(context.Background(), []store.Opens{
		{Week: "2026-03-30", Who: "user:a@example.com", Page: "GET /{$}", Count: 2},
		{Week: "2026-03-30", Who: "token:demo-1", Page: "GET /api/v1/scorecard", Count: 5},
		{Week: "2026-03-30", Who: "token:demo-2", Page: "GET /api/v1/scorecard", Count: 7},
	})
	c, err := LoadCounts(context.Background(), st, "2026-03-30", "2026-04-06")
	if err != nil {
		t.Fatal(err)
	}
	if want := []WeekTotal{{Week: "2026-03-30", Opens: 14, Openers: 1, Tokens: 2}}; !slices.Equal(c.Weeks, want) {
		t.Errorf("weeks %+v, want %+v", c.Weeks, want)
	}
	if s := "Week 2026-03-30: 14 opens by 1 person and 2 API tokens\n"; !strings.Contains(c.Text(), s) {
		t.Errorf("text lacks %q:\n%s", s, c.Text())
	}
}

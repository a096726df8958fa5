package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite"
)

var asOf = time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)

// dataset builds a dataset the way the engine does from NDJSON lines.
func dataset(t *testing.T, lines ...string) *metrics.Dataset {
	t.Helper()
	ds := metrics.NewDataset(metrics.DefaultConfig())
	for _, l := range lines {
		r, err := domain.ParseJSON([]byte(l), "", domain.ParseOptions{})
		if err != nil {
			t.Fatalf("%v\n%s", err, l)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	return ds
}

// withMRR is an organisation whose MRR at asOf is mrr (one subscription,
// started 21 days before, so the data is fresh).
func withMRR(t *testing.T, mrr string) *metrics.Dataset {
	return dataset(t, `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-03-10T00:00:00Z","mrr":`+mrr+`}`)
}

func cat(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func show(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func near(v *float64, want float64) bool {
	return v != nil && math.Abs(*v-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// The status at and around the tolerance boundaries, both ways: the
// boundary itself is inside (≤ 1 % green, ≤ 2 % amber).
func TestStatusBoundaries(t *testing.T) {
	c := cat(t)
	cases := []struct {
		mrr      string
		expected float64
		pct      float64
		want     catalog.Status
	}{
		{"1000", 1000, 0, catalog.Green},
		{"1010", 1000, 1, catalog.Green},
		{"990", 1000, -1, catalog.Green},
		{"1010.01", 1000, 1.001, catalog.Amber},
		{"989.99", 1000, -1.001, catalog.Amber},
		{"1020", 1000, 2, catalog.Amber},
		{"980", 1000, -2, catalog.Amber},
		{"1020.01", 1000, 2.001, catalog.Red},
		{"979.99", 1000, -2.001, catalog.Red},
		{"2000", 1000, 100, catalog.Red},
		// Decimal figures whose 1 % and 2 % have no exact float64.
		{"124.6845", 123.45, 1, catalog.Green},
		{"122.2155", 123.45, -1, catalog.Green},
		{"125.919", 123.45, 2, catalog.Amber},
		{"125.92", 123.45, 2.0008, catalog.Red},
		{"0.101", 0.1, 1, catalog.Green},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s vs %v", tc.mrr, tc.expected), func(t *testing.T) {
			r, err := Check(c, withMRR(t, tc.mrr), "mrr", tc.expected, asOf, 0)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.want {
				t.Errorf("status = %s, want %s (difference %s, %s %%)", r.Status, tc.want, show(r.Difference), show(r.DifferencePct))
			}
			var actual float64
			fmt.Sscan(tc.mrr, &actual)
			if !near(r.Actual, actual) || !near(r.Difference, actual-tc.expected) {
				t.Errorf("actual %s difference %s, want %v and %v", show(r.Actual), show(r.Difference), actual, actual-tc.expected)
			}
			if r.DifferencePct == nil || math.Abs(*r.DifferencePct-tc.pct) > 1e-3 {
				t.Errorf("difference_pct = %s, want %v", show(r.DifferencePct), tc.pct)
			}
			if r.Reason != "" || r.Warning != "" {
				t.Errorf("reason %q warning %q, want none", r.Reason, r.Warning)
			}
		})
	}
}

// judge works on the size of the difference relative to |expected|, so a
// negative figure (a budget variance under budget) is judged the same way.
func TestJudgeNegativeExpected(t *testing.T) {
	for _, tc := range []struct {
		diff, expected float64
		want           catalog.Status
	}{
		{-0.1, -10, catalog.Green}, {0.1, -10, catalog.Green}, {0.2, -10, catalog.Amber}, {-0.21, -10, catalog.Red},
	} {
		if got := judge(tc.diff, tc.expected); got != tc.want {
			t.Errorf("judge(%v, %v) = %s, want %s", tc.diff, tc.expected, got, tc.want)
		}
	}
}

// A date before any subscription: Candor has no MRR (SPEC §4: null, not
// 0), so the check is unknown with the reason — not a red "0 vs 1000".
func TestNoCandorValueIsUnknown(t *testing.T) {
	for _, at := range []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)} {
		r, err := Check(cat(t), withMRR(t, "1000"), "mrr", 1000, at, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != catalog.Unknown || r.Actual != nil || r.Difference != nil || r.DifferencePct != nil {
			t.Errorf("as of %s: %s, actual %s, difference %s; want unknown with no actual", at.Format(time.DateOnly), r.Status, show(r.Actual), show(r.Difference))
		}
		if !strings.Contains(r.Reason, "Candor has no value for mrr") || !strings.Contains(r.Reason, "no subscription data") {
			t.Errorf("as of %s: reason %q, want it to say Candor has no value and why", at.Format(time.DateOnly), r.Reason)
		}
		b, _ := json.Marshal(r)
		if !strings.Contains(string(b), `"actual":null`) || !strings.Contains(string(b), `"status":"unknown"`) {
			t.Errorf("JSON %s, want actual null and status unknown", b)
		}
	}
}

func TestExpectedZero(t *testing.T) {
	c := cat(t)
	// Nothing active any more: MRR is 0, as the source says.
	ended := dataset(t, `{"kind":"subscription","id":"s0","customer":"acme","started_at":"2026-01-10T00:00:00Z","ended_at":"2026-02-20T00:00:00Z","mrr":1000}`)
	r, err := Check(c, ended, "mrr", 0, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Green || !near(r.Actual, 0) || !near(r.Difference, 0) || !near(r.DifferencePct, 0) {
		t.Errorf("0 vs 0 = %s, actual %s, difference %s (%s %%); want green, 0, 0, 0 %%", r.Status, show(r.Actual), show(r.Difference), show(r.DifferencePct))
	}
	// The source says 0 but Candor has 1000: red, and no percentage.
	r, err = Check(c, withMRR(t, "1000"), "mrr", 0, asOf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Red || !near(r.Difference, 1000) || r.DifferencePct != nil || !strings.Contains(r.Reason, "expected figure is 0") {
		t.Errorf("1000 vs 0 = %s, difference %s (%s %%), reason %q; want red, 1000, no %%, a reason", r.Status, show(r.Difference), show(r.DifferencePct), r.Reason)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Errorf("JSON: %v", err)
	}
}

func TestNoValueIsUnknown(t *testing.T) {
	c := cat(t)
	// No survey data at all: csat has no value.
	r, err := Check(c, withMRR(t, "1000"), "csat", 95, asOf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Unknown || r.Actual != nil || r.Difference != nil || r.DifferencePct != nil {
		t.Errorf("csat without data = %s, actual %s, difference %s; want unknown and nothing else", r.Status, show(r.Actual), show(r.Difference))
	}
	if !strings.Contains(r.Reason, "no value for csat") || !strings.Contains(r.Reason, "survey") {
		t.Errorf("reason = %q, want it to say csat has no value and why (no survey data)", r.Reason)
	}
	// A value Candor cannot compute (a currency without a rate) is unknown
	// with the computation's own reason.
	gbp := dataset(t, `{"kind":"subscription","id":"s1","customer":"acme","started_at":"2026-03-10T00:00:00Z","mrr":100,"currency":"GBP"}`)
	r, err = Check(c, gbp, "mrr", 100, asOf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Unknown || !strings.Contains(r.Reason, "exchange rate") {
		t.Errorf("GBP without a rate = %s (%q), want unknown naming the missing rate", r.Status, r.Reason)
	}
}

func TestStaleDataWarns(t *testing.T) {
	// Three days after the last deployment (event sources are stale after
	// 24 h) deployment frequency still has a value and is compared, with a
	// warning that Candor's side may be the one that is off.
	ds := dataset(t, `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-28T00:00:00Z","status":"success"}`)
	r, err := Check(cat(t), ds, "deployment_frequency", 1.0/30, asOf, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Green || !strings.Contains(r.Warning, "stale") || !strings.Contains(r.Warning, "deployment") {
		t.Errorf("stale deployment_frequency = %s, warning %q; want green with a staleness warning", r.Status, r.Warning)
	}
	// A subscription book two months quiet is not stale (SPEC §4: state
	// kinds never are by their own times): no warning.
	r, err = Check(cat(t), withMRR(t, "1000"), "mrr", 1000, time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC), 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.Green || r.Warning != "" {
		t.Errorf("quiet mrr = %s, warning %q; want green without a warning", r.Status, r.Warning)
	}
}

func TestCheckErrors(t *testing.T) {
	c := cat(t)
	ds := withMRR(t, "1000")
	_, err := Check(c, ds, "nope", 1, asOf, 0)
	var ue *UnknownMetricError
	if !errors.As(err, &ue) || ue.ID != "nope" || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown metric: err = %v, want an UnknownMetricError naming it", err)
	}
	for _, x := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := Check(c, ds, "mrr", x, asOf, 0); err == nil {
			t.Errorf("expected %v: no error", x)
		}
	}
}

func TestResultFields(t *testing.T) {
	defer func(f func() time.Time) { now = f }(now)
	checked := time.Date(2026, 4, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	now = func() time.Time { return checked }
	c := cat(t)
	r, err := Check(c, withMRR(t, "1000"), "arr", 12000, asOf.In(time.FixedZone("X", -3600)), 14*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r.Metric != "arr" || r.Name == "" || r.Unit != "currency" || !r.AsOf.Equal(asOf) || r.AsOf.Location() != time.UTC ||
		r.Window != "14d" || r.Expected != 12000 || !near(r.Actual, 12000) || r.Status != catalog.Green ||
		!r.CheckedAt.Equal(checked) || r.CheckedAt.Location() != time.UTC || r.TolerancePct != (Tolerance{1, 2}) {
		t.Errorf("result = %+v", r)
	}
	r, _ = Check(c, withMRR(t, "1000"), "arr", 12000, asOf, 0)
	if r.Window != "30d" {
		t.Errorf("default window = %s, want the metric's own (30d)", r.Window)
	}
	r.Source, r.Note = "finance", "Q1 close"
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	for _, k := range []string{"metric", "as_of", "window", "expected", "actual", "difference", "difference_pct", "status", "checked_at", "source", "note", "tolerance_pct"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if doc["as_of"] != "2026-03-31T00:00:00Z" || doc["status"] != "green" {
		t.Errorf("JSON = %s", b)
	}
}

func TestSaveAndList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	c := cat(t)
	ds := withMRR(t, "1000")
	if got, err := List(ctx, st, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty store: List = %v, %v", got, err)
	}
	var saved []Result
	for i, exp := range []float64{1000, 1015, 0} {
		r, err := Check(c, ds, "mrr", exp, asOf, 0)
		if err != nil {
			t.Fatal(err)
		}
		r.Source = fmt.Sprintf("src%d", i)
		s, err := Save(ctx, st, r)
		if err != nil {
			t.Fatal(err)
		}
		if s.ID <= 0 || (i > 0 && s.ID <= saved[i-1].ID) {
			t.Errorf("saved id %d", s.ID)
		}
		saved = append(saved, s)
	}
	unknown, _ := Check(c, ds, "csat", 90, asOf, 0)
	if _, err := Save(ctx, st, unknown); err != nil {
		t.Fatal(err)
	}
	// Another collection of the same store stays out of the list.
	if _, err := st.AppendDoc(ctx, "gate_decision", []byte(`{"metric":"x"}`)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Results survive a restart, newest first.
	st, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := List(ctx, st, 0)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range got {
		order = append(order, r.Metric+"/"+string(r.Status)+"/"+r.Source)
	}
	if strings.Join(order, " ") != "csat/unknown/ mrr/red/src2 mrr/amber/src1 mrr/green/src0" {
		t.Fatalf("List = %v", order)
	}
	// Every field round-trips, nils included.
	want, _ := json.Marshal(saved[1])
	have, _ := json.Marshal(got[2])
	if string(want) != string(have) {
		t.Errorf("stored result differs:\n got %s\nwant %s", have, want)
	}
	if got[0].Actual != nil || got[0].Difference != nil || got[0].Reason == "" || got[1].DifferencePct != nil {
		t.Errorf("nil fields did not survive: %+v / %+v", got[0], got[1])
	}
	if got, _ := List(ctx, st, 2); len(got) != 2 || got[0].Metric != "csat" || got[1].Source != "src2" {
		t.Errorf("List(2) = %+v", got)
	}
}

func TestText(t *testing.T) {
	c := cat(t)
	r, _ := Check(c, withMRR(t, "1025"), "mrr", 1000, asOf, 0)
	r.Source, r.ID = "finance", 7
	text := Text(r, "EUR")
	for _, want := range []string{"Reconciliation of Monthly recurring revenue (mrr)", "against finance", "1,000 EUR", "1,025 EUR", "+25 EUR (+2.5 %)", "RED", "#7"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	u, _ := Check(c, withMRR(t, "1025"), "csat", 90, asOf, 0)
	if text := Text(u, ""); !strings.Contains(text, "UNKNOWN") || !strings.Contains(text, "Why") {
		t.Errorf("unknown text:\n%s", text)
	}
	list := ListText([]Result{r, u}, in("EUR"))
	if !strings.Contains(list, "mrr") || !strings.Contains(list, "csat") || !strings.Contains(list, "+2.5 %") || strings.Count(list, "\n") != 3 {
		t.Errorf("list:\n%s", list)
	}
	if !strings.Contains(ListText(nil, in("")), "No reconciliation") {
		t.Errorf("empty list text")
	}
}

// A difference is the figures' decimals, not float64's noise of the
// larger figure (reconciliations showed 12641.319999999832).
func TestDifferenceWithoutNoise(t *testing.T) {
	for _, tc := range []struct{ a, b, want float64 }{
		{112641.32, 100000, 12641.32},
		{100000, 112641.32, -12641.32},
		{0.3, 0.1, 0.2},
		{1e6 + 0.01, 1e6, 0.01},
		{5.0 / 3, 1, 2.0 / 3}, // a ratio keeps its digits to the 15th of 5/3
		{1e-20, 0, 1e-20},
		{123.45, 123.45, 0},
		{-2.5, 0, -2.5},
	} {
		got := difference(tc.a, tc.b)
		if math.Abs(got-tc.want) > 1e-14*math.Max(math.Abs(tc.a), math.Abs(tc.b)) || (tc.want == 0) != (got == 0) {
			t.Errorf("difference(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
	if got := difference(112641.32, 100000); strconv.FormatFloat(got, 'f', -1, 64) != "12641.32" {
		t.Errorf("written %v", got)
	}
}

// A kept month's check is listed with its window and the month it is.
func TestListNamesTheMonth(t *testing.T) {
	c := cat(t)
	feb, _ := Check(c, withMRR(t, "1025"), "mrr", 1000, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 28*24*time.Hour)
	rolling, _ := Check(c, withMRR(t, "1025"), "mrr", 1000, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 30*24*time.Hour)
	list := ListText([]Result{feb, rolling}, in("EUR"))
	if !strings.Contains(list, "28d: February 2026") || !strings.Contains(list, " window ") || strings.Count(list, "February") != 1 {
		t.Errorf("the list does not name February 2026 for the month's check alone:\n%s", list)
	}
}

// in is a currencyAt of one currency at every time.
func in(currency string) func(time.Time) string { return func(time.Time) string { return currency } }

// A kept check is labelled in the currency in force at its own as_of: one
// as of before a change from US dollars to euros was computed in dollars.
func TestListLabelsEachCheckInItsCurrency(t *testing.T) {
	c := cat(t)
	change := asOf.Add(time.Hour)
	before, _ := Check(c, withMRR(t, "1025"), "mrr", 1000, asOf, 0)
	after, _ := Check(c, withMRR(t, "1025"), "mrr", 1000, asOf.Add(24*time.Hour), 0)
	list := ListText([]Result{after, before}, func(at time.Time) string {
		if at.Before(change) {
			return "USD"
		}
		return "EUR"
	})
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "1,025 EUR") || !strings.Contains(lines[2], "1,025 USD") || strings.Contains(lines[2], "EUR") {
		t.Errorf("each check is not labelled in the currency of its date:\n%s", list)
	}
}

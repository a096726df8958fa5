// Package reconcile checks Candor's figures against the figures the source
// systems report (SPEC §5 "Data quality"): ARR from finance, the pipeline
// total from the CRM. A check compares the two at an as_of, says how far
// apart they are and whether that is within tolerance, and every result is
// kept (store documents, collection "reconciliation") for the data-quality
// page and for alerts on reconciliation failures (SPEC §8).
package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Tolerances, in % of the expected figure: SPEC §5's defaults ("flag
// differences over tolerance (default 1 %; red over 2 %)"). They become
// configurable with the configuration's data-quality section; until then
// they are these constants.
const (
	// GreenTolerancePct: a difference of at most this much is green.
	GreenTolerancePct = 1.0
	// AmberTolerancePct: over GreenTolerancePct and at most this much is
	// amber; more is red.
	AmberTolerancePct = 2.0
)

// boundaryEps absorbs binary rounding at the tolerance boundaries: source
// figures are decimals, and a difference of exactly 1 % of 123.45 must not
// turn amber because 1.2345 has no exact float64.
const boundaryEps = 1e-9

// Collection is the store documents collection that keeps every result.
const Collection = "reconciliation"

// Bounds of the caller's free-text fields, in bytes, so a kept result stays
// small; the API and the CLI refuse longer ones.
const (
	MaxSourceLen = 200
	MaxNoteLen   = 2000
)

// Result is one reconciliation check.
type Result struct {
	// ID is the stored document's id; 0 until saved.
	ID     int64  `json:"id,omitempty"`
	Metric string `json:"metric"`
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	// AsOf and Window are the point and window Candor's value is computed
	// for (Window is the metric's own unless the check overrode it).
	AsOf   time.Time `json:"as_of"`
	Window string    `json:"window"`
	// Expected is the figure reported by the source system.
	Expected float64 `json:"expected"`
	// Actual is Candor's value; nil when Candor has none.
	Actual *float64 `json:"actual"`
	// Difference is Actual − Expected; DifferencePct is that as a share of
	// |Expected| (0–100 scale). Both are nil without an actual value, and
	// DifferencePct is nil when Expected is 0 and the figures differ.
	Difference    *float64 `json:"difference"`
	DifferencePct *float64 `json:"difference_pct"`
	// Status is green within GreenTolerancePct, amber within
	// AmberTolerancePct, red beyond, unknown without an actual value.
	Status catalog.Status `json:"status"`
	// Reason explains an unknown status, or a difference that has no
	// percentage.
	Reason string `json:"reason,omitempty"`
	// Warning notes something that weakens the comparison without
	// preventing it: Candor's own data for the metric is stale.
	Warning string `json:"warning,omitempty"`
	// TolerancePct is the green and amber tolerances the status was judged
	// with, so a stored result stays explicable after they change.
	TolerancePct Tolerance `json:"tolerance_pct"`
	// Source names the system the expected figure came from ("finance",
	// "salesforce"); Note is free text. Both are the caller's.
	Source    string    `json:"source,omitempty"`
	Note      string    `json:"note,omitempty"`
	CheckedAt time.Time `json:"checked_at"`
}

// Tolerance is the pair of tolerances a result was judged with.
type Tolerance struct {
	Green float64 `json:"green"`
	Amber float64 `json:"amber"`
}

// UnknownMetricError is a metric id the catalog does not define.
type UnknownMetricError struct{ ID string }

func (e *UnknownMetricError) Error() string { return fmt.Sprintf("unknown metric %q", e.ID) }

// now is the clock of CheckedAt; tests replace it.
var now = time.Now

// Check compares the expected figure with Candor's value of the metric at
// asOf over window (the metric's own window when window is 0), for the
// whole organisation. The dataset must not change meanwhile (the caller
// holds the engine's read lock). Only an unknown metric or an expected
// figure that is not a finite number is an error; a metric Candor cannot
// value gives status unknown with the reason.
func Check(cat *catalog.Catalog, ds *metrics.Dataset, metricID string, expected float64, asOf time.Time, window time.Duration) (Result, error) {
	m, ok := cat.Metric(metricID)
	if !ok {
		return Result{}, &UnknownMetricError{ID: metricID}
	}
	if math.IsNaN(expected) || math.IsInf(expected, 0) {
		return Result{}, fmt.Errorf("expected figure %v is not a finite number", expected)
	}
	opt := scorecard.Options{AsOf: asOf.UTC(), Window: window}
	c := scorecard.Evaluate(ds, m, opt, metrics.Scope{}, false)
	r := Result{
		Metric: m.ID, Name: m.Name, Unit: m.Unit, AsOf: opt.AsOf, Window: c.Window,
		Expected: expected, Actual: c.Value,
		TolerancePct: Tolerance{Green: GreenTolerancePct, Amber: AmberTolerancePct},
		CheckedAt:    now().UTC(),
	}
	if c.Value == nil {
		r.Status = catalog.Unknown
		r.Reason = "Candor has no value for " + m.ID
		if why := strings.TrimPrefix(c.Reason, "no value: "); why != "" {
			r.Reason += ": " + why
		}
		return r, nil
	}
	if c.Freshness.Stale {
		r.Warning = "Candor's data for " + m.ID + " is stale (" + staleSources(c.Freshness) + "); the difference may be Candor's"
	}
	diff := difference(*c.Value, expected)
	r.Difference = &diff
	r.Status = judge(diff, expected)
	switch {
	case expected != 0:
		pct := diff / math.Abs(expected) * 100
		r.DifferencePct = &pct
	case diff == 0:
		zero := 0.0
		r.DifferencePct = &zero
	default:
		r.Reason = "the expected figure is 0: any difference is over tolerance and has no percentage"
	}
	return r, nil
}

// judge applies the tolerances: |diff| ≤ tolerance × |expected|, with the
// boundary itself inside.
func judge(diff, expected float64) catalog.Status {
	within := func(tolPct float64) bool {
		return math.Abs(diff)*100 <= tolPct*math.Abs(expected)*(1+boundaryEps)
	}
	switch {
	case within(GreenTolerancePct):
		return catalog.Green
	case within(AmberTolerancePct):
		return catalog.Amber
	}
	return catalog.Red
}

func staleSources(f scorecard.Freshness) string {
	out := ""
	for _, s := range f.Sources {
		if !s.Stale {
			continue
		}
		if out != "" {
			out += "; "
		}
		if s.LastData == nil {
			out += "no " + s.Kind + " data"
		} else {
			out += "no " + s.Kind + " data since " + s.LastData.Format(time.RFC3339)
		}
	}
	return out
}

// Save keeps a result in the store and returns it with its id.
func Save(ctx context.Context, st store.DocStore, r Result) (Result, error) {
	r.ID = 0 // the store assigns it; not kept in the body
	body, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	d, err := st.AppendDoc(ctx, Collection, body)
	if err != nil {
		return r, fmt.Errorf("saving the reconciliation result: %w", err)
	}
	r.ID = d.ID
	return r, nil
}

// List returns the kept results, newest first, at most limit (all when
// limit <= 0).
func List(ctx context.Context, st store.DocStore, limit int) ([]Result, error) {
	docs, err := st.Docs(ctx, Collection, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(docs))
	for _, d := range docs {
		var r Result
		if err := json.Unmarshal(d.Body, &r); err != nil {
			return nil, fmt.Errorf("reconciliation document %d: %w", d.ID, err)
		}
		r.ID = d.ID
		out = append(out, r)
	}
	return out, nil
}

// difference is a − b as the figures' decimals give it: 112,641.32 −
// 100,000 is 12,641.32, where float64 says 12641.319999999832 — its noise
// is of the size of the larger figure's last digits, so the answer's
// writer (jsonenc.Tidy, which looks at the difference alone) cannot see it
// as noise. Rounded to the 15 significant digits of the larger figure, no
// finer than float64 holds it.
func difference(a, b float64) float64 {
	d := a - b
	m := math.Max(math.Abs(a), math.Abs(b))
	if d == 0 || m == 0 || math.IsInf(d, 0) {
		return d
	}
	decimals := 14 - int(math.Floor(math.Log10(m)))
	if decimals < 0 || decimals > 300 {
		return d
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(d, 'f', decimals, 64), 64)
	if err != nil {
		return d
	}
	return r
}

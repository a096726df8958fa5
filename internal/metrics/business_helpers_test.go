package metrics

import (
	"math"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Helpers for the business-pillar tests (security, cost, customer,
// growth). Prefixed biz so they cannot clash with helpers_test.go.

// bizAsOf is the as_of most business tests use; with the default 30-day
// window W = [2026-03-01, 2026-03-31) and the window before is
// [2026-01-30, 2026-03-01).
var bizAsOf = bizT("2026-03-31")

// bizT parses "2006-01-02" (midnight UTC) or RFC 3339.
func bizT(s string) time.Time {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// bizDate parses a calendar date.
func bizDate(s string) domain.Date {
	d, err := domain.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// bizM parses a decimal amount exactly.
func bizM(s string) domain.Money {
	m, err := domain.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

func bizMeta(id string) domain.Meta { return domain.Meta{ID: id, Source: "import"} }

func bizF(v float64) *float64 { return &v }

// bizDS builds a prepared dataset from records; cfg nil means defaults.
func bizDS(cfg *Config, recs ...domain.Record) *Dataset {
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	d := NewDataset(c)
	for _, r := range recs {
		d.Apply(r, time.Time{})
	}
	d.Prepare()
	return d
}

// bizQ is a query as of asOf over a 30-day window, optionally scoped.
func bizQ(asOf time.Time, scope ...string) Query {
	q := Query{AsOf: asOf, Window: 30 * day}
	if len(scope) == 2 {
		q.Scope = Scope{Dim: scope[0], Value: scope[1]}
	}
	return q
}

// bizCase is one table row: a metric, a query and the expected value (nil
// for no value).
type bizCase struct {
	name   string
	metric string
	q      Query
	want   *float64
}

func bizRun(t *testing.T, d *Dataset, cases []bizCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := d.Compute(c.metric, c.q)
			if err != nil {
				t.Fatal(err)
			}
			bizCheck(t, c.metric, r, c.want)
		})
	}
}

func bizCheck(t *testing.T, what string, r Result, want *float64) {
	t.Helper()
	switch {
	case want == nil && r.Value != nil:
		t.Errorf("%s = %v, want no value (detail %v)", what, *r.Value, r.Detail)
	case want != nil && r.Value == nil:
		t.Errorf("%s has no value, want %v (detail %v)", what, *want, r.Detail)
	case want != nil && !bizClose(*r.Value, *want):
		t.Errorf("%s = %v, want %v (detail %v)", what, *r.Value, *want, r.Detail)
	}
}

func bizClose(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// bizCompute computes a metric, failing the test on error.
func bizCompute(t *testing.T, d *Dataset, metric string, q Query) Result {
	t.Helper()
	r, err := d.Compute(metric, q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

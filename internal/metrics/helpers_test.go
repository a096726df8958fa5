package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// The tests share one clock: as_of is 2026-03-31T00:00Z and the default
// 30-day window W is [2026-03-01T00:00Z, 2026-03-31T00:00Z), so "in W"
// reads as "in March, before the 31st".
const defaultAsOf = "2026-03-31T00:00:00Z"

func ts(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad test timestamp %q: %v", s, err)
	}
	return v
}

// load builds a Dataset from NDJSON (one record per line; blank lines and
// lines starting with # are skipped) the way the engine does: ParseJSON,
// Apply, then Prepare. cfg is DefaultConfig() when nil.
func load(t testing.TB, cfg *Config, ndjson string) *Dataset {
	t.Helper()
	c := DefaultConfig()
	if cfg != nil {
		c = *cfg
	}
	d := NewDataset(c)
	apply(t, d, ndjson)
	return d
}

// apply feeds NDJSON to a dataset and prepares it, as the engine does with
// each load: how tests add records after the first ones were read.
func apply(t testing.TB, d *Dataset, ndjson string) {
	t.Helper()
	for n, line := range strings.Split(ndjson, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := domain.ParseJSON([]byte(line), "", domain.ParseOptions{})
		if err != nil {
			t.Fatalf("test data line %d: %v\n%s", n+1, err, line)
		}
		d.Apply(r, time.Time{})
	}
	d.Prepare()
}

// nd joins NDJSON fragments built by the generators below with the
// hand-written lines of a case.
func nd(parts ...string) string { return strings.Join(parts, "\n") }

// dailyDeps generates n production deployments of service svc, one a day
// at 00:00 from first (YYYY-MM-DD), with ids prefix01, prefix02, …; the
// first `failures` of them have status failure, the rest success.
func dailyDeps(t testing.TB, prefix, svc, first string, n, failures int) string {
	t.Helper()
	start := ts(t, first+"T00:00:00Z")
	var b strings.Builder
	for i := range n {
		status := "success"
		if i < failures {
			status = "failure"
		}
		fmt.Fprintf(&b, `{"kind":"deployment","id":"%s%02d","service":"%s","environment":"production","finished_at":"%s","status":"%s"}`+"\n",
			prefix, i+1, svc, start.Add(time.Duration(i)*day).Format(time.RFC3339), status)
	}
	return b.String()
}

func val(v float64) *float64 { return &v }

// mcase is one hand-computed expectation for a metric.
type mcase struct {
	name   string
	data   string  // NDJSON records
	cfg    *Config // nil: DefaultConfig()
	asOf   string  // "" = defaultAsOf
	window time.Duration
	scope  Scope
	metric string
	want   *float64 // nil: the metric has no value
	count  int
	ids    []string // non-nil: the ids of Result.Records (Query.Records=true), any order
	level  string   // non-empty: Detail.DORALevel
	detail *Detail  // each field it sets compared with Result.Detail's
}

func (c mcase) query(t testing.TB) Query {
	asOf := c.asOf
	if asOf == "" {
		asOf = defaultAsOf
	}
	w := c.window
	if w == 0 {
		w = 30 * day
	}
	return Query{AsOf: ts(t, asOf), Window: w, Scope: c.scope, Records: true}
}

func approx(a, b float64) bool {
	return a == b || math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func fmtVal(v *float64) string {
	if v == nil {
		return "no value"
	}
	return fmt.Sprint(*v)
}

func runCases(t *testing.T, cases []mcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := load(t, c.cfg, c.data)
			r, err := d.Compute(c.metric, c.query(t))
			if err != nil {
				t.Fatalf("Compute(%s): %v", c.metric, err)
			}
			checkResult(t, c, r)
		})
	}
}

func checkResult(t *testing.T, c mcase, r Result) {
	t.Helper()
	switch {
	case c.want == nil && r.Value != nil, c.want != nil && r.Value == nil,
		c.want != nil && !approx(*c.want, *r.Value):
		t.Errorf("%s = %s, want %s", c.metric, fmtVal(r.Value), fmtVal(c.want))
	}
	if r.Count != c.count {
		t.Errorf("%s count = %d, want %d", c.metric, r.Count, c.count)
	}
	if c.ids != nil {
		got := make([]string, 0, len(r.Records))
		for _, ref := range r.Records {
			got = append(got, ref.ID)
		}
		slices.Sort(got)
		want := slices.Clone(c.ids)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s records = %v, want %v (refs %+v)", c.metric, got, want, r.Records)
		}
	}
	if c.level != "" {
		if got := r.Detail.DORALevel; got != c.level {
			t.Errorf("%s dora_level = %v, want %s", c.metric, got, c.level)
		}
	}
	if c.detail != nil {
		got, want := detailFields(t, r.Detail), detailFields(t, *c.detail)
		for k, w := range want {
			if !reflect.DeepEqual(got[k], w) {
				t.Errorf("%s detail %s = %v, want %v", c.metric, k, got[k], w)
			}
		}
	}
}

// The lookups below find a record's engine form by id (source "import").

func chgByID(t testing.TB, d *Dataset, id string) *Chg {
	t.Helper()
	c := d.change(key("import", id))
	if c == nil {
		t.Fatalf("no change %s", id)
	}
	return c
}

func incByID(t testing.TB, d *Dataset, id string) *Inc {
	t.Helper()
	i := d.incident(key("import", id))
	if i == nil {
		t.Fatalf("no incident %s", id)
	}
	return i
}

func depByID(t testing.TB, d *Dataset, id string) *Dep {
	t.Helper()
	x := d.dep(key("import", id))
	if x == nil {
		t.Fatalf("no deployment %s", id)
	}
	return x
}

func depID(d *Dataset, x *Dep) string {
	if x == nil {
		return "<nil>"
	}
	return d.str(x.id)
}

// detailFields is a Detail as its JSON object: the fields it sets.
func detailFields(t *testing.T, d Detail) map[string]any {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// Query is the state every page link carries: the date control (as_of,
// window) and the filters (team, service, environment, business unit), as
// the reader gave them. Empty fields are left out of URLs.
type Query struct {
	AsOf, Window               string
	Team, Service, Environment string
	BusinessUnit               string
	// Closing is closing=1: each quota period read as the one closing at
	// as_of (scorecard.Options.Closing), carried to the pages that read
	// it (the scorecard, a metric, a role view) and dropped by the others
	// (For).
	Closing bool
}

// queryKeys are the date and filter parameters, in the order URLs write
// them; carriedKeys adds closing, which only some pages take.
var (
	queryKeys   = []string{"as_of", "window", "team", "service", "environment", "business_unit"}
	carriedKeys = append(slices.Clone(queryKeys), "closing")
)

func (q *Query) field(key string) *string {
	switch key {
	case "as_of":
		return &q.AsOf
	case "window":
		return &q.Window
	case "team":
		return &q.Team
	case "service":
		return &q.Service
	case "environment":
		return &q.Environment
	case "business_unit":
		return &q.BusinessUnit
	}
	return nil
}

// Get returns a carried parameter's value.
func (q Query) Get(key string) string {
	if key == "closing" {
		if q.Closing {
			return "1"
		}
		return ""
	}
	if f := q.field(key); f != nil {
		return *f
	}
	return ""
}

// With returns q with one carried parameter set ("" removes it); other
// keys are ignored.
func (q Query) With(key, value string) Query {
	if key == "closing" {
		q.Closing = value != ""
		return q
	}
	if f := q.field(key); f != nil {
		*f = value
	}
	return q
}

// For is q with only the carried parameters the route reads
// (routeParams): a menu link from a page filtered by window or team to
// /alerts, which reads neither, had been a 400 naming window.
func (q Query) For(route string) Query {
	known, ok := routeParams[route]
	if !ok || slices.Equal(known, anyParams) {
		return q
	}
	var out Query
	for _, k := range carriedKeys {
		if slices.Contains(known, k) {
			out = out.With(k, q.Get(k))
		}
	}
	return out
}

// Values are the carried parameters that are set.
func (q Query) Values() url.Values {
	v := url.Values{}
	for _, k := range carriedKeys {
		if x := q.Get(k); x != "" {
			v.Set(k, x)
		}
	}
	return v
}

// URL is path with the carried parameters and the extra key, value pairs
// (which replace a carried one of the same key; an empty value drops it):
//
//	{{.Q.URL "/metrics/change_failure_rate" "by" "team"}}
//	→ /metrics/change_failure_rate?as_of=2026-03-31&team=core&by=team
func (q Query) URL(path string, kv ...string) string {
	v := q.Values()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + encodeOrdered(v)
}

// monthAsWindow is r's query with a month given as the as_of and window
// pageQuery read it as (q's): an address made from the request's own query
// (the action form's) keeps a month as every link of the page does.
func monthAsWindow(r *http.Request, q Query) string {
	v := r.URL.Query()
	if !v.Has("month") {
		return r.URL.RawQuery
	}
	v.Del("month")
	v.Set("as_of", q.AsOf)
	v.Set("window", q.Window)
	return encodeOrdered(v)
}

// encodeOrdered encodes the carried keys first, in their order, then the
// others sorted, so a page's links read alike.
func encodeOrdered(v url.Values) string {
	var b strings.Builder
	add := func(k string) {
		for _, x := range v[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(k) + "=" + url.QueryEscape(x))
		}
	}
	rest := url.Values{}
	for k, xs := range v {
		rest[k] = xs
	}
	for _, k := range carriedKeys {
		add(k)
		delete(rest, k)
	}
	if enc := rest.Encode(); enc != "" {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(enc)
	}
	return b.String()
}

// Filter is one filter that is set.
type Filter struct{ Dim, Value string }

// Filters are the filters that are set, team first.
func (q Query) Filters() []Filter {
	var out []Filter
	for _, k := range queryKeys[2:] {
		if v := q.Get(k); v != "" {
			out = append(out, Filter{k, v})
		}
	}
	return out
}

// Scope is the filters as a metrics scope.
func (q Query) Scope() metrics.Scope {
	var s metrics.Scope
	for _, f := range q.Filters() {
		s, _ = s.And(f.Dim, f.Value)
	}
	return s
}

// maxFilterLen bounds a filter value, as SPEC §1 bounds an identifier.
const maxFilterLen = 256

// pageQuery reads the carried parameters of a page request into the
// scorecard's options; a bad one is an invalid-input error naming it.
// Whether a filter's value exists in the data is the handler's to check
// (Dataset.CheckScope), under the engine's read lock.
func (s *Server) pageQuery(r *http.Request) (Query, scorecard.Options, error) {
	v := r.URL.Query()
	var q Query
	for _, k := range queryKeys {
		x := strings.TrimSpace(v.Get(k))
		if len(x) > maxFilterLen || strings.ContainsFunc(x, unicode.IsControl) {
			return q, scorecard.Options{}, badParam(k, "not a usable value (at most %d bytes, no control characters)", maxFilterLen)
		}
		*q.field(k) = x
	}
	// A month is carried as the as_of and window it stands for, so the
	// date control shows them and every link keeps them.
	if v.Get("month") != "" {
		m, err := s.parseMonth(v.Get("month"), q.AsOf, q.Window)
		if err != nil {
			return q, scorecard.Options{}, err
		}
		q.AsOf, q.Window = m.End().Format(time.DateOnly), catalog.FormatWindow(m.Window())
	}
	// closing=1 (the pages and routes listing it; others refuse it
	// before): a quarter-end month's page may read the quarter it closes,
	// as its board pack does.
	closing, err := boolParam(r, "closing")
	if err != nil {
		return q, scorecard.Options{}, err
	}
	q.Closing = closing
	// A page may show a result up to max_lag old while a large import is
	// applied (scorecard.Options.Recent).
	opt := scorecard.Options{AsOf: s.defaultAsOf(), Scope: q.Scope(), Recent: true, Closing: closing}
	if q.AsOf != "" {
		t, err := s.parseAsOf(q.AsOf)
		if err != nil {
			return q, opt, err
		}
		opt.AsOf = t
	}
	if q.Window != "" {
		d, err := catalog.ParseMetricWindow(q.Window)
		if err != nil {
			return q, opt, badParam("window", "%v", err)
		}
		opt.Window = d
	}
	return q, opt, s.feeds(r, &opt)
}

// defaultAsOf is the instant a request without as_of is answered at: the
// current minute, its seconds dropped. The engine caches results per
// as_of, so every reader within a minute shares one computation (and the
// warmer can have it ready), and a page agrees with the JSON API asked in
// the same minute. Data is thus shown up to a minute late.
func (s *Server) defaultAsOf() time.Time { return s.Now().UTC().Truncate(time.Minute) }

// checkScope refuses a filter value the data does not have, naming the
// filter and the values it has.
func checkScope(ds *metrics.Dataset, s metrics.Scope) error { return checkScopeAs(ds, s, "") }

// checkScopeAs is checkScope naming param: a scope that came as one
// parameter (scope=team:payments) is that parameter's mistake, not one of a
// team parameter the client never sent. "" names the filter.
func checkScopeAs(ds *metrics.Dataset, s metrics.Scope, param string) error {
	err := ds.CheckScope(s)
	var uv *metrics.UnknownValueError
	var ud *metrics.UnknownDimensionError
	switch {
	case errors.As(err, &uv) && param == "":
		param = uv.Dim
	case errors.As(err, &ud) && param == "":
		param = "scope"
	}
	if uv != nil || ud != nil {
		return badParam(param, "%v", err)
	}
	return err
}

// choiceCache keeps the controls' values for one dataset at one data
// sequence: listing them walks every service of every record (a few
// milliseconds at scale 1, a third of a cached scorecard page), and they
// change only with the data.
type choiceCache struct {
	mu    sync.Mutex
	ds    *metrics.Dataset
	seq   int64
	ch    Choices
	lists int // times listed, for tests
}

// choices are the values the controls offer for ds, which the engine
// holds at sequence seq; call it under the engine's read lock.
func (c *choiceCache) choices(ds *metrics.Dataset, seq int64) Choices {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ds != ds || c.seq != seq || c.lists == 0 {
		c.ds, c.seq, c.ch = ds, seq, choices(ds)
		c.lists++
	}
	return c.ch
}

// choices are the values the controls offer, from the data.
func choices(ds *metrics.Dataset) Choices {
	return Choices{
		Windows: windowChoices,
		Teams:   ds.DimValues("team"), Services: ds.DimValues("service"), Environment: ds.DimValues("environment"),
		BusinessUnits: ds.DimValues("business_unit"),
	}
}

// narrowScope narrows scope (the carried filters') by the filters of a scope parameter, as the
// metric page and the API read scope=DIM:VALUE[,…]: a dimension the filters fix to another value
// would match nothing (a record has one team), and more filters in all than a breakdown can add
// one to, are a 400 naming scope. An API read passes both canonical (apiScope), so that
// environment=prod and scope=environment:production name one environment.
func narrowScope(scope, by metrics.Scope) (metrics.Scope, error) {
	for _, f := range by.Filters() {
		for _, g := range scope.Filters() {
			if g.Dim == f.Dim && g.Value != f.Value {
				return scope, badParam("scope", "the scope names %s %q, but %s=%s is given too; one value per dimension", f.Dim, f.Value, g.Dim, g.Value)
			}
		}
		var ok bool
		if scope, ok = scope.And(f.Dim, f.Value); !ok || len(scope.Filters()) > metrics.MaxFilters-1 {
			return scope, badParam("scope", "at most %d filters in all, the team, service, environment and business unit filters included", metrics.MaxFilters-1)
		}
	}
	return scope, nil
}

// apiFilterParams are an API read's date and filters: its page's (as_of, window, month, team,
// service, environment, business_unit), scope, as candor scorecard --scope takes it, and
// closing, as --closing (scorecard.Options.Closing).
var apiFilterParams = append(slices.Clone(monthPageParams), "scope", "closing")

// apiQuery reads an API read's date and filters as its page reads them (pageQuery), and
// scope=DIM:VALUE[,…] as `candor scorecard --scope` and `candor metric --scope` take it, on any
// dimension, a filter's too (scope=team:payments is team=payments). opt.Scope is the filters';
// the scope parameter's is returned apart, to be checked and merged with them under the engine's
// read lock (apiScope, mergeScope), where environment aliases are known.
func (s *Server) apiQuery(r *http.Request) (Query, scorecard.Options, metrics.Scope, error) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		return q, opt, metrics.Scope{}, err
	}
	var ps metrics.Scope
	if x := strings.TrimSpace(r.URL.Query().Get("scope")); x != "" {
		if ps, err = metrics.ParseScope(x); err != nil {
			return q, opt, ps, badParam("scope", "%v", err)
		}
	}
	return q, opt, ps, nil
}

// mergeScope is the filters' scope narrowed by the scope parameter's, both with environment
// aliases resolved (environment=prod is environment:production); call it under the engine's
// read lock.
func mergeScope(ds *metrics.Dataset, q Query, ps metrics.Scope) (metrics.Scope, error) {
	return narrowScope(ds.CanonicalScope(q.Scope()), ds.CanonicalScope(ps))
}

// apiScope checks an API read's filters and scope parameter and returns them merged
// (mergeScope): a filter's value the data lacks is a 400 naming the filter and the known ones,
// and the scope parameter is checked for the reader (checkReaderScope). Call it under the
// engine's read lock.
func (s *Server) apiScope(ds *metrics.Dataset, access auth.Access, asOf time.Time, q Query, ps metrics.Scope) (metrics.Scope, error) {
	// By the environment aliases in force at asOf, under which the answer
	// is computed (Dataset.At), not today's.
	ds = ds.At(asOf)
	if err := checkScope(ds, q.Scope()); err != nil {
		return metrics.Scope{}, err
	}
	if err := s.checkReaderScope(ds, access, asOf, ps, "scope"); err != nil {
		return metrics.Scope{}, err
	}
	return mergeScope(ds, q, ps)
}

// checkMetricScope checks a metric drill-down's scope parameter (ps) for
// the metric id: a value of a dimension records carry themselves
// (customer, plan, segment, owner, …) is checked against, and a refusal
// names, the values the metric's own breakdown by it shows
// (Dataset.DimValuesOf), not those of every kind — a reader of SLA
// adherence had been told the segments only subscriptions carry. A
// dimension the metric cannot be broken down by is left to
// scorecard.Detail, which refuses it naming its dimensions. Call it under
// the engine's read lock.
func (s *Server) checkMetricScope(ds *metrics.Dataset, id string, ps metrics.Scope) error {
	m, ok := s.Catalog.Metric(id)
	if !ok || ps.IsZero() {
		return nil
	}
	dims := scorecard.Dims(m)
	for _, f := range ds.CanonicalScope(ps).Filters() {
		if filterDim(f.Dim) || f.Dim == "tier" || !slices.Contains(dims, f.Dim) {
			continue
		}
		if err := checkCarriedValue(ds, f, []string{id}, "scope"); err != nil {
			return err
		}
	}
	return nil
}

// checkCarriedValue checks the value of a dimension records carry
// themselves (customer, plan, segment, owner, …) against the values a
// breakdown of the metrics ids by it shows (Dataset.DimValuesOf), and a
// refusal, naming param, names those alone.
func checkCarriedValue(ds *metrics.Dataset, f metrics.Filter, ids []string, param string) error {
	if known := ds.DimValuesOf(f.Dim, ids); !slices.Contains(known, f.Value) {
		return badParam(param, "%v", &metrics.UnknownValueError{Dim: f.Dim, Value: f.Value, Known: known})
	}
	return nil
}

// checkReaderScopeText is checkReaderScope of a scope written as text (a
// silence's, an annotation's) as of now, parsed first and checked under
// the engine's read lock.
func (s *Server) checkReaderScopeText(ctx context.Context, access auth.Access, text string) error {
	sc, err := metrics.ParseScope(text)
	if err != nil {
		return badParam("scope", "%v", err)
	}
	return s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		return s.checkReaderScope(ds, access, s.Now(), sc, "scope")
	})
}

// filterDim says whether dim is a carried filter's (team, service, environment, business
// unit): every reader's controls offer its values.
func filterDim(dim string) bool { return slices.Contains(queryKeys[2:], dim) }

// checkReaderScope checks a scope given as one parameter (param) for the reader, as the metric
// drill-down checks it for its metric: a dimension other than the filters' must be one a metric
// the reader may see can be broken down by, and a value of a dimension records carry themselves
// (customer, plan, owner, campaign, …) must be one those metrics' breakdowns would show
// (Dataset.DimValuesOf); the values it names as known are those alone. Without this an
// engineering token's scope=customer:zz had been told every customer, and scope=plan:zz every
// plan (revenue data), though it may open neither; and a 200 had said a value existed. A value
// the reader's metrics do not show gets the answer a value the data lacks gets. The filters'
// dimensions, and tier (a service's), are checked against the data as the pages check them.
// Call it under the engine's read lock.
func (s *Server) checkReaderScope(ds *metrics.Dataset, access auth.Access, asOf time.Time, scope metrics.Scope, param string) error {
	if scope.IsZero() {
		return nil
	}
	// The data and aliases as of asOf, as the catalog is.
	ds = ds.At(asOf)
	var ids, dims []string
	cat := s.Catalog.At(asOf)
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		if m.Retired || !scorecard.Computed(m) || !access.CanSeeMetric(m) {
			continue
		}
		ids = append(ids, m.ID)
		for _, d := range scorecard.Dims(m) {
			if !filterDim(d) && !slices.Contains(dims, d) {
				dims = append(dims, d)
			}
		}
	}
	slices.Sort(dims)
	var rest metrics.Scope
	for _, f := range ds.CanonicalScope(scope).Filters() {
		if filterDim(f.Dim) {
			rest, _ = rest.And(f.Dim, f.Value)
			continue
		}
		if !slices.Contains(dims, f.Dim) {
			theirs := "none"
			if len(dims) > 0 {
				theirs = strings.Join(dims, ", ")
			}
			return badParam(param, "none of the metrics you may see can be broken down by %q; a scope takes the filters' dimensions (team, service, environment, business_unit) and theirs: %s", f.Dim, theirs)
		}
		if f.Dim == "tier" {
			rest, _ = rest.And(f.Dim, f.Value)
			continue
		}
		if err := checkCarriedValue(ds, f, ids, param); err != nil {
			return err
		}
	}
	return checkScopeAs(ds, rest, param)
}

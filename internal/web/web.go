// Package web serves Candor's HTTP API and its pages. Every route is a
// line of one table (Routes) stating who may call it; authentication,
// authorisation and CSRF checks run inside the mux for each route, and
// handlers are thin: they parse parameters, call the scorecard, metrics,
// reconcile or ingest packages and write JSON or a page. Errors carry a
// code (domain.Code) that maps to a status in one place (Status).
package web

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/insight"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/oidc"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Server holds what the handlers need.
type Server struct {
	// retentionRuns tells a record's page which retention run rewrote it,
	// reading the ledger past what it read before (made by Handler).
	retentionRuns *ledger.RetentionIndex
	Engine        *engine.Engine
	Catalog       *catalog.Catalog
	Store         store.Store
	// Auth says who each request is and what they may do; required.
	Auth *auth.Service
	// OIDC, when set, offers sign-in through an OpenID Connect provider.
	OIDC  *oidc.Client
	Parse domain.ParseOptions
	// MaxBody bounds request bodies (413 beyond it).
	MaxBody int64
	Log     *slog.Logger
	Now     func() time.Time
	// Version is shown in the pages' footer.
	Version string
	// Webhooks receives connector deliveries (POST /webhooks/{source});
	// each connector verifies its sender, so the route admits anyone. Its
	// refusals are written by the server's error writer, like every other
	// error. Without it the route answers 404.
	Webhooks interface {
		Handler(fail func(http.ResponseWriter, *http.Request, error)) http.Handler
	}
	hooks http.Handler
	// Connectors reports the connectors' health (connect.Service): the
	// data sources report lists it, and the scorecard's state kinds fed by
	// a connector are stale when it stopped working. Without it neither.
	Connectors Connectors
	// Governance holds the definition proposals and approvals (SPEC §5);
	// without it their routes answer 501.
	Governance *governance.Registry
	// Alerts lists, acknowledges and silences alerts (SPEC §8); without it
	// their routes answer 501.
	Alerts *alert.Service
	// Adoption counts who opens which page, metric and view (SPEC §5);
	// nil counts nothing.
	Adoption *adoption.Recorder
	// LedgerKeys verify the audit ledger in evidence packs; none: the
	// store's sealer's public key.
	LedgerKeys []ed25519.PublicKey
	// ShareFrameAncestors are the origins that may frame a share link's page or picture
	// (CSP frame-ancestors sources, e.g. https://wiki.example.com); empty: none may, as no
	// other page may.
	ShareFrameAncestors []string
	// BaseURL is Candor's public address (reports.base_url, checked there):
	// a share link's url, svg and png are answered under it, links to paste,
	// rather than paths; "" keeps paths.
	BaseURL string
	// Annotations are the organisation's configured business-cycle periods; with those posted
	// over the API (package annotation) they are shaded on every trend chart.
	Annotations []catalog.Annotation
	// Gates hold the release gate policies in force (an approved section
	// replaces them while the server runs); nil: the built-in ones with
	// their defaults.
	Gates *gate.Current
	// Impact are the release impact and insight settings; nil: the
	// defaults.
	Impact *insight.Settings

	// records commits posted records; concurrent requests share
	// transactions (group commit).
	records *ingest.Committer
	routes  []Route
	site    *site
	// sites are the page sets of the other currencies pages were asked
	// in (siteFor).
	sites *otherSites
	// cop refuses cross-origin state-changing requests from browsers.
	cop *http.CrossOriginProtection
	// flashes keeps the outcome of an admin change for the page after
	// its redirect.
	flashes *flashStore
	// sorted keeps the order of the records tables last sorted.
	sorted *sortOrders
	// choices keeps the values the controls offer.
	choices *choiceCache
	// acks keeps the acknowledgements decoded between reads (every page
	// and API answer marking its cards reads them).
	acks *escalation.Cache
}

// Handler returns the routed handler. It parses the page templates and
// builds the mux from the route table; a defect in either (a template
// that does not parse, a route without a policy) panics, at start-up.
func (s *Server) Handler() http.Handler {
	if s.Auth == nil {
		panic("web: Server.Auth is required: every route has a policy")
	}
	if s.retentionRuns == nil {
		s.retentionRuns = &ledger.RetentionIndex{}
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.MaxBody <= 0 {
		s.MaxBody = 32 << 20
	}
	s.BaseURL = strings.TrimRight(s.BaseURL, "/")
	st, err := s.newSite(s.currencyAt(time.Time{}), nil, nil)
	if err != nil {
		panic("web: " + err.Error())
	}
	s.site, s.sites = st, &otherSites{m: map[string]*site{}}
	s.records = ingest.NewCommitter(s.Store)
	if s.Webhooks != nil {
		s.hooks = s.Webhooks.Handler(s.writeError)
	}
	s.cop = http.NewCrossOriginProtection()
	s.flashes = &flashStore{}
	s.sorted = &sortOrders{}
	s.choices = &choiceCache{}
	s.acks = &escalation.Cache{}
	if s.Gates == nil {
		s.Gates = gate.NewCurrent(gate.Defaults(s.Catalog))
	}
	s.routes = s.Routes()
	return s.logRequests(securityHeaders(s.unrouted(s.mux(s.routes))))
}

// Connectors is the connectors' health as connect.Service reports it.
type Connectors interface {
	Health(ctx context.Context, asOf time.Time, period time.Duration) ([]health.Connector, error)
	Feeds(ctx context.Context, asOf time.Time) ([]health.Connector, error)
}

// feeds is what the scorecard reads from outside the data: the connector health its unknown
// rule reads, and the annotations in force, which the degrading flag and the trend charts read.
func (s *Server) feeds(r *http.Request, opt *scorecard.Options) error {
	var err error
	if opt.Annotations, err = s.inForce(r); err != nil {
		return err
	}
	if s.Connectors == nil {
		return nil
	}
	if opt.Connectors, err = s.Connectors.Feeds(r.Context(), opt.AsOf); err != nil {
		return &connectorHealthError{err}
	}
	return nil
}

// connectorHealthError is connector health feeds could not read: the
// options are complete but for it (the customer routes go on without it).
type connectorHealthError struct{ err error }

func (e *connectorHealthError) Error() string { return e.err.Error() }
func (e *connectorHealthError) Unwrap() error { return e.err }

// access is what the request's principal may see and do.
func (s *Server) access(r *http.Request) auth.Access {
	return s.Auth.Grants().Access(auth.PrincipalFrom(r.Context()).Roles)
}

// healthz is liveness: the process answers and reaches its store.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	detail := s.Auth.Grants().Require(auth.PrincipalFrom(r.Context()), auth.SourcesRead) == nil
	// Asked first: a store found damaged may still answer the sequence
	// while its writes fail, and when it does not, "unreachable" would
	// send the operator to the network. The file's path is for those who
	// may read the sources page.
	if d, ok := s.Store.(store.DamageReporter); ok {
		if err := d.Damaged(); err != nil {
			s.logger(r).Error("health check", "err", err)
			msg := "store damaged: a read or write found its file malformed; the server log names the file and what to do"
			if detail {
				msg = err.Error()
			}
			s.writeError(w, r, domain.Errorf(domain.EUnavailable, "%s", msg))
			return
		}
	}
	// seq is the store's sequence; the engine's status says which of it
	// the readable data reflects, how far behind that is, and how many
	// stored rows it had to quarantine.
	seq, err := s.Store.LastSeq(r.Context())
	if err != nil {
		s.logger(r).Error("health check", "err", err)
		s.writeError(w, r, s.unreachable(err, detail))
		return
	}
	st := s.Engine.Status()
	// A full file system fails every write while reads go on: said, with
	// 200 still, so that a load balancer keeps the reads coming and a
	// monitor sees the writes fail, where it had read "ok".
	body := map[string]any{"status": "ok", "seq": seq}
	if f, ok := s.Store.(store.FullReporter); ok {
		if err := f.Full(); err != nil {
			body["status"], body["store_full"] = "degraded", "writes fail: the store's file system is full; the server log names it"
			if detail {
				body["store_full"] = err.Error()
			}
		}
	}
	if detail {
		body["engine"] = st
		writeJSON(w, http.StatusOK, body)
		return
	}
	// Anyone — a load balancer, a monitor without a token — gets what a
	// health check alarms on. The rest (the image's state and the
	// follower's last error, which name files and the database's address;
	// the copies held, the result cache) is for those who may read the
	// data sources report, where quarantined rows are listed too.
	body["engine"] = healthSummary{
		Ready: st.Ready, Published: st.Published, Store: st.Store, LagMS: st.LagMS, Lagging: st.Lagging,
		Quarantined: st.Quarantined, Detail: "the engine's copies, result cache, image and last error need " + string(auth.SourcesRead),
	}
	writeJSON(w, http.StatusOK, body)
}

// unreachable is the 503 of a health check whose store failed, with
// Retry-After: "store unreachable" and, when the store said, the reason
// in words that name no address or user ("authentication failed", "too
// many connections"); with detail (sources:read) the store's whole error,
// which names the database, its address and user.
func (s *Server) unreachable(err error, detail bool) error {
	err = store.Classify(s.Store, err)
	msg := "store unreachable"
	var u *store.UnreachableError
	if errors.As(err, &u) {
		if u.Reason != "" {
			msg += ": " + u.Reason
		}
		if detail {
			msg = err.Error()
		}
	}
	return &domain.Error{Code: domain.EUnavailable, Message: msg, RetryAfter: store.UnreachableRetry}
}

// healthSummary is the engine's status as /healthz gives it to anyone.
type healthSummary struct {
	Ready       bool    `json:"ready"`
	Published   int64   `json:"published_seq"`
	Store       int64   `json:"store_seq"`
	LagMS       float64 `json:"lag_ms"`
	Lagging     bool    `json:"lagging"`
	Quarantined int64   `json:"quarantined_rows"`
	Detail      string  `json:"detail"`
}

// readyz is readiness: 503 until the engine has loaded the data, so a load
// balancer sends no reader to an instance still loading.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if !s.Engine.Ready() {
		s.writeError(w, r, &domain.Error{Code: domain.EUnavailable, Message: "loading the data; not ready yet", RetryAfter: 5 * time.Second})
		return
	}
	if _, err := s.Store.LastSeq(r.Context()); err != nil {
		s.logger(r).Error("readiness check", "err", err)
		s.writeError(w, r, s.unreachable(err, false))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "seq": s.Engine.Seq()})
}

// ParseTime accepts RFC 3339 or a date (midnight UTC).
func ParseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if strings.Contains(v, " ") {
		// A URL's query reads an unescaped + as a space, so an offset
		// such as +02:00 arrives as " 02:00".
		if _, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(v, " ", "+")); err == nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time: a + left unescaped in a URL arrives as a space; write it as %%2B", v)
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (2026-03-01T00:00:00Z) or a date (2026-03-01)", v)
}

// FutureSlack is how far past the clock an as_of may lie: a day, so that
// a date typed where that day has begun ahead of UTC is taken (a date is
// its midnight UTC).
const FutureSlack = 24 * time.Hour

// EarliestAsOf is the earliest as_of answered (catalog.EarliestAsOf).
var EarliestAsOf = catalog.EarliestAsOf

// CheckAsOf refuses an as_of past now (beyond FutureSlack). The data holds
// nothing after now, so an answer then would show a state that has not
// happened: open incidents and vulnerabilities ageing, escalations
// overdue, subscriptions and quotas as they stand today judged years on.
// It refuses one before EarliestAsOf too.
func CheckAsOf(t, now time.Time) error {
	if t.After(now.Add(FutureSlack)) {
		// The rule as it is: "as of now or an earlier time" had not said
		// that tomorrow's date is taken.
		return fmt.Errorf("%s is in the future, more than a day past the clock (%s): Candor answers as of at most a day past the clock, or any earlier time", t.UTC().Format(time.RFC3339), now.UTC().Format("2006-01-02 15:04 MST"))
	}
	if t.Before(EarliestAsOf) {
		return fmt.Errorf("%s is before %s: Candor answers as of %s or later", t.UTC().Format(time.RFC3339), EarliestAsOf.Format(time.DateOnly), EarliestAsOf.Format(time.DateOnly))
	}
	return nil
}

// acksBy is when an acknowledgement must have been recorded by to count on
// a page or answer at asOf: asOf when the request named it, else now — a
// request without as_of is answered as of the current minute (its results
// shared), and an action recorded in the seconds since must show at once.
// A month names its as_of (month=2026-02 is as_of=2026-03-01), so one
// recorded after the month's end had not happened by then either.
func (s *Server) acksBy(r *http.Request, asOf time.Time) time.Time {
	if q := r.URL.Query(); q.Get("as_of") != "" || q.Get("month") != "" {
		return asOf
	}
	return s.Now().UTC()
}

// parseAsOf reads an as_of parameter: a time or a date, not in the
// future; an error names the parameter.
func (s *Server) parseAsOf(v string) (time.Time, error) {
	t, err := ParseTime(v)
	if err == nil {
		err = CheckAsOf(t, s.Now())
	}
	if err != nil {
		return t, badParam("as_of", "%v", err)
	}
	return t, nil
}

// parseMonth reads a month parameter given instead of as_of and window
// (catalog.MonthInstead), naming month when it is refused.
func (s *Server) parseMonth(v, asOf, window string) (catalog.Month, error) {
	m, err := catalog.MonthInstead(v, asOf != "" || window != "", s.Now())
	if err != nil {
		return m, badParam("month", "%v", err)
	}
	return m, nil
}

func (s *Server) options(r *http.Request) (scorecard.Options, error) {
	q := r.URL.Query()
	opt := scorecard.Options{AsOf: s.defaultAsOf(), Recent: true}
	if v := q.Get("month"); v != "" {
		m, err := s.parseMonth(v, q.Get("as_of"), q.Get("window"))
		if err != nil {
			return opt, err
		}
		opt.AsOf, opt.Window = m.End(), m.Window()
		return opt, s.feeds(r, &opt)
	}
	if v := q.Get("as_of"); v != "" {
		t, err := s.parseAsOf(v)
		if err != nil {
			return opt, err
		}
		opt.AsOf = t
	}
	if v := q.Get("window"); v != "" {
		d, err := catalog.ParseMetricWindow(v)
		if err != nil {
			return opt, badParam("window", "%v", err)
		}
		opt.Window = d
	}
	return opt, s.feeds(r, &opt)
}

// getScorecard is the scorecard page's (home) as JSON, narrowed by the same filters, or by
// scope as candor scorecard --scope narrows it: a metric that cannot be broken down so is left
// out, and a value the data lacks is a 400 naming its parameter and the known ones.
func (s *Server) getScorecard(w http.ResponseWriter, r *http.Request) {
	q, opt, ps, err := s.apiQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	opt.Visible = access.CanSeeMetric
	acks, err := s.acks.List(r.Context(), s.Store, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var sc *scorecard.Scorecard
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// Canonical, as the metric drill-down computes it: a raw
		// environment=prod had made every deployment metric unknown, "no
		// deployment data for environment prod".
		if opt.Scope, err = s.apiScope(ds, access, opt.AsOf, q, ps); err != nil {
			return err
		}
		sc = scorecard.Build(s.Catalog, ds, opt)
		escalation.Mark(ds, sc.Cards(), acks, opt.Scope.String(), opt.AsOf, s.acksBy(r, opt.AsOf))
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sc)
}

// getSources serves the data sources report (scorecard.Sources).
func (s *Server) getSources(w http.ResponseWriter, r *http.Request) {
	asOf := s.Now().UTC() // as sourcesPage: deliveries seconds old count
	if v := r.URL.Query().Get("as_of"); v != "" {
		t, err := s.parseAsOf(v)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		asOf = t
	}
	period := connect.DefaultHealthPeriod
	if v := r.URL.Query().Get("period"); v != "" {
		d, err := catalog.ParseWindow(v)
		if err != nil {
			// ParseWindow's wording, as window, for and expires_in say it.
			s.writeError(w, r, badParam("period", "%v", err))
			return
		}
		period = d
	}
	var conns []health.Connector
	if s.Connectors != nil {
		var err error
		if conns, err = s.Connectors.Health(r.Context(), asOf, period); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	var rep *scorecard.SourcesReport
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		rep = scorecard.Sources(s.Catalog, ds, asOf, conns...)
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rep.Problems, _ = visibleProblems(s.access(r), rep.Problems)
	rep.Unrated, _ = s.visibleUnrated(s.access(r), rep.Unrated)
	writeJSON(w, http.StatusOK, rep)
}

// visibleUnrated is the money without an exchange rate the access may be
// told of, and how many entries it may not: those of a kind that reveals
// revenue need revenue:read, as its data problems do; of the others, the
// metrics it may not see are counted, not named.
func (s *Server) visibleUnrated(access auth.Access, us []scorecard.UnratedMoney) ([]scorecard.UnratedMoney, int) {
	out := []scorecard.UnratedMoney{}
	for _, u := range us {
		if access.HidesRevenueOf(string(u.Kind)) {
			continue
		}
		out = append(out, u.Without(s.hidesMetric(access)))
	}
	return out, len(us) - len(out)
}

// hidesMetric says, of a metric id, whether access may not see it.
func (s *Server) hidesMetric(access auth.Access) func(string) bool {
	return func(id string) bool {
		m, ok := s.Catalog.Metric(id)
		return !ok || !access.CanSeeMetric(m)
	}
}

// visibleProblems are the data problems the access may see, and how many
// it may not. A problem names a record and what is wrong with it: of a
// kind that reveals revenue, only for those who may read such records.
// The per-kind counts stay: they are no amounts.
func visibleProblems(access auth.Access, ps []metrics.Problem) ([]metrics.Problem, int) {
	n := len(ps)
	ps = slices.DeleteFunc(ps, func(p metrics.Problem) bool { return access.HidesRevenueOf(string(p.Kind)) })
	return ps, n - len(ps)
}

// listMetrics lists the metrics the principal may see.
func (s *Server) listMetrics(w http.ResponseWriter, r *http.Request) {
	access := s.access(r)
	out := []map[string]any{}
	ms := s.Catalog.MetricsInForce()
	for i := range ms {
		m := &ms[i]
		if !access.CanSeeMetric(m) {
			continue
		}
		out = append(out, map[string]any{"id": m.ID, "name": m.Name, "pillar": m.Pillar, "unit": m.Unit, "owner": m.Owner,
			"computed": scorecard.Computed(m), "breakdowns": scorecard.Dims(m),
			"priority": m.Priority, "signoff": m.Signoff, "signoff_by": m.SignoffBy})
	}
	writeJSON(w, http.StatusOK, map[string]any{"metrics": out})
}

// getMetric is a metric's drill-down, under the metric page's filters and scope together
// (apiQuery): a filter the metric cannot take, or a value the data lacks, is a 400 naming the
// parameter, as on the page.
func (s *Server) getMetric(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q, opt, ps, err := s.apiQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	access := s.access(r)
	if err := s.canSeeMetric(access, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	by := r.URL.Query().Get("by")
	// A 30-day window at scale holds a quarter of a million records; they
	// come a page at a time so a drill-down stays a quick answer.
	limit, err := intParam(r, "limit", defaultRecordLimit, 1, maxRecordLimit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 0, math.MaxInt32)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	source, err := s.settingSource(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var d *scorecard.MetricDetail
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// The scope is checked and made canonical by the environment
		// aliases in force at as_of, under which Detail computes it:
		// today's had answered environment=live, an environment of its
		// own then, with production's count.
		at := ds.At(opt.AsOf)
		if err := checkScope(at, q.Scope()); err != nil {
			return err
		}
		if err := s.checkMetricScope(at, id, ps); err != nil {
			return err
		}
		scope, err := mergeScope(at, q, ps)
		if err != nil {
			return err
		}
		var derr error
		if d, derr = scorecard.Detail(s.Catalog, ds, id, opt, by, scope); derr != nil {
			return pageDimensionError(derr, q)
		}
		// The page's row fields come from the dataset, so under its lock.
		d.Page(ds, offset, limit)
		d.HideAmounts(func(k domain.Kind) bool { return access.HidesRevenueOf(string(k)) })
		return nil
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	source.Name(&d.Definition, opt.AsOf)
	writeJSON(w, http.StatusOK, d)
}

// Drill-down paging: records per page by default and at most.
const (
	defaultRecordLimit = 1000
	maxRecordLimit     = 100_000
)

// intParam reads an integer query parameter in [lo, hi], def when absent.
func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, badParam(name, "%q must be a whole number from %d to %d", v, lo, hi)
	}
	return n, nil
}

func (s *Server) postRecords(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.MaxBody)
	opt := ingest.Options{Parse: s.Parse, Origin: "api", By: auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name}
	// A value that is not a boolean is refused, not read as false: a client
	// sending skip_invalid=yes must not get all-or-nothing silently.
	skip, err := boolParam(r, "skip_invalid")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opt.SkipInvalid = skip
	if k := r.URL.Query().Get("kind"); k != "" {
		kind, err := domain.ParseKind(k)
		if err != nil {
			s.writeError(w, r, badParam("kind", "%v", err))
			return
		}
		opt.Kind = kind
	}
	format, err := recordsFormat(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A body over the bound is refused for its size whatever its lines:
	// at once when its length says so, else when reading it reaches the
	// bound (tooLarge).
	if r.ContentLength > s.MaxBody {
		s.writeError(w, r, &http.MaxBytesError{Limit: s.MaxBody})
		return
	}
	sum, err := s.records.Import(r.Context(), []ingest.Source{{Name: "body", Reader: body, Format: format}}, opt)
	if err == nil && sum.Inserted+sum.Replaced > 0 {
		// Read-your-writes: the answer waits until what was written is
		// readable, so the client's next read sees it — its own rows, not
		// an import committed after them. The write stands either way.
		if serr := s.Engine.WaitWritten(r.Context(), sum.Seq); serr != nil && r.Context().Err() == nil {
			s.Log.Warn("records written but not yet readable", "err", serr)
		}
	}
	if err != nil {
		// Import words a CSV without a kind for files; an API client has
		// a parameter to pass instead.
		var nk *ingest.NoKindError
		if errors.As(err, &nk) {
			err = badParam("kind", "the CSV body has no kind column: add one, or pass the kind as ?kind= (POST /api/v1/records?kind=deployment)")
		}
		s.writeError(w, r, tooLarge(body, err))
		return
	}
	out := ImportSummary(sum)
	if ws := scorecard.ImportWarnings(s.Catalog, s.Engine.Config(), sum.Currencies, s.hidesMetric(s.access(r))); len(ws) > 0 {
		out["warnings"] = ws
	}
	// Records dated more than a day past the clock (a mistyped year) are
	// stored as written and counted in no metric until then: said, as
	// candor import --json says it.
	if len(sum.Future) > 0 {
		out["future_times"] = sum.Future
	}
	// A body with no record is answered 200 (a sync with nothing new is
	// not an error), but said: a sender posting an empty file or a
	// variable that never got its content would otherwise read "records
	// 0" as success (candor import warns of such a file on stderr).
	if len(sum.Empty) > 0 {
		out["empty_body"] = true
	}
	writeJSON(w, http.StatusOK, out)
}

// tooLarge is the error of a records body the import refused: the body's
// bound's (413) when the body, read on to its end, is over it, else err.
// An import stops reading at a problem that leaves the rest unreadable (a
// refused CSV header, a CSV record past the line bound), and a body of
// 34 MB was then a 400 where one of 35 MB was a 413.
func tooLarge(body io.Reader, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || domain.CodeOf(err) != domain.EInvalid {
		return err
	}
	if _, rerr := io.Copy(io.Discard, body); errors.As(rerr, &mbe) {
		return rerr
	}
	return err
}

// recordsFormat is the format of a records body: CSV for text/csv (or one of
// its other names, csvTypes), else
// NDJSON, whatever else the type says (curl --data-binary sends a form's
// type). A body the import could only misread is refused (415): a
// compressed one, and a form's file upload, whose parts' headers and
// boundaries were each refused as a line that is not a JSON object.
func recordsFormat(r *http.Request) (string, error) {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return "", domain.Errorf(domain.EUnsupportedMedia, "Content-Encoding %s is not read: send the records uncompressed", ce)
	}
	// Media types are case-insensitive: a client sending Text/CSV had its
	// CSV read as NDJSON and every line refused as "not a JSON object".
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && csvTypes[mt]:
		return "csv", nil
	case err == nil && strings.HasPrefix(mt, "multipart/"):
		return "", domain.Errorf(domain.EUnsupportedMedia, "Content-Type %s is not read: send the file itself as the body (curl --data-binary @FILE), NDJSON or, with Content-Type: text/csv, CSV", mt)
	case err == nil && otherFormat(mt):
		return "", domain.Errorf(domain.EUnsupportedMedia, "Content-Type %s is not read: records are NDJSON (one JSON object a line) or, with Content-Type: text/csv, CSV", mt)
	}
	return "ndjson", nil
}

// otherFormat says whether a media type names a format that is neither
// NDJSON nor CSV: an XML export or a spreadsheet sent as records had been
// read as NDJSON and refused line by line ("not a JSON object"). Types a
// client sends NDJSON under (none, JSON, text/plain, a form's, octet-stream)
// are not among them.
func otherFormat(mt string) bool {
	switch {
	case strings.HasSuffix(mt, "/xml"), strings.HasSuffix(mt, "+xml"), mt == "text/html",
		strings.HasPrefix(mt, "image/"), strings.HasPrefix(mt, "audio/"), strings.HasPrefix(mt, "video/"), strings.HasPrefix(mt, "font/"),
		mt == "application/pdf", mt == "application/zip", mt == "application/gzip", mt == "application/x-gzip",
		strings.HasPrefix(mt, "application/vnd.openxmlformats"):
		return true
	}
	return false
}

// csvTypes are the media types a CSV body is sent as: text/csv (RFC 4180)
// and the names exporters and HTTP clients use for it besides, under which
// a marketer's leads file had been read as NDJSON and every line refused
// as "not a JSON object".
var csvTypes = map[string]bool{"text/csv": true, "application/csv": true, "text/x-csv": true, "application/x-csv": true, "text/comma-separated-values": true,
	// What Windows browsers and Python's mimetypes send for a .csv file:
	// read as CSV (a real spreadsheet's bytes are refused line by line).
	"application/vnd.ms-excel": true}

// ownBodyTypes are the API routes that read bodies other than a JSON
// value: records as NDJSON or CSV (recordsFormat), and webhooks in each
// sender's own type.
var ownBodyTypes = map[string]bool{"POST /api/v1/records": true, "POST /webhooks/{source}": true}

// checkJSONBody refuses a body an API route would read as JSON although
// its Content-Type says it is something else: the sender meant another
// format, and reading it as JSON anyway would answer a question not
// asked. No Content-Type is taken as JSON; so is an empty body of any
// type (curl -d with nothing to send, on a route that reads none).
func checkJSONBody(rt Route, r *http.Request) error {
	switch {
	case rt.Kind != API || ownBodyTypes[rt.Method+" "+rt.Pattern]:
		return nil
	case r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch:
		return nil
	case r.ContentLength == 0:
		return nil
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return domain.Errorf(domain.EUnsupportedMedia, "Content-Type %s is not read: the body is one JSON object, sent with Content-Type: application/json (curl -H 'Content-Type: application/json') or none", ct)
}

// ImportSummary is an import summary as JSON (the API's answer and `candor
// import --json`), with lower-case keys per kind too: ingest's KindSummary
// embeds store.WriteResult, whose fields have no JSON names.
func ImportSummary(sum *ingest.Summary) map[string]any {
	byKind := map[domain.Kind]map[string]int64{}
	for k, ks := range sum.ByKind {
		byKind[k] = map[string]int64{"records": ks.Records, "inserted": ks.Inserted, "replaced": ks.Replaced, "unchanged": ks.Unchanged, "repeated": ks.Repeated}
	}
	out := map[string]any{"records": sum.Records, "inserted": sum.Inserted, "replaced": sum.Replaced, "unchanged": sum.Unchanged, "repeated": sum.Repeated, "by_kind": byKind}
	if len(sum.Repeats) > 0 {
		repeats := make([]repeatOut, len(sum.Repeats))
		for i, r := range sum.Repeats {
			repeats[i] = repeatOut{Kind: r.Key.Kind, Source: r.Key.Source, ID: r.Key.ID, File: r.File, Line: r.Line, EarlierFile: r.EarlierFile, EarlierLine: r.EarlierLine}
		}
		out["repeats"] = repeats
	}
	if sum.Invalid > 0 {
		var skipped []lineErr
		for _, l := range sum.Skipped {
			skipped = append(skipped, lineErr{Line: l.Line, Field: l.Field, Reason: l.Reason})
		}
		out["invalid"] = sum.Invalid
		out["skipped"] = skipped
	}
	return out
}

// repeatOut is a record repeating an earlier one's key in an import
// (ingest.Repeat): the first few are named, all are counted.
type repeatOut struct {
	Kind        domain.Kind `json:"kind"`
	Source      string      `json:"source"`
	ID          string      `json:"id"`
	File        string      `json:"file"`
	Line        int         `json:"line"`
	EarlierFile string      `json:"earlier_file,omitempty"`
	EarlierLine int         `json:"earlier_line,omitempty"`
}

// canSeeMetric is nil when the metric exists and the principal may see its
// numbers: not_found for an unknown id, forbidden for a hidden metric.
func (s *Server) canSeeMetric(access auth.Access, id string) error {
	m, ok := s.Catalog.Metric(id)
	switch {
	case !ok:
		// One guess among the metrics the reader may see, as the pages
		// and the CLI guess (catalog.Nearest).
		if near := s.nearestMetric(access, id); near != "" {
			return notFoundf("unknown metric %q (did you mean %s?); GET /api/v1/metrics lists them", id, near)
		}
		return notFoundf("unknown metric %q; GET /api/v1/metrics lists them", id)
	case access.CanSeeMetric(m):
		return nil
	case m.RevenueSensitive() && !access.Can(auth.RevenueRead):
		return domain.Errorf(domain.EForbidden, "metric %s reveals revenue: it needs revenue:read", id)
	}
	return domain.Errorf(domain.EForbidden, "metric %s is not among your roles' pillars, metrics or views", id)
}

package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/reconcile"
	"github.com/candor/candor/internal/scorecard"
)

// The data sources page: each record kind with its count, newest data,
// freshness limit and status (scorecard.Sources), the data problems found
// in the records, the data-quality checks kept so far (reconciliations),
// and each connector's health with the deliveries it refused — what the
// API and `candor sources` report (the page had said no connector
// delivered yet, long after they did, and judged the state kinds a
// connector feeds without its health).

// Bounds of the page's lists; the CLI and the API have the rest.
const (
	maxPageProblems = 100
	maxPageChecks   = 20
	maxPageRejects  = 20
)

// sourcesPage is the Data of the data sources page.
type sourcesPage struct {
	AsOf                time.Time
	Kinds               []kindRow
	Fresh, Stale, Never int
	// NotJudged counts the state kinds nothing judges by age (SPEC §4:
	// scorecard.KindNotJudged), apart from Fresh: green is for a kind
	// judged and found fresh.
	NotJudged int
	Problems  []problemRow
	// ProblemsTotal counts the problems the reader may see; Problems holds
	// the first maxPageProblems. HiddenProblems are those of revenue kinds
	// the reader's roles do not show.
	ProblemsTotal, HiddenProblems int
	Checks                        []checkRow
	// Tolerance is the checks' green and amber tolerance, in percent.
	Tolerance reconcile.Tolerance
	// Dropped are filters the reader came with; the page covers every
	// record.
	Dropped []Filter
	// Unrated says, per kind and currency, the money held without an
	// exchange rate, what it leaves without a value and the setting to add
	// (scorecard.UnratedText).
	Unrated []string
	// HiddenUnrated counts those of kinds that reveal revenue, which the
	// reader's roles do not show.
	HiddenUnrated int
	// Connectors are the sources configured or heard from, over the
	// deliveries of Period; Rejects their latest refused deliveries,
	// newest first (at most maxPageRejects).
	Connectors []connectorRow
	Period     string
	Rejects    []rejectRow
	// NotLoggedNote says what the connectors' "Not logged" column counts,
	// when one of them counts any (health.NotLoggedNote).
	NotLoggedNote string
}

// connectorRow is one connector's health.
type connectorRow struct {
	Source, Feeds, Limit string
	// LastWorked is when a delivery or a sync last succeeded; zero for
	// never.
	LastWorked                             time.Time
	Status                                 StatusView
	Accepted, Duplicate, Ignored, Rejected int64
	// NotLogged counts the rejected deliveries counted without being
	// logged (health.Connector.NotLogged).
	NotLogged int64
	// Sync is the collector's latest run in words; SyncErrors the failed
	// runs since its latest success.
	Sync       string
	SyncErrors []string
}

// rejectRow is one delivery a connector refused, with its reason.
type rejectRow struct {
	Source, Delivery, Event, Reason string
	At                              time.Time
}

// kindRow is one record kind.
type kindRow struct {
	Kind, Records, Limit string
	// Longest is the longest limit of the metrics reading the kind, when
	// it differs from Limit (scorecard.KindSource.Longest).
	Longest string
	// Newest is the kind's newest data as the pages say it.
	Newest   newestView
	Status   StatusView
	State    bool
	Problems int
}

// problemRow is one data problem; URL is the record's page, empty when
// the reader may not read records of its kind.
type problemRow struct {
	Kind, Record, URL, Field, Reason string
}

// checkRow is one kept reconciliation check.
type checkRow struct {
	Name, URL, AsOf, Window                string
	Expected, Actual, Difference, DiffPct  string
	Source, Note, Checked, Reason, Warning string
	Status                                 StatusView
}

// kindStatus shows a kind's freshness as a status: fresh as green, stale
// as red, never sent as unknown, a state kind not judged by age in neutral
// colours, each with its word (scorecard.KindWord).
func kindStatus(status string) StatusView {
	return sourceStatus(map[string]catalog.Status{scorecard.KindFresh: catalog.Green, scorecard.KindStale: catalog.Red, scorecard.KindNeverSent: catalog.Unknown},
		status, scorecard.KindWord(status))
}

// connectorStatus shows a connector's judgement with the CLI's words
// (scorecard.ConnectorWord): fresh green, stale or never worked red (a
// configured connector that never delivered is a fault), not configured
// in neutral colours (heard from, but nothing expects it).
func connectorStatus(status string) StatusView {
	return sourceStatus(map[string]catalog.Status{scorecard.KindFresh: catalog.Green, scorecard.KindStale: catalog.Red, scorecard.KindNeverSent: catalog.Red},
		status, scorecard.ConnectorWord(status))
}

// sourceStatus is status in the colour colours gives it, neutral
// ("unjudged") for one it does not name, with word capitalised.
func sourceStatus(colours map[string]catalog.Status, status, word string) StatusView {
	v := notJudgedView()
	if st, ok := colours[status]; ok {
		v = statusView(st)
	}
	v.Word = capitalise(word)
	return v
}

// sourcesPage serves GET /sources.
func (s *Server) sourcesPage(w http.ResponseWriter, r *http.Request) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	if q.AsOf == "" {
		// Not the current minute the other pages default to: the report
		// is about deliveries and rejects seconds old, and it is cheap.
		opt.AsOf = s.Now().UTC()
	}
	dropped := q.Filters()
	q = Query{AsOf: q.AsOf}
	// The connectors' health as the API reads it (its default period):
	// it also judges the state kinds a connector feeds.
	var conns []health.Connector
	if s.Connectors != nil {
		if conns, err = s.Connectors.Health(r.Context(), opt.AsOf, connect.DefaultHealthPeriod); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	var rep *scorecard.SourcesReport
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		rep = scorecard.Sources(s.Catalog, ds, opt.AsOf, conns...)
		return nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	checks, err := reconcile.List(r.Context(), s.Store, maxPageChecks)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := s.newSourcesPage(rep, checks, q, s.access(r))
	data.Dropped = dropped
	pg := s.newPage(r, "Data sources", q, data)
	pg.Controls, pg.NoFilters, pg.NoWindow, pg.AsOf = true, true, true, rep.AsOf
	s.render(w, r, http.StatusOK, "sources", pg)
}

// newSourcesPage lays the report and the kept checks out for the page,
// leaving out what the access may not see.
func (s *Server) newSourcesPage(rep *scorecard.SourcesReport, checks []reconcile.Result, q Query, access auth.Access) sourcesPage {
	p := sourcesPage{AsOf: rep.AsOf, Tolerance: reconcile.Tolerance{Green: reconcile.GreenTolerancePct, Amber: reconcile.AmberTolerancePct}}
	for _, k := range rep.Kinds {
		row := kindRow{Kind: k.Kind, Records: groupThousandsInt(k.Records), Status: kindStatus(k.Status), State: k.State, Problems: k.Problems, Limit: k.Limit, Longest: k.Longest, Newest: newestData(k.Kind, k.LastData, rep.AsOf)}
		if k.LastFullScan {
			row.Newest.Text += " (a full scan)"
		}
		switch k.Status {
		case scorecard.KindFresh:
			p.Fresh++
		case scorecard.KindStale:
			p.Stale++
		case scorecard.KindNotJudged:
			p.NotJudged++
		default:
			p.Never++
		}
		p.Kinds = append(p.Kinds, row)
	}
	unrated, hidden := s.visibleUnrated(access, rep.Unrated)
	for _, u := range unrated {
		p.Unrated = append(p.Unrated, scorecard.UnratedText(u))
	}
	p.HiddenUnrated = hidden
	p.Connectors, p.Period, p.Rejects = connectorRows(rep.Connectors)
	for _, c := range p.Connectors {
		if c.NotLogged > 0 {
			p.NotLoggedNote = health.NotLoggedNote
		}
	}
	problems, hidden := visibleProblems(access, rep.Problems)
	p.ProblemsTotal, p.HiddenProblems = len(problems), hidden
	for i, pr := range problems {
		if i == maxPageProblems {
			break
		}
		row := problemRow{Kind: string(pr.Kind), Record: pr.Source + "/" + pr.ID, Field: pr.Field, Reason: pr.Reason}
		if access.CanReadKind(string(pr.Kind)) {
			row.URL = recordHref(domain.Key{Kind: pr.Kind, Source: pr.Source, ID: pr.ID})
		}
		p.Problems = append(p.Problems, row)
	}
	for _, c := range s.visibleReconciliations(access, checks) {
		// The metric page at the check's own date and window: where the
		// figure compared came from. Its figures are in the currency in
		// force at that date, not the page's.
		cur := s.currencyAt(c.AsOf)
		at := q.With("as_of", c.AsOf.UTC().Format(time.RFC3339)).With("window", c.Window)
		row := checkRow{Name: c.Name, URL: metricHref(at, c.Metric, "", ""),
			AsOf: c.AsOf.UTC().Format("2 Jan 2006 15:04 MST"), Window: catalog.WindowNote(c.AsOf, c.Window),
			Expected: scorecard.FormatValue(&c.Expected, c.Unit, cur), Actual: scorecard.FormatValue(c.Actual, c.Unit, cur),
			Difference: "—", DiffPct: reconcile.Pct(c.DifferencePct), Source: c.Source, Note: c.Note,
			Checked: c.CheckedAt.UTC().Format("2 Jan 2006 15:04 MST"), Reason: c.Reason, Warning: c.Warning, Status: statusView(c.Status)}
		if c.Difference != nil {
			row.Difference = scorecard.FormatValue(c.Difference, c.Unit, cur)
			if *c.Difference > 0 {
				row.Difference = "+" + row.Difference
			}
		}
		p.Checks = append(p.Checks, row)
	}
	return p
}

// groupThousandsInt writes a count with thousands separators (12,345).
func groupThousandsInt(n int) string { return chart.Number(float64(n)) }

// newestView is a kind's newest data as the pages say it (the "newest"
// partial): Text is its time, "period open", or "" when there is none.
type newestView struct {
	Text string
	// Open: a period of the kind has begun and not ended at the page's
	// time (Text says so rather than give that time).
	Open bool
}

// newestData words a kind's newest data at asOf, for the sources page's
// table and a metric page's Sources row alike. A period begun and not
// ended (a quarter's quota, this month's budget) has data up to the
// page's time by SPEC §3, which as a time read as invented: it is
// "period open".
func newestData(kind string, last *time.Time, asOf time.Time) newestView {
	switch {
	case last == nil:
		return newestView{}
	case scorecard.PeriodOpen(domain.Kind(kind), last, asOf):
		return newestView{Text: scorecard.PeriodOpenText, Open: true}
	}
	return newestView{Text: last.UTC().Format("2 Jan 2006 15:04 MST")}
}

// connectorRows lays the connectors' health out for the page, with their
// refused deliveries together, newest first.
func connectorRows(cs []health.Connector) (rows []connectorRow, period string, rejects []rejectRow) {
	for _, c := range cs {
		period = c.Period
		row := connectorRow{Source: c.Source, Feeds: strings.Join(c.Kinds, ", "), Limit: c.Limit, Status: connectorStatus(c.Status),
			Accepted: c.Counts["accepted"], Duplicate: c.Counts["duplicate"], Ignored: c.Counts["ignored"], Rejected: c.Counts["rejected"],
			NotLogged: c.NotLogged}
		if c.LastOK != nil {
			row.LastWorked = *c.LastOK
		}
		if r := c.LastSync; r != nil {
			row.Sync = fmt.Sprintf("last sync %s: %s, %s, %d accepted, %d rejected", datetime(r.FinishedAt), r.Outcome, plural.Count(r.Pages, "page"), r.Accepted, r.Rejected)
			if c.LastSyncOK != nil && r.Outcome != "ok" {
				row.Sync += " (last successful " + datetime(*c.LastSyncOK) + ")"
			}
		}
		for _, e := range c.SyncErrors {
			row.SyncErrors = append(row.SyncErrors, datetime(e.FinishedAt)+": "+e.Error)
		}
		for _, rj := range c.Rejects {
			rejects = append(rejects, rejectRow{Source: c.Source, Delivery: rj.DeliveryID, Event: rj.Event, Reason: rj.Reason, At: rj.At})
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rejects, func(a, b rejectRow) int { return b.At.Compare(a.At) })
	if len(rejects) > maxPageRejects {
		rejects = rejects[:maxPageRejects]
	}
	return rows, period, rejects
}

package web

import (
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/customer"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// The customer routes: one customer's records together (/customers/{id})
// and the customers showing risk signals (/customers), computed by
// internal/customer. A reader sees of a customer what the drill-downs of
// the metrics they may see show: the records of a kind one of those metrics
// reads (a support lead sees logo churn's subscriptions, CSAT's surveys and
// SLA adherence's tickets), without amounts where a drill-down hides them
// (HidesRevenueOf), each record linked to its page only for who may read
// the kind (CanReadKind), as the records tables link them.

// customerKinds are the kinds whose records name a customer (SPEC §1).
var customerKinds = []domain.Kind{domain.KindSubscription, domain.KindTicket, domain.KindSurvey, domain.KindMeasurement}

// customersPageParams: the carried ones, month, at_risk's absence (the
// page is the at-risk list) and its table's page.
var customersPageParams = append(slices.Clone(monthPageParams), "limit", "offset")

// customerOptions is what the reader may see of customers; a reader who
// may see none of the kinds is refused.
func (s *Server) customerOptions(access auth.Access) (customer.Options, error) {
	opt := customer.Options{Hide: map[domain.Kind]bool{}, HideAmounts: access.HidesRevenueOf(string(domain.KindSubscription))}
	shown := 0
	for _, k := range customerKinds {
		switch {
		case !s.seesKind(access, k):
			opt.Hide[k] = true
		case k != domain.KindMeasurement:
			shown++
		}
	}
	// Measurements alone carry no signal and no customer's story: a
	// reader who sees only those (an engineering view's custom metric)
	// would get an empty list and pages of numbers without context.
	if shown == 0 {
		return opt, domain.Errorf(domain.EForbidden, "customers are seen through the metrics that read their records: your roles see no metric reading subscriptions, tickets or surveys")
	}
	return opt, nil
}

// seesKind: the reader may read the kind's records, or a metric they may
// see reads it — its drill-down lists them.
func (s *Server) seesKind(access auth.Access, k domain.Kind) bool {
	if access.CanReadKind(string(k)) {
		return true
	}
	ms := s.Catalog.MetricsInForce()
	for i := range ms {
		m := &ms[i]
		if access.CanSeeMetric(m) && m.Reads(string(k)) {
			return true
		}
	}
	return false
}

// seesCustomers says customer pages may be linked for the reader.
func (s *Server) seesCustomers(access auth.Access) bool {
	_, err := s.customerOptions(access)
	return err == nil
}

// customerHref is a customer's page; its name escaped as one segment.
func customerHref(name string) string { return "/customers/" + url.PathEscape(name) }

// customerWindow is the window asked, else the default.
func customerWindow(opt scorecard.Options) time.Duration {
	if opt.Window > 0 {
		return opt.Window
	}
	return customer.DefaultWindow
}

// customerJudge judges the freshness of the data the customer routes read
// as the data sources page does: by the limits of the metrics in force and
// the configured connectors feeding a state kind (opt.Connectors, read by
// feeds as the scorecard's cards read them), naming a connector only to a
// reader who may read the data sources page (sources:read).
func (s *Server) customerJudge(r *http.Request, opt scorecard.Options) customer.Judge {
	return customer.Judge{Catalog: s.Catalog, Connectors: opt.Connectors, Unnamed: !s.access(r).Can(auth.SourcesRead)}
}

// withoutConnectorHealth lets a customer route go on when the
// connectors' health cannot be read (connectorHealthError): it is logged,
// and the freshness of the data is judged without it — a state kind is
// then not judged — rather than failing the page, which had answered 500.
func (s *Server) withoutConnectorHealth(r *http.Request, err error) error {
	var ce *connectorHealthError
	if errors.As(err, &ce) {
		s.logger(r).Warn("reading connector health for the customers' data freshness; state kinds are not judged by their connectors", "err", ce.err)
		return nil
	}
	return err
}

// customerOf computes the customer the path names as of the request's
// as_of.
func (s *Server) customerOf(r *http.Request, opt scorecard.Options) (*customer.Customer, customer.Options, error) {
	co, err := s.customerOptions(s.access(r))
	if err != nil {
		return nil, co, err
	}
	j := s.customerJudge(r, opt)
	name := r.PathValue("id")
	var c *customer.Customer
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		var err error
		c, err = customer.Page(ds, j, name, opt.AsOf, customerWindow(opt), co)
		return err
	})
	return c, co, err
}

// customersList computes the customer list as of the request's as_of:
// every customer, or those showing a risk signal.
func (s *Server) customersList(r *http.Request, opt scorecard.Options, atRisk bool) (customer.List, error) {
	co, err := s.customerOptions(s.access(r))
	if err != nil {
		return customer.List{}, err
	}
	j := s.customerJudge(r, opt)
	var l customer.List
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		l = customer.ListOf(ds, j, opt.AsOf, customerWindow(opt), co, atRisk)
		return nil
	})
	return l, err
}

// kindDataView is a kind's freshness as the customer pages show it:
// "tickets as of 6 Dec 2026 10:40 UTC"; stale or never sent marked with
// the data sources page's status (Bad) and worded without it ("Stale
// tickets as of …, older than its 1d limit"), a state kind nothing judges
// in muted ink.
type kindDataView struct {
	Noun, Words string
	Bad, Muted  bool
	Status      StatusView
}

// dataViews lays the kinds' freshness out for a customer page, with the
// warning of the signals stale or missing data may undercount.
func dataViews(data []customer.KindData) ([]kindDataView, string) {
	var out []kindDataView
	for _, d := range data {
		v := kindDataView{Noun: d.Noun(), Words: d.Words(), Bad: d.Bad(), Muted: d.Status == scorecard.KindNotJudged, Status: kindStatus(d.Status)}
		if v.Bad {
			// The status beside it says stale or never sent.
			v.Words = d.Detail()
		}
		out = append(out, v)
	}
	return out, customer.DataWarning(data)
}

// customerJSON is the API's customer: the window written as the other
// reads write it.
type customerJSON struct {
	*customer.Customer
	Window string `json:"window"`
}

// getCustomer is one customer's records and signals.
func (s *Server) getCustomer(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err = s.withoutConnectorHealth(r, err); err != nil {
		s.writeError(w, r, err)
		return
	}
	c, _, err := s.customerOf(r, opt)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, customerJSON{c, catalog.FormatWindow(c.Window)})
}

// getCustomers lists the customers: with at_risk=1 (or true) those showing
// a risk signal, worst first; without it every customer the reader may
// see, in the same order.
func (s *Server) getCustomers(w http.ResponseWriter, r *http.Request) {
	opt, err := s.options(r)
	if err = s.withoutConnectorHealth(r, err); err != nil {
		s.writeError(w, r, err)
		return
	}
	atRisk, err := boolParam(r, "at_risk")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	l, err := s.customersList(r, opt, atRisk)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"as_of": l.AsOf, "window": catalog.FormatWindow(l.Window), "at_risk": atRisk,
		"currency": l.Currency, "amounts_hidden": l.HideAmounts, "hidden_kinds": l.Hidden, "customers_considered": l.Considered, "customers": l.Customers,
		"data": l.Data})
}

// customerPageData is the Data of a customer's page.
type customerPageData struct {
	C          *customer.Customer
	WindowText string
	Since      time.Time
	// MRR is the three MRR cells: now, 30 days and a year before.
	MRR []mrrCell
	// Subscriptions, Tickets, Surveys, Measurements and Releases are the
	// tables' rows.
	Subscriptions []customerRecordRow
	Tickets       []customerRecordRow
	Surveys       []customerRecordRow
	Measurements  []customerRecordRow
	Releases      []customerReleaseRow
	// Hidden says what the reader may not see, in words; "" for nothing;
	// Show* say which kinds' tables are shown.
	Hidden                                      string
	ShowSubscriptions, ShowTickets, ShowSurveys bool
	// ListHref is the at-risk list at the page's date.
	ListHref string
	// Data is the freshness of each kind the page reads, DataWarning
	// what stale or missing data may undercount ("" for nothing).
	Data        []kindDataView
	DataWarning string
	// More counts each table's rows beyond maxCustomerTableRows, which
	// the JSON API (API) lists.
	More struct{ Subscriptions, Tickets, Surveys, Measurements, Releases int }
	API  string
}

// maxCustomerTableRows bounds each table of a customer's page.
const maxCustomerTableRows = 50

// capRows keeps the first maxCustomerTableRows rows and counts the rest.
func capRows[T any](rows []T) ([]T, int) {
	if len(rows) <= maxCustomerTableRows {
		return rows, 0
	}
	return rows[:maxCustomerTableRows], len(rows) - maxCustomerTableRows
}

// mrrCell is one MRR figure: its label, value (or why none) and its change
// to now.
type mrrCell struct {
	Label, Value, Note, Change string
}

// customerRecordRow is a row of a customer's tables: its record's id and
// page ("" for a reader who may not read the kind) and its cells.
type customerRecordRow struct {
	ID, Href string
	// Badge says an open ticket or an active subscription; Mark a
	// signal the row carries (a breached SLA, a detractor), in words.
	Badge, Mark string
	Cells       []customerCell
}

// customerCell is a cell of a customer's table; Href opens what it names
// (a ticket's release).
type customerCell struct {
	Label, Text, Href string
	Num               bool
}

type customerReleaseRow struct {
	ID, Href, Tickets, Surveys string
	Missing                    bool
}

// customerPage shows one customer's records together.
func (s *Server) customerPage(w http.ResponseWriter, r *http.Request) {
	q, opt, err := s.pageQuery(r)
	if err = s.withoutConnectorHealth(r, err); err != nil {
		s.pageError(w, r, err)
		return
	}
	c, _, err := s.customerOf(r, opt)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	access := s.access(r)
	data := &customerPageData{C: c, WindowText: catalog.WindowWords(c.Window), Since: c.AsOf.Add(-c.Window), ListHref: q.URL("/customers")}
	data.Data, data.DataWarning = dataViews(c.Data)
	cur := c.Currency
	money := func(v *float64, cur string) string {
		if v == nil {
			return "—"
		}
		return scorecard.Amount(*v) + " " + cur
	}
	if c.MRR != nil {
		for _, p := range []struct {
			label string
			pt    *customer.MRRPoint
		}{{"MRR now", c.MRR}, {"30 days before", c.MRRMonthAgo}, {"365 days before", c.MRRYearAgo}} {
			cell := mrrCell{Label: p.label, Value: money(p.pt.Value, cur), Note: p.pt.Note}
			if p.pt != c.MRR && p.pt.Value != nil && c.MRR.Value != nil {
				d := *c.MRR.Value - *p.pt.Value
				switch {
				case math.Abs(d) < 0.005:
					cell.Change = "unchanged since then"
				default:
					cell.Change = "now " + customer.SignedAmount(d) + " " + cur
					if *p.pt.Value > 0 {
						cell.Change += " (" + customer.Percent(100*d/(*p.pt.Value)) + ")"
					}
				}
			}
			data.MRR = append(data.MRR, cell)
		}
	}
	link := func(k domain.Kind, source, id string) string {
		if !access.CanReadKind(string(k)) {
			return ""
		}
		return q.URL(recordHref(domain.Key{Kind: k, Source: source, ID: id}))
	}
	depLink := map[string]string{}
	for _, rel := range c.Releases {
		row := customerReleaseRow{ID: rel.ID, Tickets: strconv.Itoa(rel.Tickets), Surveys: strconv.Itoa(rel.Surveys), Missing: rel.Deployment == nil}
		if d := rel.Deployment; d != nil {
			row.Href = link(d.Kind, d.Source, d.ID)
			depLink[rel.ID] = row.Href
		}
		data.Releases = append(data.Releases, row)
	}
	cell := func(label, text string) customerCell {
		if text == "" {
			text = "—"
		}
		return customerCell{Label: label, Text: text}
	}
	release := func(id string) customerCell {
		x := cell("Release", id)
		x.Href = depLink[id]
		return x
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006")
	}
	stamp := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format("2 Jan 2006 15:04")
	}
	for _, x := range c.Subscriptions {
		row := customerRecordRow{ID: x.ID, Href: link(domain.KindSubscription, x.Source, x.ID),
			Cells: []customerCell{cell("Plan", x.Plan), cell("Started", day(&x.Started)), cell("Ended", day(x.Ended))}}
		if x.Active {
			row.Badge = "active"
		}
		if !c.HideAmounts {
			row.Cells = append(row.Cells, customerCell{Label: "MRR", Text: money(x.MRR, x.Currency), Num: true})
		}
		data.Subscriptions = append(data.Subscriptions, row)
	}
	for _, x := range c.Tickets {
		resolved := stamp(x.Resolved)
		row := customerRecordRow{ID: x.ID, Href: link(domain.KindTicket, x.Source, x.ID),
			Cells: []customerCell{cell("Created", stamp(&x.Created)), cell("Priority", x.Priority), cell("Resolved", resolved),
				cell("SLA due", stamp(x.SLADue)), cell("SLA", x.SLAWords), cell("Escalated", yesNo(x.Escalated)), release(x.Release)}}
		if x.Open {
			row.Badge = "open"
		}
		if x.SLA == "breached" {
			row.Mark = "SLA breached"
		}
		data.Tickets = append(data.Tickets, row)
	}
	for _, x := range c.Surveys {
		row := customerRecordRow{ID: x.ID, Href: link(domain.KindSurvey, x.Source, x.ID),
			Cells: []customerCell{cell("At", stamp(&x.At)), cell("Type", strings.ToUpper(x.Type)),
				{Label: "Score", Text: strconv.FormatFloat(x.Score, 'f', -1, 64), Num: true}, release(x.Release)}}
		if x.Detractor {
			row.Mark = map[string]string{"nps": "detractor", "csat": "dissatisfied"}[x.Type]
		}
		data.Surveys = append(data.Surveys, row)
	}
	for _, x := range c.Measurements {
		v := strconv.FormatFloat(x.Value, 'f', -1, 64)
		if x.Unit != "" {
			v += " " + x.Unit
		}
		data.Measurements = append(data.Measurements, customerRecordRow{ID: x.ID, Href: link(domain.KindMeasurement, x.Source, x.ID),
			Cells: []customerCell{cell("At", stamp(&x.At)), cell("Metric", x.Metric), {Label: "Value", Text: v, Num: true}}})
	}
	// A customer of some years has hundreds of tickets: the page keeps
	// the first of each table (the open tickets and the newest), and says
	// how many more the JSON API lists.
	data.Subscriptions, data.More.Subscriptions = capRows(data.Subscriptions)
	data.Tickets, data.More.Tickets = capRows(data.Tickets)
	data.Surveys, data.More.Surveys = capRows(data.Surveys)
	data.Measurements, data.More.Measurements = capRows(data.Measurements)
	data.Releases, data.More.Releases = capRows(data.Releases)
	data.API = "/api/v1/customers/" + url.PathEscape(c.Name)
	data.ShowSubscriptions = !slices.Contains(c.Hidden, domain.KindSubscription)
	data.ShowTickets = !slices.Contains(c.Hidden, domain.KindTicket)
	data.ShowSurveys = !slices.Contains(c.Hidden, domain.KindSurvey)
	data.Hidden = hiddenWords(c.Hidden, c.HideAmounts)
	pg := s.newPage(r, "Customer "+c.Name, q, data)
	pg.Controls, pg.NoFilters, pg.AsOf = true, true, c.AsOf
	// No month before the customer was one: those pages are 404s.
	pg.MonthsFrom = c.First
	pg.WindowDefault = catalog.WindowWords(customer.DefaultWindow)
	s.render(w, r, http.StatusOK, "customer", pg)
}

// hiddenWords says what a reader may not see of customers.
func hiddenWords(kinds []domain.Kind, amounts bool) string {
	var parts []string
	var names []string
	for _, k := range kinds {
		// Measurements are a section only where there are some: a notice
		// of ones hidden on every page read as something missing.
		if k != domain.KindMeasurement {
			names = append(names, idWords(string(k))+"s")
		}
	}
	if len(names) > 0 {
		parts = append(parts, "Not shown: "+plural.And(names)+" — no metric your roles see reads them.")
	}
	if amounts {
		parts = append(parts, "Amounts are not shown: subscriptions' MRR needs revenue:read, so MRR contraction is not among the signals either.")
	}
	return strings.Join(parts, " ")
}

// customersPageData is the Data of the at-risk list.
type customersPageData struct {
	L          customer.List
	WindowText string
	Rows       []riskRow
	Page       pager
	Hidden     string
	// Data is the freshness of each kind the signals read, DataWarning
	// what stale or missing data may undercount ("" for nothing).
	Data        []kindDataView
	DataWarning string
}

// riskRow is a customer of the list: its page, current MRR and signals.
type riskRow struct {
	Name, Href, MRR, AtStake string
	Signals                  []customer.Signal
}

// customersPage lists the customers showing a risk signal, worst first.
func (s *Server) customersPage(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := pageParams(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	q, opt, err := s.pageQuery(r)
	if err = s.withoutConnectorHealth(r, err); err != nil {
		s.pageError(w, r, err)
		return
	}
	l, err := s.customersList(r, opt, true)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data := &customersPageData{L: l, WindowText: catalog.WindowWords(l.Window), Hidden: hiddenWords(l.Hidden, l.HideAmounts)}
	data.Data, data.DataWarning = dataViews(l.Data)
	// Links hold the as_of the list was computed at, as the releases
	// list's do, so its pages are one list.
	lq := q
	if lq.AsOf == "" {
		lq.AsOf = l.AsOf.Format(time.RFC3339)
	}
	lim := ""
	if limit != defaultPageRows {
		lim = strconv.Itoa(limit)
	}
	rows := pageRows(l.Customers, offset, limit)
	for _, c := range rows {
		row := riskRow{Name: c.Customer, Href: lq.URL(customerHref(c.Customer)), Signals: c.Signals, MRR: "—", AtStake: "—"}
		if c.MRR != nil {
			row.MRR = scorecard.Amount(*c.MRR)
			row.AtStake = scorecard.Amount(*c.AtStake)
		}
		data.Rows = append(data.Rows, row)
	}
	data.Page = newPager(len(l.Customers), offset, limit, len(rows), func(offset string) string {
		return lq.URL("/customers", "limit", lim, "offset", offset) + "#sec-customers"
	})
	pg := s.newPage(r, "At-risk customers", q, data)
	pg.Controls, pg.NoFilters, pg.AsOf = true, true, l.AsOf
	pg.WindowDefault = catalog.WindowWords(customer.DefaultWindow)
	s.render(w, r, http.StatusOK, "customers", pg)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

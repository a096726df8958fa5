package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// recordPageData is the Data of a record's page.
type recordPageData struct {
	// Crumbs lead back to where the record was opened from (recordCrumbs).
	Crumbs []crumb
	Rec    *StoredRecord
	Fields []recordField
	// SourceURL links to where the record came from; "" when unknown.
	SourceURL string
	// Metrics are the metrics computed from records of this kind that
	// the reader may see: where the record may be behind a value.
	Metrics []metricLink
	// Gates are a deployment's release gate decisions (by service,
	// environment and version) and Retro its retro-validation.
	Gates []gate.Result
	Retro *gate.RetroValidation
	// Impact is a production deployment's customer impact (releases.go);
	// TicketsReadable says its tickets may be linked.
	Impact          *metrics.ReleaseImpact
	TicketsReadable bool
	// ImpactRank is its release impact score and place among the releases
	// of the ImpactWindow before as_of: the release impact score's window
	// in force then, or the one the page was asked for (ImpactWindowAsked);
	// nil when it finished before that.
	ImpactRank        *metrics.ReleaseRank
	ImpactWindow      string
	ImpactWindowAsked bool
	ImpactAsOf        time.Time
	Watch             *gate.Watch
	// Links are what tie a production deployment to its failure (the
	// deployment rolling it back, the incidents attributed to it) or an
	// incident to its deployment, as of the page's time (SPEC §2), so a
	// failure counted on change failure rate can be traced to its cause.
	Links *recordLinks
}

// recordLinks is a record page's links panel.
type recordLinks struct {
	AsOf time.Time
	// Deployment: Failed says why it counts as failed ("" when it does
	// not), Rows the records that made it.
	Deployment bool
	Failed     string
	// Incident: Rows holds its deployment, none when it has none.
	Rows []linkRow
}

// linkRow is one linked record: its page (when the reader may read its
// kind) and how it was linked, in words.
type linkRow struct{ Kind, ID, Href, How string }

// recordField is one top-level field of a stored record as the page shows
// it: text as stored, numbers as written, nested values as compact JSON.
type recordField struct {
	Name, Text string
	// Time is set for a text that is an RFC 3339 time, to show it too in
	// the pages' own form.
	Time *time.Time
	// JSON says Text is JSON (an object, an array, null).
	JSON bool
	// Note words the value further: a period's end as its last day.
	Note string
	// Items are a list of references shown one by one, each linked to
	// its record's page when it names one (a deployment's changes); nil
	// shows Text.
	Items []fieldItem
}

// fieldItem is one id of a list of references, Href its record's page
// ("" when it names none the reader may open); Missing says it names no
// record (or several), to a reader who may read the kind.
type fieldItem struct {
	Text, Href string
	Missing    bool
	// What is the kind it names, for "(no such …)".
	What string
}

type metricLink struct{ Name, Href string }

// recordPage shows one stored record field by field, with its provenance.
func (s *Server) recordPage(w http.ResponseWriter, r *http.Request) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	rec, err := s.readableRecord(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	kind, access := rec.Kind, s.access(r)
	data := &recordPageData{Rec: rec, SourceURL: recordSourceURL(rec.Record)}
	data.Crumbs = recordCrumbs(q, s.recordOpenedFrom(r, access), r.URL.Query().Get("scope"), kind)
	if data.Fields, err = recordFields(rec.Record); err != nil {
		s.pageError(w, r, fmt.Errorf("record %s: %w", domain.Key{Kind: kind, Source: rec.Source, ID: rec.ID}, err))
		return
	}
	// In the currency in force at the page's as_of (opt.AsOf: without
	// as_of, the minute the page is computed at), as its links and impact
	// are computed; the clock read again had been a minute apart.
	moneyFields(data.Fields, s.currencyAt(opt.AsOf))
	if s.seesCustomers(access) && slices.Contains(customerKinds, kind) {
		linkCustomer(data.Fields, q)
	}
	ms := s.Catalog.MetricsInForce()
	for i := range ms {
		m := &ms[i]
		if access.CanSeeMetric(m) && m.Reads(string(kind)) {
			data.Metrics = append(data.Metrics, metricLink{m.Name, q.URL("/metrics/" + m.ID)})
		}
	}
	if kind == domain.KindTicket {
		slaNote(data.Fields, opt.AsOf)
		if err := s.linkResolved(r, q, data.Fields, "release", domain.KindDeployment, "", func(ds *metrics.Dataset, id string) (metrics.LinkedRecord, bool) {
			return ds.TicketRelease(rec.Source, id, opt.AsOf)
		}); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if kind == domain.KindLead {
		if err := s.linkResolved(r, q, data.Fields, "opportunity", domain.KindOpportunity, "opportunity", func(ds *metrics.Dataset, id string) (metrics.LinkedRecord, bool) {
			return ds.LeadOpportunity(rec.Source, id, opt.AsOf)
		}); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if kind == domain.KindDeployment || kind == domain.KindIncident {
		if data.Links, err = s.recordLinks(r, rec, q, opt.AsOf); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if kind == domain.KindDeployment {
		if err := s.linkChanges(r, rec, q, data.Fields); err != nil {
			s.pageError(w, r, err)
			return
		}
		if err := s.deploymentGates(r, rec, data); err != nil {
			s.pageError(w, r, err)
			return
		}
		if err := s.deploymentImpact(r, rec, opt.AsOf, opt.Window, data); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	pg := s.newPage(r, fmt.Sprintf("%s %s", idWords(string(kind)), rec.ID), q, data)
	// Rendered with the pages of the currency of its as_of, as its fields.
	pg.AsOf, pg.QuietClosing = opt.AsOf, true
	s.render(w, r, http.StatusOK, "record", pg)
}

// slaNote words a ticket's SLA due time against its resolution as of the
// page's time, as SLA adherence judges it (resolved_at ≤ sla_due_at is
// met; a resolution after asOf has not happened yet): the page had shown
// an open ticket hours past its due time with nothing to say so.
func slaNote(fields []recordField, asOf time.Time) {
	var due, res *time.Time
	at := -1
	for i, f := range fields {
		switch f.Name {
		case "sla_due_at":
			due, at = f.Time, i
		case "resolved_at":
			res = f.Time
		}
	}
	if due == nil {
		return
	}
	if res != nil && res.After(asOf) {
		res = nil
	}
	span := func(a, b time.Time) string { return scorecard.SpanWords(b.Sub(a)) }
	var note string
	switch {
	case res != nil && res.Equal(*due):
		note = "met: resolved at the due time"
	case res != nil && res.Before(*due):
		note = "met: resolved " + span(*res, *due) + " before it"
	case res != nil:
		note = "breached: resolved " + span(*due, *res) + " after it"
	case asOf.After(*due):
		note = "breached: still open " + span(*due, asOf) + " after it, at " + asOf.UTC().Format("2 Jan 2006 15:04 MST")
	default:
		note = "open: due in " + span(asOf, *due) + ", at " + asOf.UTC().Format("2 Jan 2006 15:04 MST")
	}
	fields[at].Note = note
}

// recordPageParams are the record page's query parameters: the carried
// ones, and the metric and scope it was opened from, for its breadcrumb
// (closing too: the metric's page it leads back to reads it).
var recordPageParams = append(slices.Clone(queryKeys), "closing", "metric", "scope")

// crumb is one step of a page's breadcrumb; Href is "" for the page itself.
type crumb struct{ Text, Href string }

// recordFrom is what a link from a metric's page to one of its records
// carries besides the Query — the metric, and its page's scope parameter —
// so that the record's breadcrumb leads back to the line it was reached
// from (recordCrumbs); the filters travel in the Query already.
func recordFrom(metric string, st metricState) []string {
	return []string{"metric", metric, "scope", st.Scope}
}

// recordOpenedFrom is the metric named by a record page's metric parameter,
// nil when it names none the reader may see. Not an error: the parameter
// only leads back to where the reader came from, and a link passed on to a
// reader who may not see the metric (or one since retired) still opens the
// record, with the plain breadcrumb, and says nothing of the metric.
func (s *Server) recordOpenedFrom(r *http.Request, access auth.Access) *catalog.Metric {
	id := r.URL.Query().Get("metric")
	if id == "" {
		return nil
	}
	m, ok := s.Catalog.Metric(id)
	if !ok || !access.CanSeeMetric(m) {
		return nil
	}
	return m
}

// recordCrumbs is a record page's breadcrumb. Opened from a metric's
// records (from, else nil), it leads back through the metric to the line
// the records were listed under — the page's filters and the metric page's
// scope — and to the records table there: it had led to the scorecard
// alone, and a reader who came from a breakdown line (team payments) had
// to find the metric and the line again. The metric's own step is the whole
// organisation's value, at the breakdown by the line's dimension when the
// line has one. A scope that does not parse is left out.
func recordCrumbs(q Query, from *catalog.Metric, scope string, kind domain.Kind) []crumb {
	out := []crumb{{"Scorecard", q.URL("/")}}
	last := crumb{Text: idWords(string(kind)) + " records"}
	if from == nil {
		return append(out, last)
	}
	path := "/metrics/" + from.ID
	var parts []string
	var dims []string
	for _, f := range q.Filters() {
		parts, dims = append(parts, idWords(f.Dim)+" "+f.Value), append(dims, f.Dim)
	}
	if ps, err := metrics.ParseScope(scope); err == nil && scope != "" {
		for _, f := range ps.Filters() {
			parts, dims = append(parts, idWords(f.Dim)+" "+f.Value), append(dims, f.Dim)
		}
	} else {
		scope = ""
	}
	if len(parts) == 0 {
		return append(out, crumb{from.Name, q.URL(path) + "#records"}, last)
	}
	whole := Query{AsOf: q.AsOf, Window: q.Window}
	top := whole.URL(path)
	if len(dims) == 1 && slices.Contains(scorecard.Dims(from), dims[0]) {
		top = whole.URL(path, "by", dims[0]) + "#breakdown"
	}
	return append(out, crumb{from.Name, top}, crumb{strings.Join(parts, " · "), q.URL(path, "scope", scope) + "#records"}, last)
}

// recordFields lists a stored body's top-level fields in their stored
// order.
func recordFields(body []byte) ([]recordField, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("the stored body is not a JSON object")
	}
	var out []recordField
	// A period's start comes before its end in the canonical order.
	var start time.Time
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		f := recordField{Name: name}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		switch x := v.(type) {
		case string:
			f.Text = x
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				t = t.UTC()
				f.Time = &t
				// A period's end is exclusive: a date is the end of the
				// day before, the period's last day, as the pages word it
				// elsewhere (the quota pace "1 Oct 2026 – 31 Dec 2026").
				if name == "period_start" {
					start = t
				}
				if day, ok := scorecard.PeriodEndText(start, t); ok && name == "period_end" {
					f.Note = "until then: the period's last day is " + day
				}
			}
		case json.Number:
			f.Text = x.String()
		case bool:
			f.Text = cellText(x)
		default:
			var b bytes.Buffer
			if err := json.Compact(&b, raw); err != nil {
				return nil, err
			}
			f.Text, f.JSON = b.String(), true
		}
		out = append(out, f)
	}
	return out, nil
}

// moneyFields writes a record's amounts of money (its amount or mrr,
// scorecard.MoneyColumn) as the records tables and the metric pages do, to
// the cent with thousands grouped and the currency — the record's own, else
// the organisation's, which ingestion gave it — the stored number beside it:
// a subscription's mrr had read "11797.76" here and "11,797.76" in USD in
// the records table.
func moneyFields(fields []recordField, orgCurrency string) {
	cur := orgCurrency
	for _, f := range fields {
		if f.Name == "currency" && domain.IsCurrency(f.Text) {
			cur = f.Text
		}
	}
	for i, f := range fields {
		if f.JSON || f.Time != nil || !scorecard.MoneyColumn(f.Name, "", false) {
			continue
		}
		x, err := strconv.ParseFloat(f.Text, 64)
		if err != nil {
			continue
		}
		fields[i].Note = "stored as " + f.Text
		fields[i].Text = scorecard.Amount(x) + " " + cur
	}
}

// linkCustomer links a record's customer to the customer's page, where its
// subscriptions, tickets and surveys are together.
func linkCustomer(fields []recordField, q Query) {
	i := slices.IndexFunc(fields, func(f recordField) bool { return f.Name == "customer" && !f.JSON && f.Text != "" })
	if i >= 0 {
		fields[i].Items = []fieldItem{{Text: fields[i].Text, Href: q.URL(customerHref(fields[i].Text))}}
	}
}

// linkChanges shows a deployment's changes field as its change ids, each
// linked to the change's page when it names one (SPEC §2: the change of the
// deployment's source, else the only one with the id) and the reader may
// read changes; it had been the raw JSON array.
func (s *Server) linkChanges(r *http.Request, rec *StoredRecord, q Query, fields []recordField) error {
	i := slices.IndexFunc(fields, func(f recordField) bool { return f.Name == "changes" && f.JSON })
	if i < 0 {
		return nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(fields[i].Text), &ids); err != nil || len(ids) == 0 {
		return nil // not a list of ids: shown as stored
	}
	items := make([]fieldItem, len(ids))
	for j, id := range ids {
		items[j].Text = id
	}
	if s.access(r).CanReadKind(string(domain.KindChange)) {
		err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
			for j, id := range ids {
				if l, ok := ds.ListedChange(rec.Source, id); ok {
					items[j].Href = q.URL(recordHref(domain.Key{Kind: l.Kind, Source: l.Source, ID: l.ID}))
				} else {
					items[j].Missing = true
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fields[i].Items = items
	return nil
}

// linkResolved links a record's field naming another record — a ticket's
// release (its deployment's page, where the release's customer impact is),
// a lead's opportunity (the deal behind "won": its amount and close) — to
// that record's page, resolved as the metrics resolve it as of asOf. A
// value naming no record by then (or several) is marked so: the metrics do
// not count it either. Nothing is linked for a reader who may not read the
// kind linked to.
func (s *Server) linkResolved(r *http.Request, q Query, fields []recordField, name string, kind domain.Kind, what string,
	resolve func(ds *metrics.Dataset, value string) (metrics.LinkedRecord, bool)) error {
	i := slices.IndexFunc(fields, func(f recordField) bool { return f.Name == name && !f.JSON })
	if i < 0 || !s.access(r).CanReadKind(string(kind)) {
		return nil
	}
	item := fieldItem{Text: fields[i].Text, What: what}
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		if l, ok := resolve(ds, item.Text); ok {
			item.Href = q.URL(recordHref(domain.Key{Kind: l.Kind, Source: l.Source, ID: l.ID}))
		} else {
			item.Missing = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	fields[i].Items = []fieldItem{item}
	return nil
}

// deploymentGates finds the gate decisions made for a deployment before
// its record existed — the same service, environment and version — and
// its retro-validation.
func (s *Server) deploymentGates(r *http.Request, rec *StoredRecord, data *recordPageData) error {
	var d struct{ Service, Environment, Version string }
	if err := json.Unmarshal(rec.Record, &d); err != nil {
		return err
	}
	if d.Version != "" {
		ds, err := gate.Decisions(r.Context(), s.Store, d.Service)
		if err != nil {
			return err
		}
		for _, g := range ds {
			if strings.EqualFold(g.Release.Environment, d.Environment) && g.Release.Version == d.Version {
				data.Gates = append(data.Gates, s.gateView(r, g))
			}
		}
	}
	var err error
	if data.Retro, err = gate.RetroValidationOf(r.Context(), s.Store, rec.Source+"/"+rec.ID); err != nil {
		return err
	}
	data.Watch, err = gate.WatchOf(r.Context(), s.Store, rec.Source+"/"+rec.ID)
	return err
}

// recordLinks finds what links a deployment to its failure, or an incident
// to its deployment, as of asOf; nil for a deployment outside production
// (never counted) or one not finished by then.
func (s *Server) recordLinks(r *http.Request, rec *StoredRecord, q Query, asOf time.Time) (*recordLinks, error) {
	access := s.access(r)
	var out *recordLinks
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// Under the attribution window and production names in force at
		// asOf, as change failure rate counts then: today's had traced a
		// failure the metric as of then did not count, "within" today's
		// window.
		ds = ds.At(asOf)
		window := catalog.WindowWords(ds.Config().AttributionWindow)
		// A record of a kind the reader may not read is named by its kind
		// alone, as the impact panel leaves out tickets it may not read.
		row := func(l metrics.LinkedRecord, how string) linkRow {
			lr := linkRow{Kind: string(l.Kind), How: how}
			if access.CanReadKind(string(l.Kind)) {
				lr.ID = l.ID
				lr.Href = q.URL(recordHref(domain.Key{Kind: l.Kind, Source: l.Source, ID: l.ID}))
			}
			return lr
		}
		if rec.Kind == domain.KindIncident {
			out = &recordLinks{AsOf: asOf}
			if l, ok := ds.IncidentCauseOf(rec.Source, rec.ID, asOf); ok {
				how := "it names the deployment"
				if l.Method == metrics.Inferred {
					how = "inferred: the service's production deployment that finished last within " + window + " before it opened"
				}
				out.Rows = append(out.Rows, row(l, how))
			}
			return nil
		}
		f, ok := ds.DeploymentFailureOf(rec.Source, rec.ID, asOf)
		if !ok {
			return nil
		}
		out = &recordLinks{AsOf: asOf, Deployment: true, Failed: f.Why}
		if b := f.RolledBackBy; b != nil {
			out.Rows = append(out.Rows, row(*b, "rolls it back"))
		}
		for _, i := range f.Incidents {
			how := "names this deployment as its cause"
			if i.Method == metrics.Inferred {
				how = "inferred: about its service, opened within " + window + " after it finished and before the service's next deployment, naming no cause"
			}
			out.Rows = append(out.Rows, row(i, how))
		}
		return nil
	})
	return out, err
}

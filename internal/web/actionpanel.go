package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
)

// actionPanel is a metric page's record of what its owner is doing about
// it: the action in force for the page's scope, the earlier ones, and a
// form to record one. An amber, red or degrading metric without a current
// action escalates after seven days (SPEC §4); the API had taken actions
// and listed them, but no page showed one.
type actionPanel struct {
	// Attention: the value shown is amber, red, unknown or degrading.
	Attention bool
	Current   *actionRow
	Earlier   []actionRow
	// CanRecord: the reader holds metric:acknowledge.
	CanRecord bool
	// Scope is the scope the page's value is computed under (metrics.Scope's
	// text), which a recorded action is about; ScopeLabel says it in words.
	Scope, ScopeLabel string
	// Post is the form's target: the page's path and query, so a refused
	// form shows the same page again.
	Post string
	// Form holds the values to show: a refused form's, else the defaults.
	Form actionForm
	// Today and LastDay bound the due date.
	Today, LastDay string
	// Escalated is the metric's escalation in the page's scope, when it
	// escalates as of the page's time.
	Escalated *escalation.Escalation
}

// actionRow is one recorded action.
type actionRow struct {
	escalation.Acknowledgement
	// Overdue: its due date has passed at the page's as_of.
	Overdue bool
	// Unit is the metric's, for the value it had when recorded.
	Unit string
	// ByName is who recorded it as a person reads it: a user's e-mail
	// without the "user:" of the audit trail.
	ByName string
}

// actionForm is the action form's values and, when it was refused, why:
// Errors, each under its field's label (every field is checked at once,
// not only the first); Param the first field at fault (focused) and
// Invalid every one.
type actionForm struct {
	Owner, Note, Due string
	Param            string
	Errors           []string
	Invalid          map[string]bool
}

// refuse adds err, the error of field param ("" for none), to the form.
func (f *actionForm) refuse(param string, err error) {
	msg := err.Error()
	if label, ok := actionLabels[param]; ok {
		// The form's label, not the API's field name.
		msg = label + ": " + strings.TrimPrefix(msg, param+": ")
	}
	if f.Param == "" {
		f.Param = param
	}
	if f.Invalid == nil {
		f.Invalid = map[string]bool{}
	}
	f.Invalid[param] = true
	f.Errors = append(f.Errors, msg)
}

// newActionPanel builds the action panel of mp, whose value is computed
// under scope; refused carries a refused form's values and reason. q is
// the page's query (pageQuery), whose as_of and window the form's address
// carries for a month, as every link of the page does.
func (s *Server) newActionPanel(r *http.Request, mp *metricPage, q Query, acks []escalation.Acknowledgement, scope metrics.Scope, refused *actionForm) actionPanel {
	d := mp.D
	now := s.Now().UTC()
	p := actionPanel{
		Attention: escalation.NeedsActionIn(d.Card, scope.String()),
		CanRecord: s.access(r).Can(auth.MetricAcknowledge),
		Scope:     scope.String(),
		Post:      (&url.URL{Path: "/metrics/" + d.Definition.ID + "/acknowledgements", RawQuery: monthAsWindow(r, q)}).String(),
		Today:     now.Format(time.DateOnly),
		LastDay:   now.AddDate(1, 0, 0).Format(time.DateOnly),
	}
	p.ScopeLabel = "the whole organisation"
	if !scope.IsZero() {
		p.ScopeLabel = strings.ReplaceAll(p.Scope, ":", " ")
	}
	row := func(a escalation.Acknowledgement) actionRow {
		return actionRow{Acknowledgement: a, Overdue: a.Overdue(d.AsOf), Unit: d.Card.Unit, ByName: strings.TrimPrefix(a.By, "user:")}
	}
	// Those recorded after the page's time are not shown: they had not
	// happened then.
	by := s.acksBy(r, d.AsOf)
	// The organisation's action counts in a scope without a newer one of
	// its own, as it does for the scope's escalations (escalation.InScope).
	cur := escalation.InScope(acks, d.Definition.ID, p.Scope, by)
	if cur != nil {
		c := row(*cur)
		p.Current = &c
	}
	for _, a := range acks {
		if cur != nil && a.ID == cur.ID || a.At.After(by) {
			continue
		}
		p.Earlier = append(p.Earlier, row(a))
	}
	switch {
	case refused != nil:
		p.Form = *refused
	case cur != nil:
		p.Form.Owner = cur.Owner
	default:
		p.Form.Owner = d.Definition.Owner
	}
	return p
}

// ackForm records an action from a metric page's form, as POST
// /api/v1/metrics/{id}/acknowledgements does, and goes back to the page;
// a refused one shows the page again with why, its values kept.
func (s *Server) ackForm(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	id := r.PathValue("id")
	if err := s.canSeeMetric(s.access(r), id); err != nil {
		s.pageError(w, r, err)
		return
	}
	f := r.PostForm
	in := escalation.Input{Owner: f.Get("owner"), Note: f.Get("note"), Due: f.Get("due"), Scope: f.Get("scope")}
	refused := &actionForm{Owner: in.Owner, Note: in.Note, Due: in.Due}
	if errs := escalation.CheckInput(in, s.Now()); len(errs) > 0 {
		for _, err := range errs {
			refused.refuse(domain.ParamOf(err), err)
		}
		s.showMetricPage(w, r, http.StatusBadRequest, refused)
		return
	}
	if _, err := s.acknowledge(r, id, in); err != nil {
		e := s.describe(r, err)
		if e == nil {
			return
		}
		if e.status >= 500 {
			s.pageError(w, r, err)
			return
		}
		refused.refuse(e.Param, err)
		s.showMetricPage(w, r, e.status, refused)
		return
	}
	back := url.URL{Path: "/metrics/" + id, RawQuery: r.URL.RawQuery, Fragment: "action"}
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

// actionLabels are the action form's labels by the field an error names.
var actionLabels = map[string]string{"owner": "Owner", "note": "What will be done", "due": "Due", "scope": "Scope"}

// ackFormBack sends a GET of the action form's address — a refused form's
// page reloaded, its address bookmarked — to the metric's page.
func (s *Server) ackFormBack(w http.ResponseWriter, r *http.Request) {
	back := url.URL{Path: "/metrics/" + r.PathValue("id"), RawQuery: r.URL.RawQuery, Fragment: "action"}
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}

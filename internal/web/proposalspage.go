package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/adoption"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// The proposals page (/proposals): open definition changes with the
// metric's status when each was proposed beside the change, the decisions
// made, a form to propose, approve or reject (each with a reason), and,
// for those who propose, the quarterly adoption review. Forms post with
// the CSRF token and redirect (Post/Redirect/Get); a refused one shows the
// page again with why.

// maxPageDecided is how many decided proposals the page lists.
const maxPageDecided = 20

type proposalsPage struct {
	Open, Decided []proposalRow
	// CanPropose and CanApprove say which forms the reader gets.
	CanPropose, CanApprove bool
	Metrics                []metricChoice
	Settings               []string
	Sections               []sectionChoice
	// Done is the outcome of the change just made; Problem why a form was
	// refused, Failed which (a proposal id, or "propose"), Form its values.
	Done    string
	Problem string
	// FailedField is the refused form's parameter at fault (metric,
	// thresholds, target, window, min_sample, reason; setting, value),
	// whose field is marked and focused.
	FailedField string
	Failed      string
	Form        url.Values
	Review      *adoption.Review
	Now         time.Time
}

type metricChoice struct{ ID, Name string }

// sectionChoice is a governed configuration section the form offers.
type sectionChoice struct{ Name, Help string }

type proposalRow struct {
	ID      int64
	Title   string
	URL     string
	Changes []string
	Reason  string
	By      string
	At      time.Time
	Status  string
	Before  *beforeView
	// Setting is a setting proposal's setting; Was its value when
	// proposed ("" for a default not recorded), WasDefault whether that
	// was the default; Reads the metrics that read it (those the reader
	// may see), which the change changes.
	Setting    string
	Was        string
	WasDefault bool
	Reads      []metricChoice
	Loosens    []string
	Needed     int
	Approvals  []decisionRow
	Rejection  *decisionRow
	Effective  *time.Time
	// Mine: the reader proposed it; Approved: the reader approved it.
	Mine, Approved bool
}

type beforeView struct {
	Status  StatusView
	Value   string
	Reason  string
	Version int
	Scopes  []string
}

type decisionRow struct {
	By, Reason string
	At         time.Time
}

// proposalsPage serves GET /proposals.
func (s *Server) proposalsPage(w http.ResponseWriter, r *http.Request) {
	s.renderProposals(w, r, http.StatusOK, "", "", "", nil)
}

// renderProposals shows the page, with a refused form's problem.
func (s *Server) renderProposals(w http.ResponseWriter, r *http.Request, status int, failed, problem, field string, form url.Values) {
	g, err := s.governance()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	st, err := g.State(r.Context())
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	list := slices.Clone(st.Proposals)
	slices.Reverse(list)
	access := s.access(r)
	me := auth.Person(auth.PrincipalFrom(r.Context()))
	now := s.Now().UTC()
	// Only an executive decides (governance.CheckDecider): others get no
	// forms that would be refused.
	canDecide := access.Can(auth.DefinitionsApprove) && governance.CheckDecider(auth.PrincipalFrom(r.Context()).Roles) == nil
	data := proposalsPage{CanPropose: access.Can(auth.DefinitionsPropose), CanApprove: canDecide,
		Problem: problem, Failed: failed, FailedField: field, Form: form, Now: now, Settings: config.GovernedSettings()}
	for _, sec := range config.Sections {
		data.Sections = append(data.Sections, sectionChoice{sec.Name, sec.Help})
	}
	if key := r.URL.Query().Get("done"); key != "" {
		if d, ok := s.flashes.take(flashOwner(auth.PrincipalFrom(r.Context())), key, now); ok {
			data.Done = d.Message
		}
	}
	cat := s.Catalog.At(now)
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		if !m.Retired && access.CanSeeMetric(m) {
			data.Metrics = append(data.Metrics, metricChoice{m.ID, m.Name})
		}
	}
	readers, err := s.settingReaders(r.Context(), list, data.Metrics)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	// A link to one proposal (a metric page's setting in force names the
	// proposal that put it there) shows it though it be older than those
	// listed.
	asked, _ := strconv.ParseInt(r.URL.Query().Get("proposal"), 10, 64)
	for i := range list {
		v := &list[i]
		if s.canSeeProposal(access, v) != nil {
			continue
		}
		row := s.proposalRow(v, me)
		if v.Section != "" {
			row.Changes = s.sectionChangeWords(access, st, v, now)
		}
		row.Reads = readers[v.Setting]
		if v.Status == governance.Open {
			data.Open = append(data.Open, row)
		} else if len(data.Decided) < maxPageDecided || v.ID == asked {
			data.Decided = append(data.Decided, row)
		}
	}
	// Oldest open first: the longest waiting is the first to decide.
	slices.Reverse(data.Open)
	if access.Can(auth.AdoptionRead) {
		if err := s.flushOpens(r); err != nil {
			s.logger(r).Warn("adding adoption counts", "err", err)
		}
		if data.Review, err = s.review(r); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	pg := s.newPage(r, "Definition changes", Query{}, data)
	s.render(w, r, status, "proposals", pg)
}

// sectionChangeWords says what a section proposal changes, field by field
// (governance.State.SectionChanges): its text is the whole section, and a
// line count gave whoever decides nothing to judge. The value it replaces
// may concern a metric the reader may not see (one the proposal removes):
// then only the count is said.
func (s *Server) sectionChangeWords(access auth.Access, st *governance.State, v *governance.View, now time.Time) []string {
	what := fmt.Sprintf("new text of %d lines", strings.Count(strings.TrimRight(v.Source, "\n"), "\n")+1)
	if v.File != "" {
		what += " from " + v.File
	}
	base := st.SectionBase(v, now)
	if id := s.sectionHides(access, base); id != "" {
		return []string{what + " (what it changes concerns metric " + id + ", which your roles may not see)"}
	}
	changes, err := governance.DiffSection(base, v.Value)
	if err != nil {
		return []string{what}
	}
	against := governance.SectionBaseWords(v.Status)
	if len(changes) == 0 {
		return []string{what + ": the same as " + against}
	}
	out := []string{fmt.Sprintf("%s; against %s:", what, against)}
	for _, c := range changes {
		out = append(out, c.String())
	}
	return out
}

func (s *Server) proposalRow(v *governance.View, me string) proposalRow {
	row := proposalRow{ID: v.ID, Reason: v.Reason, By: personWords(v.By), At: v.At, Status: v.Status, Needed: v.Needed,
		Effective: v.Effective, Mine: v.By == me}
	switch {
	case v.Section != "":
		// The text itself is long: its history (JSON) shows it whole, and
		// the page what it changes (sectionChangeWords).
		row.Title, row.URL = "Section "+v.Section, "/api/v1/sections/"+url.PathEscape(v.Section)+"/history"
	case v.Setting != "":
		row.Title, row.Setting = "Setting "+v.Setting, v.Setting
		row.Changes = []string{v.Setting + " → " + jsonWords(v.Value)}
		if v.Before != nil {
			was, dflt := v.Before.Was()
			row.Was, row.WasDefault = settingWords(v.Setting, was, dflt), dflt
		}
	default:
		row.Title, row.URL = v.Metric, "/metrics/"+url.PathEscape(v.Metric)
		if m, ok := s.Catalog.Metric(v.Metric); ok {
			row.Title = m.Name
		}
		row.Changes = changeWords(v.Changes)
		if b := v.Before; b != nil {
			bv := &beforeView{Status: statusView(b.Status), Reason: b.Reason, Version: b.Version, Value: "no value"}
			if b.Number != nil {
				unit := ""
				if m, ok := s.Catalog.Metric(v.Metric); ok {
					unit = m.Unit
				}
				// Computed as of the proposal (b.AsOf), so in the
				// currency in force then, not today's.
				bv.Value = scorecard.FormatValue(b.Number, unit, s.currencyAt(b.AsOf))
			}
			for _, sc := range b.Scopes {
				bv.Scopes = append(bv.Scopes, sc.Scope+": "+string(sc.Status))
			}
			row.Before = bv
		}
	}
	for _, l := range v.Loosens {
		row.Loosens = append(row.Loosens, l.Why)
	}
	for _, a := range v.Approvals {
		row.Approvals = append(row.Approvals, decisionRow{By: personWords(a.By), Reason: a.Reason, At: a.At})
		row.Approved = row.Approved || a.By == me
	}
	if d := v.Rejection; d != nil {
		row.Rejection = &decisionRow{By: personWords(d.By), Reason: d.Reason, At: d.At}
	}
	return row
}

// settingReaders maps each setting a proposal of list changes to the
// metrics of choices (those the reader may see) that read it, in the
// catalog's order.
func (s *Server) settingReaders(ctx context.Context, list []governance.View, choices []metricChoice) (map[string][]metricChoice, error) {
	if !slices.ContainsFunc(list, func(v governance.View) bool { return v.Setting != "" }) {
		return nil, nil
	}
	out := map[string][]metricChoice{}
	err := s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		for _, m := range choices {
			for _, st := range ds.DeclaredSettings(m.ID) {
				out[string(st)] = append(out[string(st)], m)
			}
		}
		return nil
	})
	return out, err
}

// settingWords words a setting's value when a proposal was made: the
// default's effective value as a metric's page words it ("1d", where its
// JSON is nanoseconds), a configured one as the configuration writes it;
// "" for a default whose value was not recorded.
func settingWords(name string, raw json.RawMessage, dflt bool) string {
	if w := jsonWords(raw); w == "the default" {
		return ""
	}
	if dflt {
		if w, ok := scorecard.DefaultSettingText(name, raw); ok {
			return w
		}
	}
	return jsonWords(raw)
}

// personWords names a proposer or approver as the page shows them.
func personWords(p string) string { return actorWords(p) }

// jsonWords shows a JSON value compactly; null is "the default".
func jsonWords(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "the default"
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// changeWords lists a metric proposal's changes, one field a line.
func changeWords(raw json.RawMessage) []string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return []string{string(raw)}
	}
	var out []string
	for _, k := range slices.Sorted(mapsKeys(fields)) {
		switch k {
		case "retire":
			out = append(out, "retire the metric")
		case "thresholds":
			var t struct {
				Green, Amber *float64
				RelativeTo   string `json:"relative_to"`
			}
			json.Unmarshal(fields[k], &t)
			w := "thresholds → green " + numWords(t.Green) + ", amber " + numWords(t.Amber)
			if t.RelativeTo != "" {
				w += " (relative to " + t.RelativeTo + ")"
			}
			out = append(out, w)
		default:
			out = append(out, strings.ReplaceAll(k, "_", " ")+" → "+jsonWords(fields[k]))
		}
	}
	return out
}

func numWords(f *float64) string {
	if f == nil {
		return "?"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// proposeForm serves POST /proposals: a metric's changes from the form's
// fields (only those filled in), a setting's value, or a section's text.
func (s *Server) proposeForm(w http.ResponseWriter, r *http.Request) {
	if !s.readForm(w, r) {
		return
	}
	f := r.PostForm
	in, err := proposalInput(f)
	if err == nil {
		if in.Metric != "" {
			err = s.canSeeMetric(s.access(r), in.Metric)
		}
	}
	var v *governance.View
	if err == nil {
		var g *governance.Registry
		if g, err = s.governance(); err == nil {
			v, err = g.Propose(r.Context(), in, auth.Person(auth.PrincipalFrom(r.Context())))
		}
	}
	if err != nil {
		failed := "propose"
		if f.Get("kind") == "section" {
			failed = "section"
			// The text pasted is the API's value: say the check, not the name.
			var de *domain.Error
			if errors.As(err, &de) && de.Param == "value" {
				err = &domain.Error{Code: de.Code, Param: "text", Message: strings.TrimPrefix(de.Message, "value: "), Err: de.Err}
			}
		}
		s.formRefused(w, r, failed, err, f)
		return
	}
	msg := fmt.Sprintf("Proposal %d recorded; it needs %d approval%s by an executive other than you.", v.ID, v.Needed, plural1(v.Needed))
	s.doneRedirect(w, r, msg, fmt.Sprintf("p-%d", v.ID))
}

func plural1(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// proposalInput reads the propose form.
func proposalInput(f url.Values) (governance.Input, error) {
	in := governance.Input{Reason: f.Get("reason")}
	if f.Get("kind") == "section" {
		// The text pasted is checked as `candor catalog propose --section
		// --file` checks its file: errors name the line, under the name
		// given (or "the proposal").
		in.Section, in.File = strings.TrimSpace(f.Get("section")), strings.TrimSpace(f.Get("file"))
		text := strings.ReplaceAll(f.Get("text"), "\r\n", "\n")
		if strings.TrimSpace(text) == "" {
			return in, domain.InvalidParam("text", "paste the section as the configuration file writes it")
		}
		in.Value, _ = json.Marshal(text)
		return in, nil
	}
	if f.Get("kind") == "setting" {
		in.Setting = strings.TrimSpace(f.Get("setting"))
		v := strings.TrimSpace(f.Get("value"))
		if v == "" {
			return in, domain.InvalidParam("value", "required: the setting's new value as JSON, such as \"12h\" or [\"production\", \"live\"]")
		}
		if !json.Valid([]byte(v)) {
			// A bare word is the common case for a string setting.
			b, _ := json.Marshal(v)
			v = string(b)
		}
		in.Value = json.RawMessage(v)
		return in, nil
	}
	in.Metric = strings.TrimSpace(f.Get("metric"))
	if in.Metric == "" {
		return in, domain.InvalidParam("metric", "choose the metric to change")
	}
	changes := map[string]any{}
	if f.Get("retire") != "" {
		changes["retire"] = true
	}
	green, amber := strings.TrimSpace(f.Get("green")), strings.TrimSpace(f.Get("amber"))
	if green != "" || amber != "" {
		g, err1 := strconv.ParseFloat(green, 64)
		a, err2 := strconv.ParseFloat(amber, 64)
		if err1 != nil || err2 != nil || math.IsNaN(g) || math.IsNaN(a) {
			return in, domain.InvalidParam("thresholds", "give both the green and the amber bound as numbers")
		}
		changes["thresholds"] = map[string]float64{"green": g, "amber": a}
	}
	if t := strings.TrimSpace(f.Get("target")); t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return in, domain.InvalidParam("target", "%q is not a number", t)
		}
		changes["target"] = v
	}
	if n := strings.TrimSpace(f.Get("min_sample")); n != "" {
		v, err := strconv.Atoi(n)
		if err != nil {
			return in, domain.InvalidParam("min_sample", "%q is not a whole number", n)
		}
		changes["min_sample"] = v
	}
	for _, k := range []string{"window", "owner"} {
		if v := strings.TrimSpace(f.Get(k)); v != "" {
			changes[k] = v
		}
	}
	if len(changes) == 0 {
		return in, domain.InvalidParam("changes", "fill in what changes: thresholds, target, window, owner or min_sample, or retire the metric")
	}
	in.Changes, _ = json.Marshal(changes)
	return in, nil
}

// decideForm serves POST /proposals/{id}/approve and /reject.
func (s *Server) approveForm(w http.ResponseWriter, r *http.Request) {
	s.decideForm(w, r, governance.Approve)
}

func (s *Server) rejectForm(w http.ResponseWriter, r *http.Request) {
	s.decideForm(w, r, governance.Reject)
}

func (s *Server) decideForm(w http.ResponseWriter, r *http.Request, decision string) {
	if !s.readForm(w, r) {
		return
	}
	v, err := s.proposal(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	out, err := s.decide(r, v.ID, decision, r.PostForm.Get("reason"))
	if err != nil {
		s.formRefused(w, r, strconv.FormatInt(v.ID, 10), err, r.PostForm)
		return
	}
	msg := fmt.Sprintf("Proposal %d rejected.", out.ID)
	switch {
	case out.Status == governance.Approved:
		msg = fmt.Sprintf("Proposal %d approved: in force from %s.", out.ID, out.Effective.UTC().Format("2 Jan 2006 15:04 MST"))
	case decision == governance.Approve:
		msg = fmt.Sprintf("Your approval of proposal %d is recorded; it needs %d approvals and has %d.", out.ID, out.Needed, len(out.Approvals))
	}
	s.doneRedirect(w, r, msg, fmt.Sprintf("p-%d", out.ID))
}

// readForm parses a posted form, answering the failure itself.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = domain.Errorf(domain.EInvalid, "the form could not be read: %v", err)
		}
		s.pageError(w, r, err)
		return false
	}
	return true
}

// formRefused shows the page again with why a form was refused, in the
// status of the error (403 for an approver who proposed, 409 for a
// decided proposal, 400 for bad input).
func (s *Server) formRefused(w http.ResponseWriter, r *http.Request, failed string, err error, form url.Values) {
	e := s.describe(r, err)
	switch {
	case e == nil:
		return
	case e.Code != domain.EInvalid && e.Code != domain.EForbidden && e.Code != domain.EConflict && e.Code != domain.ENotFound:
		s.pageError(w, r, err)
		return
	}
	s.renderProposals(w, r, e.status, failed, e.Message, e.Param, form)
}

// doneRedirect keeps the outcome for the page after the redirect.
func (s *Server) doneRedirect(w http.ResponseWriter, r *http.Request, msg, anchor string) {
	key := s.flashes.put(flashOwner(auth.PrincipalFrom(r.Context())), adminDone{Message: msg}, s.Now())
	http.Redirect(w, r, "/proposals?done="+url.QueryEscape(key)+"#"+anchor, http.StatusSeeOther)
}

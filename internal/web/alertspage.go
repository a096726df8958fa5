package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// The alerts page (/alerts): the alerts on metrics the reader may see,
// firing, pending and resolved; the silences in force; the latest
// notifications with failed sends and their retry state; and, for those
// who may acknowledge, forms to acknowledge an alert and to silence
// alerts. Forms post with the CSRF token and redirect (Post/Redirect/Get);
// a refused one shows the page again with why.

// maxPageNotifications is how many notifications the page lists.
const maxPageNotifications = 50

// maxInbox is how many in-app notifications the page lists.
const maxInbox = 20

// unreadAlerts counts the user's unread in-app notifications (0 for a
// token, or without alerts); a failure to read them is logged, not
// shown: the navigation must not break a page.
func (s *Server) unreadAlerts(r *http.Request, p auth.Principal) int {
	docs, ok := s.Store.(store.DocStore)
	if s.Alerts == nil || !ok || p.Kind != auth.KindUser {
		return 0
	}
	n, err := alert.Unread(r.Context(), docs, p.Name)
	if err != nil {
		s.logger(r).Warn("counting in-app notifications", "err", err)
	}
	access := s.access(r)
	if n == 0 || s.seesEveryMetric(access) {
		return n // nothing can be withheld from this reader
	}
	// The newest unread ones read again, within the grants of now: one
	// whose every line is withheld is no news to the reader. (The count is
	// on every page: only a reader something may be withheld from pays.)
	items, _, err := alert.Inbox(r.Context(), docs, p.Name, min(n, maxUnreadChecked))
	if err != nil {
		s.logger(r).Warn("reading in-app notifications", "err", err)
		return n
	}
	return n - withheldWhole(s.visibleInbox(access, items))
}

// seesEveryMetric says whether access may see every metric of the
// catalog, so that nothing kept for the reader can be withheld.
func (s *Server) seesEveryMetric(access auth.Access) bool {
	for i := range s.Catalog.Metrics {
		if !access.CanSeeMetric(&s.Catalog.Metrics[i]) {
			return false
		}
	}
	return true
}

// maxUnreadChecked bounds how many unread notifications the navigation's
// count reads on every page to leave out those wholly withheld.
const maxUnreadChecked = 50

// visibleInbox is items within the reader's grants as they are now: the
// routes sent each alert within the grants the user had then.
func (s *Server) visibleInbox(access auth.Access, items []alert.InboxItem) []alert.InboxItem {
	for i := range items {
		items[i] = items[i].VisibleTo(func(m string) bool { return s.canSeeMetric(access, m) == nil })
	}
	return items
}

// withheldWhole counts the unread items every line of which was withheld.
func withheldWhole(items []alert.InboxItem) int {
	n := 0
	for _, it := range items {
		if it.Unread && it.Withheld > 0 && len(it.Lines) == 0 {
			n++
		}
	}
	return n
}

type alertsPage struct {
	// Inbox are the reader's in-app notifications, Unread how many are new.
	Inbox  []alert.InboxItem
	Unread int

	Firing, Pending, Resolved []alertRow
	// Lists are the three above as the page shows them.
	Lists                     []alertList
	Silences                  []silenceRow
	Notifications             []notificationRow
	Failed                    int
	CanAck                    bool
	Rules                     []string
	Metrics                   []metricChoice
	Done, Problem, FailedForm string
	// FailedField is the refused form's field at fault (its name: for,
	// metric, scope, rule, reason), marked invalid and focused.
	FailedField string
	// DoneSection is the section whose message Done is ("" for the top).
	DoneSection string
	Form        url.Values
	// NoChannels says no channel is configured to send notifications to:
	// "no notification has been sent yet" beside ten firing alerts read as
	// a fault, where it is the configuration.
	NoChannels bool
	// ScopeExample is the silence form's scope placeholder: a team (else a
	// service) the data has, where "team:core" had named one the demo lacks.
	ScopeExample string
}

type alertList struct {
	ID, Title, Lede, Empty string
	// Rows are the section's alerts (its count), Groups the same alerts
	// as the section shows them, grouped by metric.
	Rows   []alertRow
	Groups []alertGroup
}

// alertGroup is a section's alerts on one metric, shown together: the
// metric's name, its status, its owner and the owner's action said once
// for the group when its alerts agree on them (each alert says its own
// where they differ: the burn-rate alerts of two services have two
// owners, a team's alert its own status). An alert on no metric (the
// quarantined rows, a rollback decision) is a group of its own without
// Metric, shown as the alert alone.
type alertGroup struct {
	// ID is the heading's id.
	ID                            string
	Metric, MetricName, MetricURL string
	// Scope is the alerts' scope when they share one (SameScope), said
	// after the metric's name; Status is said once when they share it in
	// that scope, Owner when they share one.
	Scope     string
	SameScope bool
	Status    *StatusView
	Owner     string
	SameOwner bool
	// Action is the owner's action for the group's scope, said once when
	// every alert that needs one is in that scope.
	Action    *cardAction
	ActionURL string
	Rows      []alertRow
}

type alertRow struct {
	Key, Rule, Summary, Scope, Owner, Severity string
	Metric, MetricName, MetricURL              string
	Status                                     StatusView
	State                                      string
	Since                                      time.Time
	AckedBy, AckNote                           string
	AckedAt                                    time.Time
	Silenced                                   bool
	Anchor                                     string
	// Action is the metric's owner's action in force for the alert's scope
	// (escalation acknowledgements, recorded on the metric's page), or
	// None, for an alert not resolved; ActionURL is that page's form.
	Action    *cardAction
	ActionURL string
	// Nowhere says the alert reaches no one under the routes, channels and
	// users in force: why, for an administrator (it names users and
	// roles), else only that.
	Nowhere string
	// Quarantine says the alert is on the stored rows (a quarantine
	// rule's), not on a metric: an alert on no metric had been said to be
	// on the stored rows whatever its rule, a rollback decision too.
	Quarantine bool
}

// severityRank orders severities, the worst first.
func severityRank(sev string) int {
	switch sev {
	case "critical":
		return 0
	case "warning":
		return 1
	}
	return 2
}

// groupAlerts groups a section's alerts by metric (SPEC §8: alerts are
// grouped): one metric's escalation, status and threshold alerts had
// been listed apart, among other metrics' alerts. The groups come in the
// order of their worst severity, then of their first alert in rows; the
// alerts of a group likewise. An alert on no metric is a group alone.
func groupAlerts(rows []alertRow) []alertGroup {
	var out []alertGroup
	at := map[string]int{} // metric → index in out
	for _, r := range rows {
		i, ok := at[r.Metric]
		if !ok || r.Metric == "" {
			i = len(out)
			out = append(out, alertGroup{ID: "g-" + r.Anchor, Metric: r.Metric, MetricName: r.MetricName, MetricURL: r.MetricURL})
			if r.Metric != "" {
				at[r.Metric] = i
			}
		}
		out[i].Rows = append(out[i].Rows, r)
	}
	worst := func(g alertGroup) int {
		w := 2
		for _, r := range g.Rows {
			w = min(w, severityRank(r.Severity))
		}
		return w
	}
	slices.SortStableFunc(out, func(a, b alertGroup) int { return worst(a) - worst(b) })
	for i := range out {
		g := &out[i]
		slices.SortStableFunc(g.Rows, func(a, b alertRow) int { return severityRank(a.Severity) - severityRank(b.Severity) })
		if g.Metric == "" {
			continue
		}
		first := g.Rows[0]
		g.SameScope = !slices.ContainsFunc(g.Rows, func(r alertRow) bool { return r.Scope != first.Scope })
		g.SameOwner = !slices.ContainsFunc(g.Rows, func(r alertRow) bool { return r.Owner != first.Owner })
		if g.SameScope {
			g.Scope = first.Scope
			if !slices.ContainsFunc(g.Rows, func(r alertRow) bool { return r.Status != first.Status }) {
				g.Status = &first.Status
			}
		}
		if g.SameOwner {
			g.Owner = first.Owner
		}
		// The action of the group's scope, once, when every alert that
		// needs one is in it (an action is the metric's in a scope).
		acted, one := -1, true
		for j, r := range g.Rows {
			switch {
			case r.Action == nil:
			case acted < 0:
				acted = j
			case r.Scope != g.Rows[acted].Scope:
				one = false
			}
		}
		if acted >= 0 && one {
			g.Action, g.ActionURL = g.Rows[acted].Action, g.Rows[acted].ActionURL
		}
		// An alert says its own scope, status and owner where the group
		// does not (the template reads SameScope, Status and SameOwner);
		// its action, where the group says it once, is the group's.
		if g.Action != nil {
			for j := range g.Rows {
				g.Rows[j].Action, g.Rows[j].ActionURL = nil, ""
			}
		}
	}
	return out
}

type silenceRow struct {
	ID                                  int64
	Rule, Metric, Scope, Reason, Author string
	Ends                                time.Time
}

type notificationRow struct {
	ID                   int64
	Group, Channel       string
	State                string
	Status               StatusView
	Attempts             int
	Created, Next, Sent  time.Time
	LastError            string
	Firing, ResolvedSize int
	// Withheld names the recipients the last attempt left out and why,
	// for an administrator of users; others read LeftOut, how many.
	Withheld string
	LeftOut  int
}

// alertsPage serves GET /alerts.
func (s *Server) alertsPage(w http.ResponseWriter, r *http.Request) {
	s.renderAlerts(w, r, http.StatusOK, "", "", "", nil)
}

// scopeExample is a scope the data has, for a form's placeholder: its
// first team, else its first service, else a neutral "team:NAME".
func (s *Server) scopeExample(r *http.Request) (string, error) {
	out := "team:NAME"
	err := s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		ch := s.choices.choices(ds, ds.Seq())
		switch {
		case len(ch.Teams) > 0:
			out = "team:" + ch.Teams[0]
		case len(ch.Services) > 0:
			out = "service:" + ch.Services[0]
		}
		return nil
	})
	return out, err
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, failed, problem, field string, form url.Values) {
	svc, err := s.alerts()
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	ctx := r.Context()
	list, sils, err := svc.Shown(ctx)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	access := s.access(r)
	now := s.Now().UTC()
	data := alertsPage{CanAck: access.Can(auth.MetricAcknowledge), Problem: problem, FailedForm: failed, FailedField: field, Form: form}
	if data.CanAck {
		if data.ScopeExample, err = s.scopeExample(r); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	if key := r.URL.Query().Get("done"); key != "" {
		if d, ok := s.flashes.take(flashOwner(auth.PrincipalFrom(ctx)), key, now); ok {
			data.Done, data.DoneSection = d.Message, d.Section
		}
	}
	kinds := map[string]string{}
	for _, rl := range svc.RulesInForce() {
		kinds[rl.Name] = rl.Kind
	}
	// The owners' actions, once, for the alerts still open on a metric.
	var acks []escalation.Acknowledgement
	if slices.ContainsFunc(list, func(a alert.Alert) bool { return a.Metric != "" && a.State != alert.Resolved }) {
		if acks, err = s.acks.List(ctx, s.Store, ""); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	nowhere, err := svc.Nowhere(ctx, list)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for i, a := range list {
		if a.Metric != "" && s.canSeeMetric(access, a.Metric) != nil {
			continue
		}
		row := alertRow{Key: a.Key, Rule: a.Rule, Summary: a.Summary, Scope: a.Scope, Owner: a.Owner, Severity: a.Severity,
			Metric: a.Metric, State: a.State, Since: a.ActiveAt, AckedBy: a.AckedBy, AckNote: a.AckNote, AckedAt: a.AckedAt,
			Silenced: a.Silenced, Anchor: fmt.Sprintf("a-%d", i), Status: statusView(catalog.Status(a.Status)), Quarantine: kinds[a.Rule] == alert.KindQuarantine}
		if why, ok := nowhere[a.Key]; ok {
			row.Nowhere = "under the alert routes in force; an administrator sees why on the administration page"
			if access.Can(auth.UsersAdmin) {
				row.Nowhere = why
			}
		}
		if m, ok := s.Catalog.Metric(a.Metric); ok {
			row.MetricName, row.MetricURL = m.Name, "/metrics/"+url.PathEscape(m.ID)
			// Whether the metric needs an action, as escalation.NeedsAction
			// says of a card, from what the alert knows: its status, and a
			// degrading rule for a green one (a green metric's burn-rate
			// alert needs none); a metric judged by another takes none.
			card := scorecard.Card{Status: catalog.Status(a.Status), Degrading: kinds[a.Rule] == alert.KindDegrading, JudgedBy: m.JudgedBy}
			if a.State != alert.Resolved && escalation.NeedsAction(card) {
				row.Action = newCardAction(escalation.ActionOf(escalation.InScope(acks, m.ID, a.Scope, now), now), m.Owner)
				row.ActionURL = row.MetricURL
				if a.Scope != "" {
					row.ActionURL += "?" + url.Values{"scope": {a.Scope}}.Encode()
				}
				row.ActionURL += "#action"
			}
		}
		switch a.State {
		case alert.Firing:
			data.Firing = append(data.Firing, row)
		case alert.Pending:
			data.Pending = append(data.Pending, row)
		default:
			row.Since = a.ResolvedAt
			data.Resolved = append(data.Resolved, row)
		}
	}
	if docs, ok := s.Store.(store.DocStore); ok && auth.PrincipalFrom(ctx).Kind == auth.KindUser {
		if data.Inbox, data.Unread, err = alert.Inbox(ctx, docs, auth.PrincipalFrom(ctx).Name, maxInbox); err != nil {
			s.pageError(w, r, err)
			return
		}
		data.Inbox = s.visibleInbox(access, data.Inbox)
		data.Unread -= withheldWhole(data.Inbox)
	}
	data.Lists = []alertList{
		{ID: "firing", Title: "Firing", Empty: "Nothing is firing.", Rows: data.Firing},
		{ID: "pending", Title: "Pending", Lede: "The condition holds, but not yet for as long as the rule asks before it fires (the rule's \"for\", such as 1 hour): nobody has been told.", Empty: "Nothing is pending.", Rows: data.Pending},
		{ID: "resolved", Title: "Resolved in the last 7 days", Empty: "Nothing resolved in the last 7 days.", Rows: data.Resolved},
	}
	for i := range data.Lists {
		data.Lists[i].Groups = groupAlerts(data.Lists[i].Rows)
	}
	visible := s.silencesVisible(access, svc)
	for _, x := range sils {
		if !now.Before(x.EndsAt) || !visible(x) {
			continue
		}
		data.Silences = append(data.Silences, silenceRow{ID: x.ID, Rule: x.Rule, Metric: x.Metric, Scope: x.Scope, Reason: x.Reason, Author: personWords(x.Author), Ends: x.EndsAt})
	}
	notes, err := svc.Notifications(ctx, maxPageNotifications)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	for _, n := range notes {
		// The state in words beside the icon: a notification is sent,
		// waiting (first try or a retry) or failed, not green or red.
		st := map[string]catalog.Status{store.NotificationSent: catalog.Green, store.NotificationPending: catalog.Amber, store.NotificationFailed: catalog.Red}[n.State]
		view := statusView(st)
		view.Word = map[string]string{store.NotificationSent: "Sent", store.NotificationPending: "Waiting", store.NotificationFailed: "Failed"}[n.State]
		if n.State == store.NotificationPending && n.Attempts > 0 {
			view.Word = "Retrying"
		}
		row := notificationRow{ID: n.ID, Group: n.Group, Channel: n.Channel, State: n.State, Status: view, Attempts: n.Attempts,
			Created: n.CreatedAt, Next: n.NextAt, Sent: n.SentAt, LastError: n.LastError, Firing: n.Firing, ResolvedSize: n.Resolved, LeftOut: n.LeftOut}
		// The outbox shows no one's address but to whoever administers
		// the users: the others learn how many were left out, not who.
		if access.Can(auth.UsersAdmin) {
			row.Withheld = n.Withheld
		} else if n.Withheld != "" {
			row.LastError = strings.ReplaceAll(row.LastError, n.Withheld, plural.Count(n.LeftOut, "recipient")+" not granted it now")
		}
		if n.State == store.NotificationFailed || n.State == store.NotificationPending && n.Attempts > 0 {
			data.Failed++
		}
		data.Notifications = append(data.Notifications, row)
	}
	data.NoChannels = len(svc.Channels) == 0
	for _, rl := range svc.RulesInForce() {
		// A rule watching a metric the reader may not see is not theirs
		// to silence (maySilence): offering it had only led to a refusal.
		if rl.Metric != "" && rl.Metric != "*" && s.canSeeMetric(access, rl.Metric) != nil {
			continue
		}
		data.Rules = append(data.Rules, rl.Name)
	}
	cat := s.Catalog.At(now)
	for i := range cat.Metrics {
		m := &cat.Metrics[i]
		if !m.Retired && access.CanSeeMetric(m) {
			data.Metrics = append(data.Metrics, metricChoice{m.ID, m.Name})
		}
	}
	pg := s.newPage(r, "Alerts", Query{}, data)
	s.render(w, r, status, "alerts", pg)
}

// ackAlertForm serves POST /alerts/ack.
func (s *Server) ackAlertForm(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.alertForm(w, r)
	if !ok {
		return
	}
	key := r.PostForm.Get("key")
	err := s.ackVisible(r, svc, key, strings.TrimSpace(r.PostForm.Get("note")))
	if err != nil {
		s.alertFormRefused(w, r, "ack:"+key, err, r.PostForm)
		return
	}
	s.alertsRedirect(w, r, "Acknowledged: the alert is not repeated until it resolves.")
}

// alertForm reads a posted alerts form and the alert service, answering
// a failure itself.
func (s *Server) alertForm(w http.ResponseWriter, r *http.Request) (*alert.Service, bool) {
	if !s.readForm(w, r) {
		return nil, false
	}
	svc, err := s.alerts()
	if err != nil {
		s.pageError(w, r, err)
		return nil, false
	}
	return svc, true
}

// ackVisible acknowledges an alert on a metric the reader may see.
func (s *Server) ackVisible(r *http.Request, svc *alert.Service, key, note string) error {
	if err := alert.KeyRequired(key); err != nil {
		return err
	}
	list, err := svc.List(r.Context())
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(a alert.Alert) bool { return a.Key == key })
	if i < 0 {
		return notFoundf("no alert %q; GET /api/v1/alerts lists them", key)
	}
	if list[i].Metric != "" {
		if err := s.canSeeMetric(s.access(r), list[i].Metric); err != nil {
			return err
		}
	}
	return svc.Ack(r.Context(), key, auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name, note)
}

// silenceForm serves POST /alerts/silences.
func (s *Server) silenceForm(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.alertForm(w, r)
	if !ok {
		return
	}
	f := r.PostForm
	if err := s.maySilence(r.Context(), s.access(r), svc, store.Silence{Rule: f.Get("rule"), Metric: f.Get("metric"), Scope: strings.TrimSpace(f.Get("scope"))}); err != nil {
		s.alertFormRefused(w, r, "silence", err, f)
		return
	}
	d, err := catalog.ParseWindow(f.Get("for"))
	if err != nil {
		s.alertFormRefused(w, r, "silence", domain.InvalidParam("for", "%v", err), f)
		return
	}
	x, err := svc.Silence(r.Context(), store.Silence{Rule: f.Get("rule"), Metric: f.Get("metric"), Scope: strings.TrimSpace(f.Get("scope")),
		Reason: strings.TrimSpace(f.Get("reason")), Author: auth.ActorOf(auth.PrincipalFrom(r.Context()), auth.Client{}).Name}, d)
	if err != nil {
		s.alertFormRefused(w, r, "silence", err, f)
		return
	}
	s.alertsRedirectTo(w, r, "silences", fmt.Sprintf("Silence #%d in force until %s.", x.ID, x.EndsAt.UTC().Format("2 Jan 2006 15:04 MST")))
}

// unsilenceForm serves POST /alerts/silences/{id}/end.
func (s *Server) unsilenceForm(w http.ResponseWriter, r *http.Request) {
	svc, ok := s.alertForm(w, r)
	if !ok {
		return
	}
	x, err := s.unsilenceVisible(r, svc, r.PathValue("id"))
	if err != nil {
		s.alertFormRefused(w, r, "unsilence", err, nil)
		return
	}
	s.alertsRedirectTo(w, r, "silences", fmt.Sprintf("Silence #%d ended: the alerts it muted are told again from the next evaluation.", x.ID))
}

// inboxReadForm serves POST /alerts/inbox/read: the reader's in-app
// notifications are marked read.
func (s *Server) inboxReadForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.alertForm(w, r); !ok {
		return
	}
	p := auth.PrincipalFrom(r.Context())
	docs, ok := s.Store.(store.DocStore)
	if !ok || p.Kind != auth.KindUser {
		s.pageError(w, r, domain.Errorf(domain.ENotImplemented, "no in-app notifications here"))
		return
	}
	if err := alert.MarkRead(r.Context(), docs, p.Name); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.alertsRedirect(w, r, "Marked read.")
}

// alertFormRefused shows the page again with why a form was refused.
func (s *Server) alertFormRefused(w http.ResponseWriter, r *http.Request, failed string, err error, form url.Values) {
	e := s.describe(r, err)
	switch {
	case e == nil:
		return
	case e.Code != domain.EInvalid && e.Code != domain.ENotFound && e.Code != domain.EForbidden && e.Code != domain.EConflict:
		s.pageError(w, r, err)
		return
	}
	s.renderAlerts(w, r, e.status, failed, e.Message, e.Param, form)
}

func (s *Server) alertsRedirect(w http.ResponseWriter, r *http.Request, msg string) {
	s.alertsRedirectTo(w, r, "", msg)
}

// alertsRedirectTo is alertsRedirect to a section of the page, whose own
// message it is: a silence ended from the silences table had said so at
// the page's top, thousands of pixels above where the browser landed.
func (s *Server) alertsRedirectTo(w http.ResponseWriter, r *http.Request, section, msg string) {
	key := s.flashes.put(flashOwner(auth.PrincipalFrom(r.Context())), adminDone{Section: section, Message: msg}, s.Now())
	target := "/alerts?done=" + url.QueryEscape(key)
	if section != "" {
		target += "#" + section
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

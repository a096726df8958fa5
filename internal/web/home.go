package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// homePage is the Data of the one-page scorecard.
type homePage struct {
	Scorecard *scorecard.Scorecard
	Pillars   []homePillar
	// Escalations is the escalations panel (partials/escalations.html).
	Escalations escalationPanel
	// Actions are the actions in force, by metric, for the cards that need
	// attention (amber, red, unknown or degrading): the owner and due date
	// an executive asks about first. A card needing attention without one
	// says so.
	Actions map[string]*cardAction
	// DORAKeys are the four keys' levels, in the scorecard's order, that
	// the overall DORA level is the lowest of: the badge alone said "Low"
	// and nothing of why.
	DORAKeys []doraKey
	// Rules are the thresholds of the sheet's red and amber cards, in the
	// cards' order: the printed sheet has no room for each card's rule
	// (print CSS hides .kpi__rule), and a red read on paper must still
	// say against what.
	Rules []sheetRule
	// OwnWindows says, on a calendar month's page, which metrics shown
	// have definitions with a window of another length than 30 days: the
	// page reads them over the month, the month's board pack over their
	// own (scorecard.KeepsOwnWindow), and the two would differ unexplained.
	OwnWindows string
}

// sheetRule is one card's thresholds, for the printed sheet's legend.
type sheetRule struct {
	Name, Status, Rule string
}

// doraKey is one DORA key's level on the scorecard ("" when it has none:
// stale data or too few cases).
type doraKey struct{ ID, Name, Level string }

// cardAction is the action in force on a card's metric, for the page's
// scope; None when none is.
type cardAction struct {
	// Owner is the action's owner when it is not the metric's (the card
	// names that one already).
	Owner   string
	Due     string
	Overdue bool
	None    bool
}

// cardActions words the actions in force on the cards escalation.Mark
// marked as needing one (none before the data covers a week), by metric:
// the pages say what the API's and the CLI's JSON give.
func cardActions(cards []scorecard.Card) map[string]*cardAction {
	out := map[string]*cardAction{}
	for _, c := range cards {
		if c.NeedsAction {
			out[c.ID] = newCardAction(c.Action, c.Owner)
		}
	}
	return out
}

// newCardAction words the action in force a (nil: none) on a metric whose
// owner the line need not name again.
func newCardAction(a *scorecard.Action, owner string) *cardAction {
	if a == nil {
		return &cardAction{None: true}
	}
	ca := &cardAction{Due: dueText(a.Due), Overdue: a.Overdue}
	if a.Owner != owner {
		ca.Owner = a.Owner
	}
	return ca
}

// homePillar is a pillar with the cards its panel shows: its headline
// metrics, or, when it has none, up to three that need attention.
type homePillar struct {
	scorecard.Pillar
	Cards []scorecard.Card
	// Headline says Cards are the headline metrics.
	Headline bool
	// Attention counts the metrics that are not green.
	Attention int
	// Unknown are the pillar's unknown metrics not among Cards, grouped
	// by reason (a stale source makes several unknown for one reason),
	// at most maxUnknown groups; MoreUnknown counts the metrics left out.
	Unknown     []unknownGroup
	MoreUnknown int
}

// unknownGroup is the unknown metrics of a pillar that share a reason.
type unknownGroup struct {
	Reason  string
	Metrics []unknownLine
	// More counts the group's metrics beyond those named.
	More int
}

// unknownLine is an unknown metric, named.
type unknownLine struct{ ID, Name string }

// maxAttention bounds the cards a pillar without headline metrics shows,
// and maxUnknown the unknown metrics it names besides them: the page
// prints on one sheet.
const (
	maxAttention = 3
	maxUnknown   = 3
)

func newHomePage(sc *scorecard.Scorecard, currency string) homePage {
	hp := homePage{Scorecard: sc}
	for _, p := range sc.Pillars {
		hpl := homePillar{Pillar: p}
		if p.NoData != "" {
			// The pillar says once what has not been sent, in place of a
			// card per metric each unknown for it; the folded list keeps
			// them one click away.
			hpl.Attention = len(p.Metrics)
			hp.Pillars = append(hp.Pillars, hpl)
			continue
		}
		var attention []scorecard.Card
		for _, c := range p.Metrics {
			if c.Headline {
				hpl.Cards = append(hpl.Cards, c)
			}
			if c.Status != catalog.Green {
				hpl.Attention++
				if len(attention) < maxAttention {
					attention = append(attention, c)
				}
			}
		}
		hpl.Headline = len(hpl.Cards) > 0
		if hpl.Headline {
			hpl.Cards = append(hpl.Cards, unexplained(p, hpl.Cards)...)
		} else {
			hpl.Cards = attention
		}
		hpl.Unknown, hpl.MoreUnknown = groupUnknown(p, hpl.Cards)
		hp.Pillars = append(hp.Pillars, hpl)
		for _, c := range hpl.Cards {
			if r := cardRule(c, currency); r != "" && (c.Status == catalog.Red || c.Status == catalog.Amber) {
				hp.Rules = append(hp.Rules, sheetRule{Name: c.Name, Status: string(c.Status), Rule: r})
			}
		}
	}
	return hp
}

// unexplained is the first of the pillar's metrics at its status (red or
// amber) when none of the cards shown is: a pillar red for a metric that
// is not a headline showed only green and amber cards, its colour
// explained nowhere on the page but in the folded list. One card says
// why; the folded list names the others, and the page prints on one
// sheet. (An unknown metric makes a pillar amber too; the unknown block
// names it.)
func unexplained(p scorecard.Pillar, shown []scorecard.Card) []scorecard.Card {
	if p.Status != catalog.Red && p.Status != catalog.Amber {
		return nil
	}
	if slices.ContainsFunc(shown, func(c scorecard.Card) bool { return c.Status == p.Status }) {
		return nil
	}
	for _, c := range p.Metrics {
		if c.Status == p.Status && !c.Headline {
			return []scorecard.Card{c}
		}
	}
	return nil
}

// groupUnknown groups a pillar's unknown metrics that have no card of
// their own by reason, in the pillar's order: at most maxUnknown groups,
// each naming at most maxUnknown metrics. more counts the metrics of the
// groups left out.
func groupUnknown(p scorecard.Pillar, cards []scorecard.Card) (groups []unknownGroup, more int) {
	names := map[string]string{}
	for _, c := range p.Metrics {
		names[c.ID] = c.Name
	}
	at := map[string]int{}
	for _, u := range p.Unknown {
		if slices.ContainsFunc(cards, func(c scorecard.Card) bool { return c.ID == u.ID }) {
			continue // its card says why
		}
		i, ok := at[u.Reason]
		if !ok {
			if len(groups) == maxUnknown {
				more++
				continue
			}
			i = len(groups)
			at[u.Reason] = i
			groups = append(groups, unknownGroup{Reason: u.Reason})
		}
		g := &groups[i]
		if len(g.Metrics) == maxUnknown {
			g.More++
			continue
		}
		g.Metrics = append(g.Metrics, unknownLine{ID: u.ID, Name: names[u.ID]})
	}
	return groups, more
}

// home is the one-page scorecard: every pillar the reader may see, with
// its status and headline values.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	q, opt, err := s.pageQuery(r)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	opt.Visible = s.access(r).CanSeeMetric
	var sc *scorecard.Scorecard
	var ch Choices
	var dataFrom time.Time
	acks, err := s.acks.List(r.Context(), s.Store, "")
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	acksBy := s.acksBy(r, opt.AsOf)
	covered := false
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		// Checked and made canonical by the aliases in force at as_of,
		// under which the scorecard is computed.
		at := ds.At(opt.AsOf)
		if err := checkScope(at, opt.Scope); err != nil {
			return err
		}
		// Canonical, as the metric page computes it (code review
		// 2026-12-07 F4): environment=prod had shown "—" on every
		// deployment metric. The links keep what the reader wrote.
		opt.Scope = at.CanonicalScope(opt.Scope)
		dataFrom, covered = escalation.Covered(ds, opt.AsOf)
		sc = scorecard.Build(s.Catalog, ds, opt)
		escalation.Mark(ds, sc.Cards(), acks, opt.Scope.String(), opt.AsOf, acksBy)
		ch = s.choices.choices(ds, ds.Seq())
		return nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hp := newHomePage(sc, s.currencyAt(sc.AsOf))
	if sc.Month != "" {
		hp.OwnWindows = s.ownWindows(sc)
	}
	// Every key shown, rated or not: the level is the lowest of the four,
	// and a key without one is why there is none.
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			if c.DORAKey() {
				hp.DORAKeys = append(hp.DORAKeys, doraKey{c.ID, c.Name, c.DORALevel})
			}
		}
	}
	// Before the data covers a week no card is waiting for an action:
	// nothing can escalate yet (Mark).
	var cards []scorecard.Card
	for _, p := range hp.Pillars {
		cards = append(cards, p.Cards...)
	}
	hp.Actions = cardActions(cards)
	es, err := s.escalationsWith(r, acks, escalation.Options{AsOf: opt.AsOf, Scope: opt.Scope, Annotations: opt.Annotations, AcksBy: acksBy, Closing: opt.Closing})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hp.Escalations = newEscalationPanel(es, func(metric string) string { return q.URL("/metrics/" + metric) })
	hp.Escalations.Uncovered, hp.Escalations.DataFrom = !covered, dataFrom
	pg := s.newPage(r, "Scorecard", q, hp)
	pg.Controls, pg.Choices, pg.AsOf = true, ch, sc.AsOf
	s.render(w, r, http.StatusOK, "home", pg)
}

// ownWindows names the metrics of sc, as of its as_of, that a board
// pack's month leaves over their own windows, by window ("… keeps Team
// health (mean) and Security incidents (90 days) over their own 90
// days …"), or is empty when there are none.
func (s *Server) ownWindows(sc *scorecard.Scorecard) string {
	byWindow := map[time.Duration][]string{}
	var windows []time.Duration
	for _, p := range sc.Pillars {
		for _, c := range p.Metrics {
			m, ok := s.Catalog.Metric(c.ID)
			if !ok {
				continue
			}
			if m = m.At(sc.AsOf); m.Span == catalog.SpanWindow && scorecard.KeepsOwnWindow(m) {
				if byWindow[m.Window] == nil {
					windows = append(windows, m.Window)
				}
				byWindow[m.Window] = append(byWindow[m.Window], c.Name)
			}
		}
	}
	if len(windows) == 0 {
		return ""
	}
	slices.Sort(windows)
	var parts []string
	n := 0
	for _, w := range windows {
		their := "their"
		if len(byWindow[w]) == 1 {
			their = "its"
		}
		parts = append(parts, plural.And(byWindow[w])+" over "+their+" own "+catalog.SpanWords(catalog.FormatWindow(w)))
		n += len(byWindow[w])
	}
	them := "them"
	if n == 1 {
		them = "it"
	}
	return "Every metric read over a window is over the month here (a state, a cohort or a quota period covers what its page says); the month's board pack keeps " +
		strings.Join(parts, "; ") + ", so its figures for " + them + " differ."
}

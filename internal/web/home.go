package web

import (
	"net/http"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// homePage is the Data of the one-page scorecard.
type homePage struct {
	Scorecard *scorecard.Scorecard
	Pillars   []homePillar
	// Escalations is the escalations panel (partials/escalations.html).
	Escalations escalationPanel
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
}

// maxAttention bounds the cards a pillar without headline metrics shows.
const maxAttention = 3

func newHomePage(sc *scorecard.Scorecard) homePage {
	hp := homePage{Scorecard: sc}
	for _, p := range sc.Pillars {
		hpl := homePillar{Pillar: p}
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
		if !hpl.Headline {
			hpl.Cards = attention
		}
		hp.Pillars = append(hp.Pillars, hpl)
	}
	return hp
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
	err = s.Engine.Read(r.Context(), func(ds *metrics.Dataset) error {
		if err := checkScope(ds, opt.Scope); err != nil {
			return err
		}
		sc = scorecard.Build(s.Catalog, ds, opt)
		ch = choices(ds)
		return nil
	})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hp := newHomePage(sc)
	es, err := s.escalations(r, escalation.Options{AsOf: opt.AsOf, Scope: opt.Scope})
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	hp.Escalations = newEscalationPanel(es)
	pg := s.newPage(r, "Scorecard", q, hp)
	pg.Controls, pg.Choices, pg.AsOf = true, ch, sc.AsOf
	s.render(w, r, http.StatusOK, "home", pg)
}

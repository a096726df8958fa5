package web

import (
	"slices"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

// A pillar's colour is explained by a card on the page: a red metric that
// is not a headline follows the headline cards when none of them is red.
func TestHomeCardsExplainThePillarsColour(t *testing.T) {
	card := func(id string, st catalog.Status, headline bool) scorecard.Card {
		return scorecard.Card{ID: id, Status: st, Headline: headline}
	}
	ids := func(cs []scorecard.Card) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		pillar scorecard.Pillar
		want   []string
	}{
		{"a red metric behind green and amber headlines", scorecard.Pillar{Status: catalog.Red, Metrics: []scorecard.Card{
			card("availability", catalog.Amber, true), card("p0p1", catalog.Green, true),
			card("error_budget", catalog.Red, false), card("mttr", catalog.Amber, false),
		}}, []string{"availability", "p0p1", "error_budget"}},
		{"a red headline says it", scorecard.Pillar{Status: catalog.Red, Metrics: []scorecard.Card{
			card("availability", catalog.Red, true), card("error_budget", catalog.Red, false),
		}}, []string{"availability"}},
		{"one more: the folded list names the others", scorecard.Pillar{Status: catalog.Red, Metrics: []scorecard.Card{
			card("h", catalog.Green, true), card("r1", catalog.Red, false), card("r2", catalog.Red, false),
		}}, []string{"h", "r1"}},
		{"amber from an unknown metric: the unknown block says it", scorecard.Pillar{Status: catalog.Amber, Metrics: []scorecard.Card{
			card("h", catalog.Green, true), card("u", catalog.Unknown, false),
		}}, []string{"h"}},
		{"green", scorecard.Pillar{Status: catalog.Green, Metrics: []scorecard.Card{card("h", catalog.Green, true)}}, []string{"h"}},
	} {
		hp := newHomePage(&scorecard.Scorecard{Pillars: []scorecard.Pillar{c.pillar}})
		if got := ids(hp.Pillars[0].Cards); !slices.Equal(got, c.want) {
			t.Errorf("%s: cards %v, want %v", c.name, got, c.want)
		}
	}
}

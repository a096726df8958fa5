package web

import (
	"slices"
	"strings"
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
		hp := newHomePage(&scorecard.Scorecard{Pillars: []scorecard.Pillar{c.pillar}}, "USD")
		if got := ids(hp.Pillars[0].Cards); !slices.Equal(got, c.want) {
			t.Errorf("%s: cards %v, want %v", c.name, got, c.want)
		}
	}
}

// What a card's labels mean ("weekly", "degrading 3 wks", "no trend") is
// on the scorecard where a keyboard, a touch screen and a screen reader
// reach it, not only in title attributes, which none of them shows; the
// printed sheet leaves it out (the browser test holds it to one page).
func TestHomeSaysHowToReadACard(t *testing.T) {
	e := newEnv(t, 0)
	home := e.page(t, e.sessionAs(t, "executive"), "/", 200)
	i := strings.Index(home, `<details class="howto">`)
	if i < 0 {
		t.Fatal("the scorecard has no explanation of its cards")
	}
	howto := home[i : i+strings.Index(home[i:], "</details>")]
	for _, want := range []string{"How to read a card", "<em>weekly</em> is the last 12 weeks, one point a week", "“degrading 3 wks”", "“no trend: …” says in a few words why", "never green"} {
		if !strings.Contains(howto, want) {
			t.Errorf("the explanation lacks %q:\n%s", want, howto)
		}
	}
	if strings.Index(home, `class="pillars"`) < i {
		t.Error("the explanation comes after the cards it explains")
	}
}

package web

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/scorecard"
)

// A card reading several kinds names its least current one and how far
// the others reach: "data as of 00:38" (the newest incident) had read as
// if the morning's deployments, which it counts, were not in it.
func TestFreshnessNamesTheLeastCurrentSource(t *testing.T) {
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	card := func(last *time.Time, src ...scorecard.SourceFresh) scorecard.Card {
		return scorecard.Card{Freshness: scorecard.Freshness{LastData: last, Sources: src}}
	}
	for _, c := range []struct {
		card scorecard.Card
		want string
	}{
		{card(at("2026-12-07T00:38:00Z"), scorecard.SourceFresh{Kind: "deployment", LastData: at("2026-12-07T11:49:00Z")}, scorecard.SourceFresh{Kind: "incident", LastData: at("2026-12-07T00:38:00Z")}),
			"data as of 7 Dec 2026 00:38 UTC (incident; deployment 11:49)"},
		{card(at("2026-12-06T22:00:00Z"), scorecard.SourceFresh{Kind: "ticket", LastData: at("2026-12-06T22:00:00Z")}, scorecard.SourceFresh{Kind: "deployment", LastData: at("2026-12-07T11:49:00Z")}),
			"data as of 6 Dec 2026 22:00 UTC (ticket; deployment 7 Dec 11:49)"},
		// One source, or all as current: nothing to tell apart.
		{card(at("2026-12-07T00:38:00Z"), scorecard.SourceFresh{Kind: "incident", LastData: at("2026-12-07T00:38:00Z")}), "data as of 7 Dec 2026 00:38 UTC"},
		{card(at("2026-12-07T00:38:00Z"), scorecard.SourceFresh{Kind: "incident", LastData: at("2026-12-07T00:38:00Z")}, scorecard.SourceFresh{Kind: "deployment", LastData: at("2026-12-07T00:38:00Z")}), "data as of 7 Dec 2026 00:38 UTC"},
		{card(nil), "no data yet"},
	} {
		if got := freshness(c.card); got != c.want {
			t.Errorf("freshness = %q, want %q", got, c.want)
		}
	}
}

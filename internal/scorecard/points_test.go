package scorecard

import (
	"testing"
)

// A shorter series (Options.Points, the alerts' 4) has the last points of
// the full one and the same degrading flag on every metric (Degrading
// reads the last four points only).
func TestShortSeriesKeepsDegrading(t *testing.T) {
	ds, err := generated()
	if err != nil {
		t.Fatal(err)
	}
	cat := defaultCatalog(t)
	full, short := Build(cat, ds, Options{AsOf: genEnd}), Build(cat, ds, Options{AsOf: genEnd, Points: 4})
	cards := map[string]Card{}
	for _, p := range short.Pillars {
		for _, c := range p.Metrics {
			cards[c.ID] = c
		}
	}
	n := 0
	for _, p := range full.Pillars {
		for _, c := range p.Metrics {
			s, ok := cards[c.ID]
			if !ok || len(s.Series) != 4 || s.Degrading != c.Degrading {
				t.Errorf("%s: %d points, degrading %v; full series degrading %v", c.ID, len(s.Series), s.Degrading, c.Degrading)
				continue
			}
			for i, pt := range s.Series {
				f := c.Series[len(c.Series)-4+i]
				if pt.End != f.End || (pt.Value == nil) != (f.Value == nil) || pt.Value != nil && *pt.Value != *f.Value {
					t.Errorf("%s point %d: %+v, full %+v", c.ID, i, pt, f)
				}
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no metric compared")
	}
}

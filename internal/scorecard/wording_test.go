package scorecard

import (
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// A line of a dimension whose name starts with a vowel takes "an": sales
// cycle by owner read "a owner is judged only against a target of its own".
func TestNoOwnTargetReasonArticle(t *testing.T) {
	cat, err := defaultCatalog(t).Apply(map[string]catalog.Override{"sales_cycle_length": {Target: ptr(30), MinSample: whole(1)}})
	if err != nil {
		t.Fatal(err)
	}
	const data = `{"kind":"opportunity","id":"o1","owner":"ann","created_at":"2026-02-01T00:00:00Z","amount":1000,"stage":"closed_won","closed_at":"2026-03-30T00:00:00Z","won":true}
`
	ds := load(t, metrics.DefaultConfig(), data)
	d, err := Detail(cat, ds, "sales_cycle_length", Options{AsOf: asOf}, "owner", metrics.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Breakdown) == 0 {
		t.Fatalf("no breakdown by owner: %+v", d.Card)
	}
	for _, l := range d.Breakdown {
		if !strings.Contains(l.Reason, "and an owner is judged only against a target of its own") {
			t.Errorf("%s: %q, want \"an owner is judged\"", l.Key, l.Reason)
		}
	}
}

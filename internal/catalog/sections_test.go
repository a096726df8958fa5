package catalog

import (
	"strings"
	"testing"
	"time"
)

// The guide says what each view section shows, and lists a view's
// sections beside its metrics.
func TestViewSectionsDocumented(t *testing.T) {
	for _, s := range ViewSections {
		if sectionDocs[s] == "" {
			t.Errorf("section %s has no description in sectionDocs", s)
		}
	}
	c := mustDefault(t)
	docs := Docs(c)
	for _, v := range c.Views {
		for _, s := range v.Sections {
			if !strings.Contains(docs, sectionDocs[s]) {
				t.Errorf("guide lacks view %s's section %s", v.ID, s)
			}
		}
	}
}

// TestAddViewsReplacesTheOrganisations: the organisation's views given to
// AddViews replace those the catalog holds (an approved views section is
// the whole list), so a view may keep its id; a built-in id is refused.
func TestAddViewsReplacesTheOrganisations(t *testing.T) {
	base, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	first, err := base.AddViews([]View{{ID: "ops", Name: "Ops", Metrics: []string{"mttr"}}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	gov := first.Governed()
	next, err := gov.AddViews([]View{{ID: "ops", Name: "Ops", Metrics: []string{"mttr", "change_failure_rate"}}}, "", nil)
	if err != nil {
		t.Fatalf("a view keeping its id: %v", err)
	}
	if len(next.Views) != len(base.Views)+1 {
		t.Errorf("%d views, want the %d built-in ones and ops", len(next.Views), len(base.Views))
	}
	if err := gov.SetViews(next.Views); err != nil {
		t.Fatal(err)
	}
	if v, ok := gov.At(time.Now()).View("ops"); !ok || len(v.Metrics) != 2 {
		t.Errorf("the view in force: %+v %v", v, ok)
	}
	if _, err := gov.AddViews([]View{{ID: base.Views[0].ID, Name: "Mine", Metrics: []string{"mttr"}}}, "", nil); err == nil || !strings.Contains(err.Error(), "built-in view") {
		t.Errorf("a built-in id: %v", err)
	}
}

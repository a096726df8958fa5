package catalog

import (
	"strings"
	"testing"
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

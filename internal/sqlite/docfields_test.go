package sqlite

import (
	"context"
	"strings"
	"testing"

	"github.com/candor/candor/internal/store"
)

// Each reader of an indexed field reads through the field's index
// (migration 021), not a scan of the collection: SQLite uses a partial
// index only when the statement names its collection as the index does.
func TestDocFieldPlans(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, f := range store.IndexedDocFields {
		index := "docs_gate_decision_" + map[string]string{"release.service": "service", "decision": "verdict", "at": "at"}[f.Path]
		type stmt struct {
			name string
			sql  func(store.DocField) (string, error)
			args []any
		}
		stmts := []stmt{{"DocsByField", byFieldSQL, []any{"a", 9, 5}}, {"DocFieldValues", fieldValuesSQL, nil}, {"DocsUnanswered", unansweredSQL, []any{"a", "gate_approval"}}}
		if f.Time {
			stmts = []stmt{{"DocsInPeriod", inPeriodSQL, []any{2461000.5, 2461030.5}}}
		}
		for _, c := range stmts {
			q, err := c.sql(f)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			p := strings.Join(plan, "; ")
			if !strings.Contains(p, "USING INDEX "+index) && !strings.Contains(p, "USING COVERING INDEX "+index) || strings.Contains(p, "SCAN docs") {
				t.Errorf("%s of %s: %s, want a search of %s", c.name, f.Path, p, index)
			}
		}
	}
}

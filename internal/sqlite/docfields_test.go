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
			if !strings.Contains(p, "USING INDEX "+f.Index) && !strings.Contains(p, "USING COVERING INDEX "+f.Index) || strings.Contains(p, "SCAN docs") {
				t.Errorf("%s of %s: %s, want a search of %s", c.name, f.Path, p, f.Index)
			}
		}
	}
}

// A store a Candor before migration 021 left, holding decisions, is
// indexed as it migrates: its decisions are read by their fields.
func TestDocFieldsMigrateExisting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range []string{"a", "b", "a"} {
		if _, err := s.AppendDoc(ctx, "gate_decision", []byte(`{"decision":"allow","release":{"service":"`+svc+`"},"at":"2026-12-01T00:00:00Z"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, stmt := range []string{`DROP INDEX docs_gate_decision_service`, `DROP INDEX docs_gate_decision_verdict`, `DROP INDEX docs_gate_decision_at`,
		`DELETE FROM schema_migrations WHERE version = 21`} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	if s, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if m := s.Migrations(); len(m.Applied) != 1 || m.Applied[0] != 21 {
		t.Fatalf("migrations applied: %+v", m)
	}
	ds, err := s.DocsByField(ctx, store.GateDecisionService, "a", 0, 0)
	if err != nil || len(ds) != 2 {
		t.Errorf("DocsByField(a) = %d documents (%v), want 2", len(ds), err)
	}
	vs, err := s.DocFieldValues(ctx, store.GateDecisionService)
	if err != nil || strings.Join(vs, " ") != "a b" {
		t.Errorf("DocFieldValues = %q (%v), want a b", vs, err)
	}
}

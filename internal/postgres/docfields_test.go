package postgres

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/store"
)

// Each reader of an indexed field reads through the field's index
// (migration 021) once the decisions are many among other documents, not
// a scan of the collection.
func TestDocFieldPlans(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	pgtest.Exec(t, url, `INSERT INTO docs (collection, created_at, body)
		SELECT CASE WHEN i % 4 = 0 THEN 'other' ELSE 'gate_decision' END, 0, convert_to(format(
			'{"decision":"%s","release":{"service":"svc-%s"},"at":"%s"}',
			CASE WHEN i % 50 = 1 THEN 'escalate' ELSE 'allow' END, i % 40,
			to_char(timestamptz '2026-01-01 00:00:00Z' + i * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')), 'UTF8')
		FROM generate_series(1, 20000) i;
		INSERT INTO docs (collection, key, created_at, body)
		SELECT 'gate_approval', id::text, 0, convert_to('{}', 'UTF8') FROM docs WHERE collection = 'gate_decision' AND id % 3 = 0;
		ANALYZE docs`)
	for _, f := range store.IndexedDocFields {
		type stmt struct {
			name string
			sql  func(store.DocField) (string, error)
			args []any
		}
		value := map[string]string{"release.service": "svc-3", "decision": "escalate"}[f.Path]
		stmts := []stmt{{"DocsByField", byFieldSQL, []any{value, int64(1 << 62), 50}}, {"DocFieldValues", fieldValuesSQL, nil}, {"DocsUnanswered", unansweredSQL, []any{value, "gate_approval"}}}
		if f.Time {
			day := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
			stmts = []stmt{{"DocsInPeriod", inPeriodSQL, []any{day, day.Add(24 * time.Hour)}}}
		}
		for _, c := range stmts {
			q, err := c.sql(f)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.pool.Query(ctx, `EXPLAIN `+q, c.args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			rows.Close()
			p := strings.Join(plan, "\n")
			// An answer is looked up by its key, not compared with each
			// escalation (a join filter).
			if !strings.Contains(p, f.Index) || strings.Contains(p, "Seq Scan on docs") || strings.Contains(p, "Join Filter") {
				t.Errorf("%s of %s:\n%s\nwant a read of %s", c.name, f.Path, p, f.Index)
			}
		}
	}
}

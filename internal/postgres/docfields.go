package postgres

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
)

// fieldSQL is field f's expression as migration 021 indexes it, and the
// WHERE naming its collection as the partial index does. Only the indexed
// fields are read, so the names written into the statement are the
// store's own.
func fieldSQL(f store.DocField, isTime bool) (expr, where string, err error) {
	if err := store.CheckDocField(f, isTime); err != nil {
		return "", "", err
	}
	fn := "doc_field"
	if f.Time {
		fn = "doc_time"
	}
	return fn + `(body, '{` + strings.ReplaceAll(f.Path, ".", ",") + `}')`, `collection = '` + f.Collection + `'`, nil
}

// The readers' statements, each through field f's index
// (TestDocFieldPlans).
func byFieldSQL(f store.DocField) (string, error) {
	expr, where, err := fieldSQL(f, false)
	return `SELECT id, created_at, coalesce(key, ''), body FROM docs
		WHERE ` + where + ` AND ` + expr + ` = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, err
}

func fieldValuesSQL(f store.DocField) (string, error) {
	expr, where, err := fieldSQL(f, false)
	return `WITH RECURSIVE v(x) AS (
			SELECT min(` + expr + `) FROM docs WHERE ` + where + `
			UNION ALL
			SELECT (SELECT min(` + expr + `) FROM docs WHERE ` + where + ` AND ` + expr + ` > v.x) FROM v WHERE v.x IS NOT NULL
		) SELECT x FROM v WHERE x IS NOT NULL`, err
}

func unansweredSQL(f store.DocField) (string, error) {
	expr, where, err := fieldSQL(f, false)
	return `SELECT id, created_at, coalesce(key, ''), body FROM docs
		WHERE ` + where + ` AND ` + expr + ` = $1
		AND NOT EXISTS (SELECT 1 FROM docs a WHERE a.collection = $2 AND a.key = docs.id::text)
		ORDER BY id DESC`, err
}

func inPeriodSQL(f store.DocField) (string, error) {
	expr, where, err := fieldSQL(f, true)
	return `SELECT id, created_at, coalesce(key, ''), body FROM docs
		WHERE ` + where + ` AND ` + expr + ` >= $1 AND ` + expr + ` < $2 ORDER BY id DESC`, err
}

// DocsByField implements store.DocFieldReader.
func (s *DB) DocsByField(ctx context.Context, f store.DocField, value string, before int64, limit int) ([]store.Doc, error) {
	q, err := byFieldSQL(f)
	if err != nil {
		return nil, err
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	var lim *int // LIMIT NULL is no limit
	if limit > 0 {
		lim = &limit
	}
	rows, err := s.pool.Query(ctx, q, value, before, lim)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, f.Collection)
}

// DocFieldValues implements store.DocFieldReader: one probe of the index
// for each value, not a read of every entry. The values are sorted here:
// the index's order is the database's collation, not bytes.
func (s *DB) DocFieldValues(ctx context.Context, f store.DocField) ([]string, error) {
	q, err := fieldValuesSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out, err := store.ScanStrings(rows)
	slices.Sort(out)
	return out, err
}

// DocsUnanswered implements store.DocFieldReader.
func (s *DB) DocsUnanswered(ctx context.Context, f store.DocField, value, answers string) ([]store.Doc, error) {
	q, err := unansweredSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, q, value, answers)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, f.Collection)
}

// DocsInPeriod implements store.DocFieldReader. The index holds a time to
// the microsecond: it reads a second either side, and store.InPeriod
// keeps the period's.
func (s *DB) DocsInPeriod(ctx context.Context, f store.DocField, from, to time.Time) ([]store.Doc, error) {
	q, err := inPeriodSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, q, from.Add(-time.Second), to.Add(time.Second))
	if err != nil {
		return nil, err
	}
	ds, err := scanDocs(rows, f.Collection)
	return store.InPeriod(ds, f, from, to), err
}

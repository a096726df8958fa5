package sqlite

import (
	"context"
	"math"
	"time"

	"github.com/candor/candor/internal/store"
)

// fieldSQL is field f's expression as migration 021 indexes it, the table
// read through its index (INDEXED BY: on a table without statistics SQLite
// would rather read the collection's every document), and the WHERE naming
// its collection as the partial index does, literally, or SQLite does not
// use it. Only the indexed fields are read, so the names written into the
// statement are the store's own.
func fieldSQL(f store.DocField, isTime bool) (expr, from, where string, err error) {
	if err := store.CheckDocField(f, isTime); err != nil {
		return "", "", "", err
	}
	expr = `json_extract(CAST(body AS TEXT), '$.` + f.Path + `')`
	if f.Time {
		expr = `julianday(` + expr + `)`
	}
	return expr, `docs INDEXED BY ` + f.Index, `collection = '` + f.Collection + `'`, nil
}

// The readers' statements, each through field f's index
// (TestDocFieldPlans).
func byFieldSQL(f store.DocField) (string, error) {
	expr, from, where, err := fieldSQL(f, false)
	return `SELECT id, created_at, coalesce(key, ''), body FROM ` + from + `
		WHERE ` + where + ` AND ` + expr + ` = ? AND id < ? ORDER BY id DESC LIMIT ?`, err
}

func fieldValuesSQL(f store.DocField) (string, error) {
	expr, from, where, err := fieldSQL(f, false)
	return `WITH RECURSIVE v(x) AS (
			SELECT min(` + expr + `) FROM ` + from + ` WHERE ` + where + `
			UNION ALL
			SELECT (SELECT min(` + expr + `) FROM ` + from + ` WHERE ` + where + ` AND ` + expr + ` > v.x) FROM v WHERE v.x IS NOT NULL
		) SELECT x FROM v WHERE x IS NOT NULL`, err
}

func unansweredSQL(f store.DocField) (string, error) {
	expr, from, where, err := fieldSQL(f, false)
	return `SELECT id, created_at, coalesce(key, ''), body FROM ` + from + `
		WHERE ` + where + ` AND ` + expr + ` = ?
		AND NOT EXISTS (SELECT 1 FROM docs a WHERE a.collection = ? AND a.key = CAST(docs.id AS TEXT))
		ORDER BY id DESC`, err
}

func inPeriodSQL(f store.DocField) (string, error) {
	expr, from, where, err := fieldSQL(f, true)
	return `SELECT id, created_at, coalesce(key, ''), body FROM ` + from + `
		WHERE ` + where + ` AND ` + expr + ` >= ? AND ` + expr + ` < ? ORDER BY id DESC`, err
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
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.query(ctx, q, value, before, limit)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, f.Collection)
}

// DocFieldValues implements store.DocFieldReader: one probe of the index
// for each value, not a read of every entry.
func (s *DB) DocFieldValues(ctx context.Context, f store.DocField) ([]string, error) {
	q, err := fieldValuesSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanStrings(rows)
}

// DocsUnanswered implements store.DocFieldReader.
func (s *DB) DocsUnanswered(ctx context.Context, f store.DocField, value, answers string) ([]store.Doc, error) {
	q, err := unansweredSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, q, value, answers)
	if err != nil {
		return nil, err
	}
	return scanDocs(rows, f.Collection)
}

// DocsInPeriod implements store.DocFieldReader. The index holds a Julian
// day, to about a millisecond: it reads a second either side, and
// store.InPeriod keeps the period's.
func (s *DB) DocsInPeriod(ctx context.Context, f store.DocField, from, to time.Time) ([]store.Doc, error) {
	q, err := inPeriodSQL(f)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, q, julianDay(from.Add(-time.Second)), julianDay(to.Add(time.Second)))
	if err != nil {
		return nil, err
	}
	ds, err := scanDocs(rows, f.Collection)
	return store.InPeriod(ds, f, from, to), err
}

// julianDay is t as SQLite's julianday() reads it.
func julianDay(t time.Time) float64 {
	return float64(t.Unix())/86400 + float64(t.Nanosecond())/86400e9 + 2440587.5
}

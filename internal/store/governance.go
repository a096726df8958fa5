package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Opens counts how often someone opened a page — and, on it, a metric or a
// role view — in a week (SPEC §5 adoption: kept as counts, no content).
type Opens struct {
	// Week is the week's Monday (UTC), YYYY-MM-DD.
	Week string
	// Who is auth.Person's name of the principal; "" once retention
	// forgot it (ForgetOpeners).
	Who string
	// Page is the route ("GET /metrics/{id}"); Subject what it showed
	// ("metric:ID", "view:ID"), "" for nothing in particular.
	Page, Subject string
	Count         int64
}

// AdoptionStore keeps the adoption counts.
type AdoptionStore interface {
	// AddOpens adds the counts to those kept (one transaction).
	AddOpens(ctx context.Context, opens []Opens) error
	// Opens returns the counts of the weeks from ≤ week < to, ordered by
	// week, who, page and subject.
	Opens(ctx context.Context, from, to string) ([]Opens, error)
	// ForgetOpeners merges the counts of weeks before the given one into
	// who "" and returns how many rows named someone.
	ForgetOpeners(ctx context.Context, before string) (int64, error)
	// OpensBegan returns when the counts began: the earlier of the
	// adoption table's creation (its migration's applied_at) and the
	// Monday of the first week holding a count.
	OpensBegan(ctx context.Context) (time.Time, error)
}

// OpensSQL are the adoption statements both SQL stores use, with %[n]s for
// their placeholders.
const (
	AddOpensSQL = `INSERT INTO adoption (week, who, page, subject, opens) VALUES (%[1]s, %[2]s, %[3]s, %[4]s, %[5]s)
		ON CONFLICT (week, who, page, subject) DO UPDATE SET opens = adoption.opens + excluded.opens`
	OpensSQL        = `SELECT week, who, page, subject, opens FROM adoption WHERE week >= %[1]s AND week < %[2]s ORDER BY week, who, page, subject`
	MergeOpenersSQL = `INSERT INTO adoption (week, who, page, subject, opens) SELECT week, '', page, subject, sum(opens) FROM adoption WHERE week < %[1]s AND who <> '' GROUP BY week, page, subject
		ON CONFLICT (week, who, page, subject) DO UPDATE SET opens = adoption.opens + excluded.opens`
	DeleteOpenersSQL = `DELETE FROM adoption WHERE week < %[1]s AND who <> ''`
	// FirstOpensWeekSQL is the first week holding a count, NULL for none.
	FirstOpensWeekSQL = `SELECT min(week) FROM adoption`
	// AdoptionMigration is the version of both stores' migration that
	// creates the adoption table: counting began when it was applied.
	AdoptionMigration = 9
)

// OpensBegan is the adoption table's creation, or the first week holding
// a count (NULL when none holds one) where that week ended before it:
// counts restored or written before the table's creation on this store
// still say their week was observed. A first week holding the creation
// gives the creation: its Monday had said counts began days before the
// store existed.
func OpensBegan(created time.Time, firstWeek sql.NullString) (time.Time, error) {
	began := created.UTC()
	if !firstWeek.Valid {
		return began, nil
	}
	w, err := time.Parse(time.DateOnly, firstWeek.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("adoption: week %q: %w", firstWeek.String, err)
	}
	if !w.AddDate(0, 0, 7).After(began) {
		began = w
	}
	return began, nil
}

// ScanOpens reads OpensSQL's rows, which the caller closes.
func ScanOpens(rows Rows) ([]Opens, error) {
	out := []Opens{}
	for rows.Next() {
		var o Opens
		if err := rows.Scan(&o.Week, &o.Who, &o.Page, &o.Subject, &o.Count); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

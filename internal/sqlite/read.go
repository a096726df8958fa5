package sqlite

import (
	"context"
	"database/sql"
)

// Every read of the store goes through query, queryRow or stmtRow, so that
// its error goes through the damage check (checked) as the writes' do: a
// damaged page is found by whichever statement reads it first, and a read
// that returned SQLite's bare "database disk image is malformed" named
// neither the file nor what to do, and left Damaged, and so /healthz,
// unaware. SQLite reports the damage where the page is read — at the query,
// at a row's Scan or at the rows' end (Err) — so the wrappers check each.
// The open's own reads (checkStore, migrate) are not among them: their
// errors name the file already, and a store that does not open is never
// asked whether it is damaged.

// checkedRows is a result set whose errors are checked.
type checkedRows struct {
	*sql.Rows
	s *DB
}

func (r checkedRows) Scan(dest ...any) error { return r.s.checked(r.Rows.Scan(dest...)) }
func (r checkedRows) Err() error             { return r.s.checked(r.Rows.Err()) }

// checkedRow is a single-row result whose error is checked; sql.ErrNoRows comes
// back as it is.
type checkedRow struct {
	*sql.Row
	s *DB
}

func (r checkedRow) Scan(dest ...any) error { return r.s.checked(r.Row.Scan(dest...)) }

// query runs a read returning rows; on success the caller closes them.
func (s *DB) query(ctx context.Context, q string, args ...any) (checkedRows, error) {
	r, err := s.db.QueryContext(ctx, q, args...)
	return checkedRows{r, s}, s.checked(err)
}

// queryRow runs a read returning one row.
func (s *DB) queryRow(ctx context.Context, q string, args ...any) checkedRow {
	return checkedRow{s.db.QueryRowContext(ctx, q, args...), s}
}

// stmtRow runs a prepared read returning one row.
func (s *DB) stmtRow(ctx context.Context, st *sql.Stmt, args ...any) checkedRow {
	return checkedRow{st.QueryRowContext(ctx, args...), s}
}

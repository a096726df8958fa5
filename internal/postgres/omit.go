package postgres

import (
	"context"

	"github.com/candor/candor/internal/store"
)

// DocsOmitting implements store.DocsOmittingReader: PostgreSQL removes the
// fields and measures the sized one (its base64 without padding, three
// bytes in four characters), so only what is listed reaches the program.
func (s *DB) DocsOmitting(ctx context.Context, collection string, omit []string, sized string) ([]store.SizedDoc, error) {
	if err := store.CheckOmit(omit, sized); err != nil {
		return nil, err
	}
	// Each body is parsed once (MATERIALIZED: inlined, the cast was
	// evaluated for each use), and its sized string taken out once.
	rows, err := s.pool.Query(ctx, `WITH d AS MATERIALIZED (
			SELECT id, created_at, coalesce(key, '') AS key, convert_from(body, 'UTF8')::jsonb AS j
			FROM docs WHERE collection = $1
		), e AS MATERIALIZED (SELECT id, created_at, key, j - $2::text[] AS rest, j ->> $3 AS sized FROM d)
		SELECT id, created_at, key, rest::text, coalesce(length(rtrim(sized, '=')), 0) FROM e ORDER BY id DESC`, collection, omit, sized)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanSizedDocs(rows, collection)
}

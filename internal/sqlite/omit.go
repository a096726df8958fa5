package sqlite

import (
	"context"
	"strings"

	"github.com/candor/candor/internal/store"
)

// DocsOmitting implements store.DocsOmittingReader: SQLite removes the
// fields and measures the sized one (its base64 without padding, three
// bytes in four characters), so only what is listed reaches the program.
func (s *DB) DocsOmitting(ctx context.Context, collection string, omit []string, sized string) ([]store.SizedDoc, error) {
	if err := store.CheckOmit(omit, sized); err != nil {
		return nil, err
	}
	args := []any{}
	for _, f := range omit {
		args = append(args, "$."+f)
	}
	args = append(args, "$."+sized, collection)
	rows, err := s.query(ctx, `SELECT id, created_at, coalesce(key, ''),
			json_remove(CAST(body AS TEXT)`+strings.Repeat(", ?", len(omit))+`),
			coalesce(length(rtrim(json_extract(CAST(body AS TEXT), ?), '=')), 0)
		FROM docs WHERE collection = ? ORDER BY id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.ScanSizedDocs(rows, collection)
}

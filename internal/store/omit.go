package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// SizedDoc is a document read without some of its top-level fields
// (DocsOmitting), with the size of one of them.
type SizedDoc struct {
	Doc
	// Size is the length in bytes of the field asked for, a []byte (which
	// encoding/json writes as base64): 0 when the body has none.
	Size int
}

// DocsOmittingReader reads a collection's documents without the fields a
// list of them does not show: the archived reports' list had read every
// board pack's PDF and digest's messages, to show their months and sizes.
// Both SQL stores implement it.
type DocsOmittingReader interface {
	// DocsOmitting returns the documents of collection, newest first,
	// each body without the top-level fields omit names, and with Size
	// the length of sized's bytes, sized one of omit.
	DocsOmitting(ctx context.Context, collection string, omit []string, sized string) ([]SizedDoc, error)
}

// DocsOmitting reads collection's documents as DocsOmittingReader does:
// in the store when docs reads so, else from the whole collection.
func DocsOmitting(ctx context.Context, docs DocStore, collection string, omit []string, sized string) ([]SizedDoc, error) {
	if err := CheckOmit(omit, sized); err != nil {
		return nil, err
	}
	if r, ok := docs.(DocsOmittingReader); ok {
		return r.DocsOmitting(ctx, collection, omit, sized)
	}
	all, err := docs.Docs(ctx, collection, 0)
	if err != nil {
		return nil, err
	}
	out := make([]SizedDoc, len(all))
	for i, d := range all {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(d.Body, &m); err != nil {
			return nil, fmt.Errorf("document %d of %s: %w", d.ID, collection, err)
		}
		var b []byte
		if raw, ok := m[sized]; ok {
			if err := json.Unmarshal(raw, &b); err != nil {
				return nil, fmt.Errorf("document %d of %s: %s: %w", d.ID, collection, sized, err)
			}
		}
		for _, f := range omit {
			delete(m, f)
		}
		if d.Body, err = json.Marshal(m); err != nil {
			return nil, err
		}
		out[i] = SizedDoc{Doc: d, Size: len(b)}
	}
	return out, nil
}

// CheckOmit refuses what a store could not write into its statement as a
// top-level field: a name of anything but ASCII letters, digits and
// underscores, or a sized field not omitted.
func CheckOmit(omit []string, sized string) error {
	if !slices.Contains(omit, sized) {
		return fmt.Errorf("the sized field %q is not one of those omitted, %q", sized, omit)
	}
	for _, f := range omit {
		if f == "" || slices.ContainsFunc([]byte(f), func(c byte) bool {
			return !(c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
		}) {
			return fmt.Errorf("%q is not a top-level field's name", f)
		}
	}
	return nil
}

// ScanSizedDocs reads rows of id, created_at (unix nanoseconds), key,
// body and the sized field's base64 length without its padding, which
// it turns into bytes (three in four characters): a DocsOmitting
// statement's.
func ScanSizedDocs(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}, collection string) ([]SizedDoc, error) {
	out := []SizedDoc{}
	for rows.Next() {
		d := SizedDoc{Doc: Doc{Collection: collection}}
		var created int64
		var body string
		if err := rows.Scan(&d.ID, &created, &d.Key, &body, &d.Size); err != nil {
			return nil, err
		}
		d.Body, d.CreatedAt, d.Size = []byte(body), time.Unix(0, created).UTC(), d.Size*3/4
		out = append(out, d)
	}
	return out, rows.Err()
}

package store

import "context"

// DocRedactor rewrites documents for retention (SPEC §5): the one change
// the documents' append-only triggers allow, once per document, of the
// body alone. Both SQL stores implement it.
type DocRedactor interface {
	// RedactDocs replaces the body of each document (by collection and
	// id) not rewritten before, in one transaction, and returns how many
	// it rewrote; a document rewritten before is left as it is.
	RedactDocs(ctx context.Context, docs []Doc) (int64, error)
}

package store

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/candor/candor/internal/domain"
)

// RecordWithDoc is a record and a keyed document read together
// (GetWithDoc); Found and DocFound say which of them exist.
type RecordWithDoc struct {
	Record   Stored
	Found    bool
	Doc      Doc
	DocFound bool
}

// RecordDocGetter is a store that reads a record and a keyed document in
// one statement. A connector's merged pull request reads both for every
// delivery (the stored change, the first review kept for it); as two
// statements each began a read of its own, which in SQLite after every
// commit re-reads the pages the writer changed.
type RecordDocGetter interface {
	GetWithDoc(ctx context.Context, key domain.Key, collection, docKey string) (RecordWithDoc, error)
}

// GetWithDoc reads the record of key and the document of collection kept
// under docKey: in one statement when st is a RecordDocGetter, else as
// Get and DocByKey do.
func GetWithDoc(ctx context.Context, st Store, key domain.Key, collection, docKey string) (RecordWithDoc, error) {
	if g, ok := st.(RecordDocGetter); ok {
		return g.GetWithDoc(ctx, key, collection, docKey)
	}
	var out RecordWithDoc
	var err error
	if out.Doc, out.DocFound, err = st.DocByKey(ctx, collection, docKey); err != nil {
		return out, err
	}
	out.Record, err = st.Get(ctx, key)
	switch {
	case errors.Is(err, ErrNotFound):
		out.Record = Stored{Key: key}
		return out, nil
	case err != nil:
		return out, err
	}
	out.Found = true
	return out, nil
}

// RecordDocRow is the row a store's GetWithDoc statement reads: the
// record's columns and the document's, each nil when it has none.
type RecordDocRow struct {
	Seq, IngestedAt, EventTime, DocID, DocCreatedAt *int64
	Hash, RawHash                                   *string
	Body, DocBody                                   []byte
}

// Result is what the row read for key and the document of collection
// kept under docKey.
func (r RecordDocRow) Result(key domain.Key, collection, docKey string) RecordWithDoc {
	out := RecordWithDoc{Record: Stored{Key: key}}
	if r.Seq != nil {
		out.Found = true
		out.Record.Seq, out.Record.IngestedAt, out.Record.Body = *r.Seq, time.Unix(0, deref(r.IngestedAt)).UTC(), r.Body
		out.Record.Hash, out.Record.RawHash = deref(r.Hash), deref(r.RawHash)
		if r.EventTime != nil {
			out.Record.EventTime = time.Unix(0, *r.EventTime).UTC()
		}
	}
	if r.DocID != nil {
		out.DocFound = true
		out.Doc = Doc{Collection: collection, Key: docKey, ID: *r.DocID, CreatedAt: time.Unix(0, deref(r.DocCreatedAt)).UTC(), Body: r.DocBody}
	}
	return out
}

func deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

// DocKeyArg is docKey as a GetWithDoc statement's argument: NULL for
// "", since unkeyed documents are not found by key and "key = NULL" holds
// for none.
func DocKeyArg(docKey string) any {
	if docKey == "" {
		return nil
	}
	return docKey
}

// DocByIDReader reads one document of a collection by its id, through
// the primary key: a gate decision a pipeline polls (--wait) had been
// found by reading and decoding every decision, ~90 ms at 10,000 of them
// (docs/performance.md). Both SQL stores implement it.
type DocByIDReader interface {
	// DocByID returns the document of collection with the id, and false
	// when the collection holds none with it.
	DocByID(ctx context.Context, collection string, id int64) (Doc, bool, error)
}

// DocByID reads the document of collection with the id: by its key when
// docs reads by id, else from the whole collection.
func DocByID(ctx context.Context, docs DocStore, collection string, id int64) (Doc, bool, error) {
	if r, ok := docs.(DocByIDReader); ok {
		return r.DocByID(ctx, collection, id)
	}
	all, err := docs.Docs(ctx, collection, 0)
	if err != nil {
		return Doc{}, false, err
	}
	for _, d := range all {
		if d.ID == id {
			return d, true, nil
		}
	}
	return Doc{}, false, nil
}

// DocsBeforeReader reads a collection's documents a page at a time,
// newest first, through the (collection, id) index: the API's list of gate
// decisions had read and decoded every decision for each page (~90 ms at
// 10,000 of them). Both SQL stores implement it.
type DocsBeforeReader interface {
	// DocsBefore returns the documents of collection whose id is below
	// before (every one when before <= 0), newest first, at most limit
	// (limit > 0).
	DocsBefore(ctx context.Context, collection string, before int64, limit int) ([]Doc, error)
}

// DocsBefore reads a page of collection's documents newest first, those
// with ids below before (all when before <= 0), at most limit: through
// the index when docs reads so, else from the whole collection.
func DocsBefore(ctx context.Context, docs DocStore, collection string, before int64, limit int) ([]Doc, error) {
	if before <= 0 {
		before = math.MaxInt64
	}
	if r, ok := docs.(DocsBeforeReader); ok {
		return r.DocsBefore(ctx, collection, before, limit)
	}
	all, err := docs.Docs(ctx, collection, 0)
	if err != nil {
		return nil, err
	}
	i, _ := slices.BinarySearchFunc(all, before, func(d Doc, id int64) int { return cmp.Compare(id, d.ID) })
	all = all[i:]
	return all[:min(limit, len(all))], nil
}

// KeyPrefixReader reads a collection's keyed documents whose key starts
// with a prefix, through the (collection, key) index: one person's
// documents among everyone's (an in-app inbox and its read marks keyed
// by the person), without reading the others'. Both SQL stores implement
// it.
type KeyPrefixReader interface {
	// DocsByKeyPrefix returns the documents of collection whose key
	// starts with prefix and whose id is above after, newest first, at
	// most limit (all when limit <= 0).
	DocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64, limit int) ([]Doc, error)
	// CountDocsByKeyPrefix counts those documents.
	CountDocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64) (int64, error)
}

// PrefixEnd is the least key above every key starting with prefix (keys
// compare byte for byte), or "" when there is none (a prefix of 0xff
// bytes, or empty): the range is then open above. Stores read the
// prefix's keys as key >= prefix AND key < PrefixEnd(prefix), which the
// (collection, key) index answers.
func PrefixEnd(prefix string) string {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return ""
}

package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	i, found := slices.BinarySearchFunc(all, before, func(d Doc, id int64) int { return cmp.Compare(id, d.ID) })
	if found {
		i++ // below before, not at it
	}
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

// DocField is a JSON field of a collection's documents, Path its keys
// from the body's top ("release.service"), that the SQL stores index
// (migration 021): its documents are read by the field's value without
// reading and decoding the collection's others. The /gates page, a
// deployment's record page and the period reports had each read every
// gate decision (~100 ms a request at 10,000 of them).
//
// Time says the field is a time (RFC 3339, as encoding/json writes a
// time.Time), read by DocsInPeriod; else it is a string. Index names the
// index the migration makes for it, in both stores.
type DocField struct {
	Collection, Path string
	Time             bool
	Index            string
}

// The fields the stores index, each as the gate records it (package
// gate): a decision's service, its verdict, and when it was made (a
// time, RFC 3339).
var (
	GateDecisionService = DocField{Collection: "gate_decision", Path: "release.service", Index: "docs_gate_decision_service"}
	GateDecisionVerdict = DocField{Collection: "gate_decision", Path: "decision", Index: "docs_gate_decision_verdict"}
	GateDecisionAt      = DocField{Collection: "gate_decision", Path: "at", Time: true, Index: "docs_gate_decision_at"}
)

// IndexedDocFields are the fields a DocFieldReader reads by their index;
// the readers refuse any other (its SQL would read the whole collection).
var IndexedDocFields = []DocField{GateDecisionService, GateDecisionVerdict, GateDecisionAt}

// CheckDocField says whether the stores index f, as a time when isTime,
// else as a string.
func CheckDocField(f DocField, isTime bool) error {
	switch {
	case !slices.Contains(IndexedDocFields, f):
		return fmt.Errorf("%s.%s: not an indexed document field", f.Collection, f.Path)
	case f.Time != isTime:
		return fmt.Errorf("%s.%s: a time is read by its period, a string by its value", f.Collection, f.Path)
	}
	return nil
}

// DocFieldReader reads documents by an indexed field of their JSON body
// (IndexedDocFields). Both SQL stores implement it.
type DocFieldReader interface {
	// DocsByField returns the documents of f.Collection whose field f is
	// the string value and whose id is below before (any when before <=
	// 0), newest first, at most limit (all when limit <= 0).
	DocsByField(ctx context.Context, f DocField, value string, before int64, limit int) ([]Doc, error)
	// DocFieldValues returns the distinct string values of field f among
	// f.Collection's documents, in byte order; a document without it
	// gives none.
	DocFieldValues(ctx context.Context, f DocField) ([]string, error)
	// DocsUnanswered returns the documents of f.Collection whose field f
	// is value and which no document of collection answers keys by their
	// id (an escalated gate decision no approval settles), newest first.
	DocsUnanswered(ctx context.Context, f DocField, value, answers string) ([]Doc, error)
	// DocsInPeriod returns the documents of f.Collection whose field f, a
	// time, lies in [from, to), newest first.
	DocsInPeriod(ctx context.Context, f DocField, from, to time.Time) ([]Doc, error)
}

// DocsByField reads f.Collection's documents whose field f is value, as
// DocFieldReader.DocsByField does: through the index when docs reads so,
// else from the whole collection.
func DocsByField(ctx context.Context, docs DocStore, f DocField, value string, before int64, limit int) ([]Doc, error) {
	if r, ok := docs.(DocFieldReader); ok {
		return r.DocsByField(ctx, f, value, before, limit)
	}
	all, err := docs.Docs(ctx, f.Collection, 0)
	if err != nil {
		return nil, err
	}
	out := []Doc{}
	for _, d := range all {
		if before > 0 && d.ID >= before {
			continue
		}
		if v, ok := FieldOf(d.Body, f.Path).(string); ok && v == value {
			if out = append(out, d); limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// DocFieldValues reads the distinct values of field f, as
// DocFieldReader.DocFieldValues does.
func DocFieldValues(ctx context.Context, docs DocStore, f DocField) ([]string, error) {
	if r, ok := docs.(DocFieldReader); ok {
		return r.DocFieldValues(ctx, f)
	}
	all, err := docs.Docs(ctx, f.Collection, 0)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, d := range all {
		if v, ok := FieldOf(d.Body, f.Path).(string); ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DocsUnanswered reads the documents whose field f is value that no
// document of answers keys by their id, as DocFieldReader.DocsUnanswered
// does.
func DocsUnanswered(ctx context.Context, docs DocStore, f DocField, value, answers string) ([]Doc, error) {
	if r, ok := docs.(DocFieldReader); ok {
		return r.DocsUnanswered(ctx, f, value, answers)
	}
	ds, err := DocsByField(ctx, docs, f, value, 0, 0)
	if err != nil {
		return nil, err
	}
	out := []Doc{}
	for _, d := range ds {
		_, answered, err := docs.DocByKey(ctx, answers, strconv.FormatInt(d.ID, 10))
		if err != nil {
			return nil, err
		}
		if !answered {
			out = append(out, d)
		}
	}
	return out, nil
}

// DocsInPeriod reads the documents whose time field f lies in [from, to),
// as DocFieldReader.DocsInPeriod does.
func DocsInPeriod(ctx context.Context, docs DocStore, f DocField, from, to time.Time) ([]Doc, error) {
	if r, ok := docs.(DocFieldReader); ok {
		return r.DocsInPeriod(ctx, f, from, to)
	}
	all, err := docs.Docs(ctx, f.Collection, 0)
	if err != nil {
		return nil, err
	}
	return InPeriod(all, f, from, to), nil
}

// InPeriod keeps the documents of ds whose time field f lies in [from,
// to). The stores' indexes hold a field's time to the millisecond
// (SQLite) or microsecond (PostgreSQL): they read a little more and keep
// what this says.
func InPeriod(ds []Doc, f DocField, from, to time.Time) []Doc {
	out := []Doc{}
	for _, d := range ds {
		s, ok := FieldOf(d.Body, f.Path).(string)
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err == nil && !t.Before(from) && t.Before(to) {
			out = append(out, d)
		}
	}
	return out
}

// ScanStrings reads rows of one string each (DocFieldValues').
func ScanStrings(rows interface {
	Next() bool
	Scan(...any) error
	Err() error
}) ([]string, error) {
	out := []string{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// FieldOf is the value at path ("release.service") in the JSON body, nil
// when it has none. Only the path's objects are decoded, each a level at a
// time, not the body's every value.
func FieldOf(body []byte, path string) any {
	raw := json.RawMessage(body)
	for k := range strings.SplitSeq(path, ".") {
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		if raw = m[k]; raw == nil {
			return nil
		}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

package ledger

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/candor/candor/internal/store"
)

// Documents of some collections are chained as they are appended, in the
// same transaction (store.Sealer.DocEntry): the access events, KPI
// snapshots, acknowledgements. The package that appends a collection
// registers how (RegisterDocs); the ledger entry then carries the
// document's id, so the ledger and the collection can be compared.

// DocSpec says how documents of a collection become ledger entries.
type DocSpec struct {
	// Type is the entry type.
	Type string
	// Personal lists the top-level fields of the document's JSON object
	// that are personal: they go to the entry's personal data, chained
	// through a salted digest only.
	Personal []string
	// Digest chains the document's size and SHA-256 instead of its fields
	// (large documents such as KPI snapshots); Summary, when set, adds the
	// fields it returns.
	Digest  bool
	Summary func(body []byte) (map[string]any, error)
	// Retention rewrites a document's personal fields once it is past the
	// ledger's period (Redact): Pseudonymise names the fields — or paths
	// inside one, "acknowledgement.owner" — that identify a person and get
	// a keyed pseudonym (the same person the same pseudonym everywhere, so
	// "who approved whose proposal" still compares); Erase names those
	// emptied (free text, addresses). A personal field with neither itself
	// nor a path inside it named is erased whole.
	Pseudonymise, Erase []string
	// Group, when set, names the documents that must be rewritten together
	// (a proposal and its decisions): none of them is until all are past
	// the period, so comparisons between them never see one rewritten and
	// the other not.
	Group func(d store.Doc) string
}

var (
	docsMu sync.RWMutex
	docs   = map[string]DocSpec{
		store.AccessCollection: {Type: TypeAccess, Personal: []string{"actor", "subject", "client"}, Pseudonymise: []string{"actor", "subject"}},
	}
)

// RegisterDocs makes documents appended to collection ledger entries per
// spec from now on. Call it from an init function.
func RegisterDocs(collection string, spec DocSpec) {
	if !slices.Contains(Types, spec.Type) {
		panic(fmt.Sprintf("ledger: RegisterDocs(%q): unknown entry type %q", collection, spec.Type))
	}
	docsMu.Lock()
	defer docsMu.Unlock()
	docs[collection] = spec
}

// DocEntry implements store.Sealer.
func (s *Sealer) DocEntry(d store.Doc) (store.LedgerEntry, bool, error) {
	docsMu.RLock()
	spec, ok := docs[d.Collection]
	docsMu.RUnlock()
	if !ok {
		return store.LedgerEntry{}, false, nil
	}
	e, err := docEntry(spec, d)
	if err != nil {
		return e, false, fmt.Errorf("ledger entry of %s document %d: %w", d.Collection, d.ID, err)
	}
	return e, true, nil
}

func docEntry(spec DocSpec, d store.Doc) (store.LedgerEntry, error) {
	data := map[string]any{"doc": d.ID}
	if d.Key != "" {
		data["key"] = d.Key
	}
	var personal map[string]any
	if spec.Digest {
		sum := sha256.Sum256(d.Body)
		data["sha256"], data["bytes"] = hex.EncodeToString(sum[:]), len(d.Body)
	} else {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(d.Body, &fields); err != nil {
			return store.LedgerEntry{}, fmt.Errorf("not a JSON object: %w", err)
		}
		for _, k := range slices.Sorted(maps.Keys(fields)) {
			if slices.Contains(spec.Personal, k) {
				if personal == nil {
					personal = map[string]any{}
				}
				personal[k] = fields[k]
			} else if k != "doc" && k != "key" {
				data[k] = fields[k]
			}
		}
	}
	if spec.Summary != nil {
		extra, err := spec.Summary(d.Body)
		if err != nil {
			return store.LedgerEntry{}, err
		}
		maps.Copy(data, extra)
	}
	var p any
	if personal != nil {
		p = personal
	}
	return Entry(spec.Type, data, p)
}

// Redactable returns the collections whose documents hold personal fields
// (DocSpec.Personal) with their specs, by collection name.
func Redactable() map[string]DocSpec {
	docsMu.RLock()
	defer docsMu.RUnlock()
	out := map[string]DocSpec{}
	for c, spec := range docs {
		if len(spec.Personal) > 0 && !spec.Digest {
			out[c] = spec
		}
	}
	return out
}

// NoPerson are values of a personal field that name no person and stay as
// they are: none, and the configuration (a proposal's author at first
// start).
var NoPerson = []string{"", "config"}

// Redact rewrites a document's personal fields per spec: identifiers get
// pseudonym(value), the rest are emptied. changed is false when there was
// nothing left to rewrite (already done, or no personal data). Every other
// field keeps its value (numbers exactly), so the document still matches
// its ledger entry's data; the personal digest the entry chains was of the
// fields as they were, and retention erases it from the ledger too.
func Redact(spec DocSpec, body []byte, pseudonym func(string) string) (out []byte, changed bool, err error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, false, fmt.Errorf("not a JSON object: %w", err)
	}
	set := func(parent map[string]any, key, path string) {
		v, ok := parent[key]
		if !ok {
			return
		}
		s, isString := v.(string)
		switch {
		case slices.Contains(spec.Pseudonymise, path):
			if isString && !slices.Contains(NoPerson, s) {
				if p := pseudonym(s); p != s {
					parent[key], changed = p, true
				}
			}
		case isString:
			if s != "" {
				parent[key], changed = "", true
			}
		case v != nil:
			delete(parent, key)
			changed = true
		}
	}
	for _, f := range spec.Personal {
		inside := func(p string) bool { return strings.HasPrefix(p, f+".") }
		if !slices.ContainsFunc(spec.Pseudonymise, inside) && !slices.ContainsFunc(spec.Erase, inside) {
			set(doc, f, f)
			continue
		}
		sub, _ := doc[f].(map[string]any)
		if sub == nil {
			continue
		}
		for _, p := range append(slices.Clone(spec.Pseudonymise), spec.Erase...) {
			if inside(p) && !strings.Contains(p[len(f)+1:], ".") {
				set(sub, p[len(f)+1:], p)
			}
		}
	}
	if !changed {
		return body, false, nil
	}
	out, err = json.Marshal(doc)
	return out, true, err
}

// Rewrite rewrites a document's personal data for retention: identifiers
// get pseudonym(value), the rest is erased; changed is false when nothing
// was left to rewrite.
type Rewrite func(body []byte, pseudonym func(string) string) (out []byte, changed bool, err error)

var rewrites = map[string]Rewrite{}

// RegisterRewrite says how retention rewrites the personal data of a
// collection the ledger does not chain field by field — not at all (the
// in-app inboxes) or by its digest (the report archive, whose entry then
// names the body as archived). Call it from an init function.
func RegisterRewrite(collection string, f Rewrite) {
	docsMu.Lock()
	defer docsMu.Unlock()
	rewrites[collection] = f
}

// Rewrites returns every collection's retention rewrite: those
// RegisterRewrite added, and Redact per spec for the Redactable ones.
func Rewrites() map[string]Rewrite {
	out := map[string]Rewrite{}
	for c, spec := range Redactable() {
		out[c] = func(body []byte, pseudonym func(string) string) ([]byte, bool, error) {
			return Redact(spec, body, pseudonym)
		}
	}
	docsMu.RLock()
	defer docsMu.RUnlock()
	maps.Copy(out, rewrites)
	return out
}

// DocDiffers compares a document with the ledger entry chained when it was
// appended (row, of the document's collection's type): the fields the
// entry's data holds, and its personal fields while the entry still holds
// them (retention erases them from the ledger). It returns the names of
// the fields that differ, sorted, none when the document still reads as
// chained. The ledger's own verification cannot see a document rewritten
// in the database behind Candor's back: it checks the entries, not the
// documents beside them. A collection chained by its digest (KPI
// snapshots) or not at all is an error: compare its SHA-256 instead.
func DocDiffers(d store.Doc, row store.LedgerRow) ([]string, error) {
	docsMu.RLock()
	spec, ok := docs[d.Collection]
	docsMu.RUnlock()
	if !ok || spec.Digest {
		return nil, fmt.Errorf("ledger: %s documents are not chained field by field", d.Collection)
	}
	e, err := docEntry(spec, d)
	if err != nil {
		// A body that is no JSON object any more differs whole.
		return []string{"(the whole document)"}, nil
	}
	return fieldsDiffer(e, row), nil
}

// fieldsDiffer names, sorted, the top-level fields of the expected entry e
// (from the document as it is) and the chained row that differ. Data and
// personal fields are compared as one object, so an entry chained before
// a collection's personal fields were redrawn (escalations' on 1 December)
// still matches its document; a personal field is compared while the row
// still holds its personal data (retention erases it from the ledger),
// and a document's value retention redacted, by the document's time and
// a moment before the entry's was erased, in another transaction, reads
// as the entry's (sameOrRedacted: a verify after `candor retention apply`
// had reported access events ALTERED).
func fieldsDiffer(e store.LedgerEntry, row store.LedgerRow) []string {
	want, got := fields(e.Data), fields(row.Data)
	personal := map[string]bool{}
	for k, v := range fields(e.Personal) {
		want[k], personal[k] = v, true
	}
	erased := row.Personal == nil
	for k, v := range fields(row.Personal) {
		got[k], personal[k] = v, true
	}
	var out []string
	for k := range maps.Keys(want) {
		if _, ok := got[k]; !ok {
			got[k] = nil
		}
	}
	for k, g := range got {
		w := want[k]
		switch {
		case personal[k] && erased && (g == nil || w == nil):
			// Erased from the entry: nothing to compare it with.
		case w == nil || g == nil:
			out = append(out, k)
		case personal[k] && !sameOrRedacted(w, g), !personal[k] && !sameJSON(w, g):
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func fields(b []byte) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if len(b) > 0 {
		json.Unmarshal(b, &m)
	}
	return m
}

// sameOrRedacted reports whether doc, a document's personal field, is the
// ledger entry's led, or led with strings redacted as retention redacts
// them: erased ("") or a pseudonym ("anon-" and 32 hex digits, after a
// kind such as "user:").
func sameOrRedacted(doc, led json.RawMessage) bool {
	d, okd := decodeJSON(doc)
	l, okl := decodeJSON(led)
	return okd && okl && redactedOf(d, l)
}

func redactedOf(doc, led any) bool {
	switch d := doc.(type) {
	case map[string]any:
		l, ok := led.(map[string]any)
		if !ok || len(l) != len(d) {
			return false
		}
		for k, v := range d {
			if lv, ok := l[k]; !ok || !redactedOf(v, lv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := led.([]any)
		if !ok || len(l) != len(d) {
			return false
		}
		for i := range d {
			if !redactedOf(d[i], l[i]) {
				return false
			}
		}
		return true
	case string:
		return d == led || d == "" || pseudonymText.MatchString(d)
	}
	return reflect.DeepEqual(doc, led)
}

// pseudonymText is a retention pseudonym, after a principal's kind or not
// (internal/retention).
var pseudonymText = regexp.MustCompile(`^([a-z]+:)?anon-[0-9a-f]{32}$`)

func decodeJSON(r json.RawMessage) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v) == nil
}

// sameJSON reports whether two JSON texts are the same value, numbers
// compared as written.
func sameJSON(a, b json.RawMessage) bool {
	va, oka := decodeJSON(a)
	vb, okb := decodeJSON(b)
	return oka && okb && reflect.DeepEqual(va, vb)
}

// DocsReport is the comparison of documents with the ledger entries that
// chained them (VerifyDocs).
type DocsReport struct {
	Checked int64        `json:"checked"`
	Altered int64        `json:"altered"`
	First   []AlteredDoc `json:"first,omitempty"`
}

// AlteredDoc is a document that no longer reads as its ledger entry
// chained it: Fields names the fields that differ, Reason what was found.
type AlteredDoc struct {
	Collection string   `json:"collection"`
	Doc        int64    `json:"doc"`
	Seq        int64    `json:"ledger_seq,omitempty"`
	Fields     []string `json:"fields,omitempty"`
	Reason     string   `json:"reason"`
}

// "proposal 66 (value)".
func (a AlteredDoc) String() string {
	s := fmt.Sprintf("%s %d", a.Collection, a.Doc)
	if len(a.Fields) > 0 {
		s += " (" + strings.Join(a.Fields, ", ") + ")"
	}
	return s
}

// docsFirst is how many altered documents a DocsReport names.
const docsFirst = 20

// Reasons an AlteredDoc gives.
const (
	DocFieldsDiffer = "its fields differ from those its ledger entry chains"
	DocRemoved      = "removed from the database since it was chained"
	DocNotChained   = "no ledger entry chains it: written to the database behind Candor's back"
)

// VerifyDocs compares the documents of collections (nil: every collection
// chained field by field, DocSpec without Digest) with the ledger entries
// that chained them: those of entries 1 to upto (0: every entry) that were
// altered (DocDiffers) or removed since, and any document of them that no
// entry chains although a document of its collection before it is
// chained — inserted in the database, not appended by Candor. (Documents
// older than the first its collection chained predate the ledger.) The
// ledger's own verification (Verify) checks its entries, not the documents
// beside them: a proposal's value or an approver rewritten in the database
// changes what the governed history folds while the ledger verifies.
func VerifyDocs(ctx context.Context, st store.Store, collections []string, upto int64) (DocsReport, error) {
	var rep DocsReport
	docsMu.RLock()
	byType := map[string][]string{}
	for c, spec := range docs {
		if !spec.Digest && (collections == nil || slices.Contains(collections, c)) {
			byType[spec.Type] = append(byType[spec.Type], c)
		}
	}
	docsMu.RUnlock()
	// The head, then the documents, then the ledger: an entry past the
	// head whose document was not read was appended by a running server
	// during the check, not removed (a sign-in during `candor ledger
	// verify` had made its document "removed from the database").
	head, err := st.LedgerHead(ctx)
	if err != nil {
		return rep, err
	}
	stored := map[int64]store.Doc{}
	for _, cs := range byType {
		for _, c := range cs {
			ds, err := st.Docs(ctx, c, 0)
			if err != nil {
				return rep, err
			}
			for _, d := range ds {
				stored[d.ID] = d
			}
		}
	}
	note := func(a AlteredDoc) {
		rep.Altered++
		if len(rep.First) < docsFirst {
			rep.First = append(rep.First, a)
		}
	}
	chained := map[int64]bool{}
	first := map[string]int64{}
	err = st.LedgerScan(ctx, 1, 0, func(r store.LedgerRow) error {
		cs := byType[r.Type]
		if len(cs) == 0 {
			return nil
		}
		var data struct {
			Doc int64 `json:"doc"`
		}
		json.Unmarshal(r.Data, &data)
		chained[data.Doc] = true
		d, ok := stored[data.Doc]
		if ok {
			if f, seen := first[d.Collection]; !seen || data.Doc < f {
				first[d.Collection] = data.Doc
			}
		}
		if upto > 0 && r.Seq > upto || !ok && r.Seq > head.Seq {
			return nil
		}
		rep.Checked++
		if !ok || !slices.Contains(cs, d.Collection) {
			note(AlteredDoc{Collection: cs[0], Doc: data.Doc, Seq: r.Seq, Reason: DocRemoved})
			return nil
		}
		fields, err := DocDiffers(d, r)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			note(AlteredDoc{Collection: d.Collection, Doc: d.ID, Seq: r.Seq, Fields: fields, Reason: DocFieldsDiffer})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	// A document no entry chains after the first its collection chained
	// was inserted behind Candor's back (one before it predates the
	// ledger).
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		d := stored[id]
		if f, ok := first[d.Collection]; ok && !chained[id] && id > f {
			rep.Checked++
			note(AlteredDoc{Collection: d.Collection, Doc: id, Reason: DocNotChained})
		}
	}
	return rep, nil
}

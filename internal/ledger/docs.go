package ledger

import (
	"bytes"
	"cmp"
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
	"time"

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
		data["sha256"], data["bytes"] = digestOf(d.Body), len(d.Body)
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
// snapshots, reports, gate decisions, watch outcomes) is compared by its
// SHA-256 and size, and the fields of its entry's summary that differ
// are named with "sha256" (what changed, where the summary holds it); a
// collection not chained at all is an error.
func DocDiffers(d store.Doc, row store.LedgerRow) ([]string, error) {
	docsMu.RLock()
	spec, ok := docs[d.Collection]
	docsMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("ledger: %s documents are not chained", d.Collection)
	}
	e, err := docEntry(spec, d)
	if err != nil {
		// A body that is no JSON object (or no longer reads as its
		// collection's summary) any more differs whole.
		return []string{"(the whole document)"}, nil
	}
	if !spec.Digest {
		return fieldsDiffer(e, row), nil
	}
	if chainedDigest(row.Data) == digestOf(d.Body) {
		// The very bytes chained: a summary rebuilt by today's rules
		// could only differ by the rules.
		return nil, nil
	}
	// The size differs only with the digest: name the digest once.
	return slices.DeleteFunc(fieldsDiffer(e, row), func(f string) bool { return f == "bytes" }), nil
}

func digestOf(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// chainedDigest is the SHA-256 a digest entry's data chains.
func chainedDigest(data []byte) string {
	var v struct {
		SHA256 string `json:"sha256"`
	}
	json.Unmarshal(data, &v)
	return v.SHA256
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
	// Redacted counts the documents chained by their digest (reports)
	// that retention rewrote, each matching the digest its retention
	// entry chained for the rewrite (they are among Checked).
	Redacted int64 `json:"redacted,omitempty"`
	// SummaryOnly counts those rewritten by retention before Candor
	// chained a rewrite's digest (before 7 December 2026): only their
	// entry's summary — what retention never rewrites — could be compared
	// (they are among Checked, not Altered); SummaryOnlyFirst names the
	// first.
	SummaryOnly      int64        `json:"summary_only,omitempty"`
	SummaryOnlyFirst []AlteredDoc `json:"summary_only_first,omitempty"`
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
	DocFieldsDiffer  = "its fields differ from those its ledger entry chains"
	DocDigestDiffers = "it no longer hashes to the SHA-256 its ledger entry chains"
	DocRemoved       = "removed from the database since it was chained"
	DocNotChained    = "no ledger entry chains it: written to the database behind Candor's back"
	DocNotChainedEnd = "no ledger entry chains it, nor any document after it: written to the database behind Candor's back, or its entry was cut from the ledger's end"
	DocSummaryOnly   = "rewritten by retention before Candor chained the rewrite's digest: only what retention never rewrites (its entry's summary) is compared"
)

// DocDigest is a document chained by its digest as retention rewrote it
// (its personal data redacted): a retention entry lists them, so that
// VerifyDocs tells that rewrite from one behind Candor's back.
type DocDigest struct {
	Collection string `json:"collection"`
	Doc        int64  `json:"doc"`
	SHA256     string `json:"sha256"`
	Bytes      int    `json:"bytes"`
}

// RewrittenDigests returns the digests of those of ds (rewritten by
// retention) whose collection the ledger chains by its digest.
func RewrittenDigests(ds []store.Doc) []DocDigest {
	docsMu.RLock()
	defer docsMu.RUnlock()
	var out []DocDigest
	for _, d := range ds {
		if docs[d.Collection].Digest {
			out = append(out, DocDigest{Collection: d.Collection, Doc: d.ID, SHA256: digestOf(d.Body), Bytes: len(d.Body)})
		}
	}
	return out
}

// digestPage is how many documents chained by their digest VerifyDocs
// reads at once: it keeps their digests, not their bodies (reports hold
// PDFs, snapshots whole scorecards).
const digestPage = 32

// digested is a document chained by its digest, as VerifyDocs keeps it.
type digested struct {
	collection string
	created    time.Time
	sha256     string
}

// VerifyDocs compares the documents of collections (nil: every chained
// collection) with the ledger entries that chained them: those of entries
// 1 to upto (0: every entry) that were altered (DocDiffers: their fields,
// or for those chained by their digest — KPI snapshots, reports, gate
// decisions, watch outcomes — their SHA-256) or removed since, and any
// document of them that no entry chains although it is newer than the
// first document the ledger chains or than its first entry — inserted in
// the database, not appended by Candor. (Documents before both predate
// the ledger: every collection has been chained since it was made.) A
// document chained by its digest that retention rewrote matches the
// digest its retention entry chained for it; one rewritten before
// retention entries held them is compared by its summary alone
// (DocsReport.SummaryOnly). The ledger's own verification (Verify)
// checks its entries, not the documents beside them: a proposal's value,
// an approver or a gate decision rewritten in the database changes the
// governed history while the ledger verifies.
func VerifyDocs(ctx context.Context, st store.Store, collections []string, upto int64) (DocsReport, error) {
	reps, err := verifyDocs(ctx, st, collections, upto)
	return reps.of(nil), err
}

// VerifyDocsGroups is VerifyDocs of each group of collections, in one
// read of the documents and one scan of the ledger: an evidence pack
// checks its proposals and decisions and its release gates' documents,
// and had scanned the ledger for each.
func VerifyDocsGroups(ctx context.Context, st store.Store, groups [][]string, upto int64) ([]DocsReport, error) {
	reps, err := verifyDocs(ctx, st, slices.Concat(groups...), upto)
	out := make([]DocsReport, len(groups))
	for i, g := range groups {
		out[i] = reps.of(g)
	}
	return out, err
}

// docReports are a check's reports by collection, each document noted in
// the order the check found it (n), so that a report of several
// collections names the first found first, as one report would.
type docReports struct {
	by map[string]*DocsReport
	n  int
	// firstAt and onlyAt are, per collection, when each of its First and
	// SummaryOnlyFirst was found.
	firstAt, onlyAt map[string][]int
}

func (r *docReports) rep(c string) *DocsReport {
	if r.by[c] == nil {
		r.by[c] = &DocsReport{}
	}
	return r.by[c]
}

func (r *docReports) note(a AlteredDoc) {
	rep := r.rep(a.Collection)
	r.found(a, &rep.Altered, &rep.First, r.firstAt)
}

// summaryOnly notes a document compared by its summary alone.
func (r *docReports) summaryOnly(a AlteredDoc) {
	rep := r.rep(a.Collection)
	r.found(a, &rep.SummaryOnly, &rep.SummaryOnlyFirst, r.onlyAt)
}

// found counts a, and names it among the first (when fewer than
// docsFirst are) with when it was found.
func (r *docReports) found(a AlteredDoc, count *int64, first *[]AlteredDoc, at map[string][]int) {
	*count++
	r.n++
	if len(*first) < docsFirst {
		*first = append(*first, a)
		at[a.Collection] = append(at[a.Collection], r.n)
	}
}

// of merges the reports of collections (nil: all).
func (r *docReports) of(collections []string) DocsReport {
	var out DocsReport
	type found struct {
		n int
		a AlteredDoc
	}
	var first, only []found
	for c, rep := range r.by {
		if collections != nil && !slices.Contains(collections, c) {
			continue
		}
		out.Checked += rep.Checked
		out.Altered += rep.Altered
		out.Redacted += rep.Redacted
		out.SummaryOnly += rep.SummaryOnly
		for i, a := range rep.First {
			first = append(first, found{r.firstAt[c][i], a})
		}
		for i, a := range rep.SummaryOnlyFirst {
			only = append(only, found{r.onlyAt[c][i], a})
		}
	}
	firstOf := func(fs []found) []AlteredDoc {
		slices.SortFunc(fs, func(a, b found) int { return cmp.Compare(a.n, b.n) })
		var docs []AlteredDoc
		for _, f := range fs[:min(len(fs), docsFirst)] {
			docs = append(docs, f.a)
		}
		return docs
	}
	out.First, out.SummaryOnlyFirst = firstOf(first), firstOf(only)
	return out
}

func verifyDocs(ctx context.Context, st store.Store, collections []string, upto int64) (*docReports, error) {
	rep := &docReports{by: map[string]*DocsReport{}, firstAt: map[string][]int{}, onlyAt: map[string][]int{}}
	docsMu.RLock()
	byType := map[string][]string{}
	chainedTypes := map[string]bool{}
	specs := map[string]DocSpec{}
	for c, spec := range docs {
		chainedTypes[spec.Type] = true
		if collections == nil || slices.Contains(collections, c) {
			byType[spec.Type] = append(byType[spec.Type], c)
			specs[c] = spec
		}
	}
	rw := maps.Clone(rewrites)
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
	sums := map[int64]digested{}
	for c, spec := range specs {
		if !spec.Digest {
			ds, err := st.Docs(ctx, c, 0)
			if err != nil {
				return rep, err
			}
			for _, d := range ds {
				stored[d.ID] = d
			}
			continue
		}
		for before := int64(0); ; {
			ds, err := store.DocsBefore(ctx, st, c, before, digestPage)
			if err != nil {
				return rep, err
			}
			for _, d := range ds {
				sums[d.ID] = digested{collection: c, created: d.CreatedAt, sha256: digestOf(d.Body)}
			}
			if len(ds) < digestPage {
				break
			}
			before = ds[len(ds)-1].ID
		}
	}
	collectionOf := func(id int64) (string, time.Time, bool) {
		if d, ok := stored[id]; ok {
			return d.Collection, d.CreatedAt, true
		}
		s, ok := sums[id]
		return s.collection, s.created, ok
	}
	note := rep.note
	chained := map[int64]bool{}
	// The first document any entry chains, and the first entry's time:
	// a document unchained before both predates the ledger.
	var firstDoc, lastDoc int64
	var firstAt time.Time
	// Documents chained by their digest that no longer hash to it, judged
	// once every retention entry is read (it follows their own).
	type differing struct {
		row store.LedgerRow
		doc int64
	}
	var differ []differing
	rewritten := map[int64][]string{}
	unlisted := map[string]int64{}
	err = st.LedgerScan(ctx, 1, 0, func(r store.LedgerRow) error {
		if r.Seq == 1 {
			firstAt = r.At
		}
		if r.Type == TypeRetention {
			noteRewrites(r.Data, rewritten, unlisted)
			return nil
		}
		if !chainedTypes[r.Type] {
			return nil
		}
		var data struct {
			Doc    int64  `json:"doc"`
			SHA256 string `json:"sha256"`
		}
		json.Unmarshal(r.Data, &data)
		if data.Doc > 0 && (firstDoc == 0 || data.Doc < firstDoc) {
			firstDoc = data.Doc
		}
		lastDoc = max(lastDoc, data.Doc)
		cs := byType[r.Type]
		if len(cs) == 0 {
			return nil
		}
		chained[data.Doc] = true
		c, _, ok := collectionOf(data.Doc)
		if upto > 0 && r.Seq > upto || !ok && r.Seq > head.Seq {
			return nil
		}
		if !ok || !slices.Contains(cs, c) {
			rep.rep(cs[0]).Checked++
			note(AlteredDoc{Collection: cs[0], Doc: data.Doc, Seq: r.Seq, Reason: DocRemoved})
			return nil
		}
		rep.rep(c).Checked++
		if s, ok := sums[data.Doc]; ok {
			if s.sha256 != data.SHA256 {
				r.Data = bytes.Clone(r.Data)
				differ = append(differ, differing{r, data.Doc})
			}
			return nil
		}
		fields, err := DocDiffers(stored[data.Doc], r)
		if err != nil {
			return err
		}
		if len(fields) > 0 {
			note(AlteredDoc{Collection: c, Doc: data.Doc, Seq: r.Seq, Fields: fields, Reason: DocFieldsDiffer})
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	for _, x := range differ {
		c := sums[x.doc].collection
		if slices.Contains(rewritten[x.doc], sums[x.doc].sha256) {
			rep.rep(c).Redacted++
			continue
		}
		// Read again, for what changed: the summary its entry chains.
		d, ok, err := store.DocByID(ctx, st, c, x.doc)
		switch {
		case err != nil:
			return rep, err
		case !ok:
			note(AlteredDoc{Collection: c, Doc: x.doc, Seq: x.row.Seq, Reason: DocRemoved})
			continue
		}
		fields, err := DocDiffers(d, x.row)
		if err != nil {
			return rep, err
		}
		switch {
		case len(fields) == 0:
			// As chained, read again.
		case slices.Contains(rewritten[x.doc], digestOf(d.Body)):
			// Rewritten by retention while this was read.
			rep.rep(c).Redacted++
		case slices.Equal(fields, []string{"sha256"}) && unlisted[c] > 0 && rw[c] != nil && readsRewritten(rw[c], d.Body):
			// Only the digest differs, the body names nobody, and a
			// retention run rewrote documents of the collection without
			// listing their digests.
			unlisted[c]--
			rep.summaryOnly(AlteredDoc{Collection: c, Doc: x.doc, Seq: x.row.Seq, Reason: DocSummaryOnly})
		default:
			note(AlteredDoc{Collection: c, Doc: x.doc, Seq: x.row.Seq, Fields: fields, Reason: DocDigestDiffers})
		}
	}
	// A document no entry chains, newer than the ledger's first document
	// or its first entry, was inserted behind Candor's back — or, after
	// the last document chained, its entry was cut from the ledger's end
	// (without a published head, nothing else shows a cut).
	ids := slices.Collect(maps.Keys(stored))
	ids = slices.AppendSeq(ids, maps.Keys(sums))
	slices.Sort(ids)
	for _, id := range ids {
		c, created, _ := collectionOf(id)
		if !chained[id] && (firstDoc > 0 && id > firstDoc || !firstAt.IsZero() && created.After(firstAt)) {
			rep.rep(c).Checked++
			why := DocNotChained
			if id > lastDoc {
				why = DocNotChainedEnd
			}
			note(AlteredDoc{Collection: c, Doc: id, Reason: why})
		}
	}
	return rep, nil
}

// noteRewrites reads a retention entry's data: the digests of the
// documents it rewrote (DocDigest, by document), and per collection how
// many it rewrote without listing their digest (a run before they were).
func noteRewrites(data []byte, rewritten map[int64][]string, unlisted map[string]int64) {
	var v struct {
		Documents map[string]int64 `json:"documents"`
		Rewritten []DocDigest      `json:"rewritten_digests"`
	}
	json.Unmarshal(data, &v)
	for c, n := range v.Documents {
		unlisted[c] += n
	}
	for _, d := range v.Rewritten {
		rewritten[d.Doc] = append(rewritten[d.Doc], d.SHA256)
		unlisted[d.Collection]--
	}
}

// readsRewritten reports whether a document's body names nobody as its
// retention rewrite would: every identifier the rewrite would replace is a
// pseudonym already, and it has some.
func readsRewritten(rw Rewrite, body []byte) bool {
	asked, plain := 0, false
	_, _, err := rw(body, func(s string) string {
		asked++
		plain = plain || !pseudonymText.MatchString(s)
		return s
	})
	return err == nil && asked > 0 && !plain
}

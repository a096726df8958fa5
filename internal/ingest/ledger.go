package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// Every committed batch of records is one ledger entry (ledger.TypeRecords),
// appended in the batch's own transaction (store.Batch.Record): what came in,
// from where, how many of each kind, what changed, and a hash of exactly the
// record versions written.

// RecordsData is the data of a records ledger entry.
type RecordsData struct {
	// Origin says how the records came: "import" (a file), "api" (the
	// records API), or a connector's name.
	Origin string `json:"origin"`
	// Sources are the inputs' names (file names; "body" for a request).
	Sources []string `json:"sources"`
	// Requests is the number of API requests a group commit wrote together.
	Requests int `json:"requests,omitempty"`
	// The records written, and what the store did with them: in all and
	// per kind.
	Counts
	Kinds map[domain.Kind]Counts `json:"kinds"`
	// ContentSHA256 is the SHA-256 over every record written, in the order
	// written, of the line KIND TAB SOURCE TAB ID TAB HASH NEWLINE, HASH
	// being the record's stored hash (of its canonical body): it pins the
	// exact versions this batch wrote.
	ContentSHA256 string `json:"content_sha256"`
}

// Counts are a ledger entry's record counts.
type Counts struct {
	Records   int64 `json:"records"`
	Inserted  int64 `json:"inserted"`
	Replaced  int64 `json:"replaced"`
	Unchanged int64 `json:"unchanged"`
	// Repeated is ingest.Summary's; absent when none.
	Repeated int64 `json:"repeated,omitempty"`
}

func countsOf(records int64, r store.WriteResult) Counts {
	return Counts{Records: records, Inserted: r.Inserted, Replaced: r.Replaced, Unchanged: r.Unchanged}
}

func (c *Counts) add(o Counts) {
	c.Records += o.Records
	c.Inserted += o.Inserted
	c.Replaced += o.Replaced
	c.Unchanged += o.Unchanged
	c.Repeated += o.Repeated
}

// ContentHash accumulates RecordsData.ContentSHA256 (and the same hash of
// the records a retention run rewrote).
type ContentHash struct{ h hash.Hash }

func (c *ContentHash) Add(items []store.Item) {
	if c.h == nil {
		c.h = sha256.New()
	}
	var line []byte
	for i := range items {
		k := &items[i].Key
		line = append(line[:0], k.Kind...)
		line = append(append(line, '\t'), k.Source...)
		line = append(append(line, '\t'), k.ID...)
		line = append(append(line, '\t'), items[i].Hash...)
		c.h.Write(append(line, '\n'))
	}
}

func (c *ContentHash) Sum() string {
	if c.h == nil {
		c.h = sha256.New()
	}
	return hex.EncodeToString(c.h.Sum(nil))
}

// recordsEntry is the ledger entry of a committed batch; by lists who sent
// it (personal data).
func recordsEntry(d RecordsData, by []string) (store.LedgerEntry, error) {
	var personal any
	if by = compactSorted(by); len(by) > 0 {
		personal = map[string]any{"by": by}
	}
	if d.Sources == nil {
		d.Sources = []string{}
	}
	return ledger.Entry(ledger.TypeRecords, d, personal)
}

func compactSorted(s []string) []string {
	s = slices.DeleteFunc(slices.Clone(s), func(v string) bool { return v == "" })
	slices.Sort(s)
	return slices.Compact(s)
}

// summaryData is the entry data of an import's summary.
func summaryData(origin string, sources []string, sum *Summary, content string) RecordsData {
	d := RecordsData{Origin: origin, Sources: sources, Kinds: map[domain.Kind]Counts{}, ContentSHA256: content}
	for k, ks := range sum.ByKind {
		c := countsOf(ks.Records, ks.WriteResult)
		c.Repeated = ks.Repeated
		d.Kinds[k] = c
		d.Counts.add(c)
	}
	return d
}

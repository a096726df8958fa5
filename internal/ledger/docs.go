package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
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
}

var (
	docsMu sync.RWMutex
	docs   = map[string]DocSpec{
		store.AccessCollection: {Type: TypeAccess, Personal: []string{"actor", "subject", "client"}},
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

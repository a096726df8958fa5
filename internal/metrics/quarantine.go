package metrics

import (
	"cmp"
	"slices"

	"github.com/candor/candor/internal/domain"
)

// QuarantinedRow is a stored row the engine could not decode — corrupted in
// the database, or written by a newer version of Candor (a kind or a field
// this version does not know). The row is left out, so one bad row never
// takes reads down; it is counted and shown on the data sources report and
// in /healthz until a later write of the same key replaces it.
type QuarantinedRow struct {
	Kind   domain.Kind `json:"kind"`
	Source string      `json:"source"`
	ID     string      `json:"id"`
	// Seq is the store sequence of the row.
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Quarantine notes that the stored row of a key could not be decoded. The
// dataset holds what the store holds: the key's row is the undecodable
// one, so an earlier version of the record applied before is removed —
// every process reading the same store then holds the same records,
// whether it saw the earlier version or not.
func (d *Dataset) Quarantine(key domain.Key, seq int64, reason string) {
	d.remove(key)
	if d.quarantine == nil {
		d.quarantine = map[domain.Key]QuarantinedRow{}
	}
	d.quarantine[key] = QuarantinedRow{Kind: key.Kind, Source: key.Source, ID: key.ID, Seq: seq, Reason: reason}
}

// Quarantined lists the quarantined rows by key.
func (d *Dataset) Quarantined() []QuarantinedRow {
	out := make([]QuarantinedRow, 0, len(d.quarantine))
	for _, q := range d.quarantine {
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b QuarantinedRow) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// remove takes the record with a key out of the dataset, as if it had
// never been applied. Removal invalidates exactly what a replacement
// would: the removed version's times, presence, links and memos.
func (d *Dataset) remove(k domain.Key) {
	if t := d.rows.byKind[k.Kind]; t != nil {
		t.remove(d, key(k.Source, k.ID))
		return
	}
	if k.Kind == domain.KindVulnerabilityScan {
		d.removeScan(key(k.Source, k.ID))
		return
	}
	if k.Kind == domain.KindRetroValidation {
		d.dropRetro(k.ID)
		return
	}
	if k.Kind == domain.KindService {
		if s := d.Services[k.ID]; s != nil && s.Source == k.Source {
			delete(d.Services, k.ID)
			d.touchAll()
		}
		return
	}
	h := d.heldOf(k.Kind, k.Source, k.ID)
	if kt := d.times[k.Kind]; kt != nil {
		if old, ok := d.heldLife(h); ok {
			kt.remove(old)
		}
	}
	d.touchHeld(k.Kind, h)
	if t, attrs, ok := d.heldPresence(h); ok && d.holdsMinimum(k.Kind, t, attrs) {
		d.presence.stale[k.Kind] = true
	}
	switch {
	case h.dep != nil:
		d.removeDep(h.dep)
	case h.chg >= 0:
		d.removeChange(h.chg)
	case h.inc != nil:
		d.removeInc(h.inc)
	case h.sli != nil:
		d.removeSLI(h.sli)
	}
}

// QuarantinedCount is the number of quarantined rows.
func (d *Dataset) QuarantinedCount() int { return len(d.quarantine) }

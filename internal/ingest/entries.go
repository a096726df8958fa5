package ingest

import (
	"context"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Entry is one record a connector mapped from another tool's input, or the
// problems that kept a piece of that input from becoming one.
type Entry struct {
	// Record is nil when Problems is set.
	Record domain.Record
	// Raw is the sha256 of the input the record came from (a CSV row as
	// RowHash hashes it, a JSON object as written), kept for provenance.
	Raw      [32]byte
	Problems []LineError
}

// ImportEntries is Import for records that a connector has already mapped
// and validated: feed hands each entry to add, in input order, and the
// whole feed is one import with Import's rules. Nothing is written when an
// entry has problems, unless opt.SkipInvalid is set; a record whose
// (kind, source, id) is stored with the same content is counted
// unchanged; and the summary and errors are Import's. An error from feed
// (an unreadable file) ends the import with nothing written.
func ImportEntries(ctx context.Context, st store.Store, opt Options, feed func(add func(Entry) error) error) (*Summary, error) {
	return importWith(ctx, st, nil, opt, entries(ctx, feed))
}

// ImportEntries is ImportEntries with the records of a small feed (under
// chunkSize) committed in a group with concurrent imports and deliveries:
// a pull collector's page, all or nothing.
func (c *Committer) ImportEntries(ctx context.Context, opt Options, feed func(add func(Entry) error) error) (*Summary, error) {
	return importWith(ctx, c.st, c, opt, entries(ctx, feed))
}

// entries hands an entry feed to an importer.
func entries(ctx context.Context, feed func(add func(Entry) error) error) func(*importer) error {
	return func(im *importer) error {
		return feed(func(e Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if len(e.Problems) > 0 {
				im.invalid(e.Problems...)
				return nil
			}
			return im.add(e.Record, e.Raw)
		})
	}
}

package engine

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"weak"

	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/metrics"
)

// Strings a dataset read in place hands out point into its state's
// mapping and may outlive it anywhere (a cached result, a page being
// written). When a following engine goes on from a newer state (moveOn),
// the pages of the older mapping holding the string table's chunks are
// mapped onto the same chunks in the newer file — the same bytes, since
// the newer state was written from the older dataset, whose chunks read
// in place are never written — and the older mapping is marked so that,
// once its dataset is gone, the rest of it is let go (image.Mapped.Retire)
// and the older file with it. The pages moved at earlier moves are moved
// again each time, so no retired file is ever held: the process holds the
// string pages its readers touch, wherever they lie, and one file.

// strAlias is a range of pages that shows chunk's first n bytes of the
// string table, outside the published dataset's own mapping.
type strAlias struct {
	r     [2]uintptr
	chunk int
	n     int
}

// stringMove is what moveStrings does: the ranges to map onto the new
// file (merged where they are next to each other in memory and in it), the
// old mapping's own ranges, and every range shown afterwards.
type stringMove struct {
	moves []rangeMove
	own   []strAlias
	all   []strAlias
}

type rangeMove struct {
	r   [2]uintptr
	off int64
}

// planStrings works out how the string pages of old (read from om; nil:
// built in the heap, whose chunks the collector keeps) and of earlier
// moves map onto nw's file, nm, which nw was read from in place after old
// wrote it, or says why they cannot: then the caller does not move on, and
// keeps the heap it has rather than a whole old file for good.
func (e *Engine) planStrings(old *metrics.Dataset, om *image.Mapped, nw *metrics.Dataset, nm *image.Mapped) (*stringMove, error) {
	p := &stringMove{}
	if om != nil {
		for i, c := range old.StringChunks() {
			if _, in := om.Offset(c); !in {
				continue // the last chunk, copied into the heap
			}
			r, ok := image.Pages(c)
			if !ok {
				return nil, fmt.Errorf("string chunk %d does not start a page", i)
			}
			p.own = append(p.own, strAlias{r: r, chunk: i, n: len(c)})
		}
	}
	earlier := e.aliases
	if e.aliasesOf.Value() != old {
		// The earlier ranges mirror the chunks of the dataset the last
		// move published; old is another (a settings change rebuilt it
		// from rows, or that move failed), whose chunks may differ. They
		// stay as they are, showing their bytes from their file, and are
		// never moved again.
		earlier = nil
	}
	p.all = append(slices.Clone(earlier), p.own...)
	chunks := nw.StringChunks()
	ps := int64(os.Getpagesize())
	for _, a := range p.all {
		if a.chunk >= len(chunks) || len(chunks[a.chunk]) != a.n {
			return nil, fmt.Errorf("string chunk %d differs in the new state", a.chunk)
		}
		off, in := nm.Offset(chunks[a.chunk])
		if !in || off%ps != 0 {
			return nil, fmt.Errorf("string chunk %d is not in place in the new state", a.chunk)
		}
		p.moves = append(p.moves, rangeMove{a.r, off})
	}
	// Ranges next to each other in memory and in the file are one call
	// and one mapping (the kernel's count of mappings is bounded).
	slices.SortFunc(p.moves, func(a, b rangeMove) int { return cmp.Compare(a.r[0], b.r[0]) })
	merged := p.moves[:0]
	for _, m := range p.moves {
		if n := len(merged); n > 0 && merged[n-1].r[1] == m.r[0] && merged[n-1].off+int64(merged[n-1].r[1]-merged[n-1].r[0]) == m.off {
			merged[n-1].r[1] = m.r[1]
			continue
		}
		merged = append(merged, m)
	}
	p.moves = merged
	return p, nil
}

// moveStrings maps the planned ranges onto nm. When every range was
// moved, om is marked (Moved) so that its dataset's cleanup lets the rest
// of it go; otherwise om stays mapped as before, and every range still
// shows its chunk's bytes, from whichever file.
func (e *Engine) moveStrings(p *stringMove, om *image.Mapped, nw *metrics.Dataset, nm *image.Mapped) {
	e.aliases, e.aliasesOf = p.all, weak.Pointer[metrics.Dataset]{}
	for _, m := range p.moves {
		if err := nm.MapOnto(m.r, m.off); err != nil {
			// Those moved show the new file, the others their old one:
			// the same bytes either way, but om must stay.
			e.log().Warn("strings of the previous dataset state stay mapped", "err", err)
			return
		}
	}
	e.aliasesOf = weak.Make(nw)
	if om != nil {
		rs := make([][2]uintptr, len(p.own))
		for i, a := range p.own {
			rs[i] = a.r
		}
		om.Moved(rs...)
	}
}

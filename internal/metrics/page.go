package metrics

import (
	"slices"
	"sync"
	"time"
	"unsafe"
)

// A drill-down's page of records, described once for every reader of the
// same data. Readers ask for the same page of the same result again and
// again between two changes of the data — a dashboard polled, several
// people on one metric's page, the benchmark's readers during an import —
// and describing its thousand records (Describe) and writing them as JSON
// were a fifth of the server's CPU while it answered reads during a large
// import (docs/performance.md). A kept page is dropped whenever rows are
// applied (invalidate), so it is always what Describe would give now.

// Page is a page of a result's records described, and its JSON once
// written.
type Page struct {
	// Refs are the records described. They are shared by every reader of
	// the page: nothing may change them (HideAmounts copies before it
	// blanks).
	Refs []Ref
	// src is a copy of the records the page describes: a kept page is
	// found by their address, which it does not hold (holding it would
	// keep the whole result alive, up to a quarter of a million records),
	// so it is given only to records equal to them — the address may have
	// been reused since.
	src []Ref

	mu    sync.Mutex
	json  []byte
	depth int
	err   error
}

// pageKey finds a kept page: the address of the first of the records
// described (a cached result's records are shared by its readers), how
// many, and the time they are described as of.
type pageKey struct {
	first uintptr
	n     int
	asOf  int64
}

// maxPages bounds the kept pages, and maxPageRefs the records of a page
// kept: a page of a thousand records (the API's default) is ~0.5 MB
// described and written, a page of the most the API gives (100,000) ~45
// MB, which only its own reader gets. Every kept page is dropped at the
// next rows applied.
const (
	maxPages    = 8
	maxPageRefs = 2000
)

// DescribePage is Describe of refs as of asOf, kept for the next reader of
// the same records until rows are applied. refs must be records as a
// result holds them (a cached result's are shared, never changed).
func (d *Dataset) DescribePage(refs []Ref, asOf time.Time) *Page {
	if len(refs) == 0 || len(refs) > maxPageRefs {
		return &Page{Refs: d.Describe(refs, asOf)}
	}
	k := pageKey{uintptr(unsafe.Pointer(&refs[0])), len(refs), asOf.UnixNano()}
	d.cacheMu.Lock()
	p := d.pages[k]
	d.cacheMu.Unlock()
	if p != nil && slices.EqualFunc(p.src, refs, sameRef) {
		return p
	}
	// Racing readers each describe the page, and the last one kept wins:
	// they are equal.
	p = &Page{Refs: d.Describe(refs, asOf), src: slices.Clone(refs)}
	d.cacheMu.Lock()
	if d.pages == nil || len(d.pages) >= maxPages {
		d.pages = map[pageKey]*Page{}
	}
	d.pages[k] = p
	d.cacheMu.Unlock()
	return p
}

// AppendJSON appends the page's records as AppendRefsIndent writes them
// at depth, written once for a depth and then copied.
func (p *Page) AppendJSON(b []byte, depth int) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json == nil || p.depth != depth {
		p.json, p.err = AppendRefsIndent(nil, p.Refs, depth)
		p.depth = depth
	}
	if p.err != nil {
		return nil, p.err
	}
	return append(b, p.json...), nil
}

// Holds reports whether refs are the page's own records (not a copy with
// amounts hidden, not another page).
func (p *Page) Holds(refs []Ref) bool {
	return p != nil && len(refs) == len(p.Refs) && (len(refs) == 0 || &refs[0] == &p.Refs[0])
}

// sameRef reports whether a and b name the same record with the same
// contribution: Describe gives both the same row.
func sameRef(a, b Ref) bool {
	return a.Kind == b.Kind && a.ID == b.ID && a.Source == b.Source && a.Note == b.Note && a.at == b.at &&
		(a.Value == b.Value || a.Value != nil && b.Value != nil && *a.Value == *b.Value) &&
		len(a.Fields) == 0 && len(b.Fields) == 0
}

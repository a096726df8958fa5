package web

import (
	"math"
	"net/http"
	"strconv"
)

// Tables shown a page at a time — a metric's records, the release list —
// take limit (rows a page) and offset (rows before the page) and end in a
// pager (the "pager" template): which rows of how many, and links to the
// first, previous and next pages carrying the page's other parameters.

// Paged tables: rows a page by default and at most.
const (
	defaultPageRows = 25
	maxPageRows     = 500
)

// pager is a paged table's rows shown (From and To, 1-based, inclusive; 0
// when none) of Total, and the links to the other pages ("" where there
// is none).
type pager struct {
	Total, From, To   int
	First, Prev, Next string
}

// pageParams reads a paged table's limit and offset; a bad one is an
// invalid-input error naming it.
func pageParams(r *http.Request) (limit, offset int, err error) {
	if limit, err = intParam(r, "limit", defaultPageRows, 1, maxPageRows); err != nil {
		return 0, 0, err
	}
	offset, err = intParam(r, "offset", 0, 0, math.MaxInt32)
	return limit, offset, err
}

// newPager pages total rows, shown of them from offset, limit a page; link
// is the URL of the page at an offset ("" for the first).
func newPager(total, offset, limit, shown int, link func(offset string) string) pager {
	p := pager{Total: total}
	if shown > 0 {
		p.From, p.To = offset+1, offset+shown
	}
	if offset > 0 {
		p.First = link("")
		p.Prev = link(offsetParam(max(0, offset-limit)))
	}
	if offset+limit < total {
		p.Next = link(strconv.Itoa(offset + limit))
	}
	return p
}

// pageRows are the rows of the page from offset, limit long.
func pageRows[T any](rows []T, offset, limit int) []T {
	if offset >= len(rows) {
		return nil
	}
	return rows[offset:min(len(rows), offset+limit)]
}

func offsetParam(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

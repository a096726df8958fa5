package importer

import (
	"context"
	"io"
	"strings"

	"github.com/candor/candor/internal/ingest"
)

// table is a CSV export's header. Columns are found by name regardless of
// case: exports differ in case (FOCUS's own example writes SkuPriceid).
type table struct {
	cols []string
	idx  map[string]int
}

func newTable(cols []string) *table {
	t := &table{cols: cols, idx: map[string]int{}}
	for i, c := range cols {
		k := strings.ToLower(c)
		if _, ok := t.idx[k]; !ok {
			t.idx[k] = i
		}
	}
	return t
}

// col returns the index of the first of names the header has, -1 when it
// has none of them.
func (t *table) col(names ...string) int {
	for _, n := range names {
		if i, ok := t.idx[strings.ToLower(n)]; ok {
			return i
		}
	}
	return -1
}

// name is the column's name as the file writes it.
func (t *table) name(i int) string {
	if i < 0 {
		return ""
	}
	return t.cols[i]
}

func cell(cells []string, i int) string {
	if i < 0 || i >= len(cells) {
		return ""
	}
	return strings.TrimSpace(cells[i])
}

// defaultMaxLine is ingest's bound on one record, for callers that leave
// it unset.
const defaultMaxLine = 16 << 20

// readTable reads a CSV export with ingest's CSV rules: header is called
// with the columns, row with each record, and rows the CSV reader cannot
// split become invalid entries.
func readTable(name string, r io.Reader, maxLine int, header func(*table) error, row func(t *table, line int, cells []string) error, add func(ingest.Entry) error) error {
	if maxLine <= 0 {
		maxLine = defaultMaxLine
	}
	var t *table
	var addErr error
	err := ingest.ReadCSV(context.Background(), name, r, maxLine,
		func(cols []string) error {
			t = newTable(cols)
			return header(t)
		},
		func(line int, cells []string) error {
			if addErr != nil {
				return addErr
			}
			return row(t, line, cells)
		},
		func(e ingest.LineError) {
			if addErr == nil {
				addErr = add(ingest.Entry{Problems: []ingest.LineError{e}})
			}
		})
	if err != nil {
		return err
	}
	return addErr
}

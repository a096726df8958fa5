package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// The records behind a metric's value, as the metric page lists them: one
// kind at a time (each kind has its own row fields), a page at a time,
// sorted on the server by any column so the table needs no script.

// Columns every kind's table has besides its row fields: the record's id,
// and the record's contribution to the value and a note when a metric
// gives them.
const (
	colRecord = "id"
	colValue  = "value"
	colNote   = "note"
)

// recordSort is a sort order: a column, ascending unless Desc. The
// parameter writes it as the column's name, with a leading "-" for
// descending (sort=-finished_at). Noted, which no parameter sets, puts the
// rows with a note first (defaultSort).
type recordSort struct {
	Col   string
	Desc  bool
	Noted bool
}

func (s recordSort) String() string {
	if s.Col == "" {
		return ""
	}
	if s.Desc {
		return "-" + s.Col
	}
	return s.Col
}

// parseSort reads a sort parameter against a kind's columns.
func parseSort(v string, cols []string) (recordSort, error) {
	if v == "" {
		return recordSort{}, nil
	}
	s := recordSort{Col: strings.TrimPrefix(v, "-"), Desc: strings.HasPrefix(v, "-")}
	if !slices.Contains(cols, s.Col) {
		return s, badParam("sort", "cannot sort by %q (columns: %s; a leading - sorts descending)", s.Col, strings.Join(cols, ", "))
	}
	return s, nil
}

// defaultSort is the order of a records table the reader has not sorted,
// and what to tell them of it. Where the metric notes some of the kind's
// records and not the others — change failure rate its failures ("rolled
// back"), rework rate its rework, recurrence rate its recurrences — those
// come first, newest first (by the kind's time) and then the others,
// newest first too: the records that count against a rate had been lost
// among hundreds of others, oldest first. Otherwise the metric's own order.
// candor metric lists its first records in this order too
// (scorecard.MetricDetail.NotedFirst).
func defaultSort(kind domain.Kind, refs []metrics.Ref) (recordSort, string) {
	noted, first, col := scorecard.NotedOrder(kind, refs)
	if !first {
		return recordSort{}, ""
	}
	s := recordSort{Noted: true, Col: col, Desc: col != ""}
	if noted == 1 {
		return s, "The record with a note comes first, then the others, newest first; a column's heading sorts by it instead."
	}
	return s, fmt.Sprintf("The %s with a note come first, then the others, newest first within each; a column's heading sorts by it instead.",
		plural.Count(noted, "record"))
}

// recordColumns are the columns of a kind's table, in order: the id, the
// value when some record has one, the kind's row fields, then the note
// when some record has one. The value comes beside the id: it is what the
// metric read from the record, and after nine fields it had been past the
// table's edge at a laptop's width (time to restore's hours).
func recordColumns(kind domain.Kind, refs []metrics.Ref) []string {
	cols := []string{colRecord}
	hasValue := slices.ContainsFunc(refs, func(r metrics.Ref) bool { return r.Value != nil })
	hasNote := slices.ContainsFunc(refs, func(r metrics.Ref) bool { return r.Note != "" })
	if hasValue {
		cols = append(cols, colValue)
	}
	cols = append(cols, metrics.FieldNames(kind)...)
	if hasNote {
		cols = append(cols, colNote)
	}
	return cols
}

// refKinds are the kinds among refs, in the order they first appear.
func refKinds(refs []metrics.Ref) []domain.Kind {
	var out []domain.Kind
	for _, r := range refs {
		if !slices.Contains(out, r.Kind) {
			out = append(out, r.Kind)
		}
	}
	return out
}

// cellOf is the value of column col of a described row.
func cellOf(r metrics.Ref, col string) any {
	switch col {
	case colRecord:
		return r.ID
	case colValue:
		if r.Value == nil {
			return nil
		}
		return *r.Value
	case colNote:
		if r.Note == "" {
			return nil
		}
		return r.Note
	}
	return r.Fields.Get(col)
}

func cellNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case domain.Money:
		return x.Float(), true
	}
	return 0, false
}

// sortKey is a cell reduced to what orders it: a number (times as unix
// nanoseconds, booleans as 0 and 1) or a text.
type sortKey struct {
	present, isNum bool
	num            float64
	i64            int64
	str            string
}

func sortKeyOf(v any) sortKey {
	switch x := v.(type) {
	case nil:
		return sortKey{}
	case time.Time:
		return sortKey{present: true, isNum: true, i64: x.UnixNano()}
	case bool:
		if x {
			return sortKey{present: true, isNum: true, num: 1}
		}
		return sortKey{present: true, isNum: true}
	case string:
		return sortKey{present: true, str: x}
	}
	if f, ok := cellNumber(v); ok {
		return sortKey{present: true, isNum: true, num: f}
	}
	return sortKey{present: true, str: fmt.Sprint(v)}
}

func (a sortKey) compare(b sortKey) int {
	switch {
	case a.isNum && b.isNum:
		return cmp.Or(cmp.Compare(a.i64, b.i64), cmp.Compare(a.num, b.num))
	case a.isNum != b.isNum:
		// One column holds one type; numbers first should it not.
		if a.isNum {
			return -1
		}
		return 1
	}
	return strings.Compare(a.str, b.str)
}

// sortOrder is the order of rows sorted by s, stably: ties in the column
// go by id, then keep the metric's order; rows without a value in the
// column come last either way. Each row's key is read once and only
// indices move: a window can hold a quarter of a million rows.
func sortOrder(rows []metrics.Ref, s recordSort) []int32 {
	keys := make([]sortKey, len(rows))
	for i, r := range rows {
		keys[i] = sortKeyOf(cellOf(r, s.Col))
	}
	idx := make([]int32, len(rows))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(i, j int32) int {
		if s.Noted {
			if c := cmp.Compare(noteRank(rows[i]), noteRank(rows[j])); c != 0 {
				return c
			}
		}
		a, b := keys[i], keys[j]
		switch {
		case !a.present && !b.present:
			return 0
		case !a.present:
			return 1
		case !b.present:
			return -1
		}
		c := a.compare(b)
		if c == 0 && s.Col != colRecord {
			c = strings.Compare(rows[i].ID, rows[j].ID)
		}
		if s.Desc {
			c = -c
		}
		return c
	})
	return idx
}

// noteRank orders a row with a note before one without.
func noteRank(r metrics.Ref) int {
	if r.Note != "" {
		return 0
	}
	return 1
}

// recordPage picks the page [offset, offset+limit) of one kind's rows,
// sorted by s, each described (row fields as of asOf) and, when hide says
// so, without its amounts. Only the page is described unless the sort is
// by a row field; then every row is, after its amounts are hidden, so a
// hidden amount neither shows nor orders the rows.
//
// memo, when set, keeps the sorted order: paging on through the table
// (its links pin the as_of) then sorts it once.
func recordPage(ds *metrics.Dataset, refs []metrics.Ref, asOf time.Time, s recordSort, offset, limit int, hide func(domain.Kind) bool, memo sortMemo) []metrics.Ref {
	if len(refs) == 0 {
		return nil
	}
	if memo == nil {
		memo = func(compute func() []int32) []int32 { return compute() }
	}
	lo := min(offset, len(refs))
	hi := min(lo+limit, len(refs))
	hidden := hide(refs[0].Kind)
	hideAmounts := func(rows []metrics.Ref) []metrics.Ref {
		if !hidden {
			return rows
		}
		d := scorecard.MetricDetail{Records: rows}
		d.HideAmounts(hide)
		return d.Records
	}
	pick := func(rows []metrics.Ref, order []int32) []metrics.Ref {
		out := make([]metrics.Ref, 0, hi-lo)
		for _, i := range order[lo:hi] {
			out = append(out, rows[i])
		}
		return out
	}
	switch {
	case s.Col == "" && !s.Noted || s.Col == colValue && hidden && !s.Noted:
		return hideAmounts(ds.Describe(refs[lo:hi], asOf))
	case s.Col == "" || s.Col == colRecord || s.Col == colNote || s.Col == colValue:
		return hideAmounts(ds.Describe(pick(refs, memo(func() []int32 { return sortOrder(refs, s) })), asOf))
	}
	// Describing a row and hiding its amounts depend on the row alone, so
	// the page's rows described after sorting are those the sort saw.
	order := memo(func() []int32 { return sortOrder(hideAmounts(ds.Describe(refs, asOf)), s) })
	return hideAmounts(ds.Describe(pick(refs, order), asOf))
}

// sortMemo returns the order compute gives, or a copy kept from before.
type sortMemo func(compute func() []int32) []int32

// maxSortOrders is how many tables' orders sortOrders keeps: a table of
// a quarter of a million rows keeps a megabyte.
const maxSortOrders = 8

// sortOrders keeps the sorted order of the last few records tables.
// Sorting by a row field describes every row of the kind in the window —
// the bulk of a large table's cost — and each page of it asks again.
type sortOrders struct {
	mu      sync.Mutex
	entries []sortOrderEntry // the most recently used last
	sorts   int              // orders computed, for tests
}

// sortOrderKey names one table's order. records is the drill-down's
// rows as the engine's result cache holds them: the same slice while the
// result stands, a new one once new data drops it (the entry holds the
// slice, so its address is not reused while the entry lives). seq, the
// data's sequence, covers data that changes a row's fields without
// changing which records are behind the value.
type sortOrderKey struct {
	records *metrics.Ref
	n       int
	kind    domain.Kind
	asOf    int64
	sort    recordSort
	hidden  bool
	seq     int64
}

type sortOrderEntry struct {
	key     sortOrderKey
	records []metrics.Ref
	order   []int32
}

// memo is the memo of one table: kind's rows of records (a drill-down's
// records) as of asOf, sorted by s, amounts hidden or not, at data
// sequence seq. A nil sortOrders keeps nothing.
func (c *sortOrders) memo(records []metrics.Ref, kind domain.Kind, asOf time.Time, s recordSort, hidden bool, seq int64) sortMemo {
	if c == nil || len(records) == 0 || s.Col == "" && !s.Noted {
		return nil
	}
	k := sortOrderKey{records: &records[0], n: len(records), kind: kind, asOf: asOf.UnixNano(), sort: s, hidden: hidden, seq: seq}
	return func(compute func() []int32) []int32 {
		c.mu.Lock()
		for i, e := range c.entries {
			if e.key == k {
				c.entries = append(append(c.entries[:i:i], c.entries[i+1:]...), e)
				c.mu.Unlock()
				return e.order
			}
		}
		c.mu.Unlock()
		// Sorted outside the lock: two readers of one new table may
		// both sort it, and other tables wait for neither.
		order := compute()
		c.mu.Lock()
		defer c.mu.Unlock()
		c.sorts++
		if len(c.entries) == maxSortOrders {
			c.entries = slices.Delete(c.entries, 0, 1)
		}
		c.entries = append(c.entries, sortOrderEntry{key: k, records: records, order: order})
		return order
	}
}

// valueColumn is the label of a records table's value column under a
// metric in unit, with the unit the values are in — a time to restore's
// "1.8864" under a headline of "3.4 h" was a number of nothing — and the
// decimals its values keep (-1: cellText's). Money is columnText's.
//
// Only durations and money are named: a record's value under a metric in
// percent or months is what the record adds to it, in a unit of its own
// (a survey's score of 1–5 under CSAT, a tier's weight, a spend amount
// under CAC payback), and a unit taken from the metric had mislabelled
// them.
func valueColumn(unit, currency string) (string, int) {
	switch unit {
	case "hours":
		return "value (hours)", 2
	case "minutes":
		return "value (minutes)", 1
	case "days":
		return "value (days)", 2
	}
	if strings.HasPrefix(unit, "currency") {
		return "value (" + currency + ")", -1
	}
	return "value", -1
}

// columnText is cellText for a value of a records table's column, money
// (scorecard.MoneyColumn) as scorecard.AmountText writes it, as the CLI's
// tables do. The API keeps the value as recorded.
func columnText(v any, money bool) string {
	if s, ok := scorecard.AmountText(v); ok && money {
		return s
	}
	return cellText(v)
}

// periodEndText shows a period's end as scorecard.PeriodEndText words
// it, the period's last day; an end within a day as the instant it is.
func periodEndText(start, v any) string {
	t, ok := v.(time.Time)
	if !ok {
		return cellText(v)
	}
	from, _ := start.(time.Time)
	if s, ok := scorecard.PeriodEndText(from, t); ok {
		return s
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

// periodStartText shows a period's start as its end is shown: a period of
// whole days by its first day, any other with its time, midnight included
// ("6 Nov 2026 00:00 → 6 Nov 2026 01:00", where the start had lost it).
func periodStartText(v, end any) string {
	t, ok := v.(time.Time)
	e, eok := end.(time.Time)
	if !ok || !eok {
		return cellText(v)
	}
	if s, ok := scorecard.PeriodStartText(t, e); ok {
		return s
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

// cellText shows a row field for people: "—" for none, times in UTC
// (a date alone at midnight, as period bounds are), numbers without
// needless digits, yes or no.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case time.Time:
		x = x.UTC()
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.Format("2 Jan 2006")
		}
		return x.Format("2 Jan 2006 15:04")
	case float64:
		return groupDigits(strconv.FormatFloat(x, 'f', -1, 64), 4)
	case int:
		return groupDigits(strconv.Itoa(x), 0)
	case domain.Money:
		return groupDigits(x.String(), 2)
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// groupDigits groups a decimal's whole part by thousands and keeps at most
// prec decimals (rounding), trailing zeros dropped.
func groupDigits(s string, prec int) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && strings.Contains(s, ".") {
		s = strconv.FormatFloat(f, 'f', prec, 64)
		if strings.Contains(s, ".") {
			s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		}
	}
	return chart.GroupThousands(s)
}

// sourceURLFields are the fields of a stored record that link to where it
// came from (a CI run, an issue tracker, an evidence store), in the order
// they are looked for.
var sourceURLFields = []string{"url", "pipeline_url", "evidence_url"}

// recordSourceURL is the first web link among a stored record's source URL
// fields; "" when it has none. Only http and https links are kept: a
// record's field is data from outside, never a script to run.
func recordSourceURL(body []byte) string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(body, &doc) != nil {
		return ""
	}
	for _, f := range sourceURLFields {
		var s string
		if raw, ok := doc[f]; ok && json.Unmarshal(raw, &s) == nil && webLink(s) {
			return s
		}
	}
	return ""
}

// webLink reports whether s is an absolute http or https URL.
func webLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// recordHref is a record page's path: kind, source and id each escaped as
// one path segment (an id may hold slashes).
func recordHref(k domain.Key) string {
	// An id may hold slashes (owner/repo#12); the route's {id...} takes
	// them as they are, so each segment is escaped on its own and the link
	// stays readable.
	parts := strings.Split(k.ID, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/records/" + url.PathEscape(string(k.Kind)) + "/" + url.PathEscape(k.Source) + "/" + strings.Join(parts, "/")
}

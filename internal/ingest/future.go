package ingest

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
)

// FutureSlack is how far past the clock a record's time may lie before an
// import says so: a day, the bound the pages put on as_of, so that a time
// written in a zone ahead of UTC is not taken for a mistake.
const FutureSlack = 24 * time.Hour

// FutureTimes counts the records of one kind whose field holds a time
// more than FutureSlack past the import's clock: a year's typo
// (2027-06-07 for 2026-06-07), or an exporter's clock. They are valid and
// kept, and count in no metric until that time, which no page says.
// File and Line are the first such record's (Line 0 for a record of
// another tool's format, which has no line).
type FutureTimes struct {
	Kind  domain.Kind `json:"kind"`
	Field string      `json:"field"`
	Count int64       `json:"count"`
	File  string      `json:"file,omitempty"`
	Line  int         `json:"line,omitempty"`
}

// futureFields are, per kind, the indices and names of the struct fields
// of the record that say when something happened ("finished_at", "at"):
// not a deadline (sla_due_at, postmortem_due_at), a period's bounds
// (period_start and period_end: a budget or a quota plans ahead) nor a
// subscription's ended_at (a scheduled end, or 9999 for "never").
var futureFields = sync.OnceValue(func() map[domain.Kind][]timeField {
	out := map[domain.Kind][]timeField{}
	timeType := reflect.TypeFor[time.Time]()
	for _, k := range domain.AllKinds() {
		r := domain.New(k)
		if r == nil {
			continue
		}
		t := reflect.TypeOf(r).Elem()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Type != timeType || !(name == "at" || strings.HasSuffix(name, "_at")) ||
				strings.HasSuffix(name, "_due_at") || k == domain.KindSubscription && name == "ended_at" {
				continue
			}
			out[k] = append(out[k], timeField{index: i, name: name})
		}
	}
	return out
})

type timeField struct {
	index int
	name  string
}

// future counts r's times past limit; file and line are where r was.
func (s *Summary) future(r domain.Record, limit time.Time, file string, line int) {
	fields := futureFields()[r.Kind()]
	if len(fields) == 0 {
		return
	}
	v := reflect.ValueOf(r)
	if v.Kind() != reflect.Pointer {
		return
	}
	v = v.Elem()
	for _, f := range fields {
		// Through a pointer: reading the time.Time itself would allocate
		// one per field of every record.
		if !v.Field(f.index).Addr().Interface().(*time.Time).After(limit) {
			continue
		}
		i := slices.IndexFunc(s.Future, func(t FutureTimes) bool { return t.Kind == r.Kind() && t.Field == f.name })
		if i < 0 {
			s.Future = append(s.Future, FutureTimes{Kind: r.Kind(), Field: f.name, File: file, Line: line})
			i = len(s.Future) - 1
		}
		s.Future[i].Count++
	}
}

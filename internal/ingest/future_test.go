package ingest

import (
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// A record's time more than a day past the clock is counted per kind and
// field, naming the first such record's file and line; a deadline, a
// period's end and a subscription's end ("never": 9999) are not.
func TestFutureTimesCounted(t *testing.T) {
	st := newStore(t)
	now := time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC)
	deps := nd(
		depLine("d1"), // 2026-03-10: past
		`{"kind":"deployment","id":"d2","service":"api","environment":"production","finished_at":"2027-06-07T12:00:00Z","status":"success"}`,
		`{"kind":"deployment","id":"d3","service":"api","environment":"production","finished_at":"2026-06-08T11:00:00Z","status":"success"}`, // within the day
		`{"kind":"deployment","id":"d4","service":"api","environment":"production","started_at":"2027-06-07T11:00:00Z","finished_at":"2027-06-07T12:00:00Z","status":"success"}`,
	)
	csv := "id,service,severity,opened_at,postmortem_due_at\n" +
		"i1,api,P1,2026-06-01T10:00:00Z,2026-07-01T00:00:00Z\n" +
		"i2,api,P1,2026-12-01T10:00:00Z,\n"
	subs := nd(`{"kind":"subscription","id":"s1","customer":"c1","started_at":"2026-01-01T00:00:00Z","ended_at":"9999-12-31T23:59:59Z","mrr":10}`)
	sum := mustImport(t, st, Options{Now: now}, src("deps.ndjson", deps), src("incidents.csv", csv), src("subs.ndjson", subs))
	want := []FutureTimes{
		{Kind: domain.KindDeployment, Field: "finished_at", Count: 2, File: "deps.ndjson", Line: 2},
		{Kind: domain.KindDeployment, Field: "started_at", Count: 1, File: "deps.ndjson", Line: 4},
		{Kind: domain.KindIncident, Field: "opened_at", Count: 1, File: "incidents.csv", Line: 3},
	}
	if !reflect.DeepEqual(sum.Future, want) {
		t.Errorf("Future = %+v\nwant %+v", sum.Future, want)
	}
	if len(sum.Empty) != 0 {
		t.Errorf("Empty = %v, want none", sum.Empty)
	}
}

// A source holding no record, valid or not, is named; one whose records
// were all invalid is not empty.
func TestEmptySourcesNamed(t *testing.T) {
	st := newStore(t)
	sum := mustImport(t, st, Options{SkipInvalid: true},
		src("empty.ndjson", ""), src("blank.ndjson", "\n\n"), src("deployments.csv", depHeader+"\n"),
		src("one.ndjson", nd(depLine("d1"))), src("bad.ndjson", nd(`{"kind":"deployment","id":"x"}`)))
	if want := []string{"empty.ndjson", "blank.ndjson", "deployments.csv"}; !reflect.DeepEqual(sum.Empty, want) {
		t.Errorf("Empty = %v, want %v", sum.Empty, want)
	}
}

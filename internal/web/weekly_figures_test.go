package web

import (
	"context"
	"strings"
	"testing"

	"github.com/candor/candor/internal/ingest"
)

// The metric page's weekly values tell apart two weeks that differ but
// would read alike at the unit's precision: a degrading metric had listed
// 3.7 h and 3.7 h for 3.66 and 3.72, a worsening its reader could not see.
func TestWeeklyValuesTellNeighboursApart(t *testing.T) {
	e := newEnv(t, 0)
	const incidents = `{"kind":"incident","id":"w1","service":"ledgersvc","severity":"P3","opened_at":"2026-03-20T08:00:00Z","resolved_at":"2026-03-20T11:39:36Z"}
{"kind":"incident","id":"w2","service":"ledgersvc","severity":"P3","opened_at":"2026-03-27T08:00:00Z","resolved_at":"2026-03-27T11:43:12Z"}
`
	if _, err := ingest.Import(context.Background(), e.store, []ingest.Source{{Name: "weeks.ndjson", Reader: strings.NewReader(incidents)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	cl := e.sessionAs(t, "executive")
	body := e.page(t, cl, "/metrics/mttr?as_of="+asOf+"&service=ledgersvc", 200)
	i := strings.Index(body, "Weekly values")
	if i < 0 {
		t.Fatalf("the metric page has no weekly values")
	}
	weeks := body[i:]
	if !strings.Contains(weeks, ">3.66 h<") || !strings.Contains(weeks, ">3.72 h<") {
		t.Errorf("the weekly values do not tell 3.66 h from 3.72 h:\n%s", weeks[:min(len(weeks), 3000)])
	}
}

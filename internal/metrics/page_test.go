package metrics

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// A page of a drill-down is described once for every reader of the same
// records until rows are applied, and what it holds and writes is what
// Describe and AppendRefsIndent give; once rows are applied the same
// records are described again, from the data as it is now.
func TestDescribePageKeptUntilRowsApplied(t *testing.T) {
	d := load(t, nil, everyKind)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true}
	r, err := d.Compute("change_failure_rate", q)
	if err != nil || len(r.Records) != 1 {
		t.Fatalf("records = %+v (%v)", r.Records, err)
	}
	p := d.DescribePage(r.Records, q.AsOf)
	if got := p.Refs[0].Fields.Get("status"); got != "failure" {
		t.Fatalf("status = %v, want failure", got)
	}
	if again := d.DescribePage(r.Records, q.AsOf); again != p {
		t.Error("the same records as of the same time were described again")
	}
	if later := d.DescribePage(r.Records, q.AsOf.Add(day)); later == p {
		t.Error("the page as of another time was the kept one")
	}
	want, err := AppendRefsIndent(nil, d.Describe(r.Records, q.AsOf), 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := p.AppendJSON([]byte("x"), 1)
		if err != nil || !bytes.Equal(got, append([]byte("x"), want...)) {
			t.Fatalf("page JSON = %s (%v), want x%s", got, err, want)
		}
	}
	// Other records at the same address (a dropped result's, reused) are
	// not given the page.
	other := append([]Ref(nil), r.Records...)
	po := d.DescribePage(other, q.AsOf)
	other[0].ID = "d-other"
	if d.DescribePage(other, q.AsOf) == po {
		t.Error("records changed at the same address were given the kept page")
	}
	if !p.Holds(p.Refs) || p.Holds(r.Records) || p.Holds(append([]Ref(nil), p.Refs...)) {
		t.Error("Holds does not tell the page's own records from others")
	}

	// The deployment's status changes: the same records (the result kept
	// from before, as a stale read serves it) are described afresh.
	apply(t, d, `{"kind":"deployment","id":"d1","service":"api","environment":"prod","finished_at":"2026-03-12T00:00:00Z","status":"rolled_back"}`)
	p2 := d.DescribePage(r.Records, q.AsOf)
	if p2 == p {
		t.Fatal("the page was kept after rows were applied")
	}
	if got := p2.Refs[0].Fields.Get("status"); got != "rolled_back" {
		t.Errorf("status after the change = %v, want rolled_back", got)
	}
}

// A kept page holds neither the result it was described from (a window's
// records: it keeps a copy of its page's) nor a page larger than
// maxPageRefs (up to 100,000 records an API page, ~45 MB described and
// written), which is described for its reader alone.
func TestDescribePageHoldsLittle(t *testing.T) {
	d := load(t, nil, everyKind)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true}
	r, err := d.Compute("change_failure_rate", q)
	if err != nil || len(r.Records) != 1 {
		t.Fatalf("records = %+v (%v)", r.Records, err)
	}
	big := make([]Ref, 3*maxPageRefs)
	for i := range big {
		big[i] = r.Records[0]
	}
	freed := make(chan struct{})
	runtime.AddCleanup(&big[0], func(ch chan struct{}) { close(ch) }, freed)
	if p := d.DescribePage(big[maxPageRefs:maxPageRefs+10], q.AsOf); p != d.DescribePage(big[maxPageRefs:maxPageRefs+10], q.AsOf) {
		t.Fatal("a page of ten records was not kept")
	}
	big = nil
	for i := 0; ; i++ {
		runtime.GC()
		select {
		case <-freed:
		case <-time.After(50 * time.Millisecond):
			if i < 20 {
				continue
			}
			t.Fatal("the kept page holds the whole result its records came from")
		}
		break
	}

	large := make([]Ref, maxPageRefs+1)
	for i := range large {
		large[i] = r.Records[0]
	}
	if d.DescribePage(large, q.AsOf) == d.DescribePage(large, q.AsOf) {
		t.Errorf("a page of %d records was kept", len(large))
	}
}

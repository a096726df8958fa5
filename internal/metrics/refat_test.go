package metrics

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// TestDescribeByWhereRefsLie: Describe finds a ref's record where the
// metric that named it found it (refAt) and gives exactly what looking its
// strings up gives — for refs its own metrics named, for refs another
// dataset named, and for refs kept while their records were removed and
// their rows taken by others.
func TestDescribeByWhereRefsLie(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 3, Scale: 0.005, End: end}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	build := func(pad int) *Dataset {
		d := NewDataset(DefaultConfig())
		// Strings interned first shift every later code: the other
		// dataset's refs carry codes that mean other strings here.
		for i := range pad {
			d.Apply(&domain.Survey{Meta: domain.Meta{ID: fmt.Sprintf("pad-%d", i), Source: "pad"}, At: end.AddDate(-2, 0, 0), Type: "nps", Score: 9}, time.Time{})
		}
		for _, r := range recs {
			d.Apply(r, time.Time{})
		}
		d.Prepare()
		return d
	}
	d, other := build(0), build(100)
	q := Query{AsOf: end, Window: 90 * day, Records: true}
	// Deployments (by row), incidents and SLIs (by codes), and rows of
	// the kinds held as rows: tickets, opportunities.
	ids := []string{"change_failure_rate", "mttr", "availability", "sla_adherence", "win_rate"}
	drill := func(ds *Dataset) map[string][]Ref {
		out := map[string][]Ref{}
		for _, id := range ids {
			r, err := ds.Compute(id, q)
			if err != nil || len(r.Records) == 0 {
				t.Fatalf("%s: %d records (%v): nothing to describe", id, len(r.Records), err)
			}
			out[id] = r.Records
		}
		return out
	}
	check := func(step string, refs map[string][]Ref) {
		t.Helper()
		for _, id := range ids {
			got, want := d.Describe(refs[id], end), d.Describe(withoutAt(refs[id]), end)
			if !reflect.DeepEqual(withoutAt(got), withoutAt(want)) {
				t.Errorf("%s: %s described by where its refs lie:\n%v\nby their strings:\n%v", step, id, got, want)
			}
		}
	}
	mine, theirs := drill(d), drill(other)
	for _, r := range mine["change_failure_rate"] {
		if r.at.tab != d.strs.stamp || r.at.row == 0 {
			t.Fatalf("a deployment ref not located in its dataset: %+v", r.at)
		}
	}
	check("as named", mine)
	check("named by another dataset", theirs)

	// Remove the deployments named (their rows are released and zeroed),
	// then apply as many new ones, which take those rows: the kept refs'
	// rows now hold other records.
	n := 0
	for _, r := range mine["change_failure_rate"] {
		d.Quarantine(domain.Key{Kind: r.Kind, Source: r.Source, ID: r.ID}, 1, "test")
		n++
	}
	d.Prepare()
	check("removed", mine)
	for i := range n {
		d.Apply(&domain.Deployment{Meta: domain.Meta{ID: fmt.Sprintf("taker-%d", i), Source: "test"},
			Service: "svc-1", Environment: "production", FinishedAt: end.Add(-time.Hour), Status: domain.StatusSuccess}, time.Time{})
	}
	d.Prepare()
	check("rows taken by other records", mine)
}

// BenchmarkDescribe describes a drill-down's first page (1,000 records)
// by where its refs lie and by their strings.
func BenchmarkDescribe(b *testing.B) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	d := NewDataset(DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 3, Scale: 0.5, End: end}, func(r domain.Record) { d.Apply(r, time.Time{}) }); err != nil {
		b.Fatal(err)
	}
	d.Prepare()
	for _, id := range []string{"change_failure_rate", "availability"} {
		r, err := d.Compute(id, Query{AsOf: end, Window: 30 * day, Records: true})
		if err != nil || len(r.Records) < 1000 {
			b.Fatalf("%s: %d records (%v)", id, len(r.Records), err)
		}
		page := r.Records[:1000]
		b.Run(id+"/located", func(b *testing.B) {
			for b.Loop() {
				d.Describe(page, end)
			}
		})
		bare := withoutAt(page)
		b.Run(id+"/by-strings", func(b *testing.B) {
			for b.Loop() {
				d.Describe(bare, end)
			}
		})
	}
}

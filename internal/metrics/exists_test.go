package metrics

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// SPEC §3: a record exists from its defining time. For every kind (the
// list comes from domain.Kinds, so a new kind cannot skip this), a record
// at a time has its defining time moved past as_of — its other timestamps
// stay where they were, most of them now before a time at which the record
// does not exist — and every metric must then answer exactly as it does on
// the data without that record: value, count, detail, the records behind
// the value and the data problems.
func TestRecordAbsentBeforeItsDefiningTime(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 23, Scale: 0.01, End: end, Days: 150}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	asOf := end.Add(-20 * day)
	var queries []Query
	for _, records := range []bool{false, true} {
		for _, w := range []time.Duration{30 * day, 7 * day} {
			// A later as_of first, so the per-deployment memos are taken
			// as of all data before the earlier one reads them.
			queries = append(queries, Query{AsOf: asOf.Add(day), Window: w, Records: records}, Query{AsOf: asOf, Window: w, Records: records})
		}
	}
	referenced := referencedIDs(recs)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, kind := range domain.Kinds {
		if kind == domain.KindService {
			continue // service records exist always (SPEC §3); they have no defining time
		}
		t.Run(string(kind), func(t *testing.T) {
			picks := pickPresent(t, recs, kind, asOf, referenced, rng)
			if len(picks) == 0 {
				t.Fatalf("the generated data has no %s record inside the 30 days before as_of; the test needs one", kind)
			}
			for _, i := range picks {
				shifted := shiftPast(t, recs[i], asOf.Add(2*day))
				without := datasetOf(recs, i, nil)
				with := datasetOf(recs, i, shifted)
				label := fmt.Sprintf("%s %s/%s", kind, recs[i].Header().Source, recs[i].Header().ID)
				for _, id := range IDs() {
					for _, q := range queries {
						got, err := with.Compute(id, q)
						if err != nil {
							t.Fatal(err)
						}
						want, _ := without.Compute(id, q)
						if diff := resultDiff(got, want); diff != "" {
							t.Errorf("%s moved past as_of: %s as of %s window %s (records %v): %s",
								label, id, q.AsOf.Format(time.DateOnly), q.Window, q.Records, diff)
						}
					}
				}
				for _, at := range []time.Time{asOf.Add(day), asOf} {
					if got, want := with.Problems(at), without.Problems(at); !reflect.DeepEqual(got, want) {
						t.Errorf("%s moved past as_of: data problems as of %s = %v, want %v", label, at.Format(time.DateOnly), got, want)
					}
					for _, k := range domain.Kinds {
						if got, want := with.CountAt(k, at), without.CountAt(k, at); got != want {
							t.Errorf("%s moved past as_of: %s records as of %s = %d, want %d", label, k, at.Format(time.DateOnly), got, want)
						}
						g, gok := with.LastData(k, at)
						w, wok := without.LastData(k, at)
						if gok != wok || !g.Equal(w) {
							t.Errorf("%s moved past as_of: %s last data as of %s = %v %v, want %v %v", label, k, at.Format(time.DateOnly), g, gok, w, wok)
						}
					}
				}
			}
		})
	}
}

// datasetOf builds a dataset of recs without recs[skip], plus extra.
func datasetOf(recs []domain.Record, skip int, extra domain.Record) *Dataset {
	d := NewDataset(DefaultConfig())
	for i, r := range recs {
		if i != skip {
			d.Apply(r, time.Time{})
		}
	}
	if extra != nil {
		d.Apply(extra, time.Time{})
	}
	d.Prepare()
	return d
}

func resultDiff(got, want Result) string {
	switch {
	case cacheVal(got.Value) != cacheVal(want.Value) || got.Count != want.Count:
		return fmt.Sprintf("value %s (n=%d), want %s (n=%d)", cacheVal(got.Value), got.Count, cacheVal(want.Value), want.Count)
	case !reflect.DeepEqual(got.Detail, want.Detail):
		return fmt.Sprintf("detail %v, want %v", got.Detail, want.Detail)
	case !reflect.DeepEqual(got.Records, want.Records):
		return fmt.Sprintf("records %v, want %v", got.Records, want.Records)
	case !reflect.DeepEqual(got.Problems, want.Problems):
		return fmt.Sprintf("problems %v, want %v", got.Problems, want.Problems)
	}
	return ""
}

// referencedIDs is every id some record names: listed changes, caused_by,
// rollback_of, releases, leads' opportunities.
func referencedIDs(recs []domain.Record) map[string]bool {
	out := map[string]bool{}
	for _, r := range recs {
		switch r := r.(type) {
		case *domain.Deployment:
			for _, c := range r.Changes {
				out[c] = true
			}
			out[r.RollbackOf] = true
		case *domain.Incident:
			out[r.CausedBy] = true
		case *domain.Ticket:
			out[r.Release] = true
		case *domain.Lead:
			out[r.Opportunity] = true
		}
	}
	delete(out, "")
	return out
}

// pickPresent picks up to four records of a kind that exist at as_of and
// are recent enough to be in the windows asked (defining time in the 30
// days before as_of), with every timestamp at or before as_of — the ones
// whose presence the metrics see. Records that others name come first, so
// the references to a record moved away are exercised too.
func pickPresent(t *testing.T, recs []domain.Record, kind domain.Kind, asOf time.Time, referenced map[string]bool, rng *rand.Rand) []int {
	var named, plain []int
	for i, r := range recs {
		if r.Kind() != kind {
			continue
		}
		born, end := bornField(t, r)
		if end != nil {
			// A period kind counts by overlap: one overlapping the window.
			if born.After(asOf) || !end.After(asOf.Add(-30*day)) {
				continue
			}
		} else if born.After(asOf) || born.Before(asOf.Add(-30*day)) || r.EventTime().After(asOf) {
			continue
		}
		if referenced[r.Header().ID] {
			named = append(named, i)
		} else {
			plain = append(plain, i)
		}
	}
	var out []int
	for _, l := range [][]int{named, plain} {
		for range 2 {
			if len(l) == 0 {
				break
			}
			k := rng.IntN(len(l))
			out = append(out, l[k])
			l = append(l[:k], l[k+1:]...)
		}
	}
	return out
}

// bornField points at the field holding a record's defining time (SPEC §3
// conventions) and, for a period kind, at its period's end; period kinds
// exist from the start of their period.
func bornField(t *testing.T, r domain.Record) (born, end *time.Time) {
	t.Helper()
	switch r := r.(type) {
	case *domain.Deployment:
		return &r.FinishedAt, nil
	case *domain.Change:
		return &r.MergedAt, nil
	case *domain.Incident:
		return &r.OpenedAt, nil
	case *domain.Ticket:
		return &r.CreatedAt, nil
	case *domain.Survey:
		return &r.At, nil
	case *domain.Vulnerability:
		return &r.OpenedAt, nil
	case *domain.Control:
		return &r.CheckedAt, nil
	case *domain.Subscription:
		return &r.StartedAt, nil
	case *domain.Opportunity:
		return &r.CreatedAt, nil
	case *domain.Lead:
		return &r.CreatedAt, nil
	case *domain.SLI:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Cost:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Usage:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Budget:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Spend:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Quota:
		return &r.PeriodStart, &r.PeriodEnd
	case *domain.Target:
		return &r.PeriodStart, &r.PeriodEnd
	}
	t.Fatalf("kind %s has no defining time here: add it (SPEC §3 conventions name one for every kind)", r.Kind())
	return nil, nil
}

// shiftPast returns a copy of r whose defining time is at (after as_of);
// a period kind's whole period moves, keeping its length.
func shiftPast(t *testing.T, r domain.Record, at time.Time) domain.Record {
	t.Helper()
	v := reflect.New(reflect.TypeOf(r).Elem())
	v.Elem().Set(reflect.ValueOf(r).Elem())
	c := v.Interface().(domain.Record)
	born, end := bornField(t, c)
	if end != nil {
		*end = at.Add(end.Sub(*born))
	}
	*born = at
	return c
}

// The case: a deployment lists a change that merged after the
// deployment finished. As of a time between the two the change does not
// exist (SPEC §3), so lead time has nothing; once it has merged it is the
// deployment's by its listing, with its span from the first commit. The
// memo path (a later as_of asked first) and the drill-down must agree.
func TestListedChangeExistsFromItsMerge(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-08T00:00:00Z","merged_at":"2026-03-12T00:00:00Z"}
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","changes":["c1"]}`)
	for _, scope := range []Scope{{}, {Dim: "service", Value: "api"}} {
		for _, records := range []bool{false, true} {
			after, _ := d.Compute("lead_time_for_changes", Query{AsOf: ts(t, "2026-03-13T00:00:00Z"), Window: 30 * day, Scope: scope, Records: records})
			if cacheVal(after.Value) != "48" || after.Count != 1 {
				t.Errorf("scope %v records %v: as of 03-13 lead time = %s (n=%d), want 48 (n=1): merged, listed by d1, first commit 48 h before d1", scope, records, cacheVal(after.Value), after.Count)
			}
			between, _ := d.Compute("lead_time_for_changes", Query{AsOf: ts(t, "2026-03-11T00:00:00Z"), Window: 30 * day, Scope: scope, Records: records})
			if between.Value != nil || between.Count != 0 || len(between.Records) != 0 {
				t.Errorf("scope %v records %v: as of 03-11 lead time = %s (n=%d, %v), want no value: c1 has not merged", scope, records, cacheVal(between.Value), between.Count, between.Records)
			}
		}
	}
	if x, _ := d.ChangeDeploymentAsOf(chgByID(t, d, "c1"), ts(t, "2026-03-11T00:00:00Z").UnixNano()); x != nil {
		t.Errorf("as of 03-11 c1 is linked to %s; it does not exist yet", x.ID)
	}
}

// Dataset.Problems looks only where a problem can be; it must find what a
// scan of every record finds, at any as_of, on data fed in batches (so the
// index of doubtful listings follows replacements and late records).
func TestProblemsMatchFullScan(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 9, Scale: 0.01, End: end, Days: 90}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	// Plant problems of every sort in copies of generated records.
	rng := rand.New(rand.NewPCG(9, 10))
	var extra []domain.Record
	var n int
	for _, r := range recs {
		if _, inc := r.(*domain.Incident); rng.IntN(8) != 0 && !(inc && rng.IntN(2) == 0) {
			continue
		}
		n = rng.IntN(6)
		switch r := r.(type) {
		case *domain.Deployment:
			c := *r
			switch n % 3 {
			case 0: // another source reuses the id
				c.Source = "other"
				c.FinishedAt = c.FinishedAt.Add(time.Duration(rng.IntN(200)) * time.Hour)
			case 1: // lists an unknown change, rolls back an unknown one
				c.Changes = append(slices.Clone(c.Changes), "missing-change")
				c.RollbackOf = "missing-dep"
			case 2: // lists a change of its own that merges later
				c.Changes = append(slices.Clone(c.Changes), "late-"+c.ID)
				extra = append(extra, &domain.Change{Meta: domain.Meta{ID: "late-" + c.ID, Source: "import"}, Service: c.Service, MergedAt: c.FinishedAt.Add(20 * day)})
			}
			extra = append(extra, &c)
		case *domain.Incident:
			c := *r
			c.CausedBy = []string{"missing-dep", "", c.CausedBy}[n%3]
			if n == 1 {
				c.CausedByChangeRequest = "missing-cr"
			}
			if n >= 2 {
				c.ResolvedAt = c.OpenedAt.Add(-30 * day) // before any deployment it names
			}
			extra = append(extra, &c)
		case *domain.Ticket:
			c := *r
			c.Release = "missing-release"
			extra = append(extra, &c)
		case *domain.Lead:
			c := *r
			c.Opportunity = "missing-opp"
			extra = append(extra, &c)
		case *domain.Change:
			c := *r
			c.Source = "other" // a namesake change
			extra = append(extra, &c)
		}
	}
	// The generated records in any order, then the planted ones (which
	// replace the generated records with their keys) in two batches.
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	rng.Shuffle(len(extra), func(i, j int) { extra[i], extra[j] = extra[j], extra[i] })
	d := NewDataset(DefaultConfig())
	for half, part := range [][]domain.Record{append(recs, extra[:len(extra)/2]...), extra[len(extra)/2:]} {
		for _, r := range part {
			d.Apply(r, time.Time{})
		}
		d.Prepare()
		found := 0
		for k := 0; k < 90; k += 9 {
			at := end.Add(-time.Duration(k) * day)
			got, want := d.Problems(at), fullScanProblems(d, at)
			found += len(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("batch %d as of %s: %d problems, a full scan finds %d\n got  %v\n want %v", half, at.Format(time.DateOnly), len(got), len(want), got, want)
			}
		}
		if found == 0 {
			t.Fatalf("batch %d: the planted problems were found nowhere", half)
		}
	}
}

// fullScanProblems checks every reference of every record that exists at
// asOf, and every failed production deployment's recovery.
func fullScanProblems(d *Dataset, asOf time.Time) []Problem {
	at := asOf.UnixNano()
	var out []Problem
	add := func(p Problem) { out = append(out, p) }
	d.eachDep(func(x *Dep) {
		if x.Finished <= at {
			d.listProblems(x, at, add)
			d.rollbackProblem(x, at, add)
		}
	})
	for _, row := range d.prodDeps.between(-1<<63, at+1) {
		if d.failed(row.x, at) != "" {
			if _, st := d.recovery(row.x, at); st == recNegative {
				d.negativeRecovery(row.x, at, add)
			}
		}
	}
	for _, i := range d.incByOpened.between(-1<<63, at+1) {
		d.incidentProblem(i, at, add)
	}
	for _, kind := range []domain.Kind{domain.KindTicket, domain.KindSurvey, domain.KindLead} {
		for _, rec := range d.Records(kind) {
			var ref, field string
			var born int64
			switch r := rec.(type) {
			case *domain.Ticket:
				ref, field, born = r.Release, "release", ns(r.CreatedAt)
			case *domain.Survey:
				ref, field, born = r.Release, "release", ns(r.At)
			case *domain.Lead:
				ref, field, born = r.Opportunity, "opportunity", ns(r.CreatedAt)
			}
			if ref == "" || born > at {
				continue
			}
			h := rec.Header()
			if kind == domain.KindLead {
				if _, st := d.resolveOpportunity(ref, h.Source, at); st != refFound {
					add(refProblem(kind, h.Source, h.ID, field, "opportunity", ref, st))
				}
			} else if _, st := d.resolveDep(ref, h.Source, at); st != refFound {
				add(refProblem(kind, h.Source, h.ID, field, "deployment", ref, st))
			}
		}
	}
	return sortProblems(out)
}

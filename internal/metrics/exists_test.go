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

// withoutAt is refs without where their datasets hold them (refAt): two
// datasets hold the same record at different codes and rows. Describe's
// use of it is tested apart (TestDescribeByWhereRefsLie).
func withoutAt(refs []Ref) []Ref {
	out := slices.Clone(refs)
	for i := range out {
		out[i].at = refAt{}
	}
	return out
}

func resultDiff(got, want Result) string {
	switch {
	case cacheVal(got.Value) != cacheVal(want.Value) || got.Count != want.Count:
		return fmt.Sprintf("value %s (n=%d), want %s (n=%d)", cacheVal(got.Value), got.Count, cacheVal(want.Value), want.Count)
	case !reflect.DeepEqual(got.Detail, want.Detail):
		return fmt.Sprintf("detail %v, want %v", got.Detail, want.Detail)
	case !reflect.DeepEqual(withoutAt(got.Records), withoutAt(want.Records)):
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
	case *domain.Measurement:
		return &r.At, nil
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
		t.Errorf("as of 03-11 c1 is linked to %s; it does not exist yet", d.str(x.id))
	}
}

// plantedData returns generated records (shuffled) and copies of some of
// them carrying every sort of reference problem: ids another source
// reuses, unknown listed changes and rollback targets, listed changes
// that merge weeks after their deployment, unknown causes and change
// requests, incidents resolved before their deployment, unknown releases
// and opportunities. A copy keeps its record's key, so it replaces it.
func plantedData(t *testing.T, end time.Time) (recs, planted []domain.Record) {
	if _, err := generate.Records(generate.Options{Seed: 9, Scale: 0.01, End: end, Days: 90}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	for _, r := range recs {
		if _, inc := r.(*domain.Incident); rng.IntN(8) != 0 && !(inc && rng.IntN(2) == 0) {
			continue
		}
		n := rng.IntN(6)
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
				planted = append(planted, &domain.Change{Meta: domain.Meta{ID: "late-" + c.ID, Source: "import"}, Service: c.Service, MergedAt: c.FinishedAt.Add(20 * day)})
			}
			planted = append(planted, &c)
		case *domain.Incident:
			c := *r
			c.CausedBy = []string{"missing-dep", "", c.CausedBy}[n%3]
			if n == 1 {
				c.CausedByChangeRequest = "missing-cr"
			}
			if n >= 2 {
				c.ResolvedAt = c.OpenedAt.Add(-30 * day) // before any deployment it names
			}
			planted = append(planted, &c)
		case *domain.Ticket:
			c := *r
			if n%2 == 0 {
				// Another source's ticket naming the same release: it
				// resolves while one deployment has the id, not once
				// another source's namesake exists.
				c.Source = "zendesk"
			} else {
				c.Release = "missing-release"
			}
			planted = append(planted, &c)
		case *domain.Lead:
			c := *r
			c.Opportunity = "missing-opp"
			planted = append(planted, &c)
		case *domain.Change:
			c := *r
			c.Source = "other" // a namesake change
			planted = append(planted, &c)
		}
	}
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	rng.Shuffle(len(planted), func(i, j int) { planted[i], planted[j] = planted[j], planted[i] })
	return recs, planted
}

// Dataset.Problems looks only where a problem can be; it must find what a
// scan of every record finds, at any as_of, on data fed in batches (so the
// index of doubtful listings follows replacements and late records).
func TestProblemsMatchFullScan(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	recs, planted := plantedData(t, end)
	d := NewDataset(DefaultConfig())
	for half, part := range [][]domain.Record{append(recs, planted[:len(planted)/2]...), planted[len(planted)/2:]} {
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

// The memos and the result cache must stay exact where references resolve
// differently over time: ids that several sources share, listings of
// changes that merge later, references that resolve to nothing. A warm
// dataset fed the planted records in batches answers every metric, at
// several as_of, as a dataset built from scratch.
func TestCacheMatchesFreshWithPlantedReferences(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	recs, planted := plantedData(t, end)
	var queries []Query
	for _, records := range []bool{false, true} {
		for k := 0; k < 60; k += 12 {
			queries = append(queries, Query{AsOf: end.Add(-time.Duration(k) * day), Window: 30 * day, Records: records})
		}
	}
	inc := NewDataset(DefaultConfig())
	applied := slices.Clone(recs)
	for _, r := range recs {
		inc.Apply(r, time.Time{})
	}
	inc.Prepare()
	for step, part := range [][]domain.Record{nil, planted[:len(planted)/3], planted[len(planted)/3:]} {
		for _, r := range part {
			inc.Apply(r, time.Time{})
		}
		inc.Prepare()
		applied = append(applied, part...)
		fresh := datasetOf(applied, -1, nil)
		// Ask the later as_of first: memos are taken as of all data.
		for _, id := range IDs() {
			for _, q := range queries {
				got, _ := inc.Compute(id, q)
				want, _ := fresh.Compute(id, q)
				if diff := resultDiff(got, want); diff != "" {
					t.Errorf("step %d: %s as of %s (records %v): %s", step, id, q.AsOf.Format(time.DateOnly), q.Records, diff)
				}
			}
		}
	}
}

// fullScanProblems checks every reference of every record that exists at
// asOf, and every failed production deployment's recovery.
func fullScanProblems(d *Dataset, asOf time.Time) []Problem {
	at := asOf.UnixNano()
	var out []Problem
	add := func(p Problem) { out = append(out, p) }
	for x := range d.allDeps() {
		if x.Finished <= at {
			d.listProblems(x, at, add)
			d.rollbackProblem(x, at, add)
		}
	}
	for _, row := range d.prodDeps.between(-1<<63, at+1) {
		if x := d.deps.at(row.i); d.failed(x, at) != "" {
			if _, st := d.recovery(x, at); st == recNegative {
				d.negativeRecovery(x, at, add)
			}
		}
	}
	for _, i := range d.incByOpened.between(-1<<63, at+1) {
		d.incidentProblem(i, at, add)
	}
	type naming struct {
		kind                   domain.Kind
		source, id, ref, field string
		born                   int64
	}
	var named []naming
	for r := range d.tickets().all() {
		named = append(named, naming{domain.KindTicket, d.str(r.source), d.str(r.id), d.str(r.release), "release", r.created})
	}
	for r := range d.surveys().all() {
		named = append(named, naming{domain.KindSurvey, d.str(r.source), d.str(r.id), d.str(r.release), "release", r.at})
	}
	for r := range d.leads().all() {
		named = append(named, naming{domain.KindLead, d.str(r.source), d.str(r.id), d.str(r.opportunity), "opportunity", r.created})
	}
	for _, n := range named {
		if n.ref == "" || n.born > at {
			continue
		}
		if n.kind == domain.KindLead {
			if _, st := d.resolveOpportunity(d.codeOrNone(n.ref), d.codeOrNone(n.source), at); st != refFound {
				add(refProblem(n.kind, n.source, n.id, n.field, "opportunity", n.ref, st))
			}
		} else if _, st := d.resolveDep(n.ref, n.source, at); st != refFound {
			add(refProblem(n.kind, n.source, n.id, n.field, "deployment", n.ref, st))
		}
	}
	return sortProblems(out)
}

// A ticket of another source naming a release resolves to the only
// deployment with that id until another source's namesake exists (SPEC
// §2). The release-impact memo, kept once a release's observation window
// has closed, must not carry the later answer back to earlier as_of.
func TestReleaseImpactFollowsReusedID(t *testing.T) {
	const base = `
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}
{"kind":"ticket","id":"t1","source":"zendesk","created_at":"2026-03-01T01:00:00Z","release":"d1","priority":"high"}`
	const namesake = `{"kind":"deployment","id":"d1","source":"gl","service":"web","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success"}`
	// Until gl's d1 finishes, t1 is ci's d1's ticket (weight 2 for high
	// priority); from then on its release names two deployments, none of
	// zendesk's: it counts for neither (and is a data problem).
	want := map[string]string{"2026-03-10": "2", "2026-03-31": "0", "2026-03-11": "2"}
	check := func(name string, d *Dataset) {
		t.Helper()
		for _, at := range []string{"2026-03-10", "2026-03-31", "2026-03-11"} {
			r, _ := d.Compute("release_impact_score", Query{AsOf: ts(t, at+"T00:00:00Z"), Window: 30 * day})
			if got := cacheVal(r.Value); got != want[at] {
				t.Errorf("%s: release impact as of %s = %s, want %s", name, at, got, want[at])
			}
		}
	}
	warm := load(t, nil, base)
	warm.Compute("release_impact_score", Query{AsOf: ts(t, "2026-03-10T00:00:00Z"), Window: 30 * day})
	apply(t, warm, namesake)
	check("warm", warm)
	check("fresh", load(t, nil, base+"\n"+namesake))
}

// The per-day release-impact sums behind the baseline hold as of all
// data; a day holding a deployment whose id another source reuses later
// must be walked as of each as_of instead.
func TestReleaseBaselineFollowsReusedID(t *testing.T) {
	const data = `
{"kind":"deployment","id":"d1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-01T00:00:00Z","status":"success"}
{"kind":"ticket","id":"t1","source":"zendesk","created_at":"2026-03-01T01:00:00Z","release":"d1","priority":"high"}
{"kind":"deployment","id":"d2","source":"ci","service":"api","environment":"production","finished_at":"2026-06-01T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","source":"gl","service":"web","environment":"production","finished_at":"2026-06-20T00:00:00Z","status":"success"}`
	d := load(t, nil, data)
	// As of 06-25 t1's release is ambiguous: api's baseline is 0, d2 scores 0.
	if r, _ := d.Compute("release_impact_score", Query{AsOf: ts(t, "2026-06-25T00:00:00Z"), Window: 30 * day}); cacheVal(r.Value) != "0" {
		t.Errorf("as of 06-25 = %s, want 0", cacheVal(r.Value))
	}
	// As of 06-15 gl's d1 does not exist: t1 is ci's d1's (weight 2), the
	// baseline is 2 and d2 scores −2.
	if r, _ := d.Compute("release_impact_score", Query{AsOf: ts(t, "2026-06-15T00:00:00Z"), Window: 30 * day}); cacheVal(r.Value) != "-2" {
		t.Errorf("as of 06-15 = %s, want -2", cacheVal(r.Value))
	}
}

// A listing of an id two other sources have is ambiguous once both exist,
// and resolves to the only one before (SPEC §2). The lead-time memo, taken
// as of all data, must not answer for the earlier as_of.
func TestLeadMemoFollowsSharedChangeID(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","source":"gh","service":"api","authored_at":"2026-03-04T00:00:00Z","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"web","environment":"production","finished_at":"2026-03-06T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"change","id":"c1","source":"gl","service":"api","authored_at":"2026-03-19T00:00:00Z","merged_at":"2026-03-20T00:00:00Z"}`)
	web := Scope{Dim: "service", Value: "web"}
	for _, c := range []struct {
		at   string
		want string
	}{{"2026-03-31", "nil"}, {"2026-03-11", "48"}, {"2026-03-21", "nil"}, {"2026-03-19", "48"}} {
		for _, records := range []bool{false, true} {
			r, _ := d.Compute("lead_time_for_changes", Query{AsOf: ts(t, c.at+"T00:00:00Z"), Window: 30 * day, Scope: web, Records: records})
			if got := cacheVal(r.Value); got != c.want {
				t.Errorf("as of %s (records %v): web lead time = %s, want %s", c.at, records, got, c.want)
			}
		}
	}
}

package metrics

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// The result cache is only correct if a record never changes a result as
// of a time before its own earliest timestamp. This test holds every
// metric to that: a dataset fed in batches, its cache warmed between
// batches, must answer exactly like a dataset built from scratch.
func TestCacheMatchesFreshComputation(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 7, Scale: 0.01, End: end, Days: 120}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	// The generated book churns too rarely at this scale for the bridge's
	// losses: customers who leave, and who move to a cheaper plan, one
	// every few days.
	for i := range 24 {
		at := end.Add(-time.Duration(3+i*4) * day)
		c := fmt.Sprintf("leaver-%d", i)
		old := &domain.Subscription{Meta: domain.Meta{ID: c + "-a", Source: "import"}, Customer: c, Plan: "pro",
			StartedAt: end.Add(-400 * day), EndedAt: at, MRR: domain.Money(int64(900+i) * 1_000_000)}
		recs = append(recs, old)
		if i%2 == 0 {
			recs = append(recs, &domain.Subscription{Meta: domain.Meta{ID: c + "-b", Source: "import"}, Customer: c, Plan: "basic",
				StartedAt: at, MRR: domain.Money(int64(300+i) * 1_000_000)})
		}
	}
	// Nor is an incident always still open at End (a state count has
	// nothing else to count): two are, opened a week apart.
	for i := range 2 {
		recs = append(recs, &domain.Incident{Meta: domain.Meta{ID: fmt.Sprintf("open-%d", i), Source: "import"}, Service: "payments",
			Severity: "P2", OpenedAt: end.Add(-time.Duration(2+7*i) * day)})
	}
	// Nor are the generated vulnerabilities often known exploited: some
	// are, in several packages, fixed weeks later or not at all.
	for i := range 8 {
		v := &domain.Vulnerability{Meta: domain.Meta{ID: fmt.Sprintf("kev-%d", i), Source: "grype"}, Severity: "high", Service: "payments",
			OpenedAt: end.Add(-time.Duration(5+9*i) * day), KEV: true, Package: []string{"openssl", "zlib", ""}[i%3]}
		if i%2 == 1 {
			v.FixedAt = v.OpenedAt.Add(time.Duration(10+i) * day)
		}
		recs = append(recs, v)
	}
	// Arrival orders: as generated (mostly time order), and shuffled, so
	// late and out-of-order records are covered too.
	shuffled := append([]domain.Record(nil), recs...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	var queries []Query
	for _, w := range []time.Duration{30 * day, 7 * day} {
		for k := 0; k < 8; k++ {
			queries = append(queries, Query{AsOf: end.Add(-time.Duration(k) * 7 * day), Window: w})
		}
	}
	queries = append(queries, Query{AsOf: end, Window: 30 * day, Scope: Scope{Dim: "team", Value: "payments"}})
	// NRR's and GRR's lines read the organisation's walk of the
	// subscriptions (customersMRR), kept for every segment: the generated
	// customers' segments, and the leavers', who name none.
	segmented := []Query{
		{AsOf: end, Window: 30 * day, Scope: Scope{Dim: "segment", Value: "smb"}},
		{AsOf: end.Add(-14 * day), Window: 30 * day, Scope: Scope{Dim: "segment", Value: NoneKey}},
	}
	queries = append(queries, segmented...)
	segValued := map[Scope]bool{}

	// Metrics added later must have values here at least once, or their
	// comparison would only find nothing equal to nothing.
	mustValue := []string{"coding_time", "pickup_time", "review_time", "deploy_time", "mrr_new", "mrr_reactivation",
		"mrr_expansion", "mrr_contraction", "mrr_churn", "quick_ratio", "ltv", "revenue_at_risk"}
	valued := map[string]bool{}
	for name, order := range map[string][]domain.Record{"generated": recs, "shuffled": shuffled} {
		t.Run(name, func(t *testing.T) {
			inc := NewDataset(customConfig(t))
			steps := 5
			for s := 1; s <= steps; s++ {
				lo, hi := len(order)*(s-1)/steps, len(order)*s/steps
				for _, r := range order[lo:hi] {
					inc.Apply(r, time.Time{})
				}
				// Re-apply a few earlier records with a changed field, as a
				// re-import with corrections would.
				for _, r := range order[lo:min(hi, lo+20)] {
					if dep, ok := r.(*domain.Deployment); ok {
						c := *dep
						c.Status = domain.StatusFailure
						inc.Apply(&c, time.Time{})
						inc.Apply(dep, time.Time{})
					}
				}
				// And leads and opportunities with other times before:
				// windows on those times are walked by them (byOrders).
				leads, opps := 0, 0
				for _, r := range order[lo:hi] {
					switch x := r.(type) {
					case *domain.Lead:
						if leads < 20 {
							c := *x
							c.CreatedAt = c.CreatedAt.Add(-45 * day)
							if !c.MQLAt.IsZero() {
								c.MQLAt = c.MQLAt.Add(-40 * day)
							}
							inc.Apply(&c, time.Time{})
							inc.Apply(x, time.Time{})
							leads++
						}
					case *domain.Opportunity:
						if opps < 20 {
							c := *x
							c.ClosedAt = c.CreatedAt.Add(-3 * day)
							if !c.CloseDate.IsZero() {
								c.CloseDate = domain.Date{Time: c.CloseDate.Add(-60 * day)}
							}
							inc.Apply(&c, time.Time{})
							inc.Apply(x, time.Time{})
							opps++
						}
					}
				}
				inc.Prepare()
				fresh := NewDataset(customConfig(t))
				for _, r := range order[:hi] {
					fresh.Apply(r, time.Time{})
				}
				fresh.Prepare()
				for _, id := range allIDs(inc) {
					for _, q := range queries {
						if q.Scope.Dim != "" && !contains(inc.Dims(id), q.Scope.Dim) {
							continue
						}
						got, err := inc.Compute(id, q)
						if err != nil {
							t.Fatal(err)
						}
						want, _ := fresh.Compute(id, q)
						valued[id] = valued[id] || want.Value != nil && *want.Value != 0
						if id == "nrr" && q.Scope.Dim == "segment" && want.Value != nil {
							segValued[q.Scope] = true
						}
						if cacheVal(got.Value) != cacheVal(want.Value) || got.Count != want.Count {
							t.Errorf("step %d %s as of %s window %s scope %v: cached %s (n=%d), fresh %s (n=%d)",
								s, id, q.AsOf.Format(time.DateOnly), q.Window, q.Scope, cacheVal(got.Value), got.Count, cacheVal(want.Value), want.Count)
						}
					}
				}
			}
		})
	}
	for _, def := range everyKindCustom {
		// This data has no escalated ticket open at any as_of asked (nor
		// for the built-in open_escalations).
		if def.ID != "c_open_escalations" {
			mustValue = append(mustValue, def.ID)
		}
	}
	for _, q := range segmented {
		if !segValued[q.Scope] {
			t.Errorf("nrr has no value in %v: the data does not exercise its segments", q.Scope)
		}
	}
	for _, id := range mustValue {
		if !valued[id] {
			t.Errorf("%s has no value other than 0 in any query: the data does not exercise it", id)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func cacheVal(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%.9g", *v)
}

// Each metric declares the kinds it reads, and the cache keeps its results
// until one of those kinds changes. This test warms the cache on most of
// the data, then adds the held-back records one kind at a time, checking
// every metric against a fresh dataset after each kind: a metric that
// reads a kind it did not declare keeps a stale result and fails here.
func TestCacheKindsDeclared(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var base []domain.Record
	held := map[domain.Kind][]domain.Record{}
	rng := rand.New(rand.NewPCG(3, 4))
	_, err := generate.Records(generate.Options{Seed: 11, Scale: 0.03, End: end, Days: 120}, func(r domain.Record) {
		// Services are reference data and invalidate everything; hold
		// back a third of every other kind.
		if r.Kind() != domain.KindService && rng.IntN(3) == 0 {
			held[r.Kind()] = append(held[r.Kind()], r)
		} else {
			base = append(base, r)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := make([]domain.Kind, 0, len(held))
	for k := range held {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	if len(kinds) < 15 {
		t.Fatalf("generated data holds back only %d kinds; the test needs nearly all", len(kinds))
	}
	var queries []Query
	for k := 0; k < 4; k++ {
		for _, w := range []time.Duration{30 * day, 90 * day} {
			queries = append(queries, Query{AsOf: end.Add(-time.Duration(k) * 10 * day), Window: w})
		}
	}
	inc := NewDataset(customConfig(t))
	applied := slices.Clone(base)
	for _, r := range base {
		inc.Apply(r, time.Time{})
	}
	inc.Prepare()
	warm := func() {
		for _, id := range allIDs(inc) {
			for _, q := range queries {
				inc.Compute(id, q)
			}
		}
	}
	warm()
	for _, k := range kinds {
		for _, r := range held[k] {
			inc.Apply(r, time.Time{})
		}
		inc.Prepare()
		applied = append(applied, held[k]...)
		fresh := NewDataset(customConfig(t))
		for _, r := range applied {
			fresh.Apply(r, time.Time{})
		}
		fresh.Prepare()
		for _, id := range allIDs(inc) {
			for _, q := range queries {
				got, _ := inc.Compute(id, q)
				want, _ := fresh.Compute(id, q)
				if cacheVal(got.Value) != cacheVal(want.Value) || got.Count != want.Count {
					t.Errorf("after adding %d %s records: %s as of %s: cached %s (n=%d), fresh %s (n=%d)",
						len(held[k]), k, id, q.AsOf.Format(time.DateOnly), cacheVal(got.Value), got.Count, cacheVal(want.Value), want.Count)
				}
			}
		}
		warm()
	}
}

// A deployment's memoised lead times depend on changes of other services
// it lists. When the earlier of two deployments listing a change stops
// shipping it (replaced by a failed attempt), the later one — of a third
// service — ships it, and its memo must notice.
func TestLeadMemoFollowsCrossServiceRelink(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-10T00:00:00Z","merged_at":"2026-03-10T06:00:00Z"}
{"kind":"deployment","id":"a","source":"ci","service":"web","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"b","source":"ci","service":"mobile","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success","changes":["c1"]}`)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Scope: Scope{Dim: "service", Value: "mobile"}}
	before, _ := d.Compute("lead_time_for_changes", q)
	if before.Value != nil {
		t.Fatalf("before: mobile shipped nothing, got %v", *before.Value)
	}
	apply(t, d, `{"kind":"deployment","id":"a","source":"ci","service":"web","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"failure","changes":["c1"]}`)
	after, _ := d.Compute("lead_time_for_changes", q)
	if after.Value == nil || *after.Value != 48 {
		t.Fatalf("after: mobile's b ships c1 (authored 48 h before), got %v", cacheVal(after.Value))
	}
}

// A deployment's memoised failure depends on records of other services
// that name it: a rollback deployment and a deployment sharing the change
// request an incident names. Each must reach the memo.
func TestFailMemoFollowsCrossServiceLinks(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"a","source":"ci","service":"web","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success","change_request":"CR-1"}
{"kind":"deployment","id":"b","source":"ci","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"db","severity":"P2","opened_at":"2026-03-13T00:00:00Z","caused_by_change_request":"CR-1"}`)
	asOf := ts(t, defaultAsOf)
	cfr := func(svc string) string {
		t.Helper()
		r, err := d.Compute("change_failure_rate", Query{AsOf: asOf, Window: 30 * day, Scope: Scope{Dim: "service", Value: svc}})
		if err != nil {
			t.Fatal(err)
		}
		return cacheVal(r.Value)
	}
	if got := cfr("web"); got != "100" {
		t.Fatalf("web: a caused i1 through CR-1, CFR = %s, want 100", got)
	}
	if got := cfr("api"); got != "0" {
		t.Fatalf("api before rollback: CFR = %s, want 0", got)
	}
	// A staging deployment of another service names b as rolled back:
	// only a production deployment of b's own service rolls it back
	// (SPEC §2), but the memo must still have looked again.
	apply(t, d, `{"kind":"deployment","id":"r1","source":"ci","service":"ops","environment":"staging","finished_at":"2026-03-14T00:00:00Z","status":"success","rollback_of":"b"}`)
	if got := cfr("api"); got != "0" {
		t.Errorf("api after a staging rollback by ops: CFR = %s, want 0", got)
	}
	apply(t, d, `{"kind":"deployment","id":"r1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-14T00:00:00Z","status":"success","rollback_of":"b"}`)
	if got := cfr("api"); got != "50" {
		t.Errorf("api after its own production rollback: CFR = %s, want 50 (b rolled back, r1 not)", got)
	}
	// A later deployment of CR-1 in another service, live when i1 opened,
	// takes the incident from a.
	apply(t, d, `{"kind":"deployment","id":"c","source":"ci","service":"mobile","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","change_request":"CR-1"}`)
	if got := cfr("web"); got != "0" {
		t.Errorf("web after c of CR-1: CFR = %s, want 0 (i1 is c's)", got)
	}
	// The rollback is corrected: it rolled nothing back after all.
	apply(t, d, `{"kind":"deployment","id":"r1","source":"ci","service":"api","environment":"production","finished_at":"2026-03-14T00:00:00Z","status":"success"}`)
	if got := cfr("api"); got != "0" {
		t.Errorf("api after the rollback was withdrawn: CFR = %s, want 0", got)
	}
}

// median selects instead of sorting; it must agree with the sorted
// definition on every shape of input, ties and duplicates included.
func TestMedianMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := 1; n < 400; n++ {
		for _, spread := range []int{2, 10, 1000} {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(rng.IntN(spread)) / 4
			}
			if n%7 == 0 {
				slices.Sort(v) // already sorted input
			}
			s := slices.Clone(v)
			slices.Sort(s)
			want := s[n/2]
			if n%2 == 0 {
				want = (s[n/2-1] + s[n/2]) / 2
			}
			if got := *median(v); got != want {
				t.Fatalf("n=%d spread=%d: median %v, want %v", n, spread, got, want)
			}
		}
	}
}

// An id reused by another source takes over the records of that source
// that name it (SPEC §2: a reference resolves within its own source
// first) from the time the newcomer exists: results as of later change,
// results as of before it must not, and a cached result or memo taken as
// of all data before it arrived must not stand in for either.
func TestCacheFollowsReusedDeploymentID(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","source":"ci","service":"web","environment":"production","finished_at":"2026-03-05T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","source":"pd","service":"web","severity":"P2","opened_at":"2026-03-06T00:00:00Z","caused_by":"d1"}`)
	march := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	april := Query{AsOf: ts(t, "2026-04-21T00:00:00Z"), Window: 60 * day}
	cfr := func(q Query) string {
		t.Helper()
		r, err := d.Compute("change_failure_rate", q)
		if err != nil {
			t.Fatal(err)
		}
		return cacheVal(r.Value)
	}
	if got := cfr(march); got != "100" {
		t.Fatalf("before: CFR as of March = %s, want 100", got)
	}
	if got := cfr(april); got != "100" {
		t.Fatalf("before: CFR as of April = %s, want 100", got)
	}
	apply(t, d, `{"kind":"deployment","id":"d1","source":"pd","service":"web","environment":"production","finished_at":"2026-04-20T00:00:00Z","status":"success"}`)
	// As of April both exist and i1 names pd's d1: 1 of 2 failed.
	if got := cfr(april); got != "50" {
		t.Errorf("after pd's d1 arrived: CFR as of April = %s, want 50 (i1 names pd's d1)", got)
	}
	// As of March pd's d1 has not happened: ci's is the only d1.
	if got := cfr(march); got != "100" {
		t.Errorf("after pd's d1 arrived: CFR as of March = %s, want 100 (pd's d1 does not exist yet)", got)
	}
}

// The organisation's lead time takes its median across per-day sorted
// runs and the unsorted spans of the deployments read one by one; it must
// equal the median of their concatenation.
func TestMedianOfRunsMatchesMedian(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 500; trial++ {
		var runs [][]float64
		var all []float64
		for range rng.IntN(6+trial%60) + 1 {
			run := make([]float64, rng.IntN(20))
			for i := range run {
				run[i] = float64(rng.IntN(1 + trial%50))
			}
			slices.Sort(run)
			runs = append(runs, run)
			all = append(all, run...)
		}
		got, want := medianOfRunsAndRest(runs, nil), median(slices.Clone(all))
		if cacheVal(got) != cacheVal(want) {
			t.Fatalf("runs %v: median %s, want %s", runs, cacheVal(got), cacheVal(want))
		}
		// Some of the values come unsorted beside the runs, as the
		// deployments read one by one do (orgSpans).
		rest := make([]float64, rng.IntN(3)*rng.IntN(2*sortRest))
		for i := range rest {
			rest[i] = float64(rng.IntN(1 + trial%50))
		}
		withRest := append(slices.Clone(all), rest...)
		if got, want := medianOfRunsAndRest(runs, slices.Clone(rest)), median(slices.Clone(withRest)); cacheVal(got) != cacheVal(want) {
			t.Fatalf("runs %v and %v: median %s, want %s", runs, rest, cacheVal(got), cacheVal(want))
		}
		slices.Sort(all)
		for k, v := range all {
			if got := kthOfSorted(runs, k); got != v {
				t.Fatalf("runs %v: value %d is %v, want %v", runs, k, got, v)
			}
		}
		slices.Sort(withRest)
		for k := 0; k < len(withRest); k += 1 + len(withRest)/64 {
			if got := kthOfRunsAndRest(runs, rest, k); got != withRest[k] {
				t.Fatalf("runs %v and %v: value %d is %v, want %v", runs, rest, k, got, withRest[k])
			}
		}
	}
}

// Concurrent readers missing the same window compute it once; the others
// wait for that result (no stampede right after new data).
func TestConcurrentMissesComputeOnce(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	testMetric(t, "test_single_flight", func(d *Dataset, q Query) Result {
		calls.Add(1)
		<-release
		return Result{Count: 7}
	})
	d := NewDataset(DefaultConfig())
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	const readers = 8
	results := make(chan Result, readers)
	for range readers {
		go func() {
			r, _ := d.Compute("test_single_flight", q)
			results <- r
		}()
	}
	// Wait until all but the computing reader are parked on its flight;
	// without single flight they would all be computing instead.
	if waiting := waitForWaiters(d, readers-1); waiting != readers-1 {
		close(release)
		t.Fatalf("after 10 s %d readers wait on the flight and %d computed; want %d waiting, 1 computing", waiting, calls.Load(), readers-1)
	}
	close(release)
	for range readers {
		if r := <-results; r.Count != 7 {
			t.Fatalf("a reader got %+v", r)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("computed %d times, want once", n)
	}
}

// An incident of one service caused by another's deployment makes that
// deployment fail; its memo must see the incident arrive and leave.
func TestFailMemoFollowsCrossServiceIncident(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"a","source":"ci","service":"web","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}`)
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Scope: Scope{Dim: "service", Value: "web"}}
	cfr := func() string {
		t.Helper()
		r, err := d.Compute("change_failure_rate", q)
		if err != nil {
			t.Fatal(err)
		}
		return cacheVal(r.Value)
	}
	if got := cfr(); got != "0" {
		t.Fatalf("before: CFR = %s, want 0", got)
	}
	apply(t, d, `{"kind":"incident","id":"i1","source":"pd","service":"db","severity":"P2","opened_at":"2026-03-12T00:00:00Z","caused_by":"a"}`)
	if got := cfr(); got != "100" {
		t.Fatalf("after db's incident caused by a: CFR = %s, want 100", got)
	}
	apply(t, d, `{"kind":"incident","id":"i1","source":"pd","service":"db","severity":"P2","opened_at":"2026-03-12T00:00:00Z"}`)
	if got := cfr(); got != "0" {
		t.Errorf("after the incident no longer names a: CFR = %s, want 0", got)
	}
}

// Drill-downs are cached like values, a bounded few at a time, and new
// data reaches them like any other result.
func TestDrillDownsCached(t *testing.T) {
	d := load(t, nil, dailyDeps(t, "d", "api", "2026-03-01", 10, 2))
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true}
	r, _ := d.Compute("change_failure_rate", q)
	if len(r.Records) != 10 {
		t.Fatalf("%d records, want 10", len(r.Records))
	}
	r2, _ := d.Compute("change_failure_rate", q)
	if &r2.Records[0] != &r.Records[0] {
		t.Errorf("the second drill-down was computed again, not served from cache")
	}
	apply(t, d, `{"kind":"deployment","id":"late","service":"api","environment":"production","finished_at":"2026-03-20T12:00:00Z","status":"failure"}`)
	if r, _ := d.Compute("change_failure_rate", q); len(r.Records) != 11 {
		t.Errorf("after a new deployment: %d records, want 11", len(r.Records))
	}
	for i := range 2 * maxDrills {
		d.Compute("change_failure_rate", Query{AsOf: ts(t, defaultAsOf).Add(-time.Duration(i) * time.Hour), Window: 30 * day, Records: true})
	}
	n := 0
	for _, m := range d.cache.byDef {
		for k := range m {
			if k.records {
				n++
			}
		}
	}
	if n > maxDrills || n != d.cache.drills {
		t.Errorf("%d drill-downs cached, want at most %d", n, maxDrills)
	}
}

// A deployment arriving between an earlier one and an incident inferred
// to it takes the incident (the latest eligible deployment before it);
// the earlier one's memoised failure must not outlive that.
func TestFailMemoFollowsNewDeployment(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"a","service":"web","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-10T12:00:00Z"}`)
	asOf := ts(t, defaultAsOf).UnixNano()
	if why := d.failed(depByID(t, d, "a"), asOf); why != "caused an incident" {
		t.Fatalf("a before: %q, want caused an incident", why)
	}
	apply(t, d, `{"kind":"deployment","id":"b","service":"web","environment":"production","finished_at":"2026-03-10T06:00:00Z","status":"success"}`)
	if why := d.failed(depByID(t, d, "a"), asOf); why != "" {
		t.Errorf("a after b arrived: %q, want not failed (i1 is b's)", why)
	}
	if why := d.failed(depByID(t, d, "b"), asOf); why != "caused an incident" {
		t.Errorf("b: %q, want caused an incident", why)
	}
}

// A reader whose computation panics must not leave the others waiting
// forever: they are released and compute for themselves.
func TestPanickingComputationReleasesWaiters(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	testMetric(t, "test_panicking", func(d *Dataset, q Query) Result {
		if calls.Add(1) == 1 {
			<-release
			panic("first computation fails")
		}
		return Result{Count: 3}
	})
	d := NewDataset(DefaultConfig())
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		d.Compute("test_panicking", q)
	}()
	for calls.Load() == 0 {
		runtime.Gosched()
	}
	waiter := make(chan Result, 1)
	go func() {
		r, _ := d.Compute("test_panicking", q)
		waiter <- r
	}()
	if waitForWaiters(d, 1) != 1 {
		t.Fatal("the second reader never waited on the first one's computation")
	}
	close(release)
	if p := <-panicked; p == nil {
		t.Fatal("the first computation did not panic")
	}
	select {
	case r := <-waiter:
		if r.Count != 3 {
			t.Errorf("waiter got %+v, want its own computation (count 3)", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter is still blocked after the computation panicked")
	}
	if len(d.flights) != 0 {
		t.Errorf("%d flights left registered", len(d.flights))
	}
}

// waitForWaiters waits up to 10 s for n readers to be parked on flights
// and returns how many are.
func waitForWaiters(d *Dataset, n int) int {
	deadline := time.Now().Add(10 * time.Second)
	for {
		d.cacheMu.Lock()
		waiting := 0
		for _, f := range d.flights {
			waiting += f.waiters
		}
		d.cacheMu.Unlock()
		if waiting == n || time.Now().After(deadline) {
			return waiting
		}
		runtime.Gosched()
	}
}

// testMetric registers a metric for one test.
func testMetric(t *testing.T, id string, fn Func) {
	reg.add(Def{ID: id, Fn: fn, Formula: 1})
	t.Cleanup(func() {
		delete(reg.defs, id)
		reg.ids = slices.DeleteFunc(reg.ids, func(x string) bool { return x == id })
	})
}

// A formula that panics while results are computed ahead of readers (the
// stale refresh, the warming of the next copy: goroutines of the engine's)
// leaves that result uncomputed and goes on with the others, where it had
// ended the whole server; a reader asking for it gets the panic.
func TestComputeAheadSurvivesAPanickingFormula(t *testing.T) {
	testMetric(t, "test_panics_ahead", func(*Dataset, Query) Result { panic("formula met data it could not handle") })
	testMetric(t, "test_fine_ahead", func(*Dataset, Query) Result { return Result{Count: 2} })
	d := NewDataset(DefaultConfig())
	q := Query{AsOf: ts(t, defaultAsOf), Window: 30 * day}
	var keys []cacheKey
	for _, id := range []string{"test_panics_ahead", "test_fine_ahead"} {
		def, err := d.defAt(id, q.AsOf)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, q.key(def))
	}
	if n, rest := d.computeUntil(keys, time.Now().Add(time.Minute), true); n != 2 || len(rest) != 0 {
		t.Errorf("computed %d, %d left; want both keys done", n, len(rest))
	}
	if !d.Cached("test_fine_ahead", q) || d.Cached("test_panics_ahead", q) {
		t.Errorf("cached: fine %v, panicking %v; want the fine one only", d.Cached("test_fine_ahead", q), d.Cached("test_panics_ahead", q))
	}
	if len(d.flights) != 0 {
		t.Errorf("%d flights left registered", len(d.flights))
	}
	defer func() {
		if recover() == nil {
			t.Error("a reader asking for the panicking metric did not get its panic")
		}
	}()
	d.Compute("test_panics_ahead", q)
}

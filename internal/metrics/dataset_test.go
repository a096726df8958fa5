package metrics

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Changes are kept in one map by id with other sources' namesakes chained;
// replacing, and replacing the head of the chain, must keep every change
// findable and counted once.
func TestChangesWithSharedIDs(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","source":"gh","service":"api","merged_at":"2026-03-10T06:00:00Z"}
{"kind":"change","id":"c1","source":"gl","service":"web","merged_at":"2026-03-11T06:00:00Z"}
{"kind":"change","id":"c1","source":"bb","service":"web","merged_at":"2026-03-12T06:00:00Z"}`)
	if n := d.Counts()[domain.KindChange]; n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
	for _, src := range []string{"gh", "gl", "bb"} {
		apply(t, d, `{"kind":"change","id":"c1","source":"`+src+`","service":"mobile","merged_at":"2026-03-13T06:00:00Z"}`)
		if n := d.Counts()[domain.KindChange]; n != 3 {
			t.Fatalf("after replacing %s: count = %d, want 3", src, n)
		}
		c := d.change(key(src, "c1"))
		if c == nil || c.Service != "mobile" {
			t.Fatalf("after replacing %s: change = %+v, want the mobile version", src, c)
		}
	}
	n := 0
	for range d.chgsWithID(d.codeOrNone("c1")) {
		n++
	}
	if n != 3 {
		t.Errorf("chain holds %d changes, want 3", n)
	}
	if got := len(d.svcChanges["mobile"].items); got != 3 {
		t.Errorf("mobile has %d changes indexed, want 3", got)
	}
	if got := len(d.svcChanges["web"].items) + len(d.svcChanges["api"].items); got != 0 {
		t.Errorf("old services still index %d changes", got)
	}
}

// A change listed by several deployments goes to the earliest eligible
// one; unlisting the first (it failed after all) hands it to the next.
func TestListedByMany(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-10T06:00:00Z"}
{"kind":"deployment","id":"a","service":"api","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"b","service":"api","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success","changes":["c1"]}
{"kind":"deployment","id":"c","service":"api","environment":"production","finished_at":"2026-03-13T00:00:00Z","status":"success","changes":["c1"]}`)
	want := func(id string) {
		t.Helper()
		x, m := d.ChangeDeployment(chgByID(t, d, "c1"))
		if x == nil || d.str(x.id) != id || m != Explicit {
			t.Fatalf("c1 shipped by %v (%s), want %s explicitly", x, m, id)
		}
	}
	want("a")
	for _, id := range []string{"a", "b"} {
		apply(t, d, `{"kind":"deployment","id":"`+id+`","service":"api","environment":"production","finished_at":"2026-03-1`+map[string]string{"a": "1", "b": "2"}[id]+`T00:00:00Z","status":"failure","changes":["c1"]}`)
	}
	want("c")
}

// Deployments share the by-id chain scheme; a record naming the id
// resolves to its own source's deployment, and from another source to
// none while several sources have it (SPEC §2).
func TestDeploymentsWithSharedIDs(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","source":"gh","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","source":"gl","service":"web","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d1","source":"bb","service":"web","environment":"production","finished_at":"2026-03-12T00:00:00Z","status":"success"}`)
	const all = 1<<63 - 1
	if x, st := d.resolveDep("d1", "pagerduty", all); x != nil || st != refAmbiguous {
		t.Fatalf("from another source: %v (%d), want none, ambiguous", x, st)
	}
	for _, src := range []string{"gl", "gh", "bb"} {
		apply(t, d, `{"kind":"deployment","id":"d1","source":"`+src+`","service":"mobile","environment":"production","finished_at":"2026-03-13T00:00:00Z","status":"success"}`)
		if n := d.Counts()[domain.KindDeployment]; n != 3 {
			t.Fatalf("after replacing %s: count = %d, want 3", src, n)
		}
		if x := d.dep(key(src, "d1")); x == nil || d.depService(x) != "mobile" {
			t.Fatalf("after replacing %s: deployment = %+v, want the mobile version", src, x)
		}
		if x, _ := d.resolveDep("d1", src, all); x == nil || d.str(x.src) != src {
			t.Fatalf("resolveDep from %s = %v", src, x)
		}
	}
	if got := len(d.prodDeps.items); got != 3 {
		t.Errorf("%d production rows, want 3", got)
	}
}

// A kind's times answer "newest data time by t" as if every data time
// were kept, whether the defining times stand for the first data times
// or, once a record breaks that, are kept among them too.
func TestKindTimesLastData(t *testing.T) {
	byTime := func(t int64) (int64, string) { return t, "" }
	kt := &kindTimes{born: newSorted(byTime), data: newSorted(byTime), bornIsData: true}
	var lives []life
	check := func(when string) {
		kt.born.prepare()
		kt.data.prepare()
		for at := int64(0); at <= 60; at++ {
			var want int64
			found := false
			for _, l := range lives {
				for _, d := range l.data {
					if d != 0 && d <= at && (!found || d > want) {
						want, found = d, true
					}
				}
			}
			if got, ok := kt.lastData(at); ok != found || got != want {
				t.Fatalf("%s, at %d: %d, %v; want %d, %v", when, at, got, ok, want, found)
			}
		}
	}
	for _, l := range []life{{born: 10, data: [3]int64{10, 30}}, {born: 5, data: [3]int64{5}}, {born: 20, data: [3]int64{20, 25, 40}}} {
		kt.add(l)
		lives = append(lives, l)
	}
	check("born standing for data")
	kt.remove(lives[1])
	lives = []life{lives[0], lives[2]}
	check("after a removal")
	odd := life{born: 15, data: [3]int64{50}}
	kt.add(odd)
	lives = append(lives, odd)
	if kt.bornIsData {
		t.Fatal("a record whose first data time is not its defining time kept bornIsData")
	}
	check("after a record breaking it")
	kt.remove(lives[0])
	lives = lives[1:]
	check("after removing a record added before")
}

// Changes keep no times of their own: how many exist and the latest merge
// as of a time come from the changes by service, and follow a replacement
// that moves a change to another service and time, and a removal.
func TestChangeTimesFromServiceIndex(t *testing.T) {
	d := load(t, nil, `
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-01T00:00:00Z"}
{"kind":"change","id":"c2","service":"web","merged_at":"2026-03-03T00:00:00Z"}
{"kind":"change","id":"c3","service":"api","merged_at":"2026-03-05T00:00:00Z"}
{"kind":"change","id":"c3","source":"gl","service":"db","merged_at":"2026-03-04T00:00:00Z"}`)
	check := func(when string, merged map[string]string) {
		t.Helper()
		for day := 0; day <= 8; day++ {
			at := ts(t, "2026-02-28T12:00:00Z").Add(time.Duration(day) * 24 * time.Hour)
			n, last := 0, time.Time{}
			for _, m := range merged {
				if mt := ts(t, m); !mt.After(at) {
					n++
					if mt.After(last) {
						last = mt
					}
				}
			}
			if got := d.CountAt(domain.KindChange, at); got != n {
				t.Errorf("%s: changes as of %s = %d, want %d", when, at.Format(time.DateOnly), got, n)
			}
			got, ok := d.LastData(domain.KindChange, at)
			if ok != (n > 0) || !got.Equal(last) {
				t.Errorf("%s: last change data as of %s = %v %v, want %v %v", when, at.Format(time.DateOnly), got, ok, last, n > 0)
			}
		}
	}
	check("loaded", map[string]string{"c1": "2026-03-01T00:00:00Z", "c2": "2026-03-03T00:00:00Z", "c3": "2026-03-05T00:00:00Z", "gl/c3": "2026-03-04T00:00:00Z"})
	r, err := domain.ParseJSON([]byte(`{"kind":"change","id":"c1","service":"web","merged_at":"2026-03-06T00:00:00Z"}`), "", domain.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Apply(r, time.Time{})
	d.remove(domain.Key{Kind: domain.KindChange, Source: "import", ID: "c2"})
	d.Prepare()
	check("after a replacement and a removal", map[string]string{"c1": "2026-03-06T00:00:00Z", "c3": "2026-03-05T00:00:00Z", "gl/c3": "2026-03-04T00:00:00Z"})
}

package metrics

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// A quarantined row takes its key's record out: a dataset that held the
// record, warmed its cache and memos, then quarantined the key computes
// exactly what a dataset that never saw the record computes. A later good
// row of the key lifts the quarantine.
func TestQuarantineRemovesTheRecord(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 9, Scale: 0.02, End: end, Days: 120}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	// Take out records of every kind, some near the queries' windows.
	taken := map[domain.Key]bool{}
	perKind := map[domain.Kind]int{}
	for i := len(recs) - 1; i >= 0; i -= 7 {
		k := domain.KeyOf(recs[i])
		if perKind[k.Kind] < 6 {
			perKind[k.Kind]++
			taken[k] = true
		}
	}
	if len(perKind) < 15 {
		t.Fatalf("took records of %d kinds; the test needs nearly all", len(perKind))
	}
	var queries []Query
	for _, asOf := range []time.Time{end, end.Add(-20 * day)} {
		queries = append(queries, Query{AsOf: asOf, Window: 30 * day, Records: true}, Query{AsOf: asOf, Window: 30 * day})
	}
	snapshot := func(d *Dataset) string {
		var out []any
		for _, id := range IDs() {
			for _, q := range queries {
				r, err := d.Compute(id, q)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, id, r)
			}
		}
		out = append(out, d.Problems(end), d.Counts(), d.DimValues("team"), d.DimValues("environment"))
		for _, k := range domain.Kinds {
			last, ok := d.LastData(k, end)
			out = append(out, k, d.CountAt(k, end), last, ok)
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	held := NewDataset(DefaultConfig())
	fresh := NewDataset(DefaultConfig())
	for _, r := range recs {
		held.Apply(r, time.Time{})
		if !taken[domain.KeyOf(r)] {
			fresh.Apply(r, time.Time{})
		}
	}
	held.Prepare()
	fresh.Prepare()
	snapshot(held) // warm the cache and the memos
	seq := int64(1000)
	for k := range taken {
		seq++
		held.Quarantine(k, seq, "stored record "+k.String()+" is corrupt")
	}
	unknown := domain.Key{Kind: "gizmo", Source: "import", ID: "g1"}
	held.Quarantine(unknown, 1, "unknown kind")
	held.Prepare()
	if got, want := snapshot(held), snapshot(fresh); got != want {
		t.Error("after quarantining, the dataset differs from one that never held the records")
	}
	q := held.Quarantined()
	if len(q) != len(taken)+1 || !slices.ContainsFunc(q, func(r QuarantinedRow) bool { return r.Kind == "gizmo" && r.Reason == "unknown kind" }) {
		t.Errorf("Quarantined lists %d rows, want %d with the gizmo", len(q), len(taken)+1)
	}
	if !slices.IsSortedFunc(q, func(a, b QuarantinedRow) int {
		return cmpKey(domain.Key{Kind: a.Kind, Source: a.Source, ID: a.ID}, domain.Key{Kind: b.Kind, Source: b.Source, ID: b.ID})
	}) {
		t.Error("Quarantined is not in key order")
	}

	// A good row of every key lifts the quarantine: back to all records.
	all := NewDataset(DefaultConfig())
	for _, r := range recs {
		all.Apply(r, time.Time{})
		if taken[domain.KeyOf(r)] {
			held.Apply(r, time.Time{})
		}
	}
	all.Prepare()
	held.Prepare()
	if got := held.Quarantined(); len(got) != 1 || got[0].Kind != "gizmo" {
		t.Errorf("after good rows: quarantined %v, want only the gizmo", got)
	}
	if got, want := snapshot(held), snapshot(all); got != want {
		t.Error("after good rows, the dataset differs from one that held them all along")
	}
}

func cmpKey(a, b domain.Key) int {
	switch {
	case a.String() < b.String():
		return -1
	case a.String() > b.String():
		return 1
	}
	return 0
}

// A quarantined change leaves the lead time of the deployment that listed
// it, even when that deployment's lead memo was already computed and no
// other change shares the id (Prepare's relink walks only the id's
// remaining changes, so the removal itself must reset the memo). The
// change names another service than the deployment, so no service
// generation moves for the deployment either.
func TestQuarantinedChangeLeavesTheLeadMemo(t *testing.T) {
	const data = `
{"kind":"change","id":"c1","source":"gh","service":"api","authored_at":"2026-03-10T00:00:00Z","merged_at":"2026-03-10T06:00:00Z"}
{"kind":"change","id":"c2","source":"gh","service":"web","authored_at":"2026-03-10T12:00:00Z","merged_at":"2026-03-10T18:00:00Z"}
{"kind":"deployment","id":"d1","source":"ci","service":"web","environment":"production","finished_at":"2026-03-11T00:00:00Z","status":"success","changes":["c1","c2"]}`
	q := Query{AsOf: ts(t, "2026-03-20T00:00:00Z"), Window: 30 * day}
	held := load(t, nil, data)
	if r, _ := held.Compute("lead_time_for_changes", q); r.Count != 2 {
		t.Fatalf("before: %d changes, want 2", r.Count)
	}
	held.Quarantine(domain.Key{Kind: domain.KindChange, Source: "gh", ID: "c1"}, 7, "corrupt")
	held.Prepare()
	fresh := load(t, nil, strings.Join(strings.Split(data, "\n")[2:], "\n"))
	a, _ := held.Compute("lead_time_for_changes", q)
	b, _ := fresh.Compute("lead_time_for_changes", q)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("after quarantining c1:\n%s\nwant (never held c1)\n%s", ja, jb)
	}
}

// A deployment removed before the Prepare that would have told its row
// it has tickets (a start applying the image, then a newer row of the
// deployment that cannot be decoded) reads as if it had never been
// applied: its zeroed slot used to set the tickets flag of the deployment
// in slot 0, and release impact then read that one as having none
// (TestImageStartMatchesStoreByteForByte failed now and then, when the
// corrupted row picked at random was such a deployment).
func TestRemovedDeploymentLeavesTicketFlags(t *testing.T) {
	end := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 4, Scale: 0.01, End: end, Days: 150}, func(r domain.Record) {
		recs = append(recs, r)
	}); err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, r := range recs {
		if tk, ok := r.(*domain.Ticket); ok && tk.Release != "" {
			named[tk.Release] = true
		}
	}
	var gone []domain.Key
	for _, r := range recs {
		if x, ok := r.(*domain.Deployment); ok && named[x.ID] && x.Environment == "production" && len(gone) < 8 {
			gone = append(gone, domain.KeyOf(x))
		}
	}
	if len(gone) == 0 {
		t.Fatal("no production deployment named by a ticket: the test shows nothing")
	}
	other := DefaultConfig()
	other.ProductionNames = []string{"production", "staging"}
	for _, cfg := range []Config{DefaultConfig(), other} {
		for _, k := range gone {
			removed, never := NewDataset(cfg), NewDataset(cfg)
			for _, r := range recs {
				removed.Apply(r, time.Time{})
				if domain.KeyOf(r) != k {
					never.Apply(r, time.Time{})
				}
			}
			removed.Quarantine(k, 1, "corrupted")
			never.Quarantine(k, 1, "corrupted")
			removed.Prepare()
			never.Prepare()
			for _, asOf := range []time.Time{end, end.Add(-30 * day)} {
				q := Query{AsOf: asOf, Window: 30 * day}
				for _, id := range IDs() {
					a, _ := removed.Compute(id, q)
					b, _ := never.Compute(id, q)
					ja, _ := json.Marshal(a)
					jb, _ := json.Marshal(b)
					if string(ja) != string(jb) {
						t.Fatalf("%v removed before Prepare, %s as of %s: %s; never applied: %s", k, id, asOf.Format(time.DateOnly), ja, jb)
					}
				}
			}
		}
	}
}

// A quarantined row written again readably leaves the quarantine whatever
// its kind: a retro-validation's, which Apply hands on before it looks at
// the record, had stayed listed.
func TestRowWrittenAgainLeavesQuarantine(t *testing.T) {
	d := NewDataset(DefaultConfig())
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, r := range []domain.Record{
		&domain.RetroValidation{Meta: domain.Meta{ID: "import/d1", Source: "gate"}, DeploymentSource: "import", DeploymentID: "d1", ValidatedAt: at},
		&domain.VulnerabilityScan{Meta: domain.Meta{ID: "s1", Source: "trivy"}, Scanner: "trivy", Target: "img", ScannedAt: at},
		&domain.Vulnerability{Meta: domain.Meta{ID: "v1", Source: "trivy"}, Severity: "high", OpenedAt: at},
	} {
		d.Quarantine(domain.KeyOf(r), 1, "cannot be decoded")
		d.Apply(r, time.Time{})
		d.Prepare()
		if n := d.QuarantinedCount(); n != 0 {
			t.Errorf("%s written again: %d rows still quarantined", r.Kind(), n)
		}
	}
}

// A quarantined retro-validation takes its validation out of the
// deployment it named, back to the deployment record's own
// retro_validated_at (or none): the dataset then computes what one that
// never held the retro-validation computes. It had been merged into the
// deployment, which kept it. A retro-validation written again naming
// another deployment moves it.
func TestQuarantinedRetroValidationIsTakenOut(t *testing.T) {
	end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	dep := func(id string, own time.Time) *domain.Deployment {
		return &domain.Deployment{Meta: domain.Meta{ID: id, Source: "import"}, Service: "checkout", Environment: "production",
			FinishedAt: end.Add(-10 * day), Status: domain.StatusSuccess, Emergency: true, RetroValidatedAt: own}
	}
	retro := func(depID string, at time.Time) *domain.RetroValidation {
		return &domain.RetroValidation{Meta: domain.Meta{ID: domain.RetroValidationID("import", depID), Source: "candor"},
			DeploymentSource: "import", DeploymentID: depID, ValidatedAt: at}
	}
	deps := []domain.Record{dep("d1", time.Time{}), dep("d2", end.Add(-5*day)), dep("d3", time.Time{})}
	r1, r2 := retro("d1", end.Add(-8*day)), retro("d2", end.Add(-9*day))
	snapshot := func(d *Dataset) string {
		d.Prepare()
		var out []any
		for _, asOf := range []time.Time{end, end.Add(-6 * day)} {
			r, err := d.Compute("emergency_retro_overdue", Query{AsOf: asOf, Window: 30 * day, Records: true})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r, d.EmergencyChanges(asOf))
		}
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	build := func(recs ...domain.Record) *Dataset {
		d := NewDataset(DefaultConfig())
		for _, r := range recs {
			d.Apply(r, time.Time{})
		}
		return d
	}
	// Retro-validations applied before and after their deployments.
	held := build(append([]domain.Record{r1}, append(deps, r2)...)...)
	if r, _ := held.Compute("emergency_retro_overdue", Query{AsOf: end, Window: 30 * day}); r.Count != 1 {
		t.Fatalf("with both retro-validations: %d overdue, want 1 (d3)", r.Count)
	}
	if got := held.EmergencyChanges(end); got[1].RetroValidatedAt == nil || !got[1].RetroValidatedAt.Equal(end.Add(-9*day)) {
		t.Fatalf("d2 retro-validated at %v, want the earlier recorded time", got[1].RetroValidatedAt)
	}
	snapshot(held) // cached results
	held.Quarantine(domain.KeyOf(r1), 10, "cannot be decoded")
	if got, want := snapshot(held), snapshot(build(append(deps, r2)...)); got != want {
		t.Errorf("d1's retro-validation quarantined:\n got %s\nwant %s", got, want)
	}
	held.Quarantine(domain.KeyOf(r2), 11, "cannot be decoded")
	if got, want := snapshot(held), snapshot(build(deps...)); got != want {
		t.Errorf("both quarantined (d2 back to its own time):\n got %s\nwant %s", got, want)
	}
	// Written again readably: as if never quarantined.
	held.Apply(r1, time.Time{})
	held.Apply(r2, time.Time{})
	if got, want := snapshot(held), snapshot(build(append(deps, r1, r2)...)); got != want {
		t.Errorf("written again:\n got %s\nwant %s", got, want)
	}
	// The record of d1's id written again naming d3: d1 loses it.
	moved := retro("d3", end.Add(-7*day))
	moved.ID = r1.ID
	held.Apply(moved, time.Time{})
	if got, want := snapshot(held), snapshot(build(append(deps, moved, r2)...)); got != want {
		t.Errorf("written again naming another deployment:\n got %s\nwant %s", got, want)
	}
}

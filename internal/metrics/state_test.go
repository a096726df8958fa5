package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// TestStateRowTypesHoldNoPointers: what is written as raw memory holds no
// pointer, string, slice or map — except a deployment's service, which is
// cleared before and set again after.
func TestStateRowTypesHoldNoPointers(t *testing.T) {
	var check func(path string, ty reflect.Type)
	check = func(path string, ty reflect.Type) {
		switch ty.Kind() {
		case reflect.Struct:
			for i := range ty.NumField() {
				f := ty.Field(i)
				check(path+"."+f.Name, f.Type)
			}
		case reflect.Array:
			check(path+"[]", ty.Elem())
		case reflect.Pointer, reflect.String, reflect.Slice, reflect.Map, reflect.Interface, reflect.Func, reflect.Chan, reflect.UnsafePointer:
			t.Errorf("%s is a %s: it cannot be written as memory", path, ty.Kind())
		}
	}
	for _, v := range stateRowTypes {
		check(reflect.TypeOf(v).Name(), reflect.TypeOf(v))
	}
}

// stateFields says, for every field of Dataset, how the state treats it:
// a field added to Dataset fails TestStateCoversTheDataset until it is
// written or said to be rebuilt.
var stateFields = map[string]string{
	"cfg": "given to ReadState", "epochs": "set by the owner", "Services": "written",
	"strs": "written", "deps": "written", "memoChunks": "the lead-time, failure and release-impact memos written", "leadMemos": "written with the lead-time memos (writeLeads)", "impactMemos": "written with the release-impact memos (writeImpacts)", "failMemos": "written with the failure memos (writeFails)", "depByID": "written",
	"chgRefs": "written", "rollbacksOf": "written", "listedBy": "written", "listedMore": "written",
	"relink": "empty after Prepare (checked)", "doubtful": "written", "cacheMu": "a lock",
	"svcs": "written", "svcList": "written", "retro": "written", "scans": "written", "scanTimes": "rebuilt from scans", "scanFirst": "rebuilt from scans", "gen": "written", "cache": "empty: filled by reads",
	"flights": "empty", "asked": "empty", "trackAsked": "set by the owner", "keep": "empty after Prepare",
	"wanted": "empty", "pending": "empty after Prepare (checked)", "memoized": "false: no memo", "stateMem": "set by ReadState: where the state read lies",
	"leadDays": "written", "impactDays": "written", "leadsAsOf": "empty: a cache of one prepared dataset", "orgWindows": "empty: a cache of one prepared dataset", "pages": "empty: a cache of one prepared dataset", "failWindows": "empty: a cache of one prepared dataset", "mrrs": "empty: a cache of one prepared dataset", "dirty": "empty after Prepare",
	"dirtyAll": "false after Prepare", "depsByCR": "written", "prodDeps": "written",
	"ticketRows": "empty after Prepare (checked)", "svcDeps": "written", "svcElig": "written",
	"emergency": "written", "envs": "written", "chgs": "written", "chgExact": "written with the changes", "changeByID": "written",
	"svcChanges": "written", "incidents": "written", "incByOpened": "written", "incByRes": "written",
	"incByDue": "written", "svcInc": "written", "incByCause": "written", "incByCR": "written",
	"slis": "written", "sliAll": "written", "sliLatency": "written", "rows": "written",
	"presence": "written", "times": "written", "cites": "empty: a cache", "quarantine": "written",
	"seq": "written",
}

func TestStateCoversTheDataset(t *testing.T) {
	ty := reflect.TypeOf(Dataset{})
	seen := map[string]bool{}
	for i := range ty.NumField() {
		name := ty.Field(i).Name
		seen[name] = true
		if _, ok := stateFields[name]; !ok {
			t.Errorf("Dataset.%s: the dataset state neither writes it nor says why not (state.go, stateFields)", name)
		}
	}
	for name := range stateFields {
		if !seen[name] {
			t.Errorf("stateFields names %s, which Dataset no longer has", name)
		}
	}
}

// stateTestData is a generated organisation with what a load can hold
// beyond it: corrections, ids another source shares, a retro-validation,
// a quarantined row.
func stateTestData(t *testing.T) (first, later []domain.Record) {
	t.Helper()
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 11, Scale: 0.01, End: benchEnd, Days: 120}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		t.Fatal(err)
	}
	var extra []domain.Record
	n, fractions := 0, 0
	for _, r := range recs {
		switch x := r.(type) {
		case *domain.Deployment:
			if n++; n%97 == 0 {
				c := *x
				c.Source = "other"
				c.Status = domain.StatusFailure
				extra = append(extra, &c)
			}
			if n%89 == 0 {
				c := *x
				c.Status = domain.StatusRolledBack
				extra = append(extra, &c)
			}
		case *domain.Change:
			// Some with times of a fraction of a second, which a row
			// cannot hold as whole seconds (secs): held exactly beside.
			if fractions++; fractions%41 == 0 {
				x.MergedAt = x.MergedAt.Add(123456789)
				x.AuthoredAt = x.AuthoredAt.Add(time.Millisecond)
			}
			if n%53 == 0 {
				c := *x
				c.Source = "other"
				extra = append(extra, &c)
			}
		}
	}
	// Known-exploited vulnerabilities in several packages, which the
	// generated data has few of: the rows carry kev and package.
	for i := range 60 {
		pkg := []string{"openssl", "libcurl", "zlib", ""}[i%4]
		v := &domain.Vulnerability{Meta: domain.Meta{ID: fmt.Sprintf("kev-%d", i), Source: "grype"}, Severity: "high", Service: "api",
			OpenedAt: benchEnd.Add(-time.Duration(1+i*37%110) * day), KEV: i%3 != 0, Package: pkg}
		if i%5 == 0 {
			v.FixedAt = v.OpenedAt.Add(time.Duration(1+i%20) * day)
		}
		extra = append(extra, v)
	}
	recs = append(recs, extra...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	cut := len(recs) * 9 / 10
	return recs[:cut], recs[cut:]
}

func writeStateBytes(t *testing.T, d *Dataset) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := d.WriteState(func(p []byte) error { buf.Write(p); return nil }); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeStatePieces writes a dataset's state as the pieces WriteState
// hands out, each in its own allocation as in a file's sections.
func writeStatePieces(t *testing.T, d *Dataset) [][]byte {
	t.Helper()
	var out [][]byte
	if err := d.WriteState(func(p []byte) error { out = append(out, bytes.Clone(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// within reports whether p points into one of the pieces.
func within[T any](p *T, pieces [][]byte) bool {
	a := uintptr(unsafe.Pointer(p))
	for _, b := range pieces {
		if start := uintptr(unsafe.Pointer(unsafe.SliceData(b))); a >= start && a < start+uintptr(len(b)) {
			return true
		}
	}
	return false
}

// cut splits b into random pieces, as sections of a file would.
func cut(b []byte, rng *rand.Rand) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		n := min(len(b), 1+rng.IntN(1<<16))
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// stateView is what readers see of a dataset: every metric's value and
// records for several queries, a breakdown, the data problems, the
// described records and the quarantine.
func stateView(t *testing.T, d *Dataset) []string {
	t.Helper()
	var out []string
	var qs []Query
	for _, w := range []time.Duration{30 * day, 90 * day} {
		for k := range 3 {
			qs = append(qs, Query{AsOf: benchEnd.Add(-time.Duration(k) * 20 * day), Window: w, Records: true})
		}
	}
	qs = append(qs, Query{AsOf: benchEnd, Window: 30 * day, Scope: Scope{Dim: "team", Value: "payments"}, Records: true})
	// And without the records, as a scorecard asks: the lead-time days
	// serve these.
	for _, q := range qs[:len(qs):len(qs)] {
		q.Records = false
		qs = append(qs, q)
	}
	for _, id := range allIDs(d) {
		for _, q := range qs {
			if q.Scope.Dim != "" && !contains(d.Dims(id), q.Scope.Dim) {
				continue
			}
			r, err := d.Compute(id, q)
			if err != nil {
				t.Fatal(err)
			}
			r.Records = d.Describe(r.Records, q.AsOf)
			b, _ := json.Marshal(r)
			out = append(out, fmt.Sprintf("%s %s %s %v: %s", id, q.AsOf.Format(time.DateOnly), q.Window, q.Scope, b))
		}
		if dims := d.Dims(id); len(dims) > 0 {
			g, err := d.Breakdown(id, qs[0], dims[0])
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(g)
			out = append(out, fmt.Sprintf("%s by %s: %s", id, dims[0], b))
		}
	}
	// Vulnerability data, which full scans (the newest of them) give,
	// and in the scanned services' scopes (open critical vulnerabilities
	// 0, not null, where only a scan says nothing is open).
	for _, asOf := range []time.Time{benchEnd, benchEnd.Add(-90 * time.Minute), benchEnd.Add(-3 * time.Hour)} {
		last, ok := d.LastData(domain.KindVulnerability, asOf)
		out = append(out, fmt.Sprintf("vulnerability data as of %s: %s %v", asOf.Format(time.RFC3339), last.Format(time.RFC3339Nano), ok))
		for _, svc := range []string{"scanned-svc", "scanned-later"} {
			r, err := d.Compute("open_critical_vulnerabilities", Query{AsOf: asOf, Window: 30 * day, Scope: Scope{Dim: "service", Value: svc}})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(r)
			out = append(out, fmt.Sprintf("open critical vulnerabilities of %s as of %s: %s", svc, asOf.Format(time.RFC3339), b))
		}
	}
	if g, err := d.Breakdown("open_critical_vulnerabilities", Query{AsOf: benchEnd, Window: 30 * day}, "service"); err == nil {
		b, _ := json.Marshal(g)
		out = append(out, "open critical vulnerabilities by service: "+string(b))
	} else {
		t.Fatal(err)
	}
	b, _ := json.Marshal(d.Problems(benchEnd))
	out = append(out, "problems: "+string(b))
	b, _ = json.Marshal(d.Quarantined())
	out = append(out, "quarantined: "+string(b))
	return out
}

func sameView(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("%s:\n got %s\nwant %s", what, got[i], want[i])
			}
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d lines differ in all", what, bad)
	}
}

// TestStateRoundTrip: a dataset read back from its state answers every
// read as the dataset written, writes the same state again, and goes on
// taking rows (new, corrected, quarantined) as the original does.
func TestStateRoundTrip(t *testing.T) {
	first, later := stateTestData(t)
	buildWith := func(cfg Config) *Dataset {
		d := NewDataset(cfg)
		for _, r := range first {
			d.Apply(r, time.Time{})
		}
		// A change inferred to a deployment ten days before the end,
		// which a later deployment will list (more, below).
		d.Apply(&domain.Change{Meta: domain.Meta{ID: "relinked", Source: "git"}, Service: "relink-svc",
			AuthoredAt: benchEnd.Add(-12 * day), MergedAt: benchEnd.Add(-11 * day)}, time.Time{})
		d.Apply(&domain.Deployment{Meta: domain.Meta{ID: "relink-a", Source: "ci"}, Service: "relink-svc", Environment: "production",
			Status: domain.StatusSuccess, FinishedAt: benchEnd.Add(-10 * day)}, time.Time{})
		d.Apply(&domain.RetroValidation{DeploymentID: first[0].Header().ID, DeploymentSource: first[0].Header().Source, ValidatedAt: benchEnd.Add(-day)}, time.Time{})
		// Full scans, the newest after every vulnerability record, one
		// sent twice: vulnerability data by their times alone, and the
		// newest, of a service no record names, in that service's scopes.
		for _, at := range []time.Duration{-40 * day, -2 * time.Hour, -40 * day} {
			svc := ""
			if at == -2*time.Hour {
				svc = "scanned-svc"
			}
			d.Apply(&domain.VulnerabilityScan{Meta: domain.Meta{ID: fmt.Sprintf("img@%d", at), Source: "trivy"}, Scanner: "trivy", Target: "img",
				Service: svc, ScannedAt: benchEnd.Add(at), Findings: 3}, time.Time{})
		}
		d.Quarantine(domain.Key{Kind: domain.KindIncident, Source: "pagerduty", ID: "broken-1"}, 42, "stored record is corrupt")
		d.Prepare()
		d.Trim()
		d.SetSeq(1234)
		return d
	}
	build := func() *Dataset { return buildWith(customConfig(t)) }
	orig := build()
	// Written after reads, with what they cached beside the data.
	for _, id := range allIDs(orig) {
		for k := range 4 {
			if _, err := orig.Compute(id, Query{AsOf: benchEnd.Add(-time.Duration(k) * 7 * day), Window: 30 * day}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(orig.chgExact) == 0 {
		t.Fatal("no change holds a time of a fraction of a second: the test shows nothing of chgExact")
	}
	if len(orig.leadDays) == 0 || len(orig.impactDays) == 0 {
		t.Fatal("the reads kept no lead-time or release-impact day: the test shows nothing of them")
	}
	// The vulnerabilities' kev and package: an organisation's metric
	// reads them, by package (stateView breaks it down by its first
	// dimension).
	g, err := orig.Breakdown("c_open_kev", Query{AsOf: benchEnd, Window: 30 * day}, "package")
	if err != nil {
		t.Fatal(err)
	}
	var kevLines []string
	for _, x := range g {
		if x.Value != nil && *x.Value > 0 {
			kevLines = append(kevLines, x.Key)
		}
	}
	if len(kevLines) < 3 {
		t.Fatalf("open known-exploited vulnerabilities in packages %v: the test shows little of kev and package", kevLines)
	}
	state := writeStateBytes(t, orig)
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := cut(state, rng)
	var entered []int
	got, err := ReadState(customConfig(t), pieces, false, func(i int) error { entered = append(entered, i); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(entered) != len(pieces) || entered[len(entered)-1] != len(pieces)-1 {
		t.Errorf("pieces entered %v, want 0 to %d", entered, len(pieces)-1)
	}
	if _, err := ReadState(customConfig(t), pieces, false, func(i int) error {
		if i == len(pieces)/2 {
			return errors.New("piece damaged")
		}
		return nil
	}); err == nil || err.Error() != "piece damaged" {
		t.Errorf("a piece refused on entering: %v", err)
	}
	// Each piece is entered once, a refused one too (a caller checking a
	// piece as it is entered answers each piece once).
	entered = entered[:0]
	ReadState(customConfig(t), pieces, false, func(i int) error {
		entered = append(entered, i)
		if i == 0 {
			return errors.New("piece damaged")
		}
		return nil
	})
	if !slices.Equal(entered, []int{0}) {
		t.Errorf("pieces entered after the first was refused: %v, want [0]", entered)
	}
	if got.Seq() != 1234 {
		t.Errorf("sequence %d, want 1234", got.Seq())
	}
	// The scans: the newest of them read back, and the vulnerability data
	// as of any time as the original's, the older scan's time held once.
	if at, ok := got.LastScan(benchEnd); !ok || !at.Equal(benchEnd.Add(-2*time.Hour)) {
		t.Errorf("read back: last scan %s, %v; want 2 hours before the end", at, ok)
	}
	for _, asOf := range []time.Time{benchEnd, benchEnd.Add(-3 * time.Hour), benchEnd.Add(-40 * day), benchEnd.Add(-41 * day)} {
		a, aok := got.LastData(domain.KindVulnerability, asOf)
		b, bok := orig.LastData(domain.KindVulnerability, asOf)
		if a != b || aok != bok {
			t.Errorf("read back: vulnerability data as of %s = %s, %v; the original's %s, %v", asOf, a, aok, b, bok)
		}
	}
	if !slices.Equal(got.scanTimes, []int64{benchEnd.Add(-40 * day).UnixNano(), benchEnd.Add(-2 * time.Hour).UnixNano()}) {
		t.Errorf("read back: scan times %v, want those 40 days and 2 hours before the end, once each", got.scanTimes)
	}
	if !maps.Equal(got.scanFirst, map[string]int64{"scanned-svc": benchEnd.Add(-2 * time.Hour).UnixNano()}) {
		t.Errorf("read back: the scanned services %v, want scanned-svc's scan 2 hours before the end", got.scanFirst)
	}
	if r, err := got.Compute("open_critical_vulnerabilities", Query{AsOf: benchEnd, Window: 30 * day, Scope: Scope{Dim: "service", Value: "scanned-svc"}}); err != nil || r.Value == nil || *r.Value != 0 {
		t.Errorf("read back: open critical vulnerabilities of the scanned service = %+v, %v; want 0", r, err)
	}
	if again := writeStateBytes(t, got); !bytes.Equal(again, state) {
		t.Errorf("the state read back writes %d bytes that differ from the %d read", len(again), len(state))
	}
	// Views are compared against a dataset never written: the original
	// fills caches and memos as it is read.
	sameView(t, "read back", stateView(t, got), stateView(t, build()))

	// Rows after the state: the same on both, including corrections of
	// rows the state holds and a row quarantined, then lifted.
	more := func(d *Dataset) {
		for _, r := range later {
			d.Apply(r, time.Time{})
		}
		for _, r := range first[:200] {
			switch x := r.(type) {
			case *domain.Deployment:
				c := *x
				c.Status = domain.StatusFailure
				d.Apply(&c, time.Time{})
			case *domain.Incident:
				c := *x
				c.Severity = "P1"
				d.Apply(&c, time.Time{})
			case *domain.Ticket:
				d.Quarantine(domain.KeyOf(x), 99, "corrupted later")
			}
		}
		d.Apply(&domain.Incident{Meta: domain.Meta{ID: "broken-1", Source: "pagerduty"}, Service: "api", Severity: "P2",
			OpenedAt: benchEnd.Add(-3 * day), ResolvedAt: benchEnd.Add(-3*day + time.Hour)}, time.Time{})
		// A scan the state holds sent again an hour later, for another
		// service: the first has no scan left.
		d.Apply(&domain.VulnerabilityScan{Meta: domain.Meta{ID: fmt.Sprintf("img@%d", -2*time.Hour), Source: "trivy"}, Scanner: "trivy", Target: "img",
			Service: "scanned-later", ScannedAt: benchEnd.Add(-time.Hour), Findings: 3}, time.Time{})
		d.Prepare()
	}
	// First alone, right after the read as a start applies the newer
	// rows: a change listed by a later deployment leaves the earlier
	// one's day, which only the memo resets reach.
	relink := func(d *Dataset) {
		d.Apply(&domain.Deployment{Meta: domain.Meta{ID: "relink-b", Source: "ci"}, Service: "relink-svc", Environment: "production",
			Status: domain.StatusSuccess, FinishedAt: benchEnd.Add(-7 * day), Changes: []string{"relinked"}}, time.Time{})
		d.Prepare()
	}
	// Under other release-impact weights the sums are left, and the
	// dataset answers as one built under those weights.
	other := customConfig(t)
	other.ImpactWeights = map[string]map[string]float64{"priority": {"urgent": 7, "high": 3}}
	got, err = ReadState(other, pieces, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.impactDays) != 0 {
		t.Errorf("%d release-impact days kept under other weights", len(got.impactDays))
	}
	sameView(t, "under other weights", stateView(t, got), stateView(t, buildWith(other)))

	// Kept where they lie, from random cuts (arrays straddling pieces or
	// misaligned are copied) and from the writer's own pieces, small
	// enough for arrays to start a piece or be one: each read back
	// answers as the original, and goes on taking rows as it does.
	got, err = ReadState(customConfig(t), pieces, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameView(t, "kept from random cuts", stateView(t, got), stateView(t, build()))
	defer func(n int) { stateChunk = n }(stateChunk)
	stateChunk = 4096
	own := writeStatePieces(t, orig)
	if len(own) < 10 {
		t.Fatalf("%d pieces of %d bytes: the test reaches no piece boundary", len(own), stateChunk)
	}
	got, err = ReadState(customConfig(t), own, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !within(&got.chgs.chunks[0][0], own) || !within(&got.deps.chunks[0][0], own) || !within(&got.depByID.rows[0], own) || !within(&got.strs.loc[0], own) {
		t.Error("a state read from its own pieces copied the change or deployment rows, the deployments' index or the strings' locations")
	}
	fresh := build()
	more(fresh)
	n := got.strs.len()
	more(got)
	sameView(t, "kept from its own pieces, after more rows", stateView(t, got), stateView(t, fresh))
	if got.strs.len() == n || !within(&got.strs.loc[0], own) {
		t.Errorf("%d strings interned after the read: the locations were copied, not appended in the state's spare room", got.strs.len()-n)
	}

	got, err = ReadState(customConfig(t), [][]byte{state}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	fresh = build()
	relink(fresh)
	relink(got)
	// The organisation's median hides one change moving; its days do not.
	for day := floorDay(benchEnd.Add(-40 * day).UnixNano()); day < benchEnd.UnixNano(); day += int64(dayDur) {
		a, b := got.leadDayAt(day), fresh.leadDayAt(day)
		if !slices.Equal(a.settled.run(leadStage), b.settled.run(leadStage)) || !slices.Equal(a.late.run(leadStage), b.late.run(leadStage)) || !slices.Equal(a.lateDeps, b.lateDeps) {
			t.Errorf("lead-time day %s after a relink: read back %+v, fresh %+v", time.Unix(0, day).UTC().Format(time.DateOnly), a, b)
		}
	}
	sameView(t, "after a relink", stateView(t, got), stateView(t, fresh))
	more(fresh)
	more(got)
	sameView(t, "after more rows", stateView(t, got), stateView(t, fresh))
}

// A state written before a vulnerability's row held its package and kev
// (in what had been padding: the row's size is the same) is of another
// schema, which a start refuses (engine.checkHeader: "written by a build
// whose records differ") and reads the image of the rows instead: read
// as this build's rows it would say no vulnerability is known exploited.
func TestStateSchemaHoldsTheVulnerabilityRow(t *testing.T) {
	type vulnRow struct { // as before 2026-12-07
		opened, fixed, at                  int64
		id, source, service, severity, cve uint32
	}
	old := slices.Clone(stateRowTypes)
	i := slices.IndexFunc(old, func(v any) bool { return reflect.TypeOf(v).Name() == "vulnRow" })
	old[i] = vulnRow{}
	if unsafe.Sizeof(vulnRow{}) != reflect.TypeOf(stateRowTypes[i]).Size() {
		t.Fatalf("the old row is %d bytes, this build's %d: the test is of a layout that kept its size", unsafe.Sizeof(vulnRow{}), reflect.TypeOf(stateRowTypes[i]).Size())
	}
	if stateSchema(old, presenceAttrs) == StateSchema() {
		t.Error("a state of the old vulnerability rows has this build's schema")
	}
	if stateSchema(slices.Clone(stateRowTypes), presenceAttrs) != StateSchema() {
		t.Error("the schema depends on more than the row types")
	}
}

// TestStateRefusesDamage: a state cut short, with bytes after its end, or
// of another version does not read; nor is one written with rows waiting
// for Prepare.
func TestStateRefusesDamage(t *testing.T) {
	first, _ := stateTestData(t)
	d := NewDataset(DefaultConfig())
	for _, r := range first[:2000] {
		d.Apply(r, time.Time{})
	}
	if err := d.WriteState(func([]byte) error { return nil }); !errors.Is(err, ErrStateUnwritable) {
		t.Errorf("written before Prepare: %v", err)
	}
	d.Prepare()
	state := writeStateBytes(t, d)
	for name, b := range map[string][]byte{
		"truncated":      state[:len(state)/2],
		"end cut":        state[:len(state)-3],
		"trailing bytes": append(slices.Clone(state), 0),
		"other version":  append([]byte{stateVersion + 1, 0, 0, 0, 0, 0, 0, 0}, state[8:]...),
		"empty":          nil,
	} {
		if _, err := ReadState(DefaultConfig(), [][]byte{b}, false, nil); err == nil {
			t.Errorf("%s: read without an error", name)
		}
	}
	if _, err := ReadState(DefaultConfig(), [][]byte{state}, false, nil); err != nil {
		t.Errorf("undamaged: %v", err)
	}
	// A state smaller than the string table's room reads back: a chunk's
	// capacity is not a count of what follows.
	one := NewDataset(DefaultConfig())
	one.Apply(first[0], time.Time{})
	one.Prepare()
	if _, err := ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, one)}, false, nil); err != nil {
		t.Errorf("a dataset of one record: %v", err)
	}
	// Bytes damaged where no checksum would see them (a defect): the read
	// fails or not, but never takes the process down.
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200 {
		b := slices.Clone(state)
		at := rng.IntN(len(b) - 8)
		for k := range 1 + rng.IntN(8) {
			b[at+k] = byte(rng.Uint32())
		}
		ReadState(DefaultConfig(), [][]byte{b}, false, nil)
	}
}

// BenchmarkState writes and reads back the state of a generated
// organisation (CANDOR_BENCH_SCALE, default 0.1) and compares with
// applying its records.
func BenchmarkState(b *testing.B) {
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	var recs []domain.Record
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: scale, End: benchEnd}, func(r domain.Record) { recs = append(recs, r) }); err != nil {
		b.Fatal(err)
	}
	d := NewDataset(DefaultConfig())
	for _, r := range recs {
		d.Apply(r, time.Time{})
	}
	d.Prepare()
	d.Trim()
	var pieces [][]byte
	size := 0
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			pieces, size = nil, 0
			if err := d.WriteState(func(p []byte) error { pieces = append(pieces, slices.Clone(p)); size += len(p); return nil }); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(size)/float64(len(recs)), "B/record")
	})
	b.Run("read", func(b *testing.B) {
		for b.Loop() {
			if _, err := ReadState(DefaultConfig(), pieces, false, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("apply", func(b *testing.B) {
		for b.Loop() {
			d := NewDataset(DefaultConfig())
			for _, r := range recs {
				d.Apply(r, time.Time{})
			}
			d.Prepare()
		}
	})
}

// TestStateHashNamesTheDerivingSettings: a state is refused under other
// production environments, aliases or attribution window — what applying
// a record derives fields under — and kept under any other change.
func TestStateHashNamesTheDerivingSettings(t *testing.T) {
	base := DefaultConfig()
	for name, change := range map[string]func(*Config){
		"production names":   func(c *Config) { c.ProductionNames = []string{"prod", "live"} },
		"aliases":            func(c *Config) { c.EnvironmentAliases = map[string]string{"prd": "production"} },
		"attribution window": func(c *Config) { c.AttributionWindow = 48 * time.Hour },
	} {
		c := DefaultConfig()
		change(&c)
		if c.StateHash() == base.StateHash() {
			t.Errorf("%s changed, the state's settings hash did not", name)
		}
	}
	c := DefaultConfig()
	c.GrossMargin = 0.5
	c.ExchangeRates = map[string]float64{"EUR": 1.1}
	if c.StateHash() != base.StateHash() {
		t.Error("a setting no record is applied under changed the state's settings hash")
	}
}

// A dataset read back from the state another has just written takes that
// one's results, cached and stale, instead of each reader computing them
// again (engine: a follower going on from a newer state).
func TestTakeResultsFromTheDatasetThatWroteTheState(t *testing.T) {
	first, _ := stateTestData(t)
	orig := NewDataset(DefaultConfig())
	for _, r := range first {
		orig.Apply(r, time.Time{})
	}
	orig.Prepare()
	orig.Trim()
	for k := range 3 {
		if _, err := orig.Compute("deployment_frequency", Query{AsOf: benchEnd.Add(-time.Duration(k) * 7 * day), Window: 30 * day}); err != nil {
			t.Fatal(err)
		}
	}
	var stale cacheKey
	def, err := reg.def("deployment_frequency")
	if err != nil {
		t.Fatal(err)
	}
	for k := range orig.cache.byDef[def] {
		stale = k
		break
	}
	orig.cache.stale[stale] = staleResult{r: Result{Count: 7}, since: 1, until: math.MaxInt64 - 1}
	orig.cache.staleNext = math.MaxInt64 - 1
	var got *Dataset
	if orig.cache.n != 3 {
		t.Fatalf("%d results cached, want 3", orig.cache.n)
	}
	got, err = ReadState(DefaultConfig(), [][]byte{writeStateBytes(t, orig)}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.cache.n != 0 {
		t.Fatalf("read back with %d results cached, want none: the test shows nothing", got.cache.n)
	}
	got.TakeResults(orig)
	if got.cache.n != orig.cache.n {
		t.Errorf("%d results taken, want %d", got.cache.n, orig.cache.n)
	}
	for k, r := range orig.cache.byDef[stale.def] {
		if g, ok := got.cache.get(k); !ok || g.Count != r.Count {
			t.Errorf("result %+v: taken %v (%d), want %d", k, ok, g.Count, r.Count)
		}
	}
	if s, ok := got.cache.stale[stale]; !ok || s.r.Count != 7 || got.cache.staleNext != orig.cache.staleNext {
		t.Errorf("stale result taken %v (%+v), next expiry %d; want it, and %d", ok, s, got.cache.staleNext, orig.cache.staleNext)
	}
}

// A lead-time day's part is written as its packed runs and their ends, and
// read back whole; ends that do not fit the runs fail the read.
func TestLeadDayPartRoundTrip(t *testing.T) {
	var b leadRuns
	b.validFrom, b.explicit, b.inferred = 42, 3, 1
	b.runs[0] = []float64{1, 2, 3, 4}
	b.runs[2] = []float64{5, 6}
	b.runs[stageCount] = []float64{7}
	m := b.memo()
	encode := func(m *leadMemo) []byte {
		var out []byte
		w := &stateWriter{emit: func(p []byte) error { out = append(out, p...); return nil }}
		writeLead(w, m)
		w.flush()
		return out
	}
	decode := func(p []byte) (leadMemo, error) {
		r := &stateReader{pieces: [][]byte{p}, left: len(p), size: len(p)}
		var got leadMemo
		readLead(r, &got)
		return got, r.err
	}
	got, err := decode(encode(&m))
	if err != nil {
		t.Fatal(err)
	}
	if got.validFrom != 42 || got.explicit != 3 || got.inferred != 1 {
		t.Errorf("read back %+v", got)
	}
	for i := range stageCount + 1 {
		if !slices.Equal(got.run(i-1), b.runs[i]) {
			t.Errorf("run %d: %v, want %v", i, got.run(i-1), b.runs[i])
		}
	}
	bad := m
	bad.ends[1] = bad.ends[2] + 1 // not in order
	if _, err := decode(encode(&bad)); err == nil || !strings.Contains(err.Error(), "do not fit together") {
		t.Errorf("ends out of order: %v", err)
	}
	// Ends short of the spans: the writer cannot make it (the spans'
	// length is the last end), a damaged file can.
	var short []byte
	w := &stateWriter{emit: func(p []byte) error { short = append(short, p...); return nil }}
	w.u64(42)
	w.int(3)
	w.int(1)
	rawOf(w, m.spans())
	ends := m.ends
	ends[stageCount]--
	rawOf(w, ends[:])
	w.flush()
	if _, err := decode(short); err == nil || !strings.Contains(err.Error(), "do not fit together") {
		t.Errorf("ends short of the spans: %v", err)
	}
}

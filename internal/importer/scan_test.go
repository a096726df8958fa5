package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
)

const (
	alpine39   = "trivy.alpine-39.json.golden"
	gomod      = "trivy.gomod.json.golden"
	grypeReal  = "defectdojo.many_vulns_with_epss_values.json"
	grypeSnap  = "grype.TestJsonImgsPresenter.golden"
	trivySARIF = "trivy.alpine-310.sarif.golden"
	njsscan    = "defectdojo.njsscan.sarif"
	appendixK2 = "defectdojo.appendix_k2.sarif"
)

// byCVEPackage indexes findings by "CVE package".
func byCVEPackage(vs map[string]*domain.Vulnerability) map[string]*domain.Vulnerability {
	out := map[string]*domain.Vulnerability{}
	for _, v := range vs {
		out[v.CVE+" "+v.Package] = v
	}
	return out
}

func TestTrivyReport(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, Trivy, Options{Scan: ScanOptions{Service: "api"}}, fix(t, alpine39))
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	if len(vs) != 6 {
		t.Fatalf("%d findings, want 6", len(vs))
	}
	at := time.Date(2021, 8, 25, 12, 20, 30, 5, time.UTC)
	got := byCVEPackage(vs)
	musl := got["CVE-2019-14697 musl"]
	if musl == nil {
		t.Fatalf("no CVE-2019-14697 in musl: %v", keys(got))
	}
	want := domain.Vulnerability{Meta: domain.Meta{ID: musl.ID, Source: "trivy"}, Severity: "critical", OpenedAt: at, Service: "api",
		CVE: "CVE-2019-14697", Package: "musl", URL: "https://avd.aquasec.com/nvd/cve-2019-14697"}
	if *musl != want {
		t.Fatalf("musl finding = %+v\nwant %+v", *musl, want)
	}
	if v := got["CVE-2019-1549 libssl1.1"]; v == nil || v.Severity != "medium" {
		t.Fatalf("libssl1.1 CVE-2019-1549 = %+v, want medium", v)
	}
	// One target: every id starts with the same target key.
	prefix := targetKey("trivy", "testdata/fixtures/images/alpine-39.tar.gz") + "-"
	for id := range vs {
		if !strings.HasPrefix(id, prefix) {
			t.Fatalf("id %q does not start with the target's key %q", id, prefix)
		}
	}
}

// Trivy's UNKNOWN is left out by default, with a note; mapped, each
// lock file's finding is its own record.
func TestTrivyUnknownSeverity(t *testing.T) {
	st := newStore(t)
	rep := mustRun(t, st, Trivy, Options{}, fix(t, gomod))
	if n := rep.ByKind[domain.KindVulnerability].Records; n != 1 {
		t.Fatalf("%d findings, want only the MEDIUM one", n)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], `4 findings with severity "UNKNOWN" left out`) {
		t.Fatalf("notes %q", rep.Notes)
	}
	st = newStore(t)
	mustRun(t, st, Trivy, Options{Scan: ScanOptions{Severity: map[string]string{"UNKNOWN": "low"}}}, fix(t, gomod))
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	gms := 0
	for _, v := range vs {
		if v.Package == "github.com/docker/distribution" {
			gms++
			if v.CVE != "" || v.Severity != "low" {
				t.Errorf("GMS finding = %+v, want no CVE (its id is GMS-2022-20), low", v)
			}
		}
	}
	if len(vs) != 5 || gms != 3 {
		t.Fatalf("%d findings (%d of docker/distribution), want 5 (3: go.mod, submod/go.mod, submod2/go.mod)", len(vs), gms)
	}
}

// rescan derives a later Trivy scan of the same image from the real
// report: CreatedAt moved to at, and the findings in musl and musl-utils
// removed (as if the image's musl had been upgraded) unless keepMusl.
func rescan(t *testing.T, at time.Time, keepMusl bool) file {
	t.Helper()
	var rep map[string]any
	if err := json.Unmarshal(fixture(t, alpine39), &rep); err != nil {
		t.Fatal(err)
	}
	rep["CreatedAt"] = at.Format(time.RFC3339Nano)
	res := rep["Results"].([]any)[0].(map[string]any)
	var kept []any
	for _, v := range res["Vulnerabilities"].([]any) {
		if keepMusl || !strings.HasPrefix(v.(map[string]any)["PkgName"].(string), "musl") {
			kept = append(kept, v)
		}
	}
	res["Vulnerabilities"] = kept
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return file{"rescan-" + at.Format("20060102") + ".json", b}
}

// A finding missing from a later full scan of the same target is fixed at
// that scan's time; the others keep their record and opened_at.
// Importing either scan again changes nothing, and a finding that comes
// back after its fix is a new record, so the fix stays in the history.
func TestScanClosesVanishedFinding(t *testing.T) {
	st := newStore(t)
	t1 := time.Date(2021, 8, 25, 12, 20, 30, 5, time.UTC)
	t2 := time.Date(2021, 9, 1, 8, 0, 0, 0, time.UTC)
	mustRun(t, st, Trivy, Options{}, fix(t, alpine39))
	second := rescan(t, t2, false)
	rep := mustRun(t, st, Trivy, Options{}, second)
	if r := rep.ByKind[domain.KindVulnerability].WriteResult; r.Replaced != 2 || r.Unchanged != 4 || r.Inserted != 0 {
		t.Fatalf("second scan: %+v, want the 2 musl findings replaced (fixed), 4 unchanged", r)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "2 findings of testdata/fixtures/images/alpine-39.tar.gz no longer reported") {
		t.Fatalf("notes %q", rep.Notes)
	}
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	if len(vs) != 6 {
		t.Fatalf("%d records, want 6", len(vs))
	}
	for _, v := range vs {
		musl := strings.HasPrefix(v.Package, "musl")
		switch {
		case !v.OpenedAt.Equal(t1):
			t.Errorf("%s %s opened_at %s, want the first scan's %s", v.CVE, v.Package, v.OpenedAt, t1)
		case musl && !v.FixedAt.Equal(t2):
			t.Errorf("%s %s fixed_at %s, want %s", v.CVE, v.Package, v.FixedAt, t2)
		case !musl && !v.FixedAt.IsZero():
			t.Errorf("%s %s fixed at %s, but the second scan still reports it", v.CVE, v.Package, v.FixedAt)
		}
	}

	for _, f := range []file{second, fix(t, alpine39)} {
		again := mustRun(t, st, Trivy, Options{}, f)
		if again.Unchanged != again.Records || again.Records == 0 {
			t.Fatalf("re-importing %s: %+v, want every record unchanged", f.name, again.Summary.WriteResult)
		}
	}

	t3 := time.Date(2021, 10, 1, 8, 0, 0, 0, time.UTC)
	back := mustRun(t, st, Trivy, Options{}, rescan(t, t3, true))
	if r := back.ByKind[domain.KindVulnerability].WriteResult; r.Inserted != 2 {
		t.Fatalf("musl back: %+v, want 2 new records", r)
	}
	vs = stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	episodes := 0
	for id, v := range vs {
		if !strings.HasPrefix(v.Package, "musl") {
			continue
		}
		base, n := baseID(id)
		episodes += n - 1
		switch n {
		case 1:
			if !v.FixedAt.Equal(t2) {
				t.Errorf("first episode %s fixed_at %s, want it kept at %s", id, v.FixedAt, t2)
			}
		case 2:
			if !v.OpenedAt.Equal(t3) || !v.FixedAt.IsZero() || vs[base] == nil {
				t.Errorf("second episode %s = %+v, want opened at %s and open", id, v, t3)
			}
		}
	}
	if episodes != 2 {
		t.Fatalf("musl records %v, want both findings with a second episode", keys(vs))
	}
}

// Several scans in one import are applied in the order they ran, as if
// imported one by one.
func TestScansInOneImport(t *testing.T) {
	st := newStore(t)
	t2 := time.Date(2021, 9, 1, 8, 0, 0, 0, time.UTC)
	mustRun(t, st, Trivy, Options{}, rescan(t, t2, false), fix(t, alpine39))
	fixed := 0
	for _, v := range stored[*domain.Vulnerability](t, st, domain.KindVulnerability) {
		if v.FixedAt.Equal(t2) {
			fixed++
		}
	}
	if fixed != 2 {
		t.Fatalf("%d findings fixed at the later scan, want the 2 musl ones", fixed)
	}
}

func TestGrypeReport(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, Grype, Options{}, fix(t, grypeReal))
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	count := map[string]int{}
	for _, v := range vs {
		count[v.Severity]++
		if v.Package != "busybox" || v.Source != "grype" || !v.OpenedAt.Equal(time.Date(2025, 6, 19, 11, 43, 35, 523947199, time.UTC)) {
			t.Fatalf("finding %+v", v)
		}
	}
	if len(vs) != 15 || count["critical"] != 1 || count["high"] != 10 || count["medium"] != 2 || count["low"] != 2 {
		t.Fatalf("%d findings by severity %v, want 15: 1 critical, 10 high, 2 medium, 2 low", len(vs), count)
	}
	v := byCVEPackage(vs)["CVE-2022-48174 busybox"]
	if v == nil || v.Severity != "critical" || v.URL != "https://nvd.nist.gov/vuln/detail/CVE-2022-48174" {
		t.Fatalf("CVE-2022-48174 = %+v", v)
	}
	if !strings.HasPrefix(v.ID, targetKey("grype", "busybox:1.32.1")+"-") {
		t.Fatalf("id %s is not of target busybox:1.32.1", v.ID)
	}
}

// Grype's presenter snapshot has no timestamp: refused, naming the field
// and the flag; with a scan time, its known-exploited match is kev.
func TestGrypeSnapshotNeedsScanTime(t *testing.T) {
	st := newStore(t)
	_, err := run(t, st, Grype, Options{}, fix(t, grypeSnap))
	if err == nil || !strings.Contains(err.Error(), grypeSnap+": the report does not say when the scan ran (no descriptor.timestamp): pass --scanned-at") {
		t.Fatalf("err = %v", err)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mustRun(t, st, Grype, Options{Scan: ScanOptions{ScannedAt: at}}, fix(t, grypeSnap))
	got := byCVEPackage(stored[*domain.Vulnerability](t, st, domain.KindVulnerability))
	if v := got["CVE-1999-0002 package-2"]; v == nil || !v.KEV || v.Severity != "critical" {
		t.Fatalf("CVE-1999-0002 = %+v, want kev critical", v)
	}
	if v := got["CVE-1999-0001 package-1"]; v == nil || v.KEV || v.Severity != "low" || !v.OpenedAt.Equal(at) {
		t.Fatalf("CVE-1999-0001 = %+v", v)
	}
}

func TestSARIF(t *testing.T) {
	st := newStore(t)
	// Trivy's SARIF: security-severity 5.3 is medium; its four results are
	// four findings (two packages × two CVEs).
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mustRun(t, st, SARIF, Options{Scan: ScanOptions{ScannedAt: at}}, fix(t, trivySARIF))
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	if len(vs) != 4 {
		t.Fatalf("%d findings, want 4", len(vs))
	}
	for _, v := range vs {
		if v.Severity != "medium" || !cveID.MatchString(v.CVE) || !strings.HasPrefix(v.URL, "https://avd.aquasec.com/nvd/cve-2019-") || v.Source != "sarif" {
			t.Fatalf("finding %+v", v)
		}
		if !strings.HasPrefix(v.ID, targetKey("Trivy", "testdata/fixtures/images/alpine-310.tar.gz")) {
			t.Fatalf("id %s is not of the image named in properties.imageName", v.ID)
		}
	}

	// njsscan names no target: refused until one is given; its results
	// map by level (absent → warning → medium; error → high) at the
	// invocation's end time.
	_, err := run(t, st, SARIF, Options{}, fix(t, njsscan))
	if err == nil || !strings.Contains(err.Error(), "pass --target") {
		t.Fatalf("err = %v", err)
	}
	mustRun(t, st, SARIF, Options{Scan: ScanOptions{Target: "github.com/example/web"}}, fix(t, njsscan))
	tk := targetKey("nodejsscan", "github.com/example/web")
	sev := map[string]string{}
	for _, v := range stored[*domain.Vulnerability](t, st, domain.KindVulnerability) {
		if strings.HasPrefix(v.ID, tk) {
			sev[v.URL] = v.Severity
			if !v.OpenedAt.Equal(time.Date(2021, 3, 23, 0, 10, 48, 0, time.UTC)) {
				t.Errorf("opened_at %s, want the invocation's endTimeUtc", v.OpenedAt)
			}
		}
	}
	if len(sev) != 2 || sev["https://ajinabraham.github.io/nodejsscan/#node_insecure_random_generator"] != "medium" ||
		sev["https://ajinabraham.github.io/nodejsscan/#node_password"] != "high" {
		t.Fatalf("njsscan severities %v", sev)
	}
}

// SARIF's appendix example: a result with message arguments and no time.
func TestSARIFAppendix(t *testing.T) {
	st := newStore(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	mustRun(t, st, SARIF, Options{Scan: ScanOptions{Target: "src", ScannedAt: at}}, fix(t, appendixK2))
	vs := stored[*domain.Vulnerability](t, st, domain.KindVulnerability)
	if len(vs) != 1 {
		t.Fatalf("%d findings, want 1", len(vs))
	}
	for _, v := range vs {
		if v.Severity != "medium" || v.CVE != "" || !v.OpenedAt.Equal(at) {
			t.Fatalf("finding %+v", v)
		}
	}
}

// A finding that cannot be mapped is named by file, JSON path and member;
// nothing is stored; with SkipInvalid the rest land.
func TestScanInvalidFindings(t *testing.T) {
	var rep map[string]any
	if err := json.Unmarshal(fixture(t, alpine39), &rep); err != nil {
		t.Fatal(err)
	}
	vs := rep["Results"].([]any)[0].(map[string]any)["Vulnerabilities"].([]any)
	delete(vs[1].(map[string]any), "VulnerabilityID")
	vs[2].(map[string]any)["Severity"] = 3
	vs[3].(map[string]any)["Severity"] = "SEVERE"
	b, _ := json.Marshal(rep)
	st := newStore(t)
	_, err := run(t, st, Trivy, Options{}, file{"scan.json", b})
	ie := invalid(t, err)
	wantProblem(t, ie, "scan.json: $.Results[0].Vulnerabilities[1]:", "VulnerabilityID", "required")
	wantProblem(t, ie, "scan.json: $.Results[0].Vulnerabilities[2]:", "Severity", "must be a string")
	// The member is named as the report names it, whatever the reason:
	// an unknown severity had been "field severity", Candor's name.
	wantProblem(t, ie, "scan.json: $.Results[0].Vulnerabilities[3]:", "Severity", `"SEVERE"`)
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
	for _, c := range []struct {
		format      Format
		name, where string
		member      string
		change      func(rep map[string]any)
	}{
		{Grype, grypeReal, "$.matches[2]", "vulnerability.severity", func(rep map[string]any) {
			rep["matches"].([]any)[2].(map[string]any)["vulnerability"].(map[string]any)["severity"] = "SEVERE"
		}},
		{SARIF, njsscan, "$.runs[0].results[0]", "level", func(rep map[string]any) {
			rep["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)["level"] = "SEVERE"
		}},
	} {
		var rep map[string]any
		if err := json.Unmarshal(fixture(t, c.name), &rep); err != nil {
			t.Fatal(err)
		}
		c.change(rep)
		b, _ := json.Marshal(rep)
		opt := Options{Scan: ScanOptions{Target: "t", ScannedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}}
		_, err := run(t, st, c.format, opt, file{"scan.json", b})
		wantProblem(t, invalid(t, err), "scan.json: "+c.where+":", c.member, `"SEVERE"`)
	}
	for _, bad := range []struct{ name, data, want string }{
		{"a.json", "{not json", "a.json: not JSON"},
		{"b.json", `{"SchemaVersion": 1}`, "b.json: SchemaVersion 1"},
		{"c.json", `{"SchemaVersion": 2, "CreatedAt": "2026-03-01T00:00:00Z", "ArtifactName": "x", "Results": "no"}`, "c.json: not a Trivy JSON report: Results must be a list"},
	} {
		_, err := run(t, st, Trivy, Options{}, file{bad.name, []byte(bad.data)})
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want %q", bad.name, err, bad.want)
		}
	}
	_, err = run(t, st, SARIF, Options{}, file{"old.sarif", []byte(`{"version":"2.0.0","runs":[]}`)})
	if err == nil || !strings.Contains(err.Error(), "only SARIF 2.1.0") {
		t.Errorf("err = %v", err)
	}
	if n := total(t, st); n != 0 {
		t.Fatalf("%d records stored", n)
	}
}

// A SARIF run that did not complete closes nothing.
func TestSARIFIncompleteRunClosesNothing(t *testing.T) {
	st := newStore(t)
	opt := Options{Scan: ScanOptions{Target: "repo"}}
	mustRun(t, st, SARIF, opt, fix(t, njsscan))
	failed := strings.Replace(string(fixture(t, njsscan)), `"executionSuccessful": true`, `"executionSuccessful": false`, 1)
	failed = strings.Replace(failed, `"endTimeUtc": "2021-03-23T00:10:48Z"`, `"endTimeUtc": "2021-03-24T00:10:48Z"`, 1)
	var log map[string]any
	json.Unmarshal([]byte(failed), &log)
	log["runs"].([]any)[0].(map[string]any)["results"] = []any{}
	b, _ := json.Marshal(log)
	rep := mustRun(t, st, SARIF, opt, file{"failed.sarif", b})
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "did not succeed") {
		t.Fatalf("notes %q", rep.Notes)
	}
	for _, v := range stored[*domain.Vulnerability](t, st, domain.KindVulnerability) {
		if !v.FixedAt.IsZero() {
			t.Fatalf("%s fixed by a failed run", v.ID)
		}
	}
	// Nor is it a scan whose time counts as data: only the full run's
	// record is stored.
	if k := rep.ByKind[domain.KindVulnerabilityScan]; k != nil {
		t.Errorf("the failed run wrote a scan record: %+v", k)
	}
	if scans := stored[*domain.VulnerabilityScan](t, st, domain.KindVulnerabilityScan); len(scans) != 1 || scans[targetKey("nodejsscan", "repo")+"@2021-03-23T00:10:48Z"] == nil {
		t.Errorf("scan records %v, want only the full run's of 23 March", keys(scans))
	}
}

// Each full scan is a record of its own (domain.VulnerabilityScan), whose
// time counts as vulnerability data: the same report a week later writes a
// second scan record and changes no finding; the same report imported
// again changes nothing.
func TestFullScanIsARecord(t *testing.T) {
	st := newStore(t)
	t1 := time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)
	t2 := t1.Add(7 * 24 * time.Hour)
	opt := func(at time.Time) Options { return Options{Scan: ScanOptions{ScannedAt: at, Service: "api"}} }
	first := mustRun(t, st, Trivy, opt(t1), fix(t, alpine39))
	if k := first.ByKind[domain.KindVulnerabilityScan]; k == nil || k.Records != 1 || k.Inserted != 1 {
		t.Fatalf("first scan: %+v, want one scan record inserted", k)
	}
	target := "testdata/fixtures/images/alpine-39.tar.gz"
	id := targetKey("trivy", target) + "@2026-11-01T06:00:00Z"
	want := domain.VulnerabilityScan{Meta: domain.Meta{ID: id, Source: "trivy"}, Scanner: "trivy", Target: target, Service: "api", ScannedAt: t1, Findings: 6}
	if got := stored[*domain.VulnerabilityScan](t, st, domain.KindVulnerabilityScan)[id]; got == nil || *got != want {
		t.Fatalf("scan record %+v\nwant %+v", got, want)
	}
	// The summary lists it apart from the findings.
	if out := ingest.FormatSummary(first.Summary); !strings.Contains(out, "\nvulnerability               6          6          0          0\n"+
		"vulnerability_scan          1          1          0          0\ntotal                       7          7          0          0\n") {
		t.Errorf("summary:\n%s", out)
	}

	second := mustRun(t, st, Trivy, opt(t2), fix(t, alpine39))
	if k := second.ByKind[domain.KindVulnerabilityScan]; k == nil || k.Inserted != 1 {
		t.Fatalf("the same report a week later: scans %+v, want a second scan record", k)
	}
	if k := second.ByKind[domain.KindVulnerability]; k == nil || k.Unchanged != 6 || k.Inserted != 0 || k.Replaced != 0 {
		t.Fatalf("the same report a week later: findings %+v, want all 6 unchanged", k)
	}
	scans := stored[*domain.VulnerabilityScan](t, st, domain.KindVulnerabilityScan)
	if len(scans) != 2 || scans[targetKey("trivy", target)+"@2026-11-08T06:00:00Z"] == nil {
		t.Fatalf("scan records %v, want those of 1 and 8 November", keys(scans))
	}
	for _, at := range []time.Time{t1, t2} {
		again := mustRun(t, st, Trivy, opt(at), fix(t, alpine39))
		if again.Unchanged != again.Records || again.ByKind[domain.KindVulnerabilityScan].Unchanged != 1 {
			t.Fatalf("re-importing the scan of %s: %+v, want every record, the scan's too, unchanged", at, again.Summary.WriteResult)
		}
	}

	// A target no record can hold is refused, naming it, with nothing
	// stored.
	_, err := run(t, newStore(t), Trivy, Options{Scan: ScanOptions{Target: strings.Repeat("x", domain.MaxText+1)}}, fix(t, alpine39))
	wantProblem(t, invalid(t, err), alpine39+": $", "target", "the scan's record: is 65537 bytes long")
}

// A later scan with a finding that cannot be read, imported with
// SkipInvalid, closes nothing: the finding left out may be one the scanner
// still reports (it had been closed at the scan's time), and the scan is
// no full scan's record.
func TestScanWithUnreadableFindingClosesNothing(t *testing.T) {
	st := newStore(t)
	mustRun(t, st, Trivy, Options{}, fix(t, alpine39))
	later := rescan(t, time.Date(2021, 9, 1, 8, 0, 0, 0, time.UTC), true)
	var rep map[string]any
	if err := json.Unmarshal(later.data, &rep); err != nil {
		t.Fatal(err)
	}
	rep["Results"].([]any)[0].(map[string]any)["Vulnerabilities"].([]any)[0].(map[string]any)["Severity"] = 5
	b, _ := json.Marshal(rep)
	r, err := Import(context.Background(), st, Trivy, []ingest.Source{{Name: later.name, Reader: bytes.NewReader(b)}}, Options{}, ingest.Options{SkipInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range stored[*domain.Vulnerability](t, st, domain.KindVulnerability) {
		if !v.FixedAt.IsZero() {
			t.Errorf("%s %s fixed at %s by a scan that could not read one of its findings", v.CVE, v.Package, v.FixedAt)
		}
	}
	if n := len(stored[*domain.VulnerabilityScan](t, st, domain.KindVulnerabilityScan)); n != 1 {
		t.Errorf("%d scan records, want the first scan's alone", n)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "1 finding in it could not be read; no finding of") }) {
		t.Errorf("notes %q do not say why nothing was closed", r.Notes)
	}
}

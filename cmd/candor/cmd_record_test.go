package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// candor record shows a stored record with its provenance, like GET
// /api/v1/records/{kind}/{source}/{id}.
func TestRecord(t *testing.T) {
	data := smallStore(t)
	var d2Line string
	for _, l := range strings.Split(smallOrg, "\n") {
		if strings.Contains(l, `"id":"d2"`) {
			d2Line = l
		}
	}
	sum := sha256.Sum256([]byte(d2Line))
	raw := hex.EncodeToString(sum[:])

	r := mustRun(t, "record", "deployment", "import", "d2", "--data", data)
	for _, want := range []string{
		"deployment import/d2", "status", "failure", "finished_at", "2026-03-12T00:00:00Z", "service", "api",
		"raw input sha256", raw, "canonical sha256", "ingested at", "store sequence",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, r.stdout)
		}
	}
	// Fields in the record's own order: the identity first, then service.
	if i, j := strings.Index(r.stdout, "service"), strings.Index(r.stdout, "status"); i < 0 || j < i {
		t.Errorf("fields out of order:\n%s", r.stdout)
	}

	// As candor metric names it: KIND SOURCE/ID.
	if r2 := mustRun(t, "record", "deployment", "import/d2", "--data", data); r2.stdout != r.stdout {
		t.Errorf("KIND SOURCE/ID:\n%s\nwant:\n%s", r2.stdout, r.stdout)
	}

	r = mustRun(t, "record", "deployment", "import", "d2", "--data", data, "--format", "json")
	var doc struct {
		Kind, Source, ID string
		Record           map[string]any
		Provenance       struct {
			RawSHA256       *string `json:"raw_sha256"`
			CanonicalSHA256 string  `json:"canonical_sha256"`
			Seq             int64
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("JSON: %v\n%s", err, r.stdout)
	}
	if doc.Kind != "deployment" || doc.ID != "d2" || doc.Record["status"] != "failure" || doc.Provenance.RawSHA256 == nil ||
		*doc.Provenance.RawSHA256 != raw || len(doc.Provenance.CanonicalSHA256) != 64 || doc.Provenance.Seq <= 0 {
		t.Errorf("JSON = %s", r.stdout)
	}

	// Not found: exit 1 naming what was looked for.
	r = run(t, "record", "deployment", "import", "d9", "--data", data)
	r.want(t, 1, "record", "deployment", "import", "d9")
	// Said once: not "…: not found" after it.
	if strings.TrimSpace(r.stderr) != `candor record: no deployment record with source "import" and id "d9"` {
		t.Errorf("stderr = %s", r.stderr)
	}
	// An unknown kind is a usage error naming the known kinds.
	r = run(t, "record", "deploymint", "import", "d2", "--data", data)
	r.want(t, 2, "record", "deploymint")
	if !strings.Contains(r.stderr, "deploymint") || !strings.Contains(r.stderr, "service, deployment, change") {
		t.Errorf("stderr = %s", r.stderr)
	}
	// A kind Candor writes itself is looked up too (an evidence pack names
	// a full scan's record), not refused as unknown.
	r = run(t, "record", "vulnerability_scan", "trivy", "ab12@2026-03-02T00:00:00Z", "--data", data)
	r.want(t, 1, "record", "vulnerability_scan")
	if !strings.Contains(r.stderr, `no vulnerability_scan record with source "trivy"`) {
		t.Errorf("stderr = %s", r.stderr)
	}
	r = run(t, "record", "deployment", "d2", "--data", data)
	r.want(t, 2, "record", "deployment", "d2")
	if !strings.Contains(r.stderr, "KIND SOURCE ID") {
		t.Errorf("stderr = %s", r.stderr)
	}
	r = run(t, "record", "deployment", "import", "d2", "--data", data, "--format", "yaml")
	r.want(t, 2, "record", "--format", "yaml")
}

// candor metric lists the records behind a value with their fields, so a
// person sees which deployments failed.
func TestMetricRows(t *testing.T) {
	data := smallStore(t)
	r := mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-03-31")
	header, d2 := tableLines(r.stdout, "finished_at", "deployment import/d2")
	if !strings.Contains(header, "status") || !strings.Contains(d2, "2026-03-12T00:00:00Z") || !strings.Contains(d2, "failure") ||
		strings.Index(header, "status") != strings.Index(d2, "failure") {
		t.Errorf("rows:\n%s", r.stdout)
	}
	r = mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-03-31", "--format", "json")
	var doc struct {
		Records []struct {
			ID     string
			Fields map[string]any
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || len(doc.Records) != 4 || doc.Records[1].Fields["status"] != "failure" {
		t.Errorf("JSON records = %+v (%v)", doc.Records, err)
	}
}

// candor metric words a period's exclusive end as the period's last day,
// as the pages do (scorecard.PeriodEndText), where it printed the instant
// after the period, "2026-04-01T00:00:00Z" for a quarter ending in March.
func TestMetricPeriodEndIsTheLastDay(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "quota.ndjson")
	if err := os.WriteFile(file, []byte(`{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-01-01T00:00:00Z","period_end":"2026-04-01T00:00:00Z","amount":1000}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	mustRun(t, "import", "--data", data, file)
	r := mustRun(t, "metric", "quota_attainment", "--data", data, "--as-of", "2026-03-31")
	if !strings.Contains(r.stdout, "1 Jan 2026") || strings.Contains(r.stdout, "2026-01-01T00:00:00Z") {
		t.Errorf("the quota's period start is not its first day beside its last:\n%s", r.stdout)
	}
	header, q1 := tableLines(r.stdout, "period_end", "quota import/q1")
	if q1 == "" || !strings.Contains(q1, "31 Mar 2026") || strings.Contains(q1, "2026-04-01") || strings.Index(header, "period_end") != strings.Index(q1, "31 Mar 2026") {
		t.Errorf("the quota's period end is not its last day:\n%s", r.stdout)
	}
	// candor record gives the instant stored, with the last day beside it,
	// as the record page does.
	r = mustRun(t, "record", "quota", "import", "q1", "--data", data)
	if !strings.Contains(r.stdout, "2026-04-01T00:00:00Z (until then: the period's last day is 31 Mar 2026)") {
		t.Errorf("candor record's period end:\n%s", r.stdout)
	}
}

// tableLines returns the last line of out holding header and the last holding
// row: a records table's header and one of its rows.
func tableLines(out, header, row string) (h, r string) {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, header) {
			h = l
		}
		if strings.Contains(l, row) {
			r = l
		}
	}
	return h, r
}

// candor metric says what its value covers as the metric's page does:
// the window for most, the quota period for a quota metric, which had
// been headed "window 30d" though it ignores the window.
func TestMetricSaysWhatItsValueCovers(t *testing.T) {
	data := smallStore(t)
	r := mustRun(t, "metric", "change_failure_rate", "--data", data, "--as-of", "2026-03-31")
	if !strings.Contains(r.stdout, "\nWindow: 30d ending 31 Mar 2026 00:00 UTC\n") {
		t.Errorf("a window metric's cover:\n%s", r.stdout)
	}
	r = mustRun(t, "metric", "quota_attainment", "--data", data, "--as-of", "2026-03-31")
	if !strings.Contains(r.stdout, "\nPeriod: the quota period holding 31 Mar 2026 00:00 UTC, up to then\n") || strings.Contains(r.stdout, "window 30d") {
		t.Errorf("a quota metric's cover:\n%s", r.stdout)
	}
	r = mustRun(t, "metric", "quota_attainment", "--data", data, "--as-of", "2026-03-31", "--format", "json")
	if !strings.Contains(r.stdout, `"span": "quota_period"`) {
		t.Errorf("JSON definition without its span:\n%s", r.stdout)
	}
}

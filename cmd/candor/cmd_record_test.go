package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
	var header, d2 string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.Contains(l, "finished_at") {
			header = l
		}
		if strings.Contains(l, "deployment import/d2") {
			d2 = l
		}
	}
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

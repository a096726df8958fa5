package web

import (
	"archive/zip"
	"bytes"
	"testing"
)

// The evidence API serves the period's pack as a zip, the same bytes each
// time, and refuses a bad bound naming it.
func TestEvidenceAPI(t *testing.T) {
	e := newEnv(t, 0)
	const url = "/api/v1/evidence?from=2026-01-01&to=2026-03-31"
	status, body, h := e.do(t, "GET", url, "", nil)
	if status != 200 || h.Get("Content-Type") != "application/zip" || h.Get("Content-Disposition") != `attachment; filename="candor-evidence-2026-01-01-2026-03-31.zip"` {
		t.Fatalf("GET %s = %d %s %q", url, status, h.Get("Content-Type"), h.Get("Content-Disposition"))
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, want := range []string{"index.md", "definitions.json", "releases.json", "ledger_verification.json", "controls.json", "vulnerabilities_past_sla.json"} {
		if !names[want] {
			t.Errorf("the pack has no %s: %v", want, names)
		}
	}
	if _, again, _ := e.do(t, "GET", url, "", nil); !bytes.Equal(body, again) {
		t.Errorf("two packs of one period differ")
	}
	e.run(t, scenario{url: "/api/v1/evidence?from=2026-02-30&to=2026-03-31", status: 400, fields: map[string]string{"param": "from"}})
	e.run(t, scenario{url: "/api/v1/evidence?from=2026-01-01", status: 400, fields: map[string]string{"param": "to"}})
	e.run(t, scenario{url: "/api/v1/evidence?from=2026-03-01&to=2026-01-01", status: 400, fields: map[string]string{"param": "to"}})
}

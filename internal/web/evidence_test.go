package web

import (
	"archive/zip"
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
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
	for _, want := range []string{"index.md", "definitions.json", "figures.json", "releases.json", "ledger_verification.json", "controls.json", "vulnerabilities_past_sla.json"} {
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

// A period ending more than a day past the clock is refused naming to, as
// an as_of that far on is; one not ended yet but ending within a day is
// packed, its index saying it had not ended rather than naming today's
// ledger head "as of the period's end".
func TestEvidenceAPIPeriodNotEnded(t *testing.T) {
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	e := newEnvWith(t, 0, func(s *Server, _ string) { s.Now = func() time.Time { return now } })
	for _, c := range []struct {
		to     string
		status int
		open   bool
	}{
		{"2026-03-31", 200, false},           // ended at 2026-04-01T00:00
		{"2026-04-01T11:00:00Z", 200, false}, // ended an hour ago
		{"2026-04-01", 200, true},            // ends at midnight: not ended
		{"2026-04-02T12:00:00Z", 200, true},  // a day past the clock
		{"2026-04-02", 400, false},           // ends 2026-04-03T00:00
		{"2030-02-01", 400, false},
	} {
		url := "/api/v1/evidence?from=2026-01-01&to=" + c.to
		if c.status == 400 {
			e.run(t, scenario{url: url, status: 400, fields: map[string]string{"param": "to"}, contains: []string{"more than a day past the clock"}})
			continue
		}
		status, body, _ := e.do(t, "GET", url, "", nil)
		if status != c.status {
			t.Fatalf("GET %s = %d %s", url, status, body)
		}
		zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		f, err := zr.Open("index.md")
		if err != nil {
			t.Fatal(err)
		}
		index, _ := io.ReadAll(f)
		f.Close()
		says := strings.Contains(string(index), "The period had not ended when this pack was built")
		asOfEnd := strings.Contains(string(index), "Ledger head as of the period's end")
		if says != c.open || (c.open && asOfEnd) {
			t.Errorf("to=%s: index.md says not ended %v, head as of the end %v; want not ended %v:\n%s", c.to, says, asOfEnd, c.open, index)
		}
	}
}

// An evidence pack is the whole organisation's for every reader: one whose
// roles grant evidence:read but do not open every metric (revenue without
// revenue:read) is refused, naming them, where figures.json had left them
// out while the pack's snapshots held them whole.
func TestEvidenceAPIWholeOrRefused(t *testing.T) {
	perms := []auth.Permission{auth.ScorecardRead, auth.MetricRead, auth.EvidenceRead}
	e := newEnvRoles(t, 0, map[string]auth.RoleOverride{"engineering": {Permissions: &perms}})
	status, b := e.apiAs(t, "engineering", "/api/v1/evidence?from=2026-01-01&to=2026-03-31")
	if status != 403 || !strings.Contains(string(b), "an evidence pack states every metric") || !strings.Contains(string(b), "arr") {
		t.Errorf("evidence:read without revenue:read: %d %s", status, clip(b))
	}
	if status, b := e.apiAs(t, "auditor", "/api/v1/evidence?from=2026-01-01&to=2026-03-31"); status != 200 {
		t.Errorf("the auditor: %d %s", status, clip(b))
	}
}

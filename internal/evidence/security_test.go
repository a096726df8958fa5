package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite"
)

// securityRecords are control checks and vulnerabilities in, before and
// after March 2026.
const securityRecords = `
{"kind":"control","id":"ac1-feb","control":"AC-1","name":"Access review","framework":"SOX","checked_at":"2026-02-20T10:00:00Z","passed":true,"evidence_url":"https://grc.example/ac1-feb"}
{"kind":"control","id":"ac1-mar","control":"AC-1","name":"Access review","framework":"SOX","checked_at":"2026-03-10T10:00:00Z","passed":false,"evidence_url":"https://grc.example/ac1-mar"}
{"kind":"control","id":"ac1-apr","control":"AC-1","name":"Access review","framework":"SOX","checked_at":"2026-04-05T10:00:00Z","passed":true,"evidence_url":"https://grc.example/ac1-apr"}
{"kind":"control","id":"cm2-jan","control":"CM-2","name":"Change management","framework":"SOX","checked_at":"2026-01-10T10:00:00Z","passed":true}
{"kind":"control","id":"cm2-mar","control":"CM-2","name":"Change management","framework":"ISO27001","checked_at":"2026-03-20T10:00:00Z","passed":false,"evidence_url":"https://grc.example/cm2-mar"}
{"kind":"control","id":"bk1-early","control":"BK-1","name":"Backups","framework":"ISO27001","checked_at":"2026-03-01T00:00:00Z","passed":false,"evidence_url":"https://grc.example/bk1-early"}
{"kind":"control","id":"bk1-late","control":"BK-1","name":"Backups","framework":"ISO27001","checked_at":"2026-03-25T10:00:00Z","passed":true,"evidence_url":"https://grc.example/bk1-late"}
{"kind":"control","id":"x1","control":"X-1","name":"Clean desk","checked_at":"2026-03-02T10:00:00Z","passed":false}
{"kind":"control","id":"x1-apr","control":"X-1","name":"Clean desk","checked_at":"2026-04-01T00:00:00Z","passed":true}
{"kind":"control","id":"old-only","control":"OLD-1","name":"Retired","framework":"PCI","checked_at":"2025-12-01T10:00:00Z","passed":true}
{"kind":"vulnerability","id":"crit-fixed-after","severity":"critical","service":"api","opened_at":"2026-03-10T00:00:00Z","fixed_at":"2026-04-10T00:00:00Z","cve":"CVE-2026-1","kev":true,"package":"openssl"}
{"kind":"vulnerability","id":"crit-fixed-in","severity":"critical","service":"api","opened_at":"2026-03-01T00:00:00Z","fixed_at":"2026-03-05T00:00:00Z"}
{"kind":"vulnerability","id":"high-old","severity":"high","service":"web","opened_at":"2026-01-01T00:00:00Z"}
{"kind":"vulnerability","id":"high-young","severity":"high","service":"web","opened_at":"2026-03-15T00:00:00Z","fixed_at":"2026-04-01T00:00:00Z"}
{"kind":"vulnerability","id":"crit-after","severity":"critical","service":"api","opened_at":"2026-04-05T00:00:00Z"}
{"kind":"vulnerability","id":"medium-exact","severity":"medium","service":"web","opened_at":"2026-01-01T00:00:00Z"}
`

type securityPack struct {
	files map[string][]byte
	sum   Summary
	ctl   struct {
		Data    string
		Checked struct {
			Note          string
			Count, Failed int
			Checks        []struct {
				Record, ID, Source, Control, Name, Framework string
				CheckedAt                                    time.Time `json:"checked_at"`
				Passed                                       bool
				EvidenceURL                                  string `json:"evidence_url"`
			}
		} `json:"checked_in_period"`
		Failing struct {
			Note              string
			Controls, Failing int
			Frameworks        []struct {
				Framework, Status string
				Controls          int
				Failing           []struct {
					Record, Control, Name string
					EvidenceURL           string `json:"evidence_url"`
				}
			}
		} `json:"failing_at_period_end"`
	}
	vul struct {
		Data, Note string
		Open       int
		PastSLA    int                `json:"past_sla"`
		SLADays    map[string]float64 `json:"sla_days"`
		FullScans  struct {
			InPeriod int        `json:"in_period"`
			Last     *time.Time `json:"last"`
			Record   string     `json:"last_record"`
		} `json:"full_scans"`
		Vulns []struct {
			Record, ID, Source, Severity, Service, CVE, Package string
			KEV                                                 bool
			OpenedAt                                            time.Time `json:"opened_at"`
			DaysOpen                                            float64   `json:"days_open"`
			DaysPastSLA                                         float64   `json:"days_past_sla"`
		} `json:"vulnerabilities"`
	}
}

func buildSecurityPack(t *testing.T, ndjson string, p Period, scans ...*domain.VulnerabilityScan) (*securityPack, *engine.Engine) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if ndjson != "" {
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "sec.ndjson", Reader: strings.NewReader(ndjson)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	// Full scans, which only a scan import writes (not importable).
	if len(scans) > 0 {
		if _, err := ingest.ImportEntries(ctx, st, ingest.Options{}, func(add func(ingest.Entry) error) error {
			for _, s := range scans {
				if err := add(ingest.Entry{Record: s}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, metrics.DefaultConfig())
	var buf bytes.Buffer
	sum, err := Write(ctx, Input{Store: st, Engine: eng, Catalog: cat}, p, &buf)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	pack := &securityPack{files: map[string][]byte{}, sum: sum}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		pack.files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	for name, v := range map[string]any{ControlsFile: &pack.ctl, VulnerabilitiesFile: &pack.vul} {
		if err := json.Unmarshal(pack.files[name], v); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, pack.files[name])
		}
	}
	return pack, eng
}

var march = Period{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}

// TestSecurityEvidence: the pack lists the control checks made in its
// period — not those before or after — with their name and evidence URL,
// the controls failing their latest check at its end per framework (a
// control failing in March and passing in April still failing; one
// failing early in March and passing later not), and the vulnerabilities
// past their SLA at its end — one fixed after the end among them, one
// fixed within it, one within its SLA, one exactly at it and one opened
// after the end not — the same ones vulnerability_sla_breaches counts.
// The pack had no security evidence at all.
func TestSecurityEvidence(t *testing.T) {
	pack, eng := buildSecurityPack(t, securityRecords, march)
	ctl, vul := pack.ctl, pack.vul

	var checked []string
	for _, c := range ctl.Checked.Checks {
		checked = append(checked, c.ID)
	}
	// In checking order; bk1-early is stamped at the period's start.
	if want := []string{"bk1-early", "x1", "ac1-mar", "cm2-mar", "bk1-late"}; !slices.Equal(checked, want) {
		t.Errorf("checks in the period: %v, want %v", checked, want)
	}
	if ctl.Data != "recorded" || ctl.Checked.Count != 5 || ctl.Checked.Failed != 4 {
		t.Errorf("controls: data %q, %d checks, %d failed; want recorded, 5, 4", ctl.Data, ctl.Checked.Count, ctl.Checked.Failed)
	}
	if c := ctl.Checked.Checks[2]; c.Record != "control import ac1-mar" || c.Source != "import" || c.Control != "AC-1" || c.Name != "Access review" ||
		c.Framework != "SOX" || c.Passed || c.EvidenceURL != "https://grc.example/ac1-mar" || !c.CheckedAt.Equal(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("ac1-mar listed as %+v", c)
	}

	failing := map[string]string{}
	for _, f := range ctl.Failing.Frameworks {
		var ids []string
		for _, c := range f.Failing {
			ids = append(ids, c.Control+"="+c.Record)
		}
		failing[f.Framework] = f.Status + " " + strings.Join(ids, ",")
	}
	want := map[string]string{
		// AC-1 failed in March; its April pass is after the end.
		// CM-2 is SOX by its January check and ISO27001 by its March one.
		"SOX":      "failed AC-1=control import ac1-mar,CM-2=control import cm2-mar",
		"ISO27001": "failed CM-2=control import cm2-mar",
		"(none)":   "failed X-1=control import x1",
		// Checked before the period only: still a control at its end.
		"PCI": "passed ",
	}
	if len(failing) != len(want) {
		t.Errorf("frameworks at the end: %v, want %v", failing, want)
	}
	for f, w := range want {
		if failing[f] != w {
			t.Errorf("%s at the end: %q, want %q", f, failing[f], w)
		}
	}
	if ctl.Failing.Controls != 5 || ctl.Failing.Failing != 3 || !strings.Contains(ctl.Failing.Note, "3 of the 5 controls") {
		t.Errorf("failing at the end: %d of %d (%q), want 3 of 5", ctl.Failing.Failing, ctl.Failing.Controls, ctl.Failing.Note)
	}
	for _, f := range ctl.Failing.Frameworks {
		if f.Framework == "SOX" && (len(f.Failing) == 0 || f.Failing[0].EvidenceURL != "https://grc.example/ac1-mar" || f.Failing[0].Name != "Access review" || f.Controls != 2) {
			t.Errorf("SOX at the end: %+v, want 2 controls, AC-1 failing with its name and evidence_url", f)
		}
	}

	var past []string
	for _, v := range vul.Vulns {
		past = append(past, v.ID)
	}
	if want := []string{"crit-fixed-after", "high-old"}; !slices.Equal(past, want) {
		t.Errorf("past their SLA at the end: %v, want %v", past, want)
	}
	if v := vul.Vulns[0]; v.Record != "vulnerability import crit-fixed-after" || v.Severity != "critical" || v.Service != "api" || v.CVE != "CVE-2026-1" ||
		v.DaysOpen != 22 || v.DaysPastSLA != 15 || !v.OpenedAt.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("crit-fixed-after listed as %+v, want 22 days open, 15 past its SLA", v)
	}
	// Known exploited, in openssl: what an auditor asks first of one overdue.
	if v := vul.Vulns[0]; !v.KEV || v.Package != "openssl" || vul.Vulns[1].KEV || vul.Vulns[1].Package != "" {
		t.Errorf("kev and package: %v %q and %v %q, want true openssl and false none", v.KEV, v.Package, vul.Vulns[1].KEV, vul.Vulns[1].Package)
	}
	if v := vul.Vulns[1]; v.DaysOpen != 90 || v.DaysPastSLA != 60 {
		t.Errorf("high-old: %v days open, %v past, want 90 and 60", v.DaysOpen, v.DaysPastSLA)
	}
	// Open at the end: crit-fixed-after, high-old, high-young, medium-exact.
	if vul.Data != "recorded" || vul.Open != 4 || vul.PastSLA != 2 || vul.SLADays["critical"] != 7 || vul.SLADays["low"] != 120 {
		t.Errorf("vulnerabilities: data %q, %d open, %d past, SLAs %v", vul.Data, vul.Open, vul.PastSLA, vul.SLADays)
	}
	// The metric counts the same ones as of the period's end.
	if err := eng.Read(context.Background(), func(ds *metrics.Dataset) error {
		r, err := ds.Compute("vulnerability_sla_breaches", metrics.Query{AsOf: march.To, Window: 30 * 24 * time.Hour})
		if err == nil && (r.Value == nil || int(*r.Value) != len(vul.Vulns)) {
			t.Errorf("vulnerability_sla_breaches as of the end: %v, the pack lists %d", r.Value, len(vul.Vulns))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}

	index := string(pack.files["index.md"])
	for _, w := range []string{"`" + ControlsFile + "`:", "`" + VulnerabilitiesFile + "`:",
		"Security: 5 control checks in the period (4 failed); 3 of 5 controls failing at the period's end; 2 vulnerabilities past their SLA at the period's end"} {
		if !strings.Contains(index, w) {
			t.Errorf("index.md has no %q:\n%s", w, index)
		}
	}
	if s := pack.sum; !s.ControlData || !s.VulnerabilityData || s.ControlChecks != 5 || s.ControlsFailing != 3 || s.PastSLA != 2 {
		t.Errorf("summary: %+v", s)
	}
}

// TestSecurityEvidenceNoData: an organisation with no control or
// vulnerability record — or none up to the period's end — gets the
// security files all the same, saying "no data", never all passing or
// none past their SLA; one whose checks all passed and whose
// vulnerabilities were all fixed is told so, apart from no data.
func TestSecurityEvidenceNoData(t *testing.T) {
	empty, _ := buildSecurityPack(t, "", march)
	// The same records as above, for a period before any of them.
	before, _ := buildSecurityPack(t, securityRecords, Period{From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)})
	for name, pack := range map[string]*securityPack{"empty organisation": empty, "period before the records": before} {
		ctl, vul := pack.ctl, pack.vul
		if ctl.Data != "no data" || ctl.Checked.Checks == nil || len(ctl.Checked.Checks) != 0 || ctl.Failing.Frameworks == nil ||
			!strings.HasPrefix(ctl.Checked.Note, "no data:") || !strings.HasPrefix(ctl.Failing.Note, "no data:") {
			t.Errorf("%s: controls.json:\n%s", name, pack.files[ControlsFile])
		}
		if vul.Data != "no data" || vul.Vulns == nil || len(vul.Vulns) != 0 || !strings.HasPrefix(vul.Note, "no data:") {
			t.Errorf("%s: vulnerabilities_past_sla.json:\n%s", name, pack.files[VulnerabilitiesFile])
		}
		for file, body := range pack.files {
			if strings.Contains(string(body), "none failing") || strings.Contains(string(body), "\"none: ") {
				t.Errorf("%s: %s calls no data none failing:\n%s", name, file, body)
			}
		}
		index := string(pack.files["index.md"])
		if !strings.Contains(index, "Security: no control data (") || !strings.Contains(index, "; no vulnerability data (") {
			t.Errorf("%s: index.md does not say there is no data:\n%s", name, index)
		}
		if pack.sum.ControlData || pack.sum.VulnerabilityData {
			t.Errorf("%s: summary says there is data: %+v", name, pack.sum)
		}
	}

	// All passing, all fixed: said as such, with data.
	clean, _ := buildSecurityPack(t, `
{"kind":"control","id":"c","control":"AC-1","framework":"SOX","checked_at":"2026-03-10T10:00:00Z","passed":true}
{"kind":"vulnerability","id":"v","severity":"critical","opened_at":"2026-03-01T00:00:00Z","fixed_at":"2026-03-02T00:00:00Z"}
`, march)
	if c := clean.ctl; c.Data != "recorded" || !strings.HasPrefix(c.Failing.Note, "none failing:") || len(c.Failing.Frameworks) != 1 || c.Failing.Frameworks[0].Status != "passed" {
		t.Errorf("all passing: controls.json:\n%s", clean.files[ControlsFile])
	}
	if v := clean.vul; v.Data != "recorded" || !strings.HasPrefix(v.Note, "none: no vulnerability was open") {
		t.Errorf("all fixed: vulnerabilities_past_sla.json:\n%s", clean.files[VulnerabilitiesFile])
	}
}

// TestSecurityEvidenceCleanScans: an organisation whose images scan clean
// sends no vulnerability record, yet its full scans are vulnerability
// data: vulnerabilities_past_sla.json says none was past its SLA, how many
// full scans ran in the period and which was the last, not "no data"
// (nothing known). A scan after the period's end is not evidence of it,
// and with neither scans nor records up to its end there is no data.
func TestSecurityEvidenceCleanScans(t *testing.T) {
	scan := func(at string, svc string) *domain.VulnerabilityScan {
		ts, err := time.Parse(time.RFC3339, at)
		if err != nil {
			t.Fatal(err)
		}
		return &domain.VulnerabilityScan{Meta: domain.Meta{ID: "3f2a@" + at, Source: "trivy"}, Scanner: "trivy",
			Target: "registry.example.com/" + svc, Service: svc, ScannedAt: ts}
	}
	feb, mar1, mar2, apr := scan("2026-02-20T06:00:00Z", "api"), scan("2026-03-02T06:00:00Z", "api"), scan("2026-03-30T06:00:00Z", "web"), scan("2026-04-01T00:00:00Z", "api")
	clean, _ := buildSecurityPack(t, "", march, feb, mar1, mar2, apr)
	v := clean.vul
	if v.Data != "recorded" || v.Vulns == nil || len(v.Vulns) != 0 || v.Open != 0 || v.PastSLA != 0 || !strings.HasPrefix(v.Note, "none: ") ||
		!strings.Contains(v.Note, "the full scans found none open (2 in the period; the last at 2026-03-30T06:00:00Z, vulnerability_scan trivy 3f2a@2026-03-30T06:00:00Z)") ||
		v.FullScans.InPeriod != 2 || v.FullScans.Last == nil || !v.FullScans.Last.Equal(mar2.ScannedAt) ||
		v.FullScans.Record != "vulnerability_scan trivy 3f2a@2026-03-30T06:00:00Z" {
		t.Errorf("clean full scans: vulnerabilities_past_sla.json:\n%s", clean.files[VulnerabilitiesFile])
	}
	if !clean.sum.VulnerabilityData || clean.sum.PastSLA != 0 {
		t.Errorf("clean full scans: summary %+v, want vulnerability data, none past their SLA", clean.sum)
	}
	if index := string(clean.files["index.md"]); !strings.Contains(index, "; 0 vulnerabilities past their SLA at the period's end") {
		t.Errorf("clean full scans: index.md:\n%s", index)
	}
	// Scanned before the period only: data all the same (the last scan
	// said nothing was open), none of them in it.
	before, _ := buildSecurityPack(t, "", march, feb)
	if v := before.vul; v.Data != "recorded" || v.FullScans.InPeriod != 0 || v.FullScans.Last == nil || !v.FullScans.Last.Equal(feb.ScannedAt) {
		t.Errorf("scanned before the period: vulnerabilities_past_sla.json:\n%s", before.files[VulnerabilitiesFile])
	}
	// Scanned only after it: no data, as with nothing at all.
	for _, c := range []struct {
		name  string
		scans []*domain.VulnerabilityScan
	}{{"scanned after the period", []*domain.VulnerabilityScan{apr}}, {"neither scans nor records", nil}} {
		pack, _ := buildSecurityPack(t, "", march, c.scans...)
		name := c.name
		if v := pack.vul; v.Data != "no data" || !strings.HasPrefix(v.Note, "no data:") || v.FullScans.InPeriod != 0 || v.FullScans.Last != nil || v.FullScans.Record != "" {
			t.Errorf("%s: vulnerabilities_past_sla.json:\n%s", name, pack.files[VulnerabilitiesFile])
		}
		if pack.sum.VulnerabilityData {
			t.Errorf("%s: summary says there is vulnerability data", name)
		}
	}
}

// The security line counts one as one: "1 KPI snapshots", "1 vulnerabilities
// past their SLA" had been read in the demo's running month.
func TestSecurityCountsOne(t *testing.T) {
	s := Summary{ControlData: true, ControlChecks: 1, Controls: 1, VulnerabilityData: true, PastSLA: 1}
	want := "1 control check in the period (0 failed); 0 of 1 control failing at the period's end; 1 vulnerability past its SLA at the period's end"
	if got := s.Security(); got != want {
		t.Errorf("Security() = %q, want %q", got, want)
	}
}

package domain

import (
	"strings"
	"testing"
	"time"
)

func TestParseKind(t *testing.T) {
	plural := map[Kind]string{
		KindService: "services", KindDeployment: "deployments", KindChange: "changes",
		KindIncident: "incidents", KindSLI: "slis", KindTicket: "tickets", KindSurvey: "surveys",
		KindVulnerability: "vulnerabilities", KindControl: "controls", KindCost: "costs",
		KindUsage: "usages", KindBudget: "budgets", KindSubscription: "subscriptions",
		KindOpportunity: "opportunities", KindLead: "leads", KindQuota: "quotas",
		KindSpend: "spends", KindTarget: "targets", KindMeasurement: "measurements",
	}
	if len(plural) != len(Kinds) {
		t.Fatalf("plural table has %d kinds, Kinds has %d", len(plural), len(Kinds))
	}
	for _, k := range Kinds {
		p, ok := plural[k]
		if !ok {
			t.Fatalf("kind %s missing from the plural table", k)
		}
		for _, in := range []string{
			string(k), p, strings.ToUpper(string(k)), strings.ToUpper(p),
			strings.ToUpper(string(k)[:1]) + string(k)[1:], " " + p + "\t",
		} {
			got, err := ParseKind(in)
			if err != nil || got != k {
				t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, k)
			}
		}
	}
	for _, in := range []string{"", " ", "deploy", "deploymentss", "incident_", "kpi", "services.csv", "sli s"} {
		got, err := ParseKind(in)
		if err == nil {
			t.Errorf("ParseKind(%q) = %q, want an error", in, got)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "unknown kind") || !strings.Contains(msg, "known:") {
			t.Errorf("ParseKind(%q) error %q does not say the kind is unknown and list the known ones", in, msg)
		}
		for _, k := range Kinds {
			if !strings.Contains(msg, string(k)) {
				t.Errorf("ParseKind(%q) error %q does not list kind %s", in, msg, k)
			}
		}
	}
}

// A misspelt kind names the kind it was probably meant to be, as a
// misspelt flag or metric id does; a word near none gets no guess.
func TestParseKindSuggests(t *testing.T) {
	for in, want := range map[string]string{"deploymnt": "deployment", "Deploymnts": "deployment", "incidnet": "incident", "subscripton": "subscription"} {
		_, err := ParseKind(in)
		if err == nil || !strings.Contains(err.Error(), "(did you mean "+want+"? known: service, ") {
			t.Errorf("ParseKind(%q) = %v, want a suggestion of %s", in, err, want)
		}
	}
	for _, in := range []string{"deploy", "frobnicator", "gizmo"} {
		if _, err := ParseKind(in); err == nil || strings.Contains(err.Error(), "did you mean") {
			t.Errorf("ParseKind(%q) = %v, want no suggestion", in, err)
		}
	}
	if _, err := ParseStoredKind("vulnerability_scn"); err == nil || !strings.Contains(err.Error(), "did you mean vulnerability_scan?") {
		t.Errorf("ParseStoredKind(vulnerability_scn) = %v", err)
	}
	_, err := ParseJSON([]byte(`{"kind":"deploymnt","id":"x"}`), "", ParseOptions{})
	if err == nil || !strings.Contains(err.Error(), "did you mean deployment?") {
		t.Errorf("a record of kind deploymnt: %v", err)
	}
}

func TestKinds(t *testing.T) {
	if len(Kinds) != 19 {
		t.Fatalf("SPEC §1 has 19 kinds, Kinds has %d", len(Kinds))
	}
	seen := map[Kind]bool{}
	for _, k := range Kinds {
		if seen[k] {
			t.Errorf("kind %s listed twice", k)
		}
		seen[k] = true
		r := New(k)
		if r == nil {
			t.Errorf("New(%s) = nil", k)
			continue
		}
		if r.Kind() != k {
			t.Errorf("New(%s).Kind() = %s", k, r.Kind())
		}
		if r.Header() == nil {
			t.Errorf("New(%s).Header() = nil", k)
		}
	}
	if New("bogus") != nil || New("") != nil {
		t.Error("New of an unknown kind is not nil")
	}
	// The kinds Candor writes itself: stored and decoded like any, never
	// imported.
	for _, k := range Internal {
		if seen[k] {
			t.Errorf("Candor's own kind %s is among the kinds imported", k)
		}
		if r := New(k); r == nil || r.Kind() != k {
			t.Errorf("New(%s) = %v", k, r)
		}
		if _, err := ParseKind(string(k)); err == nil {
			t.Errorf("ParseKind(%s) accepted Candor's own kind", k)
		}
	}
	if all := AllKinds(); len(all) != len(Kinds)+len(Internal) || all[len(Kinds)] != KindRetroValidation || all[len(all)-1] != KindVulnerabilityScan {
		t.Errorf("AllKinds() = %v", all)
	}
}

// A scan record is checked as an imported record is: every problem,
// naming its field.
func TestVulnerabilityScanCheck(t *testing.T) {
	ok := VulnerabilityScan{Meta: Meta{ID: "3f2a@2026-03-01T00:00:00Z", Source: "trivy"}, Scanner: "trivy", Target: "img",
		ScannedAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Findings: 2}
	if err := ok.Check(); err != nil {
		t.Fatalf("Check = %v", err)
	}
	bad := VulnerabilityScan{Meta: Meta{ID: "x"}, Scanner: " ", Target: strings.Repeat("t", MaxText+1), Service: "a\x00b", Findings: -1}
	var got []string
	for _, p := range Problems(bad.Check()) {
		got = append(got, p.Error())
	}
	want := []string{"field source: required", "field scanner: required", "field target: is 65537 bytes long; free text is at most 64 KiB (65536 bytes)",
		"field service: is not valid UTF-8 text without NUL characters", "field scanned_at: required", "field findings: is -1; a count is not negative"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if (&VulnerabilityScan{}).EventTime() != (time.Time{}) || ok.EventTime() != ok.ScannedAt {
		t.Error("a scan's event time is not its scan time")
	}
}

func TestMonthly(t *testing.T) {
	monthly := map[Kind]bool{
		KindCost: true, KindUsage: true, KindBudget: true, KindSubscription: true,
		KindQuota: true, KindSpend: true, KindTarget: true,
	}
	for _, k := range Kinds {
		if got := k.Monthly(); got != monthly[k] {
			t.Errorf("%s.Monthly() = %v, want %v", k, got, monthly[k])
		}
	}
}

func TestKey(t *testing.T) {
	r := &Deployment{Meta: Meta{ID: "dep-1", Source: "github"}}
	k := KeyOf(r)
	if k != (Key{Kind: KindDeployment, Source: "github", ID: "dep-1"}) {
		t.Fatalf("KeyOf = %+v", k)
	}
	if s := k.String(); s != "deployment/github/dep-1" {
		t.Fatalf("Key.String() = %q", s)
	}
}

// Every list of vulnerability severities follows one order, worst first
// (an evidence pack's overdue findings, a scanner report's, the security
// facts beside a metric); a severity Candor does not know comes last.
func TestSeverityRank(t *testing.T) {
	order := []string{"Critical", "high", "MEDIUM", "low", "urgent"}
	for i := 1; i < len(order); i++ {
		if SeverityRank(order[i-1]) >= SeverityRank(order[i]) {
			t.Errorf("%s ranks %d, not before %s (%d)", order[i-1], SeverityRank(order[i-1]), order[i], SeverityRank(order[i]))
		}
	}
	if SeverityRank("urgent") != len(Severities) {
		t.Errorf("an unknown severity ranks %d, want %d", SeverityRank("urgent"), len(Severities))
	}
}

// A stored record of a kind Candor writes itself is read by its name (an
// evidence pack names a vulnerability_scan record); no import takes it.
func TestParseStoredKind(t *testing.T) {
	for _, k := range AllKinds() {
		if got, err := ParseStoredKind(" " + strings.ToUpper(string(k))); err != nil || got != k {
			t.Errorf("ParseStoredKind(%q) = %q, %v", k, got, err)
		}
	}
	if got, err := ParseStoredKind("deployments"); err != nil || got != KindDeployment {
		t.Errorf("ParseStoredKind(deployments) = %q, %v", got, err)
	}
	for _, k := range Internal {
		if _, err := ParseKind(string(k)); err == nil {
			t.Errorf("ParseKind(%q) took a kind no import takes", k)
		}
	}
	for _, k := range Internal {
		if _, err := ParseKind(string(k)); err == nil || !strings.Contains(err.Error(), string(k)+" records are Candor's own") {
			t.Errorf("ParseKind(%q) = %v, want it said to be Candor's own", k, err)
		}
	}
	// An import and a read refuse a kind in the same words, every kind
	// listed (they had listed 19 and 21).
	_, ierr := ParseKind("nosuch")
	_, rerr := ParseStoredKind("nosuch")
	if ierr == nil || rerr == nil || ierr.Error() != rerr.Error() {
		t.Errorf("an import refuses nosuch with %v, a read with %v", ierr, rerr)
	}
	_, err := ParseStoredKind("scan")
	if err == nil || !strings.Contains(err.Error(), `unknown kind "scan"`) || !strings.Contains(err.Error(), "vulnerability_scan") || !strings.Contains(err.Error(), "deployment") {
		t.Errorf("ParseStoredKind(scan) error %v, want one naming every kind a record may be of", err)
	}
}

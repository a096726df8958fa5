package evidence

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/store"
)

// The security part of a pack: the control checks made in the period, the
// controls failing at its end per framework, and the vulnerabilities past
// their SLA at its end. Each is read from the dataset by the functions
// compliance_pass_rate and vulnerability_sla_breaches use, under the
// settings in force at the period's end, so the pack lists what those
// metrics count as of the period's end. An empty list says why it is
// empty: "no data" (nothing of the kind recorded up to the period's end;
// for vulnerabilities, no full scan either) is never worded as all
// passing.

// The security files of a pack.
const (
	ControlsFile        = "controls.json"
	VulnerabilitiesFile = "vulnerabilities_past_sla.json"
)

// Data states of a security file: "recorded", or "no data" when no record
// of the kind bears on the period (none at or before its end).
const (
	dataRecorded = "recorded"
	dataNone     = "no data"
)

type controlsDoc struct {
	// Data is "no data" when no control check was recorded at or before
	// the period's end, else "recorded".
	Data    string     `json:"data"`
	AsOf    time.Time  `json:"as_of"`
	Checked checkedDoc `json:"checked_in_period"`
	Failing failingDoc `json:"failing_at_period_end"`
}

type checkedDoc struct {
	Note   string         `json:"note"`
	Count  int            `json:"count"`
	Failed int            `json:"failed"`
	Checks []controlCheck `json:"checks"`
}

type failingDoc struct {
	Note string `json:"note"`
	// Controls are the controls checked at or before the period's end,
	// Failing those whose latest check then failed.
	Controls   int             `json:"controls"`
	Failing    int             `json:"failing"`
	Frameworks []frameworkLine `json:"frameworks"`
}

// frameworkLine is one framework at the period's end: "failed" when any of
// its controls' latest check failed, as compliance_pass_rate reports a
// framework. Controls no check named a framework are under "(none)".
type frameworkLine struct {
	Framework string         `json:"framework"`
	Status    string         `json:"status"`
	Controls  int            `json:"controls"`
	Failing   []controlCheck `json:"failing"`
}

// controlCheck is a check as the pack lists it: the dataset's fields, and
// the name and evidence URL read from the stored record.
type controlCheck struct {
	// Record names the stored record as `candor record` takes it.
	Record string `json:"record"`
	metrics.ControlCheck
	Name        string `json:"name"`
	EvidenceURL string `json:"evidence_url"`
	// Note says when the stored record could not be read (removed since
	// the figures were computed): its name and evidence URL are unknown.
	Note string `json:"note,omitempty"`
}

func newControlCheck(c metrics.ControlCheck) controlCheck {
	return controlCheck{Record: domain.Key{Kind: domain.KindControl, Source: c.Source, ID: c.ID}.Words(), ControlCheck: c}
}

func controls(ds *metrics.Dataset, p Period) controlsDoc {
	doc := controlsDoc{Data: dataRecorded, AsOf: p.To,
		Checked: checkedDoc{Checks: []controlCheck{}}, Failing: failingDoc{Frameworks: []frameworkLine{}}}
	for _, c := range ds.ControlChecks(p.From, p.To) {
		doc.Checked.Checks = append(doc.Checked.Checks, newControlCheck(c))
		if !c.Passed {
			doc.Checked.Failed++
		}
	}
	doc.Checked.Count = len(doc.Checked.Checks)
	states := ds.ControlsAt(p.Last())
	doc.Failing.Controls = len(states)
	byFramework := map[string]*frameworkLine{}
	for _, s := range states {
		if !s.Passed {
			doc.Failing.Failing++
		}
		fws := s.Frameworks
		if len(fws) == 0 {
			fws = []string{metrics.NoneKey}
		}
		for _, f := range fws {
			l := byFramework[f]
			if l == nil {
				l = &frameworkLine{Framework: f, Status: "passed", Failing: []controlCheck{}}
				byFramework[f] = l
			}
			l.Controls++
			if !s.Passed {
				l.Status = "failed"
				l.Failing = append(l.Failing, newControlCheck(s.Latest))
			}
		}
	}
	for _, l := range byFramework {
		doc.Failing.Frameworks = append(doc.Failing.Frameworks, *l)
	}
	slices.SortFunc(doc.Failing.Frameworks, func(a, b frameworkLine) int { return strings.Compare(a.Framework, b.Framework) })

	switch {
	case len(states) == 0:
		doc.Data = dataNone
		doc.Checked.Note = "no data: no control check was recorded at or before the period's end, so nothing is known of the controls (which is not the same as all passing)"
		doc.Failing.Note = doc.Checked.Note
		return doc
	case doc.Checked.Count == 0:
		doc.Checked.Note = "none: no control was checked in the period; the controls' state at its end rests on earlier checks (failing_at_period_end)"
	default:
		doc.Checked.Note = fmt.Sprintf("%d control checks in the period, %d failed", doc.Checked.Count, doc.Checked.Failed)
	}
	if doc.Failing.Failing == 0 {
		doc.Failing.Note = fmt.Sprintf("none failing: each of the %d controls checked at or before the period's end passed its latest check", doc.Failing.Controls)
	} else {
		doc.Failing.Note = fmt.Sprintf("%d of the %d controls checked at or before the period's end failed their latest check", doc.Failing.Failing, doc.Failing.Controls)
	}
	return doc
}

// checkFields reads each listed check's name and evidence URL from its
// stored record (the dataset keeps neither), once per record.
func (doc *controlsDoc) checkFields(ctx context.Context, st store.Store) error {
	read := map[domain.Key]controlCheck{}
	fill := func(c *controlCheck) error {
		k := domain.Key{Kind: domain.KindControl, Source: c.Source, ID: c.ID}
		got, ok := read[k]
		if !ok {
			got = *c
			rec, err := st.Get(ctx, k)
			switch {
			case domain.CodeOf(err) == domain.ENotFound:
				got.Note = "the record is no longer stored: its name and evidence URL are unknown"
			case err != nil:
				return fmt.Errorf("reading control check %s/%s: %w", c.Source, c.ID, err)
			default:
				var body struct {
					Name        string `json:"name"`
					EvidenceURL string `json:"evidence_url"`
				}
				if err := json.Unmarshal(rec.Body, &body); err != nil {
					return fmt.Errorf("reading control check %s/%s: %w", c.Source, c.ID, err)
				}
				got.Name, got.EvidenceURL = body.Name, body.EvidenceURL
			}
			read[k] = got
		}
		c.Name, c.EvidenceURL, c.Note = got.Name, got.EvidenceURL, got.Note
		return nil
	}
	for i := range doc.Checked.Checks {
		if err := fill(&doc.Checked.Checks[i]); err != nil {
			return err
		}
	}
	for _, f := range doc.Failing.Frameworks {
		for i := range f.Failing { // f.Failing shares the document's array
			if err := fill(&f.Failing[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

type vulnerabilitiesDoc struct {
	// Data is "no data" when no vulnerability was opened and no full scan
	// ran at or before the period's end, else "recorded".
	Data string    `json:"data"`
	AsOf time.Time `json:"as_of"`
	Note string    `json:"note"`
	// SLADays is each severity's SLA in force at the period's end, in days.
	SLADays map[string]float64 `json:"sla_days"`
	// Open counts the vulnerabilities open at the period's end, PastSLA
	// those of them past their SLA: vulnerability_sla_breaches as of it.
	Open            int                 `json:"open"`
	PastSLA         int                 `json:"past_sla"`
	Vulnerabilities []vulnerabilityLine `json:"vulnerabilities"`
	// FullScans are the full vulnerability scans (vulnerability_scan
	// records): a full scan says what is open, a clean one that nothing
	// is, so one up to the period's end is data though no vulnerability
	// was recorded (vulnerability_sla_breaches then counts 0, not null).
	FullScans fullScansDoc `json:"full_scans"`
}

// fullScansDoc says how many full scans ran in the period and which was
// the last before its end (in the period or earlier): its time and its
// record (kind, source, id: what `candor record` and the records API
// take), null and "" when none ran by then.
type fullScansDoc struct {
	InPeriod int        `json:"in_period"`
	Last     *time.Time `json:"last"`
	Record   string     `json:"last_record"`
}

type vulnerabilityLine struct {
	Record string `json:"record"`
	metrics.SLABreach
}

func vulnerabilities(ds *metrics.Dataset, p Period) vulnerabilitiesDoc {
	doc := vulnerabilitiesDoc{Data: dataRecorded, AsOf: p.To, SLADays: map[string]float64{}, Vulnerabilities: []vulnerabilityLine{}}
	for sev, d := range ds.Config().VulnerabilitySLAs() {
		doc.SLADays[sev] = d.Hours() / 24
	}
	for _, b := range ds.SLABreaches(p.Last()) {
		doc.Vulnerabilities = append(doc.Vulnerabilities, vulnerabilityLine{Record: domain.Key{Kind: domain.KindVulnerability, Source: b.Source, ID: b.ID}.Words(), SLABreach: b})
	}
	doc.PastSLA = len(doc.Vulnerabilities)
	open, recorded := ds.VulnerabilitiesOpenAt(p.Last())
	doc.Open = open
	scans := ds.FullScansIn(p.From, p.To)
	doc.FullScans.InPeriod = scans.InPeriod
	if scans.LastID != "" {
		doc.FullScans.Last = &scans.Last
		doc.FullScans.Record = domain.Key{Kind: domain.KindVulnerabilityScan, Source: scans.LastSource, ID: scans.LastID}.Words()
	}
	switch {
	case recorded == 0 && doc.FullScans.Last == nil:
		doc.Data = dataNone
		doc.Note = "no data: no vulnerability was recorded as opened, and no full scan ran, at or before the period's end, so nothing is known of them (which is not the same as none past their SLA)"
	case recorded == 0:
		doc.Note = fmt.Sprintf("none: no vulnerability was recorded as opened at or before the period's end, and the full scans found none open (%d in the period; the last at %s, %s)",
			scans.InPeriod, scans.Last.Format(time.RFC3339), doc.FullScans.Record)
	case doc.PastSLA > 0:
		doc.Note = fmt.Sprintf("%d of the %d vulnerabilities open at the period's end were past their SLA", doc.PastSLA, open)
	case open == 0:
		doc.Note = fmt.Sprintf("none: no vulnerability was open at the period's end (the %d recorded before it were fixed by then)", recorded)
	default:
		doc.Note = fmt.Sprintf("none: none of the %d vulnerabilities open at the period's end was past its SLA", open)
	}
	return doc
}

// Security says in a line what the security files hold: the control
// checks of the period, the controls failing at its end, the
// vulnerabilities past their SLA then, or "no control data" and "no
// vulnerability data", never passing. index.md and `candor evidence` say
// it.
func (s Summary) Security() string {
	var b strings.Builder
	if !s.ControlData {
		b.WriteString("no control data (no control check recorded at or before the period's end; not the same as all passing)")
	} else {
		fmt.Fprintf(&b, "%s in the period (%d failed); %d of %s failing at the period's end", plural.Count(s.ControlChecks, "control check"),
			s.ControlChecksFailed, s.ControlsFailing, plural.Count(s.Controls, "control"))
	}
	if !s.VulnerabilityData {
		b.WriteString("; no vulnerability data (none recorded and no full scan at or before the period's end; not the same as none past their SLA)")
	} else {
		past := " past their SLA"
		if s.PastSLA == 1 {
			past = " past its SLA"
		}
		fmt.Fprintf(&b, "; %s%s at the period's end", plural.Counts(s.PastSLA, "vulnerability", "vulnerabilities"), past)
	}
	return b.String()
}

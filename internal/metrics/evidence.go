package metrics

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/candor/candor/internal/domain"
)

// What an evidence pack (package evidence) lists of the releases of a
// period: each production deployment with what the linking rules of SPEC
// §2 say about it as of the period's end. It reads the dataset through the
// walk API and the links, like the formulas, so it agrees with them.

// Release is a production deployment as audit evidence lists it.
type Release struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Service     string    `json:"service"`
	Tier        string    `json:"tier"`
	Environment string    `json:"environment"`
	FinishedAt  time.Time `json:"finished_at"`
	// Status is the deployment's recorded status.
	Status        string `json:"status"`
	ChangeRequest string `json:"change_request"`
	// Changes are the changes it shipped (SPEC §2), in merge order.
	Changes   []ReleaseChange `json:"changes"`
	Emergency bool            `json:"emergency"`
	// RetroValidatedAt is when an emergency change was validated after the
	// fact, if it was by the period's end.
	RetroValidatedAt *time.Time `json:"retro_validated_at"`
	RolledBack       bool       `json:"rolled_back"`
	// Failed says why the release counts as failed (change_failure_rate),
	// "" when it does not.
	Failed    string            `json:"failed"`
	Incidents []ReleaseIncident `json:"incidents"`
}

// ReleaseChange is a change a release shipped, and how it was linked:
// explicit (the deployment lists it) or inferred.
type ReleaseChange struct {
	ID       string    `json:"id"`
	Source   string    `json:"source"`
	MergedAt time.Time `json:"merged_at"`
	Link     string    `json:"link"`
}

// ReleaseIncident is an incident attributed to a release.
type ReleaseIncident struct {
	ID             string     `json:"id"`
	Source         string     `json:"source"`
	Severity       string     `json:"severity"`
	Category       string     `json:"category,omitempty"`
	OpenedAt       time.Time  `json:"opened_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
	CustomerFacing bool       `json:"customer_facing"`
	// Link is how the incident was attributed: explicit or inferred.
	Link string `json:"link"`
	// Postmortem is the post-mortem's state at the period's end:
	// "done", "overdue", "due" (not yet overdue), or "not required" (not
	// customer-facing, or not resolved).
	Postmortem     string     `json:"postmortem"`
	PostmortemDue  *time.Time `json:"postmortem_due_at"`
	PostmortemDone *time.Time `json:"postmortem_done_at"`
}

// Releases returns the production deployments (any status) finishing in
// [from, to), in finishing order (ties by source and id), as known at to.
func (d *Dataset) Releases(from, to time.Time) []Release {
	rows := d.prodBetween(from.UnixNano(), to.UnixNano())
	out := make([]Release, 0, len(rows))
	for i := range rows {
		out = append(out, d.release(d.depOf(rows[i].i), to.UnixNano()))
	}
	slices.SortFunc(out, byFinish)
	return out
}

// EmergencyChanges returns every emergency production deployment finished
// before to (emergency_retro_overdue looks at all of them, whenever they
// happened), ordered as Releases.
func (d *Dataset) EmergencyChanges(to time.Time) []Release {
	var out []Release
	for x := range d.emergencies() {
		if x.Finished < to.UnixNano() {
			out = append(out, d.release(x, to.UnixNano()))
		}
	}
	slices.SortFunc(out, byFinish)
	return out
}

// byFinish orders releases by finishing time, ties by source and id.
func byFinish(a, b Release) int {
	return cmp.Or(a.FinishedAt.Compare(b.FinishedAt), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
}

var statusNames = [...]string{stSuccess: "success", stFailure: "failure", stRolledBack: "rolled_back"}

func (d *Dataset) release(x *Dep, asOf int64) Release {
	r := Release{
		ID: d.str(x.id), Source: d.str(x.src), Service: d.depService(x), Tier: d.ServiceAttr(d.depService(x), "tier"), Environment: d.str(x.env),
		FinishedAt: time.Unix(0, x.Finished).UTC(), Status: statusNames[x.Status], ChangeRequest: d.strs.str(x.cr), // "" for none (code 0)
		Changes: []ReleaseChange{}, Emergency: x.Emergency, RolledBack: d.rolledBack(x, asOf),
		Failed: d.failed(x, asOf), Incidents: []ReleaseIncident{},
	}
	d.changesOf(x, asOf, func(c *Chg, link string) {
		r.Changes = append(r.Changes, ReleaseChange{ID: c.ID, Source: c.Source, MergedAt: time.Unix(0, c.Merged).UTC(), Link: link})
	})
	slices.SortFunc(r.Changes, func(a, b ReleaseChange) int {
		return cmp.Or(a.MergedAt.Compare(b.MergedAt), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	if v := d.retroValid(x); v != 0 && v <= asOf {
		r.RetroValidatedAt = utcPtr(v)
	}
	for _, i := range d.attributedIncidents(x, asOf) {
		_, link, _ := d.IncidentDeploymentAsOf(i, asOf)
		ri := ReleaseIncident{ID: d.str(i.id), Source: d.str(i.src), Severity: "P" + string(rune('0'+i.Severity)), Category: d.str(i.category), OpenedAt: time.Unix(0, i.Opened).UTC(),
			CustomerFacing: i.CustomerFacing, Link: link, Postmortem: "not required"}
		if i.Resolved != 0 && i.Resolved <= asOf {
			ri.ResolvedAt = utcPtr(i.Resolved)
		}
		if i.PMDone != 0 && i.PMDone <= asOf {
			ri.PostmortemDone = utcPtr(i.PMDone)
		}
		if due := i.due(); i.CustomerFacing && ri.ResolvedAt != nil && due != 0 {
			ri.PostmortemDue = utcPtr(due)
			switch {
			case ri.PostmortemDone != nil:
				ri.Postmortem = "done"
			case due <= asOf:
				ri.Postmortem = "overdue"
			default:
				ri.Postmortem = "due"
			}
		}
		r.Incidents = append(r.Incidents, ri)
	}
	slices.SortFunc(r.Incidents, func(a, b ReleaseIncident) int {
		return cmp.Or(a.OpenedAt.Compare(b.OpenedAt), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return r
}

func utcPtr(ns int64) *time.Time {
	t := time.Unix(0, ns).UTC()
	return &t
}

// ControlCheck is a control check (a `control` record) as audit evidence
// lists it: what the dataset keeps of it. Its name and evidence URL are
// not kept (the dataset holds no URLs); the pack reads them from the
// stored record by its source and id.
type ControlCheck struct {
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Control   string    `json:"control"`
	Framework string    `json:"framework"`
	CheckedAt time.Time `json:"checked_at"`
	Passed    bool      `json:"passed"`
}

func (d *Dataset) controlCheck(c *controlRow) ControlCheck {
	return ControlCheck{ID: d.str(c.id), Source: d.str(c.source), Control: d.str(c.control), Framework: d.str(c.framework),
		CheckedAt: time.Unix(0, c.checked).UTC(), Passed: c.passed}
}

// ControlChecks returns every control check made in [from, to), in
// checking order (ties by source and id).
func (d *Dataset) ControlChecks(from, to time.Time) []ControlCheck {
	var out []ControlCheck
	for c := range d.controls().in(from.UnixNano(), to.UnixNano()) {
		out = append(out, d.controlCheck(c))
	}
	slices.SortFunc(out, func(a, b ControlCheck) int {
		return cmp.Or(a.CheckedAt.Compare(b.CheckedAt), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// ControlState is a control as of a time, as compliance_pass_rate reads
// it: its latest check at or before then, whether it passed, and the
// frameworks any of its checks up to then named (sorted; none for a
// control no check gave a framework).
type ControlState struct {
	Control    string
	Frameworks []string
	Passed     bool
	Latest     ControlCheck
}

// ControlsAt returns every control checked at or before asOf, by control,
// each judged as compliance_pass_rate judges it as of asOf (the same
// function reads the checks for both).
func (d *Dataset) ControlsAt(asOf time.Time) []ControlState {
	latest := d.latestControlChecks(asOf.UnixNano())
	out := make([]ControlState, 0, len(latest))
	for _, c := range latest {
		s := ControlState{Control: c.name, Passed: c.state.passed, Frameworks: []string{}, Latest: d.controlCheck(c.check)}
		for f := range c.state.frameworks {
			s.Frameworks = append(s.Frameworks, f)
		}
		slices.Sort(s.Frameworks)
		out = append(out, s)
	}
	return out
}

// SLABreach is a vulnerability past its SLA at a time, as
// vulnerability_sla_breaches counts it: its age and SLA in days (of 24 h,
// to the hundredth: a quarter of an hour), and by how much the age exceeds
// it; whether it is known to be exploited and in which package.
type SLABreach struct {
	ID          string    `json:"id"`
	Source      string    `json:"source"`
	Severity    string    `json:"severity"`
	Service     string    `json:"service"`
	CVE         string    `json:"cve,omitempty"`
	Package     string    `json:"package,omitempty"`
	KEV         bool      `json:"kev"`
	OpenedAt    time.Time `json:"opened_at"`
	DaysOpen    float64   `json:"days_open"`
	SLADays     float64   `json:"sla_days"`
	DaysPastSLA float64   `json:"days_past_sla"`
}

// SLABreaches returns the vulnerabilities open at asOf past their SLA
// under the dataset's settings — those vulnerability_sla_breaches counts
// as of asOf, by the same function — most critical first, then the
// furthest past it (ties by source and id).
func (d *Dataset) SLABreaches(asOf time.Time) []SLABreach {
	var out []SLABreach
	d.eachSLABreach(Query{AsOf: asOf}, func(v *vulnRow, age, sla int64) {
		out = append(out, SLABreach{ID: d.str(v.id), Source: d.str(v.source), Severity: d.str(v.severity), Service: d.str(v.service),
			CVE: d.str(v.cve), Package: d.str(v.pkgCode()), KEV: v.kev(), OpenedAt: time.Unix(0, v.opened).UTC(),
			DaysOpen: hundredths(days(age)), SLADays: days(sla), DaysPastSLA: hundredths(days(age - sla))})
	})
	slices.SortFunc(out, func(a, b SLABreach) int {
		return cmp.Or(cmp.Compare(domain.SeverityRank(a.Severity), domain.SeverityRank(b.Severity)), cmp.Compare(b.DaysPastSLA, a.DaysPastSLA),
			cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// VulnerabilitiesOpenAt counts the vulnerabilities open at asOf (opened by
// then, not fixed by then), and OpenedThrough those opened at or before
// it, fixed or not: an evidence pack says "no data" when none was.
func (d *Dataset) VulnerabilitiesOpenAt(asOf time.Time) (open, openedThrough int) {
	t := asOf.UnixNano()
	for v := range d.vulns().all() {
		if v.opened > t {
			continue
		}
		openedThrough++
		if vulnOpenAt(v, t) {
			open++
		}
	}
	return open, openedThrough
}

// hundredths rounds days to the hundredth for a reader: an age worked out
// as of the period's last instant is a nanosecond short of a whole day
// (21.99999999999999).
func hundredths(x float64) float64 { return math.Round(x*100) / 100 }

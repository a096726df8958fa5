package metrics

import (
	"sort"
	"strings"
)

// Security & Risk (SPEC §3).

// openAt reports whether a vulnerability is open at asOf: opened by then
// and not fixed by then (a fix stamped after as_of has not happened).
func vulnOpenAt(v *vulnRow, asOf int64) bool {
	if v.opened > asOf {
		return false
	}
	f := v.fixed
	return f == 0 || f > asOf
}

// eachOpenVuln calls fn for the vulnerabilities in scope open at as_of.
// Point in time: an old unfixed vulnerability has an old event time, so
// this scans every vulnerability record.
func (d *Dataset) eachOpenVuln(q Query, fn func(v *vulnRow)) {
	asOf := q.end()
	for v := range d.vulns().all() {
		if vulnOpenAt(v, asOf) && d.matchServiceCode(q, v.service) {
			fn(v)
		}
	}
}

// matchVuln reports whether a vulnerability passes the scope: its
// service's filters and its package (a breakdown of the organisation's
// metrics over vulnerabilities; the built-ins offer none).
func (d *Dataset) matchVuln(q Query, v *vulnRow) bool {
	return d.matchCode(q, "package", v.pkgCode()) && d.matchServiceCode(q, v.service)
}

// vulnDimValues adds the packages the vulnerabilities in q's scope name.
func vulnDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	if dim != "package" {
		return
	}
	for v := range d.vulns().all() {
		if d.matchVuln(q, v) {
			addDimValue(set, d.str(v.pkgCode()))
		}
	}
}

func openVulns(severity string) Func {
	return func(d *Dataset, q Query) Result {
		var r Result
		d.eachOpenVuln(q, func(v *vulnRow) {
			if strings.EqualFold(d.str(v.severity), severity) {
				r.Count++
				// No note: the records' cve column names it, and noting
				// the CVE put every finding with one "first", ahead of a
				// code scanner's (SARIF has none), as if it were marked.
				r.rowRef(q, d, v, nil, "")
			}
		})
		r.Value = num(float64(r.Count))
		return r
	}
}

func timeToPatchCritical(d *Dataset, q Query) Result {
	var r Result
	var spans []float64
	start, end := q.start(), q.end()
	for v := range d.vulns().from(start) {
		f := v.fixed
		// Opened after as_of: it does not exist yet, fixed or not.
		if f < start || f >= end || v.opened > end || !strings.EqualFold(d.str(v.severity), "critical") || !d.matchServiceCode(q, v.service) {
			continue
		}
		dd := days(f - v.opened)
		spans = append(spans, dd)
		r.rowRef(q, d, v, refValue(q, dd), "")
	}
	r.Count = len(spans)
	r.Value = median(spans)
	return r
}

func vulnerabilitySLABreaches(d *Dataset, q Query) Result {
	var r Result
	bySeverity := map[string]int{}
	d.eachSLABreach(q, func(v *vulnRow, age, _ int64) {
		sev := d.str(v.severity)
		r.Count++
		bySeverity[strings.ToLower(sev)]++
		r.rowRef(q, d, v, refValue(q, days(age)), "age in days; SLA "+sev)
	})
	r.Value = num(float64(r.Count))
	r.Detail.BySeverity = bySeverity
	return r
}

// eachSLABreach calls fn for the vulnerabilities in scope open at as_of
// whose age (as_of − opened_at, exact) exceeds their severity's SLA under
// the settings, with that age and SLA: vulnerability_sla_breaches counts
// them and an evidence pack lists them (SLABreaches), so the rule is
// written once.
func (d *Dataset) eachSLABreach(q Query, fn func(v *vulnRow, age, sla int64)) {
	asOf := q.end()
	slas := d.cfg.vulnSLAs()
	d.eachOpenVuln(q, func(v *vulnRow) {
		sla, ok := slas[strings.ToLower(d.str(v.severity))]
		if !ok {
			return
		}
		age := asOf - v.opened
		// "Exceeds": an age exactly equal to the SLA is not a breach.
		if age <= int64(sla) {
			return
		}
		fn(v, age, int64(sla))
	})
}

// securityWindow is the fixed look-back of security_incidents_90d; the
// query's window does not change it.
const securityWindow = 90 * day

func securityIncidents90d(d *Dataset, q Query) Result {
	var r Result
	end := q.end()
	from30 := end - int64(30*day)
	last30 := 0
	for _, i := range d.openedBetween(end-int64(securityWindow), end) {
		if !strings.EqualFold(d.str(i.category), "security") || !d.matchInc(q, i) {
			continue
		}
		r.Count++
		if i.Opened >= from30 {
			last30++
		}
		r.incRef(q, d, i, nil, "")
	}
	r.Value = num(float64(r.Count))
	r.Detail.LastThirtyDays = ptr(last30)
	return r
}

// controlState is a control's latest check at or before as_of.
type controlState struct {
	at         int64
	passed     bool
	frameworks map[string]bool
}

func frameworkDimValues(d *Dataset, dim string, q Query, set map[string]bool) {
	if dim != "framework" {
		return
	}
	if q.Scope.IsZero() {
		for c := range d.controls().all() {
			addDimValue(set, d.str(c.framework))
		}
		return
	}
	// A control belongs to every framework any of its checks names, so the
	// frameworks within a scope are all those of the controls in it.
	controls := map[string]*controlState{}
	for c := range d.controls().all() {
		name := d.str(c.control)
		s := controls[name]
		if s == nil {
			s = &controlState{frameworks: map[string]bool{}}
			controls[name] = s
		}
		if c.framework != 0 {
			s.frameworks[d.str(c.framework)] = true
		}
	}
	for _, s := range controls {
		if !controlInScope(q, s) {
			continue
		}
		if len(s.frameworks) == 0 {
			set[NoneKey] = true
		}
		for f := range s.frameworks {
			set[f] = true
		}
	}
}

// controlInScope reports whether a control belongs to every framework the
// scope names (a control of no framework belongs to "(none)").
func controlInScope(q Query, s *controlState) bool {
	for _, f := range q.Scope.Filters() {
		if f.Dim == "framework" && !s.frameworks[f.Value] && (f.Value != NoneKey || len(s.frameworks) > 0) {
			return false
		}
	}
	return true
}

// compliancePassRate is point in time: it reads every check at or before
// as_of (the window does not limit it). A control's frameworks are those
// named by any of its checks up to as_of; in a framework scope only the
// controls of that framework count. Several checks at the same latest
// instant: any failure fails the control.
func compliancePassRate(d *Dataset, q Query) Result {
	var r Result
	passed := 0
	frameworks := map[string]string{}
	for _, c := range d.latestControlChecks(q.end()) {
		s := c.state
		if !controlInScope(q, s) {
			continue
		}
		r.Count++
		if s.passed {
			passed++
		}
		for f := range s.frameworks {
			if !matchAttr(q, "framework", f) {
				continue
			}
			if !s.passed {
				frameworks[f] = "failed"
			} else if frameworks[f] == "" {
				frameworks[f] = "passed"
			}
		}
		// Only a failing control is noted, so the records table opens with
		// the failures (scorecard.NotedFirst): every check noted "passed"
		// or "failed" had left one failure among 40 controls in their
		// alphabetical order. Its control column names it.
		note := ""
		if !s.passed {
			note = "failed"
		}
		r.rowRef(q, d, c.check, nil, note)
	}
	r.Value = share(passed, r.Count)
	r.Detail.Frameworks = frameworks
	r.Detail.Failing = ptr(r.Count - passed)
	return r
}

// latestControl is a control's state at as_of and the check it rests on.
type latestControl struct {
	name  string
	state *controlState
	check *controlRow
}

// latestControlChecks is every control checked at or before asOf with its
// latest check, by control name: its state is that check's (several checks
// at the same latest instant: any failure fails the control, and the
// failing one is the check it rests on), its frameworks those any of its
// checks up to asOf named. compliance_pass_rate reads it, and so does an
// evidence pack's failing controls (ControlsAt).
func (d *Dataset) latestControlChecks(asOf int64) []latestControl {
	controls := map[string]*controlState{}
	ids := map[string]*controlRow{}
	for c := range d.controls().through(asOf) {
		name := d.str(c.control)
		s := controls[name]
		if s == nil {
			s = &controlState{at: -1 << 63, frameworks: map[string]bool{}}
			controls[name] = s
		}
		if c.framework != 0 {
			s.frameworks[d.str(c.framework)] = true
		}
		t := c.checked
		switch {
		case t > s.at:
			s.at, s.passed = t, c.passed
			ids[name] = c
		case t == s.at && !c.passed:
			s.passed = false
			ids[name] = c
		}
	}
	out := make([]latestControl, 0, len(controls))
	for n, s := range controls {
		out = append(out, latestControl{name: n, state: s, check: ids[n]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

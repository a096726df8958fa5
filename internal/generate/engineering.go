package generate

import (
	"math"
	"time"
)

// Severity P0…P4: how often, how long to resolve (median) and what share
// of requests fail while it is open.
var (
	sevP      = []float64{0.0004, 0.0015, 0.07, 0.40, 0.5281}
	sevTTR    = []int64{72 * minute, 90 * minute, 2 * hour, 150 * minute, 4 * hour}
	sevErr    = []float64{0.5, 0.15, 0.03, 0.004, 0.001}
	sevLabels = []string{"P0", "P1", "P2", "P3", "P4"}
)

func (g *gen) serviceDay(s *service, d int64, wd int) {
	for _, fin := range g.sortedTimes(d, g.poisson(s.depRate*deployWD[wd]), g.workOffset) {
		if fin < g.end {
			g.deploy(s, d, fin)
		}
	}
	// Incidents that no deployment caused; many still land within 24 h of
	// one, which is exactly the ambiguity inference has to live with.
	n := g.poisson(s.incRate * incWD[wd])
	for i := 0; i < n; i++ {
		var t int64
		if g.chance(0.5) {
			t = d + g.workOffset()
		} else {
			t = d + g.r.Int64N(day)
		}
		if t < g.end {
			g.incident(s, d, t, -1, 0)
		}
	}
}

func (g *gen) deploy(s *service, d, fin int64) {
	e := &g.e
	prod := !g.chance(stagingShare)
	n := g.nDep
	g.nDep++
	start := fin - g.dur(12*minute, 0.6, 3*minute, 60*minute)
	status := "success"
	// Planted for the insights (docs/insights.md): production deployments
	// finishing on a Friday from 15:00 UTC fail three times as often (36 %
	// against 12 %), which deploy_time_risk must find.
	failFrom := 0.88
	if t := time.Unix(fin, 0).UTC(); prod && t.Weekday() == time.Friday && t.Hour() >= 15 {
		failFrom = 0.64
	}
	if u := g.f(); u >= 0.95 {
		status = "rolled_back"
	} else if u >= failFrom {
		status = "failure"
	}
	hotfix := prod && g.chance(0.04)
	emergencyP := 0.005
	if hotfix {
		emergencyP = 0.12
	}
	emergency := prod && g.chance(emergencyP)

	var firstPR, nPR int64
	list := false
	var cr int64
	if prod {
		s.prev = s.ver
		if hotfix {
			s.ver[2]++
			nPR = 1
			if g.chance(0.3) {
				nPR = 2
			}
		} else {
			s.ver[1]++
			s.ver[2] = 0
			nPR = 1 + int64(g.poisson(changesPerPlanned))
		}
		firstPR = s.prNext
		s.prNext += nPR
		for i := int64(0); i < nPR; i++ {
			g.change(s, firstPR+i, fin, hotfix)
		}
		// A failed deployment's changes ship with a later one, found by
		// inference; only deployments that reached production list them.
		list = status != "failure" && g.chance(0.65)
		if g.chance(0.85) {
			g.nCR++
			cr = 12000 + g.nCR
		}
	}

	e.begin(kDeployment)
	e.ref("id", "dep-", n, 7)
	e.str("service", s.name)
	if prod {
		e.str("environment", s.env)
	} else {
		e.str("environment", "staging")
	}
	e.ts("started_at", start)
	e.ts("finished_at", fin)
	if prod && g.chance(0.04) {
		if c := fin + g.dur(6*minute, 0.6, minute, hour); c < g.end {
			e.ts("cutover_at", c)
		}
	}
	e.str("status", status)
	e.open("version")
	if prod {
		e.b = appendVersion(e.b, s.ver)
	} else {
		v := s.ver
		v[1]++
		v[2] = 0
		e.b = appendVersion(e.b, v)
		e.b = append(e.b, "-rc."...)
		e.b = appendPadded(e.b, 1+n%7, 1)
	}
	e.close()
	e.open("commit")
	e.b = g.appendHex(e.b, 40)
	e.close()
	if list {
		e.key("changes")
		e.b = append(e.b, '[')
		for i := int64(0); i < nPR; i++ {
			if i > 0 {
				e.b = append(e.b, ',')
			}
			e.b = append(e.b, '"')
			e.b = appendChangeID(e.b, s.name, firstPR+i)
			e.b = append(e.b, '"')
		}
		e.b = append(e.b, ']')
	}
	if cr > 0 {
		e.ref("change_request", "CHG", cr, 7)
	}
	if prod {
		if hotfix {
			e.str("reason", "hotfix")
		} else {
			e.str("reason", "planned")
		}
	}
	if emergency {
		e.boolean("emergency", true)
		// Most emergency changes are validated within the 72 h the policy
		// allows, some late, a few never: the overdue count must show.
		var retro int64 = -1
		if u := g.f(); u < 0.92 {
			retro = fin + g.dur(20*hour, 0.7, hour, 71*hour)
		} else if u < 0.99 {
			retro = fin + 73*hour + g.r.Int64N(8*day)
		}
		if retro >= 0 && retro < g.end {
			e.ts("retro_validated_at", retro)
		}
	}
	risk := 30 + 18*g.r.NormFloat64()
	if hotfix || emergency {
		risk += 25
	}
	e.int("risk_score", int64(min(max(risk, 1), 99)))
	e.num("coverage", min(max(0.84+0.07*g.r.NormFloat64(), 0.4), 0.99), 2)
	e.open("pipeline_url")
	e.b = append(e.b, "https://ci.acme.example/"...)
	e.b = append(e.b, s.repo...)
	e.b = append(e.b, "/pipelines/"...)
	e.b = appendPadded(e.b, 100000+n, 1)
	e.close()
	e.end()

	if !prod || status == "failure" {
		return
	}
	s.push(n, fin)
	if status == "rolled_back" && g.chance(0.5) {
		g.rollback(s, n, fin+g.dur(20*minute, 0.5, 5*minute, 2*hour), cr)
	} else if status == "success" && g.chance(0.005) {
		g.rollback(s, n, fin+g.dur(3*hour, 0.8, 30*minute, 20*hour), cr)
	}
	p := 0.065
	if status == "rolled_back" {
		p = 0.4
	}
	if g.chance(p) {
		if t := fin + g.dur(150*minute, 1.1, 2*minute, day-minute); t < g.end {
			g.incident(s, d, t, n, cr)
		}
	}
	// Planted: recommendations' releases bring a ticket wave six times
	// as often as the others' (canary_candidate must name it).
	spikeP := 0.02
	if s.baseService.name == "recommendations" {
		spikeP = 0.12
	}
	if g.chance(spikeP) {
		g.spike(s, n, fin)
	}
}

// rollback redeploys the previous version; rollback_of names the
// deployment it undoes.
func (g *gen) rollback(s *service, of, fin, cr int64) {
	if fin >= g.end {
		return
	}
	e := &g.e
	n := g.nDep
	g.nDep++
	e.begin(kDeployment)
	e.ref("id", "dep-", n, 7)
	e.str("service", s.name)
	e.str("environment", s.env)
	e.ts("started_at", fin-g.dur(6*minute, 0.5, 2*minute, 30*minute))
	e.ts("finished_at", fin)
	status := "success"
	if g.chance(0.04) {
		status = "failure"
	}
	e.str("status", status)
	e.open("version")
	e.b = appendVersion(e.b, s.prev)
	e.close()
	e.open("commit")
	e.b = g.appendHex(e.b, 40)
	e.close()
	if cr > 0 {
		e.ref("change_request", "CHG", cr, 7)
	}
	e.str("reason", "rollback")
	e.ref("rollback_of", "dep-", of, 7)
	e.int("risk_score", int64(10+g.intn(20)))
	e.open("pipeline_url")
	e.b = append(e.b, "https://ci.acme.example/"...)
	e.b = append(e.b, s.repo...)
	e.b = append(e.b, "/pipelines/"...)
	e.b = appendPadded(e.b, 100000+n, 1)
	e.close()
	e.end()
	if status == "success" {
		s.push(n, fin)
	}
}

func appendVersion(b []byte, v [3]int64) []byte {
	b = appendPadded(b, v[0], 1)
	b = append(b, '.')
	b = appendPadded(b, v[1], 1)
	b = append(b, '.')
	return appendPadded(b, v[2], 1)
}

func appendChangeID(b []byte, svc string, pr int64) []byte {
	b = append(b, svc...)
	b = append(b, "-pr-"...)
	return appendPadded(b, pr, 1)
}

func (g *gen) change(s *service, pr, fin int64, hotfix bool) {
	e := &g.e
	var merged int64
	if hotfix {
		merged = fin - g.dur(90*minute, 0.8, 10*minute, 12*hour)
	} else {
		merged = fin - g.dur(5*hour, 1.0, 15*minute, 6*day)
	}
	e.begin(kChange)
	e.open("id")
	e.b = appendChangeID(e.b, s.name, pr)
	e.close()
	e.str("service", s.name)
	e.ts("merged_at", merged)
	var opened int64
	if g.chance(0.8) {
		authored := merged - g.dur(22*hour, 1.0, 10*minute, 20*day)
		e.ts("authored_at", authored)
		opened = authored + int64(float64(merged-authored)*g.uni(0.1, 0.7))
	} else {
		opened = merged - g.dur(8*hour, 1.0, 5*minute, 5*day)
	}
	e.ts("opened_at", opened)
	if at, ok := g.firstReview(s, pr, opened, merged); ok {
		e.ts("first_review_at", at)
	}
	e.open("title")
	if hotfix {
		e.b = append(e.b, "Hotfix: "...)
	}
	e.b = append(e.b, g.pick(changeVerbs)...)
	e.b = append(e.b, ' ')
	e.b = append(e.b, g.pick(changeObjects)...)
	e.close()
	e.str("author", g.pick(s.engineers))
	e.open("commit")
	e.b = g.appendHex(e.b, 40)
	e.close()
	e.open("url")
	e.b = append(e.b, "https://github.com/acme/"...)
	e.b = append(e.b, s.repo...)
	e.b = append(e.b, "/pull/"...)
	e.b = appendPadded(e.b, pr, 1)
	e.close()
	e.end()
}

// reviewWait is, per team, the usual share of a pull request's open time
// spent waiting for its first review: some teams pick reviews up at once,
// others let them queue, so the Engineering view's stages differ by team.
var reviewWait = map[string]float64{"storefront": 0.3, "payments": 0.65, "discovery": 0.15, "identity": 0.45, "platform": 0.25}

// firstReview is a change's first review by someone other than its author.
// It is derived from the change's number, not drawn: the random stream, and
// so every other generated record, is what it was before reviews were
// generated. One pull request in eight merges without a review, and one in
// twenty-five is first commented on after the merge (SPEC §1 allows it;
// the review time metric drops its negative span).
func (g *gen) firstReview(s *service, pr, opened, merged int64) (int64, bool) {
	h := uint64(14695981039346656037) // FNV-1a of the service, then the number mixed in
	for i := 0; i < len(s.name); i++ {
		h = (h ^ uint64(s.name[i])) * 1099511628211
	}
	h = (h ^ uint64(pr)) * 0x9E3779B97F4A7C15
	h ^= h >> 31
	switch {
	case h%8 == 0:
		return 0, false
	case h%25 == 1:
		at := merged + int64(1+(h>>8)%36)*hour
		return at, at < g.end
	}
	share := reviewWait[s.baseService.team] * (0.5 + float64((h>>16)%1000)/1000)
	return opened + int64(float64(merged-opened)*min(share, 0.95)), true
}

// incident writes one incident opened at opened on service s; cause is the
// deployment that caused it (-1 for none) and cr that deployment's change
// request (0 for none).
func (g *gen) incident(s *service, d, opened, cause, cr int64) {
	e := &g.e
	n := g.nInc
	g.nInc++
	sev := g.weighted(sevP)
	ci := g.weightedCat()
	cat, catErr := "security", 0.2
	if ci >= 0 {
		cat, catErr = incidentCategories[ci].name, incidentCategories[ci].err
	} else {
		sev = 1 + g.intn(2)
	}
	origin := "monitoring"
	var detect int64
	switch u := g.f(); {
	case ci < 0 || u < 0.12:
		origin = "internal"
		detect = g.dur(10*minute, 0.8, minute, 3*hour)
	case u < 0.30:
		origin = "customer"
		detect = g.dur(25*minute, 0.7, 3*minute, 6*hour)
	default:
		detect = g.dur(2*minute, 0.8, 0, 30*minute)
	}
	ttr := detect + g.dur(sevTTR[sev], 1.0, 5*minute, 30*hour)
	resolved := opened + ttr
	cf := s.cf && (sev <= 2 || g.chance(0.25))

	e.begin(kIncident)
	e.ref("id", "INC", n, 7)
	e.str("service", s.name)
	e.str("severity", sevLabels[sev])
	e.ts("opened_at", opened)
	if opened+detect < g.end {
		e.ts("detected_at", opened+detect)
	}
	if resolved < g.end {
		e.ts("resolved_at", resolved)
	}
	if cause >= 0 {
		// Most deployment-caused incidents are linked by inference; some
		// responders record the cause, by deployment or change request.
		if u := g.f(); u < 0.2 {
			e.ref("caused_by", "dep-", cause, 7)
		} else if u < 0.35 && cr > 0 {
			e.ref("caused_by_change_request", "CHG", cr, 7)
		}
	}
	e.boolean("customer_facing", cf)
	e.str("origin", origin)
	e.str("category", cat)
	e.open("fingerprint")
	e.b = append(e.b, s.name...)
	e.b = append(e.b, ':')
	if g.chance(0.13) {
		e.b = append(e.b, s.recurring[g.intn(len(s.recurring))]...)
	} else {
		e.b = append(e.b, cat...)
		e.b = append(e.b, ':')
		e.b = g.appendHex(e.b, 8)
	}
	e.close()
	if cf && resolved < g.end {
		due := resolved + 5*day
		if due < g.end {
			e.ts("postmortem_due_at", due)
		}
		var done int64 = -1
		if u := g.f(); u < 0.82 {
			done = resolved + day + g.r.Int64N(4*day)
		} else if u < 0.92 {
			done = due + day + g.r.Int64N(11*day)
		}
		if done >= 0 && done < g.end {
			e.ts("postmortem_done_at", done)
		}
	}
	e.open("url")
	e.b = append(e.b, "https://acme.pagerduty.com/incidents/INC"...)
	e.b = appendPadded(e.b, n, 7)
	e.close()
	e.end()

	// Responders mitigate before they resolve: errors stop within hours.
	g.addImpact(s, d, opened, opened+min(ttr, 4*hour), sevErr[sev]*catErr)
}

// weightedCat returns an index into incidentCategories, or -1 for a
// security incident (rare: a handful a year at scale 1).
func (g *gen) weightedCat() int {
	if g.chance(0.0005) {
		return -1
	}
	u := g.f() * 100
	for i, c := range incidentCategories {
		if u < c.w {
			return i
		}
		u -= c.w
	}
	return 0
}

func (g *gen) addImpact(s *service, d, from, to int64, rate float64) {
	for t := from; t < to; {
		h := (t - d) / hour
		if h < 0 || h >= int64(len(s.impact)) {
			return
		}
		next := min(d+(h+1)*hour, to)
		s.impact[h] += rate * float64(next-t) / float64(hour)
		t = next
	}
}

// sliDay writes each service's availability for day d; on the last, still
// running day it writes completed hours instead, so the newest SLI ends
// within an hour or two of End. A few services report every day by the
// hour (hourlySLIs), so business-hours availability has periods that lie
// inside a business day; a few more are watched by synthetic latency
// checks (latencySLIs). Both derive from the same draws as the daily
// figure, so the rest of the data is as it was.
func (g *gen) sliDay(d int64, wd int) {
	for _, s := range g.svcs {
		total := s.reqPerDay * trafficWD[wd] * g.logn(1, 0.05)
		base := s.baseErr * g.logn(1, 0.35)
		if latencySLIs[s.name] && d < g.last {
			slow := total * 0.004
			for h := 0; h < 24; h++ {
				slow += 3 * total * hourShare[h] * math.Min(s.impact[h], 1)
			}
			t := int64(total)
			g.writeSLI(s, d, d+day, t, t-min(int64(math.Round(slow)), t), false, "latency")
		}
		if d < g.last && !hourlySLIs[s.name] {
			bad := total * base
			for h := 0; h < 24; h++ {
				bad += total * hourShare[h] * math.Min(s.impact[h], 1)
			}
			t := int64(total)
			g.writeSLI(s, d, d+day, t, t-min(int64(math.Round(bad)), t), false, "availability")
			s.monthReq += t
			continue
		}
		if d < g.last {
			s.monthReq += int64(total)
		}
		for h := int64(0); h < 24 && d+(h+1)*hour < g.end; h++ {
			th := total * hourShare[h]
			bad := th*base + th*math.Min(s.impact[h], 1)
			t := int64(th)
			g.writeSLI(s, d+h*hour, d+(h+1)*hour, t, t-min(int64(math.Round(bad)), t), true, "availability")
		}
	}
}

// hourlySLIs are the services that report availability by the hour every
// day; latencySLIs those with a daily synthetic latency check (the base
// copies only, so larger scales do not multiply them).
var (
	hourlySLIs  = map[string]bool{"checkout": true, "payments": true}
	latencySLIs = map[string]bool{"checkout": true, "search": true, "api-gateway": true}
)

func (g *gen) writeSLI(s *service, from, to, total, good int64, hourly bool, objective string) {
	e := &g.e
	e.begin(kSLI)
	e.open("id")
	if objective == "latency" {
		e.b = append(e.b, "lat-"...)
	} else {
		e.b = append(e.b, "sli-"...)
	}
	e.b = append(e.b, s.name...)
	e.b = append(e.b, '-')
	e.b = appendDate(e.b, floorDiv(from, day))
	if hourly {
		h := (from % day) / hour
		e.b = append(e.b, 'T', byte('0'+h/10), byte('0'+h%10))
	}
	e.close()
	e.str("service", s.name)
	e.ts("period_start", from)
	e.ts("period_end", to)
	e.int("good", good)
	e.int("total", total)
	e.str("objective", objective)
	e.end()
}

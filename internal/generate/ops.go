package generate

import "math"

// Vulnerability severities: share of findings, share eventually fixed and
// the median time to fix. Unfixed and slow ones produce the SLA breaches.
var (
	vulnSev       = []string{"critical", "high", "medium", "low"}
	vulnSevP      = []float64{0.04, 0.18, 0.45, 0.33}
	vulnFixP      = []float64{0.98, 0.97, 0.9, 0.8}
	vulnFixMedian = []int64{84 * hour, 8 * day, 30 * day, 45 * day}
	vulnKEVP      = []float64{0.35, 0.08, 0.01, 0}
)

func (g *gen) vulnsDay(d int64) {
	n := g.poisson(g.vulnPerDay)
	for i := 0; i < n; i++ {
		if t := d + g.r.Int64N(day); t < g.end {
			g.vulnerability(t)
		}
	}
}

func (g *gen) vulnerability(opened int64) {
	e := &g.e
	n := g.nVuln
	g.nVuln++
	sev := g.weighted(vulnSevP)
	s := g.svcs[g.intn(len(g.svcs))]
	e.begin(kVulnerability)
	e.ref("id", "vuln-", n, 7)
	e.str("severity", vulnSev[sev])
	e.ts("opened_at", opened)
	e.str("service", s.name)
	if g.chance(vulnFixP[sev]) {
		if fixed := opened + g.dur(vulnFixMedian[sev], 0.8, 4*hour, 300*day); fixed < g.end {
			e.ts("fixed_at", fixed)
		}
	}
	y, _, _ := civil(floorDiv(opened, day))
	cve := make([]byte, 0, 20)
	cve = append(cve, "CVE-"...)
	cve = appendPadded(cve, y-int64(g.intn(3)), 4)
	cve = append(cve, '-')
	cve = appendPadded(cve, int64(1000+g.intn(58000)), 4)
	e.open("cve")
	e.b = append(e.b, cve...)
	e.close()
	e.boolean("kev", g.chance(vulnKEVP[sev]))
	e.str("package", g.pick(vulnPackages))
	e.open("url")
	e.b = append(e.b, "https://nvd.nist.gov/vuln/detail/"...)
	e.b = append(e.b, cve...)
	e.close()
	e.end()
}

// controlsDay runs each control's weekly check. Controls are spread over
// the week and over six times of day, so some check is always less than a
// day old; a failed check is re-run within days and usually passes.
func (g *gen) controlsDay(d int64, wd int) {
	for c := range controls {
		if r := g.ctrlRecheck[c]; r > 0 && r < d+day {
			g.ctrlRecheck[c] = 0
			if r < g.end {
				g.check(c, r, true)
			}
		}
		if c%7 != wd {
			continue
		}
		t := d + int64((c/7)*4+1)*hour + g.r.Int64N(hour)
		if t >= g.end {
			continue
		}
		failing := controls[c].id == failingControl && t >= g.end-20*day
		pass := !failing && !g.chance(0.015)
		g.check(c, t, pass)
		if !pass && !failing {
			g.ctrlRecheck[c] = t + day + g.r.Int64N(2*day)
		}
	}
}

func (g *gen) check(c int, at int64, passed bool) {
	e := &g.e
	n := g.nChk
	g.nChk++
	ctl := &controls[c]
	e.begin(kControl)
	e.ref("id", "chk-", n, 7)
	e.str("control", ctl.id)
	e.ts("checked_at", at)
	e.boolean("passed", passed)
	e.str("name", ctl.name)
	e.str("framework", ctl.framework)
	e.ref("evidence_url", "https://grc.acme.example/evidence/chk-", n, 7)
	e.end()
}

// flushMonth writes the monthly records for [ps, pe): cloud cost and
// usage per service, the organisation's usage (its active customers —
// per-service counts overlap and do not add up — and all requests, as a
// product-analytics tool reports them), budgets per category, sales and
// marketing spend. The
// month still running at End is written up to the start of the last day,
// as a bill-to-date would be; budgets are plans and always cover the whole
// calendar month.
func (g *gen) flushMonth(ps, pe int64) {
	e := &g.e
	days := float64(pe-ps) / float64(day)
	frac := float64((ps+pe)/2-g.first) / float64(365*day)
	growth := 1 + 0.18*frac
	label := monthLabel(nil, ps)
	q := g.quarterIdx(ps)
	active := float64(g.activeAt(pe - 1))
	var requests int64
	for _, s := range g.svcs {
		for k, cat := range costCategories {
			amt := s.costDay[k] * days * growth * g.logn(1, 0.04)
			g.costQ[q] += amt
			e.begin(kCost)
			e.open("id")
			e.b = append(e.b, "cost-"...)
			e.b = append(e.b, s.name...)
			e.b = append(e.b, '-')
			e.b = append(e.b, cat...)
			e.b = append(e.b, '-')
			e.b = append(e.b, label...)
			e.close()
			e.ts("period_start", ps)
			e.ts("period_end", pe)
			e.money("amount", int64(math.Round(amt*100)))
			e.str("service", s.name)
			e.str("category", cat)
			e.str("provider", s.provider)
			e.end()
		}
		ac := math.Round(active * s.share)
		e.begin(kUsage)
		e.open("id")
		e.b = append(e.b, "usage-"...)
		e.b = append(e.b, s.name...)
		e.b = append(e.b, '-')
		e.b = append(e.b, label...)
		e.close()
		e.ts("period_start", ps)
		e.ts("period_end", pe)
		e.int("requests", s.monthReq)
		e.int("active_customers", int64(ac))
		e.str("service", s.name)
		e.end()
		g.reqQ[q] += float64(s.monthReq)
		requests += s.monthReq
		s.monthReq = 0
	}
	e.begin(kUsage)
	e.open("id")
	e.b = append(e.b, "usage-org-"...)
	e.b = append(e.b, label...)
	e.close()
	e.ts("period_start", ps)
	e.ts("period_end", pe)
	e.int("requests", requests)
	e.int("active_customers", int64(active))
	e.end()
	g.activeQ[q][0] += active * days
	g.activeQ[q][1] += days
	g.costDaysQ[q] += days

	bs, be := monthStart(ps, 0), monthStart(ps, 1)
	bdays := float64(be-bs) / float64(day)
	for k, cat := range costCategories {
		sum := 0.0
		for _, s := range g.svcs {
			sum += s.costDay[k]
		}
		amt := math.Round(sum*bdays*(1+0.15*frac)*budgetFactor[k]/100) * 100
		e.begin(kBudget)
		e.open("id")
		e.b = append(e.b, "budget-"...)
		e.b = append(e.b, cat...)
		e.b = append(e.b, '-')
		e.b = append(e.b, label...)
		e.close()
		e.ts("period_start", bs)
		e.ts("period_end", be)
		e.money("amount", int64(amt*100))
		e.str("category", cat)
		e.end()
	}

	for i, cat := range []string{"sales", "marketing"} {
		share := [...]float64{0.55, 0.45}[i]
		amt := g.spendMonth * share * days / 30.4 * g.logn(1, 0.06)
		e.begin(kSpend)
		e.open("id")
		e.b = append(e.b, "spend-"...)
		e.b = append(e.b, cat...)
		e.b = append(e.b, '-')
		e.b = append(e.b, label...)
		e.close()
		e.ts("period_start", ps)
		e.ts("period_end", pe)
		e.str("category", cat)
		e.money("amount", int64(math.Round(amt*100)))
		e.end()
	}
}

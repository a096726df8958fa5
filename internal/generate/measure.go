package generate

import (
	"math"
	"math/rand/v2"
)

// Measurements are the numbers an organisation tracks in tools of their
// own — a pulse survey, product analytics, real-user monitoring — that no
// other kind holds (SPEC §1). They are generated last, from a random
// stream of their own, so adding or changing them moves no other record:
// the rest of the output is byte for byte what it was without them.

// measureStream tells the measurements' random stream from the main one.
const measureStream = 0x6d_6561_7375_7265 // "measure"

// features are the product features whose adoption analytics reports
// weekly, with the service that serves each and how far along it is: the
// share of active customers using it at the start of the span, where it
// levels off, and how fast it gets there (a logistic curve over weeks).
var features = []struct {
	name, service    string
	start, cap, rate float64
}{
	{"saved_carts", "checkout", 22, 64, 0.05},
	{"one_click_pay", "payments", 8, 45, 0.09},
	{"visual_search", "search", 2, 30, 0.12},
	{"wishlists", "accounts", 35, 52, 0.03},
}

var segments = []string{"enterprise", "smb"}

func (g *gen) measurements() {
	g.r = rand.New(rand.NewPCG(uint64(g.seed), measureStream))
	g.teamHealth()
	for d := g.first; d <= g.last; d += day {
		if weekday(d) == 1 { // Mondays: last week's analytics
			g.adoptionWeek(d)
			g.conversionWeek(d)
		}
		g.latencyDay(d)
	}
}

// teamHealth writes each team's monthly pulse-survey score (1–5), taken
// on the first of the month: a team's own level, drifting month to month.
func (g *gen) teamHealth() {
	var teams []string
	seen := map[string]bool{}
	for _, s := range g.svcs {
		if !seen[s.team] {
			seen[s.team] = true
			teams = append(teams, s.team)
		}
	}
	level := make([]float64, len(teams))
	for i := range level {
		level[i] = g.uni(3.2, 4.3)
	}
	e := &g.e
	for m := monthStart(g.first, 0); ; m = monthStart(m, 1) {
		at := m + 9*hour
		if at >= g.end {
			return
		}
		for i, team := range teams {
			level[i] = min(max(level[i]+0.15*g.r.NormFloat64(), 1.5), 4.9)
			if at < g.first {
				continue
			}
			respondents := 4 + g.intn(9)
			e.begin(kMeasurement)
			e.open("id")
			e.b = append(e.b, "th-"...)
			e.b = append(e.b, team...)
			e.b = append(e.b, '-')
			e.b = monthLabel(e.b, m)
			e.close()
			e.str("source", "pulse-survey")
			e.str("metric", "team_health")
			e.ts("at", at)
			e.num("value", min(max(level[i]+0.1*g.r.NormFloat64(), 1), 5), 2)
			e.str("team", team)
			e.str("unit", "score")
			e.key("tags")
			e.b = append(e.b, `["respondents=`...)
			e.b = appendPadded(e.b, int64(respondents), 1)
			e.b = append(e.b, `"]`...)
			e.end()
		}
	}
}

// adoptionWeek writes, for the week before Monday d, each feature's share
// of active customers using it, per segment: a logistic climb towards the
// feature's ceiling, enterprise customers a little ahead.
func (g *gen) adoptionWeek(d int64) {
	at := d + 6*hour
	if at >= g.end {
		return
	}
	weeks := float64(d-g.first) / float64(7*day)
	e := &g.e
	for _, f := range features {
		for si, seg := range segments {
			lift := 1.0
			if si == 0 {
				lift = 1.15
			}
			// The logistic curve through start at week 0 with ceiling cap.
			x0 := math.Log(f.cap/f.start-1) / f.rate
			v := f.cap * lift / (1 + math.Exp(-f.rate*(weeks-x0)))
			v = min(max(v+1.5*g.r.NormFloat64(), 0), 100)
			e.begin(kMeasurement)
			g.datedID("adopt-"+f.name+"-"+seg+"-", d)
			e.str("source", "product-analytics")
			e.str("metric", "feature_adoption")
			e.ts("at", at)
			e.num("value", v, 1)
			e.str("service", f.service)
			e.str("segment", seg)
			e.str("unit", "%")
			e.key("tags")
			e.b = append(e.b, `["feature=`...)
			e.b = append(e.b, f.name...)
			e.b = append(e.b, `"]`...)
			e.end()
		}
	}
}

// conversionWeek writes the week's trial-to-paid conversion per segment.
func (g *gen) conversionWeek(d int64) {
	at := d + 6*hour
	if at >= g.end {
		return
	}
	e := &g.e
	for si, seg := range segments {
		base := [...]float64{18, 9}[si]
		e.begin(kMeasurement)
		g.datedID("conv-"+seg+"-", d)
		e.str("source", "product-analytics")
		e.str("metric", "trial_conversion")
		e.ts("at", at)
		e.num("value", min(max(base*g.logn(1, 0.15), 0), 100), 1)
		e.str("segment", seg)
		e.str("unit", "%")
		e.end()
	}
}

// latencyDay writes, for each customer-facing service, the 95th
// percentile page latency real users saw on day d, reported when the day
// is over: tier 1 services are tuned tighter, weekdays are busier.
func (g *gen) latencyDay(d int64) {
	at := d + day
	if at >= g.end {
		return
	}
	busy := trafficWD[weekday(d)]
	e := &g.e
	for _, s := range g.svcs {
		if !s.cf {
			continue
		}
		base := 180 + 90*float64(s.tier-1)
		e.begin(kMeasurement)
		g.datedID("lat-"+s.name+"-", d)
		e.str("source", "rum")
		e.str("metric", "page_latency_p95")
		e.ts("at", at)
		e.num("value", base*busy*g.logn(1, 0.12), 0)
		e.str("service", s.name)
		e.str("unit", "ms")
		e.end()
	}
}

// datedID writes an id of prefix and day d's date (YYYY-MM-DD).
func (g *gen) datedID(prefix string, d int64) {
	e := &g.e
	e.open("id")
	e.b = append(e.b, prefix...)
	e.b = appendDate(e.b, floorDiv(d, day))
	e.close()
}

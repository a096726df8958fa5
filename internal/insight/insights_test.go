package insight

import (
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/stats"
)

// planted are the effects an organisation is generated with.
type planted struct {
	fridayPM  bool // Friday deployments from 15:00 fail 3× as often
	recurring bool // s1's releases are followed by performance incidents
	canary    bool // s2's releases are followed by ticket waves
	slowMTTR  bool // s3's incidents take 10 h to resolve
}

var orgEnd = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

const orgDays = 180

func meta(kind string, n int) domain.Meta {
	return domain.Meta{ID: fmt.Sprintf("%s%d", kind, n), Source: "import"}
}

// org generates six services over 180 days: about a production
// deployment per service a day at random hours 08:00–20:00 UTC, 10 % of
// them failing; incidents after 4 % of releases in a random category, each
// resolved in about 30 minutes; background tickets about each service
// (Poisson, 0.2 an hour); and the planted effects.
func org(seed uint64, p planted) *metrics.Dataset {
	rng := rand.New(rand.NewPCG(seed, 99))
	ds := metrics.NewDataset(metrics.DefaultConfig())
	add := func(r domain.Record) { ds.Apply(r, time.Time{}) }
	start := orgEnd.AddDate(0, 0, -orgDays)
	cats := []string{"availability", "performance", "data", "security"}
	n := 0
	for s := range 6 {
		svc := fmt.Sprint("s", s)
		add(&domain.Service{Meta: domain.Meta{ID: svc, Source: "import"}, Name: svc, Team: fmt.Sprint("team", s%2)})
		for day := range orgDays {
			d0 := start.AddDate(0, 0, day)
			for range 1 + rng.IntN(2) {
				n++
				fin := d0.Add(time.Duration(8*60+rng.IntN(12*60)) * time.Minute)
				fail := 0.10
				if p.fridayPM && fin.Weekday() == time.Friday && fin.Hour() >= 15 {
					fail = 0.30
				}
				status := "success"
				if rng.Float64() < fail {
					status = "failure"
				}
				id := fmt.Sprint("d", n)
				add(&domain.Deployment{Meta: meta("d", n), Service: svc, Environment: "production", FinishedAt: fin, Status: status})
				incP, cat := 0.04, cats[rng.IntN(len(cats))]
				if p.recurring && s == 1 && rng.Float64() < 0.3 {
					incP, cat = 1, "performance"
				}
				if rng.Float64() < incP {
					opened := fin.Add(time.Duration(30+rng.IntN(300)) * time.Minute)
					ttr := time.Duration(15+rng.IntN(30)) * time.Minute
					add(&domain.Incident{Meta: meta("i", n), Service: svc, Severity: "P3", OpenedAt: opened, ResolvedAt: opened.Add(ttr), CausedBy: id, Category: cat})
				}
				if p.canary && s == 2 && rng.Float64() < 0.3 {
					for k := range 10 {
						add(&domain.Ticket{Meta: meta(fmt.Sprint("w", n, "-"), k), CreatedAt: fin.Add(time.Duration(1+rng.IntN(40)) * time.Hour), Service: svc, Priority: "high"})
					}
				}
			}
			if p.slowMTTR && s == 3 && day%7 == 0 {
				opened := d0.Add(3 * time.Hour)
				add(&domain.Incident{Meta: meta("slow", day), Service: svc, Severity: "P2", OpenedAt: opened, ResolvedAt: opened.Add(10 * time.Hour)})
			}
			for h := range 24 {
				for k := range poisson(rng, 0.2) {
					at := d0.Add(time.Duration(h)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
					add(&domain.Ticket{Meta: meta(fmt.Sprint("t", s, "-", day, "-", h, "-"), k), CreatedAt: at, Service: svc})
				}
			}
		}
	}
	ds.Prepare()
	return ds
}

func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, rng.Float64()
	for p > l {
		k++
		p *= rng.Float64()
	}
	return k
}

func report(t testing.TB, ds *metrics.Dataset) Report {
	t.Helper()
	return reportWith(t, ds, Options{AsOf: orgEnd})
}

// reportWith is report as of and over what opt says.
func reportWith(t testing.TB, ds *metrics.Dataset, opt Options) Report {
	t.Helper()
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	st, err := Config{}.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	return Compute(cat, ds, st, opt)
}

func byID(rep Report, id string) []Insight {
	var out []Insight
	for _, in := range rep.Insights {
		if in.ID == id {
			out = append(out, in)
		}
	}
	return out
}

func TestInsightsFindPlantedEffects(t *testing.T) {
	rep := report(t, org(1, planted{fridayPM: true, recurring: true, canary: true, slowMTTR: true}))
	dt := byID(rep, "deploy_time_risk")
	if len(dt) == 0 || dt[0].Subject != "Friday 15:00–18:00" || dt[0].P == nil || !strings.Contains(dt[0].Test, "binomial") || dt[0].Action == "" {
		t.Errorf("deploy_time_risk: %+v\nquiet: %+v", dt, rep.Quiet)
	}
	if rc := byID(rep, "recurring_after_release"); len(rc) != 1 || rc[0].Subject != "s1 · performance" {
		t.Errorf("recurring_after_release: %+v", rc)
	}
	if cc := byID(rep, "canary_candidate"); len(cc) != 1 || cc[0].Subject != "s2" {
		t.Errorf("canary_candidate: %+v", cc)
	}
	if mt := byID(rep, "mttr_over_target"); len(mt) != 1 || mt[0].Subject != "s3" || !strings.Contains(mt[0].Statement, "longer than MTTR's green threshold (no target is set)") || !strings.Contains(mt[0].Statement, "s3 10.0 h against 1.0 h (900 % over, 17 incidents)") {
		t.Errorf("mttr_over_target: %+v", mt)
	}
	for _, in := range rep.Insights {
		if in.Key == "" || in.Statement == "" || in.Test == "" || in.Action == "" || len(in.Numbers) == 0 {
			t.Errorf("insight does not explain itself: %+v", in)
		}
		// Its test names its p-value as every page writes one.
		if in.P != nil && !strings.Contains(in.Test, stats.FormatP(*in.P)+" below ") {
			t.Errorf("%s: the test does not give %q: %s", in.Key, stats.FormatP(*in.P), in.Test)
		}
	}
}

func TestInsightsQuietWithoutEffects(t *testing.T) {
	rep := report(t, org(1, planted{}))
	for _, id := range []string{"deploy_time_risk", "recurring_after_release", "canary_candidate", "mttr_over_target"} {
		if got := byID(rep, id); len(got) > 0 {
			t.Errorf("%s found an effect in data without one: %+v", id, got)
		}
	}
	quiet := map[string]string{}
	for _, q := range rep.Quiet {
		quiet[q.ID] = q.Reason
	}
	if !strings.Contains(quiet["deploy_time_risk"], "bands of at least 20 deployments tested") {
		t.Errorf("deploy_time_risk's quiet reason: %q", quiet["deploy_time_risk"])
	}
	// Its deployments are its own window's, which it names: "3442
	// deployments, 24 % failed" had left a reader to guess over how long.
	if !regexp.MustCompile(`\d+ deployments in the last \d+ days, \d+ % failed`).MatchString(quiet["deploy_time_risk"]) {
		t.Errorf("deploy_time_risk's quiet reason does not say over how long: %q", quiet["deploy_time_risk"])
	}
}

// TestInsightsFalsePositiveRate generates organisations without effects
// over many seeds and counts the analyses that still report one.
func TestInsightsFalsePositiveRate(t *testing.T) {
	if testing.Short() {
		t.Skip("many generated organisations")
	}
	const seeds = 40
	fp := map[string]int{}
	for seed := range uint64(seeds) {
		rep := report(t, org(seed+1000, planted{}))
		seen := map[string]bool{}
		for _, in := range rep.Insights {
			seen[in.ID] = true
		}
		for id := range seen {
			fp[id]++
		}
	}
	for _, id := range []string{"deploy_time_risk", "recurring_after_release", "canary_candidate", "mttr_over_target"} {
		t.Logf("%s: false positives in %d of %d organisations without the effect", id, fp[id], seeds)
		if fp[id] > seeds/10 {
			t.Errorf("%s: %d false positives of %d", id, fp[id], seeds)
		}
	}
}

func TestResolveTimeZone(t *testing.T) {
	st, err := Config{TimeZone: "Europe/Berlin"}.Resolve()
	if err != nil || st.Loc.String() != "Europe/Berlin" {
		t.Fatalf("%v %v", st.Loc, err)
	}
	// 14:30 UTC on a Friday in November is 15:30 in Berlin: the band
	// from 15:00 there.
	rel := time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC).In(st.Loc)
	if bands[bandOf(rel.Hour())].name != "15:00–18:00" {
		t.Errorf("band %s", bands[bandOf(rel.Hour())].name)
	}
}

// Asked for a calendar month (as of its end, over its days), an analysis
// names the month where it said "the last 31 days"; a rolling window keeps
// "the last 30 days".
func TestInsightsNameTheMonth(t *testing.T) {
	ds := org(1, planted{fridayPM: true, recurring: true, canary: true, slowMTTR: true})
	nov1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	texts := func(rep Report) string {
		var b strings.Builder
		for _, in := range rep.Insights {
			b.WriteString(in.Statement + "\n")
		}
		for _, q := range rep.Quiet {
			b.WriteString(q.Reason + "\n")
		}
		return b.String()
	}
	month := texts(reportWith(t, ds, Options{AsOf: nov1, Window: 31 * 24 * time.Hour}))
	if !strings.Contains(month, "October 2026") || strings.Contains(month, "the last 31 days") {
		t.Errorf("October's insights do not name October 2026:\n%s", month)
	}
	rolling := texts(reportWith(t, ds, Options{AsOf: nov1, Window: 30 * 24 * time.Hour}))
	if !strings.Contains(rolling, "the last 30 days") || strings.Contains(rolling, "October") {
		t.Errorf("a 30-day window's insights:\n%s", rolling)
	}
}

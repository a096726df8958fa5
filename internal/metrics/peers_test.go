package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Peers' worked examples. People evaluating Candor put it beside the tool
// they use now and compare numbers on the examples that tool publishes.
// Each case below translates one such example (or, where a tool publishes
// only a formula or a query, a small example run through it) into Candor
// records and checks Candor against SPEC §2–§3, worked out by hand in the
// comments. Where SPEC's answer differs from the peer's, the case says
// both numbers and why; docs/switching.md explains each difference to a
// switcher and quotes these cases by name.
//
// Unless a case says otherwise, as_of = 2026-03-31T00:00Z and
// W = [2026-03-01T00:00, 2026-03-31T00:00), 30 days. 2026-03-01 is a
// Sunday; Candor's weeks for the DORA level are the 7-day slots counted
// back from as_of: [03-24, 03-31), [03-17, 03-24), [03-10, 03-17),
// [03-03, 03-10) (the 2 days before 03-03 are a partial slot, left out).

// peerCase is one peer example: the records and SPEC's answer (mcase), and
// what the peer publishes for the same facts.
type peerCase struct {
	mcase
	source string // where the example or the definition it follows is published
	// published is the peer's answer in words; peer is its number, nil when
	// the answer is not a number (a DORA bucket).
	published string
	peer      *float64
	// peerOf, when set, recomputes the peer's number from the values behind
	// Candor's result (Result.Records): for differences that lie only in the
	// aggregate (lower median, mean, whole hours), so the peer's number is
	// computed, not just quoted.
	peerOf func(spans []float64) float64
	// differs says why SPEC's answer is not the peer's; "" when they agree.
	differs string
}

func runPeerCases(t *testing.T, cases []peerCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.source == "" || c.published == "" {
				t.Fatalf("case must name its source and the published answer")
			}
			// The table must not contradict itself: a case that agrees with
			// the peer has the peer's number, one that differs has another.
			if c.peer != nil {
				same := c.want != nil && approx(*c.peer, *c.want)
				if c.differs == "" && !same {
					t.Fatalf("case says it agrees with the peer, but SPEC's %s ≠ published %v", fmtVal(c.want), *c.peer)
				}
				if c.differs != "" && same {
					t.Fatalf("case says it differs from the peer (%s), but both are %v", c.differs, *c.peer)
				}
			}
			d := load(t, c.cfg, c.data)
			q := c.query(t)
			r, err := d.Compute(c.metric, q)
			if err != nil {
				t.Fatalf("Compute(%s): %v", c.metric, err)
			}
			if c.differs != "" {
				t.Logf("%s: SPEC %s, %s — %s", c.source, fmtVal(c.want), c.published, c.differs)
			}
			checkResult(t, c.mcase, r)
			if c.peerOf != nil {
				var spans []float64
				for _, ref := range r.Records {
					if ref.Value != nil {
						spans = append(spans, *ref.Value)
					}
				}
				if c.peer == nil {
					t.Fatalf("peerOf needs the published number in peer")
				}
				if got := c.peerOf(spans); !approx(got, *c.peer) {
					t.Errorf("the peer's aggregate over Candor's values %v = %v, published %v", spans, got, *c.peer)
				}
			}
			// The scorecard asks without the drill-down (some metrics take a
			// faster path then): the value must not change.
			q.Records = false
			r2, err := d.Compute(c.metric, q)
			if err != nil {
				t.Fatalf("Compute(%s) without records: %v", c.metric, err)
			}
			if (r.Value == nil) != (r2.Value == nil) || (r.Value != nil && !approx(*r.Value, *r2.Value)) || r.Count != r2.Count {
				t.Errorf("without the drill-down %s = %s (n = %d), with it %s (n = %d)", c.metric, fmtVal(r2.Value), r2.Count, fmtVal(r.Value), r.Count)
			}
		})
	}
}

// lowerMedian is the median as DevLake's dashboards compute it: the
// largest value whose percent_rank is ≤ 0.5, i.e. the lower of the two
// middle values when the count is even.
func lowerMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func mean(v []float64) float64 {
	var sum float64
	for _, x := range v {
		sum += x
	}
	return sum / float64(len(v))
}

// wholeHoursMedian is Four Keys' time to restore: each span truncated to
// whole hours (BigQuery TIMESTAMP_DIFF(…, HOUR)), then the interpolated
// median (PERCENTILE_CONT 0.5).
func wholeHoursMedian(v []float64) float64 {
	s := make([]float64, len(v))
	for i, x := range v {
		s[i] = float64(int64(x))
	}
	return *median(s)
}

const (
	devlakeDF   = "https://devlake.apache.org/docs/Metrics/DeploymentFrequency (apache/incubator-devlake-website docs/Metrics/DeploymentFrequency.md)"
	devlakeLT   = "https://devlake.apache.org/docs/Metrics/LeadTimeForChanges (apache/incubator-devlake-website docs/Metrics/LeadTimeForChanges.md; dashboard query: percent_rank() ≤ 0.5)"
	devlakeCFR  = "https://devlake.apache.org/docs/Metrics/CFR (apache/incubator-devlake-website docs/Metrics/CFR.md)"
	devlakeFDRT = "https://devlake.apache.org/docs/Metrics/FailedDeploymentRecoveryTime (apache/incubator-devlake-website docs/Metrics/FailedDeploymentRecoveryTime.md)"
	devlakeMTTR = "https://devlake.apache.org/docs/Metrics/MTTR (apache/incubator-devlake-website docs/Metrics/MTTR.md)"
	devlakeLink = "apache/incubator-devlake backend/plugins/dora/tasks/incident_deploy_connector.go"
	devlakePR   = "apache/incubator-devlake backend/plugins/dora/tasks/change_lead_time_calculator.go; https://devlake.apache.org/docs/Metrics/PRCycleTime"
	fourKeys    = "https://github.com/dora-team/fourkeys/blob/main/METRICS.md"
	middleware  = "middlewarehq/middleware backend/analytics_server/mhq/service/incidents/incidents.py"
	middlewareL = "middlewarehq/middleware backend/analytics_server/mhq/service/code/lead_time.py"
	cmChurn     = "https://help.chartmogul.com/hc/en-us/articles/203359341-Metric-MRR-Churn-Rate"
	cmMoves     = "https://help.chartmogul.com/hc/en-us/articles/201244842 (MRR movements: Syncalytics)"
	cmNRR       = "https://help.chartmogul.com/hc/en-us/articles/6886664393500-Chart-Net-MRR-Retention"
	cmCustomer  = "https://help.chartmogul.com/hc/en-us/articles/203359321-Chart-Customer-Churn-Rate and .../207340419-Churn-rate-formulas"
	bmChurn     = "https://help.baremetrics.com/en/articles/5380347-user-and-revenue-churn; https://changelog.baremetrics.com/churn-update-4pqo9O"
	bmNRR       = "https://help.baremetrics.com/en/articles/9893951-net-revenue-retention-nrr-vs-gross-revenue-retention-grr"
)

// threeDaysAWeek: 12 successful production deployments of web, on three
// days of each of the window's four full weeks (03-03, 05, 07; 10, 12, 14;
// 17, 19, 21; 24, 26, 28), at noon.
const threeDaysAWeek = `
{"kind":"deployment","id":"w01","service":"web","environment":"production","finished_at":"2026-03-03T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w02","service":"web","environment":"production","finished_at":"2026-03-05T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w03","service":"web","environment":"production","finished_at":"2026-03-07T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w04","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w05","service":"web","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w06","service":"web","environment":"production","finished_at":"2026-03-14T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w07","service":"web","environment":"production","finished_at":"2026-03-17T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w08","service":"web","environment":"production","finished_at":"2026-03-19T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w09","service":"web","environment":"production","finished_at":"2026-03-21T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w10","service":"web","environment":"production","finished_at":"2026-03-24T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w11","service":"web","environment":"production","finished_at":"2026-03-26T12:00:00Z","status":"success"}
{"kind":"deployment","id":"w12","service":"web","environment":"production","finished_at":"2026-03-28T12:00:00Z","status":"success"}`

// sixPRs is DevLake's lead-time picture: Deploy-1 ships PR-1, Deploy-2
// PR-2 and PR-3, Deploy-3 PR-4, PR-5 and PR-6 (DevLake finds them by the
// commit diff between consecutive deployments; in Candor the deployment
// lists them). The published example gives no times; these are chosen so
// the medians differ. Each PR merges an hour before its deployment; the
// first commits are 2, 4, 90, 6, 8 and 10 h before it.
const sixPRs = `
{"kind":"change","id":"pr1","service":"web","authored_at":"2026-03-05T10:00:00Z","merged_at":"2026-03-05T11:00:00Z"}
{"kind":"change","id":"pr2","service":"web","authored_at":"2026-03-12T08:00:00Z","merged_at":"2026-03-12T11:00:00Z"}
{"kind":"change","id":"pr3","service":"web","authored_at":"2026-03-08T18:00:00Z","merged_at":"2026-03-12T11:00:00Z"}
{"kind":"change","id":"pr4","service":"web","authored_at":"2026-03-19T06:00:00Z","merged_at":"2026-03-19T11:00:00Z"}
{"kind":"change","id":"pr5","service":"web","authored_at":"2026-03-19T04:00:00Z","merged_at":"2026-03-19T11:00:00Z"}
{"kind":"change","id":"pr6","service":"web","authored_at":"2026-03-19T02:00:00Z","merged_at":"2026-03-19T11:00:00Z"}
{"kind":"deployment","id":"deploy1","service":"web","environment":"production","finished_at":"2026-03-05T12:00:00Z","status":"success","changes":["pr1"]}
{"kind":"deployment","id":"deploy2","service":"web","environment":"production","finished_at":"2026-03-12T12:00:00Z","status":"success","changes":["pr2","pr3"]}
{"kind":"deployment","id":"deploy3","service":"web","environment":"production","finished_at":"2026-03-19T12:00:00Z","status":"success","changes":["pr4","pr5","pr6"]}`

// fourWebDeploys: successful production deployments of web on 03-02, 03-04,
// 03-06 and 03-08 at 10:00.
const fourWebDeploys = `
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-02T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-04T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d3","service":"web","environment":"production","finished_at":"2026-03-06T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"web","environment":"production","finished_at":"2026-03-08T10:00:00Z","status":"success"}
`

// fourIncidents: incidents of api resolved in W lasting 1, 2, 3 and 10 h.
const fourIncidents = `
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-02T10:00:00Z","resolved_at":"2026-03-02T11:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-09T10:00:00Z","resolved_at":"2026-03-09T12:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-16T10:00:00Z","resolved_at":"2026-03-16T13:00:00Z"}
{"kind":"incident","id":"i4","service":"api","severity":"P1","opened_at":"2026-03-23T10:00:00Z","resolved_at":"2026-03-23T20:00:00Z"}`

func TestPeersDevLake(t *testing.T) {
	runPeerCases(t, []peerCase{
		{
			mcase: mcase{
				name: "devlake/cfr: five deployments, two cause incidents", metric: "change_failure_rate",
				data: fourWebDeploys + `
{"kind":"deployment","id":"d5","service":"web","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-04T12:00:00Z","resolved_at":"2026-03-04T13:00:00Z"}
{"kind":"incident","id":"i2","service":"web","severity":"P3","opened_at":"2026-03-04T18:00:00Z","resolved_at":"2026-03-04T19:00:00Z"}
{"kind":"incident","id":"i3","service":"web","severity":"P2","opened_at":"2026-03-08T11:00:00Z","resolved_at":"2026-03-08T12:00:00Z"}`,
				// i1 and i2 open 2 h and 8 h after d2 (the latest web
				// deployment within 24 h before them), i3 1 h after d4: d2
				// and d4 failed; d2 counts once for its two incidents.
				// 2 ÷ 5 = 40 % (> 15 → DORA low).
				want: val(40), count: 5, ids: []string{"d1", "d2", "d3", "d4", "d5"}, level: "low",
				detail: &Detail{Failed: ptr(2)},
			},
			source:    devlakeCFR,
			published: "40 % (five deployments, two cause one or more incidents)",
			peer:      val(40),
		},
		{
			mcase: mcase{
				name: "devlake/cfr: a deployment with status failure is in the denominator", metric: "change_failure_rate",
				data: fourWebDeploys + `
{"kind":"deployment","id":"d5","service":"web","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"failure"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-04T12:00:00Z","resolved_at":"2026-03-04T13:00:00Z"}`,
				// Any status is in the denominator: 5. Failed: d2 (i1, 2 h
				// after it) and d5 (status failure). 2 ÷ 5 = 40 %.
				want: val(40), count: 5, level: "low", detail: &Detail{Failed: ptr(2)},
			},
			source:    devlakeCFR,
			published: "25 %: the query keeps result = 'SUCCESS' deployments only (4), one of which has an incident",
			peer:      val(25),
			differs:   "SPEC counts every production deployment, any status, and a failed deployment is a failure; DevLake leaves failed deployments out of both sides",
		},
		{
			mcase: mcase{
				name: "devlake/fdrt: finished 10:00, incident 10:20, resolved 11:00", metric: "failed_deployment_recovery_time",
				data: `
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-10T10:20:00Z","resolved_at":"2026-03-10T11:00:00Z"}`,
				// i1 opens 20 min after d1 (inferred link): d1 failed,
				// recovered when i1 resolved: 11:00 − 10:00 = 1 h (not < 1
				// → DORA high).
				want: val(1), count: 1, ids: []string{"d1"}, level: "high",
				detail: &Detail{Unrecovered: ptr(0)},
			},
			source:    devlakeFDRT,
			published: "1 hour",
			peer:      val(1),
		},
		{
			mcase: mcase{
				name: "devlake/fdrt: a deployment with two incidents is one case", metric: "failed_deployment_recovery_time",
				data: `
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-10T10:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-17T10:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-10T10:20:00Z","resolved_at":"2026-03-10T11:00:00Z"}
{"kind":"incident","id":"i2","service":"web","severity":"P3","opened_at":"2026-03-10T10:40:00Z","resolved_at":"2026-03-10T13:00:00Z"}
{"kind":"incident","id":"i3","service":"web","severity":"P2","opened_at":"2026-03-17T10:30:00Z","resolved_at":"2026-03-17T12:00:00Z"}`,
				// d1 recovers when the last of i1, i2 resolves: 13:00 − 10:00
				// = 3 h; d2 with i3: 2 h. Median(3, 2) = 2.5 h.
				want: val(2.5), count: 2, ids: []string{"d1", "d2"}, level: "high",
			},
			source:    devlakeFDRT,
			published: "2 h: the query ranks one row per incident (1, 3 and 2 h) and takes the lower median",
			peer:      val(2),
			differs:   "SPEC measures each failed deployment once, until its last incident is resolved, and takes the ordinary median",
		},
		{
			mcase: mcase{
				name: "devlake/mttr: incidents of 1, 2 and 3 hours", metric: "mttr",
				data: `
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-02T10:00:00Z","resolved_at":"2026-03-02T11:00:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-09T10:00:00Z","resolved_at":"2026-03-09T12:00:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-16T10:00:00Z","resolved_at":"2026-03-16T13:00:00Z"}`,
				// Median(1, 2, 3) = 2 h; the mean is 2 h as well.
				want: val(2), count: 3, ids: []string{"i1", "i2", "i3"},
			},
			source:    devlakeMTTR,
			published: "(1 + 2 + 3) ÷ 3 = 2 hours",
			peer:      val(2), peerOf: mean,
		},
		{
			mcase: mcase{
				name: "devlake/mttr: an even count, lower median and mean", metric: "mttr",
				data: fourIncidents,
				// Median(1, 2, 3, 10) = (2 + 3) ÷ 2 = 2.5 h.
				want: val(2.5), count: 4,
			},
			source:    devlakeMTTR,
			published: "2 h on the dashboard (percent_rank ≤ 0.5: the lower middle value); 4 h by the page's prose formula (total ÷ number, a mean)",
			peer:      val(2), peerOf: lowerMedian,
			differs: "SPEC's median is the ordinary one, the mean of the two middle values",
		},
		{
			mcase: mcase{
				name: "devlake/mttr: an incident opened before the window and resolved in it", metric: "mttr",
				data: `
{"kind":"incident","id":"i0","service":"api","severity":"P1","opened_at":"2026-02-28T20:00:00Z","resolved_at":"2026-03-01T02:00:00Z"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T10:00:00Z","resolved_at":"2026-03-10T12:00:00Z"}`,
				// Both are resolved in W: i0 6 h, i1 2 h. Median = 4 h.
				want: val(4), count: 2, ids: []string{"i0", "i1"},
			},
			source:    devlakeMTTR,
			published: "2 h: the query selects incidents by created_date in the range, so i0 falls in February",
			peer:      val(2),
			differs:   "SPEC's mttr takes the incidents resolved in W",
		},
		{
			mcase: mcase{
				name: "devlake/df: three deployment days a week", metric: "deployment_frequency",
				data: threeDaysAWeek,
				// 12 ÷ 30 days = 0.4/day. Deployment days in each full week:
				// 3, 3, 3, 3 → median 3: ≥ 1 but < 5 → DORA high.
				want: val(12.0 / 30), count: 12, level: "high",
				detail: &Detail{DeploymentDaysPerWeek: ptr(3.0)},
			},
			source:    devlakeDF,
			published: "DevLake 2021 benchmarks (v0.17–v0.19 docs): On-demand, elite (≥ 3 deployment days a week); DevLake 2023 benchmarks (current docs): high (≥ 1, elite needs 7); Four Keys: Daily (≥ 3)",
			differs:   "SPEC's level follows DORA 2023 with elite at a median of ≥ 5 deployment days a week; the value itself is deployments per day, not a bucket",
		},
		{
			mcase: mcase{
				name: "devlake/df: one pipeline, three deployment records", metric: "deployment_frequency",
				data: `
{"kind":"deployment","id":"run7-eu","service":"web","environment":"production","finished_at":"2026-03-11T10:00:00Z","status":"success"}
{"kind":"deployment","id":"run7-us","service":"web","environment":"production","finished_at":"2026-03-11T10:05:00Z","status":"success"}
{"kind":"deployment","id":"run7-ap","service":"web","environment":"production","finished_at":"2026-03-11T10:10:00Z","status":"success"}`,
				// Three records: 3 ÷ 30 = 0.1/day. One deployment day, in the
				// week [03-10, 03-17): weeks 0, 1, 0, 0 → median 0; the
				// 30-day month has 1 deployment day → DORA medium.
				want: val(3.0 / 30), count: 3, level: "medium",
				detail: &Detail{DeploymentDaysPerWeek: ptr(0.0)},
			},
			source:    devlakeDF,
			published: "1 deployment in March: deployments of one pipeline (one cicd_deployment_id) count once, at the last one's finish",
			peer:      val(1.0 / 30),
			differs:   "Candor counts deployment records; send one record per DevLake cicd_deployment_id to count as DevLake does",
		},
		{
			mcase: mcase{
				name: "devlake/lead time: three deployments, six PRs", metric: "lead_time_for_changes",
				data: sixPRs,
				// Spans (deployment finished − first commit): PR-1 2 h, PR-2
				// 4 h, PR-3 90 h, PR-4 6 h, PR-5 8 h, PR-6 10 h. Sorted 2, 4,
				// 6, 8, 10, 90: median (6 + 8) ÷ 2 = 7 h (< 24 → elite).
				want: val(7), count: 6, ids: []string{"pr1", "pr2", "pr3", "pr4", "pr5", "pr6"}, level: "elite",
				detail: &Detail{Links: &Links{Explicit: 6, Inferred: 0}},
			},
			source:    devlakeLT,
			published: "the median of the six PR cycle times: 6 h on the dashboard (lower middle value); Middleware, which averages, 20 h",
			peer:      val(6), peerOf: lowerMedian,
			differs: "SPEC's median is the ordinary one",
		},
		{
			mcase: mcase{
				name: "middleware/lead time: the same six PRs, averaged", metric: "lead_time_for_changes",
				data: sixPRs,
				want: val(7), count: 6, level: "elite",
			},
			source:    middlewareL,
			published: "(2 + 4 + 90 + 6 + 8 + 10) ÷ 6 = 20 h: the mean over PRs merged in the interval",
			peer:      val(20), peerOf: mean,
			differs: "SPEC takes the median, which one 90 h PR does not drag",
		},
		{
			mcase: mcase{
				name: "devlake/lead time: first commit authored after the PR opened", metric: "lead_time_for_changes",
				data: `
{"kind":"change","id":"pr1","service":"web","authored_at":"2026-03-05T10:00:00Z","opened_at":"2026-03-05T09:00:00Z","merged_at":"2026-03-05T12:00:00Z"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-05T14:00:00Z","status":"success","changes":["pr1"]}`,
				// From the first commit: 14:00 − 10:00 = 4 h.
				want: val(4), count: 1, level: "elite",
			},
			source:    devlakePR,
			published: "5 h: PR cycle time is the sum of coding time (first commit → PR opened, here negative, so dropped), time to merge (3 h) and deploy time (2 h)",
			peer:      val(5),
			differs:   "SPEC measures from the first commit (authored_at) to the deployment, whatever the stages in between",
		},
		{
			mcase: mcase{
				name: "devlake/linking: an incident of another service", metric: "change_failure_rate",
				data: `
{"kind":"deployment","id":"web1","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T14:00:00Z","resolved_at":"2026-03-10T15:00:00Z"}`,
				// Inference never crosses services: api had no deployment, so
				// i1 is not deployment-caused. 0 ÷ 1 = 0 %.
				want: val(0), count: 1, level: "elite", detail: &Detail{Failed: ptr(0)},
			},
			source:    devlakeLink,
			published: "100 %: an incident is linked to the latest successful production deployment of the project finished before it, whatever its service",
			peer:      val(100),
			differs:   "SPEC infers a cause only within the incident's own service (and 24 h); name the deployment in caused_by to link across services",
		},
		{
			mcase: mcase{
				name: "devlake/linking: an explicit caused_by crosses services", metric: "change_failure_rate",
				data: `
{"kind":"deployment","id":"web1","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-10T14:00:00Z","resolved_at":"2026-03-10T15:00:00Z","caused_by":"web1"}`,
				// caused_by names web1: explicit links may cross services.
				// 1 ÷ 1 = 100 %.
				want: val(100), count: 1, level: "low", detail: &Detail{Failed: ptr(1)},
			},
			source:    devlakeLink,
			published: "100 %",
			peer:      val(100),
		},
	})
}

func TestPeersFourKeys(t *testing.T) {
	runPeerCases(t, []peerCase{
		{
			mcase: mcase{
				name: "fourkeys/cfr: four deployments in a day, one causes a failure", metric: "change_failure_rate",
				data: `
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-12T09:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-12T11:00:00Z","status":"success"}
{"kind":"deployment","id":"d3","service":"web","environment":"production","finished_at":"2026-03-12T13:00:00Z","status":"success"}
{"kind":"deployment","id":"d4","service":"web","environment":"production","finished_at":"2026-03-12T15:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-13T09:00:00Z","resolved_at":"2026-03-13T10:00:00Z","caused_by":"d3"}`,
				// i1 names d3. 1 ÷ 4 = 25 % (> 15 → low).
				want: val(25), count: 4, level: "low", detail: &Detail{Failed: ptr(1)},
			},
			source:    fourKeys,
			published: "25 % (four deployments in a day, one causes a failure)",
			peer:      val(25),
		},
		{
			mcase: mcase{
				name: "fourkeys/cfr: incident × change rows over changes", metric: "change_failure_rate",
				data: `
{"kind":"change","id":"c1","service":"web","merged_at":"2026-03-12T08:00:00Z"}
{"kind":"change","id":"c2","service":"web","merged_at":"2026-03-12T08:10:00Z"}
{"kind":"change","id":"c3","service":"web","merged_at":"2026-03-12T08:20:00Z"}
{"kind":"change","id":"c4","service":"web","merged_at":"2026-03-12T10:00:00Z"}
{"kind":"change","id":"c5","service":"web","merged_at":"2026-03-12T12:00:00Z"}
{"kind":"change","id":"c6","service":"web","merged_at":"2026-03-12T14:00:00Z"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-12T09:00:00Z","status":"success","changes":["c1","c2","c3"]}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-12T11:00:00Z","status":"success","changes":["c4"]}
{"kind":"deployment","id":"d3","service":"web","environment":"production","finished_at":"2026-03-12T13:00:00Z","status":"success","changes":["c5"]}
{"kind":"deployment","id":"d4","service":"web","environment":"production","finished_at":"2026-03-12T15:00:00Z","status":"success","changes":["c6"]}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-13T09:00:00Z","resolved_at":"2026-03-13T10:00:00Z","caused_by":"d2"}
{"kind":"incident","id":"i2","service":"web","severity":"P3","opened_at":"2026-03-13T11:00:00Z","resolved_at":"2026-03-13T12:00:00Z","caused_by":"d2"}`,
				// Both incidents were caused by d2 (the one that shipped c4).
				// Each deployment once: 1 ÷ 4 = 25 %.
				want: val(25), count: 4, level: "low", detail: &Detail{Failed: ptr(1)},
			},
			source:    fourKeys,
			published: "2 ÷ 6 = 33.3 %: the query counts joined rows with an incident (two incidents naming c4) over distinct changes (c1…c6)",
			peer:      val(100 * 2.0 / 6),
			differs:   "SPEC's denominator is deployments, each counted once, and a deployment with two incidents is one failure",
		},
		{
			mcase: mcase{
				name: "fourkeys/lead time: per commit vs per change", metric: "lead_time_for_changes",
				data: `
{"kind":"change","id":"a","service":"web","authored_at":"2026-03-09T06:00:00Z","merged_at":"2026-03-10T11:00:00Z"}
{"kind":"change","id":"b","service":"web","authored_at":"2026-03-10T08:00:00Z","merged_at":"2026-03-10T11:30:00Z"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":["a","b"]}`,
				// Change a's first commit is 30 h before d1 (its other
				// commits, 20 h and 10 h before, do not count), b's only
				// commit 4 h. Median(30, 4) = 17 h.
				want: val(17), count: 2, level: "elite",
			},
			source:    fourKeys,
			published: "15 h: one span per commit (30, 20, 10 and 4 h), median (PERCENTILE_CONT) = (10 + 20) ÷ 2",
			peer:      val(15),
			differs:   "SPEC takes one span per change, from its first commit; send each commit as a change to measure per commit",
		},
		{
			mcase: mcase{
				name: "fourkeys/lead time: a zero span counts", metric: "lead_time_for_changes",
				data: `
{"kind":"change","id":"c0","service":"web","merged_at":"2026-03-10T12:00:00Z"}
{"kind":"change","id":"c2","service":"web","authored_at":"2026-03-10T10:00:00Z","merged_at":"2026-03-10T11:00:00Z"}
{"kind":"change","id":"c4","service":"web","authored_at":"2026-03-10T08:00:00Z","merged_at":"2026-03-10T11:00:00Z"}
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":["c0","c2","c4"]}`,
				// c0 has no authored_at and merged as d1 finished: 0 h, which
				// counts. Median(0, 2, 4) = 2 h.
				want: val(2), count: 3, level: "elite",
			},
			source:    fourKeys,
			published: "3 h: spans ≤ 0 are dropped as automated changes, median(2, 4)",
			peer:      val(3),
			differs:   "SPEC counts zero spans and drops only negative ones",
		},
		{
			mcase: mcase{
				name: "fourkeys/time to restore: whole hours", metric: "mttr",
				data: `
{"kind":"incident","id":"i1","service":"api","severity":"P2","opened_at":"2026-03-02T10:00:00Z","resolved_at":"2026-03-02T11:30:00Z"}
{"kind":"incident","id":"i2","service":"api","severity":"P2","opened_at":"2026-03-09T10:00:00Z","resolved_at":"2026-03-09T12:45:00Z"}
{"kind":"incident","id":"i3","service":"api","severity":"P3","opened_at":"2026-03-16T10:00:00Z","resolved_at":"2026-03-16T10:50:00Z"}`,
				// Exact spans 1.5, 2.75 and 0.8333… h: median 1.5 h.
				want: val(1.5), count: 3,
			},
			source:    fourKeys,
			published: "1 h: each span truncated to whole hours (1, 2, 0), median 1",
			peer:      val(1), peerOf: wholeHoursMedian,
			differs: "SPEC's durations are exact elapsed time, unrounded",
		},
	})
}

func TestPeersMiddleware(t *testing.T) {
	runPeerCases(t, []peerCase{
		{
			mcase: mcase{
				name: "middleware/cfr: an incident two days after the last deployment", metric: "change_failure_rate",
				data: `
{"kind":"deployment","id":"d1","service":"web","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"web","environment":"production","finished_at":"2026-03-20T12:00:00Z","status":"success"}
{"kind":"incident","id":"i1","service":"web","severity":"P2","opened_at":"2026-03-12T12:00:00Z","resolved_at":"2026-03-12T14:00:00Z"}`,
				// No web deployment finished in [i1.opened − 24 h, opened]:
				// i1 is not deployment-caused. 0 ÷ 2 = 0 %.
				want: val(0), count: 2, level: "elite", detail: &Detail{Failed: ptr(0)},
			},
			source:    middleware + "; " + devlakeLink,
			published: "50 %: an incident belongs to the last deployment before it (Middleware: until the next deployment; DevLake: any time before), here d1",
			peer:      val(50),
			differs:   "SPEC infers a cause only within the attribution window (24 h, configurable); name the deployment in caused_by when the link is known",
		},
		{
			mcase: mcase{
				name: "middleware/mttr: the mean", metric: "mttr",
				data: fourIncidents,
				want: val(2.5), count: 4,
			},
			source:    "middlewarehq/middleware backend/analytics_server/mhq/service/incidents/incidents.py (_get_incidents_mean_time_to_recovery)",
			published: "(1 + 2 + 3 + 10) ÷ 4 = 4 h: the mean over incidents resolved in the interval",
			peer:      val(4), peerOf: mean,
			differs: "SPEC's mttr is the median",
		},
	})
}

// hundredCustomers is ChartMogul's customer-churn example: 100 customers
// active at the start of W (c001…c100, one 50/month subscription each since
// 2025-06-01); 12 churn in W: c001…c011 end on 03-10, and c001 comes back on
// 03-20; n001 joins on 03-05 and leaves on 03-15.
func hundredCustomers() string {
	var b strings.Builder
	for i := 1; i <= 100; i++ {
		end := ""
		if i <= 11 {
			end = `,"ended_at":"2026-03-10T00:00:00Z"`
		}
		fmt.Fprintf(&b, `{"kind":"subscription","id":"s%03d","customer":"c%03d","started_at":"2025-06-01T00:00:00Z","mrr":50%s}`+"\n", i, i, end)
	}
	b.WriteString(`{"kind":"subscription","id":"s001b","customer":"c001","started_at":"2026-03-20T00:00:00Z","mrr":50}` + "\n")
	b.WriteString(`{"kind":"subscription","id":"n001","customer":"n001","started_at":"2026-03-05T00:00:00Z","ended_at":"2026-03-15T00:00:00Z","mrr":50}` + "\n")
	return b.String()
}

// oneHundredMRR is ChartMogul's MRR-churn example (100 at the start; 10
// lost to churn, 10 to contraction, 10 gained by expansion) spread over
// the year NRR looks at: T0 = as_of − 365 days = 2025-03-31. Changes of MRR
// are a subscription ending and the new amount starting.
//
//	a: 40 → 50 on 2025-09-01 (expansion +10)
//	b: 30 throughout
//	c: 20 → 10 on 2025-10-01 (contraction −10)
//	d: 10, ended 2025-11-15 (churn −10)
const oneHundredMRR = `
{"kind":"subscription","id":"a1","customer":"a","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-09-01T00:00:00Z","mrr":40}
{"kind":"subscription","id":"a2","customer":"a","started_at":"2025-09-01T00:00:00Z","mrr":50}
{"kind":"subscription","id":"b1","customer":"b","started_at":"2025-01-01T00:00:00Z","mrr":30}
{"kind":"subscription","id":"c1","customer":"c","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-10-01T00:00:00Z","mrr":20}
{"kind":"subscription","id":"c2","customer":"c","started_at":"2025-10-01T00:00:00Z","mrr":10}
{"kind":"subscription","id":"d1","customer":"d","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-11-15T00:00:00Z","mrr":10}`

// syncalytics is ChartMogul's MRR-movements customer: four Gold yearly
// plans billed 2,000 (MRR 2000 ÷ 12 = 166.666667), two Silver monthly
// added a few days later (60) and cancelled two weeks after, the yearly
// plan cancelled at the end of its year, then three Gold monthly (3 × 50
// = 150).
const syncalytics = `
{"kind":"subscription","id":"gold-yearly","customer":"syncalytics","started_at":"2025-01-10T00:00:00Z","ended_at":"2026-01-10T00:00:00Z","mrr":166.666667,"plan":"gold","interval":"year","quantity":4}
{"kind":"subscription","id":"silver-monthly","customer":"syncalytics","started_at":"2025-01-15T00:00:00Z","ended_at":"2025-01-29T00:00:00Z","mrr":60,"plan":"silver","interval":"month","quantity":2}
{"kind":"subscription","id":"gold-monthly","customer":"syncalytics","started_at":"2026-02-01T00:00:00Z","mrr":150,"plan":"gold","interval":"month","quantity":3}`

// expandedThenChurned: a at 100 expands to 150 on 2025-09-30; b at 100
// churns on 2026-03-15, inside the last 30 days.
const expandedThenChurned = `
{"kind":"subscription","id":"a1","customer":"a","started_at":"2025-01-01T00:00:00Z","ended_at":"2025-09-30T00:00:00Z","mrr":100}
{"kind":"subscription","id":"a2","customer":"a","started_at":"2025-09-30T00:00:00Z","mrr":150}
{"kind":"subscription","id":"b1","customer":"b","started_at":"2025-01-01T00:00:00Z","ended_at":"2026-03-15T00:00:00Z","mrr":100}`

func TestPeersChartMogul(t *testing.T) {
	runPeerCases(t, []peerCase{
		{
			mcase: mcase{
				name: "chartmogul/net mrr churn: 100, churn 10, contraction 10, expansion 10", metric: "nrr",
				data: oneHundredMRR,
				// At T0: a 40 + b 30 + c 20 + d 10 = 100. At as_of: a 50 +
				// b 30 + c 10 + d 0 = 90. 90 ÷ 100 = 90 %.
				want: val(90), count: 4, detail: &Detail{MRRT0: ptr(100.0), MRRNow: ptr(90.0)},
			},
			source:    cmChurn,
			published: "net MRR churn 10 % ((10 + 10) − 10) ÷ 100: retention 100 − 10 = 90 %",
			peer:      val(90),
		},
		{
			mcase: mcase{
				name: "chartmogul/gross mrr churn: the same movements", metric: "grr",
				data: oneHundredMRR,
				// Per customer min(now, T0): a 40 + b 30 + c 10 + d 0 = 80.
				// 80 ÷ 100 = 80 %.
				want: val(80), count: 4, detail: &Detail{MRRT0: ptr(100.0), MRRRetained: ptr(80.0)},
			},
			source:    cmChurn,
			published: "gross MRR churn 20 % (10 + 10) ÷ 100: retention 80 %",
			peer:      val(80),
		},
		{
			mcase: mcase{
				name: "chartmogul/movements: new business and expansion", metric: "mrr", asOf: "2025-01-20T00:00:00Z",
				data: syncalytics,
				// Active: gold-yearly 166.666667 + silver-monthly 60.
				want: val(166.666667 + 60), count: 2,
			},
			source:    cmMoves,
			published: "New Business 166.67 (2,000 ÷ 12), then Expansion 60: MRR 226.67",
			peer:      val(166.666667 + 60),
		},
		{
			mcase: mcase{
				name: "chartmogul/movements: contraction", metric: "mrr", asOf: "2025-02-01T00:00:00Z",
				data: syncalytics,
				want: val(166.666667), count: 1,
			},
			source:    cmMoves,
			published: "Contraction 60: MRR 166.67",
			peer:      val(166.666667),
		},
		{
			mcase: mcase{
				name: "chartmogul/movements: churn at the end of the paid year", metric: "mrr", asOf: "2026-01-20T00:00:00Z",
				data: syncalytics,
				want: val(0), count: 0,
			},
			source:    cmMoves,
			published: "Churn 166.67, recognised at the end of the billing period: MRR 0",
			peer:      val(0),
		},
		{
			mcase: mcase{
				name: "chartmogul/movements: reactivation", metric: "mrr",
				data: syncalytics,
				want: val(150), count: 1,
			},
			source:    cmMoves,
			published: "Reactivation 150 (three Gold monthly): MRR 150",
			peer:      val(150),
		},
		{
			mcase: mcase{
				name: "chartmogul/nrr: reactivation counts as retained", metric: "nrr",
				data: syncalytics,
				// T0 = 2025-03-31: gold-yearly 166.666667. As of 2026-03-31:
				// gold-monthly 150. 150 ÷ 166.666667 = 90 %.
				want: val(100 * 150 / 166.666667), count: 1,
			},
			source:    cmNRR,
			published: "0 % on the Net MRR Retention chart over the same 12 months: it excludes reactivation, so 166.67 churned and nothing came back (the cohort view, which includes reactivation, gives 90 %)",
			peer:      val(0),
			differs:   "SPEC's NRR compares each T0 customer's MRR at as_of with its MRR at T0, however it got there: a customer who left and came back is retained",
		},
		{
			mcase: mcase{
				name: "chartmogul/grr: reactivation counts as retained", metric: "grr",
				data: syncalytics,
				// min(150, 166.666667) ÷ 166.666667 = 90 %.
				want: val(100 * 150 / 166.666667), count: 1,
			},
			source:    cmNRR,
			published: "0 % by the gross retention formula (starting MRR − churn − contraction) ÷ starting MRR, reactivation excluded",
			peer:      val(0),
			differs:   "SPEC's GRR keeps min(MRR at as_of, MRR at T0) per customer, so a reactivated customer keeps what it pays again, up to its T0 amount",
		},
		{
			mcase: mcase{
				name: "chartmogul/customer churn: 100 customers, 12 churn, one reactivates, one joined", metric: "logo_churn_rate",
				data: hundredCustomers(),
				// Active at W's start (03-01): c001…c100. With nothing
				// active at as_of: c002…c011 (c001 came back; n001 was not
				// a customer at 03-01). 10 ÷ 100 = 10 %.
				want: val(10), count: 100, detail: &Detail{Churned: ptr(10)},
			},
			source:    cmCustomer,
			published: "(12 − 1 joined and churned − 1 churned and reactivated) ÷ 100 = 10 %",
			peer:      val(10),
		},
	})
}

func TestPeersBaremetrics(t *testing.T) {
	runPeerCases(t, []peerCase{
		{
			mcase: mcase{
				name: "baremetrics/user churn: in-window sign-ups and returns", metric: "logo_churn_rate",
				data: hundredCustomers(),
				want: val(10), count: 100, detail: &Detail{Churned: ptr(10)},
			},
			source:    bmChurn,
			published: "12 ÷ 100 = 12 %: cancelled customers in the last 30 days (c001…c011 and n001, who signed up and cancelled within them) ÷ active customers 30 days ago",
			peer:      val(12),
			differs:   "SPEC's logo churn follows the customers active at W's start to as_of: one who joined in W is not in the base, one who came back has not churned",
		},
		{
			mcase: mcase{
				name: "baremetrics/nrr: trailing 12 months vs 30 days", metric: "nrr",
				data: expandedThenChurned,
				// T0 = 2025-03-31: a 100 + b 100 = 200. As of: a 150 + b 0
				// = 150. 150 ÷ 200 = 75 %.
				want: val(75), count: 2,
			},
			source:    bmNRR,
			published: "60 %: 100 − (churned 100 − expansion 0) ÷ MRR 30 days ago 250 × 100 (a's expansion is older than 30 days)",
			peer:      val(60),
			differs:   "SPEC's NRR looks back 365 days from as_of, whatever the window",
		},
		{
			mcase: mcase{
				name: "baremetrics/grr: trailing 12 months vs 30 days", metric: "grr",
				data: expandedThenChurned,
				// min(150, 100) + min(0, 100) = 100. 100 ÷ 200 = 50 %.
				want: val(50), count: 2,
			},
			source:    bmNRR,
			published: "60 %: (MRR 30 days ago 250 − churned 100) ÷ 250",
			peer:      val(60),
			differs:   "SPEC's GRR looks back 365 days from as_of",
		},
	})
}

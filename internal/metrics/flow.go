package metrics

import (
	"github.com/candor/candor/internal/domain"
)

// Flow — where lead time goes (SPEC §3): lead time split into the stages a
// pull request passes through, first commit → opened → first review →
// merged → deployed. Each stage is a median over the lead-time population
// (the changes lead_time_for_changes counts: shipped by a production
// deployment finishing in W, with a non-negative lead span), taken over the
// changes that have both of the stage's timestamps; a negative stage span
// (a review comment after the merge, a change listed before it merged) is
// dropped, as the definition says.

// FlowStage is one stage of lead time.
type FlowStage struct {
	// ID is the stage's metric.
	ID string
	// From and To name the timestamps the stage runs between.
	From, To string
}

// FlowStages are the stages in the order a change passes through them.
var FlowStages = []FlowStage{
	{ID: "coding_time", From: "authored_at", To: "opened_at"},
	{ID: "pickup_time", From: "opened_at", To: "first_review_at"},
	{ID: "review_time", From: "first_review_at", To: "merged_at"},
	{ID: "deploy_time", From: "merged_at", To: "deployment.finished_at"},
}

// Stage indexes of FlowStages.
const (
	stageCoding = iota
	stagePickup
	stageReview
	stageDeploy
	stageCount
)

// stageSpan is a stage's span in hours for change c shipped by x, as of
// asOf. False when a timestamp is missing — or after asOf, where it has not
// happened yet (SPEC §3) — or the span is negative.
func stageSpan(stage int, x *Dep, c *Chg, asOf int64) (float64, bool) {
	at := func(t int64) int64 {
		if t > asOf {
			return 0
		}
		return t
	}
	var from, to int64
	switch stage {
	case stageCoding:
		from, to = at(c.Authored), at(c.Opened)
	case stagePickup:
		from, to = at(c.Opened), at(c.FirstReview)
	case stageReview:
		from, to = at(c.FirstReview), c.Merged
	default:
		from, to = c.Merged, x.Finished
	}
	if from == 0 || to == 0 || to < from {
		return 0, false
	}
	return hours(to - from), true
}

// flowMetric is the median of one stage over the lead-time population.
func flowMetric(stage int) Func {
	return func(d *Dataset, q Query) Result {
		if q.Scope.Dim == "" && !q.Records {
			// The organisation's spans come a day at a time, as lead
			// time's do (leadday.go).
			r, _, _ := d.orgMedian(stage, q)
			return r
		}
		var r Result
		var spans []float64
		asOf := q.end()
		d.prodIn(q, func(row *depRow) {
			x := d.depOf(row.i)
			if q.Records {
				d.listProblems(x, asOf, func(p Problem) { r.problem(q, p) })
			} else if m := d.memoLead(x, asOf); m != nil {
				// The deployment's lead memo holds its changes' stage
				// spans as of all data, valid from validFrom on.
				spans = append(spans, m.run(stage)...)
				return
			}
			d.changesOf(x, asOf, func(c *Chg, method string) {
				if _, ok := leadSpan(x, c, asOf); !ok {
					return // not in the lead-time population
				}
				h, ok := stageSpan(stage, x, c, asOf)
				if !ok {
					return
				}
				spans = append(spans, h)
				r.ref(q, domain.KindChange, c.ID, c.Source, num(h), method+" via deployment "+d.str(x.id))
			})
		})
		r.Count = len(spans)
		r.Value = median(spans)
		r.Problems = sortProblems(r.Problems)
		return r
	}
}

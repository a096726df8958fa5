package web

import (
	"fmt"
	"testing"
)

// Role views carry their sections: the CEO's pillars and MRR bridge, the
// CRO's pipeline by stage and quota pace, Engineering's flow stages.
func TestViewSectionsAPI(t *testing.T) {
	e := newEnv(t, 0)
	e.run(t, scenario{name: "list", url: "/api/v1/views", status: 200,
		fields: map[string]string{
			"views.0.id": "ceo", "views.0.sections": "[pillars mrr_bridge]",
			"views.1.id": "cro", "views.1.sections": "[pipeline_by_stage quota_pace]",
			"views.4.id": "vp_cs", "views.4.sections": "[mrr_bridge]",
			"views.5.id": "engineering", "views.5.sections": "[flow_stages]",
		}})
	e.run(t, scenario{name: "ceo", url: "/api/v1/views/ceo?as_of=" + asOf, status: 200,
		fields: map[string]string{
			"sections":     "[pillars mrr_bridge]",
			"pillars.2.id": "delivery", "pillars.2.status": "red",
			// The seed has no subscription: the bridge says so.
			"mrr_bridge.start": "<nil>", "mrr_bridge.reason": "no subscription data at or before 2026-03-31T00:00:00Z",
		},
		check: func(t *testing.T, doc any) {
			// Red from deployment frequency; change failure rate rests on
			// four deployments, too few to colour it.
			want := map[string]bool{"deployment_frequency red 0.1": true, "change_failure_rate unknown too few cases (n = 4, needs 5)": true}
			for _, a := range lookup(doc, "pillars.2.attention").([]any) {
				switch lookup(a, "id") {
				case "deployment_frequency":
					delete(want, fmt.Sprintf("%v %v %v", lookup(a, "id"), lookup(a, "status"), lookup(a, "value")))
				case "change_failure_rate":
					delete(want, fmt.Sprintf("%v %v %v", lookup(a, "id"), lookup(a, "status"), lookup(a, "reason")))
				}
			}
			if len(want) > 0 {
				t.Errorf("delivery attention lacks %v: %v", want, lookup(doc, "pillars.2.attention"))
			}
		}})
	e.run(t, scenario{name: "cro without sales data", url: "/api/v1/views/cro?as_of=" + asOf, status: 200,
		fields: map[string]string{
			"pipeline_by_stage.open": "0", "pipeline_by_stage.reason": "no opportunity data",
			"quota_pace.status": "unknown", "quota_pace.attainment": "<nil>",
		}})
	e.run(t, scenario{method: "POST", url: "/api/v1/records", status: 200, body: `{"kind":"quota","id":"q1","owner":"ann","period_start":"2026-03-01T00:00:00Z","period_end":"2026-05-01T00:00:00Z","amount":1000}
{"kind":"opportunity","id":"w1","created_at":"2026-02-01T00:00:00Z","qualified_at":"2026-02-02T00:00:00Z","amount":400,"stage":"closed_won","owner":"ann","closed_at":"2026-03-20T00:00:00Z","won":true}
{"kind":"opportunity","id":"o1","created_at":"2026-03-21T00:00:00Z","amount":100,"stage":"proposal","owner":"ann"}
{"kind":"opportunity","id":"o2","created_at":"2026-03-30T12:00:00Z","amount":30,"stage":"prospecting","owner":"ann"}
`})
	e.run(t, scenario{name: "cro", url: "/api/v1/views/cro?as_of=" + asOf, status: 200,
		fields: map[string]string{
			"pipeline_by_stage.open": "2", "pipeline_by_stage.amount": "130", "pipeline_by_stage.currency": "USD",
			"pipeline_by_stage.stages.0.stage": "prospecting", "pipeline_by_stage.stages.0.median_age_days": "0.5",
			"pipeline_by_stage.stages.1.stage": "proposal", "pipeline_by_stage.stages.1.oldest.id": "o1",
			"quota_pace.attainment": "40", "quota_pace.won": "400", "quota_pace.quota": "1000",
			"quota_pace.period_start": "2026-03-01T00:00:00Z", "quota_pace.period_end": "2026-05-01T00:00:00Z",
		}})
}

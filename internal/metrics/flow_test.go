package metrics

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Flow data, W = March (as of 2026-03-31). Team core runs api, team growth
// web. Stage spans in hours, per change (– no value, × dropped):
//
//	      deployment  coding pickup review deploy
//	c1    dA          24     6      18     180
//	c2    dA          –      –      –      108    no authored_at, no review
//	c3    dA          12     108    ×      60     reviewed after the merge
//	c10   dA          6      18     24     ×      listed by dA, merged after it finished
//	c4    dB          24     2      22     192
//	c5    dB          1      –      –      96     reviewed after as_of: not yet
//	c7    dC          12     6      6      264    listed by the failed dFail: shipped by dC
//
// Not in the lead-time population: c9 (listed by dA, merged after it and
// without authored_at: a negative lead span), c6 (deployed in February),
// c8 (its deployment finishes after as_of).
const flowData = `
{"kind":"service","id":"api","name":"API","team":"core"}
{"kind":"service","id":"web","name":"Web","team":"growth"}
{"kind":"deployment","id":"dOld","service":"api","environment":"production","finished_at":"2026-02-20T00:00:00Z","status":"success","changes":["c6"]}
{"kind":"deployment","id":"dA","service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":"success","changes":["c1","c2","c3","c9","c10"]}
{"kind":"deployment","id":"dFail","service":"api","environment":"production","finished_at":"2026-03-15T00:00:00Z","status":"failure","changes":["c7"]}
{"kind":"deployment","id":"dB","service":"web","environment":"production","finished_at":"2026-03-20T00:00:00Z","status":"success","changes":["c4","c5"]}
{"kind":"deployment","id":"dC","service":"api","environment":"production","finished_at":"2026-03-25T00:00:00Z","status":"success"}
{"kind":"deployment","id":"dLate","service":"web","environment":"production","finished_at":"2026-04-02T00:00:00Z","status":"success","changes":["c8"]}
{"kind":"change","id":"c1","service":"api","authored_at":"2026-03-01T00:00:00Z","opened_at":"2026-03-02T00:00:00Z","first_review_at":"2026-03-02T06:00:00Z","merged_at":"2026-03-03T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","opened_at":"2026-03-05T00:00:00Z","merged_at":"2026-03-06T00:00:00Z"}
{"kind":"change","id":"c3","service":"api","authored_at":"2026-03-04T00:00:00Z","opened_at":"2026-03-04T12:00:00Z","first_review_at":"2026-03-09T00:00:00Z","merged_at":"2026-03-08T00:00:00Z"}
{"kind":"change","id":"c4","service":"web","authored_at":"2026-03-10T00:00:00Z","opened_at":"2026-03-11T00:00:00Z","first_review_at":"2026-03-11T02:00:00Z","merged_at":"2026-03-12T00:00:00Z"}
{"kind":"change","id":"c5","service":"web","authored_at":"2026-03-15T00:00:00Z","opened_at":"2026-03-15T01:00:00Z","first_review_at":"2026-04-05T00:00:00Z","merged_at":"2026-03-16T00:00:00Z"}
{"kind":"change","id":"c6","service":"api","authored_at":"2026-02-10T00:00:00Z","opened_at":"2026-02-11T00:00:00Z","first_review_at":"2026-02-11T01:00:00Z","merged_at":"2026-02-19T00:00:00Z"}
{"kind":"change","id":"c7","service":"api","authored_at":"2026-03-13T00:00:00Z","opened_at":"2026-03-13T12:00:00Z","first_review_at":"2026-03-13T18:00:00Z","merged_at":"2026-03-14T00:00:00Z"}
{"kind":"change","id":"c8","service":"web","merged_at":"2026-03-29T00:00:00Z"}
{"kind":"change","id":"c9","service":"api","opened_at":"2026-03-09T00:00:00Z","first_review_at":"2026-03-09T10:00:00Z","merged_at":"2026-03-11T00:00:00Z"}
{"kind":"change","id":"c10","service":"api","authored_at":"2026-03-09T00:00:00Z","opened_at":"2026-03-09T06:00:00Z","first_review_at":"2026-03-10T00:00:00Z","merged_at":"2026-03-11T00:00:00Z"}
`

func TestFlowStages(t *testing.T) {
	d := load(t, nil, flowData)
	type want struct {
		v string
		n int
	}
	at := func(asOf string, window time.Duration, scope Scope) map[string]want {
		out := map[string]want{}
		for _, s := range FlowStages {
			r, err := d.Compute(s.ID, Query{AsOf: ts(t, asOf), Window: window, Scope: scope})
			if err != nil {
				t.Fatal(err)
			}
			out[s.ID] = want{cacheVal(r.Value), r.Count}
		}
		return out
	}
	cases := []struct {
		name   string
		asOf   string
		window time.Duration
		scope  Scope
		want   map[string]want
	}{
		{"organisation", defaultAsOf, 30 * day, Scope{}, map[string]want{
			// 1 6 12 12 24 24 · 2 6 6 18 108 · 6 18 22 24 · 60 96 108 180 192 264
			"coding_time": {"12", 6}, "pickup_time": {"6", 5}, "review_time": {"20", 4}, "deploy_time": {"144", 6},
		}},
		{"team core", defaultAsOf, 30 * day, Scope{Dim: "team", Value: "core"}, map[string]want{
			"coding_time": {"12", 4}, "pickup_time": {"12", 4}, "review_time": {"18", 3}, "deploy_time": {"144", 4},
		}},
		{"service web", defaultAsOf, 30 * day, Scope{Dim: "service", Value: "web"}, map[string]want{
			"coding_time": {"12.5", 2}, "pickup_time": {"2", 1}, "review_time": {"22", 1}, "deploy_time": {"144", 2},
		}},
		// As of 10 April over 40 days c5's review has happened (pickup 503 h;
		// its review span is negative) and dLate ships c8 (deploy 96 h).
		{"later as_of", "2026-04-10T00:00:00Z", 40 * day, Scope{}, map[string]want{
			"coding_time": {"12", 6}, "pickup_time": {"12", 6}, "review_time": {"20", 4}, "deploy_time": {"108", 7},
		}},
		// Only dA in W: c1, c2, c3 and c10.
		{"window cut", "2026-03-12T00:00:00Z", 7 * day, Scope{}, map[string]want{
			"coding_time": {"12", 3}, "pickup_time": {"18", 3}, "review_time": {"21", 2}, "deploy_time": {"108", 3},
		}},
		// No deployment in W: nothing qualifies, no value (not 0).
		{"empty window", "2026-03-06T00:00:00Z", 5 * day, Scope{}, map[string]want{
			"coding_time": {"nil", 0}, "pickup_time": {"nil", 0}, "review_time": {"nil", 0}, "deploy_time": {"nil", 0},
		}},
	}
	for _, c := range cases {
		if got := at(c.asOf, c.window, c.scope); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
		}
	}

	// The drill-down lists the changes each stage rests on, with its span.
	r, _ := d.Compute("review_time", Query{AsOf: ts(t, defaultAsOf), Window: 30 * day, Records: true})
	var got []string
	for _, ref := range r.Records {
		got = append(got, fmt.Sprintf("%s=%s", ref.ID, cacheVal(ref.Value)))
	}
	slices.Sort(got)
	if want := []string{"c10=24", "c1=18", "c4=22", "c7=6"}; !slices.Equal(got, want) {
		t.Errorf("review_time records = %v, want %v", got, want)
	}
}

// Changes without the stage's timestamps leave the stage without a value,
// while deploy time, which every shipped change has, still has one.
func TestFlowStageWithoutTimestamps(t *testing.T) {
	d := load(t, nil, `
{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-10T00:00:00Z","status":"success"}
{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-09T00:00:00Z"}
{"kind":"change","id":"c2","service":"api","authored_at":"2026-03-01T00:00:00Z","merged_at":"2026-03-09T12:00:00Z"}`)
	for id, want := range map[string]string{"coding_time": "nil", "pickup_time": "nil", "review_time": "nil", "deploy_time": "18"} {
		r, _ := d.Compute(id, Query{AsOf: ts(t, defaultAsOf), Window: 30 * day})
		if cacheVal(r.Value) != want {
			t.Errorf("%s = %s (n=%d), want %s", id, cacheVal(r.Value), r.Count, want)
		}
	}
}

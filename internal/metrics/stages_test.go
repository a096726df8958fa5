package metrics

import (
	"fmt"
	"testing"
)

// Open pipeline by stage as of 2026-03-31: o1..o3 in proposal (ages 10,
// 20 and 40 days), o4 in prospecting (2 days); o5 closed before as_of and
// o6 created after it are not open; o7 closed after as_of still is (30
// days old), on the line of those closed since: the stage it was in then is
// not recorded (its record's is the one it has now). Unqualified opportunities count: a stage says
// where an opportunity is whether or not it has been qualified.
const stageData = `
{"kind":"opportunity","id":"o1","created_at":"2026-03-21T00:00:00Z","amount":100,"stage":"proposal"}
{"kind":"opportunity","id":"o2","created_at":"2026-03-11T00:00:00Z","amount":200,"stage":"proposal","qualified_at":"2026-03-12T00:00:00Z"}
{"kind":"opportunity","id":"o3","created_at":"2026-02-19T00:00:00Z","amount":300,"stage":"proposal"}
{"kind":"opportunity","id":"o4","created_at":"2026-03-29T00:00:00Z","amount":50,"stage":"prospecting"}
{"kind":"opportunity","id":"o5","created_at":"2026-01-01T00:00:00Z","amount":999,"stage":"closed_won","closed_at":"2026-03-01T00:00:00Z","won":true}
{"kind":"opportunity","id":"o6","created_at":"2026-04-02T00:00:00Z","amount":999,"stage":"prospecting"}
{"kind":"opportunity","id":"o7","created_at":"2026-03-01T00:00:00Z","amount":70,"stage":"negotiation","closed_at":"2026-04-05T00:00:00Z","won":true}
`

func TestPipelineByStage(t *testing.T) {
	d := load(t, nil, stageData)
	p := d.PipelineByStage(ts(t, defaultAsOf))
	if p.Open != 5 || p.Amount == nil || *p.Amount != 720 || p.Currency != "USD" || p.Reason != "" {
		t.Fatalf("pipeline = %+v", p)
	}
	// Youngest stage first (by median age): prospecting 2 d, proposal 20 d;
	// those closed since last.
	var got []string
	for _, s := range p.Stages {
		got = append(got, fmt.Sprintf("%s n=%d amount=%s median=%g oldest=%g %s", s.Stage, s.Count, show(s.Amount), s.MedianAgeDays, s.OldestAgeDays, s.Oldest.ID))
	}
	want := []string{
		"prospecting n=1 amount=50 median=2 oldest=2 o4",
		"proposal n=3 amount=600 median=20 oldest=40 o3",
		ClosedSince + " n=1 amount=70 median=30 oldest=30 o7",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stages =\n%v\nwant\n%v", got, want)
	}
	if fmt.Sprint(p.Unordered) != "[prospecting proposal]" {
		t.Errorf("unordered = %v: without pipeline_stages every stage is ordered by its age", p.Unordered)
	}

	// No opportunity yet at as_of, and none at all, say so.
	if p := d.PipelineByStage(ts(t, "2025-12-31T00:00:00Z")); p.Open != 0 || p.Reason != "no opportunity data" {
		t.Errorf("before any opportunity: %+v", p)
	}
	if p := d.PipelineByStage(ts(t, "2026-03-05T00:00:00Z")); p.Open != 2 || len(p.Stages) != 2 {
		t.Errorf("as of 03-05: %+v", p)
	}
	all := load(t, nil, `{"kind":"opportunity","id":"x","created_at":"2026-01-01T00:00:00Z","amount":1,"stage":"a","closed_at":"2026-01-02T00:00:00Z"}`)
	if p := all.PipelineByStage(ts(t, defaultAsOf)); p.Open != 0 || p.Reason != "no open opportunities" || p.Amount == nil || *p.Amount != 0 {
		t.Errorf("all closed: %+v", p)
	}

	// A currency without a rate leaves amounts out and says why; counts
	// and ages stay.
	eur := load(t, nil, stageData+`{"kind":"opportunity","id":"o8","created_at":"2026-03-30T00:00:00Z","amount":10,"currency":"EUR","stage":"proposal"}`)
	p = eur.PipelineByStage(ts(t, defaultAsOf))
	if p.Amount != nil || p.Open != 6 || p.Reason == "" || p.Stages[0].Amount != nil {
		t.Errorf("EUR without a rate: %+v", p)
	}
	cfg := DefaultConfig()
	cfg.ExchangeRates = map[string]float64{"EUR": 2}
	eur = load(t, &cfg, stageData+`{"kind":"opportunity","id":"o8","created_at":"2026-03-30T00:00:00Z","amount":10,"currency":"EUR","stage":"proposal"}`)
	if p := eur.PipelineByStage(ts(t, defaultAsOf)); p.Amount == nil || *p.Amount != 740 {
		t.Errorf("EUR at 2: %+v", p)
	}
}

func show(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

// TestPipelineStageOrder: with pipeline_stages the stages come in the funnel's order, whatever
// their ages — a qualification stage where deals stall had come after negotiation on the CRO's
// view — compared regardless of case; a stage it does not name comes after them, and is named.
func TestPipelineStageOrder(t *testing.T) {
	data := stageData + `
{"kind":"opportunity","id":"q1","created_at":"2026-02-01T00:00:00Z","amount":5,"stage":"qualification"}
{"kind":"opportunity","id":"l1","created_at":"2026-03-30T00:00:00Z","amount":5,"stage":"legal review"}
`
	stages := func(p Pipeline) string {
		var out []string
		for _, s := range p.Stages {
			out = append(out, s.Stage)
		}
		return fmt.Sprint(out)
	}
	byAge := load(t, nil, data).PipelineByStage(ts(t, defaultAsOf))
	if got := stages(byAge); got != "[legal review prospecting proposal qualification "+ClosedSince+"]" {
		t.Errorf("without pipeline_stages: %s, want youngest first", got)
	}
	cfg := DefaultConfig()
	cfg.PipelineStages = []string{"Prospecting", "qualification", " PROPOSAL", "negotiation", "contract sent"}
	p := load(t, &cfg, data).PipelineByStage(ts(t, defaultAsOf))
	if got := stages(p); got != "[prospecting qualification proposal legal review "+ClosedSince+"]" {
		t.Errorf("with pipeline_stages: %s, want the funnel's order, then the stage it does not name", got)
	}
	if fmt.Sprint(p.Unordered) != "[legal review]" {
		t.Errorf("unordered = %v, want [legal review]", p.Unordered)
	}
	if got := p.OrderNote(); got != "After the funnel's stages by median age, not in pipeline_stages: legal review." {
		t.Errorf("order note %q", got)
	}
	if got := byAge.OrderNote(); got != "Stages by median age, youngest first: set pipeline_stages (docs/configuration.md) to list them in your funnel's order." {
		t.Errorf("order note without pipeline_stages %q", got)
	}
	cfg.PipelineStages = append(cfg.PipelineStages, "Legal Review")
	if p := load(t, &cfg, data).PipelineByStage(ts(t, defaultAsOf)); p.Unordered != nil || p.OrderNote() != "" {
		t.Errorf("every stage named: unordered %v, note %q", p.Unordered, p.OrderNote())
	}
}

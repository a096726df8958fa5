package metrics

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Pipeline is the open pipeline at as_of by stage: what the CRO's view
// shows beside pipeline coverage (SPEC §4, "pipeline by stage").
type Pipeline struct {
	Currency string `json:"currency"`
	// Open counts the opportunities created at or before as_of and not
	// closed by then, qualified or not: a stage says where an opportunity
	// is either way.
	Open int `json:"open"`
	// Amount is their Σ amount in the organisation currency; null when an
	// amount is in a currency without an exchange rate (Reason says which).
	Amount *float64    `json:"amount"`
	Stages []StageLine `json:"stages"`
	// Unordered names the stages pipeline_stages does not (all of them
	// when it is not set): they come after the configured ones, youngest
	// first by median age, a guess at the funnel's order.
	Unordered []string `json:"unordered,omitempty"`
	// Reason says why there are no stages, or no amounts.
	Reason string `json:"reason,omitempty"`
}

// ClosedSince is the line of PipelineByStage that gathers the
// opportunities open at as_of and closed since: their recorded stage is
// the one they closed at (closed_won, closed_lost), not the stage they
// were in then, which Candor does not keep. A month's CRO view had listed
// 20 deals lost since as "closed_lost · 504,100 USD" of its open pipeline.
const ClosedSince = "closed since (stage then not recorded)"

// StageLine is one stage of the open pipeline and how long its
// opportunities have been open.
type StageLine struct {
	Stage  string   `json:"stage"`
	Count  int      `json:"count"`
	Amount *float64 `json:"amount"`
	// Ages are days from created_at to as_of, exact.
	MedianAgeDays float64 `json:"median_age_days"`
	OldestAgeDays float64 `json:"oldest_age_days"`
	// Oldest is the stage's longest-open opportunity (ties by id).
	Oldest Ref `json:"oldest"`
}

// PipelineByStage groups the opportunities open at asOf by their stage,
// in the funnel's order: the configured pipeline_stages' (compared
// regardless of case), then the stages it does not name — all of them
// without it — youngest first by median age, ties by name. Stages are free
// text, and median age is only a guess at the order a sales process moves
// through them: a stage where deals stall comes late. The stage is the one
// recorded: Candor keeps no stage history, so as of a past time an
// opportunity still open shows the stage it has now, and one closed since
// is on the ClosedSince line, last.
func (d *Dataset) PipelineByStage(asOf time.Time) Pipeline {
	at := asOf.UnixNano()
	c := d.converter()
	p := Pipeline{Currency: c.org}
	type acc struct {
		ages   []float64
		amount domain.Money
		oldest *oppRow
	}
	stages := map[string]*acc{}
	var total domain.Money
	seen := false
	for o := range d.opps().all() {
		created := o.created
		if created > at {
			continue
		}
		seen = true
		if cl := o.closed; cl != 0 && cl <= at {
			continue
		}
		stage := d.str(o.stage)
		if o.closed != 0 {
			stage = ClosedSince
		}
		s := stages[stage]
		if s == nil {
			s = &acc{}
			stages[stage] = s
		}
		p.Open++
		s.ages = append(s.ages, days(at-created))
		if m, ok := c.to(domain.KindOpportunity, o.id, o.currency, o.amount); ok {
			s.amount += m
			total += m
		}
		if s.oldest == nil || created < s.oldest.created || (created == s.oldest.created && d.str(o.id) < d.str(s.oldest.id)) {
			s.oldest = o
		}
	}
	switch {
	case !seen:
		p.Reason = "no opportunity data"
	case p.Open == 0:
		p.Reason = "no open opportunities"
	}
	money := func(m domain.Money) *float64 {
		if c.err != "" {
			return nil
		}
		return num(m.Float())
	}
	p.Amount = money(total)
	if c.err != "" {
		p.Reason = c.err
	}
	p.Stages = []StageLine{}
	for name, s := range stages {
		oldest := s.ages[0]
		for _, a := range s.ages {
			oldest = max(oldest, a)
		}
		p.Stages = append(p.Stages, StageLine{
			Stage: name, Count: len(s.ages), Amount: money(s.amount),
			MedianAgeDays: *median(s.ages), OldestAgeDays: oldest,
			Oldest: Ref{Kind: domain.KindOpportunity, ID: d.str(s.oldest.id), Source: d.str(s.oldest.source)},
		})
	}
	rank := map[string]int{}
	for i, st := range d.cfg.PipelineStages {
		rank[strings.ToLower(strings.TrimSpace(st))] = i + 1
	}
	place := func(s StageLine) int {
		if s.Stage == ClosedSince {
			return len(rank) + 2
		}
		if r := rank[strings.ToLower(strings.TrimSpace(s.Stage))]; r > 0 {
			return r
		}
		return len(rank) + 1
	}
	slices.SortFunc(p.Stages, func(a, b StageLine) int {
		return cmp.Or(cmp.Compare(place(a), place(b)), cmp.Compare(a.MedianAgeDays, b.MedianAgeDays), cmp.Compare(a.Stage, b.Stage))
	})
	for _, s := range p.Stages {
		if place(s) == len(rank)+1 {
			p.Unordered = append(p.Unordered, s.Stage)
		}
	}
	return p
}

// OrderNote says how the stages are ordered where pipeline_stages does not
// settle it: "" when it names every stage.
func (p Pipeline) OrderNote() string {
	stages := len(p.Stages)
	if stages > 0 && p.Stages[stages-1].Stage == ClosedSince {
		stages--
	}
	switch {
	case len(p.Unordered) == 0:
		return ""
	case len(p.Unordered) == stages:
		return "Stages by median age, youngest first: set pipeline_stages (docs/configuration.md) to list them in your funnel's order."
	}
	return "After the funnel's stages by median age, not in pipeline_stages: " + strings.Join(p.Unordered, ", ") + "."
}

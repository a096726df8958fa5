package metrics

import (
	"encoding/json"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Detail is what a metric reports beside its value: the DORA level, the
// parts of a ratio, the target covering as_of, why there is no value. Each
// is a typed field, so a misspelt name fails to compile; a field a metric
// does not set is absent from the JSON (pointers tell 0 from absent).
//
// Fields are declared in the order of their JSON names, so the object is
// written with its names sorted, as it was when Detail was a map.
type Detail struct {
	ARPA                  *float64          `json:"arpa,omitzero"`
	ARR                   *float64          `json:"arr,omitzero"`
	Availability          *float64          `json:"availability,omitzero"`
	Budget                *float64          `json:"budget,omitzero"`
	BySeverity            map[string]int    `json:"by_severity,omitzero"`
	CAC                   *float64          `json:"cac,omitzero"`
	Calendar              string            `json:"calendar,omitzero"`
	Churned               *int              `json:"churned,omitzero"`
	CohortEnd             *time.Time        `json:"cohort_end,omitzero"`
	CohortStart           *time.Time        `json:"cohort_start,omitzero"`
	Cost                  *float64          `json:"cost,omitzero"`
	CostPer30Days         *float64          `json:"cost_per_30_days,omitzero"`
	CostReportedUntil     *time.Time        `json:"cost_reported_until,omitzero"`
	Currency              string            `json:"currency,omitzero"`
	Current               *float64          `json:"current,omitzero"`
	Customers             []CustomerMove    `json:"customers,omitzero"`
	DeploymentDaysPerWeek *float64          `json:"deployment_days_per_week,omitzero"`
	Detractors            *int              `json:"detractors,omitzero"`
	DORALevel             string            `json:"dora_level,omitzero"`
	ElapsedShare          *float64          `json:"elapsed_share,omitzero"`
	Error                 string            `json:"error,omitzero"`
	Failed                *int              `json:"failed,omitzero"`
	Failing               *int              `json:"failing,omitzero"`
	Filtered              *Filtered         `json:"filtered,omitzero"`
	Frameworks            map[string]string `json:"frameworks,omitzero"`
	GrossMargin           *float64          `json:"gross_margin,omitzero"`
	LastThirtyDays        *int              `json:"last_30d,omitzero"`
	Links                 *Links            `json:"links,omitzero"`
	MaturationLagDays     *float64          `json:"maturation_lag_days,omitzero"`
	MeanActiveCustomers   *float64          `json:"mean_active_customers,omitzero"`
	MeanFirstMRR          *float64          `json:"mean_first_mrr,omitzero"`
	MeanWonAmount         *float64          `json:"mean_won_amount,omitzero"`
	// MonthlyLogoChurn is lifetime value's monthly logo churn in percent
	// (0.515 is 0.515 % a month), as the pages show it; the formula
	// divides by it as a fraction (0.00515).
	MonthlyLogoChurn       *float64            `json:"monthly_logo_churn,omitzero"`
	MRRGained              *float64            `json:"mrr_gained,omitzero"`
	MRRLost                *float64            `json:"mrr_lost,omitzero"`
	MRRNow                 *float64            `json:"mrr_now,omitzero"`
	MRRRetained            *float64            `json:"mrr_retained,omitzero"`
	MRRStart               *float64            `json:"mrr_start,omitzero"`
	MRRT0                  *float64            `json:"mrr_t0,omitzero"`
	NewCustomers           *int                `json:"new_customers,omitzero"`
	ObservationWindowHours *float64            `json:"observation_window_hours,omitzero"`
	Open                   *int                `json:"open,omitzero"`
	PeriodEnd              *time.Time          `json:"period_end,omitzero"`
	PeriodStart            *time.Time          `json:"period_start,omitzero"`
	Pipeline               *float64            `json:"pipeline,omitzero"`
	Previous               *float64            `json:"previous,omitzero"`
	Promoters              *int                `json:"promoters,omitzero"`
	Quota                  *float64            `json:"quota,omitzero"`
	Reached                map[string]int      `json:"reached,omitzero"`
	Reason                 string              `json:"reason,omitzero"`
	Releases               []ReleaseLine       `json:"releases,omitzero"`
	Remaining              *float64            `json:"remaining,omitzero"`
	Requests               *float64            `json:"requests,omitzero"`
	SalesCycleDays         *float64            `json:"sales_cycle_days,omitzero"`
	Services               *PerService         `json:"services,omitzero"`
	Spend                  *float64            `json:"spend,omitzero"`
	Stages                 map[string]*float64 `json:"stages,omitzero"`
	Target                 *float64            `json:"target,omitzero"`
	// TargetFrom is when the target record Target comes from took effect
	// (its period_start), for a target judged at W's end (targetAt): a
	// chart draws the target from there, not back through the weeks of a
	// plan before it.
	TargetFrom   *time.Time `json:"target_from,omitzero"`
	Unrecovered  *int       `json:"unrecovered,omitzero"`
	WeightFailed *float64   `json:"weight_failed,omitzero"`
	WeightTotal  *float64   `json:"weight_total,omitzero"`
	WinRate      *float64   `json:"win_rate,omitzero"`
	WindowDays   *float64   `json:"window_days,omitzero"`
	Won          *float64   `json:"won,omitzero"`
}

// Filtered is what an organisation's metric's filter kept: of the Tried
// records of Kind the time test let in (those In the window, at as_of, …),
// Passed passed it. None passing of many is most often a value the data
// does not hold ("Enterprise" for "enterprise"), which a count or a sum
// would otherwise show as a quiet 0.
type Filtered struct {
	Kind   domain.Kind `json:"kind"`
	In     string      `json:"in"`
	Tried  int         `json:"tried"`
	Passed int         `json:"passed"`
}

// Links counts lead time's changes by how they were linked to their
// deployment (SPEC §2).
type Links struct {
	Explicit int `json:"explicit"`
	Inferred int `json:"inferred"`
}

// PerService is slo_compliance's verdict per service (Met) or
// error_budget_remaining's budget left per service, in % (Budget); one of
// the two is set.
type PerService struct {
	Met    map[string]bool
	Budget map[string]float64
}

func (p PerService) MarshalJSON() ([]byte, error) {
	if p.Met != nil {
		return json.Marshal(p.Met)
	}
	return json.Marshal(p.Budget)
}

func (p *PerService) UnmarshalJSON(b []byte) error {
	var met map[string]bool
	if json.Unmarshal(b, &met) == nil {
		p.Met, p.Budget = met, nil
		return nil
	}
	p.Met = nil
	return json.Unmarshal(b, &p.Budget)
}

// ReleaseLine is one of release_impact_score's worst releases. Fields are
// in the order of their JSON names, as for Detail.
type ReleaseLine struct {
	Baseline   float64   `json:"baseline"`
	Deployment string    `json:"deployment"`
	FinishedAt time.Time `json:"finished_at"`
	Score      float64   `json:"score"`
	Service    string    `json:"service"`
	Tickets    int       `json:"tickets"`
	Weighted   float64   `json:"weighted"`
}

// ptr returns a pointer to a copy of v: Detail's optional fields.
func ptr[T any](v T) *T { return &v }

package domain

import (
	"strings"
	"time"
)

// Record is any validated record. Records marshal to their canonical JSON
// (SPEC field names), which is what the store keeps and reloads.
type Record interface {
	Kind() Kind
	Header() *Meta
	// EventTime is the timestamp that says when the record's event happened;
	// it drives freshness ("no data since …") and time-ordered indexes.
	EventTime() time.Time
}

// Meta holds the fields every kind shares.
type Meta struct {
	ID     string `json:"id"`
	Source string `json:"source,omitempty"`
}

// Key returns the record's identity within its kind and source.
func KeyOf(r Record) Key { return Key{Kind: r.Kind(), Source: r.Header().Source, ID: r.Header().ID} }

type Service struct {
	Meta
	Name           string   `json:"name"`
	Team           string   `json:"team,omitempty"`
	Owner          string   `json:"owner,omitempty"`
	Tier           int      `json:"tier,omitempty"`
	CustomerFacing bool     `json:"customer_facing,omitempty"`
	BusinessUnit   string   `json:"business_unit,omitempty"`
	SLOTarget      float64  `json:"slo_target,omitempty"`
	Repo           string   `json:"repo,omitempty"`
	Paths          []string `json:"paths,omitempty"`
}

type Deployment struct {
	Meta
	Service          string    `json:"service"`
	Environment      string    `json:"environment"`
	FinishedAt       time.Time `json:"finished_at"`
	Status           string    `json:"status"`
	EnvType          string    `json:"env_type,omitempty"`
	StartedAt        time.Time `json:"started_at,omitzero"`
	CutoverAt        time.Time `json:"cutover_at,omitzero"`
	Version          string    `json:"version,omitempty"`
	Commit           string    `json:"commit,omitempty"`
	Changes          []string  `json:"changes,omitempty"`
	ChangeRequest    string    `json:"change_request,omitempty"`
	Reason           string    `json:"reason,omitempty"`
	RollbackOf       string    `json:"rollback_of,omitempty"`
	Emergency        bool      `json:"emergency,omitempty"`
	RetroValidatedAt time.Time `json:"retro_validated_at,omitzero"`
	RiskScore        *float64  `json:"risk_score,omitempty"`
	Coverage         *float64  `json:"coverage,omitempty"`
	PipelineURL      string    `json:"pipeline_url,omitempty"`
}

// Deployment statuses and reasons (SPEC §1).
const (
	StatusSuccess    = "success"
	StatusFailure    = "failure"
	StatusRolledBack = "rolled_back"

	ReasonPlanned  = "planned"
	ReasonHotfix   = "hotfix"
	ReasonRollback = "rollback"

	EnvProduction = "production"
	EnvStaging    = "staging"
	EnvTest       = "test"
	EnvDev        = "dev"
)

// DefaultProductionNames are the environment names that mean production
// when a deployment carries no env_type (SPEC §1).
var DefaultProductionNames = []string{"production", "prod", "prd", "live"}

type Change struct {
	Meta
	Service    string    `json:"service"`
	MergedAt   time.Time `json:"merged_at"`
	AuthoredAt time.Time `json:"authored_at,omitzero"`
	OpenedAt   time.Time `json:"opened_at,omitzero"`
	// FirstReviewAt is the first review or review comment by someone other
	// than the author. It may follow the merge (a comment after merging);
	// it may not precede opened_at.
	FirstReviewAt time.Time `json:"first_review_at,omitzero"`
	Title         string    `json:"title,omitempty"`
	Author        string    `json:"author,omitempty"`
	Commit        string    `json:"commit,omitempty"`
	URL           string    `json:"url,omitempty"`
}

type Incident struct {
	Meta
	Service               string    `json:"service"`
	Severity              string    `json:"severity"`
	OpenedAt              time.Time `json:"opened_at"`
	DetectedAt            time.Time `json:"detected_at,omitzero"`
	ResolvedAt            time.Time `json:"resolved_at,omitzero"`
	CausedBy              string    `json:"caused_by,omitempty"`
	CausedByChangeRequest string    `json:"caused_by_change_request,omitempty"`
	CustomerFacing        bool      `json:"customer_facing,omitempty"`
	Origin                string    `json:"origin,omitempty"`
	Category              string    `json:"category,omitempty"`
	Fingerprint           string    `json:"fingerprint,omitempty"`
	PostmortemDueAt       time.Time `json:"postmortem_due_at,omitzero"`
	PostmortemDoneAt      time.Time `json:"postmortem_done_at,omitzero"`
	URL                   string    `json:"url,omitempty"`
}

type SLI struct {
	Meta
	Service     string    `json:"service"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Good        float64   `json:"good"`
	Total       float64   `json:"total"`
	Objective   string    `json:"objective,omitempty"`
}

type Ticket struct {
	Meta
	CreatedAt   time.Time `json:"created_at"`
	Customer    string    `json:"customer,omitempty"`
	Segment     string    `json:"segment,omitempty"`
	ResolvedAt  time.Time `json:"resolved_at,omitzero"`
	Priority    string    `json:"priority,omitempty"`
	Category    string    `json:"category,omitempty"`
	UserRole    string    `json:"user_role,omitempty"`
	Criticality string    `json:"criticality,omitempty"`
	Escalated   bool      `json:"escalated,omitempty"`
	SLADueAt    time.Time `json:"sla_due_at,omitzero"`
	Release     string    `json:"release,omitempty"`
	Text        string    `json:"text,omitempty"`
	// Service is what the ticket is about, when its source knows; release
	// impact attributes a ticket without a release by it.
	Service string `json:"service,omitempty"`
}

type Survey struct {
	Meta
	At       time.Time `json:"at"`
	Type     string    `json:"type"`
	Score    float64   `json:"score"`
	Customer string    `json:"customer,omitempty"`
	Release  string    `json:"release,omitempty"`
}

// Severities are a vulnerability's severities (SPEC §1), worst first: the
// values its record takes, and the order every list of them follows.
var Severities = []string{"critical", "high", "medium", "low"}

// SeverityRank is a severity's place in Severities, worst first; one that
// is none of them comes after.
func SeverityRank(s string) int {
	s = strings.ToLower(s)
	for i, v := range Severities {
		if v == s {
			return i
		}
	}
	return len(Severities)
}

type Vulnerability struct {
	Meta
	Severity string    `json:"severity"`
	OpenedAt time.Time `json:"opened_at"`
	Service  string    `json:"service,omitempty"`
	FixedAt  time.Time `json:"fixed_at,omitzero"`
	CVE      string    `json:"cve,omitempty"`
	KEV      bool      `json:"kev,omitempty"`
	Package  string    `json:"package,omitempty"`
	URL      string    `json:"url,omitempty"`
}

type Control struct {
	Meta
	Control     string    `json:"control"`
	CheckedAt   time.Time `json:"checked_at"`
	Passed      bool      `json:"passed"`
	Name        string    `json:"name,omitempty"`
	Framework   string    `json:"framework,omitempty"`
	EvidenceURL string    `json:"evidence_url,omitempty"`
}

type Cost struct {
	Meta
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Amount      Money     `json:"amount"`
	Currency    string    `json:"currency"`
	Service     string    `json:"service,omitempty"`
	Category    string    `json:"category,omitempty"`
	Provider    string    `json:"provider,omitempty"`
	Tags        []string  `json:"tags,omitempty"`
}

type Usage struct {
	Meta
	PeriodStart     time.Time `json:"period_start"`
	PeriodEnd       time.Time `json:"period_end"`
	Requests        *float64  `json:"requests,omitempty"`
	ActiveCustomers *float64  `json:"active_customers,omitempty"`
	Service         string    `json:"service,omitempty"`
}

type Budget struct {
	Meta
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Amount      Money     `json:"amount"`
	Currency    string    `json:"currency"`
	Category    string    `json:"category,omitempty"`
}

type Subscription struct {
	Meta
	Customer  string    `json:"customer"`
	StartedAt time.Time `json:"started_at"`
	MRR       Money     `json:"mrr"`
	Currency  string    `json:"currency"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
	Plan      string    `json:"plan,omitempty"`
	Segment   string    `json:"segment,omitempty"`
	Interval  string    `json:"interval,omitempty"`
	Quantity  *float64  `json:"quantity,omitempty"`
	Discount  *float64  `json:"discount,omitempty"`
}

type Opportunity struct {
	Meta
	CreatedAt   time.Time `json:"created_at"`
	Amount      Money     `json:"amount"`
	Currency    string    `json:"currency"`
	Stage       string    `json:"stage"`
	Owner       string    `json:"owner,omitempty"`
	QualifiedAt time.Time `json:"qualified_at,omitzero"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	Won         bool      `json:"won,omitempty"`
	CloseDate   Date      `json:"close_date,omitzero"`
	Channel     string    `json:"channel,omitempty"`
}

type Lead struct {
	Meta
	CreatedAt   time.Time `json:"created_at"`
	MQLAt       time.Time `json:"mql_at,omitzero"`
	SQLAt       time.Time `json:"sql_at,omitzero"`
	Opportunity string    `json:"opportunity,omitempty"`
	Channel     string    `json:"channel,omitempty"`
	Campaign    string    `json:"campaign,omitempty"`
}

type Quota struct {
	Meta
	Owner       string    `json:"owner"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Amount      Money     `json:"amount"`
	Currency    string    `json:"currency"`
}

type Spend struct {
	Meta
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Category    string    `json:"category"`
	Amount      Money     `json:"amount"`
	Currency    string    `json:"currency"`
}

type Target struct {
	Meta
	Metric      string    `json:"metric"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	Value       float64   `json:"value"`
	Scope       string    `json:"scope,omitempty"`
}

// Measurement is any number an organisation tracks that no other kind
// holds — a team-health survey score, a feature's adoption, a conversion
// rate, a page latency from an analytics tool — at the moment it was
// taken. Organisation-defined metrics read it.
type Measurement struct {
	Meta
	Metric string    `json:"metric"`
	At     time.Time `json:"at"`
	Value  float64   `json:"value"`
	// Service, Team, Customer and Segment say what the number is about,
	// when it is about something narrower than the organisation.
	Service  string `json:"service,omitempty"`
	Team     string `json:"team,omitempty"`
	Customer string `json:"customer,omitempty"`
	Segment  string `json:"segment,omitempty"`
	Unit     string `json:"unit,omitempty"`
	// Tags are "key=value" items (or plain labels), read as cost tags are.
	Tags []string `json:"tags,omitempty"`
}

func (*Service) Kind() Kind       { return KindService }
func (*Deployment) Kind() Kind    { return KindDeployment }
func (*Change) Kind() Kind        { return KindChange }
func (*Incident) Kind() Kind      { return KindIncident }
func (*SLI) Kind() Kind           { return KindSLI }
func (*Ticket) Kind() Kind        { return KindTicket }
func (*Survey) Kind() Kind        { return KindSurvey }
func (*Vulnerability) Kind() Kind { return KindVulnerability }
func (*Control) Kind() Kind       { return KindControl }
func (*Cost) Kind() Kind          { return KindCost }
func (*Usage) Kind() Kind         { return KindUsage }
func (*Budget) Kind() Kind        { return KindBudget }
func (*Subscription) Kind() Kind  { return KindSubscription }
func (*Opportunity) Kind() Kind   { return KindOpportunity }
func (*Lead) Kind() Kind          { return KindLead }
func (*Quota) Kind() Kind         { return KindQuota }
func (*Spend) Kind() Kind         { return KindSpend }
func (*Target) Kind() Kind        { return KindTarget }
func (*Measurement) Kind() Kind   { return KindMeasurement }

func (m *Meta) Header() *Meta { return m }

// Service records are reference data and carry no event time.
func (r *Service) EventTime() time.Time { return time.Time{} }

// A deployment happens when it finishes, or at its cutover when that is
// later (the service switched over after the pipeline finished).
func (r *Deployment) EventTime() time.Time { return latest(r.FinishedAt, r.CutoverAt) }
func (r *Change) EventTime() time.Time     { return r.MergedAt }

// An incident's newest event is its resolution when there is one, so a
// feed that only sends resolutions still counts as fresh. Postmortem dates
// are paperwork after the fact and do not count.
func (r *Incident) EventTime() time.Time {
	return latest(latest(r.OpenedAt, r.DetectedAt), r.ResolvedAt)
}
func (r *SLI) EventTime() time.Time           { return r.PeriodEnd }
func (r *Ticket) EventTime() time.Time        { return latest(r.CreatedAt, r.ResolvedAt) }
func (r *Survey) EventTime() time.Time        { return r.At }
func (r *Vulnerability) EventTime() time.Time { return latest(r.OpenedAt, r.FixedAt) }
func (r *Control) EventTime() time.Time       { return r.CheckedAt }
func (r *Cost) EventTime() time.Time          { return r.PeriodEnd }
func (r *Usage) EventTime() time.Time         { return r.PeriodEnd }

// Budgets, quotas and targets are plans set ahead of time; what makes them
// current is that their period has started.
func (r *Budget) EventTime() time.Time       { return r.PeriodStart }
func (r *Subscription) EventTime() time.Time { return latest(r.StartedAt, r.EndedAt) }
func (r *Opportunity) EventTime() time.Time {
	return latest(latest(r.CreatedAt, r.ClosedAt), r.QualifiedAt)
}
func (r *Lead) EventTime() time.Time   { return latest(latest(r.CreatedAt, r.MQLAt), r.SQLAt) }
func (r *Quota) EventTime() time.Time  { return r.PeriodStart }
func (r *Spend) EventTime() time.Time  { return r.PeriodEnd }
func (r *Target) EventTime() time.Time { return r.PeriodStart }

// A measurement is a reading at one moment; nothing about it happens later.
func (r *Measurement) EventTime() time.Time { return r.At }

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// New returns an empty record of the kind, for decoding stored JSON.
func New(k Kind) Record {
	switch k {
	case KindService:
		return &Service{}
	case KindDeployment:
		return &Deployment{}
	case KindChange:
		return &Change{}
	case KindIncident:
		return &Incident{}
	case KindSLI:
		return &SLI{}
	case KindTicket:
		return &Ticket{}
	case KindSurvey:
		return &Survey{}
	case KindVulnerability:
		return &Vulnerability{}
	case KindControl:
		return &Control{}
	case KindCost:
		return &Cost{}
	case KindUsage:
		return &Usage{}
	case KindBudget:
		return &Budget{}
	case KindSubscription:
		return &Subscription{}
	case KindOpportunity:
		return &Opportunity{}
	case KindLead:
		return &Lead{}
	case KindQuota:
		return &Quota{}
	case KindSpend:
		return &Spend{}
	case KindTarget:
		return &Target{}
	case KindMeasurement:
		return &Measurement{}
	case KindRetroValidation:
		return &RetroValidation{}
	case KindVulnerabilityScan:
		return &VulnerabilityScan{}
	}
	return nil
}

// Production reports whether the deployment counts as a production one:
// its explicit env_type, else its environment name matched
// case-insensitively against the configured production names (SPEC §1);
// no names (nil or empty) means DefaultProductionNames.
func (d *Deployment) Production(prodNames []string) bool {
	if d.EnvType != "" {
		return strings.EqualFold(d.EnvType, EnvProduction)
	}
	if len(prodNames) == 0 {
		prodNames = DefaultProductionNames
	}
	env := strings.TrimSpace(d.Environment)
	for _, n := range prodNames {
		if strings.EqualFold(env, strings.TrimSpace(n)) {
			return true
		}
	}
	return false
}

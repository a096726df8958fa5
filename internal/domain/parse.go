package domain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// FieldError says which field of a record is wrong and why. Import errors
// wrap it with the file and line.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	return "field " + e.Field + ": " + e.Reason
}

// Value is one field as it arrived: raw JSON from NDJSON and API bodies, or
// a cell's text from CSV. Parsing is shared so both formats obey one set of
// rules and produce the same errors.
type Value struct {
	Raw  []byte
	Text bool // a CSV cell: plain text, lists ';'-separated
}

// Fields maps field names to values.
type Fields map[string]Value

// ParseOptions supplies the defaults of SPEC §1.
type ParseOptions struct {
	DefaultSource   string // "import" when empty
	DefaultCurrency string // "USD" when empty
}

// ParseJSON parses one NDJSON line or API record. kind, when non-empty,
// is the kind the caller expects (a record naming another kind is refused).
func ParseJSON(line []byte, kind Kind, opt ParseOptions) (Record, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		return nil, &FieldError{Reason: "not a JSON object: " + jsonErr(err)}
	}
	f := make(Fields, len(raw))
	for k, v := range raw {
		f[k] = Value{Raw: v}
	}
	return ParseFields(f, kind, opt)
}

func jsonErr(err error) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// ParseFields validates a record given as fields. The kind comes from the
// "kind" field, or from kind when the source is one kind per file (CSV).
func ParseFields(f Fields, kind Kind, opt ParseOptions) (Record, error) {
	p := &parser{f: f, used: map[string]bool{"kind": true}}
	if v, ok := f["kind"]; ok && !isNull(v) {
		s := p.text("kind", v)
		if p.err != nil {
			return nil, p.err
		}
		k, err := ParseKind(s)
		if err != nil {
			return nil, &FieldError{Field: "kind", Reason: err.Error()}
		}
		if kind != "" && k != kind {
			return nil, &FieldError{Field: "kind", Reason: fmt.Sprintf("is %q but %q was expected", k, kind)}
		}
		kind = k
	}
	if kind == "" {
		return nil, &FieldError{Field: "kind", Reason: "required (one of " + kindList() + ")"}
	}
	r := New(kind)
	if r == nil {
		return nil, &FieldError{Field: "kind", Reason: fmt.Sprintf("unknown kind %q", kind)}
	}
	m := r.Header()
	m.ID = p.str("id", true)
	m.Source = p.str("source", false)
	if m.Source == "" {
		m.Source = opt.DefaultSource
		if m.Source == "" {
			m.Source = "import"
		}
	}
	cur := opt.DefaultCurrency
	if cur == "" {
		cur = "USD"
	}
	p.fill(r, cur)
	if p.err == nil {
		p.unknown()
	}
	if p.err != nil {
		return nil, p.err
	}
	return r, nil
}

type parser struct {
	f    Fields
	used map[string]bool
	err  *FieldError
}

func (p *parser) fail(field, format string, args ...any) {
	if p.err == nil {
		p.err = &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
	}
}

func isNull(v Value) bool {
	if v.Text {
		return strings.TrimSpace(string(v.Raw)) == ""
	}
	t := bytes.TrimSpace(v.Raw)
	return len(t) == 0 || string(t) == "null" || string(t) == `""`
}

// get returns the field's value, or ok=false when absent or empty; a
// missing required field is reported here.
func (p *parser) get(name string, required bool) (Value, bool) {
	p.used[name] = true
	v, ok := p.f[name]
	if !ok || isNull(v) {
		if required {
			p.fail(name, "required")
		}
		return Value{}, false
	}
	return v, true
}

// text decodes a string; bare JSON numbers are accepted for string fields
// because exported ids are often numeric.
func (p *parser) text(name string, v Value) string {
	if v.Text {
		return strings.TrimSpace(string(v.Raw))
	}
	raw := bytes.TrimSpace(v.Raw)
	if len(raw) > 0 && raw[0] == '"' {
		if bytes.IndexByte(raw, '\\') < 0 && len(raw) >= 2 {
			return string(raw[1 : len(raw)-1])
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			p.fail(name, "invalid string")
		}
		return s
	}
	if len(raw) > 0 && (raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')) {
		return string(raw)
	}
	p.fail(name, "must be a string, got %s", clip(raw))
	return ""
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

func (p *parser) str(name string, required bool) string {
	v, ok := p.get(name, required)
	if !ok {
		return ""
	}
	return p.text(name, v)
}

func (p *parser) enum(name string, required bool, allowed ...string) string {
	s := p.str(name, required)
	if s == "" {
		return ""
	}
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	p.fail(name, "%q is not one of %s", s, strings.Join(allowed, ", "))
	return s
}

func (p *parser) time(name string, required bool) time.Time {
	v, ok := p.get(name, required)
	if !ok {
		return time.Time{}
	}
	if !v.Text && bytes.TrimSpace(v.Raw)[0] != '"' {
		p.fail(name, "must be an RFC 3339 timestamp string, got %s", clip(v.Raw))
		return time.Time{}
	}
	s := p.text(name, v)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		p.fail(name, "%q is not an RFC 3339 timestamp (e.g. 2026-03-01T12:00:00Z)", s)
		return time.Time{}
	}
	return t.UTC()
}

func (p *parser) number(name string, required bool) (float64, bool) {
	v, ok := p.get(name, required)
	if !ok {
		return 0, false
	}
	raw := strings.TrimSpace(string(v.Raw))
	if !v.Text && strings.HasPrefix(raw, `"`) {
		p.fail(name, "must be a number, got a string %s", clip(v.Raw))
		return 0, false
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		p.fail(name, "%q is not a number", raw)
		return 0, false
	}
	return f, true
}

func (p *parser) optNumber(name string) *float64 {
	f, ok := p.number(name, false)
	if !ok {
		return nil
	}
	return &f
}

func (p *parser) rangeCheck(name string, f float64, lo, hi float64) {
	if f < lo || f > hi {
		p.fail(name, "%v is out of range [%v, %v]", f, lo, hi)
	}
}

func (p *parser) money(name string, required bool) Money {
	v, ok := p.get(name, required)
	if !ok {
		return 0
	}
	raw := strings.TrimSpace(string(v.Raw))
	if !v.Text && strings.HasPrefix(raw, `"`) {
		p.fail(name, "must be a number, got a string %s", clip(v.Raw))
		return 0
	}
	m, err := ParseMoney(raw)
	if err != nil {
		p.fail(name, "%v", err)
	}
	return m
}

func (p *parser) boolean(name string, required bool) bool {
	v, ok := p.get(name, required)
	if !ok {
		return false
	}
	s := strings.ToLower(strings.TrimSpace(string(v.Raw)))
	if v.Text {
		switch s {
		case "true", "1", "yes", "y", "t":
			return true
		case "false", "0", "no", "n", "f":
			return false
		}
	} else {
		switch s {
		case "true":
			return true
		case "false":
			return false
		}
	}
	p.fail(name, "%q is not a boolean (true or false)", s)
	return false
}

func (p *parser) list(name string) []string {
	v, ok := p.get(name, false)
	if !ok {
		return nil
	}
	if v.Text {
		var out []string
		for _, s := range strings.Split(string(v.Raw), ";") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	var arr []json.RawMessage
	if err := json.Unmarshal(v.Raw, &arr); err != nil {
		// Cost tags often arrive as an object of key → value (FOCUS, cloud
		// bills); keep them as "key=value" rather than refusing the bill.
		var obj map[string]any
		if json.Unmarshal(v.Raw, &obj) == nil {
			out := make([]string, 0, len(obj))
			for k, val := range obj {
				out = append(out, fmt.Sprintf("%s=%v", k, val))
			}
			sort.Strings(out)
			return out
		}
		p.fail(name, "must be a list of strings")
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s := p.text(fmt.Sprintf("%s[%d]", name, i), Value{Raw: e})
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) currency() string {
	c := p.str("currency", false)
	if c == "" {
		return ""
	}
	if len(c) != 3 || strings.ToUpper(c) != c || strings.ContainsAny(c, "0123456789") {
		p.fail("currency", "%q is not an ISO 4217 code (e.g. USD)", c)
	}
	return c
}

func (p *parser) order(early, late string, a, b time.Time) {
	if !a.IsZero() && !b.IsZero() && b.Before(a) {
		p.fail(late, "%s is before %s %s", b.Format(time.RFC3339), early, a.Format(time.RFC3339))
	}
}

func (p *parser) period() (time.Time, time.Time) {
	s := p.time("period_start", true)
	e := p.time("period_end", true)
	if p.err == nil && !e.After(s) {
		p.fail("period_end", "must be after period_start")
	}
	return s, e
}

func (p *parser) unknown() {
	var extra []string
	for k := range p.f {
		if !p.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		p.fail(extra[0], "unknown field (typo?)")
	}
}

func (p *parser) fill(r Record, cur string) {
	switch r := r.(type) {
	case *Service:
		r.Name = p.str("name", true)
		r.Team = p.str("team", false)
		r.Owner = p.str("owner", false)
		if f, ok := p.number("tier", false); ok {
			if f != math.Trunc(f) || f < 1 || f > 3 {
				p.fail("tier", "%v is not a tier 1, 2 or 3", f)
			}
			r.Tier = int(f)
		}
		r.CustomerFacing = p.boolean("customer_facing", false)
		r.BusinessUnit = p.str("business_unit", false)
		if f, ok := p.number("slo_target", false); ok {
			if f <= 0 || f >= 1 {
				p.fail("slo_target", "%v must be a fraction between 0 and 1 exclusive (e.g. 0.999)", f)
			}
			r.SLOTarget = f
		}
		r.Repo = p.str("repo", false)
		r.Paths = p.list("paths")
	case *Deployment:
		r.Service = p.str("service", true)
		r.Environment = p.str("environment", true)
		r.FinishedAt = p.time("finished_at", true)
		r.Status = p.enum("status", true, StatusSuccess, StatusFailure, StatusRolledBack)
		r.EnvType = p.enum("env_type", false, EnvProduction, EnvStaging, EnvTest, EnvDev)
		r.StartedAt = p.time("started_at", false)
		r.CutoverAt = p.time("cutover_at", false)
		p.order("started_at", "finished_at", r.StartedAt, r.FinishedAt)
		r.Version = p.str("version", false)
		r.Commit = p.str("commit", false)
		r.Changes = p.list("changes")
		r.ChangeRequest = p.str("change_request", false)
		r.Reason = p.enum("reason", false, ReasonPlanned, ReasonHotfix, ReasonRollback)
		r.RollbackOf = p.str("rollback_of", false)
		if r.RollbackOf != "" && r.RollbackOf == r.ID {
			p.fail("rollback_of", "a deployment cannot roll itself back")
		}
		r.Emergency = p.boolean("emergency", false)
		r.RetroValidatedAt = p.time("retro_validated_at", false)
		if r.RiskScore = p.optNumber("risk_score"); r.RiskScore != nil {
			p.rangeCheck("risk_score", *r.RiskScore, 0, 100)
		}
		if r.Coverage = p.optNumber("coverage"); r.Coverage != nil {
			p.rangeCheck("coverage", *r.Coverage, 0, 1)
		}
		r.PipelineURL = p.str("pipeline_url", false)
	case *Change:
		r.Service = p.str("service", true)
		r.MergedAt = p.time("merged_at", true)
		r.AuthoredAt = p.time("authored_at", false)
		r.OpenedAt = p.time("opened_at", false)
		r.Title = p.str("title", false)
		r.Author = p.str("author", false)
		r.Commit = p.str("commit", false)
		r.URL = p.str("url", false)
	case *Incident:
		r.Service = p.str("service", true)
		r.Severity = p.enum("severity", true, "P0", "P1", "P2", "P3", "P4")
		r.OpenedAt = p.time("opened_at", true)
		r.DetectedAt = p.time("detected_at", false)
		r.ResolvedAt = p.time("resolved_at", false)
		p.order("opened_at", "resolved_at", r.OpenedAt, r.ResolvedAt)
		r.CausedBy = p.str("caused_by", false)
		r.CausedByChangeRequest = p.str("caused_by_change_request", false)
		r.CustomerFacing = p.boolean("customer_facing", false)
		r.Origin = p.enum("origin", false, "monitoring", "customer", "internal")
		r.Category = p.str("category", false)
		r.Fingerprint = p.str("fingerprint", false)
		r.PostmortemDueAt = p.time("postmortem_due_at", false)
		r.PostmortemDoneAt = p.time("postmortem_done_at", false)
		r.URL = p.str("url", false)
	case *SLI:
		r.Service = p.str("service", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Good, _ = p.number("good", true)
		r.Total, _ = p.number("total", true)
		if p.err == nil && (r.Good < 0 || r.Total < 0) {
			p.fail("good", "counts must not be negative")
		}
		if p.err == nil && r.Good > r.Total {
			p.fail("good", "%v is greater than total %v", r.Good, r.Total)
		}
		r.Objective = p.enum("objective", false, "availability", "latency")
	case *Ticket:
		r.CreatedAt = p.time("created_at", true)
		r.Customer = p.str("customer", false)
		r.ResolvedAt = p.time("resolved_at", false)
		p.order("created_at", "resolved_at", r.CreatedAt, r.ResolvedAt)
		r.Priority = p.str("priority", false)
		r.Category = p.str("category", false)
		r.UserRole = p.str("user_role", false)
		r.Criticality = p.str("criticality", false)
		r.Escalated = p.boolean("escalated", false)
		r.SLADueAt = p.time("sla_due_at", false)
		r.Release = p.str("release", false)
		r.Text = p.str("text", false)
	case *Survey:
		r.At = p.time("at", true)
		r.Type = p.enum("type", true, "csat", "nps")
		r.Score, _ = p.number("score", true)
		if p.err == nil {
			if r.Type == "csat" {
				p.rangeCheck("score", r.Score, 1, 5)
			} else {
				p.rangeCheck("score", r.Score, 0, 10)
			}
		}
		r.Customer = p.str("customer", false)
		r.Release = p.str("release", false)
	case *Vulnerability:
		r.Severity = p.enum("severity", true, "critical", "high", "medium", "low")
		r.OpenedAt = p.time("opened_at", true)
		r.Service = p.str("service", false)
		r.FixedAt = p.time("fixed_at", false)
		p.order("opened_at", "fixed_at", r.OpenedAt, r.FixedAt)
		r.CVE = p.str("cve", false)
		r.KEV = p.boolean("kev", false)
		r.Package = p.str("package", false)
		r.URL = p.str("url", false)
	case *Control:
		r.Control = p.str("control", true)
		r.CheckedAt = p.time("checked_at", true)
		r.Passed = p.boolean("passed", true)
		r.Name = p.str("name", false)
		r.Framework = p.str("framework", false)
		r.EvidenceURL = p.str("evidence_url", false)
	case *Cost:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		r.Currency = orDefault(p.currency(), cur)
		r.Service = p.str("service", false)
		r.Category = p.str("category", false)
		r.Provider = p.str("provider", false)
		r.Tags = p.list("tags")
	case *Usage:
		r.PeriodStart, r.PeriodEnd = p.period()
		if r.Requests = p.optNumber("requests"); r.Requests != nil {
			p.rangeCheck("requests", *r.Requests, 0, math.MaxFloat64)
		}
		if r.ActiveCustomers = p.optNumber("active_customers"); r.ActiveCustomers != nil {
			p.rangeCheck("active_customers", *r.ActiveCustomers, 0, math.MaxFloat64)
		}
		r.Service = p.str("service", false)
	case *Budget:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		r.Currency = orDefault(p.currency(), cur)
		r.Category = p.str("category", false)
	case *Subscription:
		r.Customer = p.str("customer", true)
		r.StartedAt = p.time("started_at", true)
		r.MRR = p.money("mrr", true)
		if r.MRR < 0 {
			p.fail("mrr", "must not be negative")
		}
		r.Currency = orDefault(p.currency(), cur)
		r.EndedAt = p.time("ended_at", false)
		p.order("started_at", "ended_at", r.StartedAt, r.EndedAt)
		r.Plan = p.str("plan", false)
		r.Interval = p.str("interval", false)
		r.Quantity = p.optNumber("quantity")
		r.Discount = p.optNumber("discount")
	case *Opportunity:
		r.CreatedAt = p.time("created_at", true)
		r.Amount = p.money("amount", true)
		if r.Amount < 0 {
			p.fail("amount", "must not be negative")
		}
		r.Currency = orDefault(p.currency(), cur)
		r.Stage = p.str("stage", true)
		r.Owner = p.str("owner", false)
		r.QualifiedAt = p.time("qualified_at", false)
		r.ClosedAt = p.time("closed_at", false)
		r.Won = p.boolean("won", false)
		if r.Won && r.ClosedAt.IsZero() && p.err == nil {
			p.fail("won", "true requires closed_at")
		}
		if s := p.str("close_date", false); s != "" {
			d, err := ParseDate(s)
			if err != nil {
				p.fail("close_date", "%v", err)
			}
			r.CloseDate = d
		}
		r.Channel = p.str("channel", false)
	case *Lead:
		r.CreatedAt = p.time("created_at", true)
		r.MQLAt = p.time("mql_at", false)
		r.SQLAt = p.time("sql_at", false)
		r.Opportunity = p.str("opportunity", false)
		r.Channel = p.str("channel", false)
		r.Campaign = p.str("campaign", false)
	case *Quota:
		r.Owner = p.str("owner", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Amount = p.money("amount", true)
		if r.Amount < 0 {
			p.fail("amount", "must not be negative")
		}
		r.Currency = orDefault(p.currency(), cur)
	case *Spend:
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Category = p.enum("category", true, "sales", "marketing")
		r.Amount = p.money("amount", true)
		r.Currency = orDefault(p.currency(), cur)
	case *Target:
		r.Metric = p.str("metric", true)
		r.PeriodStart, r.PeriodEnd = p.period()
		r.Value, _ = p.number("value", true)
		r.Scope = p.str("scope", false)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package gate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Collections of the gate's documents, each chained in the audit ledger
// as it is appended.
const (
	DecisionCollection = "gate_decision"
	RetroCollection    = "gate_retro_validation"
)

func init() {
	// A decision holds every verdict and KPI: the entry chains its digest
	// and says what was decided about which release.
	ledger.RegisterDocs(DecisionCollection, ledger.DocSpec{Type: ledger.TypeGateDecision, Digest: true, Summary: func(body []byte) (map[string]any, error) {
		var r Result
		if err := json.Unmarshal(body, &r); err != nil {
			return nil, err
		}
		return map[string]any{"decision": r.Decision, "service": r.Release.Service, "environment": r.Release.Environment,
			"version": r.Release.Version, "change_request": r.Release.ChangeRequest, "bypass": r.Bypass}, nil
	}})
	ledger.RegisterDocs(RetroCollection, ledger.DocSpec{Type: ledger.TypeRetroValidation, Personal: []string{"by", "note"}})
}

// Request is a gate check as the API and the CLI take it.
type Request struct {
	Service       string            `json:"service"`
	Environment   string            `json:"environment"`
	Version       string            `json:"version"`
	ChangeRequest string            `json:"change_request"`
	Facts         map[string]string `json:"facts"`
}

// UnmarshalJSON takes facts as JSON values of any type (0.92, "92%",
// true) and keeps their text for ParseFacts.
func (q *Request) UnmarshalJSON(b []byte) error {
	type plain Request
	var raw struct {
		plain
		Facts map[string]json.RawMessage `json:"facts"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// The field as the body names it, not through the embedded
			// type ("plain.version").
			te.Field = strings.TrimPrefix(te.Field, "plain.")
		}
		return err
	}
	if err := uniqueFacts(b); err != nil {
		return err
	}
	*q = Request(raw.plain)
	q.Facts = map[string]string{}
	for k, v := range raw.Facts {
		if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			// Not given, as a record's null field is: it had been read
			// as "" and refused ("\"\" is not a fraction").
			continue
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		q.Facts[k] = s
	}
	return nil
}

// uniqueFacts refuses a fact named twice in the body's facts object:
// encoding/json keeps the last, so {"coverage":0.92,"coverage":0.1} was
// judged by 0.1 with nothing said (the CLI refuses a repeated --fact).
func uniqueFacts(b []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil || len(top["facts"]) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(top["facts"]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if seen[k] {
			return domain.InvalidParam("facts."+k, "given twice; give each fact once")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

// maxName bounds an identifier (SPEC §1).
const maxName = 256

// Evaluate judges a request at now: it reads the KPIs the policies need
// for the service from ds (call it under the engine's read lock) and
// returns the decision, not yet recorded. seq is the store sequence ds
// reflects (engine.Seq under the read lock): the service's KPIs are
// computed once per sequence and reused for up to KPIMaxAge, so a burst
// of checks costs one computation; seq < 0 always computes. Bad input is
// invalid, naming the field.
func Evaluate(p *Policies, cat *catalog.Catalog, ds *metrics.Dataset, seq int64, q Request, now time.Time) (Result, error) {
	for _, f := range []struct{ name, v string }{{"service", q.Service}, {"environment", q.Environment}, {"version", q.Version}, {"change_request", q.ChangeRequest}} {
		v := strings.TrimSpace(f.v)
		switch {
		case v == "" && f.name != "change_request":
			return Result{}, domain.InvalidParam(f.name, "required")
		case len(v) > maxName:
			return Result{}, domain.InvalidParam(f.name, "%d bytes; at most %d", len(v), maxName)
		case !utf8.ValidString(v):
			return Result{}, domain.InvalidParam(f.name, "not valid UTF-8")
		}
	}
	facts, err := ParseFacts(q.Facts)
	if err != nil {
		return Result{}, err
	}
	rel := Release{Service: strings.TrimSpace(q.Service), Environment: strings.TrimSpace(q.Environment), Version: strings.TrimSpace(q.Version),
		ChangeRequest: strings.TrimSpace(q.ChangeRequest), Facts: facts}
	prod := func(env string) bool {
		return (&domain.Deployment{Environment: ds.CanonicalEnvironment(env)}).Production(ds.Config().ProductionNames) ||
			(&domain.Deployment{Environment: env}).Production(ds.Config().ProductionNames)
	}
	rel.Production = prod(rel.Environment)
	if !rel.Production {
		names := ds.Config().ProductionNames
		if len(names) == 0 {
			names = domain.DefaultProductionNames
		}
		rel.Meant = misspeltEnvironment(rel.Environment, ds.CanonicalEnvironment(rel.Environment), ds.DimValues("environment"), names)
		rel.MeantProduction = rel.Meant != "" && prod(rel.Meant)
	}
	rel.Tier, _ = strconv.Atoi(ds.ServiceAttr(rel.Service, "tier"))
	rel.Team = ds.ServiceAttr(rel.Service, "team")
	r := p.Evaluate(rel, p.cache.get(rel.Service, seq, now, func() map[string]KPI { return ServiceKPIs(p, cat, ds, rel.Service, now) }), now)
	if services := ds.DimValues("service"); !slices.Contains(services, rel.Service) {
		r.Warnings = append(r.Warnings, noRecordOf("service", rel.Service, domain.Closest(rel.Service, services),
			"no service record, deployment or other record names it",
			"no tier, team or KPI of it applies — a first release, or a misspelt name"))
	}
	if rel.Meant != "" {
		// What it did, only when a policy or window was judged unknown for
		// it: with none scoped to the environment meant, nothing changed.
		did := ""
		if slices.ContainsFunc(r.Rules, func(v Verdict) bool { return strings.Contains(v.Reason, unclearEnvironmentText(rel)) }) {
			did = "the policies scoped to the environment meant could not tell whether they apply, and gave their on_unknown verdict"
		}
		r.Warnings = append(r.Warnings, noRecordOf("environment", rel.Environment, rel.Meant, "no deployment names it", did))
	}
	return r, nil
}

// misspeltEnvironment is the environment a record names (canon: the one
// env's alias stands for), or the production name, that env no record
// names is a typo of (domain.Misspelling): "" for a known one, and for one
// near none — a first deployment to a new environment, a preview
// environment per pull request (pr-42, prod-eu) is judged as written. A
// misspelt --environment ("prodution") had been judged not production:
// every production policy skipped it, and the gate allowed it.
func misspeltEnvironment(env, canon string, known, production []string) string {
	for _, k := range known {
		if strings.EqualFold(k, env) || strings.EqualFold(k, canon) {
			return ""
		}
	}
	return domain.Misspelling(env, slices.Concat(known, production))
}

// noRecordOf warns of a release naming a service or environment (dim) no
// record names (why), with the name most likely meant and what it changed
// when said: a misspelt --service had passed an untiered policy without a
// word.
func noRecordOf(dim, name, meant, why, did string) string {
	w := fmt.Sprintf("Candor has no record of %s %q (%s", dim, name, why)
	if meant != "" {
		w += fmt.Sprintf("; did you mean %q?", meant)
	}
	w += ")"
	if did != "" {
		w += ": " + did
	}
	return w
}

// KPIMaxAge is how long a service's KPIs computed for a data sequence are
// reused: the KPIs a gate reads are as of at most this long before the
// check (their windows are days long; a minute moves them by nothing a
// gate could tell).
const KPIMaxAge = time.Minute

// kpiCache keeps each service's KPIs of the latest data sequence.
type kpiCache struct {
	mu sync.Mutex
	m  map[string]kpiEntry
}

type kpiEntry struct {
	seq  int64
	at   time.Time
	kpis map[string]KPI
}

func (c *kpiCache) get(service string, seq int64, now time.Time, compute func() map[string]KPI) map[string]KPI {
	if seq < 0 {
		return compute()
	}
	c.mu.Lock()
	e, ok := c.m[service]
	c.mu.Unlock()
	if ok && e.seq == seq && !now.Before(e.at) && now.Sub(e.at) < KPIMaxAge {
		return e.kpis
	}
	kpis := compute()
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]kpiEntry{}
	}
	// One entry per service: the cache is bounded by the services checked.
	c.m[service] = kpiEntry{seq: seq, at: now, kpis: kpis}
	c.mu.Unlock()
	return kpis
}

// ServiceKPIs are the policies' KPIs for a service as of now.
func ServiceKPIs(p *Policies, cat *catalog.Catalog, ds *metrics.Dataset, service string, now time.Time) map[string]KPI {
	out := make(map[string]KPI, len(p.kpis))
	scope, _ := metrics.Scope{}.And("service", service)
	for _, id := range p.kpis {
		m, ok := cat.Metric(id)
		if !ok {
			continue
		}
		c := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: now, NoTrend: true}, scope, false)
		out[id] = KPI{ID: id, Value: c.Value, Unit: c.Unit, Currency: c.Detail.Currency, Status: c.Status, Reason: c.Reason, Cites: c.Cites, AsOf: now.UTC()}
	}
	return out
}

// Record appends a decision (and its ledger entry, in the same
// transaction) and returns it with its id.
//
// An escalation asked again is not recorded twice: when the same
// requester asks about the same release with the same facts and the same
// rules escalate it, the newest such decision is returned while it is
// pending or approved. A pipeline re-run after an approver accepted the
// release had been escalated afresh, its approval good for nothing but a
// job that had sat waiting, and every retry added a release to approve.
// A rejected one is asked again: the rejection settles that decision, and
// the release may go back to an approver.
//
// An escalation is kept under a key naming what it escalated
// (escalationKey), so the one asked before is read through the key's
// index, not found by reading every decision; two instances asked at once
// keep one. Escalations recorded before 2026-12-06 have no key: a pipeline
// re-run of one of those is escalated afresh, once.
func Record(ctx context.Context, docs store.DocStore, r Result, by, requester string) (Result, error) {
	r.ID, r.By, r.Requester, r.State, r.Approval = 0, by, requester, "", nil
	if r.Decision != Escalate {
		d, err := store.AppendJSON(ctx, docs, DecisionCollection, r)
		if err != nil {
			return r, err
		}
		r.ID, r.State = d.ID, string(r.Decision)
		return r, nil
	}
	prefix, err := escalationKey(r)
	if err != nil {
		return r, err
	}
	n := 0
	if earlier, ok, err := newestKeyed(ctx, docs, prefix); err != nil {
		return r, err
	} else if ok {
		e, err := decisionOf(ctx, docs, earlier)
		if err != nil {
			return r, err
		}
		if e.State != StateRejected && sameEscalation(e, r) {
			return e, nil
		}
		n, _ = strconv.Atoi(strings.TrimPrefix(earlier.Key, prefix))
		n++
	}
	body, err := json.Marshal(r)
	if err != nil {
		return r, err
	}
	d, created, err := docs.AppendDocOnce(ctx, DecisionCollection, prefix+strconv.Itoa(n), body)
	if err != nil {
		return r, err
	}
	if !created {
		// Another instance recorded the same escalation meanwhile.
		return decisionOf(ctx, docs, d)
	}
	r.ID, r.State = d.ID, StatePending
	return r, nil
}

// escalationKey is the prefix of the keys of the escalations that escalated
// what r does — its requester, its release and facts, each rule's verdict
// (sameEscalation) — one for each time it was asked after a rejection
// ("…|0", "…|1").
func escalationKey(r Result) (string, error) {
	type ruleVerdict struct{ Rule, Verdict string }
	what := struct {
		Requester string
		Release   Release
		Rules     []ruleVerdict
	}{Requester: r.Requester, Release: r.Release}
	for _, v := range r.Rules {
		what.Rules = append(what.Rules, ruleVerdict{v.Rule, v.Verdict})
	}
	b, err := json.Marshal(what)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return "escalation|" + hex.EncodeToString(sum[:16]) + "|", nil
}

// newestKeyed is the newest decision whose key starts with prefix: through
// the key's index where docs reads so, else from every decision.
func newestKeyed(ctx context.Context, docs store.DocStore, prefix string) (store.Doc, bool, error) {
	var ds []store.Doc
	var err error
	if r, ok := docs.(store.KeyPrefixReader); ok {
		ds, err = r.DocsByKeyPrefix(ctx, DecisionCollection, prefix, 0, 1)
	} else {
		ds, err = docs.Docs(ctx, DecisionCollection, 0)
		ds = slices.DeleteFunc(ds, func(d store.Doc) bool { return !strings.HasPrefix(d.Key, prefix) })
	}
	if err != nil || len(ds) == 0 {
		return store.Doc{}, false, err
	}
	return ds[0], true, nil
}

// sameEscalation says whether the recorded decision e escalated the
// release r asks about, as r's requester asked it: the release and its
// facts alike, and each rule's verdict the same. The reasons may differ —
// a KPI's reason names the moment it was computed — but what an approver
// accepted, which rules escalated which release, has not changed.
func sameEscalation(e, r Result) bool {
	if e.Decision != Escalate || e.Requester != r.Requester || len(e.Rules) != len(r.Rules) {
		return false
	}
	for i := range e.Rules {
		if e.Rules[i].Rule != r.Rules[i].Rule || e.Rules[i].Verdict != r.Rules[i].Verdict {
			return false
		}
	}
	a, errA := json.Marshal(e.Release)
	b, errB := json.Marshal(r.Release)
	return errA == nil && errB == nil && bytes.Equal(a, b)
}

// DecisionPage is a page of Decisions: those older than before (ids below
// it; 0 starts at the newest), at most limit, and the before that asks for
// the next page — 0 when none is left. A cursor, not an offset: decisions
// recorded while a client pages do not shift the pages it has yet to read.
//
// It reads limit and one more decisions from before down — one service's
// through the index of the decisions' service (store.DocsByField) — and
// the approvals of those it keeps by their keys: it had read and decoded
// every decision and approval for each page (~90 ms at 10,000 decisions;
// BenchmarkDecisionLookup).
func DecisionPage(ctx context.Context, docs store.DocStore, service string, before int64, limit int) ([]Result, int64, error) {
	var ds []store.Doc
	var err error
	if service == "" {
		ds, err = store.DocsBefore(ctx, docs, DecisionCollection, before, limit+1)
	} else {
		ds, err = store.DocsByField(ctx, docs, store.GateDecisionService, service, before, limit+1)
	}
	if err != nil {
		return nil, 0, err
	}
	out, err := decodeAll(ds)
	if err != nil {
		return nil, 0, err
	}
	next := int64(0)
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	as, err := approvalsOf(ctx, docs, out)
	if err != nil {
		return nil, 0, err
	}
	settle(out, as)
	return out, next, nil
}

// Settled are the decisions no approver is waiting on — passed, blocked,
// approved or rejected — of one service when service is not "", newest
// first, at most limit: what /gates lists under the pending ones. It reads
// pages of them (DecisionPage) until it has limit, where the page had read
// every decision.
func Settled(ctx context.Context, docs store.DocStore, service string, limit int) ([]Result, error) {
	out := []Result{}
	for before := int64(0); ; {
		page, next, err := DecisionPage(ctx, docs, service, before, limit)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if r.State != StatePending {
				if out = append(out, r); len(out) == limit {
					return out, nil
				}
			}
		}
		if next == 0 {
			return out, nil
		}
		before = next
	}
}

// Services are the services the recorded decisions name, in byte order,
// through the index of the decisions' service: one look in it a service.
func Services(ctx context.Context, docs store.DocStore) ([]string, error) {
	return store.DocFieldValues(ctx, docs, store.GateDecisionService)
}

// decodeAll decodes the stored decisions ds, their states unread.
func decodeAll(ds []store.Doc) ([]Result, error) {
	return store.DecodeEach(ds, func(r *Result, id int64) { r.ID = id })
}

// approvalsOf reads the approvals of the escalated decisions among rs by
// their keys (the decision's id).
func approvalsOf(ctx context.Context, docs store.DocStore, rs []Result) ([]Approval, error) {
	var as []Approval
	for _, r := range rs {
		if r.Decision != Escalate {
			continue
		}
		a, ok, err := docs.DocByKey(ctx, ApprovalCollection, strconv.FormatInt(r.ID, 10))
		if err != nil {
			return nil, err
		}
		if ok {
			var ap Approval
			if err := json.Unmarshal(a.Body, &ap); err != nil {
				return nil, fmt.Errorf("approval of gate decision %d: %w", r.ID, err)
			}
			ap.ID = a.ID
			as = append(as, ap)
		}
	}
	return as, nil
}

// Decisions are the recorded decisions, newest first; of one service when
// service is not "". One service's are read through the index of the
// decisions' service, and their approvals by their keys (a deployment's
// page lists its service's); all of them, with every approval.
func Decisions(ctx context.Context, docs store.DocStore, service string) ([]Result, error) {
	if service != "" {
		ds, err := store.DocsByField(ctx, docs, store.GateDecisionService, service, 0, 0)
		if err != nil {
			return nil, err
		}
		out, err := decodeAll(ds)
		if err != nil {
			return nil, err
		}
		as, err := approvalsOf(ctx, docs, out)
		if err != nil {
			return nil, err
		}
		settle(out, as)
		return out, nil
	}
	out, err := store.DecodeDocs(ctx, docs, DecisionCollection, func(r *Result, id int64) { r.ID = id })
	if err != nil {
		return nil, err
	}
	as, err := Approvals(ctx, docs)
	if err != nil {
		return nil, err
	}
	settle(out, as)
	return out, nil
}

package gate

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/outbound"
	"github.com/candor/candor/internal/store"
)

// The post-deploy watch (SPEC §6): after each production deployment —
// from a webhook, a collector or the records API: whatever put it in the
// dataset — the leader judges the rollback trigger over the observation
// period (default: error rate over 5 % within 15 minutes), from the
// service's pushed sli samples or a Prometheus query. The outcome is
// pass, fail (a rollback decision: recorded, and the configured webhook
// called with the deployment and the evidence) or inconclusive (no data,
// or less traffic than the minimum: never a pass). Nothing but the
// outcomes is kept: which deployments are still to judge follows from the
// deployments and the outcomes in the store, so a restart, or another
// instance taking the lead, carries on where the last left off.

// WatchCollection holds the outcomes, one per deployment (keyed by
// source/id), each chained in the ledger.
const WatchCollection = "gate_watch"

func init() {
	ledger.RegisterDocs(WatchCollection, ledger.DocSpec{Type: ledger.TypeRollbackWatch, Summary: func(body []byte) (map[string]any, error) {
		var w Watch
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, err
		}
		return map[string]any{"deployment": w.Deployment, "service": w.Service, "outcome": w.Outcome, "reason": w.Reason}, nil
	}, Digest: true})
}

// Watch outcomes.
const (
	WatchPass         = "pass"
	WatchFail         = "fail"
	WatchInconclusive = "inconclusive"
)

// WatchConfig is the gates file's watch: section.
type WatchConfig struct {
	// Enabled: default on.
	Enabled *bool `yaml:"enabled"`
	// ErrorRate is the trigger: a fraction 0–1 (default 0.05).
	ErrorRate *float64 `yaml:"error_rate"`
	// Within is the observation period after the deployment (default 15m).
	Within string `yaml:"within"`
	// MinRequests is the minimum-traffic guard: fewer requests in the
	// period and the outcome is inconclusive (default 100).
	MinRequests *float64 `yaml:"min_requests"`
	// Lookback bounds how long after its period a deployment is still
	// judged (default 24h): after an outage of the leader, the
	// deployments of the last day are judged, not the whole history.
	Lookback string `yaml:"lookback"`
	// Webhook is called (POST, JSON) with every fail, signed with the
	// secret held by the environment variable WebhookSecretEnv names.
	Webhook          string `yaml:"webhook"`
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
	// OpenIncident opens an incident record for every fail, of
	// IncidentSeverity (default P2).
	OpenIncident     bool   `yaml:"open_incident"`
	IncidentSeverity string `yaml:"incident_severity"`
	// Prometheus is the default query; Services override it per service.
	Prometheus *PromConfig             `yaml:"prometheus"`
	Services   map[string]ServiceWatch `yaml:"services"`
}

// PromConfig reads a service's traffic from Prometheus: Errors and
// Requests are PromQL expressions giving per-second rates (summed over
// every series returned); $service stands for the service's name.
type PromConfig struct {
	URL      string `yaml:"url"`
	Errors   string `yaml:"errors"`
	Requests string `yaml:"requests"`
	// Step is the query_range resolution (default 15s).
	Step string `yaml:"step"`
}

// ServiceWatch overrides the watch for one service.
type ServiceWatch struct {
	Enabled     *bool       `yaml:"enabled"`
	ErrorRate   *float64    `yaml:"error_rate"`
	Within      string      `yaml:"within"`
	MinRequests *float64    `yaml:"min_requests"`
	Prometheus  *PromConfig `yaml:"prometheus"`
}

// watchRule is a service's compiled watch.
type watchRule struct {
	on          bool
	errorRate   float64
	within      time.Duration
	minRequests float64
	prom        *prom
}

type prom struct {
	url              *url.URL
	errors, requests string
	step             time.Duration
}

type watchPolicy struct {
	def      watchRule
	services map[string]watchRule
	lookback time.Duration
	webhook  string
	// secretEnv names the environment variable holding the webhook's
	// signing secret.
	secretEnv string
	// incident is the severity of the incident a fail opens; "": none.
	incident string
}

func compileWatch(c WatchConfig) (watchPolicy, error) {
	w := watchPolicy{lookback: 24 * time.Hour, services: map[string]watchRule{}}
	def := watchRule{on: c.Enabled == nil || *c.Enabled, errorRate: 0.05, within: 15 * time.Minute, minRequests: 100}
	var err error
	if def, err = def.with(c.ErrorRate, c.Within, c.MinRequests, c.Prometheus, "watch"); err != nil {
		return w, err
	}
	w.def = def
	if c.Lookback != "" {
		if w.lookback, err = time.ParseDuration(c.Lookback); err != nil || w.lookback <= 0 {
			return w, fmt.Errorf("watch.lookback: %q is not a positive duration such as 24h", c.Lookback)
		}
	}
	if c.Webhook != "" {
		u, err := url.Parse(c.Webhook)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return w, fmt.Errorf("watch.webhook: %q is not an http(s) URL", c.Webhook)
		}
		if c.WebhookSecretEnv == "" {
			return w, errors.New("watch.webhook_secret_env: the rollback webhook is signed: name an environment variable that holds its secret")
		}
		w.webhook, w.secretEnv = c.Webhook, c.WebhookSecretEnv
	} else if c.WebhookSecretEnv != "" {
		return w, fmt.Errorf("watch.webhook_secret_env: %s signs the rollback webhook, but watch.webhook names none", c.WebhookSecretEnv)
	}
	if c.OpenIncident {
		w.incident = "P2"
		if c.IncidentSeverity != "" {
			w.incident = c.IncidentSeverity
		}
		if !regexp.MustCompile(`^P[0-4]$`).MatchString(w.incident) {
			return w, fmt.Errorf("watch.incident_severity: %q is not P0…P4", c.IncidentSeverity)
		}
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range c.Services {
			if !yield(k) {
				return
			}
		}
	}) {
		s := c.Services[name]
		r := def
		if s.Enabled != nil {
			r.on = *s.Enabled
		}
		if r, err = r.with(s.ErrorRate, s.Within, s.MinRequests, s.Prometheus, "watch.services."+name); err != nil {
			return w, err
		}
		w.services[name] = r
	}
	return w, nil
}

func (r watchRule) with(rate *float64, within string, minReq *float64, p *PromConfig, field string) (watchRule, error) {
	if rate != nil {
		if *rate <= 0 || *rate >= 1 || math.IsNaN(*rate) {
			return r, fmt.Errorf("%s.error_rate: %v is not a fraction between 0 and 1 (0.05 for 5%%)", field, *rate)
		}
		r.errorRate = *rate
	}
	if within != "" {
		d, err := time.ParseDuration(within)
		if err != nil || d <= 0 {
			return r, fmt.Errorf("%s.within: %q is not a positive duration such as 15m", field, within)
		}
		r.within = d
	}
	if minReq != nil {
		if *minReq < 0 || math.IsNaN(*minReq) {
			return r, fmt.Errorf("%s.min_requests: %v is not a number ≥ 0", field, *minReq)
		}
		r.minRequests = *minReq
	}
	if p != nil {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return r, fmt.Errorf("%s.prometheus.url: %q is not an http(s) URL", field, p.URL)
		}
		if strings.TrimSpace(p.Errors) == "" || strings.TrimSpace(p.Requests) == "" {
			return r, fmt.Errorf("%s.prometheus: errors and requests (PromQL per-second rates) are both required", field)
		}
		step := 15 * time.Second
		if p.Step != "" {
			if step, err = time.ParseDuration(p.Step); err != nil || step < time.Second {
				return r, fmt.Errorf("%s.prometheus.step: %q is not a duration of at least 1s", field, p.Step)
			}
		}
		r.prom = &prom{url: u, errors: p.Errors, requests: p.Requests, step: step}
	}
	return r, nil
}

func (w watchPolicy) rule(service string) watchRule {
	if r, ok := w.services[service]; ok {
		return r
	}
	return w.def
}

// WebhookSecretEnv is the environment variable holding the rollback
// webhook's signing secret ("" when there is no webhook): Candor reads
// it, and the environment check must accept it (config.Config.NamedEnv;
// config.Config.CheckWatchSecret refuses it unset).
func (p *Policies) WebhookSecretEnv() string { return p.watch.secretEnv }

// Watching says whether the post-deploy watch is on for any service.
func (p *Policies) Watching() bool {
	if p.watch.def.on {
		return true
	}
	for _, r := range p.watch.services {
		if r.on {
			return true
		}
	}
	return false
}

// Watch is a post-deploy watch's outcome.
type Watch struct {
	ID int64 `json:"id,omitempty"`
	// Deployment is source/id.
	Deployment  string    `json:"deployment"`
	Service     string    `json:"service"`
	Environment string    `json:"environment"`
	FinishedAt  time.Time `json:"finished_at"`
	// Until is the end of the observation period.
	Until time.Time `json:"until"`
	// Outcome is pass, fail or inconclusive; Rollback is set on fail.
	Outcome  string   `json:"outcome"`
	Rollback bool     `json:"rollback,omitempty"`
	Reason   string   `json:"reason"`
	Evidence Evidence `json:"evidence"`
	// Webhook says what the rollback webhook answered ("" when none was
	// called); Incident is the incident opened (source/id), if any.
	Webhook  string    `json:"webhook,omitempty"`
	Incident string    `json:"incident,omitempty"`
	At       time.Time `json:"at"`
}

// Evidence is what the outcome rests on.
type Evidence struct {
	// From is "sli" (pushed samples) or "prometheus".
	From      string  `json:"from"`
	Threshold float64 `json:"threshold"`
	// MinRequests is the traffic guard; Requests and Errors what the
	// period saw; ErrorRate their ratio (nil without traffic).
	MinRequests float64  `json:"min_requests"`
	Requests    float64  `json:"requests"`
	Errors      float64  `json:"errors"`
	ErrorRate   *float64 `json:"error_rate"`
	// Samples are the pushed samples read; Query the PromQL asked and
	// Points the per-step (requests, errors) it answered.
	Samples []metrics.SLIPoint `json:"samples,omitempty"`
	Query   string             `json:"query,omitempty"`
	Points  []PromPoint        `json:"points,omitempty"`
}

// PromPoint is one step of a Prometheus answer: request and error rates
// per second.
type PromPoint struct {
	At       time.Time `json:"at"`
	Requests float64   `json:"requests"`
	Errors   float64   `json:"errors"`
}

// Watcher judges the production deployments' rollback triggers. Run it
// on the leader.
type Watcher struct {
	Policies *Policies
	// Current, when set, gives the policies in force at each pass instead
	// of Policies (a section approved while the server runs).
	Current *Current
	// Docs keeps the outcomes; incidents are written to it as records.
	Docs store.Store
	// Read runs fn with the dataset under the engine's read lock.
	Read func(ctx context.Context, fn func(ds *metrics.Dataset) error) error
	// HTTP calls Prometheus and the webhook (default: a client with a 10 s
	// timeout).
	HTTP  *http.Client
	Now   func() time.Time
	Log   *slog.Logger
	Every time.Duration // how often Run looks (default 15 s)
	// Getenv reads the rollback webhook's secret (default os.Getenv).
	Getenv func(string) string
	// Backoff is the wait before the webhook's second attempt, doubled
	// before each next (default 1 s).
	Backoff time.Duration
	// WebhookBudget bounds one decision's calls of the webhook, attempts
	// and waits together (default webhookBudget).
	WebhookBudget time.Duration
	// Notify, when set, is told each outcome recorded (the alert rules of
	// kind rollback_watch); its failure is logged, the outcome stays.
	Notify func(ctx context.Context, w Watch) error
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watcher) client() *http.Client {
	if w.HTTP != nil {
		return w.HTTP
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// Run judges due deployments every Every until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	every := w.Every
	if every <= 0 {
		every = 15 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := w.Once(ctx); err != nil && ctx.Err() == nil && w.Log != nil {
			w.Log.Error("post-deploy watch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// due is a deployment to look at.
type due struct {
	rel  metrics.Release
	rule watchRule
	sli  []metrics.SLIPoint
	// coarse is the length of the service's samples overlapping the
	// period without lying inside it (0: none), which say why none was
	// inside; fineEnd, when set, is when the newest of its samples short
	// enough to fit the period ends: a feed that fits it but stopped.
	coarse  time.Duration
	fineEnd time.Time
}

// Once judges what can be judged now and records the outcomes: each
// production deployment without an outcome, finished within the
// lookback, whose period has ended — or that already fails before its
// end, since a rollback should not wait for the period to run out.
func (w *Watcher) Once(ctx context.Context) ([]Watch, error) {
	p := w.Policies
	if w.Current != nil {
		p = w.Current.Get()
	}
	if !p.Watching() {
		return nil, nil
	}
	wp := p.watch
	now := w.now().UTC()
	var list []due
	err := w.Read(ctx, func(ds *metrics.Dataset) error {
		maxWithin := wp.def.within
		for _, r := range wp.services {
			maxWithin = max(maxWithin, r.within)
		}
		for _, rel := range ds.Releases(now.Add(-wp.lookback-maxWithin), now) {
			rule := wp.rule(rel.Service)
			if !rule.on {
				continue
			}
			d := due{rel: rel, rule: rule}
			if rule.prom == nil {
				d.sli = ds.ServiceSLIs(rel.Service, rel.FinishedAt, rel.FinishedAt.Add(rule.within))
				if len(d.sli) == 0 {
					d.coarse, _ = ds.ServiceSLIOverlap(rel.Service, rel.FinishedAt, rel.FinishedAt.Add(rule.within))
					d.fineEnd, _ = ds.ServiceSLIFineEnd(rel.Service, rel.FinishedAt, rel.FinishedAt.Add(rule.within), rule.within/2)
				}
			}
			list = append(list, d)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []Watch
	var errs []error
	for _, d := range list {
		key := d.rel.Source + "/" + d.rel.ID
		if _, done, err := w.Docs.DocByKey(ctx, WatchCollection, key); err != nil || done {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		end := d.rel.FinishedAt.Add(d.rule.within)
		if end.Before(now.Add(-wp.lookback)) {
			continue
		}
		to := end
		if now.Before(end) {
			to = now
		}
		res, err := w.judge(ctx, d, to)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
			continue
		}
		if res.Outcome != WatchFail && now.Before(end) {
			continue // still watching
		}
		res.At = now
		if res.Outcome == WatchFail && wp.webhook != "" {
			res.Webhook = w.callWebhook(ctx, wp, res)
		}
		if res.Outcome == WatchFail && wp.incident != "" {
			// Keyed by the deployment: a second leader's overlap writes
			// the same record again, unchanged.
			inc := &domain.Incident{Meta: domain.Meta{ID: "rollback-" + d.rel.Source + "-" + d.rel.ID, Source: RetroSource}, Service: res.Service,
				Severity: wp.incident, OpenedAt: now, DetectedAt: now, CausedBy: d.rel.ID, Origin: "monitoring", Category: "availability",
				Fingerprint: "rollback_watch:" + res.Service}
			if err := writeRecord(ctx, w.Docs, inc); err != nil {
				errs = append(errs, fmt.Errorf("%s: opening an incident: %w", key, err))
			} else {
				res.Incident = inc.Source + "/" + inc.ID
			}
		}
		body, err := json.Marshal(res)
		if err != nil {
			return out, err
		}
		doc, created, err := w.Docs.AppendDocOnce(ctx, WatchCollection, key, body)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !created {
			continue
		}
		res.ID = doc.ID
		if w.Log != nil {
			w.Log.Info("post-deploy watch", "deployment", key, "service", res.Service, "outcome", res.Outcome, "reason", res.Reason)
		}
		if w.Notify != nil {
			if err := w.Notify(ctx, res); err != nil && w.Log != nil {
				w.Log.Error("post-deploy watch: alerting", "deployment", key, "err", err)
			}
		}
		out = append(out, res)
	}
	return out, errors.Join(errs...)
}

// judge reads the period [finished, to] and gives its outcome.
func (w *Watcher) judge(ctx context.Context, d due, to time.Time) (Watch, error) {
	r := d.rule
	res := Watch{Deployment: d.rel.Source + "/" + d.rel.ID, Service: d.rel.Service, Environment: d.rel.Environment,
		FinishedAt: d.rel.FinishedAt, Until: d.rel.FinishedAt.Add(r.within).UTC()}
	ev := Evidence{Threshold: r.errorRate, MinRequests: r.minRequests}
	if r.prom == nil {
		ev.From, ev.Samples = "sli", d.sli
		for _, s := range d.sli {
			if !s.End.After(to) {
				ev.Requests += s.Total
				ev.Errors += s.Total - s.Good
			}
		}
	} else {
		ev.From = "prometheus"
		pts, q, err := w.queryProm(ctx, r.prom, d.rel.Service, d.rel.FinishedAt, to)
		ev.Query = q
		if err != nil {
			return res, err
		}
		ev.Points = pts
		// Rates per second, one per step: each stands for a step's traffic.
		sec := r.prom.step.Seconds()
		for _, p := range pts {
			ev.Requests += p.Requests * sec
			ev.Errors += p.Errors * sec
		}
		ev.Requests, ev.Errors = math.Round(ev.Requests*1000)/1000, math.Round(ev.Errors*1000)/1000
	}
	if ev.Requests > 0 {
		rate := ev.Errors / ev.Requests
		ev.ErrorRate = &rate
	}
	res.Evidence = ev
	switch {
	case ev.Requests == 0 && r.prom == nil && !d.fineEnd.IsZero():
		// Samples short enough to say the period exist, and none lies in
		// it: the feed stopped or is late — asking for shorter samples
		// (the case below) would send the reader the wrong way.
		res.Outcome, res.Reason = WatchInconclusive, fmt.Sprintf("none of the service's sli samples lies inside the %s observation period (%s to %s): its samples of %s or less end at %s, so no error rate can be read for it (a feed late or stopped); not judged, and not a pass",
			catalog.FormatWindow(r.within), d.rel.FinishedAt.UTC().Format("2 Jan 15:04 MST"), res.Until.Format("2 Jan 15:04 MST"), catalog.FormatWindow(r.within/2), d.fineEnd.Format("2 Jan 15:04 MST"))
	case ev.Requests == 0 && d.coarse > 0:
		// The feed works; its samples overlap the period without lying
		// inside it (an hourly sample holds the hour before the
		// deployment too; one as long as the period fits only when it
		// starts with the deployment).
		res.Outcome, res.Reason = WatchInconclusive, fmt.Sprintf("the service's sli samples cover %s each and none lies inside the %s observation period, so no error rate can be read for it: send sli samples covering half the period or less, or have the watch read the service's traffic from Prometheus (a prometheus section under watch in gates.yaml: docs/gates.md, Post-deploy watch); not judged, and not a pass",
			catalog.FormatWindow(d.coarse), catalog.FormatWindow(r.within))
	case ev.Requests == 0:
		res.Outcome, res.Reason = WatchInconclusive, "no traffic data in the observation period ("+ev.From+"): not judged, and not a pass"
	case ev.Requests < r.minRequests && *ev.ErrorRate <= r.errorRate:
		res.Outcome, res.Reason = WatchInconclusive, fmt.Sprintf("%s requests, fewer than the minimum %s: too little traffic to judge (error rate %s)", num(ev.Requests), num(r.minRequests), pct(*ev.ErrorRate))
	case ev.Requests < r.minRequests:
		// Too few requests to fail a release on: a handful of errors in a
		// quiet minute is no trigger.
		res.Outcome, res.Reason = WatchInconclusive, fmt.Sprintf("error rate %s over %s requests, fewer than the minimum %s: too little traffic to judge", pct(*ev.ErrorRate), num(ev.Requests), num(r.minRequests))
	case *ev.ErrorRate > r.errorRate:
		res.Outcome, res.Rollback = WatchFail, true
		res.Reason = fmt.Sprintf("error rate %s over %s requests is above %s within %s of the deployment: roll back", pct(*ev.ErrorRate), num(ev.Requests), pct(r.errorRate), catalog.FormatWindow(r.within))
	default:
		// The period as the gates file writes it ("2h", not Go's "2h0m0s").
		res.Outcome, res.Reason = WatchPass, fmt.Sprintf("error rate %s over %s requests ≤ %s within the %s observation period", pct(*ev.ErrorRate), num(ev.Requests), pct(r.errorRate), catalog.FormatWindow(r.within))
	}
	return res, nil
}

var servicePlaceholder = regexp.MustCompile(`\$service\b`)

// queryProm asks Prometheus's /api/v1/query_range for the error and
// request rates over [from, to] and pairs them by timestamp.
func (w *Watcher) queryProm(ctx context.Context, p *prom, service string, from, to time.Time) ([]PromPoint, string, error) {
	quoted := strconv.Quote(service)
	quoted = quoted[1 : len(quoted)-1]
	errQ := servicePlaceholder.ReplaceAllLiteralString(p.errors, quoted)
	reqQ := servicePlaceholder.ReplaceAllLiteralString(p.requests, quoted)
	q := "errors: " + errQ + "; requests: " + reqQ
	errs, err := w.rangeQuery(ctx, p, errQ, from, to)
	if err != nil {
		return nil, q, err
	}
	reqs, err := w.rangeQuery(ctx, p, reqQ, from, to)
	if err != nil {
		return nil, q, err
	}
	var out []PromPoint
	for _, t := range slices.Sorted(func(yield func(int64) bool) {
		for t := range reqs {
			if !yield(t) {
				return
			}
		}
	}) {
		out = append(out, PromPoint{At: time.UnixMilli(t).UTC(), Requests: reqs[t], Errors: errs[t]})
	}
	return out, q, nil
}

// rangeQuery returns the query's values summed over its series, by
// timestamp (unix ms).
func (w *Watcher) rangeQuery(ctx context.Context, p *prom, query string, from, to time.Time) (map[int64]float64, error) {
	u := *p.url
	u.Path = strings.TrimRight(u.Path, "/") + "/api/v1/query_range"
	v := url.Values{"query": {query}, "start": {fmtUnix(from)}, "end": {fmtUnix(to)}, "step": {strconv.FormatFloat(p.step.Seconds(), 'f', -1, 64)}}
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := w.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	var doc struct {
		Status, Error string
		Data          struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("prometheus answered %s, not JSON", resp.Status)
	}
	if doc.Status != "success" {
		return nil, fmt.Errorf("prometheus refused %q: %s", query, doc.Error)
	}
	if doc.Data.ResultType != "matrix" {
		return nil, fmt.Errorf("prometheus answered %q with a %s, not a range of values", query, doc.Data.ResultType)
	}
	out := map[int64]float64{}
	for _, s := range doc.Data.Result {
		for _, v := range s.Values {
			ts, ok1 := v[0].(float64)
			str, ok2 := v[1].(string)
			x, err := strconv.ParseFloat(str, 64)
			if !ok1 || !ok2 || err != nil {
				return nil, fmt.Errorf("prometheus answered %q with a malformed value %v", query, v)
			}
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			out[int64(math.Round(ts*1000))] += x
		}
	}
	return out, nil
}

func fmtUnix(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// webhookAttempts bounds the calls of the rollback webhook for one
// decision: with the backoff doubling from 1 s, the last is 7 s after the
// first, so a receiver restarting is waited for, while the watch's pass —
// which judges the other deployments after it — is held for seconds, not
// minutes.
const webhookAttempts = 4

// webhookBudget is how long one decision's webhook calls may take in all.
const webhookBudget = 20 * time.Second

// callWebhook posts the rollback decision, signed as alert webhooks are
// (alert.SignatureHeader), retrying a 5xx or a failed connection with a
// doubling backoff, and says what came back. The final failure is logged
// with the deployment: the outcome is recorded either way, and the log is
// where an operator looks for a rollback that did not happen.
func (w *Watcher) callWebhook(ctx context.Context, wp watchPolicy, res Watch) string {
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	getenv := w.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	secret := getenv(wp.secretEnv)
	if secret == "" {
		why := fmt.Sprintf("not called: the environment variable %s (watch.webhook_secret_env) is not set, so the call could not be signed", wp.secretEnv)
		log.Error("rollback webhook", "deployment", res.Deployment, "service", res.Service, "err", why)
		return why
	}
	body, _ := json.Marshal(map[string]any{"event": "rollback", "deployment": res.Deployment, "service": res.Service,
		"environment": res.Environment, "finished_at": res.FinishedAt, "outcome": res.Outcome, "reason": res.Reason, "evidence": res.Evidence})
	sig := alert.Sign([]byte(secret), body)
	wait := w.Backoff
	if wait <= 0 {
		wait = time.Second
	}
	// The whole call is bounded: a receiver that hangs had held the watch
	// pass four client timeouts and the waits (~47 s) per decision, the
	// next deployments' checks waiting behind it.
	parent := ctx
	ctx, cancel := context.WithTimeout(parent, cmp.Or(w.WebhookBudget, webhookBudget))
	defer cancel()
	var last string
	attempt := 1
	for ; ; attempt++ {
		answer, retry := w.postWebhook(ctx, wp.webhook, body, sig)
		if !retry {
			if attempt > 1 {
				answer += fmt.Sprintf(" (attempt %d)", attempt)
			}
			if !strings.HasPrefix(answer, "answered 2") {
				log.Error("rollback webhook refused the decision", "deployment", res.Deployment, "service", res.Service, "answer", answer)
			}
			return answer
		}
		last = answer
		if attempt == webhookAttempts || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		wait *= 2
	}
	final := fmt.Sprintf("failed after %d attempts: %s", attempt, last)
	switch {
	case parent.Err() != nil:
		final = fmt.Sprintf("failed, stopped by shutdown: %s", last)
	case ctx.Err() != nil:
		final = fmt.Sprintf("failed: no answer within %s (%d attempts): %s", cmp.Or(w.WebhookBudget, webhookBudget), attempt, last)
	}
	log.Error("rollback webhook failed", "deployment", res.Deployment, "service", res.Service, "err", final)
	return final
}

// postWebhook makes one call of the webhook: what came back, and whether
// another attempt may fare better (a 5xx, or no answer). A redirect is not
// followed (outbound.NoRedirect) and, like a 4xx, not tried again: the
// URL is wrong until an administrator sets it.
func (w *Watcher) postWebhook(ctx context.Context, target string, body []byte, sig string) (answer string, retry bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return "not called: " + err.Error(), false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(alert.SignatureHeader, sig)
	resp, err := outbound.NoRedirect(w.client()).Do(req)
	if err != nil {
		return "failed: " + err.Error(), true
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err := outbound.Redirected(resp); err != nil {
		return err.Error(), false
	}
	return "answered " + resp.Status, resp.StatusCode >= 500
}

// Watches are the recorded outcomes, newest first.
func Watches(ctx context.Context, docs store.DocStore) ([]Watch, error) {
	return store.DecodeDocs(ctx, docs, WatchCollection, setWatchID)
}

func setWatchID(w *Watch, id int64) { w.ID = id }

// WatchOf is the outcome recorded for a deployment (source/id), nil when
// none was: read by the key it is kept under, where a deployment's page
// had read and decoded every outcome to find its own.
func WatchOf(ctx context.Context, docs store.DocStore, deployment string) (*Watch, error) {
	return store.DecodeDocByKey(ctx, docs, WatchCollection, deployment, setWatchID)
}

// watchPage is how many outcomes RecentWatches reads at a time.
const watchPage = 256

// RecentWatches are the newest n outcomes (of one service when service is
// not ""), newest first, and whether older ones match too. A server
// records one a production deployment, so the /gates page that listed
// every one grew with the server's age; this reads pages of the newest
// until it has n, the whole collection only for a service with few.
func RecentWatches(ctx context.Context, docs store.DocStore, service string, n int) (ws []Watch, more bool, err error) {
	before := int64(0)
	for {
		page, err := store.DocsBefore(ctx, docs, WatchCollection, before, watchPage)
		if err != nil {
			return nil, false, err
		}
		got, err := store.DecodeEach(page, setWatchID)
		if err != nil {
			return nil, false, err
		}
		for _, w := range got {
			if service != "" && w.Service != service {
				continue
			}
			if len(ws) == n {
				return ws, true, nil
			}
			ws = append(ws, w)
		}
		if len(page) < watchPage {
			return ws, false, nil
		}
		before = page[len(page)-1].ID
	}
}

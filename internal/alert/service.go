package alert

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/reconcile"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Service evaluates the rules, keeps the alerts and sends their
// notifications. Run Evaluate on the leader instance (package leader); the
// notification keys make a second instance's evaluation queue nothing new.
type Service struct {
	Store   store.AlertStore
	Engine  *engine.Engine
	Catalog *catalog.Catalog
	Rules   []Rule
	Timing  Timing
	// Channels by name; a rule without channels notifies all of them.
	Channels map[string]Channel
	// Keep is how long resolved alerts stay listed (default 7 days).
	Keep time.Duration
	// MaxAttempts bounds the sends of one notification (default 8); the
	// retries back off from 30 s doubling to at most an hour.
	MaxAttempts int
	Now         func() time.Time
	Log         *slog.Logger
	// Router, when set, decides each alert's channels and recipients
	// (routes, grants); Users lists the people it chooses from.
	Router *Router
	Users  func(ctx context.Context) ([]store.User, error)
	// Docs holds the reconciliation results reconciliation rules read; nil
	// leaves those rules unevaluated.
	Docs store.DocStore

	// live, once SetRules put a rule set in force, replaces Rules.
	live atomic.Pointer[[]Rule]
	// originID is the store's identity once read (origin).
	originID atomic.Pointer[string]

	mu sync.Mutex // one evaluation or escalation at a time
	// flushMu holds one Flush at a time: a notification is recorded sent
	// only after its send, so two flushes of one process (the escalation
	// watcher's, an evaluation's, the minute's, which a leader's first
	// minute runs together) both found it pending and both sent it.
	flushMu sync.Mutex
	// last is when each rule was last evaluated by this process: a rule is
	// due once per slot of its `every` (see due).
	last map[string]time.Time
	// seq is the engine sequence last evaluated; ingestAt when AfterIngest
	// last evaluated.
	seq      int64
	ingestAt time.Time

	// unrecorded holds the notifications this process attempted whose
	// outcome the store refused to record (a full disk, a lost
	// connection), by id, until it takes them: left pending in the store,
	// a notification sent would go out again at every flush meanwhile.
	unrecordedMu sync.Mutex
	unrecorded   map[int64]store.Notification
}

// due returns the rules to evaluate at now and marks them evaluated: a
// rule is due at the first evaluation in each UTC-aligned slot of its
// `every` (a daily rule at the first after midnight UTC). Escalation rules
// are always "due": the watcher raises them, Step holds them. A restarted
// or newly elected leader evaluates every rule once.
func (s *Service) due(now time.Time, all []Rule) []Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = map[string]time.Time{}
	}
	var out []Rule
	for _, r := range all {
		every := max(r.every, time.Second)
		if last, ok := s.last[r.Name]; r.Kind == KindEscalation || !ok || !now.Truncate(every).Equal(last.Truncate(every)) {
			out = append(out, r)
			s.last[r.Name] = now
		}
	}
	return out
}

// SetRules puts another rule set in force (an alerts.rules section
// approved while the server runs). Each evaluation, escalation or watch
// outcome takes the rules in force once, at its start, and uses them
// whole; a new rule is due at the next evaluation, and the alerts of a
// rule no longer in force resolve there.
func (s *Service) SetRules(rules []Rule) {
	rules = slices.Clone(rules)
	s.live.Store(&rules)
}

// RulesInForce returns the rules in force: those SetRules put in force
// last, or Rules. Read them; do not modify them.
func (s *Service) RulesInForce() []Rule {
	if p := s.live.Load(); p != nil {
		return *p
	}
	return s.Rules
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// List returns the alerts, firing first, then pending, then resolved.
func (s *Service) List(ctx context.Context) ([]Alert, error) {
	rows, err := s.Store.Alerts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Alert, 0, len(rows))
	for _, r := range rows {
		var a Alert
		if err := json.Unmarshal(r.Body, &a); err != nil {
			return nil, fmt.Errorf("alert %q is corrupt: %w", r.Key, err)
		}
		a.Key, a.State, a.ActiveAt = r.Key, r.State, r.ActiveAt
		a.AckedBy, a.AckedAt, a.AckNote = r.AckedBy, r.AckedAt, r.AckNote
		out = append(out, a)
	}
	rank := map[string]int{Firing: 0, Pending: 1, Resolved: 2}
	slices.SortStableFunc(out, func(a, b Alert) int { return cmp.Compare(rank[a.State], rank[b.State]) })
	return out, nil
}

// Shown is List as a reader is shown it: each open alert silenced (and by
// which silence) as the silences stand at now, where the flag the last
// evaluation stored lags a silence begun or ended since by up to
// evaluate_every — the alerts page, the API and the CLI had shown an alert
// silenced after its silence was ended. It returns the silences read.
func (s *Service) Shown(ctx context.Context) ([]Alert, []Silence, error) {
	list, err := s.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	sils, err := s.Store.Silences(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	for i := range list {
		a := &list[i]
		if a.State == Resolved {
			continue
		}
		a.Silenced, a.SilenceID = false, 0
		if j := slices.IndexFunc(sils, func(x Silence) bool { return mutes(x, *a, now) }); j >= 0 {
			a.Silenced, a.SilenceID = true, sils[j].ID
		}
	}
	return list, sils, nil
}

// Ack acknowledges a pending or firing alert: it is not repeated until it
// resolves. An alert acknowledged already keeps its first
// acknowledgement: acknowledging it again is a conflict naming who
// acknowledged it, when and with what note, unless it is the same person
// with the same note (a retry), which changes nothing and succeeds. A key
// is required.
func (s *Service) Ack(ctx context.Context, key, by, note string) error {
	if err := KeyRequired(key); err != nil {
		return err
	}
	if strings.TrimSpace(by) == "" {
		return domain.InvalidParam("by", "an acknowledgement needs its author")
	}
	now := s.now()
	as, err := s.List(ctx)
	if err != nil {
		return err
	}
	data := map[string]any{"key": key, "at": now}
	if i := slices.IndexFunc(as, func(a Alert) bool { return a.Key == key }); i >= 0 {
		a := as[i]
		if a.State != Resolved && a.AckedBy != "" {
			return ackedAlready(a, by, note)
		}
		data["rule"], data["metric"], data["scope"], data["state"] = a.Rule, a.Metric, a.Scope, a.State
	}
	// The entry is appended in the acknowledgement's transaction (a store
	// without a ledger sealer drops it): appended after, a crash between
	// the two kept an acknowledgement the ledger never heard of.
	entry, err := ledger.Entry(ledger.TypeAlertAck, data, map[string]string{"by": by, "note": note})
	if err != nil {
		return err
	}
	if err := s.Store.AckAlert(ctx, key, by, note, now, &entry); err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// Acknowledged meanwhile by another request (the store does not
		// overwrite an acknowledgement), or not pending or firing.
		if as, lerr := s.List(ctx); lerr == nil {
			if i := slices.IndexFunc(as, func(a Alert) bool { return a.Key == key }); i >= 0 && as[i].State != Resolved && as[i].AckedBy != "" {
				return ackedAlready(as[i], by, note)
			}
		}
		return domain.Errorf(domain.ENotFound, "no pending or firing alert %q", key)
	}
	return nil
}

// KeyRequired refuses an empty alert key, naming key.
func KeyRequired(key string) error {
	if strings.TrimSpace(key) == "" {
		return domain.InvalidParam("key", "required: the alert's key, as GET /api/v1/alerts and candor alert list give it")
	}
	return nil
}

// ackedAlready is the answer to acknowledging an alert acknowledged already: nil
// for the same person with the same note, else a conflict naming the
// first acknowledgement, which is kept.
func ackedAlready(a Alert, by, note string) error {
	if a.AckedBy == by && a.AckNote == note {
		return nil
	}
	said := "with no note"
	if a.AckNote != "" {
		said = fmt.Sprintf("with the note %q", a.AckNote)
	}
	return domain.Errorf(domain.EConflict, "alert %q was acknowledged already, by %s at %s %s; that acknowledgement is kept (a new one comes with the alert's next episode)",
		a.Key, a.AckedBy, a.AckedAt.UTC().Format(time.RFC3339), said)
}

// MaxSilence is the longest a silence may last: a typo such as 400d for
// 4d would mute a rule for a year. One that must last longer is renewed
// when it ends, by someone who looks again.
const MaxSilence = 90 * 24 * time.Hour

// Silence mutes the alerts matching x for d from now. A silence needs a
// reason and an author, one matcher at least, a duration up to MaxSilence,
// and matchers that name a rule in force, a metric of the catalog and a
// scope of the data: a silence on a typo would mute nothing and say
// nothing.
func (s *Service) Silence(ctx context.Context, x store.Silence, d time.Duration) (store.Silence, error) {
	switch {
	case strings.TrimSpace(x.Reason) == "":
		return x, domain.InvalidParam("reason", "a silence needs a reason")
	case strings.TrimSpace(x.Author) == "":
		return x, domain.InvalidParam("author", "a silence needs an author")
	case x.Rule == "" && x.Metric == "" && x.Scope == "":
		return x, domain.InvalidParam("rule", "a silence must match a rule, a metric or a scope; it would mute everything")
	case d <= 0:
		return x, domain.InvalidParam("for", "a silence needs a positive duration, not %v", d)
	case d > MaxSilence:
		return x, domain.InvalidParam("for", "%s is longer than a silence may last (at most 90d); silence again when it ends", catalog.FormatWindow(d))
	}
	if x.Rule != "" && !slices.ContainsFunc(s.RulesInForce(), func(r Rule) bool { return r.Name == x.Rule }) {
		var names []string
		for _, r := range s.RulesInForce() {
			names = append(names, r.Name)
		}
		return x, domain.InvalidParam("rule", "unknown rule %q (known: %s)", x.Rule, strings.Join(names, ", "))
	}
	if x.Metric != "" {
		if _, err := s.knownMetric(x.Metric); err != nil {
			return x, err
		}
	}
	if x.Scope != "" {
		var err error
		if x.Scope, err = s.knownScope(ctx, x.Scope); err != nil {
			return x, err
		}
	}
	now := s.now()
	x.StartsAt, x.EndsAt, x.CreatedAt = now, now.Add(d), now
	return s.Store.AddSilence(ctx, x, func(x store.Silence) (store.LedgerEntry, error) {
		return ledger.Entry(ledger.TypeAlertSilence, silenceData(x), map[string]string{"author": x.Author, "reason": x.Reason})
	})
}

// silenceData is the ledger data of a silence as stored or ended.
func silenceData(x store.Silence) map[string]any {
	return map[string]any{"id": x.ID, "rule": x.Rule, "metric": x.Metric, "scope": x.Scope, "starts_at": x.StartsAt, "ends_at": x.EndsAt}
}

// Unsilence ends the silence id now, before its end: the alerts it muted
// are told again from the next evaluation. by is who ends it.
func (s *Service) Unsilence(ctx context.Context, id int64, by string) (store.Silence, error) {
	return s.UnsilenceFor(ctx, id, by, nil)
}

// UnsilenceFor is Unsilence for a caller who may see only the silences
// visible accepts (nil: all of them): one it may not see is not found,
// and the refusal names only the visible ones in force.
func (s *Service) UnsilenceFor(ctx context.Context, id int64, by string, visible func(store.Silence) bool) (store.Silence, error) {
	if strings.TrimSpace(by) == "" {
		return store.Silence{}, domain.InvalidParam("by", "ending a silence needs its author")
	}
	now := s.now()
	var all []store.Silence
	if visible != nil {
		var err error
		if all, err = s.Store.Silences(ctx); err != nil {
			return store.Silence{}, err
		}
		if i := slices.IndexFunc(all, func(x store.Silence) bool { return x.ID == id }); i >= 0 && !visible(all[i]) {
			return store.Silence{}, s.noSilence(ctx, id, now, all, visible)
		}
	}
	x, err := s.Store.EndSilence(ctx, id, now, func(x store.Silence) (store.LedgerEntry, error) {
		return ledger.Entry(ledger.TypeAlertUnsilence, silenceData(x), map[string]string{"by": by})
	})
	if errors.Is(err, store.ErrNotFound) {
		return x, s.noSilence(ctx, id, now, all, visible)
	}
	return x, err
}

// SilencesInForce are the silences in force now that visible accepts (nil:
// all), by id.
func (s *Service) SilencesInForce(ctx context.Context, visible func(store.Silence) bool) ([]store.Silence, error) {
	all, err := s.Store.Silences(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []store.Silence{}
	for _, x := range all {
		if inForceAt(x, now) && (visible == nil || visible(x)) {
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(a, b store.Silence) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// noSilence says why there is no silence id in force at now: it never
// was (or is not the caller's to see), or it has ended; and which visible
// ones are in force. all is the silences when already read.
func (s *Service) noSilence(ctx context.Context, id int64, now time.Time, all []store.Silence, visible func(store.Silence) bool) error {
	if all == nil {
		var err error
		if all, err = s.Store.Silences(ctx); err != nil {
			return err
		}
	}
	var inForce []string
	why := fmt.Sprintf("no silence #%d", id)
	for _, x := range all {
		switch {
		case visible != nil && !visible(x):
		case x.ID == id:
			why = fmt.Sprintf("silence #%d ended at %s", id, x.EndsAt.UTC().Format(time.RFC3339))
		case inForceAt(x, now):
			inForce = append(inForce, fmt.Sprintf("#%d", x.ID))
		}
	}
	if len(inForce) == 0 {
		return domain.Errorf(domain.ENotFound, "%s; no silence is in force", why)
	}
	return domain.Errorf(domain.ENotFound, "%s; in force: %s", why, strings.Join(inForce, ", "))
}

// knownMetric is the catalog's metric id, or an error naming the known ones.
func (s *Service) knownMetric(id string) (*catalog.Metric, error) {
	if m, ok := s.Catalog.Metric(id); ok {
		return m, nil
	}
	var ids []string
	for _, m := range s.Catalog.MetricsInForce() {
		ids = append(ids, m.ID)
	}
	return nil, domain.InvalidParam("metric", "unknown metric %q (known: %s)", id, strings.Join(ids, ", "))
}

// knownScope checks a scope (DIM:VALUE, joined by commas) against the
// dimensions Candor knows and the values the data has, and returns it
// written as alerts write theirs.
func (s *Service) knownScope(ctx context.Context, text string) (string, error) {
	sc, err := metrics.ParseScope(text)
	if err != nil {
		return "", domain.InvalidParam("scope", "%v", err)
	}
	for _, f := range sc.Filters() {
		if !slices.Contains(catalog.Dimensions, f.Dim) {
			return "", domain.InvalidParam("scope", "unknown dimension %q (known: %s)", f.Dim, strings.Join(catalog.Dimensions, ", "))
		}
	}
	if s.Engine == nil {
		return sc.String(), nil
	}
	err = s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		if err := ds.CheckScope(sc); err != nil {
			return domain.InvalidParam("scope", "%v", err)
		}
		// As alerts name their scopes: an alias (environment:prod) is its
		// canonical environment, which mutes compares with, string for
		// string; kept as typed, the silence would mute nothing.
		sc = ds.CanonicalScope(sc)
		return nil
	})
	return sc.String(), err
}

// Evaluate applies the rules to the scorecard now, advances the alerts,
// stores the notifications due, then sends what is due.
func (s *Service) Evaluate(ctx context.Context, opt scorecard.Options) error {
	now := s.now()
	all := s.RulesInForce()
	return s.evaluate(ctx, opt, now, all, s.due(now, all))
}

// OnIngest are the rule kinds evaluated again after an ingest, whatever
// their schedule: quarantined rows are counted, and new data may end a
// staleness (staleness begins with time passing, not with an ingest, so
// the schedule finds it).
var OnIngest = []string{KindQuarantine, KindStale}

// AfterIngest evaluates the OnIngest rules when the engine's data moved
// on since the last evaluation here and the last one of them is at least
// a minute old (a stream of small batches is judged once a minute). It
// reports whether it evaluated.
// opt, when set, gives the scorecard options (asked only when it
// evaluates).
func (s *Service) AfterIngest(ctx context.Context, opt func(ctx context.Context, asOf time.Time) (scorecard.Options, error)) (bool, error) {
	now := s.now()
	seq := s.Engine.Seq()
	s.mu.Lock()
	moved := seq != s.seq && now.Sub(s.ingestAt) >= time.Minute
	if moved {
		s.seq, s.ingestAt = seq, now
	}
	s.mu.Unlock()
	if !moved {
		return false, nil
	}
	var rules []Rule
	all := s.RulesInForce()
	for _, r := range all {
		if slices.Contains(OnIngest, r.Kind) {
			rules = append(rules, r)
		}
	}
	if len(rules) == 0 {
		return false, nil
	}
	o := scorecard.Options{}
	if opt != nil {
		var err error
		if o, err = opt(ctx, now); err != nil {
			return false, err
		}
	}
	return true, s.evaluate(ctx, o, now, all, rules)
}

// evaluate observes rules, those due of all (the rules in force).
func (s *Service) evaluate(ctx context.Context, opt scorecard.Options, now time.Time, all, rules []Rule) error {
	opt.AsOf = now
	if s.Engine != nil {
		s.mu.Lock()
		s.seq = max(s.seq, s.Engine.Seq())
		s.mu.Unlock()
	}
	var obs []Observation
	if err := s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		obs = Evaluate(s.Catalog, ds, rules, opt)
		return nil
	}); err != nil {
		return err
	}
	if s.Docs != nil && slices.ContainsFunc(rules, func(r Rule) bool { return r.Kind == KindReconcile }) {
		results, err := reconcile.List(ctx, s.Docs, 0)
		if err != nil {
			return err
		}
		obs = append(obs, ReconcileObservations(s.Catalog, rules, results)...)
	}
	if err := s.update(ctx, now, all, func(prev []Alert) ([]Alert, []string) {
		// Alerts of rules not due this time stand as they are; those of
		// rules no longer configured go through Step and resolve.
		var stepped, held []Alert
		for _, a := range prev {
			if slices.ContainsFunc(all, func(r Rule) bool { return r.Name == a.Rule }) &&
				!slices.ContainsFunc(rules, func(r Rule) bool { return r.Name == a.Rule }) {
				held = append(held, a)
			} else {
				stepped = append(stepped, a)
			}
		}
		next, drop := Step(stepped, obs, all, now, cmp.Or(s.Keep, 7*24*time.Hour))
		next = append(next, held...)
		slices.SortFunc(next, func(a, b Alert) int { return cmp.Compare(a.Key, b.Key) })
		return next, drop
	}); err != nil {
		return err
	}
	_, err := s.Flush(ctx)
	return err
}

// Notify implements escalation.Notifier: each escalation rule that looks
// at the metric fires an alert for it, told like any other.
func (s *Service) Notify(ctx context.Context, e escalation.Escalation) error {
	now := s.now()
	all := s.RulesInForce()
	var obs []Observation
	for _, r := range all {
		if r.Kind != KindEscalation || (r.Metric != "*" && r.Metric != e.Metric) {
			continue
		}
		// The pages' words and dates: an owner records an action. Since is
		// the earliest of the checks looked at, not the run's start, so
		// "or earlier", as the pages say: "red since 30 Nov" of a metric
		// red since October read as a fact.
		summary := fmt.Sprintf("%s has been %s since %s or earlier with no action recorded", e.Name, e.Status, e.Since.UTC().Format("2 Jan 2006"))
		if e.Why == escalation.Overdue {
			summary = fmt.Sprintf("%s is %s and its owner's action is overdue", e.Name, e.Status)
		}
		obs = append(obs, Observation{Rule: r.Name, Metric: e.Metric, Scope: e.Scope, Active: true, Status: string(e.Status),
			Owner: e.Owner, Severity: r.SeverityFor(string(e.Status)), Summary: summary})
	}
	return s.raise(ctx, now, all, obs)
}

// ActionRecorded resolves at once the escalation alerts of a metric in a
// scope ("" the organisation's) whose owner has just recorded an action
// (escalation.Record): they had gone on saying "no action recorded" for
// up to a day (escalationHold), while the pages said the action. Should
// the metric escalate again — the action overdue, a new one due — the
// watcher raises it anew. The resolution's notifications go at the next
// Flush (the leader's, within a minute), not in the caller's request: a
// slow mail server would have held the owner's form.
func (s *Service) ActionRecorded(ctx context.Context, metric, scope, owner string) error {
	all := s.RulesInForce()
	var obs []Observation
	for _, r := range all {
		if r.Kind != KindEscalation || (r.Metric != "*" && r.Metric != metric) {
			continue
		}
		obs = append(obs, Observation{Rule: r.Name, Metric: metric, Scope: scope, Active: false,
			Resolution: fmt.Sprintf("%s recorded an action at %s UTC", owner, s.now().UTC().Format("2 Jan 2006 15:04"))})
	}
	return s.keep(ctx, s.now(), all, obs)
}

// raise fires the observations' alerts at once (they are raised, not
// observed at each evaluation) and, for an inactive one, resolves its
// firing alert; then it sends what is due.
func (s *Service) raise(ctx context.Context, now time.Time, all []Rule, obs []Observation) error {
	if len(obs) == 0 {
		return nil
	}
	if err := s.keep(ctx, now, all, obs); err != nil {
		return err
	}
	_, err := s.Flush(ctx)
	return err
}

// keep is raise without the sending.
func (s *Service) keep(ctx context.Context, now time.Time, all []Rule, obs []Observation) error {
	if len(obs) == 0 {
		return nil
	}
	return s.update(ctx, now, all, func(prev []Alert) ([]Alert, []string) {
		next := slices.Clone(prev)
		for _, o := range obs {
			i := slices.IndexFunc(next, func(a Alert) bool { return a.Key == o.Key() })
			if !o.Active {
				if i >= 0 && next[i].State != Resolved {
					next[i].State, next[i].ResolvedAt, next[i].LastEval = Resolved, now, now
					if o.Resolution != "" {
						next[i].Summary = o.Resolution
					}
				}
				continue
			}
			if i < 0 || next[i].State == Resolved {
				a := Alert{Key: o.Key(), State: Firing, ActiveAt: now, FiredAt: now}
				if i < 0 {
					next = append(next, a)
					i = len(next) - 1
				} else {
					next[i] = a
				}
			}
			next[i].Observation, next[i].LastEval = o, now
		}
		return next, nil
	})
}

// RollbackWatch is a post-deploy watch's outcome (package gate) as the
// rollback_watch rules see it.
type RollbackWatch struct {
	Deployment, Service, Outcome, Reason string
}

// The post-deploy watch's outcomes (package gate's WatchPass, WatchFail,
// WatchInconclusive).
const (
	WatchPass         = "pass"
	WatchFail         = "fail"
	WatchInconclusive = "inconclusive"
)

// NotifyWatch raises a rollback_watch alert for the service when its
// deployment's watch ended with one of the rule's outcomes, and resolves
// it when one passed. Another outcome leaves the rule's alert as it is: an
// inconclusive watch does not resolve a rollback.
func (s *Service) NotifyWatch(ctx context.Context, w RollbackWatch) error {
	var obs []Observation
	all := s.RulesInForce()
	for _, r := range all {
		if r.Kind != KindRollbackWatch {
			continue
		}
		active := w.Outcome != WatchPass
		if active && len(r.Outcomes) > 0 && !slices.Contains(r.Outcomes, w.Outcome) {
			continue
		}
		o := Observation{Rule: r.Name, Scope: "service:" + w.Service, Active: active, Status: w.Outcome, Severity: r.SeverityFor(""),
			Summary: fmt.Sprintf("post-deploy watch of %s (%s): %s — %s", w.Deployment, w.Service, w.Outcome, w.Reason)}
		obs = append(obs, o)
	}
	return s.raise(ctx, s.now(), all, obs)
}

// update reads the alerts, applies step, plans the notifications (each
// told as its rule among all says) and stores the alerts with the
// notifications in one transaction.
func (s *Service) update(ctx context.Context, now time.Time, all []Rule, step func([]Alert) ([]Alert, []string)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	silences, err := s.Store.Silences(ctx)
	if err != nil {
		return err
	}
	prev, err := s.List(ctx)
	if err != nil {
		return err
	}
	next, drop := step(prev)
	next, msgs := Plan(next, silences, s.Timing, now)
	var notes []store.Notification
	var users []store.User
	if s.Router != nil && s.Users != nil && len(msgs) > 0 {
		if users, err = s.Users(ctx); err != nil {
			return err
		}
	}
	for _, m := range msgs {
		i := slices.IndexFunc(all, func(r Rule) bool { return r.Name == m.Group })
		var r Rule
		if i >= 0 {
			r = all[i]
		}
		for _, p := range s.split(m, r, users) {
			// One per group, channel, recipients and group_interval slot: a
			// group is told at most once per slot, so an instance that
			// wrongly believes it still leads and evaluates in the same slot
			// queues nothing more.
			key := fmt.Sprintf("%s|%s|%s", m.Group, p.channel, now.Truncate(max(s.Timing.GroupInterval, time.Second)).Format(time.RFC3339Nano))
			if s.Router != nil && len(p.to) > 0 {
				h := sha256.Sum256([]byte(strings.Join(p.to, ",")))
				key += "|" + hex.EncodeToString(h[:6])
			}
			body, err := json.Marshal(Envelope{Key: key, To: p.to, Message: p.msg})
			if err != nil {
				return err
			}
			notes = append(notes, store.Notification{Key: key, Group: m.Group, Channel: p.channel, Body: body, NextAt: now, CreatedAt: now})
		}
	}
	put := make([]store.AlertRow, 0, len(next))
	for _, a := range next {
		body, err := json.Marshal(a)
		if err != nil {
			return err
		}
		put = append(put, store.AlertRow{Key: a.Key, State: a.State, ActiveAt: a.ActiveAt, Body: body})
	}
	_, err = s.Store.SaveAlerts(ctx, put, drop, notes)
	return err
}

// part is the share of a group's message one channel and set of
// recipients gets.
type part struct {
	channel string
	to      []string
	msg     Message
}

// split divides m among channels and recipients: without a Router every
// channel the rule names (or every one) gets all of it, addressed to the
// rule's recipients; with one, each alert goes where Router.Plan says, so
// a recipient gets only the alerts routed to them and may see.
func (s *Service) split(m Message, r Rule, users []store.User) []part {
	if s.Router == nil {
		chans := r.Channels
		if len(chans) == 0 {
			for name := range s.Channels {
				chans = append(chans, name)
			}
			slices.Sort(chans)
		}
		out := make([]part, 0, len(chans))
		for _, ch := range chans {
			out = append(out, part{channel: ch, to: r.Recipients, msg: m})
		}
		return out
	}
	var out []part
	place := func(a Alert, resolved bool) {
		ds, _ := s.Router.Plan(a.Observation, r, users)
		for _, d := range ds {
			i := slices.IndexFunc(out, func(p part) bool { return p.channel == d.Channel && slices.Equal(p.to, d.To) })
			if i < 0 {
				msg := m
				msg.Firing, msg.Resolved = nil, nil
				out = append(out, part{channel: d.Channel, to: d.To, msg: msg})
				i = len(out) - 1
			}
			if resolved {
				out[i].msg.Resolved = append(out[i].msg.Resolved, a)
			} else {
				out[i].msg.Firing = append(out[i].msg.Firing, a)
			}
		}
	}
	for _, a := range m.Firing {
		place(a, false)
	}
	for _, a := range m.Resolved {
		place(a, true)
	}
	return out
}

// NotificationView is a stored notification without its addresses and
// text: what the alerts page shows of the outbox.
type NotificationView struct {
	store.Notification
	// Firing and Resolved count the alerts it carries.
	Firing, Resolved int
	// LeftOut counts the recipients its last attempt left out (Withheld).
	LeftOut int `json:"left_out,omitempty"`
}

// Notifications returns the latest limit notifications, newest first.
func (s *Service) Notifications(ctx context.Context, limit int) ([]NotificationView, error) {
	ns, err := s.Store.Notifications(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]NotificationView, 0, len(ns))
	for _, n := range ns {
		v := NotificationView{Notification: n}
		if n.Withheld != "" {
			v.LeftOut = len(strings.Split(n.Withheld, "; "))
		}
		var e Envelope
		if json.Unmarshal(n.Body, &e) == nil {
			v.Firing, v.Resolved = len(e.Message.Firing), len(e.Message.Resolved)
		}
		v.Body = nil
		out = append(out, v)
	}
	return out, nil
}

// backoff is the wait before a notification's next attempt after attempt
// failed ones: 30 s doubling, at most an hour.
func backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Flush sends the notifications due, oldest first, and records each
// attempt: sent, retried later, or failed after MaxAttempts (kept, with
// its last error, never dropped). It returns how many were sent. Only a
// notification recorded pending is sent, and it is recorded sent at once,
// so a restart sends what is pending and nothing that was sent. Each
// attempt is claimed in the store before it is made (claim), so that of two
// processes flushing one store — a server's leader and `candor alert
// evaluate` — one makes it and the other passes it by.
func (s *Service) Flush(ctx context.Context) (int, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	now := s.now()
	// Before the due are read, so that one recorded now is not among them.
	errs := s.recordHeld(ctx)
	due, err := s.Store.DueNotifications(ctx, now, 100)
	if err != nil {
		return 0, errors.Join(append(errs, err)...)
	}
	sent := 0
	var users map[string]store.User // read once, at the first addressed one
	for _, n := range due {
		if s.held(n.ID) {
			continue // attempted already; its outcome is recorded first
		}
		var e Envelope
		var err error
		ch, known := s.Channels[n.Channel]
		if err = json.Unmarshal(n.Body, &e); err != nil {
			n.State, n.LastError = store.NotificationFailed, "corrupt body: "+err.Error()
		} else if !known {
			n.State, n.LastError = store.NotificationFailed, fmt.Sprintf("no channel %q configured", n.Channel)
		} else if e.To, n.Withheld, err = s.stillReaches(ctx, n.Channel, e, &users); err != nil {
			errs = append(errs, err)
			continue // as it was: the next flush tries again
		} else if n.Withheld != "" && len(e.To) == 0 {
			n.State, n.LastError = store.NotificationFailed, "not sent: no recipient may receive it now: "+n.Withheld
		}
		if n.State == store.NotificationPending {
			// What a receiver drops repeats by is (origin, id): an
			// attempt sent without the origin, its retry with it, would
			// be two notifications.
			if e.Origin, err = s.origin(ctx); err != nil {
				errs = append(errs, fmt.Errorf("notification %d not sent (the next flush tries again): %w", n.ID, err))
				continue
			}
		}
		// Claimed before any outcome is recorded, a failure too: another
		// process may be sending it under a configuration of its own.
		if got, err := s.claim(ctx, n); err != nil || !got {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if n.State == store.NotificationPending {
			e.ID = n.ID
			n.Attempts++
			sctx, cancel := context.WithTimeout(ctx, sendLimit)
			err := ch.Send(sctx, e)
			cancel()
			if err != nil {
				n.LastError = err.Error()
				if n.Attempts >= cmp.Or(s.MaxAttempts, 8) {
					n.State = store.NotificationFailed
				} else {
					n.NextAt = now.Add(backoff(n.Attempts))
				}
				if s.Log != nil {
					s.Log.Warn("alert notification not sent", "id", n.ID, "channel", n.Channel, "attempt", n.Attempts, "err", err)
				}
			} else {
				n.State, n.SentAt, n.LastError = store.NotificationSent, now, ""
				sent++
			}
		}
		if err := s.record(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
}

// A flush's claim on a notification (claim) lasts claimLease; its send
// may take sendLimit. The channels give up sooner — 10 s for an HTTP call
// (outbound.Timeout), 15 s for each step of an SMTP exchange — but an
// in-app send writes to the store once per recipient, behind whatever
// holds the store's writer, so the limit bounds it. What the lease has
// beyond the limit is for recording the outcome, which ends the claim: a
// claim must not lapse while its process is still sending, or another
// process sends it too. A process that dies holding one leaves its
// notification unsent until the lease lapses: the next flush after that
// sends it (a repeat if the dead process had sent it, as before claims).
const (
	claimLease = 5 * time.Minute
	sendLimit  = time.Minute
)

// claim takes n's attempt for this process, as DueNotifications read it;
// false when another process has it (it is sending it now) or made it
// since. The lease runs on the wall clock, not Now: --as-of moves the
// evaluation's clock, and a claim is about how long a process takes to
// send, which the other process judges by its own clock.
func (s *Service) claim(ctx context.Context, n store.Notification) (bool, error) {
	at := time.Now()
	got, err := s.Store.ClaimNotification(ctx, n, at, at.Add(claimLease))
	if err != nil {
		return false, fmt.Errorf("claiming notification %d before sending it (not sent; the next flush tries again): %w", n.ID, err)
	}
	return got, nil
}

// record stores n's attempt, or holds it for the next flush to store
// when the store refuses it.
func (s *Service) record(ctx context.Context, n store.Notification) error {
	err := s.Store.UpdateNotification(ctx, n)
	s.unrecordedMu.Lock()
	defer s.unrecordedMu.Unlock()
	if err != nil {
		if s.unrecorded == nil {
			s.unrecorded = map[int64]store.Notification{}
		}
		s.unrecorded[n.ID] = n
		return fmt.Errorf("recording notification %d (%s, not attempted again until it is): %w", n.ID, n.State, err)
	}
	delete(s.unrecorded, n.ID)
	return nil
}

// held reports whether notification id was attempted and its outcome
// is not stored yet.
func (s *Service) held(id int64) bool {
	s.unrecordedMu.Lock()
	defer s.unrecordedMu.Unlock()
	_, ok := s.unrecorded[id]
	return ok
}

// recordHeld stores the outcomes held since the store refused them.
func (s *Service) recordHeld(ctx context.Context) []error {
	s.unrecordedMu.Lock()
	held := slices.Collect(maps.Values(s.unrecorded))
	s.unrecordedMu.Unlock()
	var errs []error
	for _, n := range held {
		if err := s.record(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// stillReaches is e's recipients who may receive it now, and whom it left
// out and why (Withheld's words, joined by "; "). The routes chose the
// recipients within the grants of when the notification was queued; a
// retry comes up to an hour later, when a user may have been disabled or
// lost the role that let them see a metric the message is about, and is a
// new sending. So each attempt admits only those who may see every metric
// of it, by the rule that chose them (Router.mayReceive): a user disabled
// or without the grant is left out, an address that is no Candor user
// (an on-call alias an administrator configured) stays. Without a router
// and its users, or over a channel not addressed to people, the
// recipients stand as queued. users is read once per flush.
func (s *Service) stillReaches(ctx context.Context, channel string, e Envelope, users *map[string]store.User) ([]string, string, error) {
	if s.Router == nil || s.Users == nil || len(e.To) == 0 || !addressed(s.Router.Kinds[channel]) {
		return e.To, "", nil
	}
	if *users == nil {
		list, err := s.Users(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("reading the users to check notification recipients: %w", err)
		}
		*users = usersByMail(list)
	}
	var ms []*catalog.Metric
	for _, a := range slices.Concat(e.Message.Firing, e.Message.Resolved) {
		if m, ok := s.Router.Catalog.Metric(a.Metric); ok && !slices.Contains(ms, m) {
			ms = append(ms, m)
		}
	}
	var admit, left []string
	for _, addr := range e.To {
		ok, why := true, ""
		for _, m := range ms {
			if ok, why = s.Router.mayReceive(addr, m, *users); !ok {
				break
			}
		}
		if len(ms) == 0 {
			ok, why = s.Router.mayReceive(addr, nil, *users)
		}
		if ok {
			admit = append(admit, addr)
		} else {
			left = append(left, Withheld{Who: addr, Why: why}.String())
		}
	}
	return admit, strings.Join(left, "; "), nil
}

// Test sends a test message through the named channel now, outside the
// outbox; to, when set, replaces an e-mail channel's addresses.
func (s *Service) Test(ctx context.Context, channel string, to []string) error {
	ch, ok := s.Channels[channel]
	if !ok {
		names := make([]string, 0, len(s.Channels))
		for n := range s.Channels {
			names = append(names, n)
		}
		slices.Sort(names)
		return domain.InvalidParam("channel", "unknown channel %q; configured: %s", channel, strings.Join(names, ", "))
	}
	now := s.now()
	m := Message{Group: "test", Severity: "warning", At: now, Firing: []Alert{{Key: "test", State: Firing, ActiveAt: now, FiredAt: now,
		Observation: Observation{Rule: "test", Severity: "warning", Summary: "This is a test notification from Candor: the channel works."}}}}
	// A test is no stored notification: its id is negative, minus its
	// time in milliseconds, so that no two tests and no real notification
	// share one (every test had been id 0, and a receiver dropping
	// repeats by id kept only the first).
	origin, err := s.origin(ctx)
	if err != nil {
		return err
	}
	return ch.Send(ctx, Envelope{ID: -now.UnixMilli(), Origin: origin, Key: "test|" + channel + "|" + now.Format(time.RFC3339Nano), To: to, Message: m})
}

// origin is the store's identity (engine.StoreIdentity), read once; ""
// when the store keeps no documents. An identity that cannot be read is
// an error, not "": a notification sent without it and retried with it
// would reach its receiver as two.
func (s *Service) origin(ctx context.Context) (string, error) {
	if o := s.originID.Load(); o != nil {
		return *o, nil
	}
	docs := s.Docs
	if docs == nil {
		docs, _ = s.Store.(store.DocStore)
	}
	if docs == nil {
		return "", nil
	}
	id, err := engine.StoreIdentity(ctx, docs, true)
	if err != nil {
		return "", fmt.Errorf("reading the store's identity, a notification's origin: %w", err)
	}
	s.originID.Store(&id)
	return id, nil
}

// Run evaluates the rules due now and every `every` (the settings'
// Every), and each minute in between evaluates the OnIngest rules when
// records arrived (AfterIngest) and sends due notifications (retries),
// until ctx ends. opt gives the scorecard options of an evaluation (the connectors'
// health); nil evaluates with none.
func (s *Service) Run(ctx context.Context, every time.Duration, opt func(ctx context.Context, asOf time.Time) (scorecard.Options, error)) {
	next := time.Time{}
	for {
		if now := s.now(); !now.Before(next) {
			o := scorecard.Options{}
			var err error
			if opt != nil {
				o, err = opt(ctx, now)
			}
			if err == nil {
				err = s.Evaluate(ctx, o)
			}
			if err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Error("evaluating alert rules", "err", err)
			}
			next = now.Add(every)
		} else {
			if _, err := s.AfterIngest(ctx, opt); err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Error("evaluating alert rules after an ingest", "err", err)
			}
			if _, err := s.Flush(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
				s.Log.Error("sending alert notifications", "err", err)
			}
		}
		t := time.NewTimer(min(time.Minute, every))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

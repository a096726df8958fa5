package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
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

	mu sync.Mutex // one evaluation or escalation at a time
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

// Ack acknowledges a pending or firing alert: it is not repeated until it
// resolves.
func (s *Service) Ack(ctx context.Context, key, by, note string) error {
	if strings.TrimSpace(by) == "" {
		return domain.InvalidParam("by", "an acknowledgement needs its author")
	}
	if err := s.Store.AckAlert(ctx, key, by, note, s.now()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return domain.Errorf(domain.ENotFound, "no pending or firing alert %q", key)
		}
		return err
	}
	return nil
}

// Silence mutes the alerts matching x for d from now. A silence needs a
// reason and an author, and one matcher at least.
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
	}
	if x.Rule != "" && !slices.ContainsFunc(s.Rules, func(r Rule) bool { return r.Name == x.Rule }) {
		return x, domain.InvalidParam("rule", "unknown rule %q", x.Rule)
	}
	now := s.now()
	x.StartsAt, x.EndsAt, x.CreatedAt = now, now.Add(d), now
	return s.Store.AddSilence(ctx, x)
}

// Evaluate applies the rules to the scorecard now, advances the alerts,
// stores the notifications due, then sends what is due.
func (s *Service) Evaluate(ctx context.Context, opt scorecard.Options) error {
	now := s.now()
	opt.AsOf = now
	var obs []Observation
	if err := s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		obs = Evaluate(s.Catalog, ds, s.Rules, opt)
		return nil
	}); err != nil {
		return err
	}
	if err := s.update(ctx, now, func(prev []Alert) ([]Alert, []string) {
		return Step(prev, obs, s.Rules, now, cmp.Or(s.Keep, 7*24*time.Hour))
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
	var obs []Observation
	for _, r := range s.Rules {
		if r.Kind != KindEscalation || (r.Metric != "*" && r.Metric != e.Metric) {
			continue
		}
		summary := fmt.Sprintf("%s has been %s since %s with no acknowledged action", e.Name, e.Status, e.Since.Format(time.DateOnly))
		if e.Why == escalation.Overdue {
			summary = fmt.Sprintf("%s is %s and its acknowledged action is overdue", e.Name, e.Status)
		}
		obs = append(obs, Observation{Rule: r.Name, Metric: e.Metric, Scope: e.Scope, Active: true, Status: string(e.Status),
			Owner: e.Owner, Severity: r.Severity, Summary: summary})
	}
	return s.raise(ctx, now, obs)
}

// raise fires the observations' alerts at once (they are raised, not
// observed at each evaluation) and, for an inactive one, resolves its
// firing alert; then it sends what is due.
func (s *Service) raise(ctx context.Context, now time.Time, obs []Observation) error {
	if len(obs) == 0 {
		return nil
	}
	if err := s.update(ctx, now, func(prev []Alert) ([]Alert, []string) {
		next := slices.Clone(prev)
		for _, o := range obs {
			i := slices.IndexFunc(next, func(a Alert) bool { return a.Key == o.Key() })
			if !o.Active {
				if i >= 0 && next[i].State != Resolved {
					next[i].State, next[i].ResolvedAt, next[i].LastEval = Resolved, now, now
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
	}); err != nil {
		return err
	}
	_, err := s.Flush(ctx)
	return err
}

// RollbackWatch is a post-deploy watch's outcome (package gate) as the
// rollback_watch rules see it.
type RollbackWatch struct {
	Deployment, Service, Outcome, Reason string
}

// NotifyWatch raises a rollback_watch alert for the service when its
// deployment's watch failed or was inconclusive, and resolves it when one
// passed.
func (s *Service) NotifyWatch(ctx context.Context, w RollbackWatch) error {
	var obs []Observation
	for _, r := range s.Rules {
		if r.Kind != KindRollbackWatch {
			continue
		}
		o := Observation{Rule: r.Name, Scope: "service:" + w.Service, Active: w.Outcome != "pass", Status: w.Outcome, Severity: r.Severity,
			Summary: fmt.Sprintf("post-deploy watch of %s (%s): %s — %s", w.Deployment, w.Service, w.Outcome, w.Reason)}
		obs = append(obs, o)
	}
	return s.raise(ctx, s.now(), obs)
}

// update reads the alerts, applies step, plans the notifications and
// stores the alerts with the notifications in one transaction.
func (s *Service) update(ctx context.Context, now time.Time, step func([]Alert) ([]Alert, []string)) error {
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
	for _, m := range msgs {
		i := slices.IndexFunc(s.Rules, func(r Rule) bool { return r.Name == m.Group })
		var r Rule
		if i >= 0 {
			r = s.Rules[i]
		}
		chans := r.Channels
		if len(chans) == 0 {
			for name := range s.Channels {
				chans = append(chans, name)
			}
			slices.Sort(chans)
		}
		for _, ch := range chans {
			// One per group, channel and group_interval slot: a group is told
			// at most once per slot, so an instance that wrongly believes it
			// still leads and evaluates in the same slot queues nothing more.
			key := fmt.Sprintf("%s|%s|%s", m.Group, ch, now.Truncate(max(s.Timing.GroupInterval, time.Second)).Format(time.RFC3339Nano))
			body, err := json.Marshal(Envelope{Key: key, To: r.Recipients, Message: m})
			if err != nil {
				return err
			}
			notes = append(notes, store.Notification{Key: key, Group: m.Group, Channel: ch, Body: body, NextAt: now, CreatedAt: now})
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
// so a restart sends what is pending and nothing that was sent.
func (s *Service) Flush(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.Store.DueNotifications(ctx, now, 100)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, n := range due {
		var e Envelope
		if err := json.Unmarshal(n.Body, &e); err != nil {
			n.State, n.LastError = store.NotificationFailed, "corrupt body: "+err.Error()
		} else if ch, ok := s.Channels[n.Channel]; !ok {
			n.State, n.LastError = store.NotificationFailed, fmt.Sprintf("no channel %q configured", n.Channel)
		} else {
			e.ID = n.ID
			n.Attempts++
			if err := ch.Send(ctx, e); err != nil {
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
		if err := s.Store.UpdateNotification(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	return sent, errors.Join(errs...)
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
	m := Message{Group: "test", Severity: "warning", At: now, Firing: []Alert{{Key: "test", State: Firing,
		Observation: Observation{Rule: "test", Summary: "This is a test notification from Candor: the channel works."}}}}
	return ch.Send(ctx, Envelope{Key: "test|" + channel + "|" + now.Format(time.RFC3339Nano), To: to, Message: m})
}

// Run evaluates the rules now and every `every` (the settings' Every),
// and sends due notifications (retries) each minute in between, until ctx
// ends. opt gives the scorecard options of an evaluation (the connectors'
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
		} else if _, err := s.Flush(ctx); err != nil && ctx.Err() == nil && s.Log != nil {
			s.Log.Error("sending alert notifications", "err", err)
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

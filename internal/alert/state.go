package alert

import (
	"cmp"
	"slices"
	"time"

	"github.com/candor/candor/internal/store"
)

// Alert states. Pending waits out the rule's `for`; a pending alert whose
// condition clears is dropped without a word, as Prometheus drops it.
const (
	Pending  = "pending"
	Firing   = "firing"
	Resolved = "resolved"
)

// Alert is one rule's alert on one metric and scope, as stored.
type Alert struct {
	Key string `json:"key"`
	Observation
	State      string    `json:"state"`
	ActiveAt   time.Time `json:"active_at"`
	FiredAt    time.Time `json:"fired_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	LastEval   time.Time `json:"last_eval"`
	// NotifiedAt is when a notification last carried the alert; Notified
	// says its firing was told, ResolvedNotified its resolution.
	NotifiedAt       time.Time `json:"notified_at,omitzero"`
	Notified         bool      `json:"notified,omitempty"`
	ResolvedNotified bool      `json:"resolved_notified,omitempty"`
	// Acknowledged alerts are not repeated until they resolve.
	AckedBy   string    `json:"acked_by,omitempty"`
	AckedAt   time.Time `json:"acked_at,omitzero"`
	AckNote   string    `json:"ack_note,omitempty"`
	Silenced  bool      `json:"silenced,omitempty"`
	SilenceID int64     `json:"silence_id,omitempty"`
}

// Silence is a stored silence (store.Silence).
type Silence = store.Silence

// inForceAt reports whether s has begun and not ended at now.
func inForceAt(s Silence, now time.Time) bool { return !now.Before(s.StartsAt) && now.Before(s.EndsAt) }

// mutes reports whether s mutes a at now.
func mutes(s Silence, a Alert, now time.Time) bool {
	return inForceAt(s, now) &&
		(s.Rule == "" || s.Rule == a.Rule) && (s.Metric == "" || s.Metric == a.Metric) && (s.Scope == "" || s.Scope == a.Scope)
}

// Step advances the alerts by one evaluation: each observation's alert
// goes pending → firing (after the rule's `for`) → resolved, and back to
// pending when it fires again. Alerts of rules that are gone, and wildcard
// rules' alerts of metrics not observed active, resolve too. It returns
// the alerts to keep and the keys to delete (pending alerts that cleared,
// resolved ones older than keep).
func Step(prev []Alert, obs []Observation, rules []Rule, now time.Time, keep time.Duration) (next []Alert, drop []string) {
	forOf := map[string]time.Duration{}
	for _, r := range rules {
		forOf[r.Name] = r.forDur
	}
	byKey := map[string]Alert{}
	for _, a := range prev {
		byKey[a.Key] = a
	}
	seen := map[string]bool{}
	for _, o := range obs {
		k := o.Key()
		if !o.Active {
			continue
		}
		seen[k] = true
		a, ok := byKey[k]
		if !ok || a.State == Resolved {
			// A new episode: what was acknowledged or told of the last is not carried over.
			a = Alert{Key: k, State: Pending, ActiveAt: now}
		}
		a.Observation, a.LastEval = o, now
		if a.State == Pending && now.Sub(a.ActiveAt) >= forOf[o.Rule] {
			a.State, a.FiredAt = Firing, now
		}
		byKey[k] = a
	}
	for k, a := range byKey {
		if seen[k] {
			continue
		}
		switch a.State {
		case Pending:
			delete(byKey, k)
			drop = append(drop, k)
		case Firing:
			if isEscalation(a, rules) && now.Sub(a.LastEval) < escalationHold {
				// Escalations are raised once a day, not observed at
				// each evaluation: they hold until a day passes unraised.
				continue
			}
			a.State, a.ResolvedAt, a.LastEval = Resolved, now, now
			byKey[k] = a
		case Resolved:
			if now.Sub(a.ResolvedAt) >= keep && (a.ResolvedNotified || !a.Notified) {
				delete(byKey, k)
				drop = append(drop, k)
			}
		}
	}
	for _, a := range byKey {
		next = append(next, a)
	}
	slices.SortFunc(next, func(a, b Alert) int { return cmp.Compare(a.Key, b.Key) })
	slices.Sort(drop)
	return next, drop
}

// escalationHold is how long an escalation alert stays firing after it
// was last raised: the watcher raises it once per UTC day while it lasts.
const escalationHold = 25 * time.Hour

func isEscalation(a Alert, rules []Rule) bool {
	i := slices.IndexFunc(rules, func(r Rule) bool { return r.Name == a.Rule })
	return i >= 0 && (rules[i].Kind == KindEscalation || rules[i].Kind == KindRollbackWatch)
}

// Timing is how notifications of a group are spaced (Alertmanager's
// group_interval and repeat_interval; there is no group_wait: the
// evaluation is already periodic, so alerts found together are sent
// together).
type Timing struct {
	// GroupInterval is the least time between two notifications of a group
	// (default 5m); RepeatInterval how long before an unchanged firing
	// group is told again (default 4h).
	GroupInterval, RepeatInterval time.Duration
}

// DefaultTiming is Alertmanager's.
var DefaultTiming = Timing{GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour}

// Message is what a notification says about one group.
type Message struct {
	Group    string  `json:"group"`
	Severity string  `json:"severity"`
	Firing   []Alert `json:"firing"`
	Resolved []Alert `json:"resolved"`
	// Repeat marks a reminder of alerts already told.
	Repeat bool      `json:"repeat,omitempty"`
	At     time.Time `json:"at"`
}

// Plan decides which groups (rules) are notified now and marks the alerts
// it tells; silences are applied first. A group is notified when it has a
// firing alert not yet told or a told alert that resolved, and the last
// notification of the group is at least GroupInterval old; or, unchanged,
// when it still has a firing alert and RepeatInterval passed since the
// group was last told. A notification carries every firing alert of the
// group (as Alertmanager's does), not only the new ones. Acknowledged and silenced alerts are
// neither new nor repeated; a silenced alert's resolution is not told.
func Plan(alerts []Alert, silences []Silence, t Timing, now time.Time) ([]Alert, []Message) {
	out := slices.Clone(alerts)
	groups := map[string][]int{}
	var names []string
	for i := range out {
		a := &out[i]
		a.Silenced, a.SilenceID = false, 0
		for _, s := range silences {
			if mutes(s, *a, now) {
				a.Silenced, a.SilenceID = true, s.ID
				break
			}
		}
		if _, ok := groups[a.Rule]; !ok {
			names = append(names, a.Rule)
		}
		groups[a.Rule] = append(groups[a.Rule], i)
	}
	slices.Sort(names)
	var msgs []Message
	for _, g := range names {
		var last time.Time
		var firing, fresh, resolved []int
		for _, i := range groups[g] {
			a := out[i]
			if a.NotifiedAt.After(last) {
				last = a.NotifiedAt
			}
			switch {
			case a.Silenced && a.State == Resolved:
				// Resolved under a silence: its resolution is muted for
				// good, not told when the silence ends.
				out[i].ResolvedNotified = true
			case a.Silenced:
			case a.State == Firing && a.AckedBy == "":
				firing = append(firing, i)
				if !a.Notified {
					fresh = append(fresh, i)
				}
			case a.State == Resolved && a.Notified && !a.ResolvedNotified:
				resolved = append(resolved, i)
			}
		}
		if !last.IsZero() && now.Sub(last) < t.GroupInterval {
			continue
		}
		changed := len(fresh) > 0 || len(resolved) > 0
		repeat := !changed && len(firing) > 0 && now.Sub(last) >= t.RepeatInterval
		if !changed && !repeat {
			continue
		}
		m := Message{Group: g, Repeat: repeat, At: now}
		for _, i := range firing {
			out[i].Notified, out[i].NotifiedAt = true, now
			m.Firing = append(m.Firing, out[i])
			m.Severity = worse(m.Severity, out[i].Severity)
		}
		for _, i := range resolved {
			out[i].ResolvedNotified, out[i].NotifiedAt = true, now
			m.Resolved = append(m.Resolved, out[i])
			m.Severity = worse(m.Severity, out[i].Severity)
		}
		msgs = append(msgs, m)
	}
	return out, msgs
}

func worse(a, b string) string {
	if a == "critical" || b == "critical" {
		return "critical"
	}
	return cmp.Or(a, b)
}

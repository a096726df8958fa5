package alert

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// counter is a channel that fails its first Fail sends and counts the
// sends that went through.
type counter struct {
	Fail, tries, sent int
}

func (c *counter) Send(context.Context, Envelope) error {
	c.tries++
	if c.tries <= c.Fail {
		return errors.New("connection refused")
	}
	c.sent++
	return nil
}

func TestOutboxRetriesAndResumesAfterRestart(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// Each action: "queue" (an alert fires, its notification is stored),
	// "flush@S" (send what is due S seconds after t0), "restart" (the
	// process dies: a new service on the reopened store).
	cases := []struct {
		name      string
		hookFails int
		max       int
		actions   []string
		wantMail  int // sends that went through
		wantHook  int
		wantState string // the hook notification's final state
		wantTries int
	}{
		{"stored before sending: a restart sends it once", 0, 0,
			[]string{"queue", "restart", "flush@0", "restart", "flush@0", "flush@3600"}, 1, 1, store.NotificationSent, 1},
		{"retried with backoff across a restart, never sent twice", 2, 0,
			[]string{"queue", "flush@0", "flush@10", "restart", "flush@30", "flush@60", "flush@90", "flush@5000"}, 1, 1, store.NotificationSent, 3},
		{"gives up after the last attempt, kept as failed", 99, 3,
			[]string{"queue", "flush@0", "flush@30", "flush@90", "flush@100000"}, 1, 0, store.NotificationFailed, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			var db *sqlite.DB
			mail, hook := &counter{}, &counter{Fail: c.hookFails}
			now := t0
			var svc *Service
			open := func() {
				if db != nil {
					db.Close()
				}
				var err error
				if db, err = sqlite.Open(ctx, dir); err != nil {
					t.Fatal(err)
				}
				svc = &Service{Store: db, Rules: []Rule{{Name: "r", Kind: KindStatus}}, Timing: DefaultTiming, MaxAttempts: c.max,
					Channels: map[string]Channel{"mail": mail, "hook": hook}, Now: func() time.Time { return now }}
			}
			open()
			defer func() { db.Close() }()
			for _, a := range c.actions {
				var secs int
				switch {
				case a == "queue":
					obs := []Observation{{Rule: "r", Metric: "m", Active: true, Summary: "m is red"}}
					if err := svc.update(ctx, now, svc.Rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, svc.Rules, now, time.Hour) }); err != nil {
						t.Fatal(err)
					}
				case a == "restart":
					open()
				default:
					if _, err := fmt.Sscanf(a, "flush@%d", &secs); err != nil {
						t.Fatal(a)
					}
					now = t0.Add(time.Duration(secs) * time.Second)
					if _, err := svc.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			if mail.sent != c.wantMail || hook.sent != c.wantHook || hook.tries != c.wantTries {
				t.Errorf("mail sent %d, hook sent %d in %d tries; want %d, %d in %d", mail.sent, hook.sent, hook.tries, c.wantMail, c.wantHook, c.wantTries)
			}
			ns, err := db.Notifications(ctx, 10)
			if err != nil || len(ns) != 2 {
				t.Fatalf("notifications %+v, %v", ns, err)
			}
			for _, n := range ns {
				if n.Channel == "hook" && (n.State != c.wantState || n.Attempts != c.wantTries || (n.State == store.NotificationFailed) != (n.LastError != "")) {
					t.Errorf("hook notification %+v; want state %s after %d attempts", n, c.wantState, c.wantTries)
				}
			}
		})
	}
}

// refusing is an alert store whose notification updates fail while
// full is set, as those of a store on a full disk do while it reads.
type refusing struct {
	store.AlertStore
	full bool
}

func (r *refusing) UpdateNotification(ctx context.Context, n store.Notification) error {
	if r.full {
		return errors.New("database or disk is full (13)")
	}
	return r.AlertStore.UpdateNotification(ctx, n)
}

// A notification sent whose outcome the store refuses to record (a full
// disk) is not sent again at each flush, as its row still says pending:
// the outcome is held and recorded once the store takes writes again.
func TestSentNotificationNotResentWhileUnrecorded(t *testing.T) {
	ctx := context.Background()
	db := sqlitetest.Open(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	st := &refusing{AlertStore: db}
	hook := &counter{}
	svc := &Service{Store: st, Rules: []Rule{{Name: "r", Kind: KindStatus}}, Timing: DefaultTiming,
		Channels: map[string]Channel{"hook": hook}, Now: func() time.Time { return now }}
	obs := []Observation{{Rule: "r", Metric: "m", Active: true, Summary: "m is red"}}
	if err := svc.update(ctx, now, svc.Rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, svc.Rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	st.full = true
	for range 3 {
		if _, err := svc.Flush(ctx); err == nil || !strings.Contains(err.Error(), "disk is full") {
			t.Fatalf("Flush on a full store: %v; want the refused update named", err)
		}
		now = now.Add(time.Minute)
	}
	if hook.sent != 1 {
		t.Fatalf("sent %d times while the store refused to record it; want once", hook.sent)
	}
	st.full = false
	if _, err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ns, err := db.Notifications(ctx, 10)
	if err != nil || len(ns) != 1 || ns[0].State != store.NotificationSent || ns[0].Attempts != 1 || hook.sent != 1 {
		t.Fatalf("after the store took writes again: %+v, %v, sent %d; want it recorded sent after one attempt", ns, err, hook.sent)
	}
}

func TestBackoff(t *testing.T) {
	for attempts, want := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 7: 32 * time.Minute, 8: time.Hour, 30: time.Hour} {
		if got := backoff(attempts); got != want {
			t.Errorf("backoff(%d) = %v, want %v", attempts, got, want)
		}
	}
}

func TestEscalationsBecomeAlerts(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hook := &counter{}
	svc := &Service{Store: db, Rules: []Rule{{Name: "esc", Kind: KindEscalation, Metric: "*", Severity: "critical"}, {Name: "mttr_only", Kind: KindEscalation, Metric: "mttr"}},
		Timing: DefaultTiming, Channels: map[string]Channel{"hook": hook}, Now: func() time.Time { return now }}
	e := escalation.Escalation{Metric: "win_rate", Name: "Win rate", Status: "red", Owner: "CRO", Why: escalation.Unacknowledged, Since: now.Add(-8 * 24 * time.Hour)}
	if err := svc.Notify(ctx, e); err != nil {
		t.Fatal(err)
	}
	list, err := svc.List(ctx)
	if err != nil || len(list) != 1 || list[0].Key != "esc|win_rate|" || list[0].State != Firing || list[0].Summary != "Win rate has been red since 22 Feb 2026 or earlier with no action recorded" || hook.sent != 1 {
		t.Fatalf("after an escalation: %+v, %v; %d sent", list, err, hook.sent)
	}
	// Raised again the next day: the same alert, still firing, not told again before the repeat interval.
	now = now.Add(time.Hour)
	if err := svc.Notify(ctx, e); err != nil {
		t.Fatal(err)
	}
	if list, _ = svc.List(ctx); len(list) != 1 || hook.sent != 1 {
		t.Errorf("a second raise: %+v; %d sent, want 1", list, hook.sent)
	}
	// The owner records an action: the alert ends then, saying so, where
	// it had gone on "with no action recorded" for up to a day. Another
	// scope's, or another metric's, stays.
	now = now.Add(time.Hour)
	if err := svc.ActionRecorded(ctx, "win_rate", "team:sales", "cro@example.com"); err != nil {
		t.Fatal(err)
	}
	if list, _ = svc.List(ctx); len(list) != 1 || list[0].State != Firing {
		t.Fatalf("an action in another scope ended the alert: %+v", list)
	}
	if err := svc.ActionRecorded(ctx, "win_rate", "", "cro@example.com"); err != nil {
		t.Fatal(err)
	}
	list, _ = svc.List(ctx)
	if len(list) != 1 || list[0].State != Resolved || list[0].Summary != "cro@example.com recorded an action at 2 Mar 2026 11:00 UTC" {
		t.Errorf("after the action: %+v", list)
	}
	// Its resolution is sent by the next flush (the leader's), not in the
	// owner's request.
	if hook.sent != 1 {
		t.Errorf("the resolution was sent within ActionRecorded: %d sent", hook.sent)
	}
	if _, err := svc.Flush(ctx); err != nil || hook.sent != 2 {
		t.Errorf("the next flush: %v, %d sent, want the resolution", err, hook.sent)
	}
}

// TestRollbackWatchAlerts: a failed or inconclusive post-deploy watch
// fires the rollback_watch rule's alert for the service at once, a pass
// resolves it, and the periodic evaluation leaves it be.
func TestRollbackWatchAlerts(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hook := &counter{}
	rules, err := Compile([]Rule{{Name: "rollback", Kind: KindRollbackWatch, Severity: "critical"}}, nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Store: db, Rules: rules, Timing: DefaultTiming, Channels: map[string]Channel{"hook": hook}, Now: func() time.Time { return now }}
	if err := svc.NotifyWatch(ctx, RollbackWatch{Deployment: "ci/d1", Service: "checkout", Outcome: "inconclusive", Reason: "no traffic data"}); err != nil {
		t.Fatal(err)
	}
	list, _ := svc.List(ctx)
	if len(list) != 1 || list[0].Key != "rollback||service:checkout" || list[0].State != Firing || !strings.Contains(list[0].Summary, "ci/d1 (checkout): inconclusive — no traffic data") || hook.sent != 1 {
		t.Fatalf("after an inconclusive watch: %+v; %d sent", list, hook.sent)
	}
	if _, drop := Step(list, nil, rules, now.Add(time.Hour), time.Hour); len(drop) != 0 {
		t.Errorf("an evaluation dropped the raised alert: %v", drop)
	}
	now = now.Add(time.Hour)
	if err := svc.NotifyWatch(ctx, RollbackWatch{Deployment: "ci/d2", Service: "checkout", Outcome: "pass"}); err != nil {
		t.Fatal(err)
	}
	if list, _ = svc.List(ctx); len(list) != 1 || list[0].State != Resolved {
		t.Errorf("after a pass: %+v", list)
	}
	if _, err := Compile([]Rule{{Name: "x", Kind: KindRollbackWatch, Metric: "mttr"}}, nil, "", nil); err == nil || !strings.Contains(err.Error(), "about deployments") {
		t.Errorf("a rollback_watch rule with a metric: %v", err)
	}
}

// TestDefaultRollbackDecisionAlert: a rollback decision of the
// post-deploy watch is told with no rule configured (the default
// rollback_decision, critical); an inconclusive watch — every deployment
// of a service that pushes no samples — neither fires it nor resolves it;
// a pass resolves it. A configured rule may ask for inconclusive too.
func TestDefaultRollbackDecisionAlert(t *testing.T) {
	ctx, db, cat := context.Background(), ledgerStore(t), defaultCatalog(t)
	set, err := Setup(Config{}, cat, func(string) string { return "" }, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hook := &counter{}
	svc := &Service{Store: db, Rules: set.Rules, Timing: DefaultTiming, Channels: map[string]Channel{"hook": hook}, Now: func() time.Time { return now }}
	watch := func(d, outcome string) []Alert {
		t.Helper()
		if err := svc.NotifyWatch(ctx, RollbackWatch{Deployment: d, Service: "checkout", Outcome: outcome, Reason: "why"}); err != nil {
			t.Fatal(err)
		}
		list, err := svc.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	if list := watch("ci/d1", "inconclusive"); len(list) != 0 || hook.sent != 0 {
		t.Fatalf("an inconclusive watch under the defaults: %+v; %d sent", list, hook.sent)
	}
	list := watch("ci/d2", "fail")
	if len(list) != 1 || list[0].Key != "rollback_decision||service:checkout" || list[0].State != Firing || list[0].Severity != "critical" || hook.sent != 1 {
		t.Fatalf("a rollback decision under the defaults: %+v; %d sent", list, hook.sent)
	}
	now = now.Add(time.Hour)
	if list = watch("ci/d3", "inconclusive"); len(list) != 1 || list[0].State != Firing {
		t.Errorf("an inconclusive watch after the rollback: %+v", list)
	}
	if list = watch("ci/d4", "pass"); len(list) != 1 || list[0].State != Resolved {
		t.Errorf("after a pass: %+v", list)
	}
	// Named like the default, a configured rule replaces it.
	set, err = Setup(Config{Rules: []Rule{{Name: "rollback_decision", Kind: KindRollbackWatch, Outcomes: []string{"fail", "inconclusive"}}}}, cat, func(string) string { return "" }, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetRules(set.Rules)
	now = now.Add(time.Hour)
	if list = watch("ci/d5", "inconclusive"); len(list) != 1 || list[0].State != Firing || list[0].Severity != "warning" {
		t.Errorf("an inconclusive watch under a rule asking for it: %+v", list)
	}
	if _, err := Compile([]Rule{{Name: "x", Kind: KindRollbackWatch, Outcomes: []string{"pass"}}, {Name: "y", Kind: KindStatus, Metric: "*", Outcomes: []string{"fail"}}}, cat, "", nil); err == nil ||
		!strings.Contains(err.Error(), `unknown outcome "pass"`) || !strings.Contains(err.Error(), "only a rollback_watch rule has outcomes") {
		t.Errorf("outcomes checked: %v", err)
	}
}

// tempStore is an empty store in a temporary directory, closed at the
// test's end.
func tempStore(t *testing.T) *sqlite.DB {
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// rendezvous is a channel whose first send waits, up to a second, for a
// second send to begin beside it; it counts the sends of each id.
type rendezvous struct {
	mu     sync.Mutex
	byID   map[int64]int
	second chan struct{}
	calls  int
}

func (c *rendezvous) Send(_ context.Context, e Envelope) error {
	c.mu.Lock()
	c.calls++
	first := c.calls == 1
	if c.calls == 2 {
		close(c.second)
	}
	c.byID[e.ID]++
	c.mu.Unlock()
	if first {
		select {
		case <-c.second:
		case <-time.After(time.Second):
		}
	}
	return nil
}

// The leader's escalation watcher, its rule evaluation and its minute's
// flush each send what is due, on their own goroutines, and a leader's
// first minute runs them together: a notification is still pending while
// one flush sends it, and a second flush must not send it again (the
// receiver got the first notifications of every takeover twice).
func TestConcurrentFlushesSendOnce(t *testing.T) {
	ctx, now := context.Background(), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	hook := &rendezvous{byID: map[int64]int{}, second: make(chan struct{})}
	svc := &Service{Store: tempStore(t), Rules: []Rule{{Name: "r", Kind: KindStatus}}, Timing: DefaultTiming,
		Channels: map[string]Channel{"hook": hook}, Now: func() time.Time { return now }}
	obs := []Observation{{Rule: "r", Metric: "m", Active: true, Summary: "m is red"}}
	if err := svc.update(ctx, now, svc.Rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, svc.Rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := svc.Flush(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(hook.byID) != 1 {
		t.Fatalf("sent %v; want one notification", hook.byID)
	}
	for id, n := range hook.byID {
		if n != 1 {
			t.Errorf("notification %d sent %d times; want once", id, n)
		}
	}
}

// meeting is a channel whose first sends wait, up to a second each, for
// another send to begin beside them, so that two flushes overlap; it counts
// the sends of each id.
type meeting struct {
	mu      sync.Mutex
	byID    map[int64]int
	calls   int
	another chan struct{} // closed at the second send
	// unbounded counts sends given no deadline within sendLimit: a send
	// must end before its claim's lease can lapse.
	unbounded int
}

func (c *meeting) Send(ctx context.Context, e Envelope) error {
	c.mu.Lock()
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > sendLimit {
		c.unbounded++
	}
	c.byID[e.ID]++
	c.calls++
	if c.calls == 2 {
		close(c.another)
	}
	c.mu.Unlock()
	select {
	case <-c.another:
	case <-time.After(time.Second):
	}
	return nil
}

// `candor alert evaluate` beside a serving leader: two processes, each its
// own connection to one store, flush together, and each notification is
// sent once — one process claims it, the other passes it by and sends
// another. Before claims both read every notification pending and both
// sent each. A claim whose process died is taken once it lapses.
func TestTwoProcessesSendEachNotificationOnce(t *testing.T) {
	ctx, now := context.Background(), time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	hook := &meeting{byID: map[int64]int{}, another: make(chan struct{})}
	chans := map[string]Channel{"a": hook, "b": hook, "c": hook, "d": hook}
	var svcs []*Service
	for range 2 {
		db, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		svcs = append(svcs, &Service{Store: db, Rules: []Rule{{Name: "r", Kind: KindStatus}}, Timing: DefaultTiming,
			Channels: chans, Now: func() time.Time { return now }})
	}
	obs := []Observation{{Rule: "r", Metric: "m", Active: true, Summary: "m is red"}}
	if err := svcs[0].update(ctx, now, svcs[0].Rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, svcs[0].Rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var sent [2]int
	for i, svc := range svcs {
		wg.Go(func() {
			var err error
			if sent[i], err = svc.Flush(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(hook.byID) != len(chans) || sent[0]+sent[1] != len(chans) {
		t.Errorf("sent %v (%d and %d by the two processes); want %d notifications", hook.byID, sent[0], sent[1], len(chans))
	}
	for id, n := range hook.byID {
		if n != 1 {
			t.Errorf("notification %d sent %d times; want once", id, n)
		}
	}

	// Processes that died holding claims: one whose lease is still live
	// is passed by, one whose lease lapsed is sent.
	now = now.Add(DefaultTiming.GroupInterval) // the group's next slot
	if err := svcs[0].update(ctx, now, svcs[0].Rules, func(prev []Alert) ([]Alert, []string) {
		return Step(prev, []Observation{{Rule: "r", Metric: "m2", Active: true, Summary: "m2 is red"}}, svcs[0].Rules, now, time.Hour)
	}); err != nil {
		t.Fatal(err)
	}
	due, err := svcs[0].Store.DueNotifications(ctx, now, 10)
	if err != nil || len(due) != len(chans) {
		t.Fatalf("due after a new alert: %+v, %v", due, err)
	}
	wall, lapsed := time.Now(), map[int64]bool{}
	for i, n := range due {
		at := wall // live
		if i%2 == 1 {
			at, lapsed[n.ID] = wall.Add(-claimLease-time.Second), true
		}
		if got, err := svcs[0].Store.ClaimNotification(ctx, n, at, at.Add(claimLease)); err != nil || !got {
			t.Fatalf("claiming %d: %v, %v", n.ID, got, err)
		}
	}
	if n, err := svcs[1].Flush(ctx); err != nil || n != len(lapsed) {
		t.Fatalf("flush beside claims sent %d, %v; want the %d whose claims lapsed", n, err, len(lapsed))
	}
	for _, n := range due {
		if sends := hook.byID[n.ID]; sends != map[bool]int{true: 1}[lapsed[n.ID]] {
			t.Errorf("notification %d (claim lapsed: %v) sent %d times", n.ID, lapsed[n.ID], sends)
		}
	}
	if hook.unbounded != 0 {
		t.Errorf("%d sends had no deadline within %v, the claim's lease %v", hook.unbounded, sendLimit, claimLease)
	}
}

// identityDown fails its first reads of documents, as a store on a bad
// day does.
type identityDown struct {
	store.DocStore
	fails int
}

func (d *identityDown) DocByKey(ctx context.Context, collection, key string) (store.Doc, bool, error) {
	if d.fails > 0 {
		d.fails--
		return store.Doc{}, false, errors.New("database is locked")
	}
	return d.DocStore.DocByKey(ctx, collection, key)
}

// A notification is never sent without its origin when the store's
// identity cannot be read for a moment: it waits for the next flush, so
// its every attempt carries the same (origin, id) a receiver drops
// repeats by. A test message says why it was not sent.
func TestNotificationWaitsForItsOrigin(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db := sqlitetest.Open(t)
	rec := &recorder{}
	docs := &identityDown{DocStore: db, fails: 1}
	svc := &Service{Store: db, Docs: docs, Rules: []Rule{{Name: "r", Kind: KindStatus}}, Timing: DefaultTiming,
		Channels: map[string]Channel{"hook": rec}, Now: func() time.Time { return now }}
	obs := []Observation{{Rule: "r", Metric: "m", Active: true, Summary: "m is red"}}
	if err := svc.update(ctx, now, svc.Rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, svc.Rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	sent, err := svc.Flush(ctx)
	if sent != 0 || len(rec.got) != 0 || err == nil || !strings.Contains(err.Error(), "origin") || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("with the identity unreadable: %d sent (%d envelopes), error %v; want none sent and the reason", sent, len(rec.got), err)
	}
	ns, err := db.Notifications(ctx, 10)
	if err != nil || len(ns) != 1 || ns[0].State != store.NotificationPending || ns[0].Attempts != 0 {
		t.Fatalf("after the refused flush: %+v, %v; want it pending, not attempted", ns, err)
	}
	if sent, err := svc.Flush(ctx); sent != 1 || err != nil {
		t.Fatalf("the next flush: %d sent, %v", sent, err)
	}
	id, err := engine.StoreIdentity(ctx, db, false)
	if err != nil || id == "" {
		t.Fatal(id, err)
	}
	if len(rec.got) != 1 || rec.got[0].Origin != id {
		t.Fatalf("sent %+v; want one envelope from origin %q", rec.got, id)
	}

	docs.fails = 1
	fresh := &Service{Store: db, Docs: docs, Channels: map[string]Channel{"hook": rec}, Now: func() time.Time { return now }}
	if err := fresh.Test(ctx, "hook", nil); err == nil || !strings.Contains(err.Error(), "origin") {
		t.Errorf("a test message with the identity unreadable: %v", err)
	}
	if len(rec.got) != 1 {
		t.Errorf("a test message went out without its origin: %+v", rec.got[1:])
	}
}

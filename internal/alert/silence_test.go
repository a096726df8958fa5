package alert

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// A silence names what exists — a rule in force, a metric of the catalog,
// a known dimension — for at most MaxSilence, each refusal naming the
// parameter and the known values; and it can be ended early, once, in the
// ledger with who ended it, after which the alerts it muted are told.
func TestSilenceRefusalsAndUnsilence(t *testing.T) {
	ctx := context.Background()
	db := ledgerStore(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "red", Kind: KindStatus}}
	svc := &Service{Store: db, Catalog: defaultCatalog(t), Rules: rules, Timing: DefaultTiming, Now: func() time.Time { return now }}

	for _, c := range []struct {
		x          store.Silence
		d          time.Duration
		param, say string
	}{
		{store.Silence{Metric: "nosuch"}, time.Hour, "metric", `unknown metric "nosuch" (known: `},
		{store.Silence{Scope: "bogus"}, time.Hour, "scope", "must be DIMENSION:VALUE"},
		{store.Silence{Scope: "colour:red"}, time.Hour, "scope", `unknown dimension "colour" (known: team, service, environment`},
		{store.Silence{Rule: "nosuch"}, time.Hour, "rule", `unknown rule "nosuch" (known: red)`},
		{store.Silence{Rule: "red"}, 400 * 24 * time.Hour, "for", "400d is longer than a silence may last (at most 90d)"},
	} {
		c.x.Reason, c.x.Author = "maintenance", "ann"
		_, err := svc.Silence(ctx, c.x, c.d)
		if domain.ParamOf(err) != c.param || err == nil || !strings.Contains(err.Error(), c.say) {
			t.Errorf("Silence(%+v, %v) = %v, want a refusal of %s saying %q", c.x, c.d, err, c.param, c.say)
		}
	}
	if _, err := svc.Silence(ctx, store.Silence{Metric: "nosuch", Reason: "r", Author: "a"}, time.Hour); err == nil || !strings.Contains(err.Error(), "mttr") {
		t.Errorf("the unknown metric's refusal does not list the catalog's metrics: %v", err)
	}

	x, err := svc.Silence(ctx, store.Silence{Metric: "mttr", Reason: "maintenance", Author: "bob"}, MaxSilence)
	if err != nil {
		t.Fatal(err)
	}
	alert := Alert{Observation: Observation{Rule: "red", Metric: "mttr"}}
	if !mutes(x, alert, now.Add(time.Hour)) {
		t.Fatal("the silence does not mute its metric's alert")
	}
	now = now.Add(time.Hour)
	ended, err := svc.Unsilence(ctx, x.ID, "carol")
	if err != nil || !ended.EndsAt.Equal(now) {
		t.Fatalf("Unsilence = %+v, %v; want it ended at %v", ended, err, now)
	}
	ss, err := db.Silences(ctx)
	if err != nil || len(ss) != 1 || mutes(ss[0], alert, now.Add(time.Minute)) {
		t.Fatalf("after Unsilence the silence %+v still mutes (%v)", ss, err)
	}
	_, err = svc.Unsilence(ctx, x.ID, "carol")
	if domain.CodeOf(err) != domain.ENotFound || !strings.Contains(err.Error(), "silence #1 ended at 2026-03-02T10:00:00Z; no silence is in force") {
		t.Errorf("a second Unsilence: %v", err)
	}
	if _, err := svc.Unsilence(ctx, 99, "carol"); domain.CodeOf(err) != domain.ENotFound || !strings.Contains(err.Error(), "no silence #99") {
		t.Errorf("Unsilence of no silence: %v", err)
	}

	page, err := ledger.Read(ctx, db, ledger.Range{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(page.Entries); n != 2 || page.Entries[1].Type != ledger.TypeAlertUnsilence ||
		!strings.Contains(string(page.Entries[1].Data), `"ends_at":"2026-03-02T10:00:00Z"`) || !strings.Contains(string(page.Entries[1].Data), `"metric":"mttr"`) ||
		!strings.Contains(string(page.Entries[1].Personal), `"by":"carol"`) {
		t.Errorf("ledger: %d entries, last %+v", n, page.Entries[n-1])
	}
}

// What a reader is shown follows the silences as they stand, not the flag
// the last evaluation stored: a silence begun marks its alert at once, one
// ended unmarks it.
func TestShownFollowsTheSilences(t *testing.T) {
	ctx := context.Background()
	db := ledgerStore(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := &Service{Store: db, Catalog: defaultCatalog(t), Rules: []Rule{{Name: "red", Kind: KindStatus}}, Timing: DefaultTiming, Now: func() time.Time { return now }}
	o := Observation{Rule: "red", Metric: "mttr", Active: true}
	b, _ := json.Marshal(Alert{Key: o.Key(), Observation: o, State: Firing, ActiveAt: now, Silenced: true, SilenceID: 7})
	if _, err := db.SaveAlerts(ctx, []store.AlertRow{{Key: o.Key(), State: Firing, ActiveAt: now, Body: b}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	shown := func() Alert {
		t.Helper()
		list, _, err := svc.Shown(ctx)
		if err != nil || len(list) != 1 {
			t.Fatalf("Shown = %v, %v", list, err)
		}
		return list[0]
	}
	if a := shown(); a.Silenced || a.SilenceID != 0 {
		t.Errorf("stored as silenced, no silence in force: shown %v (#%d)", a.Silenced, a.SilenceID)
	}
	x, err := svc.Silence(ctx, store.Silence{Metric: "mttr", Reason: "maintenance", Author: "bob"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a := shown(); !a.Silenced || a.SilenceID != x.ID {
		t.Errorf("silence #%d in force: shown %v (#%d)", x.ID, a.Silenced, a.SilenceID)
	}
	if _, err := svc.Unsilence(ctx, x.ID, "carol"); err != nil {
		t.Fatal(err)
	}
	if a := shown(); a.Silenced {
		t.Error("the silence ended: still shown silenced")
	}
}

// A silence's scope written with an environment's alias (environment:prod)
// is kept as alerts name the scope, canonically: it had been kept as
// typed, and mutes, comparing scopes as written, muted nothing.
func TestSilenceScopeAliasMutes(t *testing.T) {
	ctx := context.Background()
	db := ledgerStore(t)
	in := `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-03-01T09:00:00Z","status":"success"}` + "\n"
	if _, err := ingest.Import(ctx, db, []ingest.Source{{Name: "in.ndjson", Reader: strings.NewReader(in)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := &Service{Store: db, Engine: engine.New(db, metrics.DefaultConfig()), Catalog: defaultCatalog(t),
		Rules: []Rule{{Name: "red", Kind: KindStatus}}, Timing: DefaultTiming, Now: func() time.Time { return now }}
	x, err := svc.Silence(ctx, store.Silence{Scope: "environment:prod", Reason: "maintenance", Author: "bob"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	alert := Alert{Observation: Observation{Rule: "red", Metric: "change_failure_rate", Scope: "environment:production"}}
	if x.Scope != "environment:production" || !mutes(x, alert, now.Add(time.Minute)) {
		t.Errorf("a silence of environment:prod is kept as %q and mutes the production alert: %v", x.Scope, mutes(x, alert, now.Add(time.Minute)))
	}
}

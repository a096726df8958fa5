package alert

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

func testRouter(t *testing.T) (Router, []store.User) {
	t.Helper()
	cat := defaultCatalog(t)
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string { return map[string]string{"S": "x"}[k] }
	set, err := Setup(Config{
		SMTP: SMTPConfig{URL: "smtp://mail.example.com", From: "c@example.com"},
		Channels: []ChannelConfig{{Name: "mail", Type: "email", To: []string{"ops@example.com"}},
			{Name: "eng-slack", Type: "slack", URL: "https://hooks.example.com/1"},
			{Name: "board-hook", Type: "webhook", URL: "https://hooks.example.com/2", SecretEnv: "S", Revenue: true}},
		Routes: []Route{{Name: "sre_slack", Match: RouteMatch{Pillars: []string{"reliability"}}, Channels: []string{"eng-slack"}},
			{Name: "finance", Match: RouteMatch{Metrics: []string{"arr"}}, Users: []string{"cfo@example.com", "outsider@example.org"}, Channels: []string{"mail", "eng-slack", "board-hook"}}},
	}, cat, env, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	users := []store.User{
		{Email: "ceo@example.com", Roles: []string{"ceo"}},
		{Email: "cro@example.com", Roles: []string{"cro"}},
		{Email: "mkt@example.com", Roles: []string{"vp_marketing"}},
		{Email: "eng@example.com", Roles: []string{"engineering"}},
		{Email: "payments-lead@example.com", Roles: []string{"engineering"}},
		{Email: "cfo@example.com", Roles: []string{"support"}},
		{Email: "gone@example.com", Roles: []string{"ceo"}, DisabledAt: time.Now()},
	}
	return set.Router(cat, g), users
}

func TestRouterPlan(t *testing.T) {
	rt, users := testRouter(t)
	cases := []struct {
		name     string
		o        Observation
		rule     Rule
		want     string // channel:to,to;…
		withheld string
	}{
		{"CRO gets pipeline", Observation{Rule: "p", Metric: "pipeline_coverage", Severity: "critical"}, Rule{},
			"board-hook:;mail:cro@example.com", "channel eng-slack;ops@example.com"},
		{"VP Marketing gets MQL, over the rule's channels; the channel's to is no user, so not a revenue figure", Observation{Rule: "m", Metric: "mql_volume"}, Rule{Channels: []string{"mail"}},
			"mail:mkt@example.com", "ops@example.com"},
		{"CEO gets ARR; no revenue to an outsider, a role without revenue:read, or an unmarked slack", Observation{Rule: "a", Metric: "arr"}, Rule{},
			"board-hook:;mail:ceo@example.com,cro@example.com", "cfo@example.com;outsider@example.org;channel eng-slack;ops@example.com"},
		{"service owner and engineering get reliability, and the channel's to; the slack route too", Observation{Rule: "b", Metric: "error_budget_remaining", Scope: "service:payments", Owner: "payments-lead@example.com"}, Rule{},
			"board-hook:;eng-slack:;mail:eng@example.com,ops@example.com,payments-lead@example.com", ""},
		{"routed, the rule's recipients take the channel's to's place", Observation{Rule: "b", Metric: "mttr"}, Rule{Channels: []string{"mail"}, Recipients: []string{"sre@example.com"}},
			"eng-slack:;mail:eng@example.com,payments-lead@example.com,sre@example.com", ""},
		{"no route: the rule's channels and recipients", Observation{Rule: "q", Metric: "vulnerability_backlog"}, Rule{Channels: []string{"mail"}, Recipients: []string{"sec@example.com"}},
			"mail:sec@example.com", ""},
		{"no route, no recipients: the channel's own list", Observation{Rule: "rows"}, Rule{Channels: []string{"mail"}},
			"mail:ops@example.com", ""},
		{"a disabled user among the rule's recipients gets nothing, where an address of no user does", Observation{Rule: "q", Metric: "vulnerability_backlog"},
			Rule{Channels: []string{"mail"}, Recipients: []string{"gone@example.com", "sec@example.com"}}, "mail:sec@example.com", "gone@example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ds, wh := rt.Plan(c.o, c.rule, users)
			var got []string
			for _, d := range ds {
				got = append(got, d.Channel+":"+strings.Join(d.To, ","))
			}
			if strings.Join(got, ";") != c.want {
				t.Errorf("deliveries %q, want %q", strings.Join(got, ";"), c.want)
			}
			var held []string
			for _, w := range wh {
				held = append(held, w.Who)
			}
			for _, w := range strings.Split(c.withheld, ";") {
				if w != "" && !strings.Contains(strings.Join(held, ";"), w) {
					t.Errorf("%q not withheld: %+v", w, wh)
				}
			}
			if c.withheld == "" && len(wh) > 0 {
				t.Errorf("withheld %+v", wh)
			}
		})
	}
}

// TestChannelToReceivesRoutedAlerts: an e-mail channel's to receives what
// the routes send over the channel, whoever they resolve to. The shipped
// service_owners route resolves to nobody without engineering users, and
// the on-call mailbox had got 17 of 43 stale-source alerts: only those no
// route matched.
func TestChannelToReceivesRoutedAlerts(t *testing.T) {
	cat := defaultCatalog(t)
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Setup(Config{SMTP: SMTPConfig{URL: "smtp://mail.example.com", From: "c@example.com"},
		Channels: []ChannelConfig{{Name: "oncall", Type: "email", To: []string{"oncall@example.com"}}}}, cat, func(string) string { return "" }, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := set.Router(cat, g)
	stale := Observation{Rule: "source_stale", Metric: "deployment_frequency", Owner: "VP Engineering"}
	for _, c := range []struct {
		name  string
		users []store.User
		want  string
	}{
		{"no engineering user", []store.User{{Email: "ceo@example.com", Roles: []string{"ceo"}}}, "oncall:oncall@example.com"},
		{"beside the engineers", []store.User{{Email: "eng@example.com", Roles: []string{"engineering"}}}, "oncall:eng@example.com,oncall@example.com"},
	} {
		ds, wh := rt.Plan(stale, Rule{}, c.users)
		var got []string
		for _, d := range ds {
			got = append(got, d.Channel+":"+strings.Join(d.To, ","))
		}
		if strings.Join(got, ";") != c.want || len(wh) != 0 || len(ds) != 1 || strings.Join(ds[0].Why, ", ") != "route service_owners, the channel's to" {
			t.Errorf("%s: deliveries %+v withheld %+v; want %s, why route service_owners and the channel's to", c.name, ds, wh, c.want)
		}
	}
	// Grants still apply: a mailbox that is no Candor user gets no revenue
	// figure, and the channel's to is not named as a reason.
	ds, wh := rt.Plan(Observation{Rule: "arr_behind_target", Metric: "arr"}, Rule{}, []store.User{{Email: "ceo@example.com", Roles: []string{"ceo"}}})
	if len(ds) != 1 || strings.Join(ds[0].To, ",") != "ceo@example.com" || strings.Join(ds[0].Why, ", ") != "route cro, route ceo_arr" || len(wh) != 1 || wh[0].Who != "oncall@example.com" {
		t.Errorf("ARR: deliveries %+v withheld %+v", ds, wh)
	}
}

// TestUnreachedRoutes: a route whose roles no enabled user holds is named,
// with the e-mail and in-app channels it would send over that have no to of
// their own (one with a to receives the alerts anyway).
func TestUnreachedRoutes(t *testing.T) {
	cat := defaultCatalog(t)
	set, err := Setup(Config{SMTP: SMTPConfig{URL: "smtp://mail.example.com", From: "c@example.com"},
		Channels: []ChannelConfig{{Name: "exec", Type: "email"}, {Name: "oncall", Type: "email", To: []string{"oncall@example.com"}},
			{Name: "eng", Type: "slack", URL: "https://hooks.example.com/1"}},
		Routes: []Route{{Name: "sre", Users: []string{"sre@example.com"}}, {Name: "pager", Roles: []string{"engineering"}, Channels: []string{"oncall", "eng"}}}},
		cat, func(string) string { return "" }, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := set.Router(cat, nil)
	users := []store.User{{Email: "ceo@example.com", Roles: []string{"ceo"}}, {Email: "gone@example.com", Roles: []string{"engineering"}, DisabledAt: time.Now()}}
	got := strings.Join(rt.Unreached(users), "\n")
	want := "alert route cro resolves to no user (no enabled user holds role cro): over email channel exec, without a to of its own, its alerts go to no one but the rules' recipients\n" +
		"alert route vp_marketing resolves to no user (no enabled user holds role vp_marketing): over email channel exec, without a to of its own, its alerts go to no one but the rules' recipients\n" +
		"alert route service_owners resolves to no user (no enabled user holds role engineering): over email channel exec, without a to of its own, its alerts go only to their owners that are Candor users and to the rules' recipients"
	if got != want {
		t.Errorf("unreached:\n%s\nwant:\n%s", got, want)
	}
	users = append(users, store.User{Email: "cro@example.com", Roles: []string{"cro", "vp_marketing"}}, store.User{Email: "eng@example.com", Roles: []string{"engineering"}})
	if got := rt.Unreached(users); len(got) != 0 {
		t.Errorf("every role held, still unreached: %q", got)
	}
}

func TestRoutesChecked(t *testing.T) {
	cat := defaultCatalog(t)
	lines := map[string]int{"routes[0].roles[0]": 41, "routes[0].match.metrics[0]": 42, "routes[0].channels[0]": 43, "routes[1].roles": 50}
	_, err := Setup(Config{Routes: []Route{
		{Name: "x", Roles: []string{"chief"}, Match: RouteMatch{Metrics: []string{"nope"}}, Channels: []string{"pager"}},
		{Name: "y"},
	}}, cat, func(string) string { return "" }, "candor.yaml", func(p string) int { return lines[p] })
	for _, want := range []string{`candor.yaml:41`, `unknown role "chief"`, `candor.yaml:42`, `unknown metric "nope"`, `candor.yaml:43`, `unknown channel "pager"`, `candor.yaml:50`, "a route needs"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}

// With a router, each recipient set gets its own notification carrying
// only its alerts: the CEO's mail has ARR, the CRO's the pipeline.
func TestRoutedNotifications(t *testing.T) {
	ctx := context.Background()
	rt, users := testRouter(t)
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	rules := []Rule{{Name: "red", Kind: KindStatus, Channels: []string{"mail"}}}
	svc := &Service{Store: db, Rules: rules, Timing: DefaultTiming, Router: &rt, Now: func() time.Time { return now },
		Users: func(context.Context) ([]store.User, error) { return users, nil }, Channels: map[string]Channel{"mail": &counter{}}}
	obs := []Observation{{Rule: "red", Metric: "arr", Active: true, Summary: "ARR is red"}, {Rule: "red", Metric: "pipeline_coverage", Active: true, Summary: "Pipeline coverage is red"}}
	if err := svc.update(ctx, now, rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	due, err := db.DueNotifications(ctx, now, 100)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range due {
		var e Envelope
		if err := json.Unmarshal(n.Body, &e); err != nil {
			t.Fatal(err)
		}
		var ms []string
		for _, a := range e.Message.Firing {
			ms = append(ms, a.Metric)
		}
		got[n.Channel+":"+strings.Join(e.To, ",")] = strings.Join(ms, ",")
	}
	// ARR's owner is the CRO, so the CRO gets both; the finance route adds
	// the webhook marked revenue: true.
	want := map[string]string{"mail:ceo@example.com,cro@example.com": "arr", "mail:cro@example.com": "pipeline_coverage", "board-hook:": "arr"}
	if len(got) != len(want) {
		t.Fatalf("notifications %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s carries %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// ledgerStore is a store in a temporary directory whose ledger is signed.
func ledgerStore(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	return db
}

// redMTTR is a service on db whose rule "red" fires for mttr (alert
// red|mttr|) at now.
func redMTTR(t *testing.T, db *sqlite.DB, now time.Time) *Service {
	t.Helper()
	rules := []Rule{{Name: "red", Kind: KindStatus}}
	svc := &Service{Store: db, Rules: rules, Timing: DefaultTiming, Now: func() time.Time { return now }}
	obs := []Observation{{Rule: "red", Metric: "mttr", Active: true, Summary: "MTTR is red"}}
	if err := svc.update(context.Background(), now, rules, func(prev []Alert) ([]Alert, []string) { return Step(prev, obs, rules, now, time.Hour) }); err != nil {
		t.Fatal(err)
	}
	return svc
}

// Acknowledgements and silences are written to the ledger, the author and
// the note or reason as personal data.
func TestAckAndSilenceInLedger(t *testing.T) {
	ctx := context.Background()
	db := ledgerStore(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := redMTTR(t, db, now)
	if err := svc.Ack(ctx, "red|mttr|", "ann@example.com", "rolling back"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Silence(ctx, store.Silence{Rule: "red", Reason: "maintenance", Author: "bob@example.com"}, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := svc.Ack(ctx, "nope", "ann@example.com", ""); err == nil {
		t.Error("an unknown alert acknowledged")
	}
	page, err := ledger.Read(ctx, db, ledger.Range{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page.Entries {
		got = append(got, e.Type+" "+string(e.Data)+" "+string(e.Personal))
	}
	all := strings.Join(got, "\n")
	if len(got) != 2 || !strings.Contains(got[0], `alert_ack {"at":"2026-03-02T09:00:00Z","key":"red|mttr|","metric":"mttr","rule":"red","scope":"","state":"firing"}`) ||
		!strings.Contains(got[0], `"by":"ann@example.com"`) || !strings.Contains(got[1], `alert_silence`) || !strings.Contains(got[1], `"ends_at":"2026-03-02T11:00:00Z"`) ||
		!strings.Contains(got[1], `"reason":"maintenance"`) {
		t.Errorf("ledger:\n%s", all)
	}
}

// flakySealer seals as its Sealer does until fail is set, then fails every
// append: a ledger that stops taking entries.
type flakySealer struct {
	store.Sealer
	fail bool
}

func (f *flakySealer) Seal(head store.LedgerHead, at time.Time, entries []store.LedgerEntry) ([]store.LedgerRow, error) {
	if f.fail {
		return nil, errors.New("the ledger cannot be written")
	}
	return f.Sealer.Seal(head, at, entries)
}

// An acknowledgement, a silence or its early end whose ledger entry cannot
// be appended is refused and nothing of it is kept: the entry is written
// in the change's own transaction, not after it.
func TestNoAckOrSilenceWithoutItsLedgerEntry(t *testing.T) {
	ctx := context.Background()
	db := ledgerStore(t)
	sealer := &flakySealer{Sealer: db.Sealer()}
	db.SetSealer(sealer)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := redMTTR(t, db, now)
	x, err := svc.Silence(ctx, store.Silence{Rule: "red", Reason: "maintenance", Author: "bob@example.com"}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sealer.fail = true
	if err := svc.Ack(ctx, "red|mttr|", "ann@example.com", "rolling back"); err == nil {
		t.Error("acknowledged without a ledger entry")
	}
	if _, err := svc.Silence(ctx, store.Silence{Rule: "red", Reason: "again", Author: "bob@example.com"}, time.Hour); err == nil {
		t.Error("silenced without a ledger entry")
	}
	if _, err := svc.Unsilence(ctx, x.ID, "ann@example.com"); err == nil {
		t.Error("silence ended without a ledger entry")
	}
	rows, err := db.Alerts(ctx)
	if err != nil || len(rows) != 1 || rows[0].AckedBy != "" {
		t.Errorf("alerts: %+v, %v; want red|mttr| unacknowledged", rows, err)
	}
	ss, err := db.Silences(ctx)
	if err != nil || len(ss) != 1 || !ss[0].EndsAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("silences: %+v, %v; want #%d alone, in force", ss, err, x.ID)
	}
	page, err := ledger.Read(ctx, db, ledger.Range{}, 10)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Type != ledger.TypeAlertSilence {
		t.Errorf("ledger: %+v, %v; want the first silence's entry alone", page.Entries, err)
	}
}

// An in-app channel stores the notification in each routed user's inbox
// once, counts what is unread and marks it read; an address that is no
// user has no inbox.
func TestInAppInbox(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cat := defaultCatalog(t)
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Setup(Config{Channels: []ChannelConfig{{Name: "app", Type: "inapp"}}, NoDefaultRoutes: true,
		Routes: []Route{{Name: "sre", Match: RouteMatch{Pillars: []string{"reliability"}}, Roles: []string{"engineering"}, Users: []string{"outsider@example.org"}}}},
		cat, func(string) string { return "" }, "c.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	set = set.WithInbox(db)
	rt := set.Router(cat, g)
	users := []store.User{{Email: "Eng@example.com", Roles: []string{"engineering"}}, {Email: "ceo@example.com", Roles: []string{"ceo"}}}
	ds, wh := rt.Plan(Observation{Rule: "r", Metric: "mttr"}, Rule{}, users)
	if len(ds) != 1 || ds[0].Kind != "inapp" || strings.Join(ds[0].To, ",") != "Eng@example.com" || len(wh) != 1 || wh[0].Who != "outsider@example.org" {
		t.Fatalf("plan %+v withheld %+v", ds, wh)
	}
	ch := set.Channels["app"]
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	e := Envelope{ID: 7, To: ds[0].To, Message: Message{Group: "r", At: at, Firing: []Alert{{Observation: Observation{Summary: "MTTR is red"}}}}}
	for range 2 { // a repeat after a crash stores nothing more
		if err := ch.Send(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	items, unread, err := Inbox(ctx, db, "eng@example.com", 10)
	if err != nil || len(items) != 1 || unread != 1 || items[0].Lines[0] != "Firing: MTTR is red" || !items[0].Unread {
		t.Fatalf("inbox %+v unread %d: %v", items, unread, err)
	}
	if other, n, _ := Inbox(ctx, db, "ceo@example.com", 10); len(other) != 0 || n != 0 {
		t.Errorf("the CEO's inbox holds %+v", other)
	}
	if err := MarkRead(ctx, db, "eng@example.com"); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := Inbox(ctx, db, "eng@example.com", 10); n != 0 {
		t.Errorf("%d unread after marking read", n)
	}
	if err := (InApp{Docs: db}).Send(ctx, Envelope{ID: 8, To: []string{"eng@example.com"}, Message: e.Message}); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := Inbox(ctx, db, "eng@example.com", 10); n != 1 {
		t.Errorf("%d unread after a new one, want 1", n)
	}
}

// countingDocs counts the documents a store hands back.
type countingDocs struct {
	*sqlite.DB
	read int
}

func (c *countingDocs) Docs(ctx context.Context, collection string, limit int) ([]store.Doc, error) {
	ds, err := c.DB.Docs(ctx, collection, limit)
	c.read += len(ds)
	return ds, err
}

func (c *countingDocs) DocsByKeyPrefix(ctx context.Context, collection, prefix string, after int64, limit int) ([]store.Doc, error) {
	ds, err := c.DB.DocsByKeyPrefix(ctx, collection, prefix, after, limit)
	c.read += len(ds)
	return ds, err
}

// TestInboxReadMarkPerUser: a user's read mark is theirs, whatever others
// mark after it — 501 others marking read (and 501 notifications for
// them) leave the user's old notification read — and counting the unread
// reads a document or two, not everyone's.
func TestInboxReadMarkPerUser(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ch := InApp{Docs: db}
	msg := Message{Group: "r", At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), Firing: []Alert{{Observation: Observation{Summary: "MTTR is red"}}}}
	if err := ch.Send(ctx, Envelope{ID: 1, To: []string{"ann@example.com"}, Message: msg}); err != nil {
		t.Fatal(err)
	}
	if err := MarkRead(ctx, db, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	for i := range 501 {
		who := fmt.Sprintf("user%d@example.com", i)
		if err := ch.Send(ctx, Envelope{ID: int64(2 + i), To: []string{who}, Message: msg}); err != nil {
			t.Fatal(err)
		}
		if err := MarkRead(ctx, db, who); err != nil {
			t.Fatal(err)
		}
	}
	c := &countingDocs{DB: db}
	n, err := Unread(ctx, c, "Ann@example.com")
	if err != nil || n != 0 {
		t.Errorf("ann's unread after 501 others marked read: %d (%v), want 0", n, err)
	}
	if c.read > 2 {
		t.Errorf("counting one user's unread read %d documents", c.read)
	}
	items, n, err := Inbox(ctx, c, "ann@example.com", 10)
	if err != nil || n != 0 || len(items) != 1 || items[0].Unread {
		t.Errorf("ann's inbox: %+v, %d unread (%v)", items, n, err)
	}
	if err := ch.Send(ctx, Envelope{ID: 999, To: []string{"ann@example.com"}, Message: msg}); err != nil {
		t.Fatal(err)
	}
	if n, err := Unread(ctx, db, "ann@example.com"); err != nil || n != 1 {
		t.Errorf("ann's unread after a new one: %d (%v), want 1", n, err)
	}
}

// A bad mail server is named where it was set — CANDOR_SMTP_URL, or
// alerts.smtp.url with its line — once, where it had been reported at each
// e-mail channel's type, whose line says nothing of a variable.
func TestSMTPErrorsNameTheirSource(t *testing.T) {
	cat := defaultCatalog(t)
	chans := []ChannelConfig{{Name: "exec", Type: "email"}, {Name: "oncall", Type: "email", To: []string{"oncall@example.com"}}}
	lines := map[string]int{"smtp.url": 7, "channels[0].type": 11, "channels[1].type": 13}
	line := func(p string) int { return lines[p] }
	for _, c := range []struct {
		smtp SMTPConfig
		env  map[string]string
		want string
	}{
		{SMTPConfig{URL: "smtp://mail.example.com", From: "c@example.com"}, map[string]string{"CANDOR_SMTP_URL": "ftp://mail.example.com"},
			`CANDOR_SMTP_URL: scheme "ftp" is not smtp or smtps`},
		{SMTPConfig{URL: "ftp://mail.example.com", From: "c@example.com"}, nil,
			`candor.yaml:7: alerts: smtp.url: scheme "ftp" is not smtp or smtps`},
		{SMTPConfig{}, map[string]string{"CANDOR_SMTP_URL": "smtp://mail.example.com"},
			`CANDOR_SMTP_FROM: no sender address (smtp.from or CANDOR_SMTP_FROM)`},
		{SMTPConfig{URL: "smtp://mail.example.com"}, nil,
			`candor.yaml: alerts: smtp.from: no sender address (smtp.from or CANDOR_SMTP_FROM)`},
		// A URL that does not parse keeps its password out of the message.
		{SMTPConfig{URL: "smtp://alerts:hunter 2@mail.example.com:25", From: "c@example.com"}, nil,
			`candor.yaml:7: alerts: smtp.url: not a URL (net/url: invalid userinfo); write smtp://user:password@host:port, escaping reserved characters in the password (%40 for @)`},
	} {
		_, err := Setup(Config{SMTP: c.smtp, Channels: chans}, cat, func(k string) string { return c.env[k] }, "candor.yaml", line)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v %v:\n got %v\nwant %s", c.smtp, c.env, err, c.want)
		}
		// Without an e-mail channel, when the reports send through the
		// server: a bad one had been found only after start, by the report
		// scheduler's log line.
		_, err = Setup(Config{SMTP: c.smtp, ReportsMail: true}, cat, func(k string) string { return c.env[k] }, "candor.yaml", line)
		if err == nil || err.Error() != c.want {
			t.Errorf("%+v %v for the reports:\n got %v\nwant %s", c.smtp, c.env, err, c.want)
		}
		// Nothing sending through it, it stops no command.
		if _, err := Setup(Config{SMTP: c.smtp}, cat, func(k string) string { return c.env[k] }, "candor.yaml", line); err != nil {
			t.Errorf("%+v %v with nothing sending mail: %v", c.smtp, c.env, err)
		}
	}
}

// flaky fails its first fails sends, then records what it is sent.
type flaky struct {
	fails int
	got   []Envelope
}

func (f *flaky) Send(_ context.Context, e Envelope) error {
	if f.fails > 0 {
		f.fails--
		return fmt.Errorf("451 try again later")
	}
	f.got = append(f.got, e)
	return nil
}

// A retry is a new sending, within the grants of its time: a recipient
// disabled, or whose roles lost the metric, since the notification was
// queued is left out and named with why; an address that is no Candor
// user (the channel's on-call alias) keeps receiving; with nobody left
// the notification fails, saying who was left out, and is not dropped.
func TestRetryWithinTodaysGrants(t *testing.T) {
	ctx := context.Background()
	rt, users := testRouter(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := at
	ch := &flaky{fails: 1}
	s := &Service{Store: sqlitetest.Open(t), Router: &rt, Users: func(context.Context) ([]store.User, error) { return users, nil },
		Channels: map[string]Channel{"mail": ch}, Now: func() time.Time { return now }}
	cfr := Message{Group: "cfr_red", At: at, Firing: []Alert{{Key: "cfr_red|change_failure_rate|", State: Firing,
		Observation: Observation{Rule: "cfr_red", Metric: "change_failure_rate", Summary: "Change failure rate is red"}}}}
	var notes []store.Notification
	for i, to := range [][]string{{"eng@example.com", "ops@example.com", "payments-lead@example.com"}, {"payments-lead@example.com"}} {
		key := fmt.Sprintf("cfr_red|mail|%d", i)
		body, _ := json.Marshal(Envelope{Key: key, To: to, Message: cfr})
		notes = append(notes, store.Notification{Key: key, Group: "cfr_red", Channel: "mail", Body: body, NextAt: at.Add(time.Duration(i) * time.Hour), CreatedAt: at})
	}
	if _, err := s.Store.SaveAlerts(ctx, nil, nil, notes); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Flush(ctx); err != nil || n != 0 || len(ch.got) != 0 {
		t.Fatalf("first attempt: %d sent, %v", n, err)
	}
	// Before the retry, the payments lead leaves and the engineer moves to
	// support, whose roles do not see the delivery metrics.
	for i := range users {
		switch users[i].Email {
		case "payments-lead@example.com":
			users[i].DisabledAt = at.Add(time.Minute)
		case "eng@example.com":
			users[i].Roles = []string{"support"}
		}
	}
	now = at.Add(2 * time.Hour)
	if n, err := s.Flush(ctx); err != nil || n != 1 {
		t.Fatalf("retry: %d sent, %v", n, err)
	}
	if len(ch.got) != 1 || strings.Join(ch.got[0].To, ",") != "ops@example.com" {
		t.Errorf("the retry went to %+v, want the on-call alias only", ch.got)
	}
	views, err := s.Notifications(ctx, 10)
	if err != nil || len(views) != 2 {
		t.Fatalf("Notifications = %+v, %v", views, err)
	}
	byKey := map[string]NotificationView{views[0].Key: views[0], views[1].Key: views[1]}
	sent, none := byKey["cfr_red|mail|0"], byKey["cfr_red|mail|1"]
	if sent.State != store.NotificationSent || sent.Withheld != "eng@example.com (roles support may not see change_failure_rate); payments-lead@example.com (disabled)" {
		t.Errorf("the retried notification: %s, withheld %q", sent.State, sent.Withheld)
	}
	if none.State != store.NotificationFailed || none.LastError != "not sent: no recipient may receive it now: payments-lead@example.com (disabled)" || none.Withheld != "payments-lead@example.com (disabled)" {
		t.Errorf("the notification with nobody left: %s, %q, withheld %q", none.State, none.LastError, none.Withheld)
	}
}

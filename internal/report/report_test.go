package report

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/smtptest"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// asOf is the tests' clock: data runs to it.
var asOf = time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// org is 60 days of one service to asOf:
//
//   - ten production deployments a day; until 5 days before asOf all
//     succeed, in the last 5 days six a day fail: change failure rate (30
//     days) is 30/300 = 10 %, amber (green ≤ 5, amber ≤ 15); a week ago it
//     was 0 %, green — it turned amber this week (so did its
//     customer-weighted form and deployment success rate: 90 %);
//   - ten customers paying 1,234 a month each since March: MRR 12,340, ARR
//     148,080 — a revenue figure only some recipients may read.
func org() string {
	var b strings.Builder
	b.WriteString(`{"kind":"service","id":"api","name":"API","team":"core"}` + "\n")
	b.WriteString(`{"kind":"service","id":"web","name":"Web","team":"growth"}` + "\n")
	start := asOf.Add(-60 * day)
	for t, i := start, 0; t.Before(asOf); t, i = t.Add(day), i+1 {
		// Incident data is fresh (so the failure rate is not unknown), on
		// another service: no deployment of api is linked to it.
		fmt.Fprintf(&b, `{"kind":"incident","id":"i%d","service":"web","severity":"P3","opened_at":%q,"resolved_at":%q}`+"\n",
			i, t.Add(12*time.Hour).Format(time.RFC3339), t.Add(13*time.Hour).Format(time.RFC3339))
		for k := range 10 {
			status := "success"
			if asOf.Sub(t) <= 5*day && k < 6 {
				status = "failure"
			}
			at := t.Add(time.Duration(k) * time.Hour)
			fmt.Fprintf(&b, `{"kind":"deployment","id":"d%d-%d","service":"api","environment":"production","finished_at":%q,"status":%q}`+"\n", i, k, at.Format(time.RFC3339), status)
		}
	}
	for c := range 10 {
		fmt.Fprintf(&b, `{"kind":"subscription","id":"s%d","customer":"c%d","started_at":"2026-03-01T00:00:00Z","mrr":1234}`+"\n", c, c)
	}
	return b.String()
}

type fixture struct {
	st  *sqlite.DB
	svc *Service
}

// mail has the fixture's service send through a test mail server, whose
// mailbox it returns.
func (f *fixture) mail(t *testing.T) *smtptest.Mailbox {
	t.Helper()
	box, url := smtptest.Start(t)
	srv, err := alert.ParseSMTP(url, "candor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Mail = srv
	return box
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st := sqlitetest.Open(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "org.ndjson", Reader: strings.NewReader(org())}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := Setup(Config{BaseURL: "https://candor.example.com/", Recipients: []Recipient{
		{Address: "ceo@example.com", Roles: []string{"ceo"}},
		{Address: "eng@example.com", Roles: []string{"engineering"}},
	}}, "candor.yaml", nil, func(r []string) error { _, err := g.CheckRoles(r); return err })
	if err != nil {
		t.Fatal(err)
	}
	svc := &Service{Docs: st, Engine: engine.New(st, metrics.DefaultConfig()), Catalog: cat, Grants: g, Users: st,
		Settings: set, From: "candor@example.com", Currency: "USD",
		Annotations: func(context.Context) ([]Annotation, error) {
			return []Annotation{
				{Name: "Q4 change freeze", Kind: "freeze", From: asOf.Add(-3 * day), To: asOf.Add(20 * day)},
				{Name: "Summer launch", Kind: "launch", From: asOf.Add(-120 * day), To: asOf.Add(-100 * day)},
			}, nil
		},
		Now: func() time.Time { return asOf.Add(time.Minute) }}
	return &fixture{st: st, svc: svc}
}

// arr is the fixture's ARR as the digest formats it.
var arr = "148,080 USD"

func TestDigestWithinGrants(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run, err := f.svc.MakeDigest(ctx, asOf, nil, time.Time{}, false, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Digests) != 2 {
		t.Fatalf("%d digests, want one per recipient", len(run.Digests))
	}
	ceo, eng := run.Digests[0], run.Digests[1]
	lines := func(d *Digest) map[string]Line {
		out := map[string]Line{}
		for _, l := range d.Headline {
			out[l.Metric] = l
		}
		return out
	}
	if l, ok := lines(ceo)["arr"]; !ok || l.Value != arr {
		t.Errorf("the CEO's digest: arr = %+v, want %s", l, arr)
	}
	if _, ok := lines(eng)["arr"]; ok {
		t.Error("the engineering digest shows ARR")
	}
	cfr, ok := lines(eng)["change_failure_rate"]
	if !ok || cfr.Status != catalog.Amber || cfr.Value != "42.86 %" || cfr.Previous != "0 %" || cfr.Trend != "worse" {
		t.Errorf("change failure rate line = %+v; want amber, 30/70 = 42.86 %% this week against 0 %%", cfr)
	}
	turned := map[string]Change{}
	for _, c := range eng.Turned {
		turned[c.Metric] = c
	}
	if c := turned["change_failure_rate"]; len(turned) != 3 || c.From != catalog.Green || c.To != catalog.Amber || c.Owner != "VP Engineering" || turned["deployment_success_rate"].To != catalog.Amber {
		t.Errorf("turned = %+v; want change failure rate (plain and customer-weighted) and deployment success rate, green → amber, with their owners", eng.Turned)
	}
	// Most metrics have no data here, so most escalate: the digest lists
	// the first ten, P0 first, and counts the rest.
	if len(eng.Escalations) != MaxEscalations || eng.MoreEscalations == 0 || eng.Escalations[0].Priority != "P0" {
		t.Errorf("escalations: %d listed, %d more; want %d, the rest counted, P0 first", len(eng.Escalations), eng.MoreEscalations, MaxEscalations)
	}
	// The subject counts every escalation, not the ten listed.
	if want := fmt.Sprintf("%d escalated", MaxEscalations+eng.MoreEscalations); !strings.Contains(eng.Subject(), want) {
		t.Errorf("subject %q; want %q", eng.Subject(), want)
	}
	if len(eng.Annotations) != 1 || eng.Annotations[0].Name != "Q4 change freeze" {
		t.Errorf("annotations = %+v; want the freeze that overlaps the week, not the summer launch", eng.Annotations)
	}
	if want := "https://candor.example.com/metrics/change_failure_rate?as_of=2026-11-30T07%3A00%3A00Z"; cfr.URL != want {
		t.Errorf("link %q, want %q", cfr.URL, want)
	}
	for i, m := range run.Report.Messages {
		s := string(m.EML)
		if i == 1 && (strings.Contains(s, "148,080") || strings.Contains(s, "148080") || strings.Contains(s, "12,340") || strings.Contains(strings.ToLower(s), "recurring revenue")) {
			t.Errorf("the engineering e-mail carries a revenue figure:\n%s", s)
		}
		if i == 0 && !strings.Contains(s, "148,080") {
			t.Errorf("the CEO's e-mail lacks ARR")
		}
	}
	got, err := List(ctx, f.st, 0)
	if err != nil || len(got) != 1 || got[0].Kind != KindDigest || len(got[0].Messages) != 2 {
		t.Fatalf("archive = %+v, %v", got, err)
	}
	var cfrVersion int
	for _, d := range got[0].Definitions {
		if d.Metric == "change_failure_rate" {
			cfrVersion = d.Version
		}
	}
	if cfrVersion != 1 {
		t.Errorf("archived definitions lack change_failure_rate v1: %+v", got[0].Definitions)
	}
	if n := ledgerCount(t, f, ledger.TypeReport); n != 1 {
		t.Errorf("%d report entries in the ledger, want 1", n)
	}
}

// ledgerCount counts the ledger's entries of type typ.
func ledgerCount(t *testing.T, f *fixture, typ string) int {
	t.Helper()
	p, err := ledger.Read(context.Background(), f.st, ledger.Range{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range p.Entries {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// parts reads a message's MIME parts by content type.
func parts(t *testing.T, raw string) (subject string, byType map[string]string) {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	byType = map[string]string{}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		var body io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		byType[ct] = string(b)
	}
	return subject, byType
}

func TestDigestByMail(t *testing.T) {
	f := newFixture(t)
	box := f.mail(t)
	ctx := context.Background()
	run, err := f.svc.MakeDigest(ctx, asOf, nil, time.Time{}, true, "test")
	if err != nil {
		t.Fatal(err)
	}
	msgs := box.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		subject, byType := parts(t, m.Data)
		if !strings.HasPrefix(subject, "Candor weekly digest, week to 30 Nov 2026") {
			t.Errorf("subject %q", subject)
		}
		text, html := byType["text/plain"], byType["text/html"]
		if text == "" || html == "" {
			t.Fatalf("parts %v: want text/plain and text/html", slices.Collect(maps.Keys(byType)))
		}
		// Each line says what its value and its colour are over: the week, and the metric's own window.
		for _, want := range []string{"HEADLINE METRICS", "Change failure rate: 42.86 % over the last 7 days (was 0 %) · amber over the last 30 days · owner VP Engineering",
			"Open critical vulnerabilities: — at the week's end (was —) · unknown at the week's end", "Q4 change freeze (freeze, 27 Nov – 20 Dec 2026)", "https://candor.example.com/metrics/change_failure_rate?as_of="} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: text part lacks %q:\n%s", m.To[0], want, text)
			}
		}
		low := strings.ToLower(html)
		for _, bad := range []string{"<script", "<img", "<link", "url(", "<style"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s: HTML part has %q (inline CSS, no scripts, no remote images)", m.To[0], bad)
			}
		}
		for _, want := range []string{`href="https://candor.example.com/metrics/change_failure_rate?as_of=`, "Turned amber or red this week", "amber</span>", "Q4 change freeze",
			"over the last 30 days</span>"} {
			if !strings.Contains(html, want) {
				t.Errorf("%s: HTML part lacks %q", m.To[0], want)
			}
		}
		// A value over the usual week says nothing under it (the note
		// says it of them all); a state's says it is at the week's end.
		if strings.Contains(html, "over the last 7 days</span>") || !strings.Contains(html, "at the week&#39;s end</span>") {
			t.Errorf("%s: HTML part's values: the usual week repeated, or a state's not said:\n%s", m.To[0], html)
		}
		revenue := strings.Contains(text, "148,080") || strings.Contains(html, "148,080")
		if want := m.To[0] == "ceo@example.com"; revenue != want {
			t.Errorf("%s: ARR shown = %v, want %v", m.To[0], revenue, want)
		}
	}
	sends, err := Sends(ctx, f.st, run.Report.ID)
	if err != nil || len(sends) != 2 || !sends[0].OK || !sends[1].OK {
		t.Fatalf("sends = %+v, %v", sends, err)
	}
	// Resend to one of its recipients: the archived message, unchanged.
	if _, _, err := f.svc.Resend(ctx, run.Report.ID, []string{"eng@example.com"}, "test"); err != nil {
		t.Fatal(err)
	}
	msgs = box.Messages()
	if len(msgs) != 3 || msgs[2].To[0] != "eng@example.com" {
		t.Fatalf("after resend: %d messages", len(msgs))
	}
	if _, byType := parts(t, msgs[2].Data); !strings.Contains(byType["text/plain"], "Change failure rate: 42.86 %") || byType["text/html"] == "" {
		t.Errorf("the resent message lost a part: %v", byType)
	}
	// Never to an address the report was not made for.
	if _, _, err := f.svc.Resend(ctx, run.Report.ID, []string{"cfo@example.com"}, "test"); err == nil || !strings.Contains(err.Error(), "ceo@example.com, eng@example.com") {
		t.Errorf("resend to a stranger: %v", err)
	}
	if n := len(box.Messages()); n != 3 {
		t.Errorf("%d messages after a refused resend", n)
	}
	if n := ledgerCount(t, f, ledger.TypeReportSend); n != 3 {
		t.Errorf("%d report_send entries, want 3", n)
	}
	// An unknown --to address: no grants known, nothing built or sent.
	if _, err := f.svc.MakeDigest(ctx, asOf, []string{"who@example.com"}, time.Time{}, true, "test"); err == nil || !strings.Contains(err.Error(), "neither a configured recipient") {
		t.Errorf("digest to an unknown address: %v", err)
	}
}

// A digest sent again goes only within its recipients' grants of now: a
// configured recipient whose roles lost revenue:read, or a user disabled
// since, is refused (nothing is sent to anyone), while a recipient who may
// still see their message gets it.
func TestResendWithinTodaysGrants(t *testing.T) {
	f := newFixture(t)
	box := f.mail(t)
	ctx := context.Background()
	ann, err := f.st.CreateUser(ctx, store.User{Email: "ann@example.com", Roles: []string{"cro"}, CreatedAt: asOf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run, err := f.svc.MakeDigest(ctx, asOf, nil, time.Time{}, true, "test")
	if err != nil {
		t.Fatal(err)
	}
	toAnn, err := f.svc.MakeDigest(ctx, asOf, []string{"ann@example.com"}, time.Time{}, true, "test")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(box.Messages()); n != 3 {
		t.Fatalf("%d messages, want 3", n)
	}
	// The CEO's address is configured with the engineering role now.
	f.svc.Settings.Recipients[0].Roles = []string{"engineering"}
	_, _, err = f.svc.Resend(ctx, run.Report.ID, nil, "test")
	if err == nil || !strings.Contains(err.Error(), "ceo@example.com (roles engineering) may no longer see") {
		t.Errorf("resend to a recipient who lost revenue:read: %v", err)
	}
	if n := len(box.Messages()); n != 3 {
		t.Errorf("%d messages after a refused resend, want 3: nothing is sent", n)
	}
	if _, _, err := f.svc.Resend(ctx, run.Report.ID, []string{"eng@example.com"}, "test"); err != nil {
		t.Errorf("resend to a recipient whose grants still cover it: %v", err)
	}
	if _, _, err := f.st.DisableUser(ctx, ann.ID, asOf, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Resend(ctx, toAnn.Report.ID, nil, "test"); err == nil || !strings.Contains(err.Error(), "ann@example.com is disabled") {
		t.Errorf("resend to a disabled user: %v", err)
	}
	if n := len(box.Messages()); n != 4 {
		t.Errorf("%d messages, want 4 (the one resend allowed)", n)
	}
}

// TestDigestChangeWords: a change the percent's two decimals round to zero
// is shown with the decimals it needs, never "-0 % worse"; equal weeks
// are "no change".
func TestDigestChangeWords(t *testing.T) {
	card := func(cur, prev float64, better string, unit ...string) scorecard.Card {
		c := scorecard.Card{Value: &cur, Unit: "%"}
		if len(unit) > 0 {
			c.Unit = unit[0]
		}
		c.Trend = scorecard.Trend{Previous: &prev}
		switch {
		case cur == prev:
			c.Trend.Assessment = "same"
		case (cur > prev) == (better == catalog.Higher):
			c.Trend.Assessment = "better"
		default:
			c.Trend.Assessment = "worse"
		}
		return c
	}
	for _, c := range []struct {
		card scorecard.Card
		want string
		// now and was are the figures the line sets beside the change
		// ("" for FormatValue's).
		now, was string
	}{
		{card: card(99.9996, 100, catalog.Higher), want: "−0.0004 points (−0.0004 % relative)"},
		{card: card(94.12, 84.44, catalog.Higher), want: "+9.68 points (+11.46 % relative)"},
		{card: card(1000.04, 1000, catalog.Lower, "h"), want: "+0.004 %"},
		{card: card(50, 40, catalog.Higher, "count"), want: "+25 %"},
		{card: card(30, 40, catalog.Higher, "count"), want: "−25 %"},
		{card: card(12, 12, catalog.Higher), want: "no change"},
		{card: card(0, 0, catalog.Higher), want: "no change"},
		// The new user's review of 2026-12-07 (10): "99.88 % (was 99.86 %,
		// +0.01 points)" — the change of the unrounded values. Now that of
		// the figures shown.
		{card: card(99.8751, 99.8642, catalog.Higher), want: "+0.02 points (+0.02 % relative)", now: "99.88 %", was: "99.86 %"},
		{card: card(99.8649, 99.8751, catalog.Higher), want: "−0.02 points (−0.02 % relative)", now: "99.86 %", was: "99.88 %"},
		// Figures that would read alike get the decimals that tell them
		// apart, on both, and the change is theirs: not "99.86 % (was
		// 99.86 %, +0.0059 points)".
		{card: card(99.8648, 99.8612, catalog.Higher), want: "+0.004 points (+0.004 % relative)", now: "99.865 %", was: "99.861 %"},
		{card: card(1234.4, 1000.2, catalog.Higher, "currency"), want: "+23.4 %", now: "1,234 USD", was: "1,000 USD"},
	} {
		l := Line{Value: scorecard.FormatValue(c.card.Value, c.card.Unit, "USD"), Previous: scorecard.FormatValue(c.card.Trend.Previous, c.card.Unit, "USD"), Trend: c.card.Trend.Assessment}
		now, was := cmp.Or(c.now, l.Value), cmp.Or(c.was, l.Previous)
		if l.Change = change(c.card, "USD", &l); l.Change != c.want || l.Value != now || l.Previous != was {
			t.Errorf("change(%v against %v) = %q, %s (was %s); want %q, %s (was %s)", *c.card.Value, *c.card.Trend.Previous, l.Change, l.Value, l.Previous, c.want, now, was)
		}
		if got := funcs["moved"].(func(Line) string)(l); strings.Contains(got, "same") || strings.HasPrefix(got, "-0 %") || strings.HasPrefix(got, "+0 %") {
			t.Errorf("the digest says %q", got)
		}
	}
}

// A headline metric not compared with the week before (too few cases,
// stale data, a value accumulating through its period: the scorecard's
// Trend.NotComparable) says so and why, where "7 days before: —" had read
// as no data the week before.
func TestDigestSaysWhyNotCompared(t *testing.T) {
	v := 4.34
	c := scorecard.Card{Value: &v, Unit: "ratio", Trend: scorecard.Trend{NotComparable: "the value accumulates through the period"}}
	why := "not compared with the 7 days before: the value accumulates through the period"
	d := &Digest{AsOf: asOf, From: asOf.Add(-Week), Headline: []Line{{Metric: "pipeline_coverage", Name: "Pipeline coverage",
		Value: "4.34×", Previous: scorecard.FormatValue(c.Trend.Previous, c.Unit, "USD"), Change: change(c, "USD", &Line{}), NotCompared: c.Trend.NotComparable, Status: catalog.Green}}}
	html, text, err := d.Render("ceo@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html, why) || strings.Contains(html, "7 days before: <span") {
		t.Errorf("the HTML part does not say why the week is not compared:\n%s", html)
	}
	if !strings.Contains(text, "not compared with the week before: the value accumulates through the period") || strings.Contains(text, "was —") {
		t.Errorf("the text part does not say why the week is not compared:\n%s", text)
	}
}

// Every line of the digest says what its value is over, whatever the
// metric's span: NRR's and pipeline coverage's lines had said nothing
// (docs/configuration.md promises each says it).
func TestDigestCoversEverySpan(t *testing.T) {
	for _, span := range append([]string{catalog.SpanWindow}, catalog.Spans...) {
		if scorecard.WeekCovers(span, "7d") == "" {
			t.Errorf("span %q: the digest says nothing of what its value covers", span)
		}
	}
	if got := scorecard.WeekCovers(catalog.SpanQuotaPeriod, "7d"); got != "over the quota period to the week's end" {
		t.Errorf("quota period: %q", got)
	}
}

package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/smtptest"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

func testMessage(at time.Time) Message {
	return Message{Group: "pipeline_coverage_low", Severity: "critical", At: at,
		Firing: []Alert{{Key: "pipeline_coverage_low|pipeline_coverage|", State: Firing,
			Observation: Observation{Rule: "pipeline_coverage_low", Metric: "pipeline_coverage", Owner: "CRO", Summary: "Pipeline coverage is 2.1 x (alert when < 3)"}}},
		Resolved: []Alert{{Key: "x", State: Resolved, Observation: Observation{Rule: "pipeline_coverage_low", Metric: "win_rate", Scope: "team:emea", Summary: "Win rate is 31 %"}}}}
}

// A server offering sign-in without TLS is not sent the password, and
// the error says so and what to do: go-mail's own words ("autodiscover was
// not able to detect a supported authentication mechanism") blamed the
// server's mechanisms.
func TestEmailWithoutTLSSaysWhyNoSignIn(t *testing.T) {
	box, url := smtptest.Start(t)
	s, err := ParseSMTP(strings.TrimSuffix(url, "?tls=none"), "candor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	err = Email{SMTP: s}.Send(context.Background(), Envelope{ID: 1, Key: "k", To: []string{"ops@example.com"}, Message: testMessage(time.Now())})
	if err == nil || !strings.Contains(err.Error(), "offered no TLS (STARTTLS) before sign-in, so the password was not sent in clear") || !strings.Contains(err.Error(), "?tls=none") {
		t.Errorf("sign-in without TLS: %v", err)
	}
	if len(box.Messages()) != 0 {
		t.Error("a message was delivered")
	}
}

func TestEmailOverSMTP(t *testing.T) {
	box, url := smtptest.Start(t)
	s, err := ParseSMTP(url, "candor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ch := Email{SMTP: s, To: []string{"ops@example.com"}, Link: "https://candor.example.com/alerts"}
	if err := ch.Send(context.Background(), Envelope{ID: 42, Key: "k", To: []string{"cro@example.com"}, Message: testMessage(at)}); err != nil {
		t.Fatal(err)
	}
	msgs := box.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received", len(msgs))
	}
	m := msgs[0]
	if m.From != "candor@example.com" || len(m.To) != 1 || m.To[0] != "cro@example.com" {
		t.Errorf("envelope from %q to %v; want the rule's recipient, not the channel's", m.From, m.To)
	}
	for _, want := range []string{"Subject: [Candor CRITICAL] pipeline_coverage_low: 1 firing 1 resolved", "Message-ID: <candor-notification-42@candor>", "Auto-Submitted: auto-generated",
		"Pipeline coverage is 2.1 x (alert when < 3) =E2=80=94 owner: CRO", "Win rate is 31 % [team:emea]", "https://candor.example.com/alerts"} {
		if !strings.Contains(m.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, m.Data)
		}
	}
	bad, _ := ParseSMTP(strings.Replace(url, smtptest.Pass, "wrong", 1), "candor@example.com")
	if err := (Email{SMTP: bad, To: []string{"a@example.com"}}).Send(context.Background(), Envelope{Message: testMessage(at)}); err == nil {
		t.Error("sent with a wrong password")
	}
}

func TestParseSMTP(t *testing.T) {
	s, err := ParseSMTP("smtps://u:p@mail.example.com", "a@example.com")
	if err != nil || s.Port != 465 || s.TLS != "implicit" || s.User != "u" || s.Pass != "p" {
		t.Errorf("smtps = %+v, %v", s, err)
	}
	if s, err := ParseSMTP("smtp://mail.example.com:2525?tls=required", "a@example.com"); err != nil || s.Port != 2525 || s.TLS != "required" {
		t.Errorf("smtp = %+v, %v", s, err)
	}
	for _, bad := range []string{"http://x", "smtp://", "smtp://x?tls=maybe", "smtps://x?tls=none"} {
		if _, err := ParseSMTP(bad, "a@example.com"); err == nil {
			t.Errorf("ParseSMTP(%q) accepted", bad)
		}
	}
	if _, err := ParseSMTP("smtp://x", ""); err == nil || !strings.Contains(err.Error(), "CANDOR_SMTP_FROM") {
		t.Errorf("no sender: %v", err)
	}
}

func TestWebhookSigned(t *testing.T) {
	var got []byte
	var sig, id, origin string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		sig, id, origin = r.Header.Get(SignatureHeader), r.Header.Get(IDHeader), r.Header.Get(OriginHeader)
	}))
	defer srv.Close()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	secret := []byte("s3cret")
	if err := (Webhook{URL: srv.URL, Secret: secret}).Send(context.Background(), Envelope{ID: 7, Origin: "ab12", Key: "k", Message: testMessage(at)}); err != nil {
		t.Fatal(err)
	}
	if origin != "ab12" {
		t.Errorf("origin header %q, want the store's identity", origin)
	}
	if sig != Sign(secret, got) || !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 || sig == Sign([]byte("other"), got) {
		t.Errorf("signature %q does not sign the body", sig)
	}
	var e Envelope
	if err := json.Unmarshal(got, &e); err != nil || id != "7" || e.ID != 7 || e.Message.Group != "pipeline_coverage_low" || len(e.Message.Firing) != 1 ||
		e.Message.Firing[0].Metric != "pipeline_coverage" || len(e.Message.Resolved) != 1 {
		t.Errorf("body %s (id header %q): %v", got, id, err)
	}
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) }))
	defer fail.Close()
	if err := (Webhook{URL: fail.URL, Secret: secret}).Send(context.Background(), Envelope{Message: testMessage(at)}); err == nil || !strings.Contains(err.Error(), "502") {
		t.Errorf("a 502 answer: %v", err)
	}
}

// recorder keeps the envelopes sent through it.
type recorder struct{ got []Envelope }

func (r *recorder) Send(_ context.Context, e Envelope) error {
	r.got = append(r.got, e)
	return nil
}

// Notification ids count from 1 in every store: what a receiver drops
// repeats by is the store's identity with the id, which two stores do not
// share (their e-mails' Message-IDs differ); a test notification's id is
// negative and its own, and says its severity and when it fired.
func TestNotificationsNamedByStoreAndID(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var origins []string
	for range 2 {
		rec := &recorder{}
		st := sqlitetest.Open(t)
		now := at
		svc := &Service{Store: st, Channels: map[string]Channel{"ops": rec}, Now: func() time.Time { return now }}
		for range 2 {
			if err := svc.Test(ctx, "ops", nil); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Second)
		}
		a, b := rec.got[0], rec.got[1]
		if a.ID >= 0 || a.ID == b.ID || a.Origin == "" || a.Origin != b.Origin {
			t.Fatalf("two tests from one store: ids %d and %d, origins %q and %q", a.ID, b.ID, a.Origin, b.Origin)
		}
		f := a.Message.Firing[0]
		if f.Severity == "" || f.ActiveAt.IsZero() {
			t.Errorf("a test alert without severity (%q) or time (%v)", f.Severity, f.ActiveAt)
		}
		origins = append(origins, a.Origin)
	}
	if origins[0] == origins[1] {
		t.Fatalf("two stores share the origin %q", origins[0])
	}
	one, two := messageID(Envelope{ID: 1, Origin: origins[0]}), messageID(Envelope{ID: 1, Origin: origins[1]})
	if one == two || !strings.HasPrefix(one, "candor-notification-1.") {
		t.Errorf("notification 1 of two stores: Message-IDs %q and %q", one, two)
	}
}

// A webhook or Slack receiver answering with a redirect does not get the
// alert re-posted where it points (a 307 or 308 re-POSTs the body, a 302
// follows with a GET): the attempt fails, naming the status and the
// Location, and Flush retries it as any failure.
func TestWebhooksFollowNoRedirect(t *testing.T) {
	var reached int
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++ }))
	defer elsewhere.Close()
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/latest/meta-data", code)
		}))
		at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		for name, ch := range map[string]Channel{
			"webhook": Webhook{URL: moved.URL, Secret: []byte("s")},
			"slack":   Slack{URL: moved.URL + "/services/T0/B0/secret", Client: moved.Client()},
		} {
			err := ch.Send(context.Background(), Envelope{ID: 1, Message: testMessage(at)})
			if err == nil || !strings.Contains(err.Error(), fmt.Sprint(code)) || !strings.Contains(err.Error(), "Location "+elsewhere.URL+"/latest/meta-data") ||
				!strings.Contains(err.Error(), "not followed") || strings.Contains(err.Error(), "secret") {
				t.Errorf("%s answering %d: %v, want a failure naming the status and the Location", name, code, err)
			}
		}
		moved.Close()
	}
	if reached != 0 {
		t.Errorf("the redirect's target was called %d times", reached)
	}

	ctx := context.Background()
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer moved.Close()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := &Service{Store: sqlitetest.Open(t), Channels: map[string]Channel{"hook": Webhook{URL: moved.URL, Secret: []byte("s")}}, Now: func() time.Time { return at }}
	body, _ := json.Marshal(Envelope{Key: "k", Message: testMessage(at)})
	if _, err := s.Store.SaveAlerts(ctx, nil, nil, []store.Notification{{Key: "k", Group: "g", Channel: "hook", Body: body, NextAt: at, CreatedAt: at}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Flush(ctx); err != nil || n != 0 {
		t.Fatalf("Flush = %d, %v", n, err)
	}
	ns, err := s.Store.Notifications(ctx, 1)
	if err != nil || len(ns) != 1 || ns[0].State != store.NotificationPending || ns[0].Attempts != 1 || !ns[0].NextAt.After(at) ||
		!strings.Contains(ns[0].LastError, "307") {
		t.Errorf("after a redirect: %+v, %v; want it pending, to be retried, with the redirect as its error", ns, err)
	}
	if reached != 0 {
		t.Errorf("the redirect's target was called %d times", reached)
	}
}

package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// runAlerts is the contract of store.AlertStore: alerts upserted and
// dropped, an acknowledgement kept through the episode and cleared by a new
// one, notifications queued once per key and due until sent, silences kept.
func runAlerts(t *testing.T, open Factory) {
	t.Run("Alerts", func(t *testing.T) {
		ctx := context.Background()
		s, ok := open(t).(store.AlertStore)
		if !ok {
			t.Fatal("the store keeps no alerts")
		}
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
		a := store.AlertRow{Key: "r|m|", State: "firing", ActiveAt: t0, Body: []byte(`{"v":1}`)}
		b := store.AlertRow{Key: "r|n|", State: "pending", ActiveAt: t0, Body: []byte(`{"v":2}`)}
		notes := []store.Notification{
			{Key: "r|mail|1", Group: "r", Channel: "mail", Body: []byte(`{"n":1}`), NextAt: t0, CreatedAt: t0},
			{Key: "r|hook|1", Group: "r", Channel: "hook", Body: []byte(`{"n":2}`), NextAt: t0.Add(time.Hour), CreatedAt: t0},
		}
		got, err := s.SaveAlerts(ctx, []store.AlertRow{a, b}, nil, notes)
		if err != nil || len(got) != 2 || got[0].ID <= 0 || got[1].ID <= got[0].ID || got[0].State != store.NotificationPending {
			t.Fatalf("SaveAlerts = %+v, %v", got, err)
		}
		// The same key again (a second instance's evaluation) is not queued twice.
		again, err := s.SaveAlerts(ctx, nil, nil, notes[:1])
		if err != nil || len(again) != 0 {
			t.Fatalf("SaveAlerts of a stored key = %+v, %v; want nothing stored", again, err)
		}
		if err := s.AckAlert(ctx, a.Key, "ann", "on it", t0.Add(time.Minute), nil); err != nil {
			t.Fatal(err)
		}
		// A second acknowledgement does not overwrite the first.
		if err := s.AckAlert(ctx, a.Key, "bob", "", t0.Add(2*time.Minute), nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AckAlert of an acknowledged alert: %v, want ErrNotFound", err)
		}
		if err := s.AckAlert(ctx, "nope", "ann", "", t0, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AckAlert of no alert: %v, want ErrNotFound", err)
		}
		// The same episode rewritten keeps the acknowledgement; b is dropped.
		a.Body = []byte(`{"v":3}`)
		if _, err := s.SaveAlerts(ctx, []store.AlertRow{a}, []string{b.Key}, nil); err != nil {
			t.Fatal(err)
		}
		rows, err := s.Alerts(ctx)
		if err != nil || len(rows) != 1 || rows[0].Key != a.Key || string(rows[0].Body) != `{"v":3}` || rows[0].AckedBy != "ann" || rows[0].AckNote != "on it" {
			t.Fatalf("Alerts = %+v, %v", rows, err)
		}
		sameInstant(t, "acked_at", rows[0].AckedAt, t0.Add(time.Minute))
		sameInstant(t, "active_at", rows[0].ActiveAt, t0)
		// A new episode clears it; a resolved alert cannot be acknowledged.
		a.ActiveAt, a.State = t0.Add(time.Hour), "resolved"
		if _, err := s.SaveAlerts(ctx, []store.AlertRow{a}, nil, nil); err != nil {
			t.Fatal(err)
		}
		if rows, _ = s.Alerts(ctx); rows[0].AckedBy != "" || !rows[0].AckedAt.IsZero() {
			t.Errorf("acknowledgement survived a new episode: %+v", rows[0])
		}
		if err := s.AckAlert(ctx, a.Key, "ann", "", t0, nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("AckAlert of a resolved alert: %v, want ErrNotFound", err)
		}

		due, err := s.DueNotifications(ctx, t0, 10)
		if err != nil || len(due) != 1 || due[0].Key != "r|mail|1" || string(due[0].Body) != `{"n":1}` {
			t.Fatalf("DueNotifications = %+v, %v", due, err)
		}
		n := due[0]
		n.State, n.Attempts, n.SentAt, n.Withheld = store.NotificationSent, 1, t0.Add(time.Second), "bob@example.com (disabled)"
		if err := s.UpdateNotification(ctx, n); err != nil {
			t.Fatal(err)
		}
		if due, _ = s.DueNotifications(ctx, t0.Add(2*time.Hour), 10); len(due) != 1 || due[0].Key != "r|hook|1" {
			t.Errorf("DueNotifications after a send = %+v", due)
		}
		all, err := s.Notifications(ctx, 10)
		if err != nil || len(all) != 2 || all[1].State != store.NotificationSent || all[1].Attempts != 1 || all[1].Withheld != "bob@example.com (disabled)" {
			t.Fatalf("Notifications = %+v, %v", all, err)
		}
		sameInstant(t, "sent_at", all[1].SentAt, t0.Add(time.Second))
		if err := s.UpdateNotification(ctx, store.Notification{ID: 999}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateNotification of no notification: %v", err)
		}

		x, err := s.AddSilence(ctx, store.Silence{Rule: "r", Metric: "m", Reason: "maintenance", Author: "ann", StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedAt: t0}, nil)
		if err != nil || x.ID <= 0 {
			t.Fatalf("AddSilence = %+v, %v", x, err)
		}
		ss, err := s.Silences(ctx)
		if err != nil || len(ss) != 1 || ss[0].Reason != "maintenance" || ss[0].Author != "ann" || ss[0].Metric != "m" {
			t.Fatalf("Silences = %+v, %v", ss, err)
		}
		sameInstant(t, "ends_at", ss[0].EndsAt, t0.Add(time.Hour))

		// Ended early, once: a second end, or one past its end, finds none in force.
		ended, err := s.EndSilence(ctx, x.ID, t0.Add(time.Minute), nil)
		if err != nil || ended.ID != x.ID || ended.Reason != "maintenance" {
			t.Fatalf("EndSilence = %+v, %v", ended, err)
		}
		sameInstant(t, "ended ends_at", ended.EndsAt, t0.Add(time.Minute))
		if ss, err := s.Silences(ctx); err != nil || !ss[0].EndsAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("Silences after EndSilence = %+v, %v", ss, err)
		}
		for _, id := range []int64{x.ID, 999} {
			if _, err := s.EndSilence(ctx, id, t0.Add(2*time.Minute), nil); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("EndSilence(%d) of no silence in force: %v", id, err)
			}
		}
	})
	runNotificationClaims(t, open)
	runAlertLedger(t, open)
}

// runNotificationClaims: of claimers of one notification's attempt only
// one gets it, until its claim lapses or its attempt is recorded; an
// attempt recorded since the claimer read it, and a notification sent or
// failed, are not claimed.
func runNotificationClaims(t *testing.T, open Factory) {
	t.Run("NotificationClaims", func(t *testing.T) {
		ctx := context.Background()
		s := open(t).(store.AlertStore)
		t0 := time.Date(2026, 3, 2, 9, 0, 0, 123456789, time.UTC)
		var notes []store.Notification
		for _, k := range []string{"a", "b", "c"} {
			notes = append(notes, store.Notification{Key: "r|hook|" + k, Group: "r", Channel: "hook", Body: []byte(`{}`), NextAt: t0, CreatedAt: t0})
		}
		notes, err := s.SaveAlerts(ctx, nil, nil, notes)
		if err != nil || len(notes) != 3 {
			t.Fatalf("SaveAlerts = %+v, %v", notes, err)
		}
		a, b, c := notes[0], notes[1], notes[2]
		const lease = 5 * time.Minute
		claim := func(n store.Notification, now time.Time) bool {
			t.Helper()
			got, err := s.ClaimNotification(ctx, n, now, now.Add(lease))
			if err != nil {
				t.Fatalf("ClaimNotification(%d at %s): %v", n.ID, now, err)
			}
			return got
		}

		// Two processes that read it due at once: one gets it.
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if got, err := s.ClaimNotification(ctx, a, t0, t0.Add(lease)); err != nil {
					t.Error(err)
				} else if got {
					won.Add(1)
				}
			})
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d of 8 claimers got one notification; want 1", won.Load())
		}
		if claim(a, t0.Add(lease-time.Nanosecond)) {
			t.Error("claimed under a live claim")
		}
		// A claim is no filter on reading: the claimer decides.
		if due, err := s.DueNotifications(ctx, t0, 10); err != nil || len(due) != 3 {
			t.Errorf("DueNotifications with one claimed = %d, %v; want all 3", len(due), err)
		}
		// Its process died holding it: once it lapses, another takes it.
		if !claim(a, t0.Add(lease)) {
			t.Fatal("a lapsed claim was not taken")
		}
		// Recording the attempt ends the claim; the attempt read before it
		// is not claimed again, the next one is.
		retry := a
		retry.Attempts, retry.NextAt, retry.LastError = 1, t0.Add(30*time.Second), "connection refused"
		if err := s.UpdateNotification(ctx, retry); err != nil {
			t.Fatal(err)
		}
		if claim(a, t0.Add(lease+time.Second)) {
			t.Error("claimed an attempt another claimer recorded since it was read")
		}
		if !claim(retry, t0.Add(lease+time.Second)) {
			t.Error("the next attempt was not claimed after the last one was recorded")
		}
		// Sent or failed: nothing left to claim, even unclaimed.
		sent, failed := b, c
		sent.State, sent.Attempts, sent.SentAt = store.NotificationSent, 1, t0
		failed.State, failed.Attempts, failed.LastError = store.NotificationFailed, 8, "gone"
		for _, n := range []store.Notification{sent, failed} {
			if err := s.UpdateNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
			for _, read := range []store.Notification{n, b} {
				read.ID = n.ID
				if claim(read, t0.Add(time.Hour)) {
					t.Errorf("claimed notification %d, %s", n.ID, n.State)
				}
			}
		}
	})
}

// failingSealer fails every append: a ledger that cannot be written to.
type failingSealer struct{ store.Sealer }

func (failingSealer) Seal(store.LedgerHead, time.Time, []store.LedgerEntry) ([]store.LedgerRow, error) {
	return nil, errors.New("the ledger cannot be written")
}

// runAlertLedger: an acknowledgement, a silence and its early end are
// kept with their ledger entries, in one transaction, or not at all —
// when the append fails, or the entry cannot be made.
func runAlertLedger(t *testing.T, open Factory) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ack := store.LedgerEntry{Type: ledger.TypeAlertAck, Data: []byte(`{"key":"r|m|"}`), Personal: []byte(`{"by":"ann"}`)}
	entry := func(typ string) store.SilenceEntry {
		return func(x store.Silence) (store.LedgerEntry, error) {
			return store.LedgerEntry{Type: typ, Data: fmt.Appendf(nil, `{"id":%d,"ends_at":%d}`, x.ID, x.EndsAt.Unix())}, nil
		}
	}
	silence := store.Silence{Rule: "r", Reason: "maintenance", Author: "ann", StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedAt: t0}
	firing := func(t *testing.T, s store.AlertStore) {
		t.Helper()
		if _, err := s.SaveAlerts(ctx, []store.AlertRow{{Key: "r|m|", State: "firing", ActiveAt: t0, Body: []byte(`{}`)}}, nil, nil); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("AlertChangesWithTheirLedgerEntries", func(t *testing.T) {
		s := sealed(open(t))
		as := s.(store.AlertStore)
		firing(t, as)
		if err := as.AckAlert(ctx, "r|m|", "ann", "", t0, &ack); err != nil {
			t.Fatal(err)
		}
		x, err := as.AddSilence(ctx, silence, entry(ledger.TypeAlertSilence))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as.EndSilence(ctx, x.ID, t0.Add(time.Minute), entry(ledger.TypeAlertUnsilence)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range ledgerRows(t, s) {
			got = append(got, r.Type+" "+string(r.Data))
		}
		want := []string{
			`alert_ack {"key":"r|m|"}`,
			fmt.Sprintf(`alert_silence {"id":%d,"ends_at":%d}`, x.ID, t0.Add(time.Hour).Unix()),
			fmt.Sprintf(`alert_unsilence {"id":%d,"ends_at":%d}`, x.ID, t0.Add(time.Minute).Unix()),
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ledger:\n%q\nwant\n%q", got, want)
		}
		intact(t, s, 3)
	})

	t.Run("NoAlertChangeWithoutItsLedgerEntry", func(t *testing.T) {
		s := open(t)
		as := s.(store.AlertStore)
		firing(t, as)
		kept, err := as.AddSilence(ctx, silence, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.SetSealer(failingSealer{})
		unmade := func(store.Silence) (store.LedgerEntry, error) { return store.LedgerEntry{}, errors.New("no entry") }
		if err := as.AckAlert(ctx, "r|m|", "ann", "", t0, &ack); err == nil {
			t.Error("acknowledged although its ledger entry failed")
		}
		for _, e := range []store.SilenceEntry{entry(ledger.TypeAlertSilence), unmade} {
			if x, err := as.AddSilence(ctx, silence, e); err == nil {
				t.Errorf("silence %+v stored although its ledger entry failed", x)
			}
			if x, err := as.EndSilence(ctx, kept.ID, t0.Add(time.Minute), e); err == nil {
				t.Errorf("silence %+v ended although its ledger entry failed", x)
			}
		}
		rows, err := as.Alerts(ctx)
		if err != nil || len(rows) != 1 || rows[0].AckedBy != "" {
			t.Errorf("alerts after a failed acknowledgement: %+v, %v", rows, err)
		}
		ss, err := as.Silences(ctx)
		if err != nil || len(ss) != 1 || !ss[0].EndsAt.Equal(silence.EndsAt) {
			t.Errorf("silences after a failed silence and a failed end: %+v, %v; want #%d alone, in force", ss, err, kept.ID)
		}
		if rows := ledgerRows(t, s); len(rows) != 0 {
			t.Errorf("ledger after failed appends: %d entries", len(rows))
		}
	})
}

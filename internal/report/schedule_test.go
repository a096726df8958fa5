package report

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/smtptest"
)

func TestLastSlot(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ expr, now, want string }{
		{"0 7 * * MON", "2026-11-30T07:00:00Z", "2026-11-30T07:00:00Z"}, // a Monday, at the slot
		{"0 7 * * MON", "2026-11-30T06:59:59Z", "2026-11-23T07:00:00Z"},
		{"0 7 * * MON", "2026-12-01T22:00:00Z", "2026-11-30T07:00:00Z"},
		{"0 6 1 * *", "2026-12-01T06:30:00Z", "2026-12-01T06:00:00Z"},
		{"0 6 1 * *", "2026-11-30T23:00:00Z", "2026-11-01T06:00:00Z"},
		{"*/15 * * * *", "2026-12-01T10:44:00Z", "2026-12-01T10:30:00Z"},
		{"@yearly", "2026-12-01T10:44:00Z", "2026-01-01T00:00:00Z"},
		{"CRON_TZ=Europe/London 0 7 * * MON", "2026-07-06T06:30:00Z", "2026-07-06T06:00:00Z"}, // 07:00 BST
	} {
		sch, err := CronParser.Parse(c.expr)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := LastSlot(sch, at(c.now))
		if !ok || !got.Equal(at(c.want)) {
			t.Errorf("LastSlot(%q, %s) = %v, %v; want %s", c.expr, c.now, got, ok, c.want)
		}
	}
}

// TestScheduleOncePerSlot runs two instances' schedulers over one store
// with an injected clock: each slot's digest and board pack are made and
// sent once, whoever runs first; a slot older than the grace is skipped.
func TestScheduleOncePerSlot(t *testing.T) {
	f := newFixture(t)
	box, url := smtptest.Start(t)
	srv, err := alert.ParseSMTP(url, "candor@example.com")
	if err != nil {
		t.Fatal(err)
	}
	set := f.svc.Settings
	set.DigestAt, _ = CronParser.Parse("0 7 * * MON")
	set.BoardAt, _ = CronParser.Parse("0 6 1 * *")
	set.BoardTo = []string{"ceo@example.com"}
	instance := func() *Scheduler {
		svc := *f.svc
		svc.Settings, svc.Mail = set, srv
		return &Scheduler{Service: &svc}
	}
	a, b := instance(), instance()
	ctx := context.Background()
	run := func(s *Scheduler, now string) []Report {
		t.Helper()
		at, _ := time.Parse(time.RFC3339, now)
		made, err := s.RunOnce(ctx, at)
		if err != nil {
			t.Fatal(err)
		}
		return made
	}
	for _, step := range []struct {
		who         *Scheduler
		now         string
		made, mails int
	}{
		{a, "2026-11-30T06:59:00Z", 0, 0}, // the last slot (23 Nov) is past the grace
		{a, "2026-11-30T07:00:00Z", 1, 2}, // the digest, to both recipients
		{b, "2026-11-30T07:00:01Z", 0, 2}, // the other instance: already made
		{a, "2026-11-30T07:30:00Z", 0, 2},
		{b, "2026-12-01T06:00:30Z", 1, 3}, // the board pack for November, to the CEO
		{a, "2026-12-01T06:01:00Z", 0, 3},
		{a, "2026-12-07T07:10:00Z", 1, 5}, // the next week's digest
	} {
		if got := run(step.who, step.now); len(got) != step.made {
			t.Errorf("%s: made %d reports, want %d", step.now, len(got), step.made)
		}
		if n := len(box.Messages()); n != step.mails {
			t.Errorf("%s: %d messages in all, want %d", step.now, n, step.mails)
		}
	}
	rs, err := List(ctx, f.st, 0)
	if err != nil || len(rs) != 3 {
		t.Fatalf("archive: %d reports, %v", len(rs), err)
	}
	if rs[1].Kind != KindBoard || rs[1].Month != "2026-11" || !rs[1].Slot.Equal(time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("board pack archived as %+v", rs[1].Month)
	}
	if !rs[0].AsOf.Equal(time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("the second digest is as of %v, want its slot", rs[0].AsOf)
	}
	// Two instances racing on one slot: one archive, one set of mails.
	c, d := instance(), instance()
	at := time.Date(2026, 12, 14, 7, 0, 0, 0, time.UTC)
	errs := make(chan error, 2)
	for _, s := range []*Scheduler{c, d} {
		go func() { _, err := s.RunOnce(ctx, at); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := len(box.Messages()); n != 7 {
		t.Errorf("racing instances sent %d messages in all, want 7 (one digest each to 2 recipients)", n)
	}
}

// A process stopped after archiving a slot's digest and before sending
// it: the slot is done and never made again, so the next process's
// scheduler says whom it was not sent to and how to send it, where it had
// said nothing; once it is sent, nothing.
func TestScheduledReportLeftUnsentIsNamed(t *testing.T) {
	f := newFixture(t)
	box := f.mail(t)
	ctx := context.Background()
	slot := time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC)
	killed := *f.svc
	killed.Settings.DigestAt, _ = CronParser.Parse("0 7 * * MON")
	killed.Now = func() time.Time { return slot }
	run, err := killed.MakeDigest(ctx, slot, nil, slot, false, "schedule")
	if err != nil || !run.Created {
		t.Fatalf("archiving the slot's digest: %+v, %v", run.Report.ID, err)
	}
	next := killed
	next.Now = func() time.Time { return slot.Add(5 * time.Minute) }
	s := &Scheduler{Service: &next}
	made, err := s.RunOnce(ctx, slot.Add(5*time.Minute))
	want := fmt.Sprintf("candor report resend %d", run.Report.ID)
	if len(made) != 0 || err == nil || !strings.Contains(err.Error(), "ceo@example.com, eng@example.com") || !strings.Contains(err.Error(), want) {
		t.Fatalf("after a stop between archiving and sending: made %d, %v; want the recipients not sent to and %q", len(made), err, want)
	}
	// Named once, not at every minute's run through the slot's grace.
	if _, err := s.RunOnce(ctx, slot.Add(5*time.Minute+30*time.Second)); err != nil {
		t.Errorf("the next minute's run: %v, want the unsent report named once", err)
	}
	if _, _, err := next.Resend(ctx, run.Report.ID, nil, "cli:admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunOnce(ctx, slot.Add(6*time.Minute)); err != nil || len(box.Messages()) != 2 {
		t.Fatalf("once sent: %v, %d messages; want nothing more said or sent", err, len(box.Messages()))
	}
}

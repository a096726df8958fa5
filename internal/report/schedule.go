package report

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/store"
	"github.com/robfig/cron/v3"
)

// DefaultGrace is how late a scheduled slot still runs: an instance that
// starts leading within it (a restart, a failover) makes the slot's report;
// one that starts later does not send last week's digest.
const DefaultGrace = time.Hour

// LastSlot is the latest activation of sch at or before now, and false
// when there is none in the last 400 days.
func LastSlot(sch cron.Schedule, now time.Time) (time.Time, bool) {
	// cron schedules only say what comes next: start a little before now
	// and widen until an activation falls at or before now, then walk
	// forward to the last one — few steps, as the first window that holds
	// one is at most the schedule's own scale.
	for _, back := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 400 * 24 * time.Hour} {
		t := sch.Next(now.Add(-back - time.Second))
		if t.After(now) {
			continue
		}
		for {
			n := sch.Next(t)
			if n.After(now) || n.IsZero() {
				return t, true
			}
			t = n
		}
	}
	return time.Time{}, false
}

// Scheduler makes the scheduled reports: the digest at each slot of
// Settings.DigestAt (as of the slot, to every recipient) and the board
// pack at each slot of Settings.BoardAt (for the last complete month, to
// Settings.BoardTo). Run it on the leader; "once per slot" does not rest
// on leadership, though: the report is archived under its slot's key
// (store.DocStore.AppendDocOnce) before anything is sent, and only the
// instance whose append created it sends.
type Scheduler struct {
	Service *Service
	// Grace is DefaultGrace when zero.
	Grace time.Duration

	// started is the time of the first RunOnce: a slot's report archived
	// before it, by an earlier process, may have been left half sent.
	started time.Time
	// checked holds the slots whose archived report unsent has looked at:
	// once each, not at every minute's run through the hour of grace,
	// reading its sendings again and saying the same thing sixty times.
	checked map[string]bool
}

func (s *Scheduler) grace() time.Duration {
	if s.Grace > 0 {
		return s.Grace
	}
	return DefaultGrace
}

// RunOnce makes each schedule's current slot's report unless it is
// archived already or the slot is older than the grace; it returns the
// reports it made (and sent).
func (s *Scheduler) RunOnce(ctx context.Context, now time.Time) ([]Report, error) {
	var made []Report
	var unsent []error
	if s.started.IsZero() {
		// The clock reports are stamped with (CreatedAt), not now.
		s.started = s.Service.now()
	}
	set := s.Service.Settings
	for _, job := range []struct {
		kind string
		at   cron.Schedule
	}{{KindDigest, set.DigestAt}, {KindBoard, set.BoardAt}} {
		if job.at == nil {
			continue
		}
		slot, ok := LastSlot(job.at, now)
		if !ok || now.Sub(slot) >= s.grace() {
			continue
		}
		slot = slot.UTC()
		// The cheap path: the slot is usually done already.
		key := SlotKey(job.kind, slot)
		if d, done, err := s.Service.Docs.DocByKey(ctx, Collection, key); err != nil {
			return made, err
		} else if done {
			if !s.checked[key] {
				if s.checked == nil {
					s.checked = map[string]bool{}
				}
				s.checked[key] = true
				if err := s.unsent(ctx, d); err != nil {
					unsent = append(unsent, err)
				}
			}
			continue
		}
		var r Report
		var created bool
		var err error
		switch job.kind {
		case KindDigest:
			var run DigestRun
			run, err = s.Service.MakeDigest(ctx, slot, nil, slot, true, "schedule")
			r, created = run.Report, run.Created
		case KindBoard:
			month, _ := ParseMonth("", slot)
			var run BoardRun
			run, err = s.Service.MakeBoard(ctx, month, slot, true, "schedule")
			r, created = run.Report, run.Created
		}
		if created {
			made = append(made, r)
			s.Service.log().Info("scheduled report", "kind", job.kind, "slot", slot, "doc", r.ID, "recipients", len(r.Messages))
		}
		if err != nil {
			// Archived but not (all) sent: candor report resend picks it up.
			return made, errors.Join(append(unsent, fmt.Errorf("scheduled %s for %s: %w", job.kind, slot.Format(time.RFC3339), err))...)
		}
	}
	return made, errors.Join(unsent...)
}

// unsent names the recipients without a successful sending of a slot's
// report archived before this scheduler started. A slot archived is never
// made again, so a process stopped (killed, restarted) after archiving
// its report and before sending it to everyone had left them without it
// and said nothing; the sending is not resumed here, as the process that
// archived it may still be at it.
func (s *Scheduler) unsent(ctx context.Context, d store.Doc) error {
	r, err := decode(d)
	if err != nil || !r.CreatedAt.Before(s.started) {
		return err
	}
	sends, err := Sends(ctx, s.Service.Docs, r.ID)
	if err != nil {
		return err
	}
	sent := map[string]bool{}
	for _, x := range sends {
		if x.OK {
			sent[strings.ToLower(x.To)] = true
		}
	}
	var missing []string
	for _, m := range r.Messages {
		if !sent[strings.ToLower(m.To)] {
			missing = append(missing, m.To)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("the scheduled %s for %s (report %d), archived at %s, was not sent to %s: its sending stopped or failed; candor report resend %d sends it",
		r.Kind, r.Slot.Format(time.RFC3339), r.ID, r.CreatedAt.Format(time.RFC3339), strings.Join(missing, ", "), r.ID)
}

// Run calls RunOnce now and at every following activation of either
// schedule until ctx ends. A failure is logged; the next activation runs
// as usual.
func (s *Scheduler) Run(ctx context.Context) error {
	set := s.Service.Settings
	if set.DigestAt == nil && set.BoardAt == nil {
		return nil
	}
	for {
		now := s.Service.now()
		if _, err := s.RunOnce(ctx, now); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.Service.log().Error("scheduled report failed", "err", err)
		}
		next := time.Time{}
		for _, at := range []cron.Schedule{set.DigestAt, set.BoardAt} {
			if at == nil {
				continue
			}
			if n := at.Next(now); next.IsZero() || n.Before(next) {
				next = n
			}
		}
		t := time.NewTimer(max(time.Until(next), time.Second))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

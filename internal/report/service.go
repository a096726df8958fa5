package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Users finds a Candor user by e-mail (store.AuthStore).
type Users interface {
	UserByEmail(ctx context.Context, email string) (store.User, error)
}

// Service produces, archives and sends the reports.
type Service struct {
	Docs     store.DocStore
	Engine   *engine.Engine
	Catalog  *catalog.Catalog
	Grants   *auth.Grants
	Users    Users
	Settings Settings
	// Mail sends; nil means reports can be written and archived but not sent.
	Mail Mailer
	// From is the sender address.
	From string
	// Currency labels money where the data does not say the currency in
	// force (currency).
	Currency string
	// Annotations reads the annotations in force when a report is made
	// (none when nil).
	Annotations func(ctx context.Context) ([]Annotation, error)
	// SettingSource reads what put each value-changing setting in force
	// at a time ("proposal 3" and since when, "configuration"; governance
	// State.SettingSource), for the board pack's settings in force; nil
	// names none.
	SettingSource func(ctx context.Context) (func(name string, t time.Time) (string, time.Time), error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	Log *slog.Logger
}

func (s *Service) annotations(ctx context.Context) ([]Annotation, error) {
	if s.Annotations == nil {
		return nil, nil
	}
	as, err := s.Annotations(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the annotations: %w", err)
	}
	return as, nil
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

var errNoMail = errors.New("no mail server: set alerts.smtp.url or CANDOR_SMTP_URL, and CANDOR_SMTP_FROM")

// audience is a recipient's address and access.
type audience struct {
	to     string
	grants string
	access auth.Access
}

// audiences resolves the recipients named by to (every configured one
// when empty): a configured recipient, or any active Candor user by
// address, with their own roles. An address that is neither is an error:
// nothing may go to an address whose grants are unknown.
func (s *Service) audiences(ctx context.Context, to []string) ([]audience, error) {
	byAddr := map[string]Recipient{}
	for _, r := range s.Settings.Recipients {
		byAddr[strings.ToLower(r.Address)] = r
	}
	if len(to) == 0 {
		for _, r := range s.Settings.Recipients {
			to = append(to, r.Address)
		}
		if len(to) == 0 {
			return nil, domain.InvalidParam("to", "no recipient: configure reports.recipients or name one with --to")
		}
	}
	var out []audience
	for _, addr := range to {
		r, ok := byAddr[strings.ToLower(addr)]
		if !ok {
			r = Recipient{Address: addr, User: addr}
		}
		a := audience{to: r.Address}
		roles := r.Roles
		if r.User != "" {
			u, err := s.userRoles(ctx, r.User)
			if err != nil {
				// A disabled user is one: saying they are not would send
				// the reader looking for a typing mistake.
				if _, disabled := err.(disabledUser); !ok && !disabled {
					return nil, domain.InvalidParam("to", "%s is neither a configured recipient (reports.recipients) nor a Candor user", addr)
				}
				return nil, err
			}
			roles, a.grants = u, "user "+r.User
		} else {
			a.grants = "roles " + strings.Join(roles, ", ")
		}
		a.access = s.Grants.Access(roles)
		out = append(out, a)
	}
	return out, nil
}

// disabledUser refuses a disabled user (the address) as a recipient.
type disabledUser string

func (e disabledUser) Error() string {
	return "user " + string(e) + " is disabled: no report goes to them"
}

// ErrorCode gives the refusal its code (domain.CodeOf reads it).
func (disabledUser) ErrorCode() domain.Code { return domain.EInvalid }

func (s *Service) userRoles(ctx context.Context, email string) ([]string, error) {
	norm, err := auth.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if s.Users == nil {
		return nil, fmt.Errorf("user %s: no user store", email)
	}
	u, err := s.Users.UserByEmail(ctx, norm)
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", email, err)
	}
	if u.Disabled() {
		return nil, disabledUser(email)
	}
	return u.Roles, nil
}

// DigestRun is what a digest run produced.
type DigestRun struct {
	Report Report
	// Created is false when the schedule's slot was already archived by
	// another instance (nothing was sent then).
	Created bool
	Digests []*Digest
}

// MakeDigest builds the digest as of asOf for each recipient (to, or every
// configured one), archives it (under slot when not zero) and, when send
// is set, sends it; every sending is recorded. A failed send is reported
// after the others were tried; the archived report can be resent.
func (s *Service) MakeDigest(ctx context.Context, asOf time.Time, to []string, slot time.Time, send bool, by string) (DigestRun, error) {
	if send && s.Mail == nil {
		return DigestRun{}, errNoMail
	}
	aud, err := s.audiences(ctx, to)
	if err != nil {
		return DigestRun{}, err
	}
	acks, err := escalation.List(ctx, s.Docs, "")
	if err != nil {
		return DigestRun{}, err
	}
	notes, err := s.annotations(ctx)
	if err != nil {
		return DigestRun{}, err
	}
	now := s.now()
	rep := Report{Kind: KindDigest, AsOf: asOf.UTC(), Slot: slot, By: by, CreatedAt: now.UTC()}
	var run DigestRun
	defs := map[string]Definition{}
	err = s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		for _, a := range aud {
			d := BuildDigest(s.Catalog, ds, acks, DigestOptions{AsOf: asOf, Visible: a.access.CanSeeMetric,
				Annotations: notes, BaseURL: s.Settings.BaseURL, Currency: s.currency(ds, asOf)})
			msg, err := DigestMessage(d, s.From, a.to, now)
			if err != nil {
				return err
			}
			eml, err := EML(msg)
			if err != nil {
				return err
			}
			m := Message{To: a.to, Grants: a.grants, EML: eml}
			for _, def := range d.Definitions {
				defs[def.Metric] = def
				m.Metrics = append(m.Metrics, def.Metric)
			}
			rep.Messages = append(rep.Messages, m)
			run.Digests = append(run.Digests, d)
		}
		return nil
	})
	if err != nil {
		return DigestRun{}, err
	}
	rep.Definitions = sortedDefinitions(defs)
	run.Report, run.Created, err = Save(ctx, s.Docs, &rep)
	if err != nil || !run.Created || !send {
		return run, err
	}
	return run, deliver(ctx, s.Docs, s.Mail, run.Report, run.Report.Messages, false, by, s.now())
}

func sortedDefinitions(defs map[string]Definition) []Definition {
	out := make([]Definition, 0, len(defs))
	for _, d := range defs {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Definition) int { return strings.Compare(a.Metric, b.Metric) })
	return out
}

// Resend sends archived report id again to its recipients (those of to
// only, when given: each must be one of them, so a report never reaches an
// address whose grants it was not made for).
func (s *Service) Resend(ctx context.Context, id int64, to []string, by string) (Report, []Message, error) {
	r, err := Get(ctx, s.Docs, id)
	if err != nil {
		return r, nil, err
	}
	msgs, err := pick(r.Messages, to)
	if err != nil {
		return r, nil, err
	}
	if len(msgs) == 0 {
		return r, nil, domain.InvalidParam("id", "report %d has no recipient to send it to (a board pack written with --out only)", id)
	}
	if s.Mail == nil {
		return r, nil, errNoMail
	}
	if err := s.stillGranted(ctx, r, msgs); err != nil {
		return r, nil, err
	}
	return r, msgs, deliver(ctx, s.Docs, s.Mail, r, msgs, true, by, s.now())
}

// stillGranted refuses to send the messages again unless each recipient
// may still see every metric their message shows. The message was shaped
// by the grants its recipient had when it was made; since then the user
// may have been disabled (left the company) or lost revenue:read, and a
// resend is a new sending, within the grants of now. Nothing is sent when
// one is refused.
func (s *Service) stillGranted(ctx context.Context, r Report, msgs []Message) error {
	cat := s.Catalog.At(r.AsOf)
	for _, m := range msgs {
		aud, err := s.audiences(ctx, []string{m.To})
		if err != nil {
			return fmt.Errorf("report %d is not sent again to %s: %w", r.ID, m.To, err)
		}
		metrics := m.Metrics
		if metrics == nil {
			for _, d := range r.Definitions {
				metrics = append(metrics, d.Metric)
			}
		}
		// A metric the catalog no longer holds is not judged here.
		if hidden, _ := cat.Unseen(metrics, aud[0].access.CanSeeMetric); len(metrics) > 0 && len(hidden) > 0 {
			return domain.InvalidParam("to", "report %d is not sent again to %s: %s (%s) may no longer see %s, which the archived message shows; make a new report for them (it shows what their roles allow now)",
				r.ID, m.To, m.To, aud[0].grants, strings.Join(hidden, ", "))
		}
	}
	return nil
}

// BoardRun is what a board pack run produced.
type BoardRun struct {
	Report  Report
	Created bool
	Board   *Board
}

// MakeBoard builds the board pack for month (its first day), archives it
// (under slot when not zero) with one e-mail per board recipient
// (Settings.BoardTo), and sends them when send is set. The pack shows every
// metric, so each recipient's grants must cover every one of them: one
// that does not is an error and nothing is archived or sent.
func (s *Service) MakeBoard(ctx context.Context, month, slot time.Time, send bool, by string) (BoardRun, error) {
	if send && s.Mail == nil {
		return BoardRun{}, errNoMail
	}
	var aud []audience
	if send {
		var err error
		if len(s.Settings.BoardTo) == 0 {
			return BoardRun{}, domain.InvalidParam("reports.board.to", "no board recipient configured")
		}
		if aud, err = s.audiences(ctx, s.Settings.BoardTo); err != nil {
			return BoardRun{}, err
		}
	}
	notes, err := s.annotations(ctx)
	if err != nil {
		return BoardRun{}, err
	}
	// The sources before the engine's read, so the settings it reads are
	// the ones they name (scorecard.SettingSource.Name).
	var source scorecard.SettingSource
	if s.SettingSource != nil {
		if source, err = s.SettingSource(ctx); err != nil {
			return BoardRun{}, err
		}
	}
	now := s.now()
	var b *Board
	err = s.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		b = BuildBoard(s.Catalog, ds, month, nil, notes, s.currency(ds, month.AddDate(0, 1, 0)), now)
		return nil
	})
	if err != nil {
		return BoardRun{}, err
	}
	source.Name(b.Settings, b.AsOf)
	pdf, err := b.PDF()
	if err != nil {
		return BoardRun{}, fmt.Errorf("rendering the board pack: %w", err)
	}
	rep := Report{Kind: KindBoard, AsOf: b.AsOf, Month: month.Format("2006-01"), Slot: slot, By: by, CreatedAt: now.UTC(), Definitions: b.Definitions, PDF: pdf}
	for _, a := range aud {
		for _, d := range b.Definitions {
			if m, ok := s.Catalog.At(b.AsOf).Metric(d.Metric); ok && !a.access.CanSeeMetric(m) {
				return BoardRun{}, domain.InvalidParam("reports.board.to", "%s (%s) may not see %s: the board pack shows every metric, so it goes only to recipients who may see them all", a.to, a.grants, d.Metric)
			}
		}
		msg, err := BoardMessage(b, pdf, s.From, a.to, now)
		if err != nil {
			return BoardRun{}, err
		}
		eml, err := EML(msg)
		if err != nil {
			return BoardRun{}, err
		}
		m := Message{To: a.to, Grants: a.grants, EML: eml}
		for _, d := range b.Definitions {
			m.Metrics = append(m.Metrics, d.Metric)
		}
		rep.Messages = append(rep.Messages, m)
	}
	run := BoardRun{Board: b}
	run.Report, run.Created, err = Save(ctx, s.Docs, &rep)
	if err != nil || !run.Created || !send {
		return run, err
	}
	return run, deliver(ctx, s.Docs, s.Mail, run.Report, run.Report.Messages, false, by, s.now())
}

// currency labels the money a report computes from ds as of t: the
// currency of the settings ds computes under then (an approved
// proposal's, not the configuration file's, which a long-running server
// read at start) — read from the data in hand, so a change approved
// during the report cannot label its values.
func (s *Service) currency(ds *metrics.Dataset, t time.Time) string {
	if c := ds.At(t).Config().Currency; c != "" {
		return c
	}
	return s.Currency
}

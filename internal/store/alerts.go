package store

import (
	"context"
	"time"
)

// Notification states (package alert): a notification is stored pending
// before anything is sent, and only a successful send marks it sent, so a
// restart resumes what was not sent and never repeats what was.
const (
	NotificationPending = "pending"
	NotificationSent    = "sent"
	NotificationFailed  = "failed"
)

// AlertRow is one alert as the store keeps it. Body is package alert's
// JSON; the acknowledgement is kept in its own columns so an evaluation
// that read the alert before someone acknowledged it does not erase the
// acknowledgement, while a new episode (another ActiveAt) clears it.
type AlertRow struct {
	Key      string
	State    string
	ActiveAt time.Time
	Body     []byte
	AckedBy  string
	AckedAt  time.Time
	AckNote  string
}

// Notification is one message to one channel about one alert group.
type Notification struct {
	ID int64
	// Key is unique: storing a notification with a key already stored
	// stores nothing, so two instances that both evaluate queue it once.
	Key, Group, Channel string
	Body                []byte
	State               string
	Attempts            int
	NextAt, CreatedAt   time.Time
	SentAt              time.Time // zero until sent
	LastError           string
	// Withheld names the recipients the last attempt left out and why
	// ("bob@example.com (disabled); …"): the recipients are decided again
	// at each attempt, within the grants of its time.
	Withheld string
}

// Silence mutes the alerts it matches (empty fields match anything) from
// StartsAt to EndsAt; it carries its reason and author. The API answers
// with it, in the snake_case of every other object (and of the ledger's
// alert_silence entries).
type Silence struct {
	ID        int64     `json:"id"`
	Rule      string    `json:"rule"`
	Metric    string    `json:"metric"`
	Scope     string    `json:"scope"`
	Reason    string    `json:"reason"`
	Author    string    `json:"author"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedAt time.Time `json:"created_at"`
}

// SilenceEntry makes the ledger entry of a silence as a store wrote it.
type SilenceEntry func(Silence) (LedgerEntry, error)

// Entries is the ledger entries of x as written: none for a nil e.
func (e SilenceEntry) Entries(x Silence) ([]LedgerEntry, error) {
	if e == nil {
		return nil, nil
	}
	entry, err := e(x)
	if err != nil {
		return nil, err
	}
	return []LedgerEntry{entry}, nil
}

// AlertStore keeps alerts, silences and the notification outbox.
type AlertStore interface {
	// Alerts returns every alert, by key.
	Alerts(ctx context.Context) ([]AlertRow, error)
	// SaveAlerts upserts put, deletes drop and stores notes in one
	// transaction; it returns the notes stored (with their IDs), leaving
	// out those whose key was stored before.
	SaveAlerts(ctx context.Context, put []AlertRow, drop []string, notes []Notification) ([]Notification, error)
	// AckAlert acknowledges a pending or firing alert not acknowledged
	// yet; ErrNotFound when no such alert is pending or firing, or it is
	// acknowledged already (the first acknowledgement is never
	// overwritten). entry, when not nil, is appended to
	// the audit ledger in the same transaction: the acknowledgement is
	// never kept without it, nor it without the acknowledgement.
	AckAlert(ctx context.Context, key, by, note string, at time.Time, entry *LedgerEntry) error
	// AddSilence stores s (its ID is ignored) and returns it with its ID.
	// entry, when not nil, makes the silence's ledger entry from it as
	// stored (its ID is known only then), appended in the same
	// transaction; an error from it keeps nothing.
	AddSilence(ctx context.Context, s Silence, entry SilenceEntry) (Silence, error)
	// Silences returns every silence, oldest first.
	Silences(ctx context.Context) ([]Silence, error)
	// EndSilence ends the silence id at at, and returns it so ended;
	// ErrNotFound when no such silence is in force at at (none, or it
	// ended already), so that two ends of one silence end it once. entry
	// is as for AddSilence, given the silence as ended.
	EndSilence(ctx context.Context, id int64, at time.Time, entry SilenceEntry) (Silence, error)
	// Notifications returns the latest limit notifications, newest first.
	Notifications(ctx context.Context, limit int) ([]Notification, error)
	// DueNotifications returns pending notifications with NextAt at or
	// before now, oldest first, claimed or not: two processes may both
	// read one due, and ClaimNotification decides which sends it (a
	// process holds one claim at a time, so those under a live claim are
	// few and crowd out nothing).
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// ClaimNotification claims n's attempt for this caller until until,
	// in one conditional write, and reports whether it got it. It gets it
	// only while n's row is as DueNotifications returned it — pending, at
	// n.Attempts and n.NextAt, so an attempt another process made since
	// is not claimed again — and no claim on it is live at now (none, or
	// one whose until is at or before now: its process died holding it).
	// UpdateNotification ends the claim.
	ClaimNotification(ctx context.Context, n Notification, now, until time.Time) (bool, error)
	// UpdateNotification records a send attempt: n's State, Attempts,
	// NextAt, SentAt, LastError and Withheld, and ends any claim on it;
	// ErrNotFound for no such id.
	UpdateNotification(ctx context.Context, n Notification) error
}

// AlertColumns, NotificationColumns and SilenceColumns select rows in
// ScanAlert's, ScanNotification's and ScanSilence's order.
const (
	AlertColumns        = `key, state, active_at, body, acked_by, acked_at, ack_note`
	NotificationColumns = `id, key, group_name, channel, body, state, attempts, next_at, created_at, sent_at, last_error, withheld`
	SilenceColumns      = `id, rule, metric, scope, reason, author, starts_at, ends_at, created_at`
)

// ScanAlert reads AlertColumns.
func ScanAlert(r RowScanner) (AlertRow, error) {
	var a AlertRow
	var active int64
	var acked *int64
	err := r.Scan(&a.Key, &a.State, &active, &a.Body, &a.AckedBy, &acked, &a.AckNote)
	a.ActiveAt, a.AckedAt = time.Unix(0, active).UTC(), TimeOrZero(acked)
	return a, err
}

// ScanNotification reads NotificationColumns.
func ScanNotification(r RowScanner) (Notification, error) {
	var n Notification
	var next, created int64
	var sent *int64
	err := r.Scan(&n.ID, &n.Key, &n.Group, &n.Channel, &n.Body, &n.State, &n.Attempts, &next, &created, &sent, &n.LastError, &n.Withheld)
	n.NextAt, n.CreatedAt, n.SentAt = time.Unix(0, next).UTC(), time.Unix(0, created).UTC(), TimeOrZero(sent)
	return n, err
}

// ScanSilence reads SilenceColumns.
func ScanSilence(r RowScanner) (Silence, error) {
	var s Silence
	var starts, ends, created int64
	err := r.Scan(&s.ID, &s.Rule, &s.Metric, &s.Scope, &s.Reason, &s.Author, &starts, &ends, &created)
	s.StartsAt, s.EndsAt, s.CreatedAt = time.Unix(0, starts).UTC(), time.Unix(0, ends).UTC(), time.Unix(0, created).UTC()
	return s, err
}

// SQL shared by both stores; %s are the dialect's placeholders in order.
const (
	// UpsertAlertSQL keeps the acknowledgement while the episode
	// (active_at) is the same one.
	UpsertAlertSQL = `INSERT INTO alerts (key, state, active_at, body) VALUES (%s, %s, %s, %s)
		ON CONFLICT (key) DO UPDATE SET state = excluded.state, body = excluded.body, active_at = excluded.active_at,
		acked_by = CASE WHEN alerts.active_at = excluded.active_at THEN alerts.acked_by ELSE '' END,
		acked_at = CASE WHEN alerts.active_at = excluded.active_at THEN alerts.acked_at ELSE NULL END,
		ack_note = CASE WHEN alerts.active_at = excluded.active_at THEN alerts.ack_note ELSE '' END`
	InsertNotificationSQL = `INSERT INTO notifications (key, group_name, channel, body, state, attempts, next_at, created_at, last_error)
		VALUES (%s, %s, %s, %s, %s, 0, %s, %s, '') ON CONFLICT (key) DO NOTHING RETURNING id`
	AckAlertSQL           = `UPDATE alerts SET acked_by = %s, acked_at = %s, ack_note = %s WHERE key = %s AND state IN ('pending', 'firing') AND acked_by = ''`
	InsertSilenceSQL      = `INSERT INTO alert_silences (rule, metric, scope, reason, author, starts_at, ends_at, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id`
	EndSilenceSQL         = `UPDATE alert_silences SET ends_at = %s WHERE id = %s AND ends_at > %s RETURNING ` + SilenceColumns
	UpdateNotificationSQL = `UPDATE notifications SET state = %s, attempts = %s, next_at = %s, sent_at = %s, last_error = %s, withheld = %s,
		claimed_until = NULL WHERE id = %s`
	// ClaimNotificationSQL is one statement, so that of two claimers the
	// second finds the first's claim (SQLite's write lock; PostgreSQL
	// evaluates the WHERE again on the row the first committed). Its
	// placeholders: until, id, pending, attempts, next_at, now.
	ClaimNotificationSQL = `UPDATE notifications SET claimed_until = %s
		WHERE id = %s AND state = %s AND attempts = %s AND next_at = %s AND (claimed_until IS NULL OR claimed_until <= %s)`
)

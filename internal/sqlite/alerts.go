package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/candor/candor/internal/store"
)

var _ store.AlertStore = (*DB)(nil)

func (s *DB) Alerts(ctx context.Context) ([]store.AlertRow, error) {
	rows, err := s.query(ctx, `SELECT `+store.AlertColumns+` FROM alerts ORDER BY key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanAlert)
}

func (s *DB) SaveAlerts(ctx context.Context, put []store.AlertRow, drop []string, notes []store.Notification) ([]store.Notification, error) {
	var stored []store.Notification
	err := s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		stored = stored[:0]
		for _, a := range put {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(store.UpsertAlertSQL, "?", "?", "?", "?"), a.Key, a.State, a.ActiveAt.UnixNano(), a.Body); err != nil {
				return err
			}
		}
		for _, k := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM alerts WHERE key = ?`, k); err != nil {
				return err
			}
		}
		for _, n := range notes {
			err := tx.QueryRowContext(ctx, fmt.Sprintf(store.InsertNotificationSQL, "?", "?", "?", "?", "?", "?", "?"),
				n.Key, n.Group, n.Channel, n.Body, store.NotificationPending, n.NextAt.UnixNano(), n.CreatedAt.UnixNano()).Scan(&n.ID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			n.State = store.NotificationPending
			stored = append(stored, n)
		}
		return nil
	})
	return stored, err
}

func (s *DB) AckAlert(ctx context.Context, key, by, note string, at time.Time, entry *store.LedgerEntry) error {
	return s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, fmt.Sprintf(store.AckAlertSQL, "?", "?", "?", "?"), by, at.UnixNano(), note, key)
		if err := mustAffect(r, err, fmt.Sprintf("no pending or firing alert %q", key)); err != nil || entry == nil {
			return err
		}
		_, err = s.appendLedgerTx(ctx, tx, []store.LedgerEntry{*entry})
		return err
	})
}

func (s *DB) AddSilence(ctx context.Context, x store.Silence, entry store.SilenceEntry) (store.Silence, error) {
	err := s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, fmt.Sprintf(store.InsertSilenceSQL, "?", "?", "?", "?", "?", "?", "?", "?"),
			x.Rule, x.Metric, x.Scope, x.Reason, x.Author, x.StartsAt.UnixNano(), x.EndsAt.UnixNano(), x.CreatedAt.UnixNano()).Scan(&x.ID); err != nil {
			return err
		}
		return s.silenceLedgerTx(ctx, tx, x, entry)
	})
	return x, err
}

func (s *DB) EndSilence(ctx context.Context, id int64, at time.Time, entry store.SilenceEntry) (x store.Silence, err error) {
	err = s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		x, err = store.ScanSilence(tx.QueryRowContext(ctx, fmt.Sprintf(store.EndSilenceSQL, "?", "?", "?"), at.UnixNano(), id, at.UnixNano()))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("no silence #%d in force: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return s.silenceLedgerTx(ctx, tx, x, entry)
	})
	return x, err
}

// silenceLedgerTx appends the ledger entry of the silence x, just written
// in tx, if entry makes one.
func (s *DB) silenceLedgerTx(ctx context.Context, tx *sql.Tx, x store.Silence, entry store.SilenceEntry) error {
	entries, err := entry.Entries(x)
	if err == nil {
		_, err = s.appendLedgerTx(ctx, tx, entries)
	}
	return err
}

func (s *DB) Silences(ctx context.Context) ([]store.Silence, error) {
	rows, err := s.query(ctx, `SELECT `+store.SilenceColumns+` FROM alert_silences ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanSilence)
}

func (s *DB) Notifications(ctx context.Context, limit int) ([]store.Notification, error) {
	rows, err := s.query(ctx, `SELECT `+store.NotificationColumns+` FROM notifications ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanNotification)
}

func (s *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]store.Notification, error) {
	rows, err := s.query(ctx, `SELECT `+store.NotificationColumns+` FROM notifications WHERE state = ? AND next_at <= ? ORDER BY id LIMIT ?`,
		store.NotificationPending, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanNotification)
}

func (s *DB) ClaimNotification(ctx context.Context, n store.Notification, now, until time.Time) (bool, error) {
	var got int64
	err := s.write(ctx, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, fmt.Sprintf(store.ClaimNotificationSQL, "?", "?", "?", "?", "?", "?"),
			until.UnixNano(), n.ID, store.NotificationPending, n.Attempts, n.NextAt.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		got, err = r.RowsAffected()
		return err
	})
	return got == 1, err
}

func (s *DB) UpdateNotification(ctx context.Context, n store.Notification) error {
	return s.writeAuth(ctx, nil, func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, fmt.Sprintf(store.UpdateNotificationSQL, "?", "?", "?", "?", "?", "?", "?"),
			n.State, n.Attempts, n.NextAt.UnixNano(), store.NanosOrNil(n.SentAt), n.LastError, n.Withheld, n.ID)
		return mustAffect(r, err, fmt.Sprintf("no notification %d", n.ID))
	})
}

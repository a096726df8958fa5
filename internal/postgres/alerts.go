package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/store"
)

var _ store.AlertStore = (*DB)(nil)

func (s *DB) Alerts(ctx context.Context) ([]store.AlertRow, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.AlertColumns+` FROM alerts ORDER BY key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanAlert)
}

func (s *DB) SaveAlerts(ctx context.Context, put []store.AlertRow, drop []string, notes []store.Notification) ([]store.Notification, error) {
	var stored []store.Notification
	err := s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		stored = stored[:0]
		for _, a := range put {
			if _, err := tx.Exec(ctx, fmt.Sprintf(store.UpsertAlertSQL, "$1", "$2", "$3", "$4"), a.Key, a.State, a.ActiveAt.UnixNano(), a.Body); err != nil {
				return err
			}
		}
		for _, k := range drop {
			if _, err := tx.Exec(ctx, `DELETE FROM alerts WHERE key = $1`, k); err != nil {
				return err
			}
		}
		for _, n := range notes {
			err := tx.QueryRow(ctx, fmt.Sprintf(store.InsertNotificationSQL, "$1", "$2", "$3", "$4", "$5", "$6", "$7"),
				n.Key, n.Group, n.Channel, n.Body, store.NotificationPending, n.NextAt.UnixNano(), n.CreatedAt.UnixNano()).Scan(&n.ID)
			if errors.Is(err, pgx.ErrNoRows) {
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
	return s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, fmt.Sprintf(store.AckAlertSQL, "$1", "$2", "$3", "$4"), by, at.UnixNano(), note, key)
		if err := mustAffect(tag, err, fmt.Sprintf("no pending or firing alert %q", key)); err != nil || entry == nil {
			return err
		}
		_, err = s.appendLedgerTx(ctx, tx, []store.LedgerEntry{*entry})
		return err
	})
}

func (s *DB) AddSilence(ctx context.Context, x store.Silence, entry store.SilenceEntry) (store.Silence, error) {
	err := s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, fmt.Sprintf(store.InsertSilenceSQL, "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8"),
			x.Rule, x.Metric, x.Scope, x.Reason, x.Author, x.StartsAt.UnixNano(), x.EndsAt.UnixNano(), x.CreatedAt.UnixNano()).Scan(&x.ID); err != nil {
			return err
		}
		return s.silenceLedgerTx(ctx, tx, x, entry)
	})
	return x, err
}

func (s *DB) EndSilence(ctx context.Context, id int64, at time.Time, entry store.SilenceEntry) (x store.Silence, err error) {
	err = s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		x, err = store.ScanSilence(tx.QueryRow(ctx, fmt.Sprintf(store.EndSilenceSQL, "$1", "$2", "$3"), at.UnixNano(), id, at.UnixNano()))
		if errors.Is(err, pgx.ErrNoRows) {
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
func (s *DB) silenceLedgerTx(ctx context.Context, tx pgx.Tx, x store.Silence, entry store.SilenceEntry) error {
	entries, err := entry.Entries(x)
	if err == nil {
		_, err = s.appendLedgerTx(ctx, tx, entries)
	}
	return err
}

func (s *DB) Silences(ctx context.Context) ([]store.Silence, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.SilenceColumns+` FROM alert_silences ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanSilence)
}

func (s *DB) Notifications(ctx context.Context, limit int) ([]store.Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.NotificationColumns+` FROM notifications ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanNotification)
}

func (s *DB) DueNotifications(ctx context.Context, now time.Time, limit int) ([]store.Notification, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+store.NotificationColumns+` FROM notifications WHERE state = $1 AND next_at <= $2 ORDER BY id LIMIT $3`,
		store.NotificationPending, now.UnixNano(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return store.CollectRows(rows, store.ScanNotification)
}

func (s *DB) ClaimNotification(ctx context.Context, n store.Notification, now, until time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, fmt.Sprintf(store.ClaimNotificationSQL, "$1", "$2", "$3", "$4", "$5", "$6"),
		until.UnixNano(), n.ID, store.NotificationPending, n.Attempts, n.NextAt.UnixNano(), now.UnixNano())
	return err == nil && tag.RowsAffected() == 1, err
}

func (s *DB) UpdateNotification(ctx context.Context, n store.Notification) error {
	return s.writeAuth(ctx, nil, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, fmt.Sprintf(store.UpdateNotificationSQL, "$1", "$2", "$3", "$4", "$5", "$6", "$7"),
			n.State, n.Attempts, n.NextAt.UnixNano(), store.NanosOrNil(n.SentAt), n.LastError, n.Withheld, n.ID)
		return mustAffect(tag, err, fmt.Sprintf("no notification %d", n.ID))
	})
}

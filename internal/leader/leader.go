// Package leader elects, among the Candor instances sharing one store, the
// one that runs scheduled work (KPI snapshots, …), so that work runs once
// however many instances serve the API behind a load balancer, and moves to
// another instance when the leader dies.
//
// Leadership is a lock held for as long as the instance leads: a
// PostgreSQL session-level advisory lock on one dedicated connection
// (postgres.DB.TryLeaderLock), released by the server when that connection
// or the process dies; or, for the embedded SQLite store, an exclusive
// flock on leader.lock in the data directory (FileLock), released by the
// kernel when the process dies.
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// DefaultRetry is how often an instance that does not lead tries again.
const DefaultRetry = 5 * time.Second

// Held is a leadership lock this instance holds.
type Held interface {
	// Check returns an error once the lock may have been lost (its
	// connection died): the holder must stop leading at once.
	Check(ctx context.Context) error
	// Release gives the lock up. It is called once, after the work done
	// under it has stopped.
	Release() error
}

// Locker tries to take the leadership lock.
type Locker interface {
	// TryLock returns the held lock, or nil and no error when another
	// instance holds it. It does not wait.
	TryLock(ctx context.Context) (Held, error)
}

// LockFunc adapts a function to Locker.
type LockFunc func(ctx context.Context) (Held, error)

// TryLock calls f.
func (f LockFunc) TryLock(ctx context.Context) (Held, error) { return f(ctx) }

// Elector runs work while this instance leads.
type Elector struct {
	Locker Locker
	// Retry is how often a follower tries to take the lock (DefaultRetry
	// when zero).
	Retry time.Duration
	// Check is how often the leader checks it still holds the lock
	// (Retry when zero).
	Check time.Duration
	// Log receives "leadership acquired" and "leadership lost" (discarded
	// when nil).
	Log *slog.Logger
}

// Run leads whenever it can until ctx ends, then returns nil. While it
// leads it runs onLead with a context cancelled when leadership is lost or
// ctx ends; the lock is released only after onLead has returned. If onLead
// returns on its own, leadership is released too and taken again (by this
// instance or another) at a later retry. Errors taking or checking the lock
// are logged and retried, never returned.
//
// A lock can be lost before its holder notices: when the PostgreSQL
// connection breaks, the server frees the lock at once but the old leader
// only stops at its next Check. Another instance may lead in that window
// (at most Check long), so work done under onLead must tolerate a rare
// overlap with its predecessor, as the KPI snapshot job does by storing
// each slot under a unique document key (store.AppendDocOnce).
func (e *Elector) Run(ctx context.Context, onLead func(ctx context.Context)) error {
	if e.Locker == nil {
		return errors.New("leader: no Locker")
	}
	retry := e.Retry
	if retry <= 0 {
		retry = DefaultRetry
	}
	check := e.Check
	if check <= 0 {
		check = retry
	}
	log := e.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		h, err := e.Locker.TryLock(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("leadership: trying the lock failed", "err", err)
		case h != nil:
			log.Info("leadership acquired")
			reason := lead(ctx, h, onLead, check)
			log.Info("leadership lost", "reason", reason)
		}
		t.Reset(retry)
	}
}

// lead runs onLead under h until ctx ends, h's check fails or onLead
// returns, then stops onLead, releases h and says why it stopped.
func lead(ctx context.Context, h Held, onLead func(context.Context), check time.Duration) string {
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		onLead(lctx)
	}()
	tick := time.NewTicker(check)
	defer tick.Stop()
	var reason string
loop:
	for {
		select {
		case <-ctx.Done():
			reason = "shutting down"
			break loop
		case <-done:
			reason = "work returned"
			break loop
		case <-tick.C:
			cctx, ccancel := context.WithTimeout(ctx, max(check, time.Second))
			err := h.Check(cctx)
			ccancel()
			if err != nil {
				if ctx.Err() != nil {
					reason = "shutting down"
				} else {
					reason = fmt.Sprintf("lock check failed: %v", err)
				}
				break loop
			}
		}
	}
	cancel()
	<-done
	if err := h.Release(); err != nil && reason != "shutting down" {
		reason += fmt.Sprintf("; release: %v", err)
	}
	return reason
}

// FileLock is the Locker of the embedded store: an exclusive, non-blocking
// flock on leader.lock in the data directory. One process owns an embedded
// store in the normal deployment, so it always leads; the lock only matters
// when two processes are pointed at one data directory (a second `candor
// serve` started by mistake, a rolling restart), where it makes exactly one
// of them run scheduled work. The kernel drops the lock when the process
// dies, and the other takes over at its next retry. flock locks belong to
// an open file, so two FileLocks in one process exclude each other too.
func FileLock(dir string) Locker {
	return LockFunc(func(ctx context.Context) (Held, error) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(filepath.Join(dir, "leader.lock"), os.O_RDWR|os.O_CREATE, 0o640)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, nil
			}
			return nil, fmt.Errorf("leader: flock %s: %w", f.Name(), err)
		}
		return fileHeld{f}, nil
	})
}

type fileHeld struct{ f *os.File }

// Check always succeeds: a flock cannot be taken away from its holder.
func (fileHeld) Check(context.Context) error { return nil }

// Release closes the file, which drops the lock.
func (h fileHeld) Release() error { return h.f.Close() }

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	sqlitedrv "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DamagedError is the store's file found damaged by SQLite (a malformed
// page, a page that is not the database's). SQLite's own message names
// neither the file nor what to do, and a damaged page is found only when a
// statement reads it: a store can open and serve its reads while every
// write touching an index page fails.
type DamagedError struct {
	Path string
	Err  error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("the store %s is damaged (%v): check it with sqlite3 %s 'PRAGMA integrity_check', and restore it from a backup (docs/backups.md)", e.Path, e.Err, e.Path)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// corrupt reports whether err is SQLite finding the file damaged: the
// primary codes SQLITE_CORRUPT and SQLITE_NOTADB, whatever the extended
// code says of where.
func corrupt(err error) bool {
	switch primaryCode(err) {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// primaryCode is the primary SQLite result code err carries, 0 for an
// error that is not SQLite's.
func primaryCode(err error) int {
	var se *sqlitedrv.Error
	if !errors.As(err, &se) {
		return 0
	}
	return se.Code() & 0xff
}

// ReadOnlyError is a write the store's file or directory refused: SQLite
// says only "attempt to write a readonly database", naming neither the file
// nor what to check. Nothing is kept: permissions mend without a restart.
type ReadOnlyError struct {
	Dir string
	Err error
}

func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("the store %s cannot be written (%v): this account (uid %d) may not write %s or the files in it (candor.db, candor.db-wal, candor.db-shm), or its file system is read-only: check their owner and permissions (ls -l %s)",
		filepath.Join(e.Dir, "candor.db"), e.Err, os.Getuid(), e.Dir, e.Dir)
}

func (e *ReadOnlyError) Unwrap() error { return e.Err }

// FullError is a write the store's file system had no room for: SQLite
// says only "database or disk is full", naming neither the file nor where
// the room ran out. The transaction it failed in is rolled back whole, and
// space freed mends it without a restart.
type FullError struct {
	Dir string
	Err error
}

func (e *FullError) Error() string {
	return fmt.Sprintf("the store %s has no room (%v): the file system holding %s is full, and nothing of what failed was kept: free space there (df -h %s) and try again",
		filepath.Join(e.Dir, "candor.db"), e.Err, e.Dir, e.Dir)
}

func (e *FullError) Unwrap() error { return e.Err }

// LockedError is a write that waited out busy_timeout for the store's
// write lock: SQLite says only "database is locked", naming neither the
// file nor who holds it. Nothing of the write was kept.
type LockedError struct {
	Dir string
	Err error
}

func (e *LockedError) Error() string {
	path := filepath.Join(e.Dir, "candor.db")
	return fmt.Sprintf("the store %s is locked (%v): another process held its write lock for %s, such as an sqlite3 session with a transaction open on it or a long candor import (fuser %s shows which); let it finish or end it, and write again",
		path, e.Err, busyTimeout, path)
}

func (e *LockedError) Unwrap() error { return e.Err }

// checked returns err, as a *DamagedError when SQLite found the file
// damaged, a *ReadOnlyError when it may not write it, a *FullError when
// its file system has no room left, a *LockedError when another process
// kept the write lock. The first damage is kept (Damaged): the file does
// not mend itself, so a store once found damaged stays so until it is
// replaced and the process started again.
func (s *DB) checked(err error) error {
	if full(s.dir, err) {
		fe := &FullError{Dir: s.dir, Err: err}
		if !errors.As(err, &fe) {
			err = fe
		}
		s.noRoom.Store(fe)
		return err
	}
	switch primaryCode(err) {
	case sqlite3.SQLITE_READONLY:
		return named(err, &ReadOnlyError{Dir: s.dir, Err: err})
	case sqlite3.SQLITE_BUSY:
		return named(err, &LockedError{Dir: s.dir, Err: err})
	}
	if err == nil || !corrupt(err) {
		return err
	}
	if de := (*DamagedError)(nil); errors.As(err, &de) {
		return err
	}
	de := &DamagedError{Path: filepath.Join(s.dir, "candor.db"), Err: err}
	s.damage.CompareAndSwap(nil, de)
	return de
}

// full reports whether err is the file system holding the store in dir
// being full: SQLITE_FULL, or an I/O error while it has (almost) no room
// left for this account — the -shm file WAL needs, made at the first
// connection after every process had closed the store (a restart), cannot
// be made then, and SQLite says only "disk I/O error (4874)".
func full(dir string, err error) bool {
	switch primaryCode(err) {
	case sqlite3.SQLITE_FULL:
		return true
	case sqlite3.SQLITE_IOERR:
		var st syscall.Statfs_t
		return syscall.Statfs(dir, &st) == nil && st.Bavail*uint64(st.Bsize) < 1<<20
	}
	return false
}

// named returns err as it is when it names the store already (an error
// checked twice on its way up), else as ne.
func named[E error](err error, ne E) error {
	var already E
	if errors.As(err, &already) {
		return err
	}
	return ne
}

// committed is checked for a write's outcome: one that committed says
// the file system has room again.
func (s *DB) committed(err error) error {
	if err == nil {
		s.noRoom.Store(nil)
		return nil
	}
	return s.checked(err)
}

// Full returns the last error that found the store's file system full,
// nil once a write has committed since (or while none has): what a health
// check reports while reads go on and every write fails.
func (s *DB) Full() error {
	if fe := s.noRoom.Load(); fe != nil {
		return fe
	}
	return nil
}

// Damaged returns the first error that found the store's file damaged
// since it was opened, nil while none has: what a health check reports
// without reading the whole file (PRAGMA integrity_check takes as long as
// reading every page).
func (s *DB) Damaged() error {
	if de := s.damage.Load(); de != nil {
		return de
	}
	return nil
}

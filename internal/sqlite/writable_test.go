package sqlite

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A data directory this process may not write is named with the user and
// what to do, whether the directory or its candor.db refuses, or the mount
// is read-only: SQLite had said only "attempt to write a readonly database
// (1544)", even to a command that only reads. Other errors pass unchanged.
// (The tests run as root in CI, where permissions do not refuse, so the
// wording is checked on the errors the probe meets.)
func TestNotWritableNamesTheDirectory(t *testing.T) {
	for _, err := range []error{
		&fs.PathError{Op: "open", Path: "data/.candor-probe-1", Err: syscall.EACCES},
		&fs.PathError{Op: "open", Path: "data/candor.db", Err: syscall.EPERM},
		&fs.PathError{Op: "open", Path: "data/.candor-probe-1", Err: syscall.EROFS},
	} {
		got := notWritable("data", err).Error()
		for _, want := range []string{"data directory data: not writable by this user", "even to read the store", "give the user write access", err.Error()} {
			if !strings.Contains(got, want) {
				t.Errorf("%v: %q lacks %q", err, got, want)
			}
		}
	}
	other := &fs.PathError{Op: "open", Path: "data/candor.db", Err: syscall.EISDIR}
	if got := notWritable("data", other); !errors.Is(got, syscall.EISDIR) || strings.Contains(got.Error(), "not writable") {
		t.Errorf("another error became %v", got)
	}
	// A writable directory, with or without its store, passes the probe
	// and leaves nothing behind.
	dir := t.TempDir()
	if err := probeWritable(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "candor.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := probeWritable(dir); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".candor-probe-*")); len(left) != 0 {
		t.Errorf("the probe left %v", left)
	}
}

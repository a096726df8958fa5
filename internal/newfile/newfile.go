// Package newfile makes files that appear whole or not at all: a key a
// store cannot be read without (the ledger's signing key, the pseudonym
// key), the embedded database itself. Each is finished and synced under a
// temporary name in its directory and then linked into place, so a
// process killed or out of room part way leaves no file under the name —
// a file made there and then written, left empty, stopped every later
// start — and a power loss does not take what was linked. An existing
// file is never replaced: it may be the one its data depends on.
package newfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Write writes data to a new file path with mode perm. When path exists
// the error is fs.ErrExist, and the file there is left as it is: of
// processes writing one path at once, one file is kept and the others
// are told it exists.
func Write(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+"*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err = f.Chmod(perm); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return Link(f.Name(), path)
}

// TempPrefix starts the names of path's temporary files: hidden, in its
// directory, and told from path's own.
func TempPrefix(path string) string {
	return "." + filepath.Base(path) + ".new-"
}

// IsTemp reports whether name, a base name, is one of path's temporary
// files: what a process killed before Link leaves, which no one else
// reads.
func IsTemp(path, name string) bool {
	return strings.HasPrefix(name, TempPrefix(path))
}

// Link puts the finished, synced file tmp in place at path, in the same
// directory, unless path exists (fs.ErrExist, as Write), and syncs the
// directory, which makes the new name durable. tmp is left for the caller
// to remove.
func Link(tmp, path string) error {
	if err := link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		// A file system without hard links (some network and FUSE mounts,
		// vfat) refuses every link, where the file used to be made in
		// place: renamed instead, which replaces a file made under path in
		// the instant since the check, where a link never replaces one.
		if _, serr := os.Lstat(path); serr == nil {
			return &fs.PathError{Op: "link", Path: path, Err: fs.ErrExist}
		}
		if rerr := os.Rename(tmp, path); rerr != nil {
			return err
		}
	}
	// Linked, the file is in place whatever the directory's sync says: a
	// failure here would tell the caller to retry a path that now exists.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// link is os.Link; tests stand in a file system without hard links.
var link = os.Link

package newfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Write makes the file whole with its mode, refuses to replace one that
// exists, leaving it as it was, and leaves no temporary file either way —
// also on a file system without hard links (some network and FUSE
// mounts), where it renames: with links alone a store or key could not be
// made there at all.
func TestWrite(t *testing.T) {
	noLinks := func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: errors.ErrUnsupported}
	}
	defer func(l func(string, string) error) { link = l }(link)
	for name, l := range map[string]func(string, string) error{"hard links": os.Link, "no hard links": noLinks} {
		link = l
		dir := t.TempDir()
		path := filepath.Join(dir, "k")
		if err := Write(path, []byte("one\n"), 0o600); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := Write(path, []byte("two\n"), 0o600); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("%s: a second Write: %v, want fs.ErrExist", name, err)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != "one\n" {
			t.Fatalf("%s: %s holds %q, %v; want the first write", name, path, b, err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: mode %v, %v; want 0600", name, fi.Mode(), err)
		}
		if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
			t.Fatalf("%s: the directory holds %v, %v; want k alone", name, ents, err)
		}
	}
	path := "/d/k"
	if !IsTemp(path, TempPrefix(path)+"123") || IsTemp(path, "k") || IsTemp(path, ".k-wal") {
		t.Error("IsTemp tells path's temporary files from others wrongly")
	}
}

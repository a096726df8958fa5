package newfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Write makes the file whole with its mode, refuses to replace one that
// exists, leaving it as it was, and leaves no temporary file either way.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	if err := Write(path, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("two\n"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a second Write: %v, want fs.ErrExist", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "one\n" {
		t.Fatalf("%s holds %q, %v; want the first write", path, b, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode(), err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 1 {
		t.Fatalf("the directory holds %v, %v; want k alone", ents, err)
	}
	if !IsTemp(path, TempPrefix(path)+"123") || IsTemp(path, "k") || IsTemp(path, ".k-wal") {
		t.Error("IsTemp tells path's temporary files from others wrongly")
	}
}

// On a file system without hard links (some network and FUSE mounts), the
// file is still made, by renaming, and an existing one is still not
// replaced: with links alone a store or key could not be made there at all.
func TestWriteWithoutHardLinks(t *testing.T) {
	defer func(l func(string, string) error) { link = l }(link)
	link = func(oldname, newname string) error {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: errors.ErrUnsupported}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "k")
	if err := Write(path, []byte("one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, []byte("two\n"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a second Write: %v, want fs.ErrExist", err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "one\n" {
		t.Fatalf("%s holds %q, %v; want the first write", path, b, err)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 1 {
		t.Fatalf("the directory holds %v, %v; want k alone", ents, err)
	}
}

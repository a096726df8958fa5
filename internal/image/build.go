package image

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"io"
	"os"
	"runtime/debug"
	"sync"
)

// Build names the Candor build for an image's header: the module version,
// the VCS revision and whether the tree was modified when the binary
// carries them, and the executable's Go build ID. The build ID is what
// tells builds apart: a binary built from a release archive, in a
// container without .git or with -buildvcs=false is "(devel)" with no
// revision whatever its source, and a modified tree is the same revision
// whatever the changes, so without it the next version took the image and
// state an older one wrote — memos and links derived under the older
// code — for its own. It is a hash of every input of the link, so a
// rebuild of the same source keeps the images usable.
func Build() string {
	buildOnce.Do(func() {
		build = "(unknown)"
		if info, ok := debug.ReadBuildInfo(); ok {
			build = info.Main.Version
			for _, s := range info.Settings {
				if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
					build += " " + s.Key + "=" + s.Value
				}
			}
		}
		if id := BuildID(); id != "" {
			build += " buildid=" + id
		}
	})
	return build
}

var (
	buildOnce sync.Once
	build     string
)

// BuildID is the running executable's Go build ID, or "" when it cannot
// be read.
var BuildID = sync.OnceValue(executableBuildID)

// executableBuildID reads the running executable's Go build ID as `go tool
// buildid` prints it, or "" when it cannot: ELF keeps it in a note, Mach-O
// and PE at the start of the text.
func executableBuildID() string {
	// Linux's /proc/self/exe is the file this process runs even once an
	// upgrade has put another binary at its path: a server still running
	// the old build would otherwise take the new build's ID, and stamp
	// the images it writes with it.
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			return ""
		}
	}
	if f, err := elf.Open(exe); err == nil {
		defer f.Close()
		s := f.Section(".note.go.buildid")
		if s == nil {
			return ""
		}
		b, err := s.Data()
		// namesz, descsz, type, the name "Go\0\0", then the ID.
		if err != nil || len(b) < 16 {
			return ""
		}
		n := int(f.ByteOrder.Uint32(b[4:]))
		if len(b) < 16+n {
			return ""
		}
		return string(b[16 : 16+n])
	}
	if f, err := macho.Open(exe); err == nil {
		defer f.Close()
		if s := f.Section("__text"); s != nil {
			return textBuildID(s)
		}
		return ""
	}
	if f, err := pe.Open(exe); err == nil {
		defer f.Close()
		if s := f.Section(".text"); s != nil {
			return textBuildID(s)
		}
	}
	return ""
}

// textBuildID reads the build ID the linker writes first in the text:
// \xff Go build ID: "ID"\n \xff.
func textBuildID(r io.ReaderAt) string {
	const prefix = "\xff Go build ID: \""
	b := make([]byte, 1024)
	n, _ := r.ReadAt(b, 0)
	b = b[:n]
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return ""
	}
	b = b[len(prefix):]
	if i := bytes.IndexByte(b, '"'); i > 0 {
		return string(b[:i])
	}
	return ""
}

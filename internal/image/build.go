package image

import (
	"debug/elf"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Build names the Candor build for an image's header: its version — the
// one stamped into the binary (SetVersion), else the module version —,
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
	info := buildInfo()
	return buildName(stamped.Load(), info.info, info.ok, BuildID())
}

// stamped is the version SetVersion was given ("" or nil: none).
var stamped atomic.Pointer[string]

// SetVersion names the build by the version stamped into the binary at
// link time (go build -ldflags "-X main.version=v1.2.0"), which
// debug.BuildInfo does not hold: cmd/candor passes its main.version down
// at init, before any image is read or written. Without it a stamped
// release was "(devel)" in the image's log lines ("this is (devel)
// buildid=…") while candor version and the pages said v1.2.0.
func SetVersion(v string) { stamped.Store(&v) }

// buildInfo is the binary's build information, read once.
var buildInfo = sync.OnceValue(func() struct {
	info *debug.BuildInfo
	ok   bool
} {
	info, ok := debug.ReadBuildInfo()
	return struct {
		info *debug.BuildInfo
		ok   bool
	}{info, ok}
})

// buildName is Build from its parts: "VERSION[ vcs.revision=R vcs.modified=M][ buildid=ID]",
// VERSION the stamped version, else the module's, else "(unknown)".
func buildName(stamped *string, info *debug.BuildInfo, ok bool, id string) string {
	build := "(unknown)"
	if ok {
		build = info.Main.Version
	}
	if stamped != nil && *stamped != "" {
		build = *stamped
	}
	if ok {
		for _, st := range info.Settings {
			if st.Key == "vcs.revision" || st.Key == "vcs.modified" {
				build += " " + st.Key + "=" + st.Value
			}
		}
	}
	if id != "" {
		build += " buildid=" + id
	}
	return build
}

// BuildID is the running executable's Go build ID, or "" when it cannot
// be read.
var BuildID = sync.OnceValue(executableBuildID)

// executableBuildID reads the running executable's Go build ID as `go tool
// buildid` prints it from the ELF note the linker writes, or "" when it
// cannot. Only ELF: Candor runs on Linux (the image maps its files with
// Linux's madvise and flock), and a Mach-O or PE reader here would be code
// no build runs.
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
	return ""
}

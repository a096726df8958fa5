package prefault

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
)

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14), which the syscall
// package does not name: map the range's pages now, reading them in
// where the page cache lacks them. An older kernel refuses it (EINVAL).
const madvPopulateRead = 22

// Executable maps every page of the executable's read-only mappings (code
// and constant data) into the process's page tables, and returns how many
// bytes it asked for. A kernel that cannot is an error, and leaves the
// process as it was: the pages fault in as they are reached.
func Executable() (int, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	// The executable is the file whose mapping holds this code.
	pc, _, _, _ := runtime.Caller(0)
	ranges, err := readOnlyRanges(maps, pc)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range ranges {
		if _, _, e := syscall.Syscall(syscall.SYS_MADVISE, r[0], r[1]-r[0], madvPopulateRead); e != 0 {
			return n, fmt.Errorf("populating the executable's pages: %w", e)
		}
		n += int(r[1] - r[0])
	}
	return n, nil
}

// readOnlyRanges returns the address ranges of /proc/self/maps's lines
// (maps) that map the file whose mapping holds the address pc, readable
// and not writable.
//
// The file is the one the line holding pc names, by that line's device
// and inode as the kernel prints them (a line: "start-end perms offset
// major:minor inode path"), not by stat("/proc/self/exe"): stat's st_dev
// and the device in the maps differ on btrfs (a subvolume's device
// against the file system's), on overlayfs whose layers lie on other file
// systems (a layer's against the overlay's), and on any overlayfs before
// Linux 6.8 (the maps showed the layer's) — in a container the match
// found nothing, and the command silently went without. And
// /proc/self/exe is the dynamic loader when the binary was started
// through it.
//
// A mapping without read permission is left out: a loader may leave the
// gap between two segments mapped PROT_NONE, which MADV_POPULATE_READ
// refuses.
func readOnlyRanges(maps []byte, pc uintptr) ([][2]uintptr, error) {
	type mapping struct {
		lo, hi uintptr
		perms  string
		file   string // "major:minor inode"
	}
	var all []mapping
	file := ""
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		// An anonymous mapping's line has no path: five fields.
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			return nil, fmt.Errorf("/proc/self/maps: a line %q", sc.Text())
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || z <= a || len(f[1]) < 2 {
			return nil, fmt.Errorf("/proc/self/maps: a line %q", sc.Text())
		}
		m := mapping{lo: uintptr(a), hi: uintptr(z), perms: f[1], file: f[3] + " " + f[4]}
		if m.lo <= pc && pc < m.hi {
			if f[4] == "0" {
				return nil, fmt.Errorf("/proc/self/maps: the code at %#x lies in no file's mapping: %q", pc, sc.Text())
			}
			file = m.file
		}
		all = append(all, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if file == "" {
		return nil, fmt.Errorf("/proc/self/maps: no mapping holds the code at %#x", pc)
	}
	var out [][2]uintptr
	for _, m := range all {
		if m.file == file && m.perms[0] == 'r' && m.perms[1] != 'w' {
			out = append(out, [2]uintptr{m.lo, m.hi})
		}
	}
	return out, nil
}

package prefault

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
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
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		return 0, err
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	ranges, err := readOnlyRanges(maps, st.Dev, st.Ino)
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
// (maps) that map the file dev, ino without write permission.
func readOnlyRanges(maps []byte, dev, ino uint64) ([][2]uintptr, error) {
	// A line: "start-end perms offset major:minor inode path"; the
	// device in hexadecimal, as the kernel's new_encode_dev splits it.
	major := (dev>>8)&0xfff | (dev>>32)&^0xfff
	minor := dev&0xff | (dev>>12)&^0xff
	device := fmt.Sprintf("%02x:%02x", major, minor)
	inode := strconv.FormatUint(ino, 10)
	var out [][2]uintptr
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[3] != device || f[4] != inode || strings.Contains(f[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || z <= a {
			return nil, fmt.Errorf("/proc/self/maps: a line %q", sc.Text())
		}
		out = append(out, [2]uintptr{uintptr(a), uintptr(z)})
	}
	return out, sc.Err()
}

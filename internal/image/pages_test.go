package image

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// Pages read through a private mapping are resident until paged out;
// PageOut gives back the clean ones and never changes what the mapping
// reads — a page this process wrote stays, with what it wrote.
func TestResidentAndPageOut(t *testing.T) {
	ps := os.Getpagesize()
	data, m, s, first := mappedPages(t, "0123456789abcdef")
	count := func(res []bool) int {
		n := 0
		for _, r := range res[first : first+64] {
			if r {
				n++
			}
		}
		return n
	}
	res, err := m.Resident()
	if err != nil {
		t.Fatal(err)
	}
	m.Done(0)
	if res, _ = m.Resident(); count(res) != 0 {
		t.Fatalf("%d of the section's 64 pages resident after Done, want 0", count(res))
	}
	sum := 0
	for i := 0; i < len(s); i += ps {
		sum += int(s[i])
	}
	if sum != 64*int('0') {
		t.Fatalf("read %d", sum)
	}
	if res, _ = m.Resident(); count(res) != 64 {
		t.Fatalf("%d of 64 pages resident after reading every one", count(res))
	}
	// Page 5 written (its own copy now). Kept pages are advised
	// nothing; the others are reclaimed a folio of the page cache at a
	// time, which may take a kept neighbour along (it faults back in),
	// so only keeping every page is sure to keep one.
	s[5*ps] = 'X'
	all := make([]bool, len(res))
	for i := range all {
		all[i] = true
	}
	if err := m.PageOut(all); err != nil {
		t.Fatal(err)
	}
	if res, _ = m.Resident(); count(res) != 64 {
		t.Fatalf("%d of 64 pages resident after PageOut keeping them all", count(res))
	}
	if err := m.PageOut(nil); err != nil {
		t.Skipf("this kernel does not page out: %v", err)
	}
	// With swap the written page may go there (its present bit clear)
	// and come back when read; without, it stays.
	swap := hasSwap(t)
	res, _ = m.Resident()
	for i := range 64 {
		if want := i == 5; res[first+i] != want && !(i == 5 && swap) {
			t.Errorf("page %d resident %v after PageOut, want %v", i, res[first+i], want)
		}
	}
	if s[5*ps] != 'X' {
		t.Fatalf("the written page lost its write: %q", s[5*ps])
	}
	s[5*ps] = data[5*ps]
	if !bytes.Equal(s, data) {
		t.Fatal("the mapping reads other bytes after PageOut")
	}
}

// mappedPages writes a file of one 64-page section of pattern repeated
// and maps it privately: the data written, the mapping, the section as
// mapped, and its first page's place in the mapping (sections start at a
// multiple of 4 KiB of the file: page i of the section is page first+i).
func mappedPages(t *testing.T, pattern string) (data []byte, m *Mapped, s []byte, first int) {
	t.Helper()
	ps := os.Getpagesize()
	data = bytes.Repeat([]byte(pattern), 64*ps/len(pattern))
	path := filepath.Join(t.TempDir(), "candor.dataset")
	if err := Write(path, Header{Version: "v", Seq: 1}, []Section{{Kind: 3, Data: data}}); err != nil {
		t.Fatal(err)
	}
	m, err := ReadPrivate(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	s = m.Sections[0].Data
	return data, m, s, offsetIn(m.b, s) / ps
}

// offsetIn is where sub starts in b.
func offsetIn(b, sub []byte) int {
	return int(uintptr(unsafePointer(sub)) - uintptr(unsafePointer(b)))
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// hasSwap reports whether the machine has a swap device or file in use.
func hasSwap(t *testing.T) bool {
	b, err := os.ReadFile("/proc/swaps")
	if err != nil {
		return true // unknown: allow it
	}
	return len(bytes.Split(bytes.TrimSpace(b), []byte("\n"))) > 1
}

// Release takes the pages still the file's out of the process and leaves
// them in the page cache (PageOut reclaimed them from there too, and a
// read went to the disk); a page this process wrote stays, with its
// write, and kept pages stay.
func TestReleaseLeavesThePageCache(t *testing.T) {
	ps := os.Getpagesize()
	data, m, s, first := mappedPages(t, "fedcba9876543210")
	sum := 0
	for i := 0; i < len(s); i += ps {
		sum += int(s[i])
	}
	if sum != 64*int('f') {
		t.Fatalf("read %d", sum)
	}
	s[5*ps] = 'X'
	all, err := m.Resident()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Release(all); err != nil {
		t.Fatal(err)
	}
	res, _ := m.Resident()
	for i := range 64 {
		if !res[first+i] {
			t.Fatalf("page %d given back by a Release keeping it", i)
		}
	}
	keep := make([]bool, len(res))
	keep[first+9] = true
	if err := m.Release(keep); err != nil {
		t.Fatal(err)
	}
	res, _ = m.Resident()
	cached, err := m.Cached()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		if want := i == 5 || i == 9; res[first+i] != want {
			t.Errorf("page %d resident %v after Release, want %v", i, res[first+i], want)
		}
		if i != 5 && !cached[first+i] {
			t.Errorf("page %d left the page cache", i)
		}
	}
	if s[5*ps] != 'X' {
		t.Fatalf("the written page lost its write: %q", s[5*ps])
	}
	s[5*ps] = data[5*ps]
	if !bytes.Equal(s, data) {
		t.Fatal("the mapping reads other bytes after Release")
	}
}

// Discard gives back the pages wholly within the bytes named, those the
// process wrote included (they read as the file's bytes again), and
// leaves the pages the bytes only partly cover.
func TestDiscardGivesBackWrittenPages(t *testing.T) {
	ps := os.Getpagesize()
	data, m, s, first := mappedPages(t, "0123456789abcdef")
	for i := 0; i < len(s); i += ps {
		s[i] = 'W' // every page the process's own copy
	}
	// Pages 10 to 19 whole, and the ends of pages 9 and 20.
	if err := m.Discard(s[10*ps-100 : 20*ps+100]); err != nil {
		t.Fatal(err)
	}
	res, err := m.Resident()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 64 {
		if want := i < 10 || i >= 20; res[first+i] != want {
			t.Errorf("page %d resident %v after Discard of pages 10–19, want %v", i, res[first+i], want)
		}
	}
	for i := 0; i < len(s); i += ps {
		want := byte('W')
		if i >= 10*ps && i < 20*ps {
			want = data[i]
		}
		if s[i] != want {
			t.Fatalf("page %d reads %q after Discard, want %q", i/ps, s[i], want)
		}
	}
	if err := m.Discard([]byte("elsewhere")); err == nil {
		t.Error("Discard of bytes outside the mapping: no error")
	}
}

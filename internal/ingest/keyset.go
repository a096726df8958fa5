package ingest

import (
	"hash/maphash"
	"math/bits"

	"github.com/candor/candor/internal/domain"
)

// keySet remembers the keys an import has given, so that a record
// repeating an earlier one's key can be told (Summary.Repeated). It holds
// no key: a slot is a 64-bit fingerprint of the key and the import-wide
// line of the key's latest record, 12 bytes in an open-addressed table
// kept 72–90 % full (~13–17 bytes a key, and while it grows the old
// table's besides; a Go map of the keys themselves held ~100). Fuller
// tables cost longer probes, which read only fingerprints, eight to a
// cache line; at 85 % and growing by half, a million keys took 19.4 bytes
// each (BenchmarkKeySet). A fingerprint may be shared by two keys, so a
// match is only a candidate: the importer confirms it with the key, from
// the record still buffered or from the batch (batchKeys), before it
// counts a repeat.
type keySet struct {
	seed  maphash.Seed
	fps   []uint64 // 0: empty
	lines []uint32 // tombstone: moved
	used  int      // slots not empty, tombstones included
}

// tombstone is the line of a slot whose key moved to a newer slot: it
// keeps probe chains unbroken and is no candidate. addAt keeps lines below
// it.
const tombstone = ^uint32(0)

func newKeySet() *keySet {
	return &keySet{seed: maphash.MakeSeed(), fps: make([]uint64, 64), lines: make([]uint32, 64)}
}

// fingerprint is the key's 64 bits, which place it in the table too: a
// slot keeps nothing else of the key, and the table is rehashed from its
// slots alone.
func (s *keySet) fingerprint(k domain.Key) uint64 {
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(string(k.Kind))
	h.WriteByte(0)
	h.WriteString(k.Source)
	h.WriteByte(0)
	h.WriteString(k.ID)
	fp := h.Sum64() & fingerprintMask
	if fp == 0 {
		fp = 1 // 0 marks an empty slot
	}
	return fp
}

// fingerprintMask narrows fingerprints in tests, so that keys share them
// and every match must be confirmed.
var fingerprintMask = ^uint64(0)

// home is fp's first slot: the table's size need not be a power of two,
// so that it can grow by half and stay near its fill.
func (s *keySet) home(fp uint64) int {
	hi, _ := bits.Mul64(fp*0x9e3779b97f4a7c15, uint64(len(s.fps)))
	return int(hi)
}

// candidates appends to out the lines of the slots holding fp.
func (s *keySet) candidates(fp uint64, out []uint32) []uint32 {
	for i := s.home(fp); ; i++ {
		if i == len(s.fps) {
			i = 0
		}
		// A probe reads fps alone, one cache line for eight slots; a
		// line only where the fingerprint matches.
		switch s.fps[i] {
		case 0:
			return out
		case fp:
			if l := s.lines[i]; l != tombstone {
				out = append(out, l)
			}
		}
	}
}

// add records line as a key of fingerprint fp.
func (s *keySet) add(fp uint64, line uint32) {
	if (s.used+1)*100 > len(s.fps)*maxFill {
		s.grow()
	}
	s.put(fp, line)
	s.used++
}

func (s *keySet) put(fp uint64, line uint32) {
	for i := s.home(fp); ; i++ {
		if i == len(s.fps) {
			i = 0
		}
		if s.fps[i] == 0 {
			s.fps[i], s.lines[i] = fp, line
			return
		}
	}
}

// move makes the slot of fp at line from say line to: the key's latest
// record, which its next repeat is measured against.
func (s *keySet) move(fp uint64, from, to uint32) { s.replace(fp, from, to) }

// retire tombstones the slot of fp at line (its key has a newer slot).
func (s *keySet) retire(fp uint64, line uint32) { s.replace(fp, line, tombstone) }

func (s *keySet) replace(fp uint64, line, to uint32) {
	for i := s.home(fp); ; i++ {
		if i == len(s.fps) {
			i = 0
		}
		switch {
		case s.fps[i] == 0:
			return
		case s.fps[i] == fp && s.lines[i] == line:
			s.lines[i] = to
			return
		}
	}
}

// maxFill is the percentage of slots used past which the table grows, by
// 1/growBy: a quarter, so that the table stays close to its fill.
var maxFill, growBy = 90, 4

// grow rehashes into a larger table; tombstones are dropped.
func (s *keySet) grow() {
	fps, lines := s.fps, s.lines
	n := len(fps) + len(fps)/growBy
	s.fps, s.lines = make([]uint64, n), make([]uint32, n)
	s.used = 0
	for i, l := range lines {
		if fps[i] != 0 && l != tombstone {
			s.put(fps[i], l)
			s.used++
		}
	}
}

package metrics

import (
	"math"
	"slices"
	"unsafe"
)

// sortSpans sorts v (lead times and flow-stage spans, in hours) in place,
// in the order slices.Sort gives. A lead-time day sorts its runs each time
// it is built, and while a large import is applied every day after its
// earliest row is built again at each step: at scale 10 sorting was over
// half of building the days, and the days an eighth of the server's CPU
// while it answered reads during a 1M-record import (docs/performance.md).
// Past a few thousand values (a day at scale 10 ships ~8,000 changes) a
// least-significant-digit radix sort of the floats' bits does in a few
// linear passes what a comparison sort does in ~log2(n), and out of the
// first level cache the comparisons grow dear (BenchmarkSortSpans).
// scratch is a buffer sortSpans may grow and reuse.
func sortSpans(v []float64, scratch *[]uint64) {
	if len(v) < radixMin || slices.ContainsFunc(v, math.IsNaN) {
		// A NaN (which slices.Sort puts first, and no span should be)
		// has no place in the radix order: checked before any value is
		// rewritten as its key.
		slices.Sort(v)
		return
	}
	radixSort(v, scratch)
}

// radixMin is the shortest run sortSpans sorts by radix: below it
// comparing costs less than the counting passes (BenchmarkSortSpans,
// slices.Sort against radix: 1,000 spans ~10 µs against ~13; 2,000 ~27
// either way; 3,000 ~64 against ~54; 4,000 ~200 against ~83).
const radixMin = 2048

// radixSort sorts v, which holds no NaN, by radix: each float's bits as a
// key that orders as the float does (the sign bit flipped for a positive
// float, every bit for a negative one), a byte a pass, skipping the
// passes whose byte every key shares (spans of similar size share their
// top bytes), then back to floats.
func radixSort(v []float64, scratch *[]uint64) {
	if len(v) < 2 {
		return
	}
	keys := unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(v))), len(v))
	var counts [8][256]int
	for i, f := range v {
		k := math.Float64bits(f)
		k ^= uint64(int64(k)>>63) | 1<<63
		keys[i] = k
		for b := range 8 {
			counts[b][byte(k>>(8*b))]++
		}
	}
	if cap(*scratch) < len(v) {
		*scratch = make([]uint64, len(v))
	}
	src, dst := keys, (*scratch)[:len(v)]
	for b := range 8 {
		c := &counts[b]
		if c[byte(src[0]>>(8*b))] == len(src) {
			continue // every key has this byte: the pass would change nothing
		}
		pos := 0
		for i, n := range c {
			c[i] = pos
			pos += n
		}
		shift := 8 * b
		for _, k := range src {
			d := byte(k >> shift)
			dst[c[d]] = k
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	for i, k := range keys {
		// Back from key to float: a key with its top bit set was a
		// positive float (flip the sign bit back), else a negative one.
		keys[i] = k ^ (uint64(int64(^k)>>63) | 1<<63)
	}
}

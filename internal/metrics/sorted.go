package metrics

import (
	"slices"
	"sort"
)

// sorted keeps items ordered by (time, id). Appends in time order — the
// normal case for live data — keep it sorted for free; anything else marks
// it dirty and the next prepare re-sorts (pdqsort is near-linear on nearly
// sorted input). Reads require a prepared slice, so readers never mutate.
type sorted[T comparable] struct {
	items []T
	key   func(T) (int64, string)
	dirty bool
	// same identifies an item for remove and index when == is too strict
	// (rows whose flags change after insertion); nil means ==.
	same func(a, b T) bool
}

func (s *sorted[T]) is(a, b T) bool {
	if s.same != nil {
		return s.same(a, b)
	}
	return a == b
}

func newSorted[T comparable](key func(T) (int64, string)) *sorted[T] {
	return &sorted[T]{key: key}
}

func (s *sorted[T]) less(a, b T) bool {
	ta, ia := s.key(a)
	tb, ib := s.key(b)
	if ta != tb {
		return ta < tb
	}
	return ia < ib
}

// nearEnd bounds how far from the end an out-of-order item is inserted in
// place: live data arrives slightly late (a deployment reported a minute
// after a later one), and moving a few elements beats re-sorting millions,
// while a bulk load of unordered data is still sorted once.
const nearEnd = 4096

func (s *sorted[T]) add(x T) {
	n := len(s.items)
	if n == 0 || !s.less(x, s.items[n-1]) {
		s.items = append(s.items, x)
		return
	}
	if !s.dirty {
		lo := max(0, n-nearEnd)
		if !s.less(x, s.items[lo]) {
			i := lo + sort.Search(n-lo, func(k int) bool { return s.less(x, s.items[lo+k]) })
			s.items = slices.Insert(s.items, i, x)
			return
		}
	}
	s.dirty = true
	s.items = append(s.items, x)
}

func (s *sorted[T]) remove(x T) {
	i := -1
	if !s.dirty {
		t, id := s.key(x)
		j := sort.Search(len(s.items), func(k int) bool {
			tk, ik := s.key(s.items[k])
			return tk > t || (tk == t && ik >= id)
		})
		for ; j < len(s.items); j++ {
			if s.is(s.items[j], x) {
				i = j
				break
			}
			if tk, _ := s.key(s.items[j]); tk != t {
				break
			}
		}
	}
	if i < 0 {
		i = slices.IndexFunc(s.items, func(y T) bool { return s.is(y, x) })
	}
	if i >= 0 {
		s.items = slices.Delete(s.items, i, i+1)
	}
}

func (s *sorted[T]) prepare() {
	if s.dirty {
		sort.SliceStable(s.items, func(i, j int) bool { return s.less(s.items[i], s.items[j]) })
		s.dirty = false
	}
}

// lowerBound is the first index whose time is ≥ t.
func (s *sorted[T]) lowerBound(t int64) int {
	return sort.Search(len(s.items), func(k int) bool {
		tk, _ := s.key(s.items[k])
		return tk >= t
	})
}

// upperBound is the first index whose time is > t.
func (s *sorted[T]) upperBound(t int64) int {
	return sort.Search(len(s.items), func(k int) bool {
		tk, _ := s.key(s.items[k])
		return tk > t
	})
}

// between returns the items with lo ≤ time < hi.
func (s *sorted[T]) between(lo, hi int64) []T {
	if s == nil {
		return nil
	}
	return s.items[s.lowerBound(lo):s.lowerBound(hi)]
}

// index returns x's position (x must be present).
func (s *sorted[T]) index(x T) int {
	t, _ := s.key(x)
	for j := s.lowerBound(t); j < len(s.items); j++ {
		if s.is(s.items[j], x) {
			return j
		}
	}
	return -1
}

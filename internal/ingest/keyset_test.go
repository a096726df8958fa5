package ingest

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/candor/candor/internal/domain"
)

// The table finds what it holds, by fingerprint, through growth, moves
// and tombstones.
func TestKeySet(t *testing.T) {
	s := newKeySet()
	keys := make([]domain.Key, 5000)
	for i := range keys {
		keys[i] = domain.Key{Kind: domain.KindDeployment, Source: "github", ID: fmt.Sprintf("d%d", i)}
		fp := s.fingerprint(keys[i])
		if c := s.candidates(fp, nil); len(c) != 0 {
			t.Fatalf("%v: candidates %v before it was added", keys[i], c)
		}
		s.add(fp, uint32(i+1))
	}
	for i, k := range keys {
		fp := s.fingerprint(k)
		if c := s.candidates(fp, nil); len(c) != 1 || c[0] != uint32(i+1) {
			t.Fatalf("%v: candidates %v, want [%d]", k, c, i+1)
		}
	}
	fp := s.fingerprint(keys[7])
	s.move(fp, 8, 9000)
	if c := s.candidates(fp, nil); len(c) != 1 || c[0] != 9000 {
		t.Fatalf("moved: %v", c)
	}
	s.add(fp, 9001)
	s.retire(fp, 9000)
	if c := s.candidates(fp, nil); len(c) != 1 || c[0] != 9001 {
		t.Fatalf("retired: %v", c)
	}
	if n := len(s.fps); s.used*100 > n*85 {
		t.Fatalf("%d of %d slots used", s.used, n)
	}
}

// BenchmarkKeySet is what an import adds a record for its key set: its
// fingerprint, a probe that finds nothing, an insertion; and the bytes a
// key the table holds at the end.
//
//	go test -run '^$' -bench KeySet ./internal/ingest/
func BenchmarkKeySet(b *testing.B) {
	const n = 1_000_000
	keys := make([]domain.Key, n)
	for i := range keys {
		keys[i] = domain.Key{Kind: domain.KindDeployment, Source: "github", ID: fmt.Sprintf("deploy-%08d", i)}
	}
	var cands []uint32
	b.ResetTimer()
	var s *keySet
	for range b.N {
		s = newKeySet()
		for i, k := range keys {
			fp := s.fingerprint(k)
			if cands = s.candidates(fp, cands[:0]); len(cands) == 0 {
				s.add(fp, uint32(i+1))
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/record")
	b.ReportMetric(float64(len(s.fps)*12)/n, "bytes/record")
	runtime.KeepAlive(s)
}

package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// sortSpans must give slices.Sort's order for any floats: lead times of
// every size, negative spans (data that says a change merged after it
// shipped), zeros of both signs, infinities, duplicates and runs on each
// side of radixMin.
func TestSortSpansSortsAsSlicesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 12))
	gens := map[string]func() float64{
		"lead times":   func() float64 { return math.Exp(r.NormFloat64()*2 + 3) },
		"signed":       func() float64 { return r.NormFloat64() * 1e3 },
		"few distinct": func() float64 { return float64(r.IntN(5)) - 2 },
		"extremes": func() float64 {
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, 1}[r.IntN(8)]
		},
		"whole hours":   func() float64 { return float64(r.IntN(1000)) },
		"one value":     func() float64 { return 42.5 },
		"tiny and huge": func() float64 { return math.Ldexp(r.Float64(), r.IntN(2000)-1000) },
	}
	var scratch []uint64
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, 1000, radixMin - 1, radixMin, radixMin + 1, 3 * radixMin} {
			v := make([]float64, n)
			for i := range v {
				v[i] = gen()
			}
			want := slices.Clone(v)
			slices.Sort(want)
			sortSpans(v, &scratch)
			for i := range v {
				// -0 and +0 compare equal, so slices.Sort may leave
				// either first: compare their order, not their bits.
				if v[i] != want[i] || math.IsNaN(v[i]) {
					t.Fatalf("%s, %d values: at %d got %v, want %v", name, n, i, v[i], want[i])
				}
			}
			if !slices.IsSorted(v) {
				t.Fatalf("%s, %d values: not sorted", name, n)
			}
		}
	}
}

// A NaN is left to slices.Sort, which puts it first — wherever it lies,
// among values of both signs, and before any value is rewritten as its
// radix key.
func TestSortSpansLeavesNaNToSlicesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	var scratch []uint64
	for _, at := range []int{0, 7, radixMin, 2*radixMin - 1} {
		v := make([]float64, 2*radixMin)
		for i := range v {
			v[i] = r.NormFloat64() * 100
		}
		v[at] = math.NaN()
		want := slices.Clone(v)
		slices.Sort(want)
		sortSpans(v, &scratch)
		for i := range v {
			if v[i] != want[i] && !(math.IsNaN(v[i]) && math.IsNaN(want[i])) {
				t.Fatalf("NaN at %d: at %d got %v, want %v", at, i, v[i], want[i])
			}
		}
	}
}

func BenchmarkSortSpans(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1000, 2000, 3000, 4000, 8000, 30000} {
		src := make([]float64, n)
		for i := range src {
			src[i] = math.Round(math.Exp(r.NormFloat64()*2+3)*3600) / 3600
		}
		v := make([]float64, n)
		b.Run("radix/"+strconv.Itoa(n), func(b *testing.B) {
			var scratch []uint64
			for b.Loop() {
				copy(v, src)
				radixSort(v, &scratch)
			}
		})
		b.Run("slices/"+strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				copy(v, src)
				slices.Sort(v)
			}
		})
	}
}

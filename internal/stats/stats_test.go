package stats

import (
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1e-300, math.Abs(b)) }

func TestPoissonUpper(t *testing.T) {
	// Reference values: 1 − ppois(k−1, λ) in R.
	cases := []struct {
		k      int
		lambda float64
		want   float64
	}{
		{0, 3, 1},
		{1, 2, 1 - math.Exp(-2)},
		{3, 1, 0.0803013970713942},
		{10, 2, 4.649807501e-05},
		{2, 5, 0.959572318005487},
		{30, 1, 1.43308e-33}, // e^-1/30! · (1 + 1/31 + …),
	}
	for _, c := range cases {
		if got := PoissonUpper(c.k, c.lambda); !near(got, c.want, 1e-3) {
			t.Errorf("PoissonUpper(%d, %v) = %g, want %g", c.k, c.lambda, got, c.want)
		}
	}
	if PoissonUpper(1, 0) != 0 {
		t.Error("no events expected: one is impossible under the model")
	}
}

func TestProportionTest(t *testing.T) {
	// 30 of 100 against 10 of 100: z ≈ 3.54.
	z, p := ProportionTest(30, 100, 10, 100)
	if !near(z, 3.5355, 1e-3) || p > 0.001 {
		t.Errorf("z = %v, p = %v", z, p)
	}
	if _, p := ProportionTest(10, 100, 10, 100); !near(p, 0.5, 1e-9) {
		t.Errorf("equal rates: p = %v, want 0.5", p)
	}
	if _, p := ProportionTest(0, 0, 3, 10); p != 1 {
		t.Errorf("empty group: p = %v", p)
	}
}

func TestPearson(t *testing.T) {
	xs := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	ys := []float64{2.1, 3.9, 6.2, 8.1, 9.8, 12.2, 13.8, 16.1, 18.2, 19.9}
	c, ok := Pearson(xs, ys)
	if !ok || c.R < 0.99 || c.Low > c.R || c.High < c.R || c.P > 1e-6 || c.N != 10 {
		t.Errorf("strong: %+v", c)
	}
	flat := []float64{5, 1, 4, 2, 6, 3, 5, 2, 4, 3}
	c, ok = Pearson(xs, flat)
	if !ok || math.Abs(c.R) > 0.3 || c.Low > 0 || c.High < 0 {
		t.Errorf("weak: %+v", c)
	}
	if _, ok := Pearson(xs[:3], ys[:3]); ok {
		t.Error("three pairs have no interval")
	}
	if _, ok := Pearson(xs, make([]float64, 10)); ok {
		t.Error("a constant series has no correlation")
	}
}

func TestBinomialUpper(t *testing.T) {
	// 1 − pbinom(k−1, n, p) in R.
	cases := []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 10, 0.3, 1},
		{3, 10, 0.1, 0.0701908264},
		{10, 10, 0.5, 0.0009765625},
		{12, 40, 0.1, 0.000380834},
		{11, 10, 0.5, 0},
	}
	for _, c := range cases {
		if got := BinomialUpper(c.k, c.n, c.p); !near(got, c.want, 1e-3) {
			t.Errorf("BinomialUpper(%d, %d, %v) = %g, want %g", c.k, c.n, c.p, got, c.want)
		}
	}
}

func TestFormatP(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{
		{1.5e-28, "p < 0.0001"},
		{0, "p < 0.0001"},
		{0.0000999, "p < 0.0001"},
		{0.0001, "p = 0.0001"},
		{0.00012345, "p = 0.00012"},
		{0.0073, "p = 0.0073"}, // 0.00729999… in binary: still 0.0073
		{0.0072, "p = 0.0072"},
		{0.0091, "p = 0.0091"},
		// Cut, not rounded: a p under 0.01 never reads 0.01, one at 0.01
		// or above never reads under it.
		{0.00996, "p = 0.0099"},
		{0.0099999999, "p = 0.0099"},
		{0.01, "p = 0.01"},
		{0.010000000000000002, "p = 0.01"},
		{0.0104, "p = 0.01"},
		{0.049999, "p = 0.049"},
		{0.05, "p = 0.05"},
		{0.1, "p = 0.1"},
		{0.18, "p = 0.18"},
		{0.4567, "p = 0.45"},
		{0.5, "p = 0.5"},
		{0.99999, "p = 0.99"},
		{1, "p = 1"},
		{math.NaN(), "p unknown"},
	} {
		if got := FormatP(c.p); got != c.want {
			t.Errorf("FormatP(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}

func TestChance(t *testing.T) {
	for _, c := range []struct {
		p    float64
		want string
	}{
		{0, "less than 1 time in 10,000"},
		{0.0000999, "less than 1 time in 10,000"},
		{0.0001, "about 1 time in 10,000"},
		{0.00042, "about 1 time in 2,400"},
		{0.0042, "about 1 time in 240"},
		{0.0099, "about 1 time in 100"},
		{0.042, "about 1 time in 24"},
		{0.14, "about 1 time in 7"},
		{0.4, "about 1 time in 3"},
		{0.5, "more often than not"},
		{1, "more often than not"},
		{math.NaN(), "how often not known"},
	} {
		if got := Chance(c.p); got != c.want {
			t.Errorf("Chance(%v) = %q, want %q", c.p, got, c.want)
		}
	}
}

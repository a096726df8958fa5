// Package stats holds the few significance tests the release-impact and
// insight analyses name in their results: Poisson and binomial upper
// tails, a one-sided two-proportion z-test, and Pearson's correlation with a Fisher-z
// confidence interval, and how a p-value reads (FormatP). It depends on nothing else in the
// project.
package stats

import (
	"math"
	"strconv"
	"strings"
)

// PFloor is the smallest p-value FormatP writes as a number; below it a
// p-value reads "p < 0.0001".
const PFloor = 0.0001

// FormatP writes a p-value as readers expect one, with its "p": "p = 0.0073",
// "p = 0.42", "p = 1", and "p < 0.0001" below PFloor — never an exponent
// ("1.5e-28"). Two significant figures, cut rather than rounded, so the
// figure shown is never above the p-value: one under a level of one or two
// significant figures (0.01, 0.05) reads under it, and one at or above it
// reads at or above it, as the test decided (0.00996 reads 0.0099, not 0.01).
// Every page, command and insight that shows a p-value writes it with this.
func FormatP(p float64) string {
	switch {
	case math.IsNaN(p):
		return "p unknown"
	case p >= 1:
		return "p = 1"
	case p < PFloor:
		return "p < 0.0001"
	}
	// The shortest decimal that is p ("7.3e-03"), its digits cut to two.
	mant, exp, _ := strings.Cut(strconv.FormatFloat(p, 'e', -1, 64), "e")
	digits := strings.Replace(mant, ".", "", 1)
	digits = strings.TrimRight(digits[:min(2, len(digits))], "0")
	e, _ := strconv.Atoi(exp) // -1 to -4: p is in [0.0001, 1)
	return "p = 0." + strings.Repeat("0", -e-1) + digits
}

// Chance says a p-value as how often chance alone would give as much,
// for a reader who does not read p-values: "less than 1 time in 10,000",
// "about 1 time in 240", "more often than not". A p-value on a release's
// row ("p < 0.0001, under 0.01") was jargon to the executive it was for.
// Under 100 the count is rounded to a whole number, above to two
// significant figures: "about" says it is not exact; the p-value beside it
// is.
func Chance(p float64) string {
	switch {
	case math.IsNaN(p):
		return "how often not known"
	case p < PFloor:
		return "less than 1 time in 10,000"
	case p >= 0.5:
		return "more often than not"
	}
	n := 1 / p
	if n >= 100 {
		scale := math.Pow(10, math.Floor(math.Log10(n))-1)
		n = math.Round(n/scale) * scale
	}
	return "about 1 time in " + thousands(int64(math.Round(n)))
}

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// PoissonUpper returns P(X ≥ k) for X ~ Poisson(lambda): the chance of at
// least k events when lambda are expected. It sums the tail's terms from k
// upwards (not 1 − the lower sum), so tiny p-values keep their precision.
func PoissonUpper(k int, lambda float64) float64 {
	if k <= 0 {
		return 1
	}
	if lambda <= 0 {
		return 0
	}
	if float64(k) <= lambda {
		// The tail is large; 1 − the lower sum is precise here.
		lower, term := 0.0, math.Exp(-lambda)
		for i := 0; i < k; i++ {
			lower += term
			term *= lambda / float64(i+1)
		}
		return math.Max(0, 1-lower)
	}
	lg, _ := math.Lgamma(float64(k) + 1)
	term := math.Exp(-lambda + float64(k)*math.Log(lambda) - lg)
	sum := 0.0
	for i := k; term > sum*1e-16 && i < k+10000; i++ {
		sum += term
		term *= lambda / float64(i+1)
	}
	return math.Min(1, sum)
}

// BinomialUpper returns P(X ≥ k) for X ~ Binomial(n, p): the chance of at
// least k of n trials failing at rate p. It sums the tail's terms from k.
func BinomialUpper(k, n int, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n || p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lgn, _ := math.Lgamma(float64(n) + 1)
	lgk, _ := math.Lgamma(float64(k) + 1)
	lgr, _ := math.Lgamma(float64(n-k) + 1)
	term := math.Exp(lgn - lgk - lgr + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p))
	sum := 0.0
	for i := k; i <= n; i++ {
		sum += term
		term *= float64(n-i) / float64(i+1) * p / (1 - p)
	}
	return math.Min(1, sum)
}

// NormalUpper returns P(Z ≥ z) for a standard normal Z.
func NormalUpper(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// ProportionTest compares a group's rate (x of n) against the rest's (y of
// m) with a one-sided two-proportion z-test (pooled variance): the p-value
// that the group's rate is higher by chance. It returns p = 1 when either
// group is empty or the pooled rate is 0 or 1 (no variance to test).
func ProportionTest(x, n, y, m int) (z, p float64) {
	if n == 0 || m == 0 {
		return 0, 1
	}
	pool := float64(x+y) / float64(n+m)
	if pool <= 0 || pool >= 1 {
		return 0, 1
	}
	se := math.Sqrt(pool * (1 - pool) * (1/float64(n) + 1/float64(m)))
	z = (float64(x)/float64(n) - float64(y)/float64(m)) / se
	return z, NormalUpper(z)
}

// Correlation is Pearson's r over N paired values, with its 95 %
// confidence interval (Fisher z transform) and two-sided p-value.
type Correlation struct {
	R      float64 `json:"r"`
	N      int     `json:"n"`
	Low    float64 `json:"ci_low"`
	High   float64 `json:"ci_high"`
	P      float64 `json:"p"`
	Method string  `json:"method"`
}

// Pearson correlates xs with ys (the same length). ok is false below 4
// pairs or when either series is constant: there is no interval then.
func Pearson(xs, ys []float64) (c Correlation, ok bool) {
	n := len(xs)
	if n != len(ys) || n < 4 {
		return c, false
	}
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return c, false
	}
	r := math.Max(-1, math.Min(1, sxy/math.Sqrt(sxx*syy)))
	c = Correlation{R: r, N: n, Method: "Pearson r, 95 % interval by Fisher z"}
	zr := math.Atanh(math.Max(-0.999999, math.Min(0.999999, r)))
	se := 1 / math.Sqrt(float64(n-3))
	c.Low, c.High = math.Tanh(zr-1.959964*se), math.Tanh(zr+1.959964*se)
	c.P = math.Min(1, 2*NormalUpper(math.Abs(zr)/se))
	return c, true
}

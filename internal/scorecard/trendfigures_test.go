package scorecard

import (
	"math"
	"strings"
	"testing"

	"github.com/candor/candor/internal/metrics"
)

// TestTrendFigures: a previous value that reads as the current one at the
// unit's precision is told apart by the fewest more decimals; one that
// already differs, or is equal, or is in a unit without decimals, is
// written as FormatValue writes it.
func TestTrendFigures(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		cur, prev   *float64
		unit        string
		now, before string
		fine        bool
	}{
		{f(99.86454), f(99.86380), "%", "99.865 %", "99.864 %", true},
		{f(99.86454), f(99.86449), "%", "99.865 %", "99.864 %", true},
		{f(99.86454), f(99.86453), "%", "99.86454 %", "99.86453 %", true},
		{f(99.8645400), f(99.8645401), "%", "99.86 %", "99.86 %", false}, // not told apart in four more
		{f(99.9), f(99.8), "%", "99.9 %", "99.8 %", false},
		{f(3.08), f(3.09), "hours", "3.08 h", "3.09 h", true},
		{f(5), f(5), "count", "5", "5", false},
		{f(120.4), f(120.2), "ms", "120.4 ms", "120.2 ms", true},
		{f(1000.2), f(1000.4), "currency", "1,000 USD", "1,000 USD", false},
		{nil, f(3), "hours", "—", "3 h", false},
	} {
		now, before, fine := TrendFigures(c.cur, c.prev, c.unit, "USD")
		if now != c.now || before != c.before || fine != c.fine {
			t.Errorf("TrendFigures(%v, %v, %q) = %q, %q, %v; want %q, %q, %v", deref(c.cur), deref(c.prev), c.unit, now, before, fine, c.now, c.before, c.fine)
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestReadableTimes: a reason's RFC 3339 times in the layout asked, in
// UTC; other text and a malformed time left as they are.
func TestReadableTimes(t *testing.T) {
	for _, c := range []struct{ in, layout, want string }{
		{"no survey data since 2026-12-05T19:57:05Z", "2006-01-02 15:04", "no survey data since 2026-12-05 19:57"},
		{"since 2026-12-05T21:57:05+02:00, and 2026-03-28T11:35:00.5Z", "2 Jan 2006 15:04 MST", "since 5 Dec 2026 19:57 UTC, and 28 Mar 2026 11:35 UTC"},
		{"too few cases (n = 2)", "2006-01-02 15:04", "too few cases (n = 2)"},
		{"at 2026-13-05T19:57:05Z", "2006-01-02 15:04", "at 2026-13-05T19:57:05Z"},
	} {
		if got := ReadableTimes(c.in, c.layout); got != c.want {
			t.Errorf("ReadableTimes(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestScorecardHeadingSaysItsWindows: candor scorecard's heading names the
// window asked for, or says each metric is over its own.
func TestScorecardHeadingSaysItsWindows(t *testing.T) {
	ds := load(t, metrics.DefaultConfig(), "")
	cat := defaultCatalog(t)
	if text := Text(Build(cat, ds, Options{AsOf: asOf}), TextOptions{}); !strings.Contains(text, "(each metric over its own window)") {
		t.Errorf("no window asked: %s", strings.SplitN(text, "\n", 2)[0])
	}
	if text := Text(Build(cat, ds, Options{AsOf: asOf, Window: 7 * day}), TextOptions{}); !strings.Contains(text, "(window 7d)") {
		t.Errorf("7 days asked: %s", strings.SplitN(text, "\n", 2)[0])
	}
}

// TestChangeShown: a change set beside two figures is the change of those
// figures, whatever the unit writes around them, and its sign the move's.
func TestChangeShown(t *testing.T) {
	for _, c := range []struct {
		cur, prev   float64
		unit        string
		now, before string
		diff        float64
	}{
		{99.8751, 99.8642, "%", "99.88 %", "99.86 %", 0.02}, // new-user review 10: not +0.01
		{99.8648, 99.8612, "%", "99.865 %", "99.861 %", 0.004},
		{-12.4, 3.4, "points", "−12", "+3", -15},
		{1234.4, -1000.2, "currency", "1,234 USD", "-1,000 USD", 2234},
		{2.504, 2.496, "x", "2.504×", "2.496×", 0.008}, // alike at the unit's decimals: more on both
	} {
		got := ChangeShown(c.cur, c.prev, c.unit, "USD")
		if got.Now != c.now || got.Before != c.before || math.Abs(got.Diff-c.diff) > 1e-9 || !got.RelativeOK {
			t.Errorf("ChangeShown(%v, %v, %s) = %+v, want %s, %s, %v", c.cur, c.prev, c.unit, got, c.now, c.before, c.diff)
		}
		if (got.Diff > 0) != (c.cur > c.prev) {
			t.Errorf("ChangeShown(%v, %v): the change's sign is not the move's", c.cur, c.prev)
		}
	}
	if got := ChangeShown(0.001, 0, "%", ""); got.RelativeOK {
		t.Errorf("a change from a figure of 0 has a relative change: %+v", got)
	}
}

// TestSeriesFigures: a weekly column keeps the unit's precision unless two
// neighbouring values that differ would read alike; then the whole column
// takes the fewest more decimals that tell them apart.
func TestSeriesFigures(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	for _, c := range []struct {
		values []*float64
		unit   string
		want   string
	}{
		// mttr on the demo, degrading: 3.66 then 3.72 h had read 3.7, 3.7.
		{[]*float64{f(1.8031), f(3.1256), f(3.6553), f(3.7225)}, "hours", "1.8 h|3.13 h|3.66 h|3.72 h"},
		{[]*float64{f(99.881), f(99.879), f(99.862), f(99.858)}, "%", "99.881 %|99.879 %|99.862 %|99.858 %"},
		// Equal neighbours, and alike ones parted by a nil, need nothing more.
		{[]*float64{f(3.7), f(3.7), f(2.1)}, "hours", "3.7 h|3.7 h|2.1 h"},
		{[]*float64{f(3.66), nil, f(3.1)}, "hours", "3.7 h|—|3.1 h"},
		{[]*float64{f(3.66), nil, f(3.72)}, "hours", "3.66 h|—|3.72 h"},
		{[]*float64{f(1000.2), f(1000.4)}, "currency", "1,000 USD|1,000 USD"},
		{[]*float64{f(5), f(5.0000001)}, "count", "5|5"},
		{nil, "%", ""},
	} {
		if got := strings.Join(SeriesFigures(c.values, c.unit, "USD"), "|"); got != c.want {
			t.Errorf("SeriesFigures(%v, %q) = %q, want %q", c.values, c.unit, got, c.want)
		}
	}
}

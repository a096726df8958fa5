package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/plural"
)

const day = 24 * time.Hour

// ParseWindow reads a window or freshness length: a whole number of days ("30d") or weeks ("2w"),
// which Go's time.ParseDuration does not know, or any Go duration ("12h", "90m", "1h30m"). A day
// is 24 h of elapsed time (SPEC §3). Zero, negative and unparsable lengths are refused.
func ParseWindow(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty duration: want a length such as 30d, 2w, 12h or 90m")
	}
	var d time.Duration
	if n, unit, ok := cutDays(t); ok {
		per := day
		if unit == 'w' {
			per = 7 * day
		}
		count, err := strconv.ParseInt(n, 10, 64)
		if err != nil || count > math.MaxInt64/int64(per) || count < math.MinInt64/int64(per) {
			return 0, fmt.Errorf("invalid duration %q: want a whole number of days or weeks such as 30d or 2w", s)
		}
		d = time.Duration(count) * per
	} else {
		var err error
		d, err = time.ParseDuration(t)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a length such as 30d, 2w, 12h or 90m", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: must be greater than zero", s)
	}
	return d, nil
}

// MaxMetricWindow bounds the window a metric is computed over: a read's (?window=, --window)
// and a definition's (the catalog, an override or proposal, an organisation's metric). A
// metric looks back further than its window — the window before it for the trend, four more
// for the themes' baseline — and the engine counts time in nanoseconds since 1970, which reach
// back only to 1678: one request with window=100000d brought the whole server down. Ten years
// and a little covers every window a KPI is read over.
const MaxMetricWindow = 3660 * day

// EarliestAsOf is the earliest as_of answered. The engine counts time in
// nanoseconds since 1970, which reach back only to 1678, and a metric looks
// back several windows from as_of (MaxMetricWindow): an as_of in 1678
// brought the whole server down. No KPI is read as of before 1970. It is
// here, not in web, so that a month (ParseMonth), read by the CLI and the
// board pack as well as the server, is held to it too.
var EarliestAsOf = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// MinMetricWindow is the shortest window a metric is computed over. Go's "1m" is a minute:
// window=1m, written for a month, had been answered over one minute (deployment frequency
// 0/day, red, under "window 1m"). No KPI is read over less than an hour.
const MinMetricWindow = time.Hour

// ParseMetricWindow is ParseWindow for the window a metric is computed over, at least
// MinMetricWindow and at most MaxMetricWindow.
func ParseMetricWindow(s string) (time.Duration, error) {
	d, err := ParseWindow(s)
	if err == nil && d > MaxMetricWindow {
		return 0, fmt.Errorf("%s is longer than a window may be (at most %s, ten years)", strings.TrimSpace(s), FormatWindow(MaxMetricWindow))
	}
	if err == nil && d < MinMetricWindow {
		length := plural.Count(int(d/time.Second), "second")
		if d%time.Minute == 0 {
			length = plural.Count(int(d/time.Minute), "minute")
		}
		return 0, fmt.Errorf("%s is %s, shorter than a window may be (at least %s): for a month write 30d, or give a calendar month",
			strings.TrimSpace(s), length, FormatWindow(MinMetricWindow))
	}
	return d, err
}

// cutDays splits "30d" into "30" and 'd'; it reports false for anything ParseDuration should see.
func cutDays(s string) (string, byte, bool) {
	unit := s[len(s)-1]
	if unit != 'd' && unit != 'w' {
		return "", 0, false
	}
	n := s[:len(s)-1]
	if n == "" {
		return "", 0, false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if (c < '0' || c > '9') && !(i == 0 && (c == '-' || c == '+')) {
			return "", 0, false
		}
	}
	return n, unit, true
}

// FormatWindow is ParseWindow's inverse in the largest whole unit, preferring days to weeks
// because windows are spoken of in days (7d, 30d, 90d): 720h → "30d", 168h → "7d", 36h → "36h",
// 90m → "90m". Anything finer falls back to Go's notation, which ParseWindow also reads.
func FormatWindow(d time.Duration) string {
	switch {
	case d <= 0:
		return d.String()
	case d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	default:
		return d.String()
	}
}

// WindowWords says a window as it is read: 720h → "30 days", 36h → "36 hours", 90m → "90 minutes".
func WindowWords(d time.Duration) string {
	switch {
	case d%day == 0:
		return plural.Count(int(d/day), "day")
	case d%time.Hour == 0:
		return plural.Count(int(d/time.Hour), "hour")
	}
	return plural.Count(int(d/time.Minute), "minute")
}

// SpanWords says a window as written ("30d") in words ("30 days"); one it cannot read, as it is.
func SpanWords(w string) string {
	d, err := ParseWindow(w)
	if err != nil {
		return w
	}
	return WindowWords(d)
}

package catalog

import (
	"fmt"
	"strings"
	"time"
)

// Month is a calendar month in UTC, the period a month-end report is read
// over. A metric's window is rolling — [as_of − window, as_of) — so a month
// is that window with as_of the first instant of the next month and the
// month's length in days: a date as as_of is that day's 00:00, and
// as_of=2026-10-31&window=30d had left October's last day out. Months are
// UTC because windows and days are (SPEC §3); a business calendar's time
// zone applies only to business-hours availability.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads a month as YYYY-MM ("2026-10"), refusing one whose
// as_of would be before EarliestAsOf, as an as_of is refused: every month
// (month=, --month, a board pack's, a reconciliation's, a share's) is read
// here, and the CLI had answered --month 1600-01 where it refuses
// --as-of 1600-02-01.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", strings.TrimSpace(s))
	if err != nil {
		return Month{}, fmt.Errorf("%q is not a month: want YYYY-MM, such as 2026-10", s)
	}
	m := Month{t.Year(), t.Month()}
	if m.End().Before(EarliestAsOf) {
		return m, fmt.Errorf("%s is too early: Candor answers as of %s or later, so for %s or a later month", m, EarliestAsOf.Format(time.DateOnly), EarliestAsOf.AddDate(0, -1, 0).Format("2006-01"))
	}
	return m, nil
}

// MonthInstead reads a month given instead of an as_of and a window
// (month=, --month, a reconciliation's or a share's "month"), which it
// stands for: refused beside either (which would count is a guess),
// mistyped, too early, or not ended by now. One rule for every reader;
// each names the parameter in its own vocabulary.
func MonthInstead(v string, withAsOfOrWindow bool, now time.Time) (Month, error) {
	if withAsOfOrWindow {
		return Month{}, fmt.Errorf("give a month or an as-of and a window, not both: %s stands for both", strings.TrimSpace(v))
	}
	m, err := ParseMonth(v)
	if err != nil {
		return m, err
	}
	return m, m.Ended(now)
}

// Start is the month's first instant.
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC) }

// End is the first instant of the next month: the as_of the month is read at.
func (m Month) End() time.Time { return m.Start().AddDate(0, 1, 0) }

// Window is the month's length: 28 to 31 days.
func (m Month) Window() time.Duration { return m.End().Sub(m.Start()) }

// String is the month as ParseMonth reads it.
func (m Month) String() string { return m.Start().Format("2006-01") }

// Words is the month as people say it: "October 2026".
func (m Month) Words() string { return m.Start().Format("January 2006") }

// Ended refuses a month that has not ended by now: its as_of would be in
// the future, and a month read before its end would be judged as if its
// last days had nothing in them.
func (m Month) Ended(now time.Time) error {
	if m.End().After(now) {
		return fmt.Errorf("%s has not ended (it ends %s UTC): ask for an ended month, such as %s", m, m.End().Format("2006-01-02 15:04"), LastMonths(now, 1)[0])
	}
	return nil
}

// MonthOf is the calendar month that as_of and window cover exactly, if
// they do: a page asked for as_of=2026-11-01&window=31d says "October 2026".
func MonthOf(asOf time.Time, window time.Duration) (Month, bool) {
	asOf = asOf.UTC()
	if window <= 0 || !asOf.Equal(time.Date(asOf.Year(), asOf.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		return Month{}, false
	}
	start := asOf.AddDate(0, -1, 0)
	m := Month{start.Year(), start.Month()}
	return m, m.Window() == window
}

// LastMonths are the n calendar months that ended by now, newest first.
func LastMonths(now time.Time, n int) []Month {
	now = now.UTC()
	out := make([]Month, 0, n)
	for i := 1; i <= n; i++ {
		t := time.Date(now.Year(), now.Month()-time.Month(i), 1, 0, 0, 0, 0, time.UTC)
		out = append(out, Month{t.Year(), t.Month()})
	}
	return out
}

// MonthOfWindow is MonthOf for a window as written ("31d"), as the cards
// and answers carry it; one that does not parse is no month.
func MonthOfWindow(asOf time.Time, window string) (Month, bool) {
	d, err := ParseWindow(window)
	if err != nil {
		return Month{}, false
	}
	return MonthOf(asOf, d)
}

// WindowNote is a header's window, naming the calendar month it is when it
// is one ("28d: February 2026"): an as_of of 2026-03-01 alone reads as March.
func WindowNote(asOf time.Time, window string) string {
	if m, ok := MonthOfWindow(asOf, window); ok {
		return window + ": " + m.Words()
	}
	return window
}

// MonthField is the month as_of and window cover exactly, as YYYY-MM, or
// empty: the answers' "month", so that a client need not work it out.
// Callers pass a window the read asked for: one read with each metric's
// own window names none, even as of a month's first instant.
func MonthField(asOf time.Time, window time.Duration) string {
	if m, ok := MonthOf(asOf, window); ok {
		return m.String()
	}
	return ""
}

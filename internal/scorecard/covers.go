package scorecard

import (
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// spanWords is what the people-facing texts say a metric's value covers,
// by its span (catalog.Metric.Span), in each place it is said: one table,
// so that a new span is worded everywhere or a test fails (a page, the
// trend caption and the digest had each switched over the spans in their
// own words, and a span added to one would have read as a window in the
// others).
type spanWords struct {
	// label heads the page's and `candor metric`'s line ("Window").
	label string
	// page is that line's words, for a value shown with window (its
	// text, "30d"; w its length when it parses) as of at.
	page func(window string, w time.Duration, ok bool, at time.Time) string
	// trend captions the 12-week trend: what each point and figure (the
	// page's "the figure above", a card's "the figure beside it") cover.
	trend func(window, figure string) string
	// week is what a digest's line, a value over the week to its end
	// (computed with window, "7d"), covers.
	week func(window string) string
	// column is a short form for a table's column of what each row's
	// figure covers (the board pack's appendix), with window ("30d"):
	// every row had read "30d", NRR's year-old cohort and ARR's state at
	// the month's end among them.
	column func(window string) string
}

var spans = map[string]spanWords{
	catalog.SpanWindow: {
		label: "Window",
		page: func(window string, w time.Duration, ok bool, at time.Time) string {
			if m, isMonth := catalog.MonthOf(at, w); ok && isMonth {
				return m.Words() + " (" + window + " ending " + stamp(at) + ")"
			}
			return window + " ending " + stamp(at)
		},
		trend: func(window, figure string) string {
			return "each point one week's value; " + figure + " covers " + catalog.SpanWords(window)
		},
		week:   func(window string) string { return "over the last " + catalog.SpanWords(window) },
		column: func(window string) string { return window },
	},
	catalog.SpanInstant: {
		label: "As of",
		page: func(window string, _ time.Duration, _ bool, at time.Time) string {
			return "the state at " + stamp(at) + " (the trend compares it with the state " + window + " before)"
		},
		trend: func(_, figure string) string {
			return "each point the state at its week's end; " + figure + " is the state at the page's time"
		},
		week:   func(string) string { return "at the week's end" },
		column: func(string) string { return "state at the end" },
	},
	catalog.SpanYear: {
		label: "Cohort",
		page: func(_ string, _ time.Duration, _ bool, at time.Time) string {
			return "the customers active on " + at.UTC().AddDate(0, 0, -365).Format("2 Jan 2006") + ": their recurring revenue then and at " + stamp(at)
		},
		trend: func(_, figure string) string {
			return "each point the cohort of a year before its week's end; " + figure + ", the cohort of a year before the page's time"
		},
		week:   func(string) string { return "for the customers active a year before the week's end" },
		column: func(string) string { return "365d cohort" },
	},
	catalog.SpanQuotaPeriod: {
		label: "Period",
		page: func(_ string, _ time.Duration, _ bool, at time.Time) string {
			return "the quota period holding " + stamp(at) + ", up to then"
		},
		trend: func(_, figure string) string {
			return "each point the quota period holding its week's end, up to then; " + figure + ", the period holding the page's time"
		},
		week:   func(string) string { return "over the quota period to the week's end" },
		column: func(string) string { return "quota period" },
	},
	catalog.SpanCohort: {
		label: "Covers",
		page: func(window string, _ time.Duration, _ bool, at time.Time) string {
			return "the leads created over " + catalog.SpanWords(window) + " ending a maturation lag before " + stamp(at) + ", followed to then"
		},
		trend: func(window, figure string) string {
			return "each point the leads created in one week a maturation lag before its end; " + figure + ", those created over " + catalog.SpanWords(window)
		},
		week:   func(string) string { return "for the leads created in a week a maturation lag before" },
		column: func(window string) string { return window + " cohort of leads" },
	},
	catalog.SpanNinetyDays: {
		label: "Covers",
		page: func(window string, _ time.Duration, _ bool, at time.Time) string {
			words := "the 90 days ending " + stamp(at)
			if window != "90d" {
				words += " (the definition's 90 days, whatever the window)"
			}
			return words
		},
		trend: func(_, figure string) string {
			return "each point the 90 days to its week's end; " + figure + ", the 90 days to the page's time"
		},
		week:   func(string) string { return "over the 90 days to the week's end" },
		column: func(string) string { return "90d" },
	},
	catalog.SpanBeforeWindow: {
		label: "Baseline",
		page: func(window string, w time.Duration, ok bool, at time.Time) string {
			if !ok {
				// No window to start from: the baseline cannot be placed.
				return "the 90 days before the " + window + " window ending " + stamp(at)
			}
			return "the 90 days before " + stamp(at.Add(-w)) + ", where the " + window + " window starts"
		},
		trend: func(_, figure string) string {
			return "each point the 90 days before its week; " + figure + ", the 90 days before the window's start"
		},
		week:   func(window string) string { return "over the 90 days before the last " + catalog.SpanWords(window) },
		column: func(string) string { return "90d before it" },
	},
}

func stamp(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 MST") }

// wordsOf is span's wording; a span the table lacks (a catalog newer than
// this code) is worded as a window, the catalog's default.
func wordsOf(span string) spanWords {
	if w, ok := spans[span]; ok {
		return w
	}
	return spans[catalog.SpanWindow]
}

// Covers says what stretch of time a value of a metric with span, shown
// with window (its text, "30d") as of asOf, covers: a label and the words.
func Covers(span, window string, asOf time.Time) (string, string) {
	w, err := catalog.ParseWindow(window)
	sw := wordsOf(span)
	return sw.label, sw.page(window, w, err == nil, asOf)
}

// Covers says what stretch of time d's value covers, as the metric page,
// candor metric and a link to the metric say it: Covers of its span,
// window and as_of, and, for a month that opens a quota period, why it
// reads the next one (MonthOpensPeriod). One function, so that the three
// say the same: the note had been added on two of them only.
func (d *MetricDetail) Covers() (label, words string) {
	span := d.Definition.Span
	label, words = Covers(span, d.Card.Window, d.AsOf)
	if dates, ok := QuotaPeriodDates(span, d.Card.Detail); ok {
		words = "the quota period " + dates + ", up to " + stamp(d.AsOf)
	} else if d.Closing {
		words = "the quota period holding the last instant before " + stamp(d.AsOf) + ", up to then"
	}
	if d.Closing {
		// Its period holds the instant before as_of: at a quarter's end,
		// the quarter that ends there.
		return label, words + " (a closing read)"
	}
	// A metric that looks ahead (pipeline coverage) reads the period
	// beginning at as_of closing or not: the board pack reports that one.
	if note := MonthOpensPeriod(span, d.Card.Window, d.AsOf, d.Card.Detail); note != "" && d.closes {
		words += ": " + note
	}
	return label, words
}

// ReadsClosing says whether a closing read (Options.Closing) changes what
// m reads: a quota-period metric looking back over its period (quota
// attainment, an organisation's bookings), not one looking ahead
// (metrics.ReadsClosing: pipeline coverage), nor any other. The cards,
// metric pages, their words and links and the evidence pack's rederive
// all ask this one question.
func ReadsClosing(m *catalog.Metric) bool {
	return m.Span == catalog.SpanQuotaPeriod && metrics.ReadsClosing(m.ID)
}

// QuotaPeriodDates is a quota-period metric's period by its dates, "1 Jul
// 2026 – 30 Sep 2026" (its end exclusive: a quarter ending 1 October is
// 30 September's), as the board pack names it; false when the value
// names no period.
func QuotaPeriodDates(span string, d metrics.Detail) (string, bool) {
	ps, pe := d.PeriodStart, d.PeriodEnd
	if span != catalog.SpanQuotaPeriod || ps == nil || pe == nil {
		return "", false
	}
	return ps.UTC().Format("2 Jan 2006") + " – " + pe.UTC().Add(-time.Nanosecond).Format("2 Jan 2006"), true
}

// TrendCovers says what each point of the 12-week trend of a metric with
// span covers, and the figure above it (shown with window, "30d"): a
// window metric's point is its week's value beside a figure over the
// window; a state's point is the state at its week's end, as the figure
// is the state at as_of (not "covers 30 days", which it does not).
func TrendCovers(span, window string, closing bool) string {
	return trendWords(span, window, "the figure above", closing)
}

// trendWords is span's trend caption; read closing (Options.Closing), a
// quota period's points and figure are the periods holding the instant
// before their ends — at a quarter's end the quarter ending there, where
// "the period holding the page's time" named the next one.
func trendWords(span, window, figure string, closing bool) string {
	if closing {
		return "each point the quota period holding the instant before its week's end, up to then; " + figure +
			", the period holding the instant before the page's time (a closing read)"
	}
	return wordsOf(span).trend(window, figure)
}

// WeekCovers says what a digest's value over the week to its end,
// computed with window ("7d"), covers: every span says it (a digest's
// NRR and pipeline coverage lines had said nothing).
func WeekCovers(span, window string) string { return wordsOf(span).week(window) }

// ColumnCovers is what a figure of a metric with span, shown with window
// ("30d"), covers, short enough for a table's column: the window, "state
// at the end", "365d cohort", "quota period", "90d before it".
func ColumnCovers(span, window string) string { return wordsOf(span).column(window) }

// WeekCoversUsual says whether words are what WeekCovers says of a window
// metric over a digest's usual week: the line need not repeat what the
// digest's heading says of them all.
func WeekCoversUsual(words string) bool { return words == WeekCovers(catalog.SpanWindow, "7d") }

// MonthBefore says what a trend's previous value covers when the value,
// of a metric with span shown with window as of asOf, is a calendar
// month's: the window before is as long as the month and ends where it
// starts (SPEC §3), so it is seldom the month before — October's is 31
// Aug – 30 Sep, not September (January's is December: TrendBefore) — and
// a reader told "the 31 days before" under "October 2026" reads September. A window metric's is those dates ("31
// Aug – 30 Sep 2026"); any other span's previous value is the value as of
// the month's start, which is named ("1 Oct 2026 00:00 UTC"). inWindow
// says which. ok is false when the window is not a calendar month, which
// "the 30 days before" says well enough.
func MonthBefore(span, window string, asOf time.Time) (words string, inWindow, ok bool) {
	m, isMonth := catalog.MonthOfWindow(asOf, window)
	if !isMonth {
		return "", false, false
	}
	w := m.Window()
	start := asOf.UTC().Add(-w)
	if _, known := spans[span]; known && span != catalog.SpanWindow {
		return stamp(start), false, true
	}
	from, to := start.Add(-w), start.Add(-time.Nanosecond)
	layout := "2 Jan"
	if from.Year() != to.Year() {
		layout = "2 Jan 2006"
	}
	return from.Format(layout) + " – " + to.Format("2 Jan 2006"), true, true
}

// TrendBefore says, after "vs" and the previous value, what that value
// covers, for a value of a metric with span shown with window as of asOf:
// a calendar month's by its dates (MonthBefore), others as "the 30 days
// before" — a window metric's "in" them, a state's or cohort's as of that
// long before (it does not cover the 30 days).
func TrendBefore(span, window string, asOf time.Time) string {
	if words, inWindow, ok := MonthBefore(span, window, asOf); ok {
		if !inWindow {
			return "at " + words + ", the month's start"
		}
		m, _ := catalog.MonthOfWindow(asOf, window)
		before := "in " + words + ", the " + catalog.SpanWords(window) + " before " + m.Words()
		// January and August are as long as the month before them, whose
		// days the window before then is: "not December" of 1–31 Dec
		// would be false.
		if prev, ok := PreviousMonthIsWindowBefore(m); ok {
			return before + ": " + prev.Start().Format("January")
		}
		return before + ", not " + m.Start().AddDate(0, -1, 0).Format("January")
	}
	if _, known := spans[span]; known && span != catalog.SpanWindow {
		return catalog.SpanWords(window) + " before"
	}
	return "in the " + catalog.SpanWords(window) + " before"
}

// PreviousMonthIsWindowBefore says whether the window before month m
// (as long as m, ending at its start: SPEC §3) is the calendar month
// before it, as it is when the two are as long (December and January, July
// and August), and gives that month.
func PreviousMonthIsWindowBefore(m catalog.Month) (catalog.Month, bool) {
	prev, ok := catalog.MonthOf(m.Start(), m.Window())
	return prev, ok
}

// MonthOpensPeriod says, of a quota-period metric's value read for a
// calendar month (as of its end, with window its days), that the period
// it covers starts at that very instant, when it does: a month that closes
// a quota period (September, a quarter's last) is read over the next one,
// which has only begun (0 % won), while the month's board pack reports
// the period the month closes (Options.Closing). Empty otherwise: a
// mid-period month's period is the board pack's too.
func MonthOpensPeriod(span, window string, asOf time.Time, d metrics.Detail) string {
	m, ok := MonthClosingPeriod(span, window, asOf, d)
	if !ok {
		return ""
	}
	return "it starts at that instant, so nothing of it has gone yet; " + closedBy(m)
}

// ClosingOffer is the words of a link to the closing read of a metric a
// closing read changes (ReadsClosing), read at the instant at the first
// instant of its quota period: "Read the period March 2026 closes" for a
// calendar month, else "Read the period closing at 1 Apr 2026 00:00 UTC"
// (an auditor opens a quarter with as_of and window). "" otherwise.
func (d *MetricDetail) ClosingOffer() string {
	det := d.Card.Detail
	if !d.closes || d.Closing || det.PeriodStart == nil || !det.PeriodStart.Equal(d.AsOf) {
		return ""
	}
	if m, ok := MonthClosingPeriod(d.Definition.Span, d.Card.Window, d.AsOf, det); ok {
		return "Read the period " + m.Words() + " closes"
	}
	return "Read the period closing at " + stamp(d.AsOf)
}

// ReadsClosing is ReadsClosing of the page's metric: its page carries a
// closing read for its links, and says nothing of it, when false.
func (d *MetricDetail) ReadsClosing() bool { return d.closes }

// MonthClosingPeriod is the calendar month whose value read at its end
// (as of asOf, over window) is the quota period beginning then
// (MonthOpensPeriod): a page offers to read the one the month closes
// instead (Options.Closing).
func MonthClosingPeriod(span, window string, asOf time.Time, d metrics.Detail) (catalog.Month, bool) {
	if span != catalog.SpanQuotaPeriod || d.PeriodStart == nil || !d.PeriodStart.Equal(asOf) {
		return catalog.Month{}, false
	}
	return catalog.MonthOfWindow(asOf, window)
}

// closedBy names where the quota period month m closes is reported.
func closedBy(m catalog.Month) string {
	return "the period " + m.Words() + " closes is the one the month's board pack reports (candor report board --month " + m.String() +
		"), and a closing read gives (--closing, closing=1)"
}

// PeriodJustBegun says why a value judged against the elapsed share of its
// quota period (thresholds relative to elapsed) has no status as of the
// instant the period starts: none of it has gone, so no share of the quota
// is due yet (catalog's Judge). It had been worded "no target set", though
// the period's quota was there, on the card of every month that closes a
// quarter. For such a month (as of its end, with window its days) it adds
// where the period the month closes is reported. Empty when the period
// does not start at asOf.
func PeriodJustBegun(window string, asOf time.Time, d metrics.Detail) string {
	if d.PeriodStart == nil || !d.PeriodStart.Equal(asOf) {
		return ""
	}
	why := "the quota period starts at this instant (" + stamp(asOf) + "), so none of it has gone and no pace is due yet"
	if m, isMonth := catalog.MonthOfWindow(asOf, window); isMonth {
		why += "; " + closedBy(m)
	}
	return why
}

// SeriesCovers says, beside a card's weekly line, what each point and the
// figure beside it cover — a state at each week's end, a year-old cohort,
// the 90 days to it — where the scorecard had said "one week's value" of
// every metric's points.
func (c *Card) SeriesCovers() string {
	return trendWords(c.span, c.Window, "the figure beside it", c.closing)
}

// ChartCovers is SeriesCovers under a figure shown above the chart (a
// role view's panel).
func (c *Card) ChartCovers() string {
	return trendWords(c.span, c.Window, "the figure above", c.closing)
}

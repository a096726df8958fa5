package metrics

import (
	"fmt"
	"strings"
	"time"
	// Business calendars name IANA time zones; the binary carries the
	// database so a host without one (a scratch container) reads them too.
	_ "time/tzdata"
)

// Calendar is a business calendar (SPEC §3 business_hours_availability):
// the weekdays and the local hours a business is open, in a time zone.
// Hours are local wall-clock time, so 09:00 in Europe/London is 09:00 UTC
// in winter and 08:00 UTC in summer. Empty fields take another calendar's
// (Resolve): a service's calendar inherits the organisation's.
type Calendar struct {
	// TimeZone is an IANA name (Europe/London, America/New_York, UTC).
	TimeZone string `yaml:"time_zone" json:"time_zone"`
	// Days are the open weekdays: mon, tue, wed, thu, fri, sat, sun.
	Days []string `yaml:"days" json:"days"`
	// Start and End are the local opening and closing times, HH:MM
	// (End may be 24:00); a period counts when it lies within them.
	Start string `yaml:"start" json:"start"`
	End   string `yaml:"end" json:"end"`

	loc        *time.Location
	open       [7]bool
	start, end int // minutes after local midnight
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// DefaultCalendar is SPEC §3's default: Monday to Friday, 09:00–17:00 UTC.
func DefaultCalendar() Calendar {
	c, err := Calendar{TimeZone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}.Resolve(Calendar{})
	if err != nil {
		panic(err)
	}
	return c
}

// Resolve fills c's empty fields from base and checks it: a known time
// zone, known weekdays (at least one), HH:MM times with start before end.
// An error names the field at fault (time_zone, days, start, end).
func (c Calendar) Resolve(base Calendar) (Calendar, error) {
	if c.TimeZone == "" {
		c.TimeZone = base.TimeZone
	}
	if c.Days == nil {
		c.Days = base.Days
	}
	if c.Start == "" {
		c.Start = base.Start
	}
	if c.End == "" {
		c.End = base.End
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" || strings.EqualFold(c.TimeZone, "local") {
		return c, fmt.Errorf("time_zone: %q is not an IANA time zone (Europe/London, America/New_York, UTC)", c.TimeZone)
	}
	c.loc = loc
	c.open = [7]bool{}
	days := make([]string, 0, len(c.Days))
	for _, d := range c.Days {
		i := -1
		for k, w := range weekdays {
			if strings.EqualFold(strings.TrimSpace(d), w) {
				i = k
			}
		}
		if i < 0 {
			return c, fmt.Errorf("days: %q is not a weekday (%s)", d, strings.Join(weekdays[1:], ", ")+", sun")
		}
		c.open[i] = true
	}
	for k := 1; k <= 7; k++ {
		if c.open[k%7] {
			days = append(days, weekdays[k%7])
		}
	}
	if len(days) == 0 {
		return c, fmt.Errorf("days: no weekday is open")
	}
	c.Days = days
	if c.start, err = clockMinutes(c.Start); err != nil {
		return c, fmt.Errorf("start: %v", err)
	}
	if c.end, err = clockMinutes(c.End); err != nil {
		return c, fmt.Errorf("end: %v", err)
	}
	if c.end <= c.start {
		return c, fmt.Errorf("end: %s is not after start %s", c.End, c.Start)
	}
	return c, nil
}

// clockMinutes reads HH:MM (00:00 … 24:00) as minutes after midnight.
func clockMinutes(s string) (int, error) {
	var h, m int
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("%q is not a time HH:MM (09:00)", s)
	}
	if _, err := fmt.Sscanf(s, "%02d:%02d", &h, &m); err != nil || h > 24 || m > 59 || h == 24 && m > 0 {
		return 0, fmt.Errorf("%q is not a time HH:MM (09:00)", s)
	}
	return h*60 + m, nil
}

// resolved reports whether Resolve made the calendar.
func (c Calendar) resolved() bool { return c.loc != nil }

// contains reports whether the period [start, end) (unix ns) lies within
// one open day's hours, in the calendar's local time.
func (c Calendar) contains(start, end int64) bool {
	s := time.Unix(0, start).In(c.loc)
	if !c.open[s.Weekday()] {
		return false
	}
	y, m, d := s.Date()
	open := time.Date(y, m, d, c.start/60, c.start%60, 0, 0, c.loc).UnixNano()
	closed := time.Date(y, m, d, c.end/60, c.end%60, 0, 0, c.loc).UnixNano()
	return start >= open && end <= closed
}

// String describes the calendar for people: "mon–fri 09:00–17:00
// Europe/London".
func (c Calendar) String() string {
	days := strings.Join(c.Days, ", ")
	if len(c.Days) == 5 && c.open[1] && c.open[5] && !c.open[0] && !c.open[6] {
		days = "mon–fri"
	}
	return days + " " + c.Start + "–" + c.End + " " + c.TimeZone
}

// calendarOf is the business calendar a service's SLIs are judged by: its
// own, else the organisation's, else the default.
func (c *Config) calendarOf(service string) Calendar {
	if s, ok := c.ServiceHours[service]; ok && s.resolved() {
		return s
	}
	return c.orgCalendar()
}

// orgCalendar is the organisation's business calendar (the default unless
// configured).
func (c *Config) orgCalendar() Calendar {
	if c.BusinessHours.resolved() {
		return c.BusinessHours
	}
	return defaultCalendar
}

var defaultCalendar = DefaultCalendar()

package importer

import (
	"fmt"
	"strings"
	"time"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// timeReader reads the timestamps other tools write: RFC 3339 (FOCUS,
// scanners), Salesforce's API form with a colon-less offset
// (2024-01-10T09:15:30.000+0000), dates and times without an offset (CRM
// exports, read in loc), bare dates (midnight in loc), and, only when the
// user says which order they are in, dates with slashes.
type timeReader struct {
	loc   *time.Location
	slash string // "", "mdy" or "dmy"
}

var withOffset = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999-0700",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-0700",
}

var withoutOffset = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
}

// slashTimes are the time parts a slash date may carry (spreadsheet and
// CRM report exports).
var slashTimes = []string{"", " 15:04", " 15:04:05", " 3:04 PM", " 3:04:05 PM"}

func (r timeReader) location() *time.Location {
	if r.loc == nil {
		return time.UTC
	}
	return r.loc
}

// read parses s; dateOnly reports a value with no time of day.
func (r timeReader) read(s string) (t time.Time, dateOnly bool, err error) {
	s = strings.TrimSpace(s)
	loc := r.location()
	for _, layout := range withOffset {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), false, nil
		}
	}
	for _, layout := range withoutOffset {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), false, nil
		}
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t.UTC(), true, nil
	}
	if strings.Count(s, "/") == 2 {
		if r.slash == "" {
			return time.Time{}, false, fmt.Errorf("%q is a date with slashes, which does not say whether the month or the day comes first: pass --slash-dates mdy or dmy", s)
		}
		date := "1/2/2006"
		if r.slash == "dmy" {
			date = "2/1/2006"
		}
		for _, year := range []string{"2006", "06"} {
			for _, clock := range slashTimes {
				layout := strings.Replace(date, "2006", year, 1) + clock
				if t, err := time.ParseInLocation(layout, strings.ToUpper(s), loc); err == nil {
					return t.UTC(), clock == "", nil
				}
			}
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is not a date and time (e.g. 2026-03-01T12:00:00Z or 2026-03-01)", s)
}

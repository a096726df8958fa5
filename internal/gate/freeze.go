package gate

import (
	"fmt"
	"strings"
	"time"
)

// FreezeConfig lists the change-freeze windows and the exceptions granted
// from them.
type FreezeConfig struct {
	Severity   Severity          `yaml:"severity"`
	Windows    []WindowConfig    `yaml:"windows"`
	Exceptions []ExceptionConfig `yaml:"exceptions"`
	Approvers  []string          `yaml:"approvers"`
}

// WindowConfig is a freeze window in a time zone: one-off (start and end,
// local times YYYY-MM-DDTHH:MM) or weekly (from and to, "fri 16:00").
// Local times follow the zone's daylight-saving changes.
type WindowConfig struct {
	Name     string        `yaml:"name"`
	TimeZone string        `yaml:"time_zone"`
	Start    string        `yaml:"start"`
	End      string        `yaml:"end"`
	Weekly   *WeeklyConfig `yaml:"weekly"`
	Scope    *Scope        `yaml:"scope"`
}

// WeeklyConfig is a window that recurs every week; from after to wraps
// over the week's end (fri 16:00 → mon 08:00).
type WeeklyConfig struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// ExceptionConfig lets releases through a window: for the services, tiers
// and environments of its scope, between from and until (RFC 3339; both
// optional: the whole window), on a documented risk acceptance that
// someone approved. A seasonal relaxation is an exception with from and
// until.
type ExceptionConfig struct {
	Window         string `yaml:"window"`
	Scope          Scope  `yaml:"scope"`
	From           string `yaml:"from"`
	Until          string `yaml:"until"`
	RiskAcceptance string `yaml:"risk_acceptance"`
	ApprovedBy     string `yaml:"approved_by"`
}

type freeze struct {
	severity   Severity
	windows    []window
	exceptions []exception
}

type window struct {
	name       string
	loc        *time.Location
	start, end localTime // one-off
	weekly     bool
	from, to   weekTime
	scope      Scope
}

// localTime is a wall-clock time, resolved in the window's zone when
// compared, so that a window keeps its local hours across a DST change.
type localTime struct{ y, mo, d, h, mi int }

func (l localTime) in(loc *time.Location) time.Time {
	return time.Date(l.y, time.Month(l.mo), l.d, l.h, l.mi, 0, 0, loc)
}

// weekTime is minutes since Sunday 00:00, local.
type weekTime int

type exception struct {
	window         string
	scope          Scope
	from, until    time.Time
	riskAcceptance string
	approvedBy     string
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

func parseWeekTime(s string) (weekTime, error) {
	f := strings.Fields(strings.ToLower(s))
	if len(f) != 2 {
		return 0, fmt.Errorf("%q is not a weekday and time such as \"fri 16:00\"", s)
	}
	wd, ok := weekdays[f[0][:min(3, len(f[0]))]]
	if !ok {
		return 0, fmt.Errorf("%q: %q is not a weekday (mon … sun)", s, f[0])
	}
	t, err := time.Parse("15:04", f[1])
	if err != nil {
		return 0, fmt.Errorf("%q: %q is not a time HH:MM", s, f[1])
	}
	return weekTime(int(wd)*24*60 + t.Hour()*60 + t.Minute()), nil
}

func parseLocal(s string) (localTime, error) {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		return localTime{}, fmt.Errorf("%q is not a local time YYYY-MM-DDTHH:MM", s)
	}
	return localTime{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute()}, nil
}

func compileFreeze(c FreezeConfig) (freeze, error) {
	f := freeze{severity: or(c.Severity, Deny)}
	if err := f.severity.check("freeze.severity", false); err != nil {
		return f, err
	}
	names := map[string]bool{}
	for i, wc := range c.Windows {
		field := fmt.Sprintf("freeze.windows[%d]", i)
		if strings.TrimSpace(wc.Name) == "" || names[wc.Name] {
			return f, fmt.Errorf("%s.name: each window needs a name of its own (%q)", field, wc.Name)
		}
		names[wc.Name] = true
		if wc.TimeZone == "" {
			return f, fmt.Errorf("%s.time_zone: required, an IANA zone such as Europe/Berlin (or UTC)", field)
		}
		loc, err := time.LoadLocation(wc.TimeZone)
		if err != nil {
			return f, fmt.Errorf("%s.time_zone: %q is not an IANA time zone", field, wc.TimeZone)
		}
		w := window{name: wc.Name, loc: loc, scope: productionOnly}
		if wc.Scope != nil {
			w.scope = *wc.Scope
		}
		switch {
		case wc.Weekly != nil && (wc.Start != "" || wc.End != ""):
			return f, fmt.Errorf("%s: give start and end (one-off) or weekly, not both", field)
		case wc.Weekly != nil:
			w.weekly = true
			if w.from, err = parseWeekTime(wc.Weekly.From); err != nil {
				return f, fmt.Errorf("%s.weekly.from: %v", field, err)
			}
			if w.to, err = parseWeekTime(wc.Weekly.To); err != nil {
				return f, fmt.Errorf("%s.weekly.to: %v", field, err)
			}
			if w.from == w.to {
				return f, fmt.Errorf("%s.weekly: from and to are the same time", field)
			}
		default:
			if w.start, err = parseLocal(wc.Start); err != nil {
				return f, fmt.Errorf("%s.start: %v", field, err)
			}
			if w.end, err = parseLocal(wc.End); err != nil {
				return f, fmt.Errorf("%s.end: %v", field, err)
			}
			if !w.end.in(loc).After(w.start.in(loc)) {
				return f, fmt.Errorf("%s: end %s is not after start %s", field, wc.End, wc.Start)
			}
		}
		f.windows = append(f.windows, w)
	}
	for i, ec := range c.Exceptions {
		field := fmt.Sprintf("freeze.exceptions[%d]", i)
		if !names[ec.Window] {
			return f, fmt.Errorf("%s.window: %q is not a freeze window's name", field, ec.Window)
		}
		e := exception{window: ec.Window, scope: ec.Scope, riskAcceptance: strings.TrimSpace(ec.RiskAcceptance), approvedBy: strings.TrimSpace(ec.ApprovedBy)}
		if e.riskAcceptance == "" {
			return f, fmt.Errorf("%s.risk_acceptance: required: the documented risk acceptance the exception rests on", field)
		}
		if e.approvedBy == "" {
			return f, fmt.Errorf("%s.approved_by: required: who approved the risk acceptance", field)
		}
		var err error
		if ec.From != "" {
			if e.from, err = time.Parse(time.RFC3339, ec.From); err != nil {
				return f, fmt.Errorf("%s.from: %q is not an RFC 3339 time", field, ec.From)
			}
		}
		if ec.Until != "" {
			if e.until, err = time.Parse(time.RFC3339, ec.Until); err != nil {
				return f, fmt.Errorf("%s.until: %q is not an RFC 3339 time", field, ec.Until)
			}
			if !e.from.IsZero() && !e.until.After(e.from) {
				return f, fmt.Errorf("%s: until is not after from", field)
			}
		}
		f.exceptions = append(f.exceptions, e)
	}
	return f, nil
}

// contains reports whether t falls in the window, judged in its zone.
func (w window) contains(t time.Time) bool {
	if !w.weekly {
		return !t.Before(w.start.in(w.loc)) && t.Before(w.end.in(w.loc))
	}
	l := t.In(w.loc)
	now := weekTime(int(l.Weekday())*24*60 + l.Hour()*60 + l.Minute())
	if w.from < w.to {
		return now >= w.from && now < w.to
	}
	return now >= w.from || now < w.to
}

func (e exception) covers(t time.Time) bool {
	return (e.from.IsZero() || !t.Before(e.from)) && (e.until.IsZero() || t.Before(e.until))
}

package report

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/candor/candor/internal/catalog"
)

// Config is the reports: section of the configuration.
type Config struct {
	// BaseURL is Candor's public address (https://candor.example.com):
	// the digest links to its pages. Without it the digest has no links.
	BaseURL string `yaml:"base_url"`
	// Recipients are who gets the digest, each within their own grants.
	Recipients []Recipient `yaml:"recipients"`
	Digest     Schedule    `yaml:"digest"`
	Board      BoardConfig `yaml:"board"`
}

// Recipient is an address and whose grants apply to what it gets: a
// Candor user's (User, read at each send, so a role change applies at
// once) or a list of roles.
type Recipient struct {
	Address string   `yaml:"address"`
	User    string   `yaml:"user"`
	Roles   []string `yaml:"roles"`
}

// Schedule is a report's cron expression (five fields, minute first, in
// UTC unless it starts with CRON_TZ=Zone); empty: not scheduled.
type Schedule struct {
	Schedule string `yaml:"schedule"`
}

// BoardConfig is the monthly board pack's schedule and recipients: addresses of
// configured recipients whose grants cover every metric in the pack.
type BoardConfig struct {
	Schedule string   `yaml:"schedule"`
	To       []string `yaml:"to"`
}

// Settings are a checked Config.
type Settings struct {
	BaseURL    string
	Recipients []Recipient
	// DigestAt and BoardAt are nil when not scheduled.
	DigestAt, BoardAt cron.Schedule
	DigestCron        string
	BoardCron         string
	BoardTo           []string
}

// CronParser reads the schedules: five standard fields or a descriptor
// (@weekly, @monthly).
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Setup checks c: every problem names file and line (line finds the line
// of a path under reports:, "recipients[1].roles"). checkRoles returns an
// error naming the unknown roles (auth.Grants.CheckRoles).
func Setup(c Config, file string, line func(path string) int, checkRoles func([]string) error) (Settings, error) {
	var errs []error
	bad := func(path, format string, a ...any) {
		fe := &catalog.FieldError{File: file, Field: "reports." + path, Msg: fmt.Sprintf(format, a...)}
		if line != nil {
			fe.Line = line(path)
		}
		errs = append(errs, fe)
	}
	s := Settings{BaseURL: strings.TrimRight(c.BaseURL, "/")}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			bad("base_url", "%q is not Candor's address, such as https://candor.example.com", c.BaseURL)
		}
	}
	known := map[string]bool{}
	for i, r := range c.Recipients {
		at := fmt.Sprintf("recipients[%d]", i)
		addr, err := mail.ParseAddress(r.Address)
		if err != nil || addr.Name != "" {
			bad(at+".address", "%q is not an e-mail address", r.Address)
			continue
		}
		if known[strings.ToLower(addr.Address)] {
			bad(at+".address", "%s is listed twice", addr.Address)
			continue
		}
		known[strings.ToLower(addr.Address)] = true
		switch {
		case r.User != "" && len(r.Roles) > 0:
			bad(at+".roles", "give user or roles, not both: a user's own roles apply")
			continue
		case r.User == "" && len(r.Roles) == 0:
			bad(at+".address", "%s needs user (a Candor user whose grants apply) or roles", r.Address)
			continue
		case r.User != "":
			if _, err := mail.ParseAddress(r.User); err != nil {
				bad(at+".user", "%q is not a user's e-mail address", r.User)
				continue
			}
		default:
			if err := checkRoles(r.Roles); err != nil {
				bad(at+".roles", "%v", err)
				continue
			}
		}
		r.Address = addr.Address
		s.Recipients = append(s.Recipients, r)
	}
	parse := func(path, expr string) cron.Schedule {
		if strings.TrimSpace(expr) == "" {
			return nil
		}
		sch, err := CronParser.Parse(expr)
		if err != nil {
			bad(path, "%q is not a cron expression (minute hour day-of-month month day-of-week, e.g. \"0 7 * * MON\"): %v", expr, err)
			return nil
		}
		return sch
	}
	s.DigestAt, s.DigestCron = parse("digest.schedule", c.Digest.Schedule), c.Digest.Schedule
	s.BoardAt, s.BoardCron = parse("board.schedule", c.Board.Schedule), c.Board.Schedule
	for i, to := range c.Board.To {
		addr, err := mail.ParseAddress(to)
		if err != nil || !known[strings.ToLower(addr.Address)] {
			bad(fmt.Sprintf("board.to[%d]", i), "%q is not one of the recipients: add it under reports.recipients with its user or roles", to)
			continue
		}
		s.BoardTo = append(s.BoardTo, addr.Address)
	}
	if s.BoardAt != nil && len(c.Board.To) == 0 {
		bad("board.schedule", "a scheduled board pack needs board.to: whom to send it to")
	}
	return s, errors.Join(errs...)
}

package config

import (
	"cmp"
	"os"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/report"
)

// ReportSettings checks the reports: section (recipients, schedules, base
// URL) against the roles: every problem names the file and line.
func (c Config) ReportSettings(cat *catalog.Catalog) (report.Settings, error) {
	g, err := c.Grants(cat)
	if err != nil {
		return report.Settings{}, err
	}
	var line func(string) int
	if c.src != nil {
		line = func(path string) int { return catalog.YAMLLine(c.src, "reports."+path) }
	}
	return report.Setup(c.Reports, orName(c.path), line, func(roles []string) error {
		_, err := g.CheckRoles(roles)
		return err
	})
}

// MailServer is the mail server the alerts and the reports send through
// (alerts.smtp, or CANDOR_SMTP_URL and CANDOR_SMTP_FROM); ok is false when
// none is configured.
func (c Config) MailServer() (srv alert.SMTP, ok bool, err error) {
	env := c.env
	if env == nil {
		env = os.Getenv
	}
	raw, from := cmp.Or(env("CANDOR_SMTP_URL"), c.Alerts.SMTP.URL), cmp.Or(env("CANDOR_SMTP_FROM"), c.Alerts.SMTP.From)
	if raw == "" {
		return alert.SMTP{}, false, nil
	}
	srv, err = alert.ParseSMTP(raw, from)
	return srv, err == nil, err
}

// ReportAnnotations are the configured annotations as the reports show
// them (checked by Periods at load).
func (c Config) ReportAnnotations() []report.Annotation {
	var out []report.Annotation
	for _, a := range c.Annotations {
		from, err1 := time.Parse(time.DateOnly, a.From)
		to, err2 := time.Parse(time.DateOnly, a.To)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, report.Annotation{Name: a.Name, Kind: a.Kind, From: from, To: to.AddDate(0, 0, 1)})
	}
	return out
}

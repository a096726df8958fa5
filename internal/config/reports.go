package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/annotation"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/report"
	"github.com/candor/candor/internal/store"
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
	if srv, err = alert.ParseSMTP(raw, from); err != nil {
		// Named where it was set, as the alert settings name it at load.
		var se *alert.SMTPError
		if !errors.As(err, &se) {
			return srv, false, err
		}
		field, variable := se.Where(c.Alerts.SMTP, env)
		return srv, false, fmt.Errorf("%s: %s", cmp.Or(variable, "alerts.smtp."+field), se.Reason)
	}
	return srv, true, nil
}

// ReportAnnotations are the annotations in force as the reports show them:
// the configured ones (checked by Periods at load) and, with docs, those
// posted over the API and not withdrawn, read when a report is made so a
// scheduled report sees the ones posted since the server started.
func (c Config) ReportAnnotations(docs store.DocStore) func(ctx context.Context) ([]report.Annotation, error) {
	return func(ctx context.Context) ([]report.Annotation, error) {
		all, err := annotation.List(ctx, docs, c.Annotations)
		if err != nil {
			return nil, err
		}
		out := make([]report.Annotation, 0, len(all))
		for _, a := range all {
			from, to := a.Span()
			out = append(out, report.Annotation{Name: a.Name, Kind: a.Kind, From: from, To: to})
		}
		return out, nil
	}
}

// Package insight turns the dataset into release impact, voice-of-the-
// customer themes and improvement insights (SPEC §7): each result names
// the numbers and the test behind it. It reads the dataset only through
// the metrics package's exported analyses and Compute.
package insight

import (
	"fmt"
	"net/url"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
)

// Config is the configuration's impact: section. Zero fields take the
// defaults (Defaults).
type Config struct {
	// TimeZone is the organisation's IANA time zone, in which
	// deploy_time_risk reads weekdays and hours (default UTC).
	TimeZone string `yaml:"time_zone"`
	// Spike configures release spikes (metrics.SpikeOptions).
	Spike SpikeConfig `yaml:"spike"`
	// SurveyWebhook, when set, is the https URL `candor release customers
	// --send` posts a release's affected customers to, for a survey.
	SurveyWebhook string `yaml:"survey_webhook"`
	// Insights hold each insight's thresholds, window and minimum sample.
	Insights Thresholds `yaml:"insights"`
}

// SpikeConfig is impact.spike.
type SpikeConfig struct {
	Alpha      float64 `yaml:"alpha"`
	Weeks      int     `yaml:"weeks"`
	MinTickets int     `yaml:"min_tickets"`
}

// Thresholds are impact.insights.
type Thresholds struct {
	DeployTimeRisk        DeployTimeRisk `yaml:"deploy_time_risk"`
	RecurringAfterRelease Recurring      `yaml:"recurring_after_release"`
	MTTROverTarget        MTTROver       `yaml:"mttr_over_target"`
	CanaryCandidate       Canary         `yaml:"canary_candidate"`
	KPIRetirement         Retirement     `yaml:"kpi_retirement"`
	DORAOutcomes          DORA           `yaml:"dora_outcomes"`
}

// DeployTimeRisk: production deployments' failure rate per weekday and
// hour band against the rest.
type DeployTimeRisk struct {
	Window    string  `yaml:"window"`     // default 180d
	Alpha     float64 `yaml:"alpha"`      // default 0.01, Bonferroni-divided by the bands tested
	MinSample int     `yaml:"min_sample"` // deployments in a band, default 20
	MinRatio  float64 `yaml:"min_ratio"`  // band rate ÷ rest rate, default 1.5
}

// Recurring: an incident category after releases of one service.
type Recurring struct {
	Window      string `yaml:"window"`       // default 90d
	MinReleases int    `yaml:"min_releases"` // distinct releases, default 3
}

// MTTROver: a service's MTTR over the organisation's target.
type MTTROver struct {
	Window    string  `yaml:"window"`     // default 90d
	Over      float64 `yaml:"over"`       // fraction over target, default 0.30
	MinSample int     `yaml:"min_sample"` // resolved incidents, default 3
}

// Canary: a service whose releases hurt customers more often than the
// others'.
type Canary struct {
	Window    string  `yaml:"window"`     // default 90d
	Threshold float64 `yaml:"threshold"`  // share of its releases with a spike, default 0.05
	MinSample int     `yaml:"min_sample"` // releases, default 10
}

// Retirement: a KPI that does not move with customer outcomes.
type Retirement struct {
	Period  string  `yaml:"period"`  // default 30d
	Periods int     `yaml:"periods"` // N, default 8
	MaxR    float64 `yaml:"max_r"`   // |r| below it with every outcome, default 0.2
}

// DORA: DORA metrics against business outcomes.
type DORA struct {
	Period    string  `yaml:"period"`     // default 30d
	Periods   int     `yaml:"periods"`    // default 8
	MinAbsR   float64 `yaml:"min_abs_r"`  // default 0.5
	MaxP      float64 `yaml:"max_p"`      // default 0.05
	MinSample int     `yaml:"min_sample"` // periods with both values, default 6
}

// Settings are a Config with its defaults filled and durations parsed.
type Settings struct {
	Loc   *time.Location
	Spike metrics.SpikeOptions
	// Webhook is SurveyWebhook parsed; nil when unset.
	Webhook *url.URL
	Config  Config
	windows map[string]time.Duration
}

func dflt[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Resolve fills the defaults and checks the values, naming the field of
// a bad one.
func (c Config) Resolve() (Settings, error) {
	s := Settings{windows: map[string]time.Duration{}}
	dflt(&c.TimeZone, "UTC")
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return s, fmt.Errorf("impact.time_zone: %q is not an IANA time zone", c.TimeZone)
	}
	s.Loc = loc
	if c.Spike.Alpha < 0 || c.Spike.Alpha >= 1 {
		return s, fmt.Errorf("impact.spike.alpha: %v is not in (0, 1)", c.Spike.Alpha)
	}
	if c.Spike.Weeks < 0 || c.Spike.MinTickets < 0 {
		return s, fmt.Errorf("impact.spike: weeks and min_tickets must not be negative")
	}
	s.Spike = metrics.SpikeOptions{Alpha: c.Spike.Alpha, Weeks: c.Spike.Weeks, MinTickets: c.Spike.MinTickets}
	if c.SurveyWebhook != "" {
		u, err := url.Parse(c.SurveyWebhook)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return s, fmt.Errorf("impact.survey_webhook: %q is not an http(s) URL", c.SurveyWebhook)
		}
		s.Webhook = u
	}
	t := &c.Insights
	dflt(&t.DeployTimeRisk.Window, "180d")
	dflt(&t.DeployTimeRisk.Alpha, 0.01)
	dflt(&t.DeployTimeRisk.MinSample, 20)
	dflt(&t.DeployTimeRisk.MinRatio, 1.5)
	dflt(&t.RecurringAfterRelease.Window, "90d")
	dflt(&t.RecurringAfterRelease.MinReleases, 3)
	dflt(&t.MTTROverTarget.Window, "90d")
	dflt(&t.MTTROverTarget.Over, 0.30)
	dflt(&t.MTTROverTarget.MinSample, 3)
	dflt(&t.CanaryCandidate.Window, "90d")
	dflt(&t.CanaryCandidate.Threshold, 0.05)
	dflt(&t.CanaryCandidate.MinSample, 10)
	dflt(&t.KPIRetirement.Period, "30d")
	dflt(&t.KPIRetirement.Periods, 8)
	dflt(&t.KPIRetirement.MaxR, 0.2)
	dflt(&t.DORAOutcomes.Period, "30d")
	dflt(&t.DORAOutcomes.Periods, 8)
	dflt(&t.DORAOutcomes.MinAbsR, 0.5)
	dflt(&t.DORAOutcomes.MaxP, 0.05)
	dflt(&t.DORAOutcomes.MinSample, 6)
	for name, v := range map[string]string{
		"deploy_time_risk.window": t.DeployTimeRisk.Window, "recurring_after_release.window": t.RecurringAfterRelease.Window,
		"mttr_over_target.window": t.MTTROverTarget.Window, "canary_candidate.window": t.CanaryCandidate.Window,
		"kpi_retirement.period": t.KPIRetirement.Period, "dora_outcomes.period": t.DORAOutcomes.Period,
	} {
		d, err := parseDays(v)
		if err != nil {
			return s, fmt.Errorf("impact.insights.%s: %v", name, err)
		}
		s.windows[name] = d
	}
	if t.DeployTimeRisk.Alpha <= 0 || t.DeployTimeRisk.Alpha >= 1 || t.DORAOutcomes.MaxP <= 0 || t.DORAOutcomes.MaxP >= 1 {
		return s, fmt.Errorf("impact.insights: alpha and max_p must be in (0, 1)")
	}
	if t.KPIRetirement.Periods < 4 || t.DORAOutcomes.Periods < 4 {
		return s, fmt.Errorf("impact.insights: periods must be at least 4 (a correlation needs them)")
	}
	s.Config = c
	return s, nil
}

// parseDays reads a window as the catalog does (90d, 2w, 48h).
func parseDays(v string) (time.Duration, error) {
	d, err := catalog.ParseWindow(v)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q is not a positive window", v)
	}
	return d, nil
}

func (s Settings) window(name string) time.Duration { return s.windows[name] }

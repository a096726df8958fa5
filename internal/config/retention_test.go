package config

import (
	"strings"
	"testing"
	"time"
)

// A measurement's customer is personal data, so measurements take a
// retention period of their own; a kind without personal data is refused,
// naming those that have some.
func TestRetentionPeriodOfMeasurements(t *testing.T) {
	c := Config{Retention: RetentionConfig{PersonalAfter: "730d", Periods: map[string]string{"measurement": "90d"}}}
	p, _, err := c.RetentionPolicy()
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Period("measurement"); got != 90*24*time.Hour {
		t.Errorf("measurement period %v, want 90 days", got)
	}
	c.Retention.Periods = map[string]string{"deployment": "90d"}
	_, _, err = c.RetentionPolicy()
	if err == nil || !strings.Contains(err.Error(), "retention.periods.deployment: not a kind with personal data") || !strings.Contains(err.Error(), "measurement") {
		t.Errorf("error %v, want deployment refused with measurement among the kinds named", err)
	}
}

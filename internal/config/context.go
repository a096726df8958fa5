package config

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/candor/candor/internal/metrics"
)

// BusinessHours is `business_hours`: the organisation's business calendar
// (time_zone, days, start, end; each defaulting to Monday–Friday
// 09:00–17:00 UTC) and, under services, a service's own, whose unset
// fields are the organisation's.
type BusinessHours struct {
	TimeZone string                      `yaml:"time_zone"`
	Days     []string                    `yaml:"days"`
	Start    string                      `yaml:"start"`
	End      string                      `yaml:"end"`
	Services map[string]metrics.Calendar `yaml:"services"`
}

// tierKeys are the keys of tier_weights.
var tierKeys = []string{"1", "2", "3", "none"}

// applyContext sets the tier weights and business calendars, checking
// each and naming the field at fault.
func applyContext(m *metrics.Config, c Config) error {
	for _, k := range slices.Sorted(maps.Keys(c.TierWeights)) {
		v := c.TierWeights[k]
		if !slices.Contains(tierKeys, k) {
			return fmt.Errorf("tier_weights.%s: not a tier (1, 2, 3, or none for a service without one)", k)
		}
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("tier_weights.%s: %v must be 0 or more", k, v)
		}
	}
	m.TierWeights = c.TierWeights
	if c.BusinessHours == nil {
		return nil
	}
	b := c.BusinessHours
	org, err := metrics.Calendar{TimeZone: b.TimeZone, Days: b.Days, Start: b.Start, End: b.End}.Resolve(metrics.DefaultCalendar())
	if err != nil {
		return fmt.Errorf("business_hours.%v", err)
	}
	m.BusinessHours = org
	m.ServiceHours = map[string]metrics.Calendar{}
	for _, svc := range slices.Sorted(maps.Keys(b.Services)) {
		cal, err := b.Services[svc].Resolve(org)
		if err != nil {
			return fmt.Errorf("business_hours.services.%s.%v", svc, err)
		}
		m.ServiceHours[svc] = cal
	}
	return nil
}

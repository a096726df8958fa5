package scorecard

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// Fact is one thing a metric reports beside its value, named.
type Fact struct {
	Label, Text string
}

// SecurityFacts are what the security metrics compute beside their value
// and had shown nowhere but in the API's detail: security incidents' 30-day
// figure (SPEC §3: "shown beside it"), the SLA breaches by severity (a
// security lead's first question of "20 breaches": how many critical) and
// the controls failing, with each framework reported failed (SPEC §3: "a
// framework with any failing control is reported failed"). Empty for other
// metrics.
func SecurityFacts(d metrics.Detail) []Fact {
	var out []Fact
	if n := d.LastThirtyDays; n != nil {
		out = append(out, Fact{"Last 30 days", plural.Count(*n, "security incident") + " (not judged)"})
	}
	if len(d.BySeverity) > 0 {
		var parts []string
		for _, s := range domain.Severities {
			if n, ok := d.BySeverity[s]; ok {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
		}
		for _, s := range slices.Sorted(maps.Keys(d.BySeverity)) {
			if !slices.Contains(domain.Severities, s) {
				parts = append(parts, fmt.Sprintf("%s %d", s, d.BySeverity[s]))
			}
		}
		out = append(out, Fact{"By severity", strings.Join(parts, " · ")})
	}
	if n := d.Failing; n != nil {
		text := plural.Count(*n, "control") + " failing"
		var failed []string
		for _, f := range slices.Sorted(maps.Keys(d.Frameworks)) {
			if d.Frameworks[f] == "failed" {
				failed = append(failed, f)
			}
		}
		if len(failed) > 0 {
			text += " — " + plural.And(failed) + " reported failed"
		}
		out = append(out, Fact{"Failing", text})
	}
	return out
}

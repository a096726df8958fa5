package scorecard

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// Fact is one thing a metric reports beside its value, named.
type Fact struct {
	Label, Text string
}

// BesideFacts are what a metric reports beside its value, for its page and
// candor metric: the security metrics' (SecurityFacts), and what an
// organisation's metric's filter kept (FilterFact).
func BesideFacts(d metrics.Detail) []Fact {
	out := SecurityFacts(d)
	if f, ok := FilterFact(d.Filtered); ok {
		out = append(out, f)
	}
	return out
}

// FilterFact says how many of the records an organisation's metric tried
// its filter on passed it: "23 of the 1,020 ticket records with created_at
// in the window". A filter none passes, of records there were, is named a
// likely mistake — a value compared with one the data does not hold
// ("Enterprise" where the records say "enterprise") reads as a quiet 0
// otherwise, green for a count that is better lower.
func FilterFact(f *metrics.Filtered) (Fact, bool) {
	if f == nil {
		return Fact{}, false
	}
	of := func(n int) string { return chart.Number(float64(n)) }
	switch {
	case f.Tried == 0:
		return Fact{"Filter", fmt.Sprintf("no %s record %s to try it on", f.Kind, f.In)}, true
	case f.Passed == 0:
		return Fact{"Filter", fmt.Sprintf("none of the %s %s records %s passes it: check the values it compares with those the records hold (text compares exactly, case included)",
			of(f.Tried), f.Kind, f.In)}, true
	}
	return Fact{"Filter", fmt.Sprintf("%s of the %s %s records %s pass it", of(f.Passed), of(f.Tried), f.Kind, f.In)}, true
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

// Package gate decides whether a release may go (SPEC §6): a request names
// the service, environment and version and brings facts about the change
// (coverage, risk score, size, strategy, emergency, time); the built-in
// policies and the organisation's own, written in CEL over those facts and
// the service's current KPIs, each give a verdict with its reason, and
// together a decision: allow, deny or escalate. A rule that needs a KPI
// whose status is unknown escalates unless its policy says otherwise: an
// unknown never passes silently. Decisions and retro-validations are kept
// in document collections chained in the audit ledger.
package gate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Facts are what the pipeline knows about the release. Absent facts are
// nil or empty: a rule that needs one treats it as unknown.
type Facts struct {
	// Coverage is the test coverage as a fraction 0–1, as on the
	// deployment record.
	Coverage          *float64 `json:"coverage,omitempty"`
	RiskScore         *float64 `json:"risk_score,omitempty"`
	ChangedLines      *int64   `json:"changed_lines,omitempty"`
	DependencyChanges *int64   `json:"dependency_changes,omitempty"`
	Strategy          string   `json:"strategy,omitempty"`
	Emergency         bool     `json:"emergency,omitempty"`
	// Time is when the caller says the release happens (a release
	// planned for tonight, asked about now). Freeze windows judge it
	// beside the server's clock, never instead of it: a time chosen by
	// the caller would otherwise date a release outside the freeze it is
	// deployed in.
	Time *time.Time `json:"time,omitempty"`
}

// FactNames are the facts a request may carry.
var FactNames = []string{"coverage", "risk_score", "changed_lines", "dependency_changes", "strategy", "emergency", "time"}

// maxStrategy bounds a strategy's name.
const maxStrategy = 64

// ParseFacts reads facts given as text (CLI key=value pairs, or JSON
// values turned to text). An unknown name or a bad value is an invalid
// parameter naming facts.NAME.
func ParseFacts(in map[string]string) (Facts, error) {
	var f Facts
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v := strings.TrimSpace(in[k])
		param := "facts." + k
		switch k {
		case "coverage":
			c, err := parseCoverage(v)
			if err != nil {
				return f, domain.InvalidParam(param, "%v", err)
			}
			f.Coverage = &c
		case "risk_score":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(x) || x < 0 || x > 100 {
				return f, domain.InvalidParam(param, "%q is not a number from 0 to 100", v)
			}
			f.RiskScore = &x
		case "changed_lines", "dependency_changes":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, domain.InvalidParam(param, "%q is not a whole number ≥ 0", v)
			}
			if k == "changed_lines" {
				f.ChangedLines = &n
			} else {
				f.DependencyChanges = &n
			}
		case "strategy":
			if v == "" || len(v) > maxStrategy || strings.ContainsAny(v, " \t\r\n") {
				return f, domain.InvalidParam(param, "%q is not a strategy name (canary, blue_green, rolling, …; at most %d bytes, no spaces)", v, maxStrategy)
			}
			f.Strategy = strings.ToLower(v)
		case "emergency":
			// Only the words: it bypasses every gate, and strconv's
			// "1", "t" or "TRUE" (a JSON 1 sent as a count) had too.
			switch strings.ToLower(v) {
			case "true":
				f.Emergency = true
			case "false":
			default:
				return f, domain.InvalidParam(param, "%q is not true or false", v)
			}
		case "time":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return f, domain.InvalidParam(param, "%q is not an RFC 3339 time such as 2026-12-01T14:00:00Z", v)
			}
			f.Time = &t
		default:
			return f, domain.InvalidParam(param, "unknown fact; the facts are %s", strings.Join(FactNames, ", "))
		}
	}
	return f, nil
}

// parseCoverage reads a fraction 0–1 (0.92) or a percentage (92%).
func parseCoverage(v string) (float64, error) {
	pct := strings.HasSuffix(v, "%")
	x, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, "%")), 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%q is not a fraction 0–1 (0.92) or a percentage (92%%)", v)
	}
	if pct {
		x /= 100
	}
	if !pct && x > 1 && x <= 100 {
		// "90" is within 0–100: the reader meant a percentage and was
		// told it is out of a range it is in.
		return 0, fmt.Errorf("%q is more than 1: a fraction is 0–1 (0.92); a percentage needs its sign (%s%%)", v, strings.TrimSpace(v))
	}
	if x < 0 || x > 1 {
		return 0, fmt.Errorf("%q is out of range: a fraction 0–1 (0.92) or a percentage 0–100%% (92%%)", v)
	}
	return x, nil
}

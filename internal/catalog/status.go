package catalog

import "math"

// Status is a metric's or a pillar's colour on the scorecard.
type Status string

// Statuses. Unknown means no value or stale data (SPEC §4) and is never green.
const (
	Green   Status = "green"
	Amber   Status = "amber"
	Red     Status = "red"
	Unknown Status = "unknown"
)

// Rank orders statuses for decisions: green 0, amber 1, unknown 1, red 2. Unknown ranks with
// amber because SPEC §4 says a metric without data counts as amber or worse for its pillar and for
// escalation, never as green and not as a red the data does not show. Any other string ranks as
// unknown.
func (s Status) Rank() int {
	switch s {
	case Green:
		return 0
	case Red:
		return 2
	default:
		return 1
	}
}

// Worst returns the status of a group holding a and b (a pillar is the worst of its metrics,
// SPEC §4): red wins over everything so no red is hidden, and an unknown counts as amber — never
// green, and not a state of the whole group, which would hide the values it has. So the result is
// never Unknown; a group is unknown only when none of its members has a value, which the caller
// knows and Worst does not. Strings that are not a Status count as unknown.
func Worst(a, b Status) Status {
	switch max(a.Rank(), b.Rank()) {
	case 0:
		return Green
	case 1:
		return Amber
	default:
		return Red
	}
}

// JudgeInput is what Judge needs besides the definition.
type JudgeInput struct {
	// Value is nil when the metric has no value (an empty denominator) or its data is stale:
	// the caller decides staleness from the metric's Sources.
	Value *float64
	// Target, when set, wins over the metric's own Target: it is the period's target (a `target`
	// record or a scoped target) while Metric.Target is the standing default.
	Target *float64
	// ElapsedShare is the share (0..1] of the current period that has passed at as_of; only
	// thresholds relative to "elapsed" read it.
	ElapsedShare float64
	// Thresholds, when set, judge instead of the metric's own: those of the scope's tier or
	// service (ThresholdsFor).
	Thresholds *Thresholds
	// Baseline is the value of the metric's Baseline in the same scope and window; only
	// thresholds relative to "baseline" read it.
	Baseline *float64
}

// tolerance absorbs floating-point noise at a boundary: error_rate computed as (1 − 999/1000) ×
// 100 is 0.10000000000000009, which must judge as exactly at the 0.1 green bound. It is relative
// so that it means the same for a percentage and for an amount of money.
const tolerance = 1e-9

// Judge gives the value's status under the metric's thresholds (SPEC §4):
//   - no value (nil, NaN or infinite) → Unknown;
//   - a metric judged by another (JudgedBy set, Thresholds nil) → Unknown: the caller must judge
//     the referenced metric and show that status, since only it has the other metric's value;
//   - relative to target without a target, relative to baseline without a baseline, or relative
//     to elapsed with ElapsedShare outside (0, 1] → Unknown: a zero share would make every value
//     green, and it is far likelier to be a caller that forgot to set it than the first instant
//     of a period;
//   - otherwise green when the value meets the green bound, amber when it meets the amber bound,
//     else red, "meets" being ≥ for higher-better and ≤ for lower-better metrics.
func (m *Metric) Judge(in JudgeInput) Status {
	if in.Thresholds == nil {
		in.Thresholds = m.Thresholds
	}
	if in.Value == nil || !finite(*in.Value) || in.Thresholds == nil {
		return Unknown
	}
	v := *in.Value
	green, amber, ok := m.bounds(in)
	if !ok {
		return Unknown
	}
	switch {
	case m.meets(v, green):
		return Green
	case m.meets(v, amber):
		return Amber
	default:
		return Red
	}
}

// bounds turns the thresholds into absolute bounds in the metric's unit.
func (m *Metric) bounds(in JudgeInput) (green, amber float64, ok bool) {
	t := in.Thresholds
	switch t.RelativeTo {
	case "":
		return t.Green, t.Amber, true
	case RelativeToTarget:
		target := m.Target
		if in.Target != nil {
			target = in.Target
		}
		if target == nil || !finite(*target) {
			return 0, 0, false
		}
		return scaleTarget(*target, t.Green), scaleTarget(*target, t.Amber), true
	case RelativeToElapsed:
		s := in.ElapsedShare
		if !(s > 0 && s <= 1) {
			return 0, 0, false
		}
		return t.Green * s, t.Amber * s, true
	case RelativeToBaseline:
		if in.Baseline == nil || !finite(*in.Baseline) {
			return 0, 0, false
		}
		return scaleTarget(*in.Baseline, t.Green), scaleTarget(*in.Baseline, t.Amber), true
	default:
		return 0, 0, false
	}
}

// scaleTarget returns target + (factor − 1) × |target| rather than factor × target, which is the
// same for a positive target but keeps "90 % of target" below the target when the target is
// negative (an NPS or a cost trend can have one), where plain multiplication would put it above.
func scaleTarget(target, factor float64) float64 {
	return target + (factor-1)*math.Abs(target)
}

func (m *Metric) meets(v, bound float64) bool {
	slack := tolerance * math.Max(1, math.Abs(bound))
	if m.Better == Lower {
		return v <= bound+slack
	}
	return v >= bound-slack
}

func finite(f float64) bool {
	return !math.IsNaN(f) && !math.IsInf(f, 0)
}

package scorecard

import (
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/metrics"
)

// The funnel's card names its cohort (a conversion without its cohort's
// dates reads as "this month's leads"), and its drill-down and the VP
// Marketing view show the four stage shares behind the headline value.

// cohortNote names a mature cohort's dates from a result's detail; "" when
// the metric has none.
func cohortNote(detail metrics.Detail) string {
	from, to := detail.CohortStart, detail.CohortEnd
	if from == nil || to == nil {
		return ""
	}
	s := fmt.Sprintf("cohort: leads created %s – %s", cohortTime(*from), cohortTime(*to))
	if lag := detail.MaturationLagDays; lag != nil {
		s += fmt.Sprintf(" (%s-day maturation lag)", trim(*lag, 2))
	}
	return s
}

// cohortTime shows a date, with the time of day when it has one; the end
// is exclusive, as every window's.
func cohortTime(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// funnelStageLabels are the stage shares in order, as people name them.
var funnelStageLabels = []struct{ key, label string }{
	{"lead_to_mql", "lead→MQL"}, {"mql_to_sql", "MQL→SQL"},
	{"sql_to_opportunity", "SQL→opportunity"}, {"opportunity_to_won", "opportunity→won"},
}

// stagesText renders the stage shares (and how many leads reached each
// stage) from a result's detail; "" when it has none.
func stagesText(detail metrics.Detail) string {
	stages := detail.Stages
	if stages == nil {
		return ""
	}
	parts := make([]string, 0, len(funnelStageLabels))
	for _, s := range funnelStageLabels {
		parts = append(parts, s.label+" "+FormatValue(stages[s.key], "%", ""))
	}
	out := "stages: " + strings.Join(parts, " · ")
	if n := detail.Reached; n != nil {
		out += fmt.Sprintf(" (leads %d → MQL %d → SQL %d → opportunity %d → won %d)",
			n["lead"], n["mql"], n["sql"], n["opportunity"], n["won"])
	}
	return out
}

package reconcile

import (
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/scorecard"
)

var statusLabel = map[catalog.Status]string{
	catalog.Green: "GREEN", catalog.Amber: "AMBER", catalog.Red: "RED", catalog.Unknown: "UNKNOWN",
}

// signed formats a difference with its sign.
func signed(v float64, unit, currency string) string {
	s := scorecard.FormatValue(&v, unit, currency)
	if v > 0 && !strings.HasPrefix(s, "+") {
		s = "+" + s
	}
	return s
}

// Pct formats a difference percentage ("+1.5 %"; "—" when there is none).
func Pct(p *float64) string {
	if p == nil {
		return "—"
	}
	return signed(*p, "%", "")
}

// Text renders one result for people.
func Text(r Result, currency string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reconciliation of %s (%s) as of %s, window %s", r.Name, r.Metric, r.AsOf.Format(time.RFC3339), catalog.WindowNote(r.AsOf, r.Window))
	if r.Source != "" {
		fmt.Fprintf(&b, ", against %s", r.Source)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  Expected    %s\n", scorecard.FormatValue(&r.Expected, r.Unit, currency))
	fmt.Fprintf(&b, "  Candor      %s\n", scorecard.FormatValue(r.Actual, r.Unit, currency))
	if r.Difference != nil {
		fmt.Fprintf(&b, "  Difference  %s (%s)\n", signed(*r.Difference, r.Unit, currency), Pct(r.DifferencePct))
	}
	fmt.Fprintf(&b, "  Status      %s (green within %v %%, amber within %v %%)\n", statusLabel[r.Status], r.TolerancePct.Green, r.TolerancePct.Amber)
	if r.Reason != "" {
		fmt.Fprintf(&b, "  Why         %s\n", r.Reason)
	}
	if r.Warning != "" {
		fmt.Fprintf(&b, "  Warning     %s\n", r.Warning)
	}
	if r.Note != "" {
		fmt.Fprintf(&b, "  Note        %s\n", r.Note)
	}
	if r.ID != 0 {
		fmt.Fprintf(&b, "Kept as reconciliation #%d (candor reconcile --list).\n", r.ID)
	}
	return b.String()
}

// ListText renders kept results, one a line, newest first.
// Each check's figures were computed as of its own date, so they are
// labelled in currencyAt(r.AsOf), the currency in force then: one
// currency for the list had labelled a check before a change of the
// currency in today's.
func ListText(rs []Result, currencyAt func(time.Time) string) string {
	if len(rs) == 0 {
		return "No reconciliation checks yet (candor reconcile --metric ID --expected VALUE).\n"
	}
	var b strings.Builder
	// The window with the month it is, if it is one: a month's close is
	// listed as "31d: October 2026", not only as of 1 November.
	fmt.Fprintf(&b, "%-6s %-20s %-28s %-20s %-20s %18s %18s %10s  %-7s  %s\n", "#", "checked at", "metric", "as of", "window", "expected", "candor", "diff", "status", "source")
	for _, r := range rs {
		currency := currencyAt(r.AsOf)
		fmt.Fprintf(&b, "%-6d %-20s %-28s %-20s %-20s %18s %18s %10s  %-7s  %s\n", r.ID, r.CheckedAt.Format(time.RFC3339), r.Metric, r.AsOf.Format(time.RFC3339), catalog.WindowNote(r.AsOf, r.Window),
			scorecard.FormatValue(&r.Expected, r.Unit, currency), scorecard.FormatValue(r.Actual, r.Unit, currency), Pct(r.DifferencePct),
			statusLabel[r.Status], r.Source)
	}
	return b.String()
}

package web

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/chart"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

// Where lead time goes and where MRR comes from, as pages show them: the
// flow stages (the lead-time metric page, and per team in the Engineering
// view) and the MRR bridge's waterfall (VP CS and CEO views).

// flowPanel is the stages of lead time per group, as stacked bars and a
// table.
type flowPanel struct {
	By           string
	Chart, Phone template.HTML
	Heads        []flowHead
	Rows         []flowRow
}

type flowHead struct{ Name, URL string }

// flowRow is one group's stages; URL is lead time's page for the group.
type flowRow struct {
	Key, URL string
	Cells    []flowCell
}

// flowCell is one stage's figure: its median, the changes it rests on,
// and its status with the reason when unknown.
type flowCell struct {
	Name, Value, Count, URL string
	Status                  StatusView
	Reason                  string
}

// stageShort names a stage in a legend or a column head.
func stageShort(name string) string {
	return strings.TrimSuffix(strings.TrimSuffix(name, " (median)"), " time")
}

func (s *Server) flowCells(q Query, dim, key string, stages []scorecard.FlowStage) []flowCell {
	out := make([]flowCell, 0, len(stages))
	for _, st := range stages {
		out = append(out, flowCell{Name: stageShort(st.Name), Value: scorecard.FormatValue(st.Value, "hours", ""),
			Count: plural.Count(st.Count, "change"), URL: metricHref(q, st.ID, dim, key), Status: statusView(st.Status), Reason: st.Reason})
	}
	return out
}

// flowPanelOf lays out a view's stages by group: a stacked bar per group,
// the organisation first, on one scale.
func (s *Server) flowPanelOf(fb *scorecard.FlowBreakdown, q Query) *flowPanel {
	p := &flowPanel{By: fb.By}
	var series []string
	for _, h := range fb.Stages {
		series = append(series, stageShort(h.Name))
		p.Heads = append(p.Heads, flowHead{Name: stageShort(h.Name), URL: metricHref(q, h.ID, "", "")})
	}
	// A row's total is the stages' medians added up, not the group's
	// median lead time (its own column says that): marked Σ.
	sb := chart.StackedBars{Title: "Where lead time goes, by " + idWords(fb.By) + " (median hours per stage; Σ their sum, not the median lead time)", Series: series,
		Format: formatIn("hours", ""), Width: roleChartWidth, TotalPrefix: "Σ "}
	for i, r := range fb.Rows {
		name, dim := r.Key, fb.By
		if i == 0 {
			name, dim = "All "+idWords(fb.By)+"s", ""
		}
		row := flowRow{Key: name, URL: metricHref(q, scorecard.LeadTime, dim, r.Key), Cells: s.flowCells(q, dim, r.Key, r.Stages)}
		p.Rows = append(p.Rows, row)
		sr := chart.StackRow{Label: name}
		for _, st := range r.Stages {
			sr.Values = append(sr.Values, st.Value)
		}
		sb.Rows = append(sb.Rows, sr)
	}
	p.Chart = sb.SVG()
	sb.Width = phoneChartWidth
	p.Phone = sb.SVG()
	return p
}

// bridgePanel is the MRR bridge as a waterfall, with its movements listed.
type bridgePanel struct {
	Chart, Phone       template.HTML
	Window, Start, End string
	// Span says what the bridge spans, a calendar month by name
	// (scorecard.BridgeSpan: "in October 2026", else "over 30d").
	Span string
	// From and To are the window's dates; StartURL is MRR's page as of
	// the window's start, EndURL as of the page's date.
	From, To         string
	StartURL, EndURL string
	Moves            []bridgeRow
	Reason           string
	// Note says what the amounts shown add up to when, each to the cent,
	// they do not make MRR at the end (scorecard.BridgeShown).
	Note string
}

// bridgeRow is one movement: signed amount, the customers behind it, and
// its metric page (which lists them with m0 and m1).
type bridgeRow struct {
	Name, Value, Customers, URL string
	Status                      StatusView
}

// bridgeMoveLabels name the movements on the waterfall.
var bridgeMoveLabels = map[string]string{
	metrics.MoveNew: "New", metrics.MoveReactivation: "Reactivation", metrics.MoveExpansion: "Expansion",
	metrics.MoveContraction: "Contraction", metrics.MoveChurn: "Churn",
}

func (s *Server) bridgePanelOf(mb *scorecard.MRRBridge, asOf time.Time, q Query) *bridgePanel {
	// One precision for the whole bridge, each movement rounded as its
	// card rounds it, whole units only when they add up so, as `candor
	// view` writes it (scorecard.BridgeShown).
	steps, money, note := scorecard.BridgeShown(mb, s.currencyAt(asOf))
	p := &bridgePanel{Window: mb.Window, Span: scorecard.BridgeSpan(mb.Window, asOf), Start: orDash(mb.Start, money), End: orDash(mb.End, money),
		Reason: mb.Reason, Note: note, StartURL: metricHref(q, "mrr", "", ""), EndURL: metricHref(q, "mrr", "", "")}
	if w, err := catalog.ParseWindow(mb.Window); err == nil {
		start := asOf.Add(-w)
		p.From = start.UTC().Format("2 Jan 2006")
		p.StartURL = q.With("as_of", start.UTC().Format(time.RFC3339)).URL("/metrics/mrr")
	}
	p.To = asOf.UTC().Format("2 Jan 2006")
	wf := chart.Waterfall{Title: "MRR bridge " + p.Span + ": where the change in MRR came from", Format: money, Width: roleChartWidth}
	wf.Steps = append(wf.Steps, chart.Step{Label: "MRR at start", Value: mb.Start, Total: true})
	for i, m := range mb.Moves {
		v := steps[i]
		wf.Steps = append(wf.Steps, chart.Step{Label: bridgeMoveLabels[m.Move], Value: v})
		row := bridgeRow{Name: bridgeMoveLabels[m.Move], Value: "—", Customers: plural.Count(m.Count, "customer"), URL: metricHref(q, m.ID, "", ""), Status: statusView(m.Status)}
		if v != nil {
			row.Value = signedMoney(*v, money)
		}
		p.Moves = append(p.Moves, row)
	}
	wf.Steps = append(wf.Steps, chart.Step{Label: "MRR at end", Value: mb.End, Total: true})
	p.Chart = wf.SVG()
	wf.Width = phoneChartWidth
	p.Phone = wf.SVG()
	return p
}

// signedMoney writes a movement with its sign, as the waterfall does.
func signedMoney(v float64, money func(float64) string) string {
	switch {
	case v > 0:
		return "+" + money(v)
	case v < 0:
		return "−" + money(-v)
	}
	return money(0)
}

// revenueAtRiskNote writes revenue at risk's formula with the card's own
// numbers, so an executive sees where the figure comes from.
func revenueAtRiskNote(c scorecard.Card, cur string) string {
	d := c.Detail
	cur = cmp.Or(d.Currency, cur)
	if d.Availability == nil || d.ARR == nil || d.WindowDays == nil {
		return "Revenue at risk = (1 − availability) × ARR × window days ÷ 365."
	}
	// Availability to as many decimals as it takes for the sum, worked
	// with the figures shown, to give the value shown: "99.87 %" had made
	// 376.63 of a value of 366.18 (99.8736 %).
	want := scorecard.FormatValue(c.Value, "currency", cur)
	avail := scorecard.FormatValue(d.Availability, "%", "")
	for prec := 2.0; prec <= 8; prec++ {
		p := math.Pow(10, prec)
		a := math.Round(*d.Availability*p) / p
		v := (1 - a/100) * *d.ARR * *d.WindowDays / 365
		if scorecard.FormatValue(&v, "currency", cur) == want {
			avail = strconv.FormatFloat(a, 'f', -1, 64) + " %"
			break
		}
	}
	return fmt.Sprintf("(1 − %s availability) × ARR %s × %s days ÷ 365 = %s.",
		avail, scorecard.FormatValue(d.ARR, "currency", cur),
		scorecard.FormatValue(d.WindowDays, "count", ""), want)
}

// customerRow is a customer behind a movement of the MRR bridge.
// customerRow is a line of a metric's customer table. Its amounts are to
// the cent with both decimals, as a records table's (scorecard.AmountText),
// the currency in the columns' headings: a column had mixed "812.25 USD"
// with "0 USD" and "1,200 USD", as a card's value rounds above a thousand,
// and the repeated currency widened it past a phone's width.
type customerRow struct{ Customer, M0, M1, Amount, Href string }

func customerRows(moves []metrics.CustomerMove) []customerRow {
	out := make([]customerRow, 0, min(len(moves), maxCustomerRows))
	for _, m := range moves[:min(len(moves), maxCustomerRows)] {
		out = append(out, customerRow{Customer: m.Customer, M0: scorecard.Amount(m.M0), M1: scorecard.Amount(m.M1), Amount: scorecard.Amount(m.Amount)})
	}
	return out
}

// maxCustomerRows bounds a metric page's customer list: a retention
// cohort is every customer of a year ago, tens of thousands for a large
// organisation. The total row covers them all, and the API lists them.
const maxCustomerRows = 100

// customerTotal is the customer list's total row: Σ m0, Σ m1 and Σ of the
// last column over every customer, so a ratio (NRR = Σ m1 ÷ Σ m0) or a
// movement is read off the table rather than added up by hand.
func customerTotal(moves []metrics.CustomerMove) customerRow {
	var m0, m1, amt float64
	for _, m := range moves {
		m0, m1, amt = m0+m.M0, m1+m.M1, amt+m.Amount
	}
	return customerRow{Customer: plural.Count(len(moves), "customer"), M0: scorecard.Amount(m0), M1: scorecard.Amount(m1), Amount: scorecard.Amount(amt)}
}

// orDash formats v, or "—" for none.
func orDash(v *float64, format func(float64) string) string {
	if v == nil {
		return "—"
	}
	return format(*v)
}

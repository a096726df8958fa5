package scorecard

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// Where lead time goes and where MRR comes from (SPEC §3): the flow stages
// beside lead time's drill-down and, per team, in the Engineering view;
// the MRR bridge as a waterfall in the VP CS and CEO views.

// LeadTime is the metric whose drill-down shows the flow stages.
const LeadTime = "lead_time_for_changes"

// Figure is a metric's value in a section, with the cases it rests on and
// its status, judged like a card.
type Figure struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Value  *float64       `json:"value"`
	Count  int            `json:"count"`
	Status catalog.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
}

func figureOf(c Card) Figure {
	return Figure{ID: c.ID, Name: c.Name, Value: c.Value, Count: c.Count, Status: c.Status, Reason: c.Reason}
}

// FlowStage is one stage of lead time as its drill-down and the
// Engineering view show it: the stage's median and the changes it rests
// on. From and To name the timestamps the stage runs between.
type FlowStage struct {
	Figure
	From string `json:"from"`
	To   string `json:"to"`
}

// flowStages evaluates the stages a reader may see for a scope, in the
// order a change passes through them.
func flowStages(cat *catalog.Catalog, ds *metrics.Dataset, opt Options, scope metrics.Scope) []FlowStage {
	var out []FlowStage
	for _, s := range metrics.FlowStages {
		m, ok := cat.Metric(s.ID)
		if !ok || !opt.visible(m) {
			continue
		}
		out = append(out, FlowStage{Figure: figureOf(Evaluate(ds, m, opt, scope, false)), From: s.From, To: s.To})
	}
	return out
}

// FlowBreakdown is the flow stages per group of a dimension (team in the
// Engineering view), the organisation first.
type FlowBreakdown struct {
	By string `json:"by"`
	// Stages name the columns: each row's Stages are in this order.
	Stages []FlowStageHead `json:"stages"`
	Rows   []FlowRow       `json:"rows"`
}

// FlowStageHead names a stage column.
type FlowStageHead struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// FlowRow is one group's stages; Key is empty for the organisation.
type FlowRow struct {
	Key    string      `json:"key"`
	Stages []FlowStage `json:"stages"`
}

// flowBreakdown lays out the stages by a dimension: the organisation's row,
// then one per value that has a change in some stage.
func flowBreakdown(cat *catalog.Catalog, ds *metrics.Dataset, opt Options, by string) (*FlowBreakdown, error) {
	fb := &FlowBreakdown{By: by}
	org := flowStages(cat, ds, opt, metrics.Scope{})
	fb.Rows = append(fb.Rows, FlowRow{Stages: org})
	lines := map[string][]FlowStage{}
	var keys []string
	for i, s := range org {
		fb.Stages = append(fb.Stages, FlowStageHead{ID: s.ID, Name: s.Name})
		m, _ := cat.Metric(s.ID)
		bl, err := breakdown(cat, ds, m, opt, by)
		if err != nil {
			return nil, err
		}
		for _, l := range bl {
			if _, ok := lines[l.Key]; !ok {
				keys = append(keys, l.Key)
				lines[l.Key] = make([]FlowStage, len(org))
			}
			f := Figure{ID: s.ID, Name: s.Name, Value: l.Value, Count: l.Count, Status: l.Status, Reason: l.Reason}
			lines[l.Key][i] = FlowStage{Figure: f, From: s.From, To: s.To}
		}
	}
	for _, k := range keys {
		row := FlowRow{Key: k, Stages: lines[k]}
		for i := range row.Stages {
			if row.Stages[i].ID == "" {
				// The stage has no line for the group; say so in its column.
				s := org[i]
				f := Figure{ID: s.ID, Name: s.Name, Status: catalog.Unknown, Reason: "no change in the window"}
				row.Stages[i] = FlowStage{Figure: f, From: s.From, To: s.To}
			}
		}
		if row.hasCases() {
			fb.Rows = append(fb.Rows, row)
		}
	}
	return fb, nil
}

func (r FlowRow) hasCases() bool {
	for _, s := range r.Stages {
		if s.Count > 0 {
			return true
		}
	}
	return false
}

// writeFlowStages renders the stages for people, one line each.
func writeFlowStages(b *strings.Builder, stages []FlowStage, o TextOptions) {
	b.WriteString(paint(o.Color, ansiBold, "Where the time goes") + " (median per stage; each over the changes having both times):\n")
	for _, s := range stages {
		fmt.Fprintf(b, "  %-24s %10s  %s  (%s, %s → %s)", s.Name, FormatValue(s.Value, "hours", ""),
			paint(o.Color, statusColor[s.Status], fmt.Sprintf("%-7s", statusMark[s.Status])), plural.Count(s.Count, "change"), s.From, s.To)
		if s.Reason != "" {
			fmt.Fprintf(b, "  %s", paint(o.Color, ansiDim, s.Reason))
		}
		b.WriteString("\n")
	}
}

// writeFlowBreakdown renders the stages per group as a table.
func writeFlowBreakdown(b *strings.Builder, fb *FlowBreakdown, o TextOptions) {
	fmt.Fprintf(b, "%s\n", paint(o.Color, ansiBold, "Where lead time goes, by "+fb.By+" (median hours per stage, n changes):"))
	fmt.Fprintf(b, "  %-24s", fb.By)
	for _, h := range fb.Stages {
		fmt.Fprintf(b, " %18s", strings.TrimSuffix(h.Name, " (median)"))
	}
	b.WriteString("\n")
	for _, r := range fb.Rows {
		fmt.Fprintf(b, "  %-24s", cmp.Or(r.Key, "all"))
		for _, s := range r.Stages {
			fmt.Fprintf(b, " %18s", fmt.Sprintf("%s (n=%d)", FormatValue(s.Value, "hours", ""), s.Count))
		}
		b.WriteString("\n")
	}
}

// BridgeMove is one movement of the MRR bridge as the waterfall shows it
// (new, reactivation, expansion, contraction or churn).
type BridgeMove struct {
	Figure
	Move string `json:"move"`
}

// MRRBridge is MRR at W's start, each movement over W and MRR at as_of:
// the waterfall of the VP CS and CEO views. Start + gains − losses = End.
type MRRBridge struct {
	Currency string       `json:"currency"`
	Window   string       `json:"window"`
	Start    *float64     `json:"start"`
	End      *float64     `json:"end"`
	Moves    []BridgeMove `json:"moves"`
	// Reason says why there is no bridge (no subscription data, stale).
	Reason string `json:"reason,omitempty"`
}

// mrrBridge evaluates the five movements over the window the view asks
// for (each bridge metric's own window otherwise).
func mrrBridge(cat *catalog.Catalog, ds *metrics.Dataset, opt Options) *MRRBridge {
	mb := &MRRBridge{Currency: ds.Config().Currency}
	for _, move := range metrics.BridgeMoves {
		m, ok := cat.Metric(metrics.BridgeMetrics[move])
		if !ok {
			continue
		}
		c := Evaluate(ds, m, opt, metrics.Scope{}, false)
		mb.Window = c.Window
		mb.Moves = append(mb.Moves, BridgeMove{Figure: figureOf(c), Move: move})
		if cur := c.Detail.Currency; cur != "" {
			mb.Currency = cur
		}
		if c.Value != nil && mb.Start == nil {
			mb.Start, mb.End = c.Detail.MRRStart, c.Detail.MRRNow
		}
		if c.Value == nil && mb.Reason == "" {
			mb.Reason = cmp.Or(c.Detail.Reason, c.Reason)
		}
	}
	return mb
}

// BridgeSpan says what an MRR bridge as of asOf spans, after "MRR bridge":
// a calendar month by name ("in October 2026"), else "over 30d".
func BridgeSpan(window string, asOf time.Time) string {
	if m, ok := catalog.MonthOfWindow(asOf, window); ok {
		return "in " + m.Words()
	}
	return "over " + window
}

// BridgeLoss says whether a movement takes MRR away (contraction, churn).
func BridgeLoss(move string) bool {
	return move == metrics.MoveContraction || move == metrics.MoveChurn
}

// BridgeShown is the bridge as the role view's page and `candor view`
// show it: at one precision, each amount rounded as its metric's card
// rounds it (half away from zero, FormatValue), so that a movement reads
// as its card does, and so that the bridge adds up as shown. In whole
// units when the amounts so rounded add up (MRR at the start, plus and
// minus each movement, makes MRR at the end) and either one reaches a
// thousand (FormatValue keeps cents below a thousand only, and "+1,065
// USD" read beside "+345.36 USD") or all are whole; otherwise all to the
// cent, both decimals shown ("10,876.50 USD"). The bridge had shown each
// step as the difference between the rounded running totals, so that it
// added up: expansion's 2,519.58 read "+2,519" beside its card's "2,520
// USD/30d", reactivation's 2,399.26 "+2,400". steps are the movements
// signed, losses negative (nil for a movement without a value); money
// writes an amount at the bridge's precision; note says, when even the
// cents do not add up (amounts in fractions of a cent), what the amounts
// shown add up to, as a breakdown that does not add up says ("" when
// they do).
func BridgeShown(mb *MRRBridge, currency string) (steps []*float64, money func(float64) string, note string) {
	for _, m := range mb.Moves {
		if m.Value == nil {
			steps = append(steps, nil)
			continue
		}
		v := *m.Value
		if BridgeLoss(m.Move) {
			v = -v
		}
		steps = append(steps, &v)
	}
	big, whole := false, true
	for _, v := range append([]*float64{mb.Start, mb.End}, steps...) {
		if v != nil {
			big = big || math.Abs(*v) >= 1000
			whole = whole && math.Round(*v) == *v
		}
	}
	cur := cmp.Or(mb.Currency, currency)
	if _, ok := bridgeSum(mb.Start, mb.End, steps, 0); ok && (big || whole) {
		return steps, func(v float64) string {
			v = math.Round(v)
			return FormatValue(&v, "currency", cur)
		}, ""
	}
	money = func(v float64) string {
		c := roundTo(v, 2)
		s := Amount(math.Abs(c)) + " " + cur
		if c < 0 {
			s = "-" + s
		}
		return s
	}
	if sum, ok := bridgeSum(mb.Start, mb.End, steps, 2); !ok {
		note = fmt.Sprintf("Each amount is rounded to the cent on its own: as shown they add up to %s, not to the %s at the end.", money(sum), money(*mb.End))
	}
	return steps, money, note
}

// bridgeSum adds up the bridge's amounts each rounded to places decimals,
// half away from zero (roundTo): sum is the start plus the steps, ok
// whether that is the end so rounded, or an amount is missing (nothing
// to add up, nothing that fails to).
func bridgeSum(start, end *float64, steps []*float64, places int) (sum float64, ok bool) {
	if start == nil || end == nil {
		return 0, true
	}
	sum = roundTo(*start, places)
	for _, v := range steps {
		if v == nil {
			return 0, true
		}
		sum += roundTo(*v, places)
	}
	sum = roundTo(sum, places)
	return sum, sum == roundTo(*end, places)
}

func writeMRRBridge(b *strings.Builder, mb *MRRBridge, asOf time.Time, o TextOptions) {
	head := paint(o.Color, ansiBold, "MRR bridge "+BridgeSpan(mb.Window, asOf)+":")
	if mb.Start == nil {
		fmt.Fprintf(b, "%s no value (%s)\n", head, mb.Reason)
		return
	}
	steps, money, note := BridgeShown(mb, o.Currency)
	fmt.Fprintf(b, "%s %s at the window's start\n", head, money(*mb.Start))
	for i, m := range mb.Moves {
		sign, amount := "+", "—"
		if BridgeLoss(m.Move) {
			sign = "−"
		}
		if steps[i] != nil {
			amount = money(math.Abs(*steps[i]))
		}
		fmt.Fprintf(b, "  %s %-22s %16s  (%s)\n", sign, m.Name, amount, plural.Count(m.Count, "customer"))
	}
	end := "—"
	if mb.End != nil {
		end = money(*mb.End)
	}
	fmt.Fprintf(b, "  = %-22s %16s\n", "MRR at as_of", end)
	if note != "" {
		fmt.Fprintf(b, "  %s\n", note)
	}
}

// writeCustomers lists the customers behind a movement of the bridge.
// CustomersHeading says what a metric's customer list is: the customers
// behind a movement of the MRR bridge, or a retention metric's cohort (NRR,
// GRR) with what each adds to the ratio's numerator — its column's name.
func CustomersHeading(id string) (title, sub, column string) {
	switch id {
	case "nrr":
		return "Cohort customers", "MRR a year before as_of (m0) and at as_of (m1); NRR is Σ m1 ÷ Σ m0", "m1 counted"
	case "grr":
		return "Cohort customers", "MRR a year before as_of (m0) and at as_of (m1); GRR is Σ min(m0, m1) ÷ Σ m0", "retained"
	}
	return "Customers behind the movement", "MRR at the window's start (m0) and at as_of (m1)", "movement"
}

// CustomersColumnNote says what a retention metric's cohort column holds
// (CustomersHeading's column): NRR's "m1 counted" was shown unexplained
// beside m1, which it equals, as what each customer adds to the ratio's
// numerator. "" for the MRR bridge's movement column.
func CustomersColumnNote(id string) string {
	switch id {
	case "nrr":
		return "m1 counted: what the customer adds to NRR's numerator — its whole MRR at as_of, expansion included (0 once churned); NRR is the column's total ÷ the m0 total."
	case "grr":
		return "retained: what the customer adds to GRR's numerator — its MRR at as_of capped at m0, min(m0, m1), so expansion does not count (0 once churned); GRR is the column's total ÷ the m0 total."
	}
	return ""
}

func writeCustomers(b *strings.Builder, id string, moves []metrics.CustomerMove, cur string) {
	if len(moves) == 0 {
		return
	}
	title, sub, column := CustomersHeading(id)
	fmt.Fprintf(b, "\n%s (%d), %s:\n", title, len(moves), sub)
	// To the cent, the currency in the heading, as the page's table: a
	// card's rounding above a thousand had mixed "812.25 USD" and "0 USD".
	if cur == "" {
		cur = "USD"
	}
	in := " (" + cur + ")"
	fmt.Fprintf(b, "  %-28s %16s %16s %16s\n", "customer", "m0"+in, "m1"+in, column+in)
	for i, m := range moves {
		if i == TextRecords {
			fmt.Fprintf(b, "  … %d more (--format json lists all)\n", len(moves)-i)
			break
		}
		fmt.Fprintf(b, "  %-28s %16s %16s %16s\n", m.Customer, Amount(m.M0), Amount(m.M1), Amount(m.Amount))
	}
}

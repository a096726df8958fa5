package scorecard

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
)

// ViewResult is a role view (SPEC §4): the metrics one role acts on, each
// with its card (value, status, trend, weekly series) and broken down by
// the dimension the view opens it by. The records behind each number are
// one drill-down (Detail) away.
type ViewResult struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	AsOf        time.Time `json:"as_of"`
	Window      string    `json:"window"`
	// Status is the worst of the metrics' statuses, as for a pillar.
	Status  catalog.Status `json:"status"`
	Metrics []ViewMetric   `json:"metrics"`
}

// ViewMetric is one metric of a role view. By is empty, and Breakdown
// absent, for a metric the view shows whole.
type ViewMetric struct {
	Card      Card            `json:"metric"`
	By        string          `json:"by,omitempty"`
	Breakdown []BreakdownLine `json:"breakdown,omitempty"`
}

// UnknownViewError is a role view the catalog does not define.
type UnknownViewError struct {
	ID    string
	Known []string
}

func (e *UnknownViewError) Error() string {
	return fmt.Sprintf("unknown role view %q (known: %s)", e.ID, strings.Join(e.Known, ", "))
}

// ViewIDs lists the catalog's role views in catalog order.
func ViewIDs(cat *catalog.Catalog) []string {
	ids := make([]string, len(cat.Views))
	for i, v := range cat.Views {
		ids[i] = v.ID
	}
	return ids
}

// View computes a role view as defined in the catalog. The dataset must not
// change meanwhile (the caller holds the engine's read lock). An unknown
// role is an *UnknownViewError.
func View(cat *catalog.Catalog, ds *metrics.Dataset, roleID string, opt Options) (*ViewResult, error) {
	v, ok := cat.View(roleID)
	if !ok {
		return nil, &UnknownViewError{ID: roleID, Known: ViewIDs(cat)}
	}
	vr := &ViewResult{
		ID: v.ID, Name: v.Name, Description: v.Description, AsOf: opt.AsOf.UTC(), Window: "30d",
		Status: catalog.Green, Metrics: make([]ViewMetric, len(v.Metrics)),
	}
	if opt.Window > 0 {
		vr.Window = catalog.FormatWindow(opt.Window)
	}
	defs := make([]*catalog.Metric, len(v.Metrics))
	for i, id := range v.Metrics {
		m, ok := cat.Metric(id)
		if !ok {
			// Catalog validation rules this out; a hand-built catalog may not.
			return nil, fmt.Errorf("role view %s: unknown metric %q", v.ID, id)
		}
		defs[i] = m
	}
	// Metrics are independent reads of an immutable dataset, and a series
	// plus a breakdown is the costly part: one goroutine each (a view holds
	// a handful).
	errs := make([]error, len(defs))
	var wg sync.WaitGroup
	for i, m := range defs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vm := &vr.Metrics[i]
			vm.Card = Evaluate(ds, m, opt, metrics.Scope{}, true)
			judgeCard(cat, ds, m, opt, metrics.Scope{}, &vm.Card)
			by := v.Breakdowns[m.ID]
			if by == "" || !metrics.Known(m.ID) {
				// A metric not computed yet says so on its card; it has
				// nothing to break down.
				return
			}
			vm.By = by
			vm.Breakdown, errs[i] = breakdown(cat, ds, m, opt, by)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("role view %s: %s: %w", v.ID, defs[i].ID, err)
		}
	}
	for _, vm := range vr.Metrics {
		vr.Status = catalog.Worst(vr.Status, vm.Card.Status)
	}
	return vr, nil
}

// maxViewLines bounds the breakdown lines a text view shows per metric;
// JSON has them all.
const maxViewLines = 15

// ViewText renders a role view for people.
func ViewText(v *ViewResult, o TextOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", paint(o.Color, ansiBold, fmt.Sprintf("%s view as of %s (window %s)", v.Name, v.AsOf.Format(time.RFC3339), v.Window)),
		paint(o.Color, statusColor[v.Status], statusMark[v.Status]))
	if v.Description != "" {
		fmt.Fprintf(&b, "%s\n", v.Description)
	}
	for _, m := range v.Metrics {
		c := m.Card
		b.WriteString("\n")
		b.WriteString(cardLine(c, o))
		if len(c.Series) > 0 {
			var pts []string
			for _, p := range c.Series {
				pts = append(pts, FormatValue(p.Value, c.Unit, o.Currency))
			}
			fmt.Fprintf(&b, "     %s\n", paint(o.Color, ansiDim, "weekly: "+strings.Join(pts, " · ")))
		}
		if m.By == "" {
			continue
		}
		if len(m.Breakdown) == 0 {
			fmt.Fprintf(&b, "     by %s: no groups\n", m.By)
			continue
		}
		fmt.Fprintf(&b, "     by %s:\n", m.By)
		for i, l := range m.Breakdown {
			if i == maxViewLines {
				fmt.Fprintf(&b, "       … %d more (candor metric %s --by %s)\n", len(m.Breakdown)-maxViewLines, c.ID, m.By)
				break
			}
			fmt.Fprintf(&b, "       %-28s %14s  %s  (%s)\n", l.Key, FormatValue(l.Value, c.Unit, o.Currency),
				paint(o.Color, statusColor[l.Status], fmt.Sprintf("%-7s", statusMark[l.Status])), plural.Count(l.Count, "record"))
		}
	}
	return b.String()
}

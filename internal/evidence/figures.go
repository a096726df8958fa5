package evidence

import (
	"cmp"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// The figures part of a pack (figures.json): every metric's value over the
// period as the scorecard computes it for as_of the period's end and a
// window of the period's length — what `candor scorecard --as-of TO
// --window LEN` gives, and `--month` for a calendar month — with what it
// cites and how to derive it again. A pack had stated no figure of its
// period, so an auditor had nothing to tie a re-derivation to.

// FiguresFile is the file the figures are written to.
const FiguresFile = "figures.json"

type figuresDoc struct {
	Note   string    `json:"note"`
	AsOf   time.Time `json:"as_of"`
	Window string    `json:"window"`
	// Unavailable says why no figure is stated: a period shorter or
	// longer than a metric's window may be (catalog.ParseMetricWindow),
	// which neither the scorecard nor `candor metric` reads over.
	Unavailable string   `json:"unavailable,omitempty"`
	Metrics     []figure `json:"metrics"`
}

// figure is one metric's figure of the period, its card's fields.
type figure struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Pillar string `json:"pillar"`
	// Value is the card's; null when the metric has none. A value whose
	// status is unknown (too few cases, stale data) is stated, as the
	// scorecard and `candor metric` state it, but not judged: Reason says
	// why.
	Value *float64 `json:"value"`
	// Shown is the value as the scorecard writes it ("23.84 %"), "no
	// value" when there is none.
	Shown  string         `json:"shown"`
	Unit   string         `json:"unit"`
	Status catalog.Status `json:"status"`
	Reason string         `json:"reason,omitempty"`
	Target *float64       `json:"target"`
	// TargetFrom and TargetProrated are the card's: a target from target
	// records (when the one in force took effect; prorated into the
	// window), not the definition's.
	TargetFrom     *time.Time            `json:"target_from,omitempty"`
	TargetProrated bool                  `json:"target_prorated,omitempty"`
	Thresholds     *scorecard.Thresholds `json:"thresholds"`
	ThresholdsFrom string                `json:"thresholds_from,omitempty"`
	// ScaledFrom is the definition's window when the target and absolute
	// thresholds were scaled to the period's length (scorecard.Card).
	ScaledFrom string `json:"scaled_from,omitempty"`
	JudgedBy   string `json:"judged_by,omitempty"`
	Window     string `json:"window"`
	// Covers is what the value covers, as the board pack's appendix says
	// it: the window ("92d"), a state at the end, a year-old cohort, the
	// quota period's dates — every figure had said "92d", ARR's state and
	// NRR's cohort among them.
	Covers            string `json:"covers"`
	Count             int    `json:"count"`
	DefinitionVersion int    `json:"definition_version"`
	// Cites is the citation the value carries (null for a metric not
	// computed yet); CitesNote says when it is not the one definitions.json
	// lists for the metric (a version or setting taking effect at the
	// period's end itself: definitions.json is of the period's last
	// instant, the figure of its end, as the scorecard computes it).
	Cites     *metrics.Citation `json:"cites"`
	CitesNote string            `json:"cites_note,omitempty"`
	Rederive  rederive          `json:"rederive"`
}

// rederive says how to get the same value again with the records behind
// it.
type rederive struct {
	CLI string `json:"cli"`
	API string `json:"api"`
}

// figures computes the period's figures with the scorecard, under the
// engine's read lock: ds is the engine's dataset (not one taken At a time:
// the scorecard takes each metric's own), cat the catalog, defs the pack's
// definitions, whose citations each figure is compared with.
func figures(cat *catalog.Catalog, ds *metrics.Dataset, in Input, p Period, defs DefinitionsDoc) figuresDoc {
	win := p.To.Sub(p.From)
	doc := figuresDoc{
		Note: "Every metric in force at the period's end that the pack's reader may see, its value over the period as the scorecard " +
			"computes it as of the period's end over a window of the period's length, each quota period read as the one closing at the " +
			"period's end (`candor scorecard --as-of AS_OF --window WINDOW --closing`), in catalog order: what it covers (covers: the window, a state at " +
			"the end, a year-old cohort, the quota period's dates), unit, status and the reason for an unknown one, target (target_from and " +
			"target_prorated when target records set it) and thresholds " +
			"(scaled to the window, scaled_from, for a value that sums over it), the count of records behind it, the definition version " +
			"and the citation (cites: definition and formula versions, the hash of the settings it reads, as definitions.json lists them), " +
			"and rederive: the command and API request that give the same value with the records behind it. A metric without a value " +
			"has value null and says why; a value judged on too few cases or stale data is stated, with status unknown and its reason.",
		AsOf: p.To.UTC(), Window: catalog.FormatWindow(win), Metrics: []figure{},
	}
	if _, err := catalog.ParseMetricWindow(doc.Window); err != nil {
		doc.Unavailable = "the period cannot be read as one window: " + err.Error()
		return doc
	}
	if p.To.Before(catalog.EarliestAsOf) {
		doc.Unavailable = fmt.Sprintf("the period ends before %s: Candor answers as of then or later", catalog.EarliestAsOf.Format(time.DateOnly))
		return doc
	}
	at := cat.At(p.To)
	sc := scorecard.Build(cat, ds, scorecard.Options{
		AsOf: p.To, Window: win, Connectors: in.Connectors,
		// The period closes at its end: a quarter's pack states that
		// quarter's quota attainment, not the next one's, begun then with
		// nothing won (SPEC §3's rule for an instant), as a board pack
		// reads its month.
		Closing: true,
		// The trend and the weekly series change no value or status.
		NoTrend: true, Points: 1,
	})
	cards := map[string]*scorecard.Card{}
	for _, c := range sc.Cards() {
		cards[c.ID] = c
	}
	cited := map[string]metrics.Citation{}
	for _, d := range defs.Metrics {
		cited[d.ID] = d.Citation
	}
	asOf, window := asOfParam(p.To), doc.Window
	for i := range at.Metrics {
		m := &at.Metrics[i]
		if m.Retired {
			continue
		}
		c := cards[m.ID]
		if c == nil {
			// Every metric not retired has a card (no Visible filter).
			continue
		}
		f := figure{
			ID: c.ID, Name: c.Name, Pillar: m.Pillar, Value: c.Value, Shown: "no value", Unit: c.Unit, Status: c.Status,
			Reason: c.Reason, Target: c.Target, TargetFrom: c.TargetFrom, TargetProrated: c.TargetProrated,
			Thresholds: c.Thresholds, ThresholdsFrom: c.ThresholdsFrom, Covers: figureCovers(m, c),
			ScaledFrom: c.ScaledFrom, JudgedBy: c.JudgedBy, Window: c.Window, Count: c.Count,
			DefinitionVersion: c.Version, Cites: c.Cites,
			Rederive: rederive{
				CLI: fmt.Sprintf("candor metric %s --as-of %s --window %s --format json", c.ID, asOf, window),
				API: fmt.Sprintf("/api/v1/metrics/%s?as_of=%s&window=%s", url.PathEscape(c.ID), url.QueryEscape(asOf), url.QueryEscape(window)),
			},
		}
		if scorecard.ReadsClosing(m) {
			// Only a quota-period metric looking back reads anything
			// else closing (coverage looks ahead: metrics.Def.Ahead).
			f.Rederive.CLI = strings.Replace(f.Rederive.CLI, " --format json", " --closing --format json", 1)
			f.Rederive.API += "&closing=true"
		}
		if c.Value != nil {
			f.Shown = scorecard.FormatValue(c.Value, c.Unit, cmp.Or(c.Detail.Currency, ds.At(p.To).Config().Currency, "USD"))
		}
		if f.Status == catalog.Unknown && f.Reason == "" {
			f.Reason = "no status: nothing judged the value"
		}
		if d, ok := cited[c.ID]; c.Cites != nil && (!ok || d != *c.Cites) {
			f.CitesNote = "not the citation definitions.json lists for the metric (a definition version or setting took effect at the " +
				"period's end itself): definitions.json holds those in force at the period's last instant, this figure is computed as " +
				"the scorecard computes it as of the period's end"
		}
		doc.Metrics = append(doc.Metrics, f)
	}
	return doc
}

// asOfParam is the period's end as --as-of and as_of take it: a date for
// a midnight UTC (a date is its midnight UTC), else an RFC 3339 time.
func asOfParam(t time.Time) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// figureCovers says what c's value covers: a quota period by its dates
// (its end is exclusive: a quarter ending 1 October is 30 September's),
// else as the board pack's appendix column says it.
func figureCovers(m *catalog.Metric, c *scorecard.Card) string {
	if dates, ok := scorecard.QuotaPeriodDates(m.Span, c.Detail); ok {
		return "the quota period " + dates
	}
	return scorecard.ColumnCovers(m.Span, c.Window)
}

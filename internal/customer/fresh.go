package customer

import (
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
)

// Judge judges how fresh the data the list and a customer's page read is,
// as the data sources report judges it (scorecard.JudgeKind): by the
// freshness limits of the metrics in force in Catalog (a configured limit
// first), and, for a state kind, by the configured connectors that feed it
// (connect.Feeds). A list of 64 customers "at risk" built on tickets a day
// old had undercounted tickets past SLA with no word of it, where every
// metric card reading them said "stale data".
type Judge struct {
	Catalog    *catalog.Catalog
	Connectors []health.Connector
	// Unnamed leaves the connector out of a kind it made stale (KindData.
	// Connector): a reader without sources:read is told its connector
	// has not worked, not which one (the data sources page names
	// connectors only for those who may read it; docs/access.md).
	Unnamed bool
}

// KindData is the freshness of one kind of records the list or a page
// reads, as the data sources report gives it for the kind (its `kinds`):
// the newest data at as_of, the limit (none for a state kind no
// configured connector feeds) and the status — fresh, stale, never_sent or
// not_judged (scorecard.KindFresh, …).
type KindData struct {
	Kind     string     `json:"kind"`
	LastData *time.Time `json:"last_data"`
	Limit    string     `json:"limit,omitempty"`
	// State marks a state kind (subscriptions): never stale by its
	// records' own times, only by a configured connector feeding it
	// (Connector names it, unless Judge.Unnamed).
	State     bool   `json:"state,omitempty"`
	Status    string `json:"status"`
	Connector string `json:"connector,omitempty"`
}

// listKinds are the kinds the list's signals read: subscriptions (churn,
// contraction), tickets (past SLA, open escalations) and surveys
// (detractors, low CSAT).
var listKinds = []domain.Kind{domain.KindSubscription, domain.KindTicket, domain.KindSurvey}

// data judges the kinds, as of asOf, but those hide leaves out; never nil,
// so the JSON says [] for none.
func (j Judge) data(ds *metrics.Dataset, asOf time.Time, hide map[domain.Kind]bool, kinds ...domain.Kind) []KindData {
	out := []KindData{}
	for _, k := range kinds {
		if hide[k] {
			continue
		}
		ks := scorecard.JudgeKind(j.Catalog, ds, k, asOf, j.Connectors)
		if j.Unnamed {
			ks.Connector = ""
		}
		out = append(out, KindData{Kind: ks.Kind, LastData: ks.LastData, Limit: ks.Limit, State: ks.State, Status: ks.Status, Connector: ks.Connector})
	}
	return out
}

// Noun is the kind as the words name its records: "tickets".
func (d KindData) Noun() string { return d.Kind + "s" }

// Bad says the kind's data is stale or was never sent: the signals read
// from it may be missing.
func (d KindData) Bad() bool {
	return d.Status == scorecard.KindStale || d.Status == scorecard.KindNeverSent
}

// Words says the kind's freshness after its noun, as the pages and the
// CLI give it: "as of 6 Dec 2026 10:40 UTC"; "as of 5 Dec 2026 08:40 UTC,
// stale: older than its 1d limit"; "never sent"; "(a state kind, not
// judged by age)"; "stale: connector stripe has not worked within 35d (a
// state kind)", "stale: its connector has not worked within 35d (a state
// kind)" with the connector left out.
func (d KindData) Words() string {
	asOf := ""
	if d.LastData != nil {
		asOf = "as of " + d.LastData.UTC().Format("2 Jan 2006 15:04 MST")
	}
	switch {
	case d.Status == scorecard.KindNeverSent:
		return "never sent"
	case d.Status == scorecard.KindStale && (d.Connector != "" || d.State):
		return "stale: " + d.connector() + " has not worked within " + d.Limit + " (a state kind)"
	case d.Status == scorecard.KindStale:
		return asOf + ", stale: older than its " + d.Limit + " limit"
	case d.State && d.Status == scorecard.KindNotJudged:
		return "(a state kind, not judged by age)"
	case d.State:
		return "(a state kind; connector-fed, worked within " + d.Limit + ")"
	}
	return asOf
}

// Detail is Words without the status a page marks otherwise (the data
// sources page's status beside it): "as of 5 Dec 2026 08:40 UTC, older
// than its 1d limit" for stale, "" for never sent.
func (d KindData) Detail() string {
	switch d.Status {
	case scorecard.KindNeverSent:
		return ""
	case scorecard.KindStale:
		if d.Connector != "" || d.State {
			return d.connector() + " has not worked within " + d.Limit + " (a state kind)"
		}
		return strings.Replace(d.Words(), ", stale: older", ", older", 1)
	}
	return d.Words()
}

// connector names the connector that made a state kind stale: "connector
// stripe", or "its connector" where it is left out (Judge.Unnamed).
func (d KindData) connector() string {
	if d.Connector == "" {
		return "its connector"
	}
	return "connector " + d.Connector
}

// undercounts are the signals each kind's records make, as the warning
// names them.
var undercounts = map[string]string{
	string(domain.KindSubscription): "churn and MRR contraction",
	string(domain.KindTicket):       "tickets past SLA and open escalated tickets",
	string(domain.KindSurvey):       "NPS detractors and CSATs of 2 or less",
}

// DataWarning says, a sentence a kind, which signals stale or never-sent
// data may leave out: "Ticket data is stale: tickets past SLA and open
// escalated tickets may be undercounted." "No survey data was ever sent:
// NPS detractors and CSATs of 2 or less cannot show." "" when every kind
// is fresh or not judged.
func DataWarning(data []KindData) string {
	var out []string
	for _, d := range data {
		what := undercounts[d.Kind]
		var s string
		switch d.Status {
		case scorecard.KindStale:
			s = capital(d.Kind) + " data is stale"
			if d.Connector != "" || d.State {
				s += " (" + d.connector() + " has not worked within " + d.Limit + ")"
			}
			if what != "" {
				s += ": " + what + " may be undercounted"
			}
		case scorecard.KindNeverSent:
			s = "No " + d.Kind + " data was ever sent"
			if what != "" {
				s += ": " + what + " cannot show"
			}
		default:
			continue
		}
		out = append(out, s+".")
	}
	return strings.Join(out, " ")
}

// DataLine is the kinds' freshness on one line, as the CLI writes it:
// "Data: tickets as of … · surveys never sent · subscriptions (a state
// kind, not judged by age)".
func DataLine(data []KindData) string {
	parts := make([]string, 0, len(data))
	for _, d := range data {
		parts = append(parts, d.Noun()+" "+d.Words())
	}
	return "Data: " + strings.Join(parts, " · ")
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package scorecard

import (
	"fmt"
	"github.com/candor/candor/internal/plural"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/metrics"
)

// Statuses of a record kind on the data sources page.
const (
	KindFresh     = "fresh"
	KindStale     = "stale"
	KindNeverSent = "never_sent"
	// KindNotJudged is a state kind (SPEC §4) with records and no
	// configured connector feeding it: nothing judges it by age, so it is
	// neither fresh nor stale, and says so rather than pass for fresh.
	KindNotJudged = "not_judged"
)

// KindWord is a kind's status on the data sources report in words, as the
// text report and the page (capitalised) say it.
func KindWord(status string) string {
	return map[string]string{KindFresh: "fresh", KindStale: "stale", KindNeverSent: "never sent", KindNotJudged: "not judged"}[status]
}

// ConnectorWord is a connector's status in words: a configured connector
// that never delivered or synced "never worked".
func ConnectorWord(status string) string {
	return map[string]string{KindFresh: "fresh", KindStale: "stale", KindNeverSent: "never worked", ConnectorNotConfigured: "not configured"}[status]
}

// PeriodOpenText is how the report and the pages give the newest data of
// a kind one of whose periods has begun and not ended (PeriodOpen).
const PeriodOpenText = "period open"

// PeriodOpen reports whether last, a kind's newest data at asOf, is that of
// a period begun and not ended then (a quarter's quota, this month's
// budget): Dataset.LastData gives such a period data up to asOf (SPEC §3),
// which given as a time reads as if data had just arrived.
func PeriodOpen(k domain.Kind, last *time.Time, asOf time.Time) bool {
	return last != nil && k.Period() && last.Equal(asOf)
}

// SourcesReport is the data sources page (SPEC §5, data quality) as of a
// time: every record kind with how many of its records exist then, its
// newest data, its freshness limit and status, and the data problems
// found in the records.
type SourcesReport struct {
	AsOf     time.Time         `json:"as_of"`
	Kinds    []KindSource      `json:"kinds"`
	Problems []metrics.Problem `json:"problems"`
	// Quarantined are the stored rows left out because they could not be
	// decoded (corrupted, or written by a newer version), whatever as_of.
	Quarantined []metrics.QuarantinedRow `json:"quarantined"`
	// Unrated is the money held at as_of in currencies without an
	// exchange rate, per kind and currency, with the metrics it leaves
	// without a value (metrics.Dataset.UnratedAt).
	Unrated []UnratedMoney `json:"unrated"`
	// Connectors are the connector sources configured or heard from, with
	// their health (connect.Health) and its judgement: Limit, the
	// tightest freshness limit of the kinds each feeds, and Status.
	Connectors []health.Connector `json:"connectors"`
}

// Statuses of a connector on the data sources report, besides KindFresh,
// KindStale and KindNeverSent (configured, never worked).
const ConnectorNotConfigured = "not_configured"

// KindSource is one record kind on the data sources page.
type KindSource struct {
	Kind string `json:"kind"`
	// Records counts the records that exist at as_of (SPEC §3: from their
	// defining time; period kinds from their period's start).
	Records  int        `json:"records"`
	LastData *time.Time `json:"last_data"`
	// PeriodOpen says that LastData is as_of because a period of the kind
	// has begun and not ended then (PeriodOpen): no data arrived then.
	PeriodOpen bool `json:"period_open,omitempty"`
	// Limit is the freshness limit the kind is judged by: a configured
	// one, else the tightest any catalog metric reading it uses, else the
	// default. Empty for state kinds.
	Limit string `json:"limit,omitempty"`
	// Longest is the longest limit a catalog metric reading the kind uses,
	// when it differs from Limit: those metrics stay judged until theirs
	// passes (each metric's page gives its own).
	Longest string `json:"longest_limit,omitempty"`
	// State marks a state kind (SPEC §4): never stale by its records' own
	// times: not judged (KindNotJudged) or never sent, and fresh or stale
	// only by a configured connector that feeds it.
	State  bool   `json:"state,omitempty"`
	Status string `json:"status"`
	// Problems counts the data problems of the kind's records.
	Problems int `json:"problems"`
	// Unrated counts the kind's records at as_of in a currency without
	// an exchange rate (SourcesReport.Unrated says which and what for).
	Unrated int64 `json:"unrated,omitempty"`
	// Connector names the configured connector that made a state kind
	// stale (its connection did not work within the limit).
	Connector string `json:"connector,omitempty"`
	// LastFullScan says that LastData is a full vulnerability scan's time
	// (domain.VulnerabilityScan), no vulnerability record being newer: a
	// scan that found nothing new is data all the same.
	LastFullScan bool `json:"last_full_scan,omitempty"`
}

// Sources builds the data sources report. It reads every record that
// names another (for the data problems), so it is a page, not a card.
// connectors (connect.Health) are judged and listed, and a state kind fed
// by a configured one that has not worked within the kind's limit is
// stale.
func Sources(cat *catalog.Catalog, ds *metrics.Dataset, asOf time.Time, connectors ...health.Connector) *SourcesReport {
	// The problems (production names, attribution window) and the money
	// without a rate are of the records at as_of under the settings in
	// force then, as the metrics as of then read them: today's rates had
	// hidden money that had none then. Freshness (JudgeKind) is judged by
	// its limits as they are now.
	at := ds.At(asOf)
	r := &SourcesReport{AsOf: asOf.UTC(), Problems: at.Problems(asOf), Connectors: []health.Connector{}, Quarantined: ds.Quarantined()}
	if r.Problems == nil {
		r.Problems = []metrics.Problem{}
	}
	perKind := map[domain.Kind]int{}
	for _, p := range r.Problems {
		perKind[p.Kind]++
	}
	r.Unrated = UnratedMoneyOf(cat, at.UnratedAt(asOf))
	unrated := map[domain.Kind]int64{}
	for _, u := range r.Unrated {
		unrated[u.Kind] += u.Records
	}
	for _, k := range domain.Kinds {
		ks := JudgeKind(cat, ds, k, asOf, connectors)
		ks.Problems, ks.Unrated = perKind[k], unrated[k]
		r.Kinds = append(r.Kinds, ks)
	}
	for _, c := range connectors {
		r.Connectors = append(r.Connectors, judgeConnector(cat, ds, c, asOf))
	}
	return r
}

// JudgeKind judges one record kind as of asOf as the data sources report
// does (SPEC §4), so that a page giving the freshness of the data it
// reads (the customer list and pages) says what the report says: the
// records that exist then, the newest data (PeriodOpen, LastFullScan), the
// limit — a configured one, else the shortest any metric in force reading
// the kind uses, else the default; none for a state kind no configured
// connector feeds — and the status: never sent, stale (an event kind's
// newest data older than the limit; a state kind's connector not working
// within it, named in Connector), not judged (a state kind nothing feeds)
// or fresh. Problems and Unrated are left for Sources to count.
func JudgeKind(cat *catalog.Catalog, ds *metrics.Dataset, k domain.Kind, asOf time.Time, connectors []health.Connector) KindSource {
	ks := KindSource{Kind: string(k), Records: ds.CountAt(k, asOf), State: k.State()}
	limit, longest := kindLimits(cat, ds, k)
	sf := sourceFreshness(ds, k, limit, asOf, connectors)
	ks.LastData, ks.Connector = sf.LastData, sf.Connector
	ks.PeriodOpen = PeriodOpen(k, ks.LastData, asOf)
	if k == domain.KindVulnerability && ks.LastData != nil {
		scan, ok := ds.LastScan(asOf)
		ks.LastFullScan = ok && scan.Equal(*ks.LastData)
	}
	switch {
	case ks.Records == 0 && sf.LastData == nil:
		ks.Status = KindNeverSent
	case sf.Stale:
		ks.Status = KindStale
	case ks.State && sf.Limit == "":
		// No configured connector feeds it (one would have given it a
		// limit): nothing judged it, and it is not called fresh.
		ks.Status = KindNotJudged
	default:
		ks.Status = KindFresh
	}
	if !ks.State || sf.Limit != "" {
		ks.Limit = sf.Limit
	}
	if !ks.State && longest > limit {
		ks.Longest = catalog.FormatWindow(longest)
	}
	return ks
}

// judgeConnector sets a connector's limit, the tightest of the kinds it
// feeds, and its status by it.
func judgeConnector(cat *catalog.Catalog, ds *metrics.Dataset, c health.Connector, asOf time.Time) health.Connector {
	var limit time.Duration
	for _, k := range c.Kinds {
		if l := kindLimit(cat, ds, domain.Kind(k)); limit == 0 || l < limit {
			limit = l
		}
	}
	if limit > 0 {
		c.Limit = catalog.FormatWindow(limit)
	}
	switch {
	case !c.Configured:
		c.Status = ConnectorNotConfigured
	case c.LastOK == nil:
		c.Status = KindNeverSent
	case c.StaleFor(asOf, limit):
		c.Status = KindStale
	default:
		c.Status = KindFresh
	}
	return c
}

// connectorReason says why a state kind is stale by its connector.
func connectorReason(s SourceFresh) string {
	if s.ConnectorLastOK == nil {
		return fmt.Sprintf("connector %s: no successful delivery or sync yet (it feeds %s)", s.Connector, s.Kind)
	}
	return fmt.Sprintf("connector %s: no successful delivery or sync since %s (it feeds %s)", s.Connector, s.ConnectorLastOK.Format(time.RFC3339), s.Kind)
}

// kindLimit is the freshness limit of a kind on the data sources page: a
// configured one, else the tightest limit a catalog metric reading the
// kind uses (the page says stale when any card would), else the default.
func kindLimit(cat *catalog.Catalog, ds *metrics.Dataset, k domain.Kind) time.Duration {
	limit, _ := kindLimits(cat, ds, k)
	return limit
}

// kindLimits are the shortest freshness limit the catalog's metrics
// reading k judge it by (the default when none reads it) and the longest
// (0 when none reads it); a configured limit is every metric's.
func kindLimits(cat *catalog.Catalog, ds *metrics.Dataset, k domain.Kind) (shortest, longest time.Duration) {
	for _, m := range cat.MetricsInForce() {
		for _, s := range m.Sources {
			if s.Kind == string(k) {
				if shortest == 0 || s.Freshness < shortest {
					shortest = s.Freshness
				}
				longest = max(longest, configuredLimit(ds, k, s.Freshness))
			}
		}
	}
	if shortest == 0 {
		shortest, _ = catalog.DefaultFreshness(string(k))
	}
	return configuredLimit(ds, k, shortest), longest
}

// configuredLimit is the organisation's configured freshness limit for a
// kind, or limit when none is configured.
func configuredLimit(ds *metrics.Dataset, k domain.Kind, limit time.Duration) time.Duration {
	if l, ok := ds.Config().Freshness[k]; ok && l > 0 {
		return l
	}
	return limit
}

// sourceFreshness judges one kind as of asOf (SPEC §4): stale when it has
// no data by then, or, for a kind of events, when its newest data is older
// than limit. A state kind (a subscription book, quotas, budgets) is never
// stale by its records' own times: a book that did not change is quiet,
// not broken. A configured connector that feeds it is what can make it
// stale: its connection did not work (no successful delivery or sync)
// within limit.
func sourceFreshness(ds *metrics.Dataset, k domain.Kind, limit time.Duration, asOf time.Time, conns []health.Connector) SourceFresh {
	sf := SourceFresh{Kind: string(k), State: k.State()}
	if !k.State() {
		// A state kind has no age limit to show (SPEC §4).
		sf.Limit = catalog.FormatWindow(limit)
	}
	last, ok := ds.LastData(k, asOf)
	switch {
	case ok:
		sf.LastData = &last
		sf.Stale = !k.State() && asOf.Sub(last) > limit
	case k.State():
		// No times to judge by: a state kind has data once it has records.
		sf.Stale = ds.CountAt(k, asOf) == 0
	default:
		sf.Stale = true
	}
	if !k.State() {
		return sf
	}
	for _, c := range conns {
		if !c.Configured || !c.Feeds(string(k)) {
			continue
		}
		// Fed by a connector, a state kind has a limit: its connection's.
		sf.Limit = catalog.FormatWindow(limit)
		if !sf.Stale && c.StaleFor(asOf, limit) {
			sf.Stale, sf.Connector, sf.ConnectorLastOK = true, c.Source, c.LastOK
		}
	}
	return sf
}

// SourcesText renders the data sources report for people.
func SourcesText(r *SourcesReport, o TextOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", paint(o.Color, ansiBold, "Data sources as of "+r.AsOf.Format(time.RFC3339)))
	fmt.Fprintf(&b, "%-14s %9s  %-20s  %-6s  %s\n", "kind", "records", "last data", "limit", "status")
	for _, k := range r.Kinds {
		last, limit := "—", "—"
		switch {
		case k.PeriodOpen:
			last = PeriodOpenText
		case k.LastData != nil:
			last = k.LastData.Format(time.RFC3339)
		}
		if k.Limit != "" {
			limit = k.Limit
		}
		if k.Longest != "" {
			limit += "–" + k.Longest
		}
		status := KindWord(k.Status)
		color := map[string]string{KindFresh: statusColor[catalog.Green], KindStale: statusColor[catalog.Red], KindNeverSent: statusColor[catalog.Unknown], KindNotJudged: ansiDim}[k.Status]
		status = paint(o.Color, color, status)
		switch {
		case k.Connector != "":
			status += fmt.Sprintf(" (state kind: connector %s has not worked within %s)", k.Connector, k.Limit)
			status = strings.Replace(status, "stale (state kind: connector", "stale: connector", 1)
		case k.State:
			status += " (state kind: never stale by its records' own times)"
		case k.LastFullScan:
			status += " (last data: a full scan)"
		}
		if k.Problems > 0 {
			status += ", " + plural.Count(k.Problems, "data problem")
		}
		if k.Unrated > 0 {
			status += fmt.Sprintf(", %d without an exchange rate", k.Unrated)
		}
		fmt.Fprintf(&b, "%-14s %9d  %-20s  %-6s  %s\n", k.Kind, k.Records, last, limit, status)
	}
	if len(r.Unrated) > 0 {
		fmt.Fprintf(&b, "\nMoney without an exchange rate (%d):\n", len(r.Unrated))
		for _, u := range r.Unrated {
			fmt.Fprintf(&b, "  %s\n", UnratedText(u))
		}
	}
	writeProblems(&b, r.Problems)
	if len(r.Quarantined) > 0 {
		fmt.Fprintf(&b, "\nStored rows left out, unreadable (%d):\n", len(r.Quarantined))
		for _, q := range r.Quarantined {
			fmt.Fprintf(&b, "  %s %s/%s (seq %d): %s\n", q.Kind, q.Source, q.ID, q.Seq, q.Reason)
		}
	}
	writeConnectors(&b, r.Connectors, o)
	return b.String()
}

// writeConnectors lists the connectors' health: when each last worked,
// its status, deliveries by outcome (and how many of the rejected were not
// logged), latest rejects and collector runs.
func writeConnectors(b *strings.Builder, cs []health.Connector, o TextOptions) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(b, "\nConnectors (deliveries over the last %s):\n", cs[0].Period)
	fmt.Fprintf(b, "%-13s %-22s %-20s %-6s  %-14s %8s %9s %7s %8s %10s\n", "source", "feeds", "last worked", "limit", "status", "accepted", "duplicate", "ignored", "rejected", "not logged")
	notLogged := false
	for _, c := range cs {
		last := "—"
		if c.LastOK != nil {
			last = c.LastOK.Format(time.RFC3339)
		}
		status := ConnectorWord(c.Status)
		color := map[string]string{KindFresh: statusColor[catalog.Green], KindStale: statusColor[catalog.Red], KindNeverSent: statusColor[catalog.Red], ConnectorNotConfigured: statusColor[catalog.Unknown]}[c.Status]
		fmt.Fprintf(b, "%-13s %-22s %-20s %-6s  %s%s %8d %9d %7d %8d %10d\n", c.Source, strings.Join(c.Kinds, ", "), last, firstNonEmpty(c.Limit, "—"),
			paint(o.Color, color, status), strings.Repeat(" ", max(0, 14-len(status))),
			c.Counts["accepted"], c.Counts["duplicate"], c.Counts["ignored"], c.Counts["rejected"], c.NotLogged)
		notLogged = notLogged || c.NotLogged > 0
		if r := c.LastSync; r != nil {
			fmt.Fprintf(b, "  last sync %s: %s, %s, %d accepted, %d rejected", r.FinishedAt.Format(time.RFC3339), r.Outcome, plural.Count(r.Pages, "page"), r.Accepted, r.Rejected)
			if c.LastSyncOK != nil && r.Outcome != "ok" {
				fmt.Fprintf(b, " (last successful %s)", c.LastSyncOK.Format(time.RFC3339))
			}
			b.WriteString("\n")
		}
		for _, e := range c.SyncErrors {
			fmt.Fprintf(b, "  sync failed %s: %s\n", e.FinishedAt.Format(time.RFC3339), e.Error)
		}
		for _, rj := range c.Rejects {
			event := ""
			if rj.Event != "" {
				event = " " + rj.Event
			}
			fmt.Fprintf(b, "  rejected %s %s%s: %s\n", rj.At.Format(time.RFC3339), firstNonEmpty(rj.DeliveryID, "(no delivery id)"), event, rj.Reason)
		}
	}
	if notLogged {
		b.WriteString(health.NotLoggedNote + "\n")
	}
}

func firstNonEmpty(s, or string) string {
	if s != "" {
		return s
	}
	return or
}

// writeProblems lists data problems under a heading; nothing when none.
func writeProblems(b *strings.Builder, ps []metrics.Problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "\nData problems (%d):\n", len(ps))
	for _, p := range ps {
		fmt.Fprintf(b, "  %s\n", p)
	}
}

// UnratedMoney is money held in a currency without an exchange rate
// (metrics.Unrated), with the names of the metrics it leaves without a
// value.
type UnratedMoney struct {
	metrics.Unrated
	// MetricNames are the names of Metrics the catalog in force holds, in
	// its order.
	MetricNames []string `json:"metric_names"`
	// HiddenMetrics counts the metrics left out of Metrics because the
	// reader may not see them (revenue metrics without revenue:read).
	HiddenMetrics int `json:"hidden_metrics,omitempty"`
}

// Without returns u without the metrics hide says to leave out, counted
// in HiddenMetrics.
func (u UnratedMoney) Without(hide func(id string) bool) UnratedMoney {
	out := u
	out.Metrics, out.MetricNames = []string{}, []string{}
	for i, id := range u.Metrics {
		if hide(id) {
			out.HiddenMetrics++
			continue
		}
		out.Metrics = append(out.Metrics, id)
		out.MetricNames = append(out.MetricNames, u.MetricNames[i])
	}
	return out
}

// UnratedMoneyOf names the metrics of each of us by the catalog; never
// nil, so that the JSON says [] for none.
func UnratedMoneyOf(cat *catalog.Catalog, us []metrics.Unrated) []UnratedMoney {
	out := []UnratedMoney{}
	for _, u := range us {
		m := UnratedMoney{Unrated: u, MetricNames: []string{}}
		m.Metrics = []string{}
		for _, def := range cat.MetricsInForce() {
			if slices.Contains(u.Metrics, def.ID) {
				m.Metrics = append(m.Metrics, def.ID)
				m.MetricNames = append(m.MetricNames, def.Name)
			}
		}
		out = append(out, m)
	}
	return out
}

// ImportWarning is a warning about records an import kept: money in a
// currency without an exchange rate (UnratedMoney), with its sentence.
type ImportWarning struct {
	UnratedMoney
	Message string `json:"message"`
}

// ImportWarnings are the warnings of an import under cfg, the settings in
// force, of the records it kept carrying money (currencies: the count per
// kind and currency, ingest.Summary.Currencies) in a currency without an
// exchange rate. They are valid and kept (a rate can be added later, and
// converts them then), but the metrics converting them have no value
// meanwhile, which had been said only on their cards. One function for
// candor import and POST /api/v1/records, so both say the same.
//
// The writer sent the records, so every kind is warned of; the metrics
// hide says it may not see (nil: none) are counted, not named.
func ImportWarnings(cat *catalog.Catalog, cfg metrics.Config, currencies map[domain.Kind]map[string]int64, hide func(id string) bool) []ImportWarning {
	var out []ImportWarning
	for _, u := range UnratedMoneyOf(cat, cfg.Unrated(currencies)) {
		if hide != nil {
			u = u.Without(hide)
		}
		out = append(out, ImportWarning{UnratedMoney: u, Message: UnratedText(u)})
	}
	return out
}

// UnratedText says what money without an exchange rate leaves undone and
// the setting that mends it, as an import's warning and the data sources
// report word it: "spend: 3 records in EUR, which has no exchange rate
// into USD: customer acquisition cost and CAC payback have no value over
// a window holding any of them; add exchange_rates.EUR (how many USD one
// EUR is worth) to the configuration, or propose it". The records are
// kept: a rate added later converts them.
func UnratedText(u UnratedMoney) string {
	what := "no metric converts them"
	names := make([]string, 0, len(u.MetricNames)+1)
	for i, name := range u.MetricNames {
		if i > 0 {
			name = midSentence(name)
		}
		names = append(names, name)
	}
	if h := u.HiddenMetrics; h > 0 {
		names = append(names, plural.Count(h, "metric")+" your roles do not show")
	}
	if n := len(names); n > 0 {
		list := names[0]
		if n > 1 {
			list = strings.Join(names[:n-1], ", ") + " and " + names[n-1]
		}
		verb := "has"
		if n > 1 || u.HiddenMetrics > 1 {
			verb = "have"
		}
		what = fmt.Sprintf("%s %s no value over a window or at a time holding any of them", list, verb)
	}
	return fmt.Sprintf("%s: %s in %s, which has no exchange rate into %s: %s; add %s (how many %s one %s is worth) to the configuration, or propose it",
		u.Kind, plural.Count(u.Records, "record"), u.Currency, u.Into, what, u.Setting, u.Into, u.Currency)
}

// midSentence writes a metric's name as it reads inside a sentence:
// "Customer acquisition cost" as "customer acquisition cost"; "CAC
// payback", "ARR" and "SaaS quick ratio", whose first word is not a
// capitalised word, as they are.
func midSentence(name string) string {
	first, _, _ := strings.Cut(name, " ")
	r := []rune(first)
	if len(r) < 2 || !unicode.IsUpper(r[0]) || strings.ContainsFunc(string(r[1:]), unicode.IsUpper) {
		return name
	}
	return strings.ToLower(string(r[:1])) + name[len(string(r[:1])):]
}

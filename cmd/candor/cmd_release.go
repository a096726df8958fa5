package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/outbound"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/stats"
)

func init() {
	register(command{name: "release", args: "list|show|customers [flags]", help: "release impact: releases by customer impact, one release's tickets and spike test, the customers it affected (CSV, or sent to the survey webhook)", run: runRelease})
}

// releaseUsage is each subcommand's usage line.
var releaseUsage = map[string]string{
	"list":      "[--as-of T] [--window W] [--service S] [--format text|json]",
	"show":      "DEPLOYMENT [--source S] [--as-of T] [--format text|json]",
	"customers": "DEPLOYMENT [--source S] [--as-of T] [--format csv|text|json] [--send]",
}

func runRelease(ctx context.Context, env *Env, args []string) error {
	sub := func(name string) func(context.Context, *Env, []string) error {
		return func(ctx context.Context, env *Env, args []string) error { return runReleaseSub(ctx, env, name, args) }
	}
	return subcommand(ctx, env, "release", args, map[string]func(context.Context, *Env, []string) error{
		"list": sub("list"), "show": sub("show"), "customers": sub("customers"),
	}, []string{"list", "show", "customers"})
}

// runReleaseSub runs one of release's subcommands, which share their flags
// but for the ones each adds.
func runReleaseSub(ctx context.Context, env *Env, sub string, args []string) error {
	fs := flags(env, "release "+sub, releaseUsage[sub], "Release impact (docs/insights.md): tickets created in each production release's observation window, weighted\nby priority, user role and criticality; tickets without a release are attributed by their service and time.\nThe spike test is a Poisson upper tail against the same hours of the previous weeks.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	// The customers are CSV unless asked otherwise, for a survey tool to
	// read; the other subcommands' output is for reading.
	formatDefault, formatHelp := "text", "text or json"
	if sub == "customers" {
		formatDefault, formatHelp = "csv", "csv, text (a table) or json"
	}
	format := fs.String("format", formatDefault, formatHelp)
	var window, service, source *string
	var send *bool
	switch sub {
	case "list":
		window = fs.String("window", "", "releases finishing in this window before as-of (default: the release impact score's window, 30d unless the catalog says otherwise)")
		service = fs.String("service", "", "only this service's releases")
	case "show", "customers":
		source = fs.String("source", "import", "the deployment's source")
		if sub == "customers" {
			send = fs.Bool("send", false, "post the customers to the configured survey webhook (impact.survey_webhook)")
		}
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	var id string
	if sub != "list" {
		if len(rest) != 1 {
			return usagef("release %s: say which DEPLOYMENT (its id)", sub)
		}
		id = rest[0]
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	ok := map[string][]string{"list": {"text", "json"}, "show": {"text", "json"}, "customers": {"csv", "text", "json"}}[sub]
	if !slices.Contains(ok, *format) {
		return usagef("--format: %q is not %s", *format, strings.Join(ok, " or "))
	}
	at, err := asOfTime(*asOf)
	if err != nil {
		return err
	}
	var w time.Duration
	if window != nil && *window != "" {
		if w, err = catalog.ParseMetricWindow(*window); err != nil {
			return usagef("--window: %v", err)
		}
	}
	a, st, err := c.openImpact(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if window != nil {
		// The metric's window in force at as-of, so that the list's worst
		// is release_impact_score's value, as the pages' list is.
		w = scorecard.WindowAt(a.catalog, "release_impact_score", at, w)
	}
	if send != nil && *send && st.Webhook == nil {
		return usagef("--send: no survey webhook is configured (impact.survey_webhook)")
	}
	var list []metrics.ReleaseImpact
	var one metrics.ReleaseImpact
	found := false
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		// Under the production names, impact window and weights in force
		// at as-of, as the release impact score as of then: today's had
		// listed (and --send surveyed) releases that were not production.
		ds = ds.At(at)
		if sub == "list" {
			q := metrics.Query{AsOf: at, Window: w}
			if *service != "" {
				q.Scope = metrics.Scope{Dim: "service", Value: *service}
				if err := ds.CheckScope(q.Scope); err != nil {
					return usagef("--service: %v", err)
				}
			}
			list = ds.ReleaseImpacts(q, st.Spike)
			return nil
		}
		one, found = ds.ReleaseImpactOf(*source, id, at, st.Spike)
		return nil
	})
	if err != nil {
		return err
	}
	if sub != "list" && !found {
		return fmt.Errorf("no production deployment %s/%s by %s", *source, id, at.Format(time.RFC3339))
	}
	switch {
	case sub == "list" && *format == "json":
		if list == nil {
			list = []metrics.ReleaseImpact{}
		}
		return writeJSONOut(env, map[string]any{"as_of": at, "window": catalog.FormatWindow(w), "releases": list})
	case sub == "list":
		fmt.Fprint(env.Stdout, releasesText(list, at, w))
	case sub == "show" && *format == "json":
		return writeJSONOut(env, one)
	case sub == "show":
		fmt.Fprint(env.Stdout, releaseText(one))
	default:
		cs := releaseCustomers(one)
		if send != nil && *send {
			if err := sendSurvey(ctx, st.Webhook.String(), one, cs); err != nil {
				return err
			}
			fmt.Fprintf(env.Stderr, "sent %s of release %s to the survey webhook\n", plural.Count(len(cs), "customer"), one.Deployment)
			return nil
		}
		switch *format {
		case "json":
			return writeJSONOut(env, map[string]any{"release": one.Deployment, "source": one.Source, "service": one.Service, "customers": cs})
		case "text":
			return writeCustomersText(env, cs)
		}
		return writeCustomersCSV(env, cs)
	}
	return nil
}

// affectedCustomer is a customer with tickets attributed to a release.
type affectedCustomer struct {
	Customer    string    `json:"customer"`
	Tickets     int       `json:"tickets"`
	Weighted    float64   `json:"weighted"`
	FirstTicket time.Time `json:"first_ticket_at"`
}

// releaseCustomers are the customers of a release's attributed tickets,
// most weighted first; tickets without a customer name none.
func releaseCustomers(r metrics.ReleaseImpact) []affectedCustomer {
	by := map[string]*affectedCustomer{}
	for _, t := range r.TicketList {
		if t.Customer == "" {
			continue
		}
		c := by[t.Customer]
		if c == nil {
			c = &affectedCustomer{Customer: t.Customer, FirstTicket: t.CreatedAt}
			by[t.Customer] = c
		}
		c.Tickets++
		c.Weighted += t.Weight
		if t.CreatedAt.Before(c.FirstTicket) {
			c.FirstTicket = t.CreatedAt
		}
	}
	out := make([]affectedCustomer, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b affectedCustomer) int {
		if a.Weighted != b.Weighted {
			if a.Weighted > b.Weighted {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Customer, b.Customer)
	})
	return out
}

func writeCustomersCSV(env *Env, cs []affectedCustomer) error {
	w := csv.NewWriter(env.Stdout)
	w.Write([]string{"customer", "tickets", "weighted", "first_ticket_at"})
	for _, c := range cs {
		w.Write([]string{spreadsheetText(c.Customer), fmt.Sprint(c.Tickets), fmt.Sprintf("%g", c.Weighted), c.FirstTicket.Format(time.RFC3339)})
	}
	w.Flush()
	return w.Error()
}

// spreadsheetText is a CSV cell of text from the records (a ticket's
// customer, which the sender's users may have typed) as a spreadsheet
// reads it: a cell beginning with =, +, -, @, a tab or a carriage return
// is a formula there (=HYPERLINK(…), =cmd|' /C calc'!A0), run or followed
// by whoever opens the survey list; the leading ' makes it text.
func spreadsheetText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeCustomersText(env *Env, cs []affectedCustomer) error {
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CUSTOMER\tTICKETS\tWEIGHTED\tFIRST TICKET")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%d\t%g\t%s\n", c.Customer, c.Tickets, c.Weighted, c.FirstTicket.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

// sendSurvey posts a release's affected customers to the survey webhook;
// a refusal (not 2xx) is an error naming the status. A redirect is one
// too, not followed (outbound.NoRedirect): the customers' names go to the
// configured URL or nowhere.
func sendSurvey(ctx context.Context, url string, r metrics.ReleaseImpact, cs []affectedCustomer) error {
	body, err := json.Marshal(map[string]any{"release": r.Deployment, "source": r.Source, "service": r.Service,
		"finished_at": r.FinishedAt, "customers": cs})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := outbound.NoRedirect(&http.Client{}).Do(req)
	if err != nil {
		return fmt.Errorf("survey webhook: %w", err)
	}
	resp.Body.Close()
	if err := outbound.Redirected(resp); err != nil {
		return fmt.Errorf("survey webhook %s %w; nothing was sent", url, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("survey webhook %s answered %s; nothing was sent", url, resp.Status)
	}
	return nil
}

// spikeText words a release's spike test as the releases page does: the
// tickets to the span's end (the service's next release when that came
// first), against what the previous weeks make expected, or no baseline.
func spikeText(r metrics.ReleaseImpact) string {
	s := r.Spike
	verdict := "no spike"
	if s.Flagged {
		verdict = "SPIKE"
	}
	until := s.Until.UTC().Format("2006-01-02 15:04")
	if r.SpikeToNextRelease() {
		until += " (its next release)"
	}
	expected := fmt.Sprintf("%.1f expected", s.Expected)
	if s.NoBaseline() {
		expected = "no baseline"
	}
	return fmt.Sprintf("%s: %s to %s vs %s (previous weeks %v), %s %s: %s", verdict, plural.Count(s.Observed, "ticket"), until, expected, s.Weeks, s.Test, stats.FormatP(s.P), s.ChanceWords())
}

func releasesText(rs []metrics.ReleaseImpact, at time.Time, w time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s finished in the %s before %s, most customer impact first\n", plural.Count(len(rs), "production release"), catalog.FormatWindow(w), at.Format(time.RFC3339))
	for _, r := range rs {
		score := "not scored"
		if r.Score != nil {
			score = fmt.Sprintf("score %6.2f", *r.Score)
		}
		fmt.Fprintf(&b, "%-16s %-16s %s  %11s (%d by service)  weighted %6.1f  %s  %s\n", r.Deployment, r.Service, r.FinishedAt.Format("2006-01-02 15:04"),
			plural.Count(r.Tickets, "ticket"), r.Inferred, r.Weighted, score, spikeText(r))
	}
	if worst := metrics.WorstScored(rs); worst != nil {
		// The list is by weighted tickets, inferred ones included; the
		// metric scores only the tickets naming a release, less its
		// service's baseline, and its value is the worst release's.
		fmt.Fprintf(&b, "release impact score: %.2f, %s (%s), the worst score: the weight of the tickets naming a release less its service's baseline\n", *worst.Score, worst.Deployment, worst.Service)
	}
	return b.String()
}

func releaseText(r metrics.ReleaseImpact) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Release %s/%s of %s (%s), finished %s\n", r.Source, r.Deployment, r.Service, r.Status, r.FinishedAt.Format(time.RFC3339))
	state := "closed"
	if r.Open {
		state = "still open"
	}
	fmt.Fprintf(&b, "Observation window to %s (%s): %d tickets, %d naming the release, %d about %s; weighted %.1f\n",
		r.ObservedUntil.Format(time.RFC3339), state, r.Tickets, r.Explicit, r.Inferred, r.Service, r.Weighted)
	fmt.Fprintf(&b, "Spike test: %s\n", spikeText(r))
	if r.Surveys.CSAT > 0 {
		fmt.Fprintf(&b, "CSAT of surveys naming it: %.2f from %s\n", *r.Surveys.CSATScore, plural.Count(r.Surveys.CSAT, "response"))
	}
	if r.Surveys.NPS > 0 {
		fmt.Fprintf(&b, "NPS of surveys naming it: %.0f from %s\n", *r.Surveys.NPSScore, plural.Count(r.Surveys.NPS, "response"))
	}
	if r.ActiveCustomers != nil {
		fmt.Fprintf(&b, "Exposed: %.0f active customers of %s on average over the window (usage records; usage names no customer)\n", *r.ActiveCustomers, r.Service)
	}
	for _, t := range r.TicketList {
		fmt.Fprintf(&b, "  %s/%s  %s  %s  weight %g\n", t.Source, t.ID, t.CreatedAt.Format(time.RFC3339), t.Link, t.Weight)
	}
	return b.String()
}

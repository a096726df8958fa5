package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/connect"
	"github.com/candor/candor/internal/customer"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/scorecard"
)

func init() {
	register(command{name: "customer", args: "ID [--as-of T] [--window W] [--month YYYY-MM] [--format text|json]", help: "one customer's subscriptions, MRR now and before, tickets, surveys, the releases they name and its risk signals", run: runCustomer})
	register(command{name: "customers", args: "[--at-risk] [--as-of T] [--window W] [--month YYYY-MM] [--format text|json]", help: "the customers showing risk signals (churn, MRR contraction, detractors, tickets past SLA, open escalations), worst first", run: runCustomers})
}

const customerHelp = "Signals over the window [as-of − window, as-of) (default 30 days): churn (a subscription active at the\n" +
	"window's start, none at as-of; a plan change is not churn), MRR contraction (less MRR than at the window's start,\n" +
	"the net of all its subscriptions), tickets past SLA (resolved in the window after their due time, or open past it),\n" +
	"open escalated tickets, an NPS of 0–6 or a CSAT of 2 or less in the window. A \"Data:\" line says how fresh the\n" +
	"subscriptions, tickets and surveys the signals read are, as `candor sources` judges them, and which signals stale\n" +
	"or never-sent data may undercount (JSON: data). docs/customers.md says more."

// customerWhen reads the date and format flags the customer commands
// share.
type customerWhen struct{ asOf, window, month, format *string }

// resolve is the as-of and window asked, as the other reads take them: a
// month stands for its as-of and window.
func (w customerWhen) resolve() (time.Time, time.Duration, error) {
	if err := checkFormat(*w.format); err != nil {
		return time.Time{}, 0, err
	}
	if *w.month != "" {
		m, err := monthFlag(*w.month, *w.asOf, *w.window)
		if err != nil {
			return time.Time{}, 0, err
		}
		return m.End(), m.Window(), nil
	}
	at, err := asOfTime(*w.asOf)
	if err != nil {
		return at, 0, err
	}
	window := customer.DefaultWindow
	if *w.window != "" {
		if window, err = catalog.ParseMetricWindow(*w.window); err != nil {
			return at, 0, usagef("--window: %v", err)
		}
	}
	return at, window, nil
}

func customerFlags(env *Env, name, args, help string) (*flag.FlagSet, customerWhen) {
	fs := flags(env, name, args, help)
	w := customerWhen{
		fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)"),
		fs.String("window", "", "the signals' window before as-of (default 30d)"),
		fs.String("month", "", "a calendar month that has ended, YYYY-MM (UTC), instead of --as-of and --window"),
		fs.String("format", "text", "text or json")}
	return fs, w
}

func runCustomer(ctx context.Context, env *Env, args []string) error {
	f, when := customerFlags(env, "customer", "ID [flags]", "Shows one customer — the customer field of its subscriptions, tickets, surveys and measurements — as of --as-of:\n"+
		"its subscriptions, MRR now, 30 and 365 days before, tickets (open first, SLA breaches marked), surveys (newest\n"+
		"first), the releases they name and its risk signals.\n"+customerHelp)
	var c common
	c.bind(f)
	rest, err := parse(f, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] == "" {
		return usagef("give one customer ID (as its records name it), e.g. candor customer acme")
	}
	at, window, err := when.resolve()
	if err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	j, err := customerJudge(ctx, a, at)
	if err != nil {
		return err
	}
	var cu *customer.Customer
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		var err error
		cu, err = customer.Page(ds, j, rest[0], at, window, customer.Options{})
		return err
	})
	if err != nil {
		return err
	}
	if *when.format == "json" {
		return writeJSONOut(env, struct {
			*customer.Customer
			Window string `json:"window"`
		}{cu, catalog.FormatWindow(window)})
	}
	return writeCustomerText(env.Stdout, cu)
}

func runCustomers(ctx context.Context, env *Env, args []string) error {
	f, when := customerFlags(env, "customers", "[--at-risk] [flags]", "Lists the customers the records name as of --as-of, worst first: by the gravest signal (churn, then MRR\n"+
		"contraction, then an open escalated ticket, then an NPS detractor or a CSAT of 2 or less, then tickets past\n"+
		"SLA, then none), then by MRR at stake (the larger of the customer's MRR at the window's start and at as-of),\n"+
		"then by how many signals, then by name; with --at-risk only those showing a risk signal.\n"+customerHelp)
	var c common
	c.bind(f)
	atRisk := f.Bool("at-risk", false, "only the customers showing a risk signal")
	if err := parseNone(f, args); err != nil {
		return err
	}
	at, window, err := when.resolve()
	if err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	j, err := customerJudge(ctx, a, at)
	if err != nil {
		return err
	}
	var l customer.List
	err = a.engine.Read(ctx, func(ds *metrics.Dataset) error {
		l = customer.ListOf(ds, j, at, window, customer.Options{}, *atRisk)
		return nil
	})
	if err != nil {
		return err
	}
	if *when.format == "json" {
		return writeJSONOut(env, map[string]any{"as_of": l.AsOf, "window": catalog.FormatWindow(l.Window), "at_risk": *atRisk,
			"currency": l.Currency, "customers_considered": l.Considered, "customers": l.Customers, "data": l.Data})
	}
	return writeCustomersList(env.Stdout, l, *atRisk)
}

// customerJudge judges the freshness of the data the customer commands
// read as `candor sources` does: by the limits of the metrics in force and
// the configured connectors feeding a state kind.
func customerJudge(ctx context.Context, a *app, at time.Time) (customer.Judge, error) {
	conns, err := connect.Feeds(ctx, a.store, a.cfg.Connectors, at)
	return customer.Judge{Catalog: a.catalog, Connectors: conns}, err
}

// dataLine is the freshness of the kinds read, on one line, with what
// stale or never-sent data may undercount.
func dataLine(data []customer.KindData) string {
	line := customer.DataLine(data)
	if w := customer.DataWarning(data); w != "" {
		line += ". " + w
	}
	return line
}

// writeCustomerText writes one customer as the page shows it.
func writeCustomerText(w io.Writer, c *customer.Customer) error {
	stamp := func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	fmt.Fprintf(w, "Customer %s as of %s", c.Name, c.AsOf.UTC().Format(time.RFC3339))
	if c.Segment != "" {
		fmt.Fprintf(w, " (segment %s, %s)", c.Segment, c.SegmentWords())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, dataLine(c.Data))
	if c.MRR != nil {
		fmt.Fprintf(w, "MRR (%s): now %s", c.Currency, mrrText(*c.MRR, nil))
		fmt.Fprintf(w, " · 30 days before %s · 365 days before %s\n", mrrText(*c.MRRMonthAgo, c.MRR), mrrText(*c.MRRYearAgo, c.MRR))
	}
	win := catalog.WindowWords(c.Window)
	if len(c.Signals) == 0 {
		fmt.Fprintf(w, "No risk signal in the %s to %s.\n", win, c.AsOf.UTC().Format("2 Jan 2006 15:04 MST"))
	} else {
		fmt.Fprintf(w, "Risk signals in the %s to %s:\n", win, c.AsOf.UTC().Format("2 Jan 2006 15:04 MST"))
		for _, s := range c.Signals {
			fmt.Fprintf(w, "  %s\n", s.Words)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "\nSubscriptions (%d), active first:\n", len(c.Subscriptions))
	for _, s := range c.Subscriptions {
		state := "ended " + stamp(s.Ended)
		if s.Active {
			state = "active"
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\tstarted %s\t%s\t%s\n", s.Source, s.ID, emDash(s.Plan), stamp(&s.Started), state, amountText(s.MRR, s.Currency))
	}
	fmt.Fprintf(tw, "\nTickets (%d), open first:\n", len(c.Tickets))
	for _, t := range c.Tickets {
		state := "resolved " + stamp(t.Resolved)
		if t.Open {
			state = "open"
		}
		sla := "no SLA"
		if t.SLAWords != "" {
			sla = "SLA " + t.SLAWords
		}
		esc := ""
		if t.Escalated {
			esc = "escalated"
		}
		rel := ""
		if t.Release != "" {
			rel = "release " + t.Release
		}
		fmt.Fprintf(tw, "  %s/%s\tcreated %s\t%s\t%s\t%s\t%s\t%s\n", t.Source, t.ID, stamp(&t.Created), state, emDash(t.Priority), sla, esc, rel)
	}
	fmt.Fprintf(tw, "\nSurveys (%d), newest first:\n", len(c.Surveys))
	for _, s := range c.Surveys {
		mark := ""
		if s.Detractor {
			mark = "detractor"
		}
		rel := ""
		if s.Release != "" {
			rel = "release " + s.Release
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s %s\t%s\t%s\n", s.Source, s.ID, stamp(&s.At), strings.ToUpper(s.Type), strconv.FormatFloat(s.Score, 'f', -1, 64), mark, rel)
	}
	if len(c.Measurements) > 0 {
		fmt.Fprintf(tw, "\nMeasurements (%d), newest first:\n", len(c.Measurements))
		for _, m := range c.Measurements {
			fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%s %s\n", m.Source, m.ID, stamp(&m.At), m.Metric, strconv.FormatFloat(m.Value, 'f', -1, 64), m.Unit)
		}
	}
	if len(c.Releases) > 0 {
		fmt.Fprintf(tw, "\nReleases its tickets and surveys name (%d):\n", len(c.Releases))
		for _, r := range c.Releases {
			dep := "no deployment with this id by then"
			if r.Deployment != nil {
				dep = "deployment " + r.Deployment.Source + "/" + r.Deployment.ID
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", r.ID, dep, plural.Count(r.Tickets, "ticket"), plural.Count(r.Surveys, "survey"))
		}
	}
	return tw.Flush()
}

// mrrText is an MRR figure, or why there is none; beside now's, the
// change to now.
func mrrText(p customer.MRRPoint, now *customer.MRRPoint) string {
	if p.Value == nil {
		return "— (" + p.Note + ")"
	}
	s := scorecard.Amount(*p.Value)
	if now != nil && now.Value != nil {
		d := *now.Value - *p.Value
		if math.Abs(d) >= 0.005 { // float noise is no change, as the page says "unchanged since then"
			s += " (now " + customer.SignedAmount(d)
			if *p.Value > 0 {
				s += ", " + customer.Percent(100*d/(*p.Value))
			}
			s += ")"
		}
	}
	return s
}

func amountText(v *float64, cur string) string {
	if v == nil {
		return ""
	}
	return scorecard.Amount(*v) + " " + cur
}

// emDash is s, or a dash for none, as the pages write it.
func emDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// writeCustomersList writes the list, a customer and its signals a block.
func writeCustomersList(w io.Writer, l customer.List, atRisk bool) error {
	to := l.AsOf.UTC().Format("2 Jan 2006 15:04 MST")
	// First: how far the list can be trusted, before what it says.
	fmt.Fprintln(w, dataLine(l.Data))
	win := catalog.WindowWords(l.Window)
	if len(l.Customers) == 0 {
		if atRisk {
			none := "No customer"
			if l.Considered > 0 {
				none = "None of " + plural.Count(l.Considered, "customer")
			}
			fmt.Fprintf(w, "%s shows a risk signal in the %s to %s.\n", none, win, to)
		} else {
			fmt.Fprintf(w, "No record names a customer as of %s.\n", to)
		}
		return nil
	}
	what := "Customers"
	if atRisk {
		// Set against the customers the window could show a signal for:
		// "66 customers" alone said nothing of how many there are.
		what = fmt.Sprintf("%d of %s showing a risk signal", len(l.Customers), plural.Count(l.Considered, "customer"))
	}
	fmt.Fprintf(w, "%s in the %s to %s, worst first (%s):\n", what, win, to, l.OrderWords(true))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range l.Customers {
		mrr := "no subscription"
		if c.MRR != nil {
			mrr = "MRR " + scorecard.Amount(*c.MRR) + "\tat stake " + scorecard.Amount(*c.AtStake)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.Customer, mrr, plural.Count(len(c.Signals), "signal"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range l.Customers {
		if len(c.Signals) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", c.Customer)
		for _, s := range c.Signals {
			fmt.Fprintf(w, "  %s\n", s.Words)
		}
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/escalation"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

func init() {
	register(command{name: "alert", args: "list|ack|silence|unsilence|test|evaluate|route [flags]", help: "alerts: list them, acknowledge one, silence some for a time or end a silence, send a test through a channel, evaluate the rules now, show where a metric's alert would go", run: runAlert})
}

func runAlert(ctx context.Context, env *Env, args []string) error {
	return subcommand(ctx, env, "alert", args, map[string]func(context.Context, *Env, []string) error{
		"list": runAlertList, "ack": runAlertAck, "silence": runAlertSilence, "unsilence": runAlertUnsilence, "test": runAlertTest, "evaluate": runAlertEvaluate, "route": runAlertRoute,
	}, []string{"list", "ack", "silence", "unsilence", "test", "evaluate", "route"})
}

// alerts is the alert service of the configuration; log receives its
// send failures (nil: none). It is built once per app: a server's pages
// and its leader's evaluations share it, and an approved alerts.rules
// section changes its rules (applySections).
func (a *app) alerts(log *slog.Logger) (*alert.Service, alert.Settings, error) {
	a.live.alertsOnce.Do(func() {
		svc, set, err := a.newAlerts(log)
		a.live.mu.Lock()
		a.live.alerts, a.live.alertSet, a.live.alertErr = svc, set, err
		a.live.mu.Unlock()
	})
	a.live.mu.Lock()
	defer a.live.mu.Unlock()
	return a.live.alerts, a.live.alertSet, a.live.alertErr
}

func (a *app) newAlerts(log *slog.Logger) (*alert.Service, alert.Settings, error) {
	set, err := a.cfg.AlertSettings(a.catalog) // checked by config.Load
	if err != nil {
		return nil, set, err
	}
	st, ok := a.store.(store.AlertStore)
	if !ok {
		return nil, set, fmt.Errorf("the %T store keeps no alerts", a.store)
	}
	docs, _ := a.store.(store.DocStore) // without documents, reconciliation rules are not evaluated
	set = set.WithInbox(docs)
	g, err := a.grants()
	if err != nil {
		return nil, set, err
	}
	router := set.Router(a.catalog, g)
	svc := &alert.Service{Store: st, Engine: a.engine, Catalog: a.catalog, Rules: set.Rules, Timing: set.Timing, Channels: set.Channels, Log: log, Docs: docs, Router: &router}
	if us, ok := a.store.(store.AuthStore); ok {
		svc.Users = us.Users
	}
	return svc, set, nil
}

// openAlerts opens the store and its alert service.
func (c *common) openAlerts(ctx context.Context, env *Env, log *slog.Logger) (*app, *alert.Service, error) {
	a, err := c.open(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	svc, _, err := a.alerts(log)
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, svc, nil
}

// checkAlertSecrets refuses, as a configuration error, a command that
// sends through channels (the named ones, or all) whose secret_env
// variable is unset; the commands that send nothing run without it.
func (a *app) checkAlertSecrets(channels ...string) error {
	_, set, err := a.alerts(nil)
	if err != nil {
		return err
	}
	if err := set.CheckSecrets(channels...); err != nil {
		return &exitError{code: 2, err: err}
	}
	return nil
}

// notifiers tells each escalation to all of its notifiers.
type notifiers []escalation.Notifier

func (ns notifiers) Notify(ctx context.Context, e escalation.Escalation) error {
	var errs []string
	for _, n := range ns {
		if err := n.Notify(ctx, e); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func runAlertList(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert list", "[flags]", "Lists the alerts: firing, then pending (waiting out their rule's `for`), then resolved in the last 7 days,\neach with its key (for ack), rule, metric, scope, since when, and its acknowledgement (who, when, its note) or silence.")
	var c common
	c.bind(fs)
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	list, _, err := svc.Shown(ctx)
	if err != nil {
		return err
	}
	left, err := leftOut(ctx, svc)
	if err != nil {
		return err
	}
	if *format == "json" {
		if left == nil {
			left = []leftOutNote{}
		}
		return writeJSONOut(env, map[string]any{"alerts": list, "notifications_left_out": left})
	}
	if len(left) > 0 {
		// After the alerts, so that the table stays the first thing read.
		defer func() {
			fmt.Fprintln(env.Stdout, "\nNotifications whose last attempt left recipients out (each attempt sends within the grants of its time):")
			for _, n := range left {
				fmt.Fprintf(env.Stdout, "  #%d %s · %s, %s: %s\n", n.ID, n.Group, n.Channel, n.State, n.Withheld)
			}
		}()
	}
	if len(list) == 0 {
		fmt.Fprintln(env.Stdout, "No alert.")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tSEVERITY\tKEY\tSINCE\tSUMMARY\tNOTE")
	for _, x := range list {
		since := x.ActiveAt
		if x.State == alert.Resolved {
			since = x.ResolvedAt
		}
		note := ""
		switch {
		case x.Silenced:
			note = fmt.Sprintf("silenced (#%d)", x.SilenceID)
		case x.AckedBy != "":
			note = fmt.Sprintf("acknowledged by %s %s", x.AckedBy, x.AckedAt.Format(time.DateTime))
			if x.AckNote != "" {
				// One line in the table, whatever the note holds.
				note += fmt.Sprintf(": \"%s\"", strings.Join(strings.Fields(x.AckNote), " "))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", x.State, x.Severity, x.Key, since.Format(time.DateTime), x.Summary, note)
	}
	return tw.Flush()
}

// leftOutNote is a notification whose last attempt left recipients out:
// who and why (alert.Service.Flush decides them again at each attempt).
type leftOutNote struct {
	ID        int64  `json:"id"`
	Group     string `json:"group"`
	Channel   string `json:"channel"`
	State     string `json:"state"`
	LastError string `json:"last_error,omitempty"`
	Withheld  string `json:"withheld"`
}

// leftOut are the latest notifications (of the 100 newest) whose last
// attempt left someone out, newest first.
func leftOut(ctx context.Context, svc *alert.Service) ([]leftOutNote, error) {
	ns, err := svc.Notifications(ctx, 100)
	if err != nil {
		return nil, err
	}
	var out []leftOutNote
	for _, n := range ns {
		if n.Withheld != "" {
			out = append(out, leftOutNote{ID: n.ID, Group: n.Group, Channel: n.Channel, State: n.State, LastError: n.LastError, Withheld: n.Withheld})
		}
	}
	return out, nil
}

func runAlertAck(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert ack", "KEY [--note TEXT] [flags]", "Acknowledges a pending or firing alert (its KEY from `candor alert list`): it is not repeated until it resolves;\nits resolution is still told. A new episode of the alert needs a new acknowledgement. An alert acknowledged already\nkeeps its first acknowledgement: acknowledging it again exits 1 naming who did and when, unless it is the same\nperson with the same --note (a retry, which changes nothing).")
	var c common
	c.bind(fs)
	note := fs.String("note", "", "what is being done")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || strings.TrimSpace(rest[0]) == "" {
		return usagef("give the alert's KEY (see candor alert list)")
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := svc.Ack(ctx, rest[0], cliActor(env).Name, *note); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Acknowledged %s.\n", rest[0])
	return nil
}

func runAlertSilence(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert silence", "--reason TEXT --for DURATION [--rule R] [--metric M] [--scope DIM:VALUE] [flags]", "Silences the alerts matching rule, metric and scope (at least one) for a time, at most 90d: they are neither told nor\nrepeated, and a resolution under the silence is not told. The silence keeps its reason and author; `candor alert\nunsilence --id N` ends it early. An unknown rule, metric, scope dimension or value is refused, naming the known ones.")
	var c common
	c.bind(fs)
	reason := fs.String("reason", "", "why (required)")
	dur := fs.String("for", "", "how long, e.g. 2h or 3d (required)")
	rule := fs.String("rule", "", "rule name")
	metric := fs.String("metric", "", "metric id")
	scope := fs.String("scope", "", "scope, DIM:VALUE")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	d, err := catalog.ParseWindow(*dur)
	if err != nil {
		return usagef("--for: %v", err)
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	x, err := svc.Silence(ctx, store.Silence{Rule: *rule, Metric: *metric, Scope: *scope, Reason: *reason, Author: cliActor(env).Name}, d)
	if err != nil {
		return flagError(err, map[string]string{"reason": "--reason", "rule": "--rule", "metric": "--metric", "scope": "--scope", "for": "--for", "author": "$USER"})
	}
	fmt.Fprintf(env.Stdout, "Silence #%d until %s.\n", x.ID, x.EndsAt.Format(time.RFC3339))
	return nil
}

func runAlertUnsilence(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert unsilence", "--id N [flags]", "Ends a silence in force now, before its end (its id from `candor alert silence`, `candor alert list` or /alerts):\nthe alerts it muted are told again from the next evaluation. Recorded in the audit ledger with who ended it.")
	var c common
	c.bind(fs)
	id := fs.Int64("id", 0, "the silence's id (required)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("--id: give the silence's id, a positive number")
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	x, err := svc.Unsilence(ctx, *id, cliActor(env).Name)
	if err != nil {
		return flagError(err, map[string]string{"by": "$USER"})
	}
	fmt.Fprintf(env.Stdout, "Silence #%d ended at %s.\n", x.ID, x.EndsAt.Format(time.RFC3339))
	return nil
}

func runAlertTest(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert test", "CHANNEL [--to ADDRESS] [flags]", "Sends a test notification through the named channel (alerts.channels) now and says whether it went.")
	var c common
	c.bind(fs)
	to := fs.String("to", "", "comma-separated addresses, replacing an email channel's")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give the CHANNEL's name")
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.checkAlertSecrets(rest[0]); err != nil {
		return err
	}
	var addrs []string
	if *to != "" {
		addrs = strings.Split(*to, ",")
	}
	if err := svc.Test(ctx, rest[0], addrs); err != nil {
		if errors.As(err, new(*domain.Error)) {
			return flagError(err, map[string]string{"channel": "CHANNEL"})
		}
		return fmt.Errorf("channel %s: %w", rest[0], err)
	}
	fmt.Fprintf(env.Stdout, "Sent a test notification through %s.\n", rest[0])
	return nil
}

// flagError words an invalid parameter as a usage error naming its flag;
// the message's own "param: " is dropped, so the flag is named once.
func flagError(err error, flagOf map[string]string) error {
	var de *domain.Error
	if errors.As(err, &de) && de.Param != "" {
		f, msg := flagOf[de.Param], strings.TrimPrefix(de.Message, de.Param+": ")
		if f == "" {
			// A field within a flag's JSON ("changes.target") is the
			// flag's, the field named: "--changes: target: …".
			if head, rest, ok := strings.Cut(de.Param, "."); ok && flagOf[head] != "" {
				f, msg = flagOf[head], rest+": "+msg
			} else {
				f = de.Param
			}
		}
		return usagef("%s: %s", f, msg)
	}
	return err
}

func runAlertEvaluate(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert evaluate", "[--as-of T] [flags]", "Evaluates the alert rules once, as the leader of candor serve does every alerts.evaluate_every, stores the\nnotifications due and sends them. --as-of evaluates as if it were that time (to replay generated data); it may\nnot be before the stored alerts' last evaluation.")
	var c common
	c.bind(fs)
	asOf := fs.String("as-of", "", "point in time, RFC 3339 or YYYY-MM-DD (default now)")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	now, err := asOfTime(*asOf)
	if err != nil {
		return err
	}
	a, svc, err := c.openAlerts(ctx, env, slog.New(slog.NewTextHandler(env.Stderr, nil)))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.checkAlertSecrets(); err != nil {
		return err
	}
	// Stored alerts follow one clock: evaluated before their last
	// evaluation, an alert fired later had been "resolved" before it fired
	// and the evaluation clock set back. Looking at the past is for
	// candor scorecard --as-of; replaying older data wants a store of its own.
	stored, err := svc.List(ctx)
	if err != nil {
		return err
	}
	for _, x := range stored {
		if now.Before(x.LastEval) {
			return usagef("--as-of %s: the stored alerts were evaluated as of %s already, and their state cannot go back in time (candor scorecard --as-of shows the past; replay older data into a store of its own)",
				now.Format(time.RFC3339), x.LastEval.UTC().Format(time.RFC3339))
		}
	}
	svc.Now = func() time.Time { return now }
	if err := svc.Evaluate(ctx, scorecard.Options{}); err != nil {
		return err
	}
	list, err := svc.List(ctx)
	if err != nil {
		return err
	}
	n := map[string]int{}
	for _, x := range list {
		n[x.State]++
	}
	fmt.Fprintf(env.Stdout, "Evaluated %d rules as of %s: %d firing, %d pending, %d resolved.\n", len(svc.RulesInForce()), now.Format(time.RFC3339), n[alert.Firing], n[alert.Pending], n[alert.Resolved])
	return nil
}

func runAlertRoute(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "alert route", "METRIC [--scope DIM:VALUE] [--rule NAME] [flags]", "Shows where an alert on METRIC would go from each rule that looks at it: the routes that match,\nthe channels and addresses, and who is withheld and why (no revenue figure to a recipient without revenue:read).")
	var c common
	c.bind(fs)
	scope := fs.String("scope", "", "team:NAME, service:NAME or environment:NAME (default the organisation)")
	rule := fs.String("rule", "", "only this rule")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give the METRIC's id")
	}
	a, svc, err := c.openAlerts(ctx, env, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	answers, err := svc.Explain(ctx, rest[0], *scope, *rule)
	if err != nil {
		return flagError(err, map[string]string{"metric": "METRIC", "scope": "--scope", "rule": "--rule"})
	}
	if len(answers) == 0 {
		fmt.Fprintf(env.Stdout, "No rule looks at %s.\n", rest[0])
		return nil
	}
	w := env.Stdout
	for _, an := range answers {
		if an.When != "" {
			fmt.Fprintf(w, "%s (%s, %s):\n", an.Rule, an.Severity, an.When)
		} else {
			fmt.Fprintf(w, "%s (%s):\n", an.Rule, an.Severity)
		}
		if len(an.Deliveries) == 0 {
			fmt.Fprintln(w, "  goes nowhere")
		}
		for _, d := range an.Deliveries {
			to := ""
			if d.Kind == "email" {
				to = " to " + strings.Join(d.To, ", ")
			}
			fmt.Fprintf(w, "  %s (%s)%s — %s\n", d.Channel, d.Kind, to, strings.Join(d.Why, ", "))
		}
		for _, h := range an.Withheld {
			fmt.Fprintf(w, "  withheld from %s: %s\n", h.Who, h.Why)
		}
	}
	return nil
}

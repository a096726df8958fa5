package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/scorecard"
)

// Definition governance on the command line (SPEC §5): the same rules as
// the API, for a principal identified by an API token, since someone
// with the database is not thereby an executive. The token is read from
// --token-file or standard input.

var catalogSubs = map[string]func(context.Context, *Env, []string) error{
	"propose": runCatalogPropose,
	"approve": func(ctx context.Context, env *Env, args []string) error {
		return runCatalogDecide(ctx, env, governance.Approve, args)
	},
	"reject": func(ctx context.Context, env *Env, args []string) error {
		return runCatalogDecide(ctx, env, governance.Reject, args)
	},
	"history": runCatalogHistory,
}

// tokenFlag reads the API token that says who acts.
type tokenFlag struct{ file string }

func (t *tokenFlag) bind(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&t.file, "token-file", "", "file holding the API token of who acts (default: read from standard input)")
}

// principal authenticates the token and requires perm of it ("": none).
func (t *tokenFlag) principal(ctx context.Context, env *Env, a *app, perm auth.Permission) (auth.Principal, error) {
	var in io.Reader = env.Stdin
	if t.file != "" {
		f, err := os.Open(t.file)
		if err != nil {
			return auth.Principal{}, usagef("--token-file: %s", fileProblem(t.file, err))
		}
		defer f.Close()
		in = f
	}
	if in == nil {
		return auth.Principal{}, usagef("no API token: give --token-file FILE or pipe the token in")
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && err != io.EOF {
		return auth.Principal{}, err
	}
	token := strings.TrimSpace(line)
	if token == "" {
		return auth.Principal{}, usagef("no API token: give --token-file FILE or pipe the token in (candor token create makes one)")
	}
	svc, err := a.authService()
	if err != nil {
		return auth.Principal{}, err
	}
	p, err := svc.AuthenticateToken(ctx, token)
	if err != nil {
		return auth.Principal{}, fmt.Errorf("the API token: %w", err)
	}
	// perm "" leaves the check to the caller (a gate approver's roles).
	if perm != "" {
		if err := svc.Grants().Require(p, perm); err != nil {
			return auth.Principal{}, err
		}
	}
	return p, nil
}

func runCatalogPropose(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "catalog propose", "(--metric ID (--changes JSON | --retire) | --setting NAME --value JSON | --section NAME --file FILE) --reason TEXT [flags]",
		"Proposes a change of a metric's definition or of a value-changing setting; an executive other than you approves it\n"+
			"(candor catalog approve). While the metric is red, a change that loosens it needs two. The API token of who\n"+
			"proposes (definitions:propose) is read from standard input or --token-file.\n"+
			`Changes are the fields of an override: {"thresholds": {"green": 3, "amber": 10}}, {"target": 99.9}, {"window": "14d"},`+"\n"+
			`{"owner": "CTO"}, {"min_sample": 10}, {"signoff": "confirmed"}.`+"\n"+
			"A section ("+strings.Join(config.SectionNames(), ", ")+") is proposed as a YAML file holding it as the\n"+
			"configuration file writes it (alerts: {rules: [...]}; views: [...]; custom_metrics: [...], the whole list, each\n"+
			"computation and its catalog attributes); for gates, a release gate policies file.")
	var c common
	c.bind(fs)
	var tok tokenFlag
	tok.bind(fs)
	var in governance.Input
	changes := fs.String("changes", "", "the metric's changed fields, a JSON object")
	retire := fs.Bool("retire", false, "retire the metric (it keeps its history and last status)")
	value := fs.String("value", "", "the setting's new value as JSON (null restores the default)")
	fs.StringVar(&in.Metric, "metric", "", "the metric to change")
	fs.StringVar(&in.Setting, "setting", "", "the value-changing setting to change:\n"+listLines(config.GovernedSettings(), 100))
	fs.StringVar(&in.Section, "section", "", "the governed configuration section to change: "+strings.Join(config.SectionNames(), ", "))
	file := fs.String("file", "", "the section's new text (YAML), with --section")
	fs.StringVar(&in.Reason, "reason", "", "why (required)")
	format := fs.String("format", "text", "text or json")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	switch {
	case (in.Section != "") != (*file != ""):
		return usagef("--section and --file go together: the section's new text is read from the file")
	case *file != "":
		b, err := os.ReadFile(*file)
		if err != nil {
			return usagef("--file: %s", fileProblem(*file, err))
		}
		in.Value, _ = json.Marshal(string(b))
		in.File = *file
	}
	switch {
	case *retire && *changes != "":
		return usagef("--retire and --changes: a retirement changes nothing else")
	case *retire:
		*changes = `{"retire": true}`
	}
	if *changes != "" {
		in.Changes = json.RawMessage(*changes)
	}
	if *value != "" {
		in.Value = json.RawMessage(*value)
	}
	if strings.TrimSpace(in.Reason) == "" {
		return usagef("--reason is required: say why")
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := tok.principal(ctx, env, a, auth.DefinitionsPropose)
	if err != nil {
		return err
	}
	// An unknown metric is guessed among those the token's roles may see,
	// as the API guesses.
	g, err := a.grants()
	if err != nil {
		return err
	}
	in.Visible = g.Access(p.Roles).CanSeeMetric
	v, err := a.gov.Propose(ctx, in, auth.Person(p))
	if err != nil {
		// A section's text comes from --file, a setting's from --value.
		value := "--value"
		if in.Section != "" {
			value = "--file"
		}
		return flagError(err, map[string]string{"metric": "--metric", "changes": "--changes", "changes.retire": "--changes", "setting": "--setting",
			"value": value, "file": "--file", "section": "--section", "reason": "--reason"})
	}
	if *format == "json" {
		return writeJSONOut(env, v)
	}
	return printProposals(ctx, env, a, []governance.View{*v})
}

// listLines joins names with commas into lines of at most width
// characters, for a flag's help: twelve settings on one line ran far past
// a terminal's edge.
func listLines(names []string, width int) string {
	var b strings.Builder
	line := 0
	for i, n := range names {
		if i > 0 {
			b.WriteString(",")
			line++
			if line+1+len(n) > width {
				b.WriteString("\n")
				line = 0
			} else {
				b.WriteString(" ")
				line++
			}
		}
		b.WriteString(n)
		line += len(n)
	}
	return b.String()
}

func runCatalogDecide(ctx context.Context, env *Env, decision string, args []string) error {
	name := "catalog " + decision
	fs := flags(env, name, "ID --reason TEXT [flags]",
		"Records your decision on a proposal, with a reason. You must hold definitions:approve and the executive role, and\n"+
			"must not be its proposer; "+
			"the approval that completes a proposal puts it in force at once. The API token of who decides is read from\n"+
			"standard input or --token-file.")
	var c common
	c.bind(fs)
	var tok tokenFlag
	tok.bind(fs)
	reason := fs.String("reason", "", "why (required)")
	format := fs.String("format", "text", "text or json")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("give the proposal's id (candor catalog history lists them)")
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return usagef("%q is not a proposal id", rest[0])
	}
	if strings.TrimSpace(*reason) == "" {
		return usagef("--reason is required: say why")
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := tok.principal(ctx, env, a, auth.DefinitionsApprove)
	if err != nil {
		return err
	}
	if err := governance.CheckDecider(p.Roles); err != nil {
		return err
	}
	by, err := auth.Decider(p)
	if err != nil {
		return err
	}
	v, err := a.gov.Decide(ctx, id, decision, *reason, by)
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, v)
	}
	return printProposals(ctx, env, a, []governance.View{*v})
}

func runCatalogHistory(ctx context.Context, env *Env, args []string) error {
	fs := flags(env, "catalog history", "[METRIC | --section NAME] [flags]",
		"Prints a metric's definition versions (who proposed and approved each, and when it took effect) and its proposals,\n"+
			"or a governed section's values (--section); without either, every proposal, newest first.")
	var c common
	c.bind(fs)
	format := fs.String("format", "text", "text or json")
	section := fs.String("section", "", "a governed configuration section: "+strings.Join(config.SectionNames(), ", "))
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 || (len(rest) > 0 && *section != "") {
		return usagef("unexpected argument %q", rest[len(rest)-1])
	}
	if err := checkFormat(*format); err != nil {
		return err
	}
	if *section != "" {
		if _, err := config.SectionByName(*section); err != nil {
			return usagef("--section: %v", err)
		}
	}
	a, err := c.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()
	if *section != "" {
		h, err := a.gov.SectionHistory(ctx, *section)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSONOut(env, h)
		}
		fmt.Fprint(env.Stdout, sectionHistoryText(h))
		return nil
	}
	if len(rest) == 0 {
		list, err := a.gov.List(ctx)
		if err != nil {
			return err
		}
		if *format == "json" {
			return writeJSONOut(env, map[string]any{"proposals": list})
		}
		if len(list) == 0 {
			fmt.Fprintln(env.Stdout, "No proposals yet: candor catalog propose makes one.")
		}
		return printProposals(ctx, env, a, list)
	}
	h, err := a.gov.MetricHistory(ctx, rest[0])
	if domain.CodeOf(err) == domain.ENotFound {
		return usagef("unknown metric %q", rest[0])
	}
	if err != nil {
		return err
	}
	if *format == "json" {
		return writeJSONOut(env, h)
	}
	fmt.Fprint(env.Stdout, historyText(h))
	return nil
}

// printProposals prints each proposal (proposalText), a section's with
// what it changes field by field: its text is the whole section, and whoever
// decides it from the command line had nothing else to judge it by.
func printProposals(ctx context.Context, env *Env, a *app, list []governance.View) error {
	var st *governance.State
	for i := range list {
		v := &list[i]
		var changes []governance.SectionChange
		if v.Section != "" {
			if st == nil {
				var err error
				if st, err = a.gov.State(ctx); err != nil {
					return err
				}
			}
			var err error
			if changes, err = st.SectionChanges(v, time.Now()); err != nil {
				return err
			}
		}
		fmt.Fprint(env.Stdout, proposalText(v, changes))
	}
	return nil
}

// proposalText says what a proposal is and where it stands; changes are a
// section proposal's (governance.State.SectionChanges).
func proposalText(v *governance.View, changes []governance.SectionChange) string {
	var b strings.Builder
	what := v.Metric + " " + string(v.Changes)
	switch {
	case v.Setting != "":
		what = "setting " + v.Setting + " = " + string(v.Value)
	case v.Section != "":
		what = "section " + v.Section
		if v.File != "" {
			what += " from " + v.File
		}
	}
	fmt.Fprintf(&b, "Proposal %d: %s\n", v.ID, what)
	// The proposer and the decider each on their own line: "APPROVED by"
	// had named the proposer, its time and reason, the approver below.
	fmt.Fprintf(&b, "  proposed by %s at %s: %s\n", v.By, v.At.Format(time.RFC3339), v.Reason)
	switch {
	case v.Rejection != nil:
		r := v.Rejection
		fmt.Fprintf(&b, "  %s by %s at %s: %s\n", strings.ToUpper(v.Status), r.By, r.At.Format(time.RFC3339), r.Reason)
	case v.Status == governance.Approved && len(v.Approvals) > 0:
		var by []string
		for _, a := range v.Approvals {
			by = append(by, a.By)
		}
		last := v.Approvals[len(v.Approvals)-1]
		fmt.Fprintf(&b, "  %s by %s at %s\n", strings.ToUpper(v.Status), strings.Join(by, " and "), last.At.Format(time.RFC3339))
	default:
		fmt.Fprintf(&b, "  %s\n", strings.ToUpper(v.Status))
	}
	if s := v.Before; s != nil {
		switch {
		case v.Setting != "":
			was, dflt := s.Was()
			text := string(was)
			if dflt {
				// As the proposals page words it: "1d", not nanoseconds.
				if w, ok := scorecard.DefaultSettingText(v.Setting, was); ok {
					text = w
				}
			}
			fmt.Fprintf(&b, "  was %s", text)
			if dflt {
				b.WriteString(" (the default)")
			}
			b.WriteString("\n")
		case v.Section != "":
		default:
			fmt.Fprintf(&b, "  when proposed: version %d, %s", s.Version, strings.ToUpper(string(s.Status)))
			if s.Reason != "" {
				fmt.Fprintf(&b, " (%s)", s.Reason)
			}
			b.WriteString("\n")
		}
	}
	if v.Section != "" {
		against := governance.SectionBaseWords(v.Status)
		if len(changes) == 0 {
			fmt.Fprintf(&b, "  changes nothing against %s\n", against)
		} else {
			fmt.Fprintf(&b, "  changes against %s:\n", against)
		}
		for _, c := range changes {
			fmt.Fprintf(&b, "    %s\n", c)
		}
	}
	for _, l := range v.Loosens {
		fmt.Fprintf(&b, "  loosens: %s\n", l.Why)
	}
	fmt.Fprintf(&b, "  approvals %d of %d needed", len(v.Approvals), v.Needed)
	for _, a := range v.Approvals {
		fmt.Fprintf(&b, "; %s at %s (%s)", a.By, a.At.Format(time.RFC3339), a.Reason)
	}
	b.WriteString("\n")
	if v.Effective != nil {
		fmt.Fprintf(&b, "  in force from %s\n", v.Effective.Format(time.RFC3339))
	}
	return b.String()
}

// historyText lists a metric's versions.
func historyText(h *governance.History) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Definition history of %s\n", h.Metric)
	for _, v := range h.Versions {
		fmt.Fprintf(&b, "  version %d, %s (%s)", v.Version, fromText(v.From), h.Source(v))
		if v.Retired {
			b.WriteString(", RETIRED")
		}
		b.WriteString("\n")
		if len(v.Changes) > 0 {
			fmt.Fprintf(&b, "    %s\n", strings.Join(v.Changes, "; "))
		}
		for _, p := range h.Proposals {
			if v.Proposal != 0 && p.ID == v.Proposal {
				fmt.Fprintf(&b, "    proposed by %s at %s: %s\n", p.By, p.At.Format(time.RFC3339), p.Reason)
			}
		}
		for _, a := range v.Approvals {
			fmt.Fprintf(&b, "    approved by %s at %s: %s\n", a.By, a.At.Format(time.RFC3339), a.Reason)
		}
		if v.Threshold != nil {
			fmt.Fprintf(&b, "    owner %s, window %s, thresholds green %s amber %s, min_sample %d\n", v.Owner, v.Window,
				strconv.FormatFloat(v.Threshold.Green, 'g', -1, 64), strconv.FormatFloat(v.Threshold.Amber, 'g', -1, 64), v.MinSample)
		}
	}
	if h.Section != "" {
		fmt.Fprintf(&b, "Computation (section %s; candor catalog history --section %s has each value's text)\n", h.Section, h.Section)
		for _, c := range h.Computations {
			ref := c.Ref
			if c.Proposal != 0 {
				ref = fmt.Sprintf("proposal %d", c.Proposal)
			}
			fmt.Fprintf(&b, "  section version %d, %s (%s)", c.SectionVersion, fromText(c.From), ref)
			switch {
			case c.Removed:
				b.WriteString(": removed\n")
				continue
			case c.Defines():
				b.WriteString(": defined\n")
			default:
				b.WriteString(": changed\n")
			}
			for _, l := range c.Shown() {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
	}
	fmt.Fprintf(&b, "%d proposals (%d open); candor catalog history --format json for each\n", len(h.Proposals), openCount(h.Proposals))
	return b.String()
}

// sectionHistoryText lists a section's values.
func sectionHistoryText(h *governance.SectionHistory) string {
	var b strings.Builder
	fmt.Fprintf(&b, "History of section %s\n", h.Section)
	for _, v := range h.Versions {
		from := fromText(v.From)
		ref := v.Ref
		switch {
		case v.Proposal == 0 && v.File != "":
			ref = v.File
		case v.File != "":
			ref += ", " + v.File
		}
		fmt.Fprintf(&b, "  version %d, %s (%s) by %s: %s\n", v.Version, from, ref, v.By, v.Reason)
		for _, a := range v.Approvals {
			fmt.Fprintf(&b, "    approved by %s: %s\n", a.By, a.Reason)
		}
		for _, x := range v.InForce {
			fmt.Fprintf(&b, "    in force in the running server %s from %s\n", x.Instance, x.At.Format(time.RFC3339))
		}
	}
	fmt.Fprintf(&b, "%d proposals (%d open); --format json for each value\n", len(h.Proposals), openCount(h.Proposals))
	return b.String()
}

// openCount is how many of the proposals are open.
func openCount(ps []governance.View) int {
	n := 0
	for _, p := range ps {
		if p.Status == governance.Open {
			n++
		}
	}
	return n
}

// fromText says from when a version is in force (nil: from the start).
func fromText(t *time.Time) string {
	if t == nil {
		return "from the start"
	}
	return "from " + t.Format(time.RFC3339)
}

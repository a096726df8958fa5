package web

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/metrics"
)

// An executive proposes through the page's form a longer window for a red
// metric of the demo organisation; the page lists it with the metric's
// status when proposed (word and icon) and says it needs two approvers; it
// reads at laptop and phone width without a CSP violation or sideways
// scrolling.
func TestBrowserProposals(t *testing.T) {
	ctx := browsertest.New(t)
	st := openStore(t)
	importGenerated(t, st, generate.Options{Seed: 1, Scale: 0.01, End: demoEnd, Days: 365})
	base, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	cat := base.Governed()
	svc := newAuth(t, st, cat)
	addUser(t, svc, "ann@example.com", "executive")
	eng := engine.New(st, metrics.DefaultConfig())
	start := time.Now()
	now := func() time.Time { return demoEnd.Add(time.Since(start)) }
	gov := &governance.Registry{Docs: st, Catalog: cat, Engine: eng, Config: config.Default(), Now: now}
	settings, err := config.Default().Governed()
	if err != nil {
		t.Fatal(err)
	}
	if err := gov.Init(context.Background(), governance.Initial{Settings: settings, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	// Someone else's proposals, one loosening: the page shows each with the
	// metric's status when proposed.
	for _, in := range []governance.Input{
		{Metric: "change_failure_rate", Changes: []byte(`{"window": "90d"}`), Reason: "a quarter smooths the hotfix weeks"},
		{Metric: "mttr", Changes: []byte(`{"owner": "Reliability Lead"}`), Reason: "the reliability team owns recovery now"},
		{Setting: "attribution_window", Value: []byte(`"48h"`), Reason: "incidents at night are opened the next morning"},
	} {
		if _, err := gov.Propose(context.Background(), in, "user:bob@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{Engine: eng, Catalog: cat, Store: st, Auth: svc, Version: "v0.0.0-test", Governance: gov,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/login?next=/proposals"),
		chromedp.SendKeys(chromedp.CSS("#email"), "ann@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), testPassword),
		chromedp.Click(chromedp.CSS("form.form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".gov-list")),
		chromedp.SetValue(chromedp.CSS("#pr-metric"), "availability"),
		chromedp.SendKeys(chromedp.CSS("#pr-target"), "99.95"),
		chromedp.SendKeys(chromedp.CSS("#pr-reason"), "the contract's new SLA"),
		chromedp.Click(chromedp.CSS(".gov-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".alert--ok")),
	); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Definition changes", "recorded", "Availability", "Change failure rate", "When proposed", "Loosens", "You proposed this", "Approve"} {
		// Labels are upper-cased by the stylesheet.
		if !strings.Contains(strings.ToLower(text), strings.ToLower(want)) {
			t.Errorf("the proposals page lacks %q", want)
		}
	}
	words, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll(".gov-before .status__word")].map(e => e.textContent)`))
	if err != nil || len(words) != 3 {
		t.Errorf("statuses when proposed: %q (%v), want one word per metric proposal", words, err)
	}
	// Side by side, what a proposal changes and how things stood when it
	// was proposed start on one line: the setting's "was 1d" had sat a
	// paragraph's margin lower than its change.
	offsets, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".gov-item__body")].map(b => {
		const first = sel => b.querySelector(sel + " > .gov-label").nextElementSibling.getBoundingClientRect().top;
		return first(".gov-before") - first(".gov-change");
	})`))
	if err != nil || len(offsets) != 4 {
		t.Errorf("proposals side by side: %v (%v), want 4", offsets, err)
	}
	for i, d := range offsets {
		if d > 2 || d < -2 {
			t.Errorf("proposal %d: \"When proposed\" starts %.0f px below its change", i+1, d)
		}
	}
	reads, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".gov-reads")))
	if err != nil || !strings.Contains(reads, "Change failure rate") {
		t.Errorf("the attribution window's proposal says it changes %q (%v), want the change failure rate among them", reads, err)
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page reported errors (a CSP violation would show here):\n%s", strings.Join(errs, "\n"))
	}
	browsertest.Screenshot(ctx, t, "proposals-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Errorf("the proposals page scrolls sideways on a phone (%v)", err)
	}
	browsertest.Screenshot(ctx, t, "proposals-phone")

	// A configuration section pasted into its form: a bad rule shows the
	// page again with the check's error naming the line, the text kept.
	browsertest.SetViewport(ctx, t, browsertest.Laptop)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(ts.URL+"/proposals#propose-section"),
		chromedp.WaitVisible(chromedp.CSS("#pc-text")),
		chromedp.SetValue(chromedp.CSS("#pc-section"), "alerts.rules"),
		chromedp.SendKeys(chromedp.CSS("#pc-file"), "rules.yaml"),
		chromedp.SetValue(chromedp.CSS("#pc-text"), "alerts:\n  rules:\n    - name: cfr_red\n      kind: status\n      metric: change_failure_rte\n      statuses: [red]\n"),
		chromedp.SendKeys(chromedp.CSS("#pc-reason"), "delivery leads want to hear of a red failure rate"),
		chromedp.Click(chromedp.CSS("#propose-section button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".gov-errors")),
	); err != nil {
		t.Fatal(err)
	}
	problem, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".gov-errors")))
	if err != nil || !strings.Contains(problem, "rules.yaml:5") || !strings.Contains(problem, "change_failure_rte") {
		t.Errorf("the section form's error: %q (%v), want rules.yaml:5 and the unknown metric", problem, err)
	}
	// The refused form is answered 400, which the browser logs; nothing else.
	if errs := slices.DeleteFunc(browsertest.ConsoleErrors(ctx), func(e string) bool { return strings.Contains(e, "status of 400") }); len(errs) > 0 {
		t.Errorf("the section form reported errors:\n%s", strings.Join(errs, "\n"))
	}
	browsertest.Screenshot(ctx, t, "section-form-laptop")
	if png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#propose-section"))); err == nil {
		browsertest.SaveArtifact(t, "section-form-laptop-form.png", png)
	}
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	overflow, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || overflow {
		t.Errorf("the section form scrolls sideways on a phone (%v)", err)
	}
	browsertest.Screenshot(ctx, t, "section-form-phone")
	if png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("#propose-section"))); err == nil {
		browsertest.SaveArtifact(t, "section-form-phone-form.png", png)
	}
}

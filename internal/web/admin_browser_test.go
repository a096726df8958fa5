package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/store"
)

// On a phone the users list stacks each user, its status pill beside its
// roles: a disabled user's pill ("Disabled 5 Dec 2026") wraps inside its
// card, where it had run to the card's edge at 390 px.
func TestBrowserAdminPhone(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"ann@example.com": {"admin"}, "carol.longname@example.com": {"executive"}})
	if _, _, err := s.Auth.DisableUser(context.Background(), admin, "carol.longname@example.com"); err != nil {
		t.Fatal(err)
	}
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	browserSignIn(t, ctx, base, "/admin", "ann@example.com", ".adm-state--off")
	// How far each pill runs past its card's content box (its padding
	// inside the border).
	over, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".adm-state")].map(p => {
		const sheet = p.closest(".sheet"), pad = parseFloat(getComputedStyle(sheet).paddingRight);
		return p.getBoundingClientRect().right - (sheet.getBoundingClientRect().right - pad);
	})`))
	if err != nil || len(over) < 2 {
		t.Fatalf("status pills: %v (%v)", over, err)
	}
	for i, d := range over {
		if d > 0.5 {
			t.Errorf("status pill %d runs %.0f px into its card's padding", i+1, d)
		}
	}
	browsertest.Screenshot(ctx, t, "admin-phone")
}

// The administration page's list of alerts that reach no one fits its
// sheet on a phone: its sentences name many metrics and addresses.
func TestBrowserAdminUnreachedAlerts(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"ann@example.com": {"admin"}, "eng.longname@example.com": {"engineering"}})
	rules, err := alert.Compile(alert.Defaults(), s.Catalog, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err := alert.Setup(alert.Config{NoDefaultRoutes: true, Channels: []alert.ChannelConfig{{Name: "inbox", Type: "inapp"}},
		Routes: []alert.Route{{Name: "owners", Owner: true}, {Name: "eng", Roles: []string{"engineering"}}}}, s.Catalog, func(string) string { return "" }, "candor.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	rt := set.Router(s.Catalog, s.Auth.Grants())
	s.Alerts = &alert.Service{Store: s.Store.(store.AlertStore), Engine: s.Engine, Catalog: s.Catalog, Rules: rules, Timing: alert.DefaultTiming,
		Channels: set.Channels, Router: &rt, Users: s.Auth.Users}
	browserSignIn(t, ctx, base, "/admin#unreached", "ann@example.com", ".adm-unreached")
	for _, vp := range []browsertest.Viewport{browsertest.Laptop, browsertest.Phone} {
		browsertest.SetViewport(ctx, t, vp)
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/admin#unreached"), chromedp.WaitVisible(chromedp.CSS(".adm-unreached"))); err != nil {
			t.Fatal(err)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[...document.querySelectorAll(".adm-unreached li")].map(li => {
			const sheet = li.closest(".sheet");
			return li.getBoundingClientRect().right - sheet.getBoundingClientRect().right;
		})`))
		if err != nil || len(over) == 0 {
			t.Fatalf("unreached alerts: %v (%v)", over, err)
		}
		for i, d := range over {
			if d > 0.5 {
				t.Errorf("at %s, line %d runs %.0f px past its sheet", vp.Name, i+1, d)
			}
		}
		browsertest.Screenshot(ctx, t, "admin-unreached-"+vp.Name)
	}
}

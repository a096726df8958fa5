package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/browsertest"
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

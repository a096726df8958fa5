package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/browsertest"
	"github.com/candor/candor/internal/store"
)

// Issue 20: a share link opens its card in a browser that never signed in, at laptop and phone
// width, without a CSP violation; a revoked link and an expired one show why they do not open.
func TestBrowserShareLink(t *testing.T) {
	ctx := browsertest.New(t)
	s, base := newDemoServer(t, map[string][]string{"eng@example.com": {"engineering"}})
	bg := context.Background()
	users, err := s.Auth.Users(bg)
	if err != nil || len(users) != 1 {
		t.Fatalf("users: %v %v", users, err)
	}
	p := auth.Principal{Kind: auth.KindUser, ID: users[0].ID, Name: users[0].Email, Roles: users[0].Roles}
	secret, l, err := s.Auth.CreateShare(bg, p, auth.Client{}, auth.NewShare{Kind: auth.ShareCard, Subject: "change_failure_rate", Query: "as_of=2026-03-31"})
	if err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/share/"+secret), chromedp.WaitVisible(chromedp.CSS(".share__card"))); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/share/"+secret {
		t.Errorf("the link led to %s, not the card", loc)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Change failure rate", "Shared read-only", "as of 31 Mar 2026"} {
		if !strings.Contains(text, want) {
			t.Errorf("the shared card lacks %q:\n%s", want, text)
		}
	}
	word, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".share__card .status__word")))
	if err != nil || (word != "Green" && word != "Amber" && word != "Red" && word != "Unknown") {
		t.Errorf("the card's status word is %q (%v)", word, err)
	}
	if strings.Contains(text, "Sign out") || strings.Contains(text, "Sign in") {
		t.Error("the shared card shows the account or sign-in")
	}
	if errs := browsertest.ConsoleErrors(ctx); len(errs) > 0 {
		t.Errorf("the page reported errors (a CSP violation would show here):\n%s", strings.Join(errs, "\n"))
	}
	browsertest.Screenshot(ctx, t, "share-laptop")
	browsertest.SetViewport(ctx, t, browsertest.Phone)
	if overflow, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); overflow {
		t.Error("the shared card scrolls sideways on a phone")
	}
	browsertest.Screenshot(ctx, t, "share-phone")
	browsertest.SetViewport(ctx, t, browsertest.Laptop)

	closed := func(what, url string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "does not exist, has expired or was revoked") || strings.Contains(text, "Change failure rate") {
			t.Errorf("%s link:\n%s", what, text)
		}
	}
	if _, err := s.Auth.RevokeShare(bg, p, auth.Client{}, l.ID); err != nil {
		t.Fatal(err)
	}
	closed("a revoked", base+"/share/"+secret)
	browsertest.Screenshot(ctx, t, "share-revoked")

	// An expired link, written to the store as it would stand a week after it was made.
	expired := auth.SharePrefix + strings.Repeat("a", 13) + "_" + strings.Repeat("b", 52)
	sum := sha256.Sum256([]byte(expired))
	now := time.Now()
	if _, err := s.Store.(store.ShareStore).CreateShare(bg, store.ShareLink{Lookup: strings.Repeat("a", 13), Hash: hex.EncodeToString(sum[:]),
		Kind: auth.ShareCard, Subject: "change_failure_rate", Query: "as_of=2026-03-31", CreatorKind: auth.KindUser, CreatorID: p.ID,
		CreatedBy: "user:" + p.Name, CreatedAt: now.Add(-8 * 24 * time.Hour), ExpiresAt: now.Add(-24 * time.Hour)}, nil); err != nil {
		t.Fatal(err)
	}
	closed("an expired", base+"/share/"+expired)
}

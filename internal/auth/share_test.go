package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// A share link opens with its secret until it expires or is revoked, shows what its creator may
// see now (never more), closes with a disabled creator, and is recorded with who made it.
func TestShareLinks(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "cfo@example.com", "vp_cs")
	p := Principal{Kind: KindUser, ID: u.ID, Name: u.Email, Roles: u.Roles}
	secret, l, err := f.svc.CreateShare(ctx, p, browser, NewShare{Kind: ShareCard, Subject: "csat", Query: "as_of=2026-03-31", TTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, SharePrefix) || l.CreatedBy != "user:cfo@example.com" || !l.ExpiresAt.Equal(l.CreatedAt.Add(48*time.Hour)) {
		t.Errorf("link %+v, secret %q", l, secret)
	}
	if e := f.lastEvent(t); e.Type != EventShareCreated || e.Actor != "user:cfo@example.com" || e.Subject != "card:csat" || strings.Contains(e.Token, secret[len(SharePrefix)+lookupLen+1:]) {
		t.Errorf("creation event %+v", e)
	}
	got, a, err := f.svc.OpenShare(ctx, secret)
	if err != nil || got.ID != l.ID || got.Query != "as_of=2026-03-31" || !a.CanSeeView("vp_cs") || a.CanSeeView("ceo") {
		t.Fatalf("open: %+v, %v; access sees vp_cs %v, ceo %v", got, err, a.CanSeeView("vp_cs"), a.CanSeeView("ceo"))
	}
	// A forged secret with the right lookup part, a malformed one, and an unknown one all close alike.
	for _, bad := range []string{secret[:len(secret)-4] + "aaaa", "cds_nonsense", SharePrefix + strings.Repeat("a", lookupLen) + "_" + strings.Repeat("b", secretLen)} {
		if _, _, err := f.svc.OpenShare(ctx, bad); !errors.Is(err, ErrShareClosed) || domain.CodeOf(err) != domain.ENotFound {
			t.Errorf("open %q: %v, want the link closed", bad, err)
		}
	}
	// The creator's grants now, not then: with ceo's roles the link sees ceo's view.
	if _, _, err := f.svc.SetRoles(ctx, cli, u.Email, []string{"ceo"}); err != nil {
		t.Fatal(err)
	}
	if _, a, _ := f.svc.OpenShare(ctx, secret); a.CanSeeView("vp_cs") || !a.CanSeeView("ceo") {
		t.Error("the link kept the creator's former grants")
	}
	f.clock.Advance(48 * time.Hour)
	if _, _, err := f.svc.OpenShare(ctx, secret); !errors.Is(err, ErrShareClosed) {
		t.Errorf("an expired link opened: %v", err)
	}

	secret, l, err = f.svc.CreateShare(ctx, p, browser, NewShare{Kind: ShareView, Subject: "ceo"})
	if err != nil || !l.ExpiresAt.Equal(l.CreatedAt.Add(DefaultShareTTL)) {
		t.Fatalf("default lifetime: %+v %v", l, err)
	}
	other := Principal{Kind: KindUser, ID: f.addUser(t, "x@example.com", "support").ID, Name: "x@example.com", Roles: []string{"support"}}
	if _, err := f.svc.RevokeShare(ctx, other, browser, l.ID); domain.CodeOf(err) != domain.ENotFound {
		t.Errorf("someone else revoked the link: %v", err)
	}
	if mine, _ := f.svc.Shares(ctx, other); len(mine) != 0 {
		t.Errorf("another user lists %d links", len(mine))
	}
	if r, err := f.svc.RevokeShare(ctx, p, browser, l.ID); err != nil || r.RevokedBy != "user:cfo@example.com" {
		t.Fatalf("revoke: %+v %v", r, err)
	}
	if _, _, err := f.svc.OpenShare(ctx, secret); !errors.Is(err, ErrShareClosed) {
		t.Errorf("a revoked link opened: %v", err)
	}
	if e := f.lastEvent(t); e.Type != EventShareRevoked || e.Subject != "view:ceo" {
		t.Errorf("revocation event %+v", e)
	}

	// A disabled creator's links close.
	secret, _, _ = f.svc.CreateShare(ctx, p, browser, NewShare{Kind: ShareChart, Subject: "csat"})
	if _, _, err := f.svc.DisableUser(ctx, cli, u.Email); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.OpenShare(ctx, secret); !errors.Is(err, ErrShareClosed) {
		t.Errorf("a disabled creator's link opened: %v", err)
	}

	for _, bad := range []NewShare{{Kind: "table", Subject: "csat"}, {Kind: ShareCard, Subject: "csat", TTL: 91 * 24 * time.Hour}, {Kind: ShareCard, Subject: "csat", TTL: time.Second}} {
		if _, _, err := f.svc.CreateShare(ctx, p, browser, bad); domain.CodeOf(err) != domain.EInvalid {
			t.Errorf("create %+v: %v, want invalid", bad, err)
		}
	}
	var _ store.ShareStore = f.st
}

// A link made by a token acting for a user shows what the token may see
// now: its roles as far as its owner still holds them. It had kept the
// token's roles after the owner lost them — a CRO moved to engineering
// still shared the CRO view through a link their token had made.
func TestShareLinkOfAnOwnedToken(t *testing.T) {
	f := newFixture(t, nil)
	u := f.addUser(t, "cro@example.com", "cro")
	tok, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "cro-bot", Roles: []string{"cro"}, Owner: u.Email})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.AuthenticateToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := f.svc.CreateShare(ctx, p, browser, NewShare{Kind: ShareView, Subject: "cro"})
	if err != nil {
		t.Fatal(err)
	}
	if _, a, err := f.svc.OpenShare(ctx, secret); err != nil || !a.CanSeeView("cro") {
		t.Fatalf("open: %v, sees the CRO view %v", err, a.CanSeeView("cro"))
	}
	if _, _, err := f.svc.SetRoles(ctx, cli, u.Email, []string{"engineering"}); err != nil {
		t.Fatal(err)
	}
	if _, a, err := f.svc.OpenShare(ctx, secret); err != nil || a.CanSeeView("cro") || a.Can(RevenueRead) {
		t.Errorf("after the owner left the cro role: %v; sees the CRO view %v, revenue %v", err, a.CanSeeView("cro"), a.Can(RevenueRead))
	}
	if _, _, err := f.svc.SetRoles(ctx, cli, u.Email, []string{"cro", "engineering"}); err != nil {
		t.Fatal(err)
	}
	if _, a, _ := f.svc.OpenShare(ctx, secret); !a.CanSeeView("cro") || a.CanSeeView("engineering") {
		t.Error("with the cro role back, the link does not see the CRO view, or sees more than the token's roles")
	}
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// runShares is the contract of share links (store.ShareStore): created with their event, found
// by lookup, listed oldest first, revoked once.
func runShares(t *testing.T, open Factory, o options) {
	t.Run("Shares", func(t *testing.T) {
		ctx := context.Background()
		s := open(t)
		ss, ok := s.(store.ShareStore)
		if !ok {
			t.Fatalf("%T keeps no share links", s)
		}
		t0 := time.Date(2026, 3, 1, 9, 0, 0, 123456789, time.UTC)
		in := store.ShareLink{Lookup: "lk1", Hash: "h1", Kind: "card", Subject: "csat", Query: "as_of=2026-03-31&team=core",
			CreatorKind: "user", CreatorID: 7, CreatedBy: "user:a@example.com", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
		a, err := ss.CreateShare(ctx, in, []byte(`{"type":"share_created"}`))
		if err != nil || a.ID <= 0 {
			t.Fatalf("CreateShare = %+v, %v", a, err)
		}
		b, err := ss.CreateShare(ctx, store.ShareLink{Lookup: "lk2", Hash: "h2", Kind: "view", Subject: "ceo", CreatorKind: "token", CreatorID: 3,
			CreatedBy: "token:ci", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}, nil)
		if err != nil || b.ID == a.ID {
			t.Fatalf("second CreateShare = %+v, %v", b, err)
		}
		got, err := ss.ShareByLookup(ctx, "lk1")
		in.ID = a.ID
		if err != nil || got.ID != in.ID || got.Hash != in.Hash || got.Kind != in.Kind || got.Subject != in.Subject || got.Query != in.Query ||
			got.CreatorKind != in.CreatorKind || got.CreatorID != in.CreatorID || got.CreatedBy != in.CreatedBy || got.Revoked() {
			t.Errorf("ShareByLookup = %+v, %v; want %+v", got, err, in)
		}
		sameInstant(t, "created_at", got.CreatedAt, t0)
		sameInstant(t, "expires_at", got.ExpiresAt, t0.Add(time.Hour))
		if _, err := ss.ShareByLookup(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ShareByLookup of no link: %v, want ErrNotFound", err)
		}
		if err := ss.RevokeShare(ctx, a.ID, t0.Add(time.Minute), "user:b@example.com", []byte(`{"type":"share_revoked"}`)); err != nil {
			t.Fatal(err)
		}
		if err := ss.RevokeShare(ctx, a.ID, t0.Add(2*time.Minute), "user:c@example.com", nil); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second RevokeShare: %v, want ErrNotFound", err)
		}
		all, err := ss.Shares(ctx)
		if err != nil || len(all) != 2 || all[0].ID != a.ID || all[1].ID != b.ID || all[0].RevokedBy != "user:b@example.com" || all[1].Revoked() {
			t.Fatalf("Shares = %+v, %v", all, err)
		}
		sameInstant(t, "revoked_at", all[0].RevokedAt, t0.Add(time.Minute))
		wantEvents(t, s, `{"type":"share_created"}`, `{"type":"share_revoked"}`)
	})
}

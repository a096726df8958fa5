package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

// Share links (SPEC §9, seed 003): a read-only link to one card, chart or view at fixed filters
// that opens without signing in, for a number that belongs where people already work. A link is
// SharePrefix, a public lookup part, "_" and a 256-bit secret, like a token; only its SHA-256 is
// stored, so a copy of the database opens nothing. It expires, can be revoked, and is recorded
// with its creator (an access event, chained in the ledger). It shows what its creator may see
// when it is opened, never more: a creator who loses a grant, is disabled or whose token is
// revoked takes the link's sight with them.

// SharePrefix starts every share link's secret.
const SharePrefix = "cds_"

// What a share link shows.
const (
	ShareCard  = "card"
	ShareChart = "chart"
	ShareView  = "view"
)

// Access events of share links.
const (
	EventShareCreated = "share_created"
	EventShareRevoked = "share_revoked"
)

// DefaultShareTTL is how long a link lives when its creator does not say; MaxShareTTL the
// longest it may.
const (
	DefaultShareTTL = 7 * 24 * time.Hour
	MaxShareTTL     = 90 * 24 * time.Hour
)

// NewShare is a share link to create: what it shows (Kind, Subject), at which filters (Query,
// a URL query the caller has checked) and for how long.
type NewShare struct {
	Kind, Subject, Query string
	TTL                  time.Duration
}

// ErrShareClosed is returned (wrapped) by OpenShare for a link that does not open: unknown,
// malformed, expired or revoked. One error for all, so a guess learns nothing.
var ErrShareClosed error = domain.Errorf(domain.ENotFound, "This share link does not exist, has expired or was revoked; ask whoever sent it for a new one.")

func (s *Service) shareStore() (store.ShareStore, error) {
	st, ok := s.st.(store.ShareStore)
	if !ok {
		return nil, domain.Errorf(domain.ENotImplemented, "this store keeps no share links")
	}
	return st, nil
}

// CreateShare creates a link for p, who must be able to see what it shows (the caller checks
// the subject against p's access, since only it knows what a view or metric needs), and
// returns its secret, shown once.
func (s *Service) CreateShare(ctx context.Context, p Principal, c Client, ns NewShare) (string, store.ShareLink, error) {
	st, err := s.shareStore()
	if err != nil {
		return "", store.ShareLink{}, err
	}
	switch ns.Kind {
	case ShareCard, ShareChart, ShareView:
	default:
		return "", store.ShareLink{}, domain.InvalidParam("kind", "%q: want card, chart or view", ns.Kind)
	}
	if ns.TTL == 0 {
		ns.TTL = DefaultShareTTL
	}
	if ns.TTL < time.Minute || ns.TTL > MaxShareTTL {
		// As a window ("91d"), as requests write it, not Go's 2184h0m0s.
		return "", store.ShareLink{}, domain.InvalidParam("expires_in", "%s: a link lives from one minute to %d days", catalog.FormatWindow(ns.TTL), MaxShareTTL/(24*time.Hour))
	}
	if !p.Authenticated() {
		return "", store.ShareLink{}, domain.Errorf(domain.EUnauthorized, "sign in to share")
	}
	secret, lookup := newSecret(SharePrefix)
	a := ActorOf(p, c)
	e := s.event(EventShareCreated, a, ns.Kind+":"+ns.Subject)
	e.Token = SharePrefix + lookup + "_…"
	e.Reason = ns.Query
	l := store.ShareLink{
		Lookup: lookup, Hash: hashSecret(secret), Kind: ns.Kind, Subject: ns.Subject, Query: ns.Query,
		CreatorKind: p.Kind, CreatorID: p.ID, CreatedBy: a.Name, CreatedAt: e.At, ExpiresAt: e.At.Add(ns.TTL),
	}
	l, err = st.CreateShare(ctx, l, e.encode())
	return secret, l, err
}

// OpenShare returns the link a secret opens and what it may show: its creator's access now.
func (s *Service) OpenShare(ctx context.Context, secret string) (store.ShareLink, Access, error) {
	st, err := s.shareStore()
	if err != nil {
		return store.ShareLink{}, Access{}, err
	}
	lookup, ok := secretLookup(SharePrefix, secret)
	if !ok {
		return store.ShareLink{}, Access{}, ErrShareClosed
	}
	l, err := st.ShareByLookup(ctx, lookup)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return l, Access{}, ErrShareClosed
	case err != nil:
		return l, Access{}, err
	case !sameHash(l.Hash, hashSecret(secret)), l.Revoked(), !s.opt.Now().Before(l.ExpiresAt):
		return l, Access{}, ErrShareClosed
	}
	roles, err := s.currentRoles(ctx, l.CreatorKind, l.CreatorID)
	if err != nil {
		return l, Access{}, err
	}
	return l, s.grants.Access(roles), nil
}

// currentRoles are the roles a link's creator holds now; ErrShareClosed when it can no longer
// act (a disabled user, a revoked token): its links close with it.
func (s *Service) currentRoles(ctx context.Context, kind string, id int64) ([]string, error) {
	switch kind {
	case KindUser:
		u, err := s.st.UserByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) || err == nil && u.Disabled() {
			return nil, ErrShareClosed
		}
		return u.Roles, err
	case KindToken:
		ts, err := s.st.Tokens(ctx)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.ID != id || t.Revoked() {
				continue
			}
			if t.OwnerID == 0 {
				return t.Roles, nil
			}
			// A token acting for a user holds only the roles its owner
			// holds now, as when it signs in (Authenticate): a link it
			// made had kept the token's roles after the owner lost them.
			owner, err := s.st.UserByID(ctx, t.OwnerID)
			if errors.Is(err, store.ErrNotFound) || err == nil && owner.Disabled() {
				return nil, ErrShareClosed
			}
			if err != nil {
				return nil, err
			}
			return slices.DeleteFunc(slices.Clone(t.Roles), func(r string) bool { return !slices.Contains(owner.Roles, r) }), nil
		}
	}
	return nil, ErrShareClosed
}

// Shares returns the links p may manage, oldest first: their own, or every link for a holder of
// users:admin.
func (s *Service) Shares(ctx context.Context, p Principal) ([]store.ShareLink, error) {
	st, err := s.shareStore()
	if err != nil {
		return nil, err
	}
	all, err := st.Shares(ctx)
	if err != nil {
		return nil, err
	}
	if s.grants.Access(p.Roles).Can(UsersAdmin) {
		return all, nil
	}
	out := []store.ShareLink{}
	for _, l := range all {
		if l.CreatorKind == p.Kind && l.CreatorID == p.ID {
			out = append(out, l)
		}
	}
	return out, nil
}

// RevokeShare revokes a link: its creator or a holder of users:admin may.
func (s *Service) RevokeShare(ctx context.Context, p Principal, c Client, id int64) (store.ShareLink, error) {
	mine, err := s.Shares(ctx, p)
	if err != nil {
		return store.ShareLink{}, err
	}
	var l *store.ShareLink
	for i := range mine {
		if mine[i].ID == id {
			l = &mine[i]
		}
	}
	switch {
	case l == nil:
		return store.ShareLink{}, domain.Errorf(domain.ENotFound, "no share link %d of yours", id)
	case l.Revoked():
		return *l, domain.Errorf(domain.EConflict, "share link %d is revoked already", id)
	}
	st, _ := s.shareStore()
	a := ActorOf(p, c)
	e := s.event(EventShareRevoked, a, l.Kind+":"+l.Subject)
	e.Token = SharePrefix + l.Lookup + "_…"
	if err := st.RevokeShare(ctx, id, e.At, a.Name, e.encode()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return *l, fmt.Errorf("share link %d was revoked meanwhile", id)
		}
		return *l, err
	}
	l.RevokedAt, l.RevokedBy = e.At, a.Name
	return *l, nil
}

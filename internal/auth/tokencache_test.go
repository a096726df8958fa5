package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/candor/candor/internal/store"
)

// countingAuthStore counts the token and owner reads and the touches; a
// non-nil hold makes the next token read wait, after reading, until it is
// closed.
type countingAuthStore struct {
	Store
	lookups, owners, touches atomic.Int64
	mu                       sync.Mutex
	hold, held               chan struct{}
}

func (c *countingAuthStore) TokenByLookup(ctx context.Context, lookup string) (store.Token, error) {
	c.lookups.Add(1)
	t, err := c.Store.TokenByLookup(ctx, lookup)
	c.mu.Lock()
	hold, held := c.hold, c.held
	c.hold = nil
	c.mu.Unlock()
	if hold != nil {
		close(held)
		<-hold
	}
	return t, err
}

func (c *countingAuthStore) UserByID(ctx context.Context, id int64) (store.User, error) {
	c.owners.Add(1)
	return c.Store.UserByID(ctx, id)
}

func (c *countingAuthStore) TouchToken(ctx context.Context, id int64, at time.Time) error {
	c.touches.Add(1)
	return c.Store.TouchToken(ctx, id, at)
}

// A token is read from the store once per TokenRecheck, not per request;
// what changes access through the Service takes effect at once, what
// changes it behind the Service's back (another instance, the CLI) within
// TokenRecheck; a read that began before a change keeps nothing.
func TestTokenRecheck(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.TokenRecheck = time.Second })
	cs := &countingAuthStore{Store: f.st}
	f.svc.st = cs
	f.addUser(t, "ann@example.com", "ingest", "auditor")
	owned, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "ann-ci", Roles: []string{"ingest", "auditor"}, Owner: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	service, tok, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "svc", Roles: []string{"ingest"}})
	if err != nil {
		t.Fatal(err)
	}
	accepts := func(secret string, roles ...string) {
		t.Helper()
		p, err := f.svc.AuthenticateToken(ctx, secret)
		if err != nil || !slices.Equal(p.Roles, roles) {
			t.Fatalf("AuthenticateToken = %v %v, want roles %v", p.Roles, err, roles)
		}
	}
	refuses := func(secret, why string) {
		t.Helper()
		if _, err := f.svc.AuthenticateToken(ctx, secret); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("%s: %v, want refused", why, err)
		}
	}

	for range 5 {
		accepts(owned, "ingest", "auditor")
		accepts(service, "ingest")
	}
	if l, o, tc := cs.lookups.Load(), cs.owners.Load(), cs.touches.Load(); l != 2 || o != 1 || tc != 2 {
		t.Errorf("10 requests read tokens %d times, owners %d, touched %d; want 2, 1, 2", l, o, tc)
	}
	// The secret is still checked against the kept copy.
	flip := []byte(service)
	flip[len(flip)-1] ^= 1
	refuses(string(flip), "a wrong secret with a kept lookup")

	// Revoked in the store by someone else: accepted until the recheck.
	if err := f.st.RevokeToken(ctx, tok.ID, f.clock.t, nil); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(999 * time.Millisecond)
	accepts(service, "ingest")
	f.clock.Advance(time.Millisecond)
	refuses(service, "revoked elsewhere, after TokenRecheck")

	// Through the Service: at once.
	accepts(owned, "ingest", "auditor")
	if _, _, err := f.svc.SetRoles(ctx, cli, "ann@example.com", []string{"auditor"}); err != nil {
		t.Fatal(err)
	}
	accepts(owned, "auditor")
	if _, _, err := f.svc.DisableUser(ctx, cli, "ann@example.com"); err != nil {
		t.Fatal(err)
	}
	refuses(owned, "owner disabled through the Service")

	// A read that began before a revocation keeps nothing.
	third, _, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "third", Roles: []string{"ingest"}})
	if err != nil {
		t.Fatal(err)
	}
	cs.mu.Lock()
	cs.hold, cs.held = make(chan struct{}), make(chan struct{})
	hold, held := cs.hold, cs.held
	cs.mu.Unlock()
	done := make(chan error)
	go func() {
		_, err := f.svc.AuthenticateToken(ctx, third)
		done <- err
	}()
	<-held // read, not yet kept
	revoked := make(chan error)
	go func() {
		_, err := f.svc.RevokeToken(ctx, cli, "third", 0)
		revoked <- err
	}()
	if err := <-revoked; err != nil {
		t.Fatal(err)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Fatalf("the request in flight: %v", err) // it read the token before the revocation
	}
	refuses(third, "revoked through the Service while a read was in flight")
}

// With TokenRecheck zero every request reads the token.
func TestTokenRecheckZero(t *testing.T) {
	f := newFixture(t, nil)
	cs := &countingAuthStore{Store: f.st}
	f.svc.st = cs
	secret, tok, err := f.svc.CreateToken(ctx, cli, NewToken{Name: "svc", Roles: []string{"ingest"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := f.svc.AuthenticateToken(ctx, secret); err != nil {
			t.Fatal(err)
		}
	}
	if n := cs.lookups.Load(); n != 3 {
		t.Errorf("3 requests read the token %d times", n)
	}
	if err := f.st.RevokeToken(ctx, tok.ID, f.clock.t, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AuthenticateToken(ctx, secret); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("revoked elsewhere: %v", err)
	}
	if err := (Options{SessionMaxAge: time.Hour, SessionIdle: time.Hour, TokenRecheck: 2 * time.Minute}).Validate(); err == nil {
		t.Error("a recheck of 2m was accepted")
	}
}

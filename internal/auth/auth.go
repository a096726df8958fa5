// Package auth is Candor's access control (SPEC §9): roles and their
// grants as data, local users with argon2id passwords, server-side
// sessions, API tokens, sign-in rate limits, CSRF protection, the client
// address behind trusted proxies, and the access events the audit ledger
// reads. It knows nothing of routes: the web layer asks it who a request
// is (Service.Authenticate) and what that principal may do (Grants).
package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// Errors of authentication and authorisation. Their codes (domain.Code)
// make ErrUnauthenticated, ErrInvalidCredentials and ErrBadCredentials a
// 401 (or the sign-in page) and ErrForbidden a 403.
var (
	// ErrUnauthenticated: the request carries no credentials and the
	// action needs some.
	ErrUnauthenticated error = domain.Errorf(domain.EUnauthorized, "sign-in required")
	// ErrInvalidCredentials: a bearer token or session cookie that is
	// malformed, unknown, revoked, expired or of a disabled user.
	ErrInvalidCredentials error = domain.Errorf(domain.EUnauthorized, "invalid or expired credentials")
	// ErrForbidden: authenticated, but no role grants the permission.
	ErrForbidden error = domain.Errorf(domain.EForbidden, "forbidden")
	// ErrBadCredentials is the one answer to a failed sign-in, whatever
	// failed (unknown e-mail, wrong password, disabled user), so the
	// answer does not tell which e-mail addresses have accounts.
	ErrBadCredentials error = domain.Errorf(domain.EUnauthorized, "e-mail address or password is wrong")
)

// RateLimitedError refuses a sign-in attempt over the limit.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many sign-in attempts; try again in %v", e.RetryAfter)
}

// ErrorCode is rate_limited (domain.Coder).
func (e *RateLimitedError) ErrorCode() domain.Code { return domain.ERateLimited }

// InputError is bad input to an administrative action, naming the field
// (email, name, roles, password, owner), so a command can name its flag
// and a form its input.
type InputError struct {
	Field, Msg string
	// NotFound says the input was well formed but names no user or token:
	// a fact about the store, not a mistake in how the command was
	// written, so the CLI exits 1 for it without a usage line.
	NotFound bool
}

func (e *InputError) Error() string { return e.Field + ": " + e.Msg }

// ErrorCode is invalid, and ErrorParam the field (domain.Coder).
func (e *InputError) ErrorCode() domain.Code { return domain.EInvalid }
func (e *InputError) ErrorParam() string     { return e.Field }

func inputErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func notFoundErr(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...), NotFound: true}
}

// Principal kinds.
const (
	KindUser  = "user"
	KindToken = "token"
)

// Principal is who a request acts for: a user signed in by a session, or
// an API token. The zero Principal is anonymous.
type Principal struct {
	Kind        string // KindUser or KindToken; "" for anonymous
	ID          int64  // user or token id
	Name        string // the user's e-mail address or the token's name
	DisplayName string // the user's name, when set
	Roles       []string
	// Owner is the e-mail address of the user a token acts for ("" for a
	// user, or a service token owned by no user).
	Owner string

	csrf        string // session's CSRF token; "" unless signed in by a session
	sessionHash string
}

// Authenticated reports whether the principal is not anonymous.
func (p Principal) Authenticated() bool { return p.Kind != "" }

// CSRFToken is the token state-changing forms must carry (CheckCSRF); ""
// for principals not signed in by a session.
func (p Principal) CSRFToken() string { return p.csrf }

// Actor is who makes a change, as access events record it: "user:EMAIL",
// "token:NAME", or "cli:OSUSER" for the command line.
type Actor struct {
	Name   string
	Client Client
}

// ActorOf is the principal making a change from client c.
func ActorOf(p Principal, c Client) Actor {
	return Actor{Name: p.Kind + ":" + p.Name, Client: c}
}

// Person names who stands behind a principal, for rules about people
// rather than credentials (an approver must not be the proposer, SPEC §5):
// "user:EMAIL" for a user and for a token acting for one, "token:NAME" for
// a service token.
func Person(p Principal) string {
	if p.Kind == KindToken && p.Owner != "" {
		return KindUser + ":" + p.Owner
	}
	return p.Kind + ":" + p.Name
}

// Decider is Person for a principal approving or deciding something
// (a definition change, an escalated release): a user, or a token acting
// for one. A service token, acting for no user, is refused: whoever holds
// tokens:admin makes as many as they like, and the rules that count
// people — an approver not the proposer nor the requester, two approvers
// for a loosening — would count each token as one more person.
func Decider(p Principal) (string, error) {
	if p.Kind == KindToken && p.Owner == "" {
		return "", domain.Errorf(domain.EForbidden,
			"rule: approvals and decisions are a person's, and token %s acts for no user: sign in, or use a token that acts for you (candor token create --user EMAIL)", p.Name)
	}
	return Person(p), nil
}

// CLIActor is the command line run by the operating-system user; the
// caller finds the user ("unknown" when it found none).
func CLIActor(osUser string) Actor {
	if osUser == "" {
		osUser = "unknown"
	}
	return Actor{Name: "cli:" + osUser}
}

// Store is what the service keeps its state in.
type Store interface {
	store.AuthStore
	store.DocStore
}

// Options configure the service; DefaultOptions has every default.
type Options struct {
	// SessionMaxAge bounds a session from sign-in; SessionIdle ends it
	// after that long without a request.
	SessionMaxAge, SessionIdle time.Duration
	// AccountLimit and AddressLimit bound sign-in attempts per e-mail
	// address and per client address (IPv6: per /64).
	AccountLimit, AddressLimit Rate
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// SecureCookies makes every cookie Secure, even over plain HTTP
	// (behind a TLS proxy that does not send X-Forwarded-Proto).
	SecureCookies bool
	// Params are the argon2id costs of new password hashes.
	Params Params
	// TokenRecheck is how long an API token, once authenticated, is
	// trusted without reading it (and its owner) from the store again;
	// zero reads it on every request. A token revoked, or its owner
	// disabled or given other roles, through this Service is refused or
	// held to the new roles at once; changed elsewhere (another instance,
	// the CLI), within TokenRecheck.
	TokenRecheck time.Duration
	// Now is the clock.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultSessionMaxAge = 7 * 24 * time.Hour
	DefaultSessionIdle   = 24 * time.Hour
	DefaultTokenRecheck  = time.Second
)

// DefaultOptions: a week-long session that ends after a day unused; five
// attempts per account and twenty per address, each refilled over 15
// minutes.
func DefaultOptions() Options {
	return Options{
		SessionMaxAge: DefaultSessionMaxAge,
		SessionIdle:   DefaultSessionIdle,
		AccountLimit:  Rate{Attempts: 5, Per: 15 * time.Minute},
		AddressLimit:  Rate{Attempts: 20, Per: 15 * time.Minute},
		Params:        DefaultParams,
		TokenRecheck:  DefaultTokenRecheck,
		Now:           time.Now,
	}
}

// Validate reports the first unusable option.
func (o Options) Validate() error {
	switch {
	case o.SessionMaxAge <= 0:
		return errors.New("session_max_age must be positive")
	case o.SessionIdle <= 0:
		return errors.New("session_idle_timeout must be positive")
	case o.SessionIdle > o.SessionMaxAge:
		return fmt.Errorf("session_idle_timeout %v is longer than session_max_age %v", o.SessionIdle, o.SessionMaxAge)
	case o.TokenRecheck < 0 || o.TokenRecheck > time.Minute:
		return fmt.Errorf("token_recheck %v is outside 0s–1m", o.TokenRecheck)
	}
	if err := o.AccountLimit.validate(); err != nil {
		return fmt.Errorf("login_rate_limit.per_account: %v", err)
	}
	if err := o.AddressLimit.validate(); err != nil {
		return fmt.Errorf("login_rate_limit.per_address: %v", err)
	}
	return nil
}

// touchEvery is how stale a session's last-seen or a token's last-used
// time may get before a request updates it: one write a minute per
// session or token, not one per request.
const touchEvery = time.Minute

// Service is access control over a store.
type Service struct {
	st        Store
	grants    *Grants
	opt       Options
	accounts  *Limiter
	addresses *Limiter
	// hashing bounds concurrent password hashing (64 MiB each) to the
	// cores there are (priority.Cores: not the extra Ps a server runs
	// with), so a burst of sign-ins queues instead of exhausting memory.
	hashing chan struct{}
	// dummyHash is verified against when the e-mail address has no user,
	// so an unknown address takes as long to refuse as a wrong password.
	dummyHash func() (string, error)
	// tokens are the tokens authenticated within TokenRecheck.
	tokens tokenCache
}

// NewService returns the service. Options left zero take their defaults,
// but for TokenRecheck: zero reads a token at every request.
func NewService(st Store, g *Grants, opt Options) (*Service, error) {
	def := DefaultOptions()
	if opt.SessionMaxAge == 0 {
		opt.SessionMaxAge = def.SessionMaxAge
	}
	if opt.SessionIdle == 0 {
		opt.SessionIdle = min(def.SessionIdle, opt.SessionMaxAge)
	}
	if opt.AccountLimit == (Rate{}) {
		opt.AccountLimit = def.AccountLimit
	}
	if opt.AddressLimit == (Rate{}) {
		opt.AddressLimit = def.AddressLimit
	}
	if opt.Params == (Params{}) {
		opt.Params = def.Params
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	params := opt.Params
	return &Service{
		st: st, grants: g, opt: opt,
		accounts:  NewLimiter(opt.AccountLimit, opt.Now),
		addresses: NewLimiter(opt.AddressLimit, opt.Now),
		hashing:   make(chan struct{}, priority.Cores()),
		dummyHash: sync.OnceValues(func() (string, error) { return HashPassword("no such user", params) }),
	}, nil
}

// Grants is the service's roles and grants.
func (s *Service) Grants() *Grants { return s.grants }

// Client is the client of r, behind the configured trusted proxies.
func (s *Service) Client(r *http.Request) Client { return ClientOf(r, s.opt.TrustedProxies) }

// withHashSlot runs fn while holding one of the hashing slots.
func (s *Service) withHashSlot(ctx context.Context, fn func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	fn()
	return nil
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p, for handlers below the middleware
// that authenticated the request.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal WithPrincipal stored, or the
// anonymous one.
func PrincipalFrom(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}

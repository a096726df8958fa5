package oidc

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
)

// Reasons of a refused OIDC sign-in, recorded in its sign_in_failed event
// beside those of internal/auth (unknown_user, disabled, no_role,
// provider_error, rate_limited).
const (
	// ReasonBadState: no flow cookie, an expired or forged one, or a
	// callback whose state is not this browser's.
	ReasonBadState = "bad_state"
	// ReasonProviderRefused: the provider sent the browser back with an
	// error (the person declined, or is not assigned to the client).
	ReasonProviderRefused = "provider_refused"
	// ReasonCodeRefused: the provider would not exchange the code.
	ReasonCodeRefused = "code_refused"
	// ReasonInvalidToken: the ID token failed verification (signature,
	// issuer, audience, expiry, nonce).
	ReasonInvalidToken = "invalid_token"
	// ReasonNoEmail: no e-mail address, or one the provider marks as
	// unverified.
	ReasonNoEmail = "no_email"
	// ReasonEmailDomain: an address outside allowed_email_domains.
	ReasonEmailDomain = "email_domain"
)

// discoveryRetry is how long a failed discovery is answered from memory
// before the provider is asked again, so a sign-in page hammered while the
// provider is down does not hammer the provider too.
const discoveryRetry = 10 * time.Second

// Client signs people in through one provider.
type Client struct {
	cfg  Config
	svc  *auth.Service
	key  []byte
	http *http.Client

	mu       sync.Mutex
	provider *gooidc.Provider
	verifier *gooidc.IDTokenVerifier
	failed   time.Time // last failed discovery
	failErr  error
}

// New returns a client for cfg (checked with Check) that signs people in
// through svc. It does not reach the provider: discovery happens at the
// first sign-in, and again until it succeeds, so Candor starts while the
// provider is down.
func New(cfg Config, svc *auth.Service) (*Client, error) {
	cfg, err := Check(cfg, svc.Grants())
	if err != nil {
		return nil, fmt.Errorf("auth.oidc.%w", err)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Client{cfg: cfg, svc: svc, key: flowKey(cfg.ClientSecret), http: hc}, nil
}

// Name is the provider's name for the sign-in button.
func (c *Client) Name() string { return c.cfg.Name }

// PasswordLogin reports whether the password form is offered too.
func (c *Client) PasswordLogin() bool { return c.cfg.PasswordLogin }

// CreatesUsers reports whether a first sign-in creates the account.
func (c *Client) CreatesUsers() bool { return c.cfg.CreateUsers }

// Via names the provider in access events.
func (c *Client) Via() string { return "oidc:" + c.cfg.Issuer }

// unavailable is the answer while the provider cannot be reached.
func (c *Client) unavailable(err error) error {
	return &domain.Error{Code: domain.EUnavailable, RetryAfter: discoveryRetry, Err: err,
		Message: fmt.Sprintf("%s cannot be reached just now, so sign-in through it is not possible. Try again in a minute.", c.cfg.Name)}
}

// discover returns the provider's endpoints and the ID token verifier,
// asking the provider the first time (and after a failure, at most every
// discoveryRetry).
func (c *Client) discover(ctx context.Context) (*gooidc.Provider, *gooidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, c.verifier, nil
	}
	if c.failErr != nil && c.cfg.Now().Sub(c.failed) < discoveryRetry {
		return nil, nil, c.unavailable(c.failErr)
	}
	p, err := gooidc.NewProvider(gooidc.ClientContext(ctx, c.http), c.cfg.Issuer)
	if err != nil {
		if ctx.Err() == nil {
			c.failed, c.failErr = c.cfg.Now(), err
		}
		return nil, nil, c.unavailable(fmt.Errorf("OIDC discovery at %s: %w", c.cfg.Issuer, err))
	}
	c.provider, c.failErr = p, nil
	c.verifier = p.Verifier(&gooidc.Config{ClientID: c.cfg.ClientID, Now: c.cfg.Now})
	return c.provider, c.verifier, nil
}

func (c *Client) oauth(p *gooidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = authStyle(p)
	return &oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: ep, Scopes: c.cfg.Scopes,
	}
}

// authStyle is how the token endpoint wants the client's secret, from
// discovery: HTTP Basic (the default when it does not say) or form
// fields. Left to guess, the oauth2 package sends a code twice when the
// first try fails, and the second answer (the code is used up) hides why
// the first failed.
func authStyle(p *gooidc.Provider) oauth2.AuthStyle {
	var d struct {
		Methods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if p.Claims(&d) != nil || len(d.Methods) == 0 || slices.Contains(d.Methods, "client_secret_basic") {
		return oauth2.AuthStyleInHeader
	}
	if slices.Contains(d.Methods, "client_secret_post") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func randomString() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a sign-in that is to end at next (a local path, checked by
// the caller): the provider's authorisation URL to send the browser to,
// and the sealed flow the browser must bring back (in a cookie, for
// FlowTTL).
func (c *Client) Start(ctx context.Context, next string) (authURL, sealed string, err error) {
	p, _, err := c.discover(ctx)
	if err != nil {
		return "", "", err
	}
	f := flow{State: randomString(), Nonce: randomString(), Verifier: oauth2.GenerateVerifier(), Next: next,
		Expires: c.cfg.Now().Add(FlowTTL).Unix()}
	authURL = c.oauth(p).AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return authURL, f.seal(c.key), nil
}

// Finish completes a sign-in from the provider's callback: its query, the
// sealed flow from Start, and the client signing in. It checks the state,
// exchanges the code with the PKCE verifier, verifies the ID token
// (signature, issuer, audience, expiry, nonce), maps its claims to roles
// and signs the person in through auth.Service.SignInExternal, which
// records every outcome. It returns the session and where to go next.
// A refusal is a *auth.Refusal or one of auth's errors, each with a code
// and a message for the person.
func (c *Client) Finish(ctx context.Context, callback url.Values, sealed string, cl auth.Client) (auth.Login, string, error) {
	f, ok := openFlow(c.key, sealed, c.cfg.Now())
	ext := auth.External{Via: c.Via(), CreateUsers: c.cfg.CreateUsers}
	l, err := c.svc.SignInExternal(ctx, ext, cl, func(ctx context.Context) (auth.Identity, error) {
		if !ok || subtle.ConstantTimeCompare([]byte(f.State), []byte(callback.Get("state"))) != 1 {
			return auth.Identity{}, c.refuse(ReasonBadState, "", domain.EInvalid,
				"This sign-in was not started in this browser, or took longer than %v. Start again.", FlowTTL)
		}
		if e := callback.Get("error"); e != "" {
			msg := e
			if d := callback.Get("error_description"); d != "" {
				msg += ": " + d
			}
			return auth.Identity{}, c.refuse(ReasonProviderRefused, "", domain.EForbidden, "%s did not sign you in (%s).", c.cfg.Name, clip(msg))
		}
		if callback.Get("code") == "" {
			return auth.Identity{}, c.refuse(ReasonBadState, "", domain.EInvalid, "%s sent you back without a sign-in code. Start again.", c.cfg.Name)
		}
		return c.identify(ctx, f, callback.Get("code"))
	})
	if err != nil {
		return auth.Login{}, "", err
	}
	return l, f.Next, nil
}

func (c *Client) refuse(reason, email string, code domain.Code, format string, args ...any) error {
	return &auth.Refusal{Reason: reason, Email: email, Err: domain.Errorf(code, format, args...)}
}

// clip bounds what the provider said before it is shown or recorded.
func clip(s string) string {
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
}

// identify exchanges the code and turns the verified ID token into an
// identity with roles.
func (c *Client) identify(ctx context.Context, f flow, code string) (auth.Identity, error) {
	p, verifier, err := c.discover(ctx)
	if err != nil {
		return auth.Identity{}, err
	}
	ctx = gooidc.ClientContext(context.WithValue(ctx, oauth2.HTTPClient, c.http), c.http)
	tok, err := c.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		what := re.ErrorCode
		if re.ErrorDescription != "" {
			what += ": " + re.ErrorDescription
		}
		if what == "" {
			what = re.Response.Status
		}
		return auth.Identity{}, c.refuse(ReasonCodeRefused, "", domain.EUnauthorized,
			"%s would not complete the sign-in (%s). Start again; if it keeps happening, tell a Candor administrator.", c.cfg.Name, clip(what))
	case err != nil:
		return auth.Identity{}, c.unavailable(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return auth.Identity{}, c.refuse(ReasonInvalidToken, "", domain.EUnauthorized, "%s sent no ID token: is the openid scope allowed for this client?", c.cfg.Name)
	}
	invalid := func(format string, args ...any) error {
		return c.refuse(ReasonInvalidToken, "", domain.EUnauthorized,
			"The sign-in from %s could not be verified: %s. Start again; if it keeps happening, tell a Candor administrator.",
			c.cfg.Name, fmt.Sprintf(format, args...))
	}
	idt, err := verifier.Verify(ctx, raw)
	var expired *gooidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return auth.Identity{}, invalid("its ID token expired at %s (is this server's clock right?)", expired.Expiry.UTC().Format(time.RFC3339))
	case err != nil:
		return auth.Identity{}, invalid("%s", clip(strings.TrimPrefix(err.Error(), "oidc: ")))
	case subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1:
		return auth.Identity{}, invalid("its ID token belongs to another sign-in (nonce)")
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return auth.Identity{}, invalid("its claims cannot be read")
	}
	// With several audiences, the token must say it was issued to Candor
	// (OpenID Connect Core 3.1.3.7).
	if azp, _ := claims["azp"].(string); len(idt.Audience) > 1 && azp != c.cfg.ClientID {
		return auth.Identity{}, invalid("it was issued to %q, not to this client", azp)
	}
	// Some providers keep e-mail, its verification or groups out of the
	// ID token and give them at the userinfo endpoint.
	_, verified := claims["email_verified"]
	if _, ok := lookup(claims, c.cfg.RolesClaim); (!ok || claims["email"] == nil || (!verified && !c.cfg.TrustUnsaidEmail)) && p.UserInfoEndpoint() != "" {
		if err := c.addUserInfo(ctx, p, tok, idt.Subject, claims); err != nil {
			return auth.Identity{}, err
		}
	}
	return c.identity(claims)
}

// addUserInfo adds the claims of the userinfo endpoint that the ID token
// lacks, when the endpoint answers for the same subject.
func (c *Client) addUserInfo(ctx context.Context, p *gooidc.Provider, tok *oauth2.Token, subject string, claims map[string]any) error {
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return c.unavailable(fmt.Errorf("userinfo: %w", err))
	}
	if ui.Subject != subject {
		return c.refuse(ReasonInvalidToken, "", domain.EUnauthorized, "%s answered for another person at its userinfo endpoint.", c.cfg.Name)
	}
	more := map[string]any{}
	if err := ui.Claims(&more); err != nil {
		return c.unavailable(fmt.Errorf("userinfo claims: %w", err))
	}
	for k, v := range more {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// identity reads the person's e-mail address, name and roles from
// verified claims.
func (c *Client) identity(claims map[string]any) (auth.Identity, error) {
	email, _ := claims["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return auth.Identity{}, c.refuse(ReasonNoEmail, "", domain.EForbidden,
			"%s did not send your e-mail address, which Candor signs you in by (the client needs the email scope).", c.cfg.Name)
	}
	verified, present := claims["email_verified"]
	if present && !truthy(verified) {
		return auth.Identity{}, c.refuse(ReasonNoEmail, email, domain.EForbidden,
			"%s has not verified your e-mail address %s, so Candor cannot sign you in with it.", c.cfg.Name, email)
	}
	// An address the provider does not vouch for would sign in to the
	// local account holding it — an administrator's, say — so silence is
	// a refusal unless the operator says the provider verifies every
	// address it sends (require_email_verified: false).
	if !present && !c.cfg.TrustUnsaidEmail {
		return auth.Identity{}, c.refuse(ReasonNoEmail, email, domain.EForbidden,
			"%s did not say whether it has verified your e-mail address %s (no email_verified claim), so Candor cannot sign you in with it. If %s verifies every address it sends, a Candor administrator can set auth.oidc.require_email_verified: false.",
			c.cfg.Name, email, c.cfg.Name)
	}
	if d := c.cfg.AllowedEmailDomains; len(d) > 0 {
		_, domainPart, _ := strings.Cut(email, "@")
		if !slices.Contains(d, domainPart) {
			return auth.Identity{}, c.refuse(ReasonEmailDomain, email, domain.EForbidden,
				"Sign-in through %s is open to addresses at %s only.", c.cfg.Name, strings.Join(d, ", "))
		}
	}
	name, _ := claims["name"].(string)
	roles := c.MapRoles(claims)
	if len(roles) == 0 {
		return auth.Identity{}, c.refuse(auth.ReasonNoRole, email, domain.EForbidden,
			"You are signed in to %s as %s, but none of your %s gives you a Candor role. Ask a Candor administrator for access.",
			c.cfg.Name, email, c.cfg.RolesClaim)
	}
	return auth.Identity{Email: email, Name: name, Roles: roles}, nil
}

// truthy reads email_verified, which some providers send as a string.
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// MapRoles is the Candor roles the claims' RolesClaim values map to: the
// union, in the order of the role table.
func (c *Client) MapRoles(claims map[string]any) []string {
	v, _ := lookup(claims, c.cfg.RolesClaim)
	var values []string
	switch v := v.(type) {
	case string:
		values = []string{v}
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				values = append(values, s)
			}
		}
	}
	got := map[string]bool{}
	for _, val := range values {
		for _, r := range c.cfg.RoleMapping[val] {
			got[r] = true
		}
	}
	var roles []string
	for _, id := range c.svc.Grants().RoleIDs() {
		if got[id] {
			roles = append(roles, id)
		}
	}
	return roles
}

// lookup finds a claim by name, or, when no claim has the name and it has
// dots, by path into nested objects ("realm_access.roles"). The whole name
// is tried first because namespaced claims are URLs full of dots.
func lookup(claims map[string]any, name string) (any, bool) {
	if v, ok := claims[name]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

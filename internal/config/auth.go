package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/oidc"
)

// AuthConfig is the auth: section: sign-in, sessions and the proxies in
// front of Candor.
type AuthConfig struct {
	// TrustedProxies are CIDRs (or addresses) whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// SecureCookies makes cookies Secure even when the request arrived
	// over plain HTTP.
	SecureCookies bool `yaml:"secure_cookies"`
	// SessionMaxAge and SessionIdleTimeout are durations ("7d", "24h").
	SessionMaxAge      string `yaml:"session_max_age"`
	SessionIdleTimeout string `yaml:"session_idle_timeout"`
	// TokenRecheck is how long an authenticated API token is trusted
	// before it is read again ("1s"; "0s": every request).
	TokenRecheck   string `yaml:"token_recheck"`
	LoginRateLimit struct {
		PerAccount *RateConfig `yaml:"per_account"`
		PerAddress *RateConfig `yaml:"per_address"`
	} `yaml:"login_rate_limit"`
	// OIDC, when set, adds sign-in through an OpenID Connect provider.
	OIDC *OIDCConfig `yaml:"oidc"`
}

// OIDCConfig is the auth.oidc: section (see oidc.Config).
type OIDCConfig struct {
	Name         string   `yaml:"name"`
	Issuer       string   `yaml:"issuer"`
	ClientID     string   `yaml:"client_id"`
	ClientSecret string   `yaml:"client_secret"`
	RedirectURL  string   `yaml:"redirect_url"`
	Scopes       []string `yaml:"scopes"`
	RolesClaim   string   `yaml:"roles_claim"`
	// RoleMapping maps a value of the roles claim to Candor roles.
	RoleMapping         map[string][]string `yaml:"role_mapping"`
	AllowedEmailDomains []string            `yaml:"allowed_email_domains"`
	// CreateUsers (default true) creates accounts at first sign-in.
	CreateUsers *bool `yaml:"create_users"`
	// PasswordLogin (default true) keeps the password form.
	PasswordLogin *bool `yaml:"password_login"`
	// RequireEmailVerified (default true) refuses identities whose claims
	// do not carry email_verified.
	RequireEmailVerified *bool `yaml:"require_email_verified"`
}

// OIDC is the checked OpenID Connect configuration with its defaults,
// nil when auth.oidc is not set. g is the roles role_mapping may name.
func (c Config) OIDC(g *auth.Grants) (*oidc.Config, error) {
	o := c.Auth.OIDC
	if o == nil {
		return nil, nil
	}
	orTrue := func(b *bool) bool { return b == nil || *b }
	cfg, err := oidc.Check(oidc.Config{
		Name: o.Name, Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, RedirectURL: o.RedirectURL,
		Scopes: o.Scopes, RolesClaim: o.RolesClaim, RoleMapping: o.RoleMapping, AllowedEmailDomains: o.AllowedEmailDomains,
		CreateUsers: orTrue(o.CreateUsers), PasswordLogin: orTrue(o.PasswordLogin), TrustUnsaidEmail: !orTrue(o.RequireEmailVerified),
	}, g)
	if err != nil {
		return nil, fmt.Errorf("auth.oidc.%w", err)
	}
	return &cfg, nil
}

// RateConfig is a sign-in rate: attempts per duration.
type RateConfig struct {
	Attempts int    `yaml:"attempts"`
	Per      string `yaml:"per"`
}

// AuthOptions builds the access-control options, validating every field.
// The clock and password costs keep their defaults.
func (c Config) AuthOptions() (auth.Options, error) {
	o := auth.DefaultOptions()
	a := c.Auth
	var err error
	if o.TrustedProxies, err = auth.ParseTrustedProxies(a.TrustedProxies); err != nil {
		return o, fmt.Errorf("auth.%v", err)
	}
	o.SecureCookies = a.SecureCookies
	dur := func(field, v string, dst *time.Duration) error { return setDuration("auth."+field, v, dst) }
	if err := dur("session_max_age", a.SessionMaxAge, &o.SessionMaxAge); err != nil {
		return o, err
	}
	if a.SessionIdleTimeout == "" && o.SessionIdle > o.SessionMaxAge {
		o.SessionIdle = o.SessionMaxAge
	}
	if err := dur("session_idle_timeout", a.SessionIdleTimeout, &o.SessionIdle); err != nil {
		return o, err
	}
	if a.TokenRecheck != "" {
		// Zero is allowed here (every request reads the token), unlike the
		// other durations.
		d, err := time.ParseDuration(strings.TrimSpace(a.TokenRecheck))
		if err != nil || d < 0 || d > time.Minute {
			return o, fmt.Errorf("auth.token_recheck: %q; want a duration from 0s to 1m, such as 1s", a.TokenRecheck)
		}
		o.TokenRecheck = d
	}
	for _, r := range []struct {
		field string
		in    *RateConfig
		out   *auth.Rate
	}{
		{"per_account", a.LoginRateLimit.PerAccount, &o.AccountLimit},
		{"per_address", a.LoginRateLimit.PerAddress, &o.AddressLimit},
	} {
		if r.in == nil {
			continue
		}
		field := "login_rate_limit." + r.field
		if r.in.Attempts < 1 {
			return o, fmt.Errorf("auth.%s.attempts: %d; want at least 1", field, r.in.Attempts)
		}
		r.out.Attempts = r.in.Attempts
		if r.in.Per == "" {
			return o, fmt.Errorf("auth.%s.per: required, such as 15m", field)
		}
		if err := dur(field+".per", r.in.Per, &r.out.Per); err != nil {
			return o, err
		}
	}
	if err := o.Validate(); err != nil {
		return o, fmt.Errorf("auth: %v", err)
	}
	return o, nil
}

// Grants returns the built-in roles with the organisation's overrides,
// checked against the catalog (the one Catalog returns).
func (c Config) Grants(cat *catalog.Catalog) (*auth.Grants, error) {
	roles, err := c.RoleOverrides()
	if err != nil {
		return nil, err
	}
	return auth.NewGrants(cat, roles)
}

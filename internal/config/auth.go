package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
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
	LoginRateLimit     struct {
		PerAccount *RateConfig `yaml:"per_account"`
		PerAddress *RateConfig `yaml:"per_address"`
	} `yaml:"login_rate_limit"`
}

// RateConfig is a sign-in rate: attempts per duration.
type RateConfig struct {
	Attempts int    `yaml:"attempts"`
	Per      string `yaml:"per"`
}

func (c *Config) applyAuthEnv(env func(string) string) error {
	if v := env("CANDOR_TRUSTED_PROXIES"); v != "" {
		c.Auth.TrustedProxies = strings.Split(v, ",")
	}
	if v := env("CANDOR_SECURE_COOKIES"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("CANDOR_SECURE_COOKIES: %q is not true or false", v)
		}
		c.Auth.SecureCookies = b
	}
	return nil
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
	return auth.NewGrants(cat, c.Roles)
}

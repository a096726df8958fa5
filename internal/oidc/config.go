// Package oidc is Candor's optional sign-in through an OpenID Connect
// provider (SPEC §9): the authorisation code flow with state, nonce and
// PKCE, ID token verification (coreos/go-oidc), and the mapping of a
// claim's values (groups, say) to Candor roles. What follows a verified
// identity — provisioning, disabled accounts, the session, the access
// events — is internal/auth's (Service.SignInExternal), so a person signed
// in here is signed in exactly as by a password.
package oidc

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
)

// CallbackPath is where the provider sends the browser back: the path
// redirect_url must have.
const CallbackPath = "/auth/oidc/callback"

// DefaultScopes are asked for when Config.Scopes is empty.
var DefaultScopes = []string{"openid", "email", "profile"}

// DefaultName is the provider's name on the sign-in page when none is set.
const DefaultName = "single sign-on"

// Config is a provider and how its claims become Candor roles.
type Config struct {
	// Name is the provider as people know it ("Okta"): the sign-in
	// button says "Sign in with NAME".
	Name string
	// Issuer is the provider's issuer URL; its discovery document is
	// ISSUER/.well-known/openid-configuration.
	Issuer                 string
	ClientID, ClientSecret string
	// RedirectURL is Candor's callback as the browser reaches it:
	// https://HOST/auth/oidc/callback, registered at the provider.
	RedirectURL string
	// Scopes are asked for; openid is added when missing.
	Scopes []string
	// RolesClaim is the claim holding the values RoleMapping maps
	// ("groups", "roles", or a path such as "realm_access.roles").
	RolesClaim string
	// RoleMapping maps a value of RolesClaim to Candor roles; a person
	// gets the union over their values.
	RoleMapping map[string][]string
	// AllowedEmailDomains, when set, are the only e-mail domains that may
	// sign in ("example.com"; exact, case-insensitive).
	AllowedEmailDomains []string
	// CreateUsers creates an account at a person's first sign-in.
	CreateUsers bool
	// PasswordLogin keeps the password form beside the provider's button.
	PasswordLogin bool
	// TrustUnsaidEmail accepts an identity whose claims do not say
	// email_verified (false is refused either way). Off, the zero value:
	// a provider that lets people set any address would otherwise sign
	// them in to the local account of that address.
	TrustUnsaidEmail bool

	// HTTPClient talks to the provider; nil is one with a 15-second
	// timeout.
	HTTPClient *http.Client
	// Now is the clock ID tokens' expiry is judged by; nil is time.Now.
	Now func() time.Time
}

// FieldError is a configuration problem, naming the key under auth.oidc.
type FieldError struct{ Key, Msg string }

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

func fieldErr(key, format string, args ...any) error {
	return &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Check validates cfg against the roles of g and returns it completed:
// the default name and scopes, openid among the scopes, e-mail domains
// lower-cased. Each problem names its key (issuer, role_mapping.VALUE, …).
func Check(cfg Config, g *auth.Grants) (Config, error) {
	cfg.Name = strings.TrimSpace(cfg.Name)
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if err := checkURL("issuer", cfg.Issuer); err != nil {
		return cfg, err
	}
	if u, _ := url.Parse(cfg.Issuer); u.RawQuery != "" || u.Fragment != "" {
		return cfg, fieldErr("issuer", "%q has a query or fragment; an issuer URL has neither", cfg.Issuer)
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return cfg, fieldErr("client_id", "required: the client id the provider gave Candor")
	}
	if cfg.ClientSecret == "" {
		return cfg, fieldErr("client_secret", "required: the client secret the provider gave Candor (or set CANDOR_OIDC_CLIENT_SECRET)")
	}
	if err := checkURL("redirect_url", cfg.RedirectURL); err != nil {
		return cfg, err
	}
	if u, _ := url.Parse(cfg.RedirectURL); u.Path != CallbackPath || u.RawQuery != "" {
		return cfg, fieldErr("redirect_url", "%q must be Candor's address followed by %s, such as https://candor.example.com%s", cfg.RedirectURL, CallbackPath, CallbackPath)
	}
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = slices.Clone(DefaultScopes)
	}
	for i, s := range cfg.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return cfg, fieldErr(fmt.Sprintf("scopes[%d]", i), "%q is not a scope", s)
		}
	}
	if !slices.Contains(cfg.Scopes, "openid") {
		cfg.Scopes = append([]string{"openid"}, cfg.Scopes...)
	}
	if strings.TrimSpace(cfg.RolesClaim) == "" {
		return cfg, fieldErr("roles_claim", "required: the claim whose values role_mapping maps, such as groups")
	}
	if len(cfg.RoleMapping) == 0 {
		return cfg, fieldErr("role_mapping", "required: map at least one value of the %s claim to Candor roles, or nobody gets in", cfg.RolesClaim)
	}
	for _, v := range slices.Sorted(maps.Keys(cfg.RoleMapping)) {
		if _, err := g.CheckRoles(cfg.RoleMapping[v]); err != nil {
			return cfg, fieldErr("role_mapping."+v, "%v", err)
		}
	}
	domains := make([]string, len(cfg.AllowedEmailDomains))
	for i, d := range cfg.AllowedEmailDomains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if !strings.Contains(d, ".") || strings.ContainsAny(d, "@ /\t") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return cfg, fieldErr(fmt.Sprintf("allowed_email_domains[%d]", i), "%q is not a domain such as example.com", cfg.AllowedEmailDomains[i])
		}
		domains[i] = d
	}
	cfg.AllowedEmailDomains = domains
	return cfg, nil
}

// checkURL requires an absolute https URL; plain http only to a loopback
// host, where nothing crosses a network (a provider on the same machine,
// tests).
func checkURL(key, v string) error {
	if strings.TrimSpace(v) == "" {
		return fieldErr(key, "required")
	}
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fieldErr(key, "%q is not an absolute URL such as https://login.example.com", v)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
	}
	return fieldErr(key, "%q must use https (plain http only to localhost)", v)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
)

func TestAuthSettings(t *testing.T) {
	p := write(t, `
auth:
  trusted_proxies: [10.0.0.0/8, 127.0.0.1]
  session_max_age: 3d
  session_idle_timeout: 8h
  token_recheck: 0s
  login_rate_limit:
    per_account: {attempts: 3, per: 10m}
roles:
  support:
    pillars: [customer, delivery]
  engineering:
    permissions: [scorecard:read, "view:engineering", metric:read]
    metrics: [csat]
`)
	c, err := Load(p, env(map[string]string{"CANDOR_SECURE_COOKIES": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.AuthOptions()
	if err != nil {
		t.Fatal(err)
	}
	if len(o.TrustedProxies) != 2 || o.TrustedProxies[1].String() != "127.0.0.1/32" || !o.SecureCookies ||
		o.SessionMaxAge != 72*time.Hour || o.SessionIdle != 8*time.Hour || o.TokenRecheck != 0 ||
		o.AccountLimit != (auth.Rate{Attempts: 3, Per: 10 * time.Minute}) || o.AddressLimit != auth.DefaultOptions().AddressLimit {
		t.Errorf("options = %+v", o)
	}
	cat, _ := c.Catalog()
	g, err := c.Grants(cat)
	if err != nil {
		t.Fatal(err)
	}
	cfr, _ := cat.Metric("change_failure_rate")
	csat, _ := cat.Metric("csat")
	support := auth.Principal{Kind: auth.KindUser, Roles: []string{"support"}}
	eng := auth.Principal{Kind: auth.KindUser, Roles: []string{"engineering"}}
	if !g.CanSeeMetric(support, cfr) || !g.CanSeeMetric(eng, csat) || g.Can(eng, auth.SourcesRead) {
		t.Error("role overrides not applied")
	}

	// Defaults without an auth section.
	d, err := Load("", env(map[string]string{"CANDOR_TRUSTED_PROXIES": "192.0.2.0/24, 198.51.100.1"}))
	if err != nil {
		t.Fatal(err)
	}
	o, _ = d.AuthOptions()
	def := auth.DefaultOptions()
	if o.SessionMaxAge != def.SessionMaxAge || o.SessionIdle != def.SessionIdle || o.SecureCookies || len(o.TrustedProxies) != 2 || o.TokenRecheck != time.Second {
		t.Errorf("default options = %+v", o)
	}
	if ids := slices.Collect(func(yield func(string) bool) {
		for _, p := range o.TrustedProxies {
			yield(p.String())
		}
	}); !slices.Equal(ids, []string{"192.0.2.0/24", "198.51.100.1/32"}) {
		t.Errorf("proxies from the environment = %v", ids)
	}
}

func TestAuthSettingsRefused(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"proxy", "auth: {trusted_proxies: [10.0.0.0/33]}\n", "auth.trusted_proxies[0]"},
		{"max age", "auth: {session_max_age: forever}\n", "auth.session_max_age"},
		{"idle over max", "auth: {session_max_age: 1h, session_idle_timeout: 2h}\n", "session_idle_timeout"},
		{"token recheck", "auth: {token_recheck: 5m}\n", "auth.token_recheck"},
		{"token recheck unit", "auth: {token_recheck: 1d}\n", "auth.token_recheck"},
		{"attempts", "auth: {login_rate_limit: {per_address: {attempts: 0, per: 1m}}}\n", "auth.login_rate_limit.per_address"},
		{"rate period", "auth: {login_rate_limit: {per_account: {attempts: 5, per: often}}}\n", "auth.login_rate_limit.per_account.per"},
		{"unknown auth key", "auth: {secure: true}\n", "secure"},
		{"unknown role", "roles: {cfo: {pillars: [growth]}}\n", "roles.cfo: unknown role; known: admin"},
		{"unknown permission", "roles:\n  support:\n    permissions: [records:delete]\n", `roles.support.permissions[0]: unknown permission "records:delete"`},
		{"unknown pillar", "roles: {support: {pillars: [sales]}}\n", `roles.support.pillars[0]: unknown pillar "sales"`},
		{"unknown role field", "roles: {support: {views: [ceo]}}\n", "views"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(write(t, c.file), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
	if _, err := Load("", env(map[string]string{"CANDOR_SECURE_COOKIES": "yes please"})); err == nil || !strings.Contains(err.Error(), "CANDOR_SECURE_COOKIES") {
		t.Errorf("bad CANDOR_SECURE_COOKIES: %v", err)
	}
}

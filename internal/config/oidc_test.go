package config

import (
	"slices"
	"strings"
	"testing"
)

const oidcFile = `
auth:
  oidc:
    name: Okta
    issuer: https://acme.okta.com
    client_id: candor
    redirect_url: https://candor.acme.com/auth/oidc/callback
    roles_claim: groups
    role_mapping:
      candor-execs: [executive]
      leadership: [ceo, executive]
    allowed_email_domains: [Acme.com]
`

func TestOIDCSettings(t *testing.T) {
	// The secret from the environment, and the defaults.
	c, err := Load(write(t, oidcFile), env(map[string]string{"CANDOR_OIDC_CLIENT_SECRET": "from-env"}))
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := c.Catalog()
	g, _ := c.Grants(cat)
	o, err := c.OIDC(g)
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientSecret != "from-env" || o.Name != "Okta" || !o.CreateUsers || !o.PasswordLogin || o.TrustUnsaidEmail ||
		!slices.Equal(o.Scopes, []string{"openid", "email", "profile"}) || !slices.Equal(o.AllowedEmailDomains, []string{"acme.com"}) ||
		!slices.Equal(o.RoleMapping["leadership"], []string{"ceo", "executive"}) {
		t.Errorf("oidc = %+v", o)
	}
	// The switches off.
	c, err = Load(write(t, oidcFile+"    client_secret: in-file\n    create_users: false\n    password_login: false\n    require_email_verified: false\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o, _ = c.OIDC(g); o.ClientSecret != "in-file" || o.CreateUsers || o.PasswordLogin || !o.TrustUnsaidEmail {
		t.Errorf("oidc = %+v", o)
	}
	// None configured.
	c, _ = Load("", env(nil))
	if o, err := c.OIDC(g); o != nil || err != nil {
		t.Errorf("no auth.oidc: %+v, %v", o, err)
	}
}

func TestOIDCSettingsRefused(t *testing.T) {
	for _, c := range []struct{ name, extra, want string }{
		{"no secret", "", "auth.oidc.client_secret: required"},
		{"unknown role", "      board: [cfo]\n", `auth.oidc.role_mapping.board: unknown role "cfo"`},
		{"unknown key", "    client_secret: s\n    token_url: x\n", `unknown key "token_url"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := oidcFile
			if strings.HasPrefix(c.extra, "      ") {
				file = strings.Replace(file, "      leadership:", c.extra+"      leadership:", 1) + "    client_secret: s\n"
			} else {
				file += c.extra
			}
			_, err := Load(write(t, file), env(nil))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one naming %q", err, c.want)
			}
		})
	}
	for _, bad := range []string{
		"auth: {oidc: {issuer: http://idp.example.com, client_id: c, client_secret: s}}\n",
	} {
		if _, err := Load(write(t, bad), env(nil)); err == nil || !strings.Contains(err.Error(), `auth.oidc.issuer: "http://idp.example.com" must use https`) {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if _, err := Load("", env(map[string]string{"CANDOR_OIDC_CLIENT_SECRET": "s"})); err == nil || !strings.Contains(err.Error(), "no auth.oidc section") {
		t.Errorf("a secret without a provider: %v", err)
	}
}

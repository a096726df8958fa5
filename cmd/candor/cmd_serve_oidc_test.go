package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/candor/candor/internal/oidc/oidctest"
)

// TestServeWithOIDC: auth.oidc in the configuration file puts the
// provider's button on the sign-in page of `candor serve`, and a first
// sign-in through it creates the account and lands on the scorecard.
func TestServeWithOIDC(t *testing.T) {
	idp := oidctest.New(t, "candor", "s3cret")
	idp.SignInAs(map[string]any{"email": "ann@example.com", "name": "Ann Lee", "groups": []any{"leadership"}})
	// The redirect URL names the port, so the port is chosen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "candor.yaml")
	os.WriteFile(cfg, []byte(`auth:
  oidc:
    name: Acme ID
    issuer: `+idp.URL+`
    client_id: candor
    client_secret: s3cret
    redirect_url: http://`+addr+`/auth/oidc/callback
    roles_claim: groups
    role_mapping: {leadership: [executive]}
`), 0o600)

	p := start(t, "serve", "--config", cfg, "--data", filepath.Join(dir, "data"), "--addr", addr)
	url := p.waitFor(t, "the listening log line", p.listeningURL)
	p.waitFor(t, "/readyz to answer 200", func() (string, bool) {
		code, _ := get(t, url+"/readyz", "")
		return "", code == 200
	})
	_, page := get(t, url+"/login", "")
	if !strings.Contains(string(page), "Sign in with Acme ID") {
		t.Errorf("no provider on the sign-in page:\n%s", clip(string(page)))
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(url + "/auth/oidc/start?next=/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/" || !strings.Contains(string(b), "Ann Lee") {
		t.Errorf("signing in through the provider: %d at %s\n%s", resp.StatusCode, resp.Request.URL, clip(string(b)))
	}
	// With accounts made at first sign-in, an empty user table is no
	// reason to warn.
	if log := p.errb.String(); strings.Contains(log, "no users yet") || !strings.Contains(log, `"provider":"Acme ID"`) {
		t.Errorf("serve log:\n%s", log)
	}
	p.stop(t)
}

// Package oidctest is an OpenID Connect provider for tests, served in
// process by httptest: discovery, a JWKS with an RSA key made at start, an
// authorisation endpoint that signs in whoever the test says (no page)
// and redirects back with a code, a token endpoint that checks the client,
// the redirect URI and the PKCE verifier before issuing an RS256-signed ID
// token, and a userinfo endpoint.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Provider is the test provider. Its zero value is not usable: call New.
type Provider struct {
	// URL is the issuer: the server's base URL.
	URL          string
	ClientID     string
	ClientSecret string

	srv *httptest.Server
	key *rsa.PrivateKey
	kid string

	mu sync.Mutex
	// person is the claims of whoever signs in next.
	person map[string]any
	// userinfo holds claims the userinfo endpoint adds, not the ID token.
	userinfo map[string]any
	// tamper changes an ID token's claims before it is signed.
	tamper func(claims map[string]any)
	// refuse, when set, is the error the authorisation endpoint answers.
	refuse string
	codes  map[string]grant
	// accessTokens maps access tokens to the claims of their person.
	accessTokens map[string]map[string]any
	// Log lists the endpoints asked, in order ("authorize", "token", …).
	log []string
}

// signingKey is made once per test binary: a 2048-bit RSA key takes a
// good part of a second, and every provider of a run may share one.
var signingKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

// grant is an issued authorisation code and what it was issued for.
type grant struct {
	clientID, redirectURI, nonce, challenge string
	person                                  map[string]any
}

// New starts a provider for one client; it stops when the test ends.
func New(t testing.TB, clientID, clientSecret string) *Provider {
	t.Helper()
	key, err := signingKey()
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: clientID, ClientSecret: clientSecret, key: key, kid: "test-key-1",
		codes: map[string]grant{}, accessTokens: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /userinfo", p.userInfo)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// SignInAs sets who the authorisation endpoint signs in from now on: the
// claims of their ID token ("sub" defaults to "sub-" + "email";
// "email_verified" to true when there is an e-mail address, as the
// providers Candor is set up with send it; a nil value leaves a claim
// out).
func (p *Provider) SignInAs(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.person = maps.Clone(claims)
	if _, ok := p.person["sub"]; !ok {
		p.person["sub"] = fmt.Sprint("sub-", claims["email"])
	}
	if _, ok := p.person["email_verified"]; !ok && p.person["email"] != nil {
		p.person["email_verified"] = true
	}
	maps.DeleteFunc(p.person, func(_ string, v any) bool { return v == nil })
}

// UserInfo sets claims only the userinfo endpoint returns (as providers
// do that keep groups out of the ID token).
func (p *Provider) UserInfo(claims map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.userinfo = maps.Clone(claims)
}

// Tamper makes the token endpoint change every ID token's claims before
// signing it (nil: none): a wrong audience, issuer, nonce or expiry.
func (p *Provider) Tamper(fn func(claims map[string]any)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tamper = fn
}

// Refuse makes the authorisation endpoint send the browser back with this
// OAuth error (access_denied, say); "" signs in again.
func (p *Provider) Refuse(code string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = code
}

// Asked lists the endpoints asked so far, in order.
func (p *Provider) Asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

func (p *Provider) asked(endpoint string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, endpoint)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (p *Provider) discovery(w http.ResponseWriter, r *http.Request) {
	p.asked("discovery")
	writeJSON(w, 200, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"userinfo_endpoint":                     p.URL + "/userinfo",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	p.asked("jwks")
	pub := p.key.PublicKey
	writeJSON(w, 200, map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.kid,
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize signs the configured person in at once and sends the browser
// back to the client with a code, or with an error as OAuth 2.0 says.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	p.asked("authorize")
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		http.Error(w, "redirect_uri missing or not absolute", http.StatusBadRequest)
		return
	}
	if q.Get("client_id") != p.ClientID {
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		params.Set("state", q.Get("state"))
		u := *redirect
		u.RawQuery = params.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	p.mu.Lock()
	person, refuse := p.person, p.refuse
	p.mu.Unlock()
	scopes := strings.Fields(q.Get("scope"))
	switch {
	case q.Get("response_type") != "code" || !slices.Contains(scopes, "openid"):
		back(url.Values{"error": {"invalid_request"}, "error_description": {"response_type code and scope openid are required"}})
		return
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		back(url.Values{"error": {"invalid_request"}, "error_description": {"PKCE with S256 is required"}})
		return
	case refuse != "":
		back(url.Values{"error": {refuse}, "error_description": {"The user said no."}})
		return
	case person == nil:
		back(url.Values{"error": {"login_required"}})
		return
	}
	code := b64(random(24))
	p.mu.Lock()
	p.codes[code] = grant{clientID: p.ClientID, redirectURI: redirect.String(), nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), person: person}
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// token exchanges a code, once, for an access token and a signed ID token,
// after checking the client's secret, the redirect URI and the PKCE
// verifier against the challenge the code was issued for.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	p.asked("token")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		writeJSON(w, 401, map[string]string{"error": "invalid_client"})
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	tamper := p.tamper
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	switch {
	case r.PostForm.Get("grant_type") != "authorization_code":
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
		return
	case !found || g.clientID != id || g.redirectURI != r.PostForm.Get("redirect_uri"):
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "unknown code, or another redirect_uri"})
		return
	case b64(sum[:]) != g.challenge:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "PKCE verifier does not match the challenge"})
		return
	}
	now := time.Now()
	claims := maps.Clone(g.person)
	claims["iss"] = p.URL
	claims["aud"] = p.ClientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(time.Hour).Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if tamper != nil {
		tamper(claims)
	}
	access := b64(random(24))
	p.mu.Lock()
	p.accessTokens[access] = g.person
	p.mu.Unlock()
	writeJSON(w, 200, map[string]any{
		"access_token": access, "token_type": "Bearer", "expires_in": 3600, "id_token": p.Sign(claims),
	})
}

// Sign makes an RS256 JWT of the claims with the provider's key.
func (p *Provider) Sign(claims map[string]any) string {
	head, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": p.kid})
	body, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	signing := b64(head) + "." + b64(body)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		panic(err)
	}
	return signing + "." + b64(sig)
}

func (p *Provider) userInfo(w http.ResponseWriter, r *http.Request) {
	p.asked("userinfo")
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	person, found := p.accessTokens[token]
	extra := p.userinfo
	p.mu.Unlock()
	if !ok || !found {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, 401, map[string]string{"error": "invalid_token"})
		return
	}
	out := maps.Clone(person)
	maps.Copy(out, extra)
	writeJSON(w, 200, out)
}

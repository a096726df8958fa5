package auth

import (
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/candor/candor/internal/domain"
)

// Session cookie names. Over HTTPS the __Host- prefix makes the browser
// refuse the cookie unless it is Secure, for this host only and path /, so
// a neighbouring subdomain or a plain-HTTP page cannot plant a session.
const (
	SessionCookie       = "candor_session"
	SecureSessionCookie = "__Host-candor_session"
)

// Secure reports whether cookies set in answer to r must be Secure: the
// client used HTTPS, or configuration forces it.
func (s *Service) Secure(r *http.Request) bool {
	return s.opt.SecureCookies || s.Client(r).HTTPS
}

func (s *Service) cookieName(r *http.Request) string {
	if s.Secure(r) {
		return SecureSessionCookie
	}
	return SessionCookie
}

// SetSessionCookie sends the session's cookie: HttpOnly (no script reads
// it), SameSite=Lax (not sent with cross-site posts), Secure when the
// client used HTTPS or configuration forces it, expiring with the session.
func (s *Service) SetSessionCookie(w http.ResponseWriter, r *http.Request, l Login) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(r), Value: l.Secret, Path: "/",
		Expires: l.Expires, MaxAge: max(int(l.Expires.Sub(s.opt.Now()).Seconds()), 1),
		HttpOnly: true, Secure: s.Secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// ClearSessionCookie tells the browser to drop the session cookie (after
// sign-out, or when it named no live session).
func (s *Service) ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(r), Value: "", Path: "/", Expires: time.Unix(0, 0), MaxAge: -1,
		HttpOnly: true, Secure: s.Secure(r), SameSite: http.SameSiteLaxMode,
	})
}

// sessionSecret is the session cookie's value, "" when there is none. Only
// the cookie name this request would be given is read: over HTTPS a plain
// cookie may have been planted over HTTP.
func (s *Service) sessionSecret(r *http.Request) string {
	c, err := r.Cookie(s.cookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

// CSRF token transport: a hidden form field in pages, a header for
// scripts.
const (
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"
)

// ErrCSRF is returned by CheckCSRF; answer it with 403.
var ErrCSRF error = domain.Errorf(domain.EForbidden, "missing or wrong CSRF token")

// CheckCSRF guards a state-changing request signed in by a session cookie
// (the synchronizer token pattern): it must carry the session's CSRF
// token, which a page of another site cannot read, in the CSRFField form
// field or the CSRFHeader header. Safe methods (GET, HEAD, OPTIONS, TRACE)
// and requests authenticated by a bearer token, which a browser never adds
// by itself, pass. Anonymous requests pass too: they change nothing a
// forger could want, and sign-in itself is guarded by SameSite and the
// server's cross-origin check.
func CheckCSRF(r *http.Request, p Principal) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if p.csrf == "" {
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) != 1 {
		return ErrCSRF
	}
	return nil
}

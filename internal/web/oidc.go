package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/oidc"
)

// Flow cookie names: the sign-in under way with the OpenID Connect
// provider (oidc.Client.Start), prefixed like the session cookie.
const (
	flowCookie       = "candor_oidc"
	secureFlowCookie = "__Host-candor_oidc"
)

// passwordLogin reports whether the sign-in page offers the password form.
func (s *Server) passwordLogin() bool { return s.OIDC == nil || s.OIDC.PasswordLogin() }

var errNoOIDC = domain.Errorf(domain.ENotFound, "Sign-in through an identity provider is not set up here.")

// oidcStart sends the browser to the provider, carrying the sealed flow
// in a cookie that the callback must bring back.
func (s *Server) oidcStart(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		s.pageError(w, r, errNoOIDC)
		return
	}
	next := localNext(r.URL.Query().Get("next"))
	authURL, sealed, err := s.OIDC.Start(r.Context(), next)
	if err != nil {
		s.oidcRefused(w, r, next, err)
		return
	}
	s.setFlowCookie(w, r, sealed, oidc.FlowTTL)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// oidcCallback is where the provider sends the browser back: on success a
// session like a password sign-in's, and on to where the sign-in started.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if s.OIDC == nil {
		s.pageError(w, r, errNoOIDC)
		return
	}
	var sealed string
	if c, err := r.Cookie(s.flowCookieName(r)); err == nil {
		sealed = c.Value
	}
	// The flow is spent whatever happens: a code is good once.
	s.setFlowCookie(w, r, "", -1)
	w.Header().Set("Cache-Control", "no-store")
	l, next, err := s.OIDC.Finish(r.Context(), r.URL.Query(), sealed, s.Auth.Client(r))
	if err != nil {
		s.oidcRefused(w, r, "/", err)
		return
	}
	s.Auth.SetSessionCookie(w, r, l)
	http.Redirect(w, r, s.afterSignIn(r, localNext(next), l.Principal), http.StatusSeeOther)
}

// oidcRefused shows the sign-in page with what went wrong, in the status
// of its code; a failure of Candor's own is an error page.
func (s *Server) oidcRefused(w http.ResponseWriter, r *http.Request, next string, err error) {
	var de *domain.Error
	var rl *auth.RateLimitedError
	lp := loginPage{Next: next}
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", retryAfter(rl.RetryAfter))
		lp.Problem, status = "Too many sign-in attempts. Try again in "+waitWords(rl.RetryAfter)+".", http.StatusTooManyRequests
	case errors.As(err, &de) && de.Code != domain.EInternal:
		if de.RetryAfter > 0 {
			w.Header().Set("Retry-After", retryAfter(de.RetryAfter))
		}
		lp.Problem, status = de.Message, Status(de.Code)
	}
	if status == http.StatusInternalServerError || errors.Is(err, r.Context().Err()) {
		s.pageError(w, r, err)
		return
	}
	// The whole error, with its cause (the provider's answer, a failed
	// event write), is for the operator.
	s.logger(r).Warn("OIDC sign-in refused", "err", err)
	s.renderLogin(w, r, status, lp)
}

func (s *Server) flowCookieName(r *http.Request) string {
	if s.Auth.Secure(r) {
		return secureFlowCookie
	}
	return flowCookie
}

// setFlowCookie sets the flow cookie for ttl, or deletes it (ttl < 0). It
// is SameSite=Lax: the provider's redirect back is a top-level navigation
// from another site, which Lax cookies go with.
func (s *Server) setFlowCookie(w http.ResponseWriter, r *http.Request, v string, ttl time.Duration) {
	c := &http.Cookie{Name: s.flowCookieName(r), Value: v, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: s.Auth.Secure(r), SameSite: http.SameSiteLaxMode}
	if ttl < 0 {
		c.MaxAge, c.Expires = -1, time.Unix(0, 0)
	}
	http.SetCookie(w, c)
}

// retryAfter is a Retry-After value: whole seconds, rounded up, since a
// client retrying at once would be refused again.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
)

// loginPage is the Data of the sign-in page.
type loginPage struct {
	Email string
	// Next is where a successful sign-in leads: a local path.
	Next string
	// Problem is shown above the form (role=alert).
	Problem string
	// Provider names the OpenID Connect provider of the "Sign in with"
	// button; "" when there is none.
	Provider string
	// Password offers the password form.
	Password bool
}

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	s.renderLogin(w, r, http.StatusOK, loginPage{Next: localNext(r.URL.Query().Get("next"))})
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, lp loginPage) {
	lp.Password = s.passwordLogin()
	if s.OIDC != nil {
		lp.Provider = s.OIDC.Name()
	}
	pg := s.newPage(r, "Sign in", Query{}, lp)
	pg.Bare = true
	s.render(w, r, status, "login", pg)
}

// wrongLogin is the one answer to a failed sign-in, whatever failed, so the
// page does not tell which addresses have accounts.
const wrongLogin = "Wrong e-mail or password."

// login signs a user in from the sign-in form and sends them on to next.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = domain.Errorf(domain.EInvalid, "the sign-in form could not be read: %v", err)
		}
		s.pageError(w, r, err)
		return
	}
	lp := loginPage{Email: strings.TrimSpace(r.PostForm.Get("email")), Next: localNext(r.PostForm.Get("next"))}
	if !s.passwordLogin() {
		lp.Problem = "Signing in with a password is turned off here: sign in with " + s.OIDC.Name() + "."
		s.renderLogin(w, r, http.StatusForbidden, lp)
		return
	}
	l, err := s.Auth.Login(r.Context(), lp.Email, r.PostForm.Get("password"), s.Auth.Client(r))
	var rl *auth.RateLimitedError
	switch {
	case errors.As(err, &rl):
		secs := int((rl.RetryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		lp.Problem = "Too many sign-in attempts. Try again in " + waitWords(rl.RetryAfter) + "."
		s.renderLogin(w, r, http.StatusTooManyRequests, lp)
		return
	case errors.Is(err, auth.ErrBadCredentials):
		// The reader is told only that it failed; what else went wrong
		// on the way (recording the attempt, an unreadable stored hash)
		// is for the log.
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				if !errors.Is(e, auth.ErrBadCredentials) {
					s.logger(r).Error("failed sign-in", "err", e)
				}
			}
		}
		lp.Problem = wrongLogin
		s.renderLogin(w, r, http.StatusUnauthorized, lp)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	s.Auth.SetSessionCookie(w, r, l)
	http.Redirect(w, r, s.afterSignIn(r, lp.Next, l.Principal), http.StatusSeeOther)
}

// afterSignIn is where a sign-in leads: next, a local path, unless it is
// the scorecard p may not open, for which p's first page (landing).
func (s *Server) afterSignIn(r *http.Request, next string, p auth.Principal) string {
	if next == "/" {
		next, _ = s.landing(r, p)
	}
	return next
}

// logout ends the session and returns to the sign-in page.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.Auth.Logout(r.Context(), auth.PrincipalFrom(r.Context()), s.Auth.Client(r)); err != nil {
		s.pageError(w, r, err)
		return
	}
	s.Auth.ClearSessionCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// localNext is next when it is a path on this site, else "/": a sign-in
// link must not send the reader to another site (an open redirect), nor
// back to the sign-in page.
func localNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") ||
		u.Path == "/login" || u.Path == "/logout" {
		return "/"
	}
	return next
}

// waitWords says how long to wait, in whole minutes above a minute.
func waitWords(d time.Duration) string {
	if d < time.Minute {
		secs := max(1, int((d+time.Second-1)/time.Second))
		if secs == 1 {
			return "1 second"
		}
		return fmt.Sprintf("%d seconds", secs)
	}
	mins := int((d + time.Minute - 1) / time.Minute)
	if mins == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", mins)
}

package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/store"
)

// The admin page: users (add with a generated password, change roles,
// disable, enable), API tokens (create, revoke) and the latest access events.
// Changes go through internal/auth's service, as `candor user` and
// `candor token` do, so each is checked the same way and recorded as an
// access event. Every form posts with the session's CSRF token (checked
// in the route's guard), then redirects (Post/Redirect/Get); a refused
// form is shown again with the error beside the field at fault.

// maxAdminEvents is how many access events the page lists.
const maxAdminEvents = 50

// adminPage is the Data of the admin page.
type adminPage struct {
	Users  []userRow
	Tokens []tokenRow
	Events []eventRow
	Roles  []auth.Role
	// CanUsers and CanTokens say which sections the reader may change.
	CanUsers, CanTokens bool
	// Done is the outcome of the change just made, shown once.
	Done *adminDone
	// Form is the form refused, shown again with its values and errors.
	Form adminForm
	// Unreached are the alerts the routes, channels and users in force
	// deliver to no one (alert.Service.Unreached), for whoever manages
	// users: disabling the last user of a role is how an alert route
	// goes quiet.
	Unreached []unreachedRow
}

// unreachedRow is a rule's alerts that reach no one: the sentence (five
// metrics by id, then how many more) and, past five, every metric.
type unreachedRow struct {
	Text string
	All  []string
}

// adminDone is a change's outcome. Secret is a generated password or a
// new token: shown on the page that follows the change and never again.
type adminDone struct {
	Section, Message, Secret, SecretLabel, Hint string
}

// adminForm is a form as submitted. ID names it: "user" (add a user),
// "roles:EMAIL", "disable:EMAIL", "enable:EMAIL", "token", "revoke:ID".
type adminForm struct {
	ID      string
	Values  url.Values
	Errors  map[string]string
	Problem string
}

// Is reports whether this is the form id.
func (f adminForm) Is(id string) bool { return f.ID == id }

// Value is a submitted field of the form id ("" for another form).
func (f adminForm) Value(id, field string) string {
	if f.ID != id {
		return ""
	}
	return f.Values.Get(field)
}

// Checked reports whether the form id was submitted with the role ticked;
// when it was not submitted, whether held has it.
func (f adminForm) Checked(id, role string, held []string) bool {
	if f.ID != id {
		return slices.Contains(held, role)
	}
	return slices.Contains(f.Values["role"], role)
}

// Err is the error of a field of the form id.
func (f adminForm) Err(id, field string) string {
	if f.ID != id {
		return ""
	}
	return f.Errors[field]
}

// roleBox is the role checkboxes of a form (the admin-roles template):
// ticked as submitted when FormID is the form refused, else as Held.
type roleBox struct {
	Roles                 []auth.Role
	Form                  adminForm
	FormID, ErrID, Legend string
	Held                  []string
}

// RoleBox is the role checkboxes of the form formID.
func (p adminPage) RoleBox(formID, errID, legend string, held []string) roleBox {
	return roleBox{Roles: p.Roles, Form: p.Form, FormID: formID, ErrID: errID, Legend: legend, Held: held}
}

type userRow struct {
	Email, Name, Roles, Created, Status string
	RoleIDs                             []string
	Disabled, Self                      bool
}

type tokenRow struct {
	ID                                                   int64
	Name, Roles, Token, Owner, Created, LastUsed, Status string
	Revoked                                              bool
}

type eventRow struct {
	At, What, Subject, SubjectKind, Actor, Client, Detail string
	Failed                                                bool
}

// admin serves GET /admin.
func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	var done *adminDone
	if key := r.URL.Query().Get("done"); key != "" {
		if d, ok := s.flashes.take(flashOwner(auth.PrincipalFrom(r.Context())), key, s.Now()); ok {
			done = &d
		}
	}
	s.renderAdmin(w, r, http.StatusOK, done, adminForm{})
}

// renderAdmin shows the admin page with an outcome or a refused form.
func (s *Server) renderAdmin(w http.ResponseWriter, r *http.Request, status int, done *adminDone, form adminForm) {
	ctx := r.Context()
	p := auth.PrincipalFrom(ctx)
	access := s.access(r)
	data := adminPage{Roles: s.Auth.Grants().Roles(), CanUsers: access.Can(auth.UsersAdmin), CanTokens: access.Can(auth.TokensAdmin),
		Done: done, Form: form}
	if data.CanUsers {
		users, err := s.Auth.Users(ctx)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		data.Users = s.userRows(users, p)
		if s.Alerts != nil {
			un, err := s.Alerts.Unreached(ctx)
			if err != nil {
				s.pageError(w, r, err)
				return
			}
			for _, u := range un {
				row := unreachedRow{Text: u.String()}
				if len(u.Metrics) > 5 {
					row.All = u.Metrics
				}
				data.Unreached = append(data.Unreached, row)
			}
		}
	}
	if data.CanTokens {
		tokens, err := s.Auth.Tokens(ctx)
		if err != nil {
			s.pageError(w, r, err)
			return
		}
		data.Tokens = s.tokenRows(tokens)
	}
	events, err := auth.Events(ctx, s.Store, maxAdminEvents)
	if err != nil {
		s.pageError(w, r, err)
		return
	}
	data.Events = eventRows(events)
	s.render(w, r, status, "admin", s.newPage(r, "Administration", Query{}, data))
}

const adminTime = "2 Jan 2006 15:04 MST"

func (s *Server) userRows(users []store.User, p auth.Principal) []userRow {
	out := make([]userRow, 0, len(users))
	for _, u := range users {
		row := userRow{Email: u.Email, Name: u.Name, Roles: s.roleNames(u.Roles), RoleIDs: u.Roles,
			Created: u.CreatedAt.UTC().Format(adminTime), Status: "Active",
			Disabled: u.Disabled(), Self: p.Kind == auth.KindUser && p.ID == u.ID}
		if u.Disabled() {
			row.Status = "Disabled " + u.DisabledAt.UTC().Format("2 Jan 2006")
		}
		out = append(out, row)
	}
	return out
}

func (s *Server) tokenRows(tokens []store.Token) []tokenRow {
	out := make([]tokenRow, 0, len(tokens))
	// Newest first: the token just created is at the top.
	for _, t := range slices.Backward(tokens) {
		row := tokenRow{ID: t.ID, Name: t.Name, Roles: s.roleNames(t.Roles), Token: auth.TokenDisplay(t.Lookup),
			Owner: t.OwnerEmail, Created: t.CreatedAt.UTC().Format(adminTime) + " by " + strings.TrimPrefix(t.CreatedBy, "user:"),
			LastUsed: "never", Status: "Active", Revoked: t.Revoked()}
		if !t.LastUsed.IsZero() {
			row.LastUsed = t.LastUsed.UTC().Format(adminTime)
		}
		if t.Revoked() {
			row.Status = "Revoked " + t.RevokedAt.UTC().Format("2 Jan 2006")
		}
		out = append(out, row)
	}
	return out
}

// eventWords name access events as the page shows them.
var eventWords = map[string]string{
	auth.EventSignIn: "Signed in", auth.EventSignInFailed: "Sign-in failed", auth.EventSignOut: "Signed out",
	auth.EventUserCreated: "User added", auth.EventUserDisabled: "User disabled", auth.EventUserEnabled: "User enabled", auth.EventRolesChanged: "Roles changed",
	auth.EventTokenCreated: "Token created", auth.EventTokenRevoked: "Token revoked",
}

// reasonWords say why a sign-in failed (the page is for administrators;
// the person signing in is told only that it failed), or why a token was
// revoked without a revocation of its own.
var reasonWords = map[string]string{
	auth.ReasonUnknownUser: "no such user", auth.ReasonWrongPassword: "wrong password",
	auth.ReasonDisabled: "account disabled", auth.ReasonRateLimited: "too many attempts",
	auth.ReasonOwnerDisabled: "its user was disabled",
}

func eventRows(events []auth.Event) []eventRow {
	out := make([]eventRow, 0, len(events))
	for _, e := range events {
		kind, subject, _ := strings.Cut(e.Subject, ":")
		row := eventRow{At: e.At.UTC().Format("2 Jan 2006 15:04:05 MST"), What: eventWords[e.Type], Subject: subject, SubjectKind: kind,
			Actor: actorWords(e.Actor), Client: e.Client, Failed: e.Type == auth.EventSignInFailed}
		if row.What == "" {
			row.What = e.Type
		}
		var detail []string
		if w := reasonWords[e.Reason]; w != "" {
			detail = append(detail, w)
		} else if e.Reason != "" {
			detail = append(detail, e.Reason)
		}
		switch {
		case e.Type == auth.EventRolesChanged:
			detail = append(detail, strings.Join(e.RolesBefore, ", ")+" → "+strings.Join(e.Roles, ", "))
		case len(e.Roles) > 0 && e.Type != auth.EventSignIn:
			detail = append(detail, "roles "+strings.Join(e.Roles, ", "))
		}
		if e.Token != "" {
			detail = append(detail, e.Token)
		}
		row.Detail = strings.Join(detail, " · ")
		out = append(out, row)
	}
	return out
}

// actorWords names who made a change: a user by address, a token or the
// command line by kind and name.
func actorWords(a string) string {
	kind, name, _ := strings.Cut(a, ":")
	switch kind {
	case auth.KindUser:
		return name
	case auth.KindToken:
		return "token " + name
	case "cli":
		return "command line (" + name + ")"
	}
	return a
}

// adminChange runs one admin form. change reads the posted form, makes
// the change and returns the form's id (adminForm.ID) and the outcome. A
// refusal shows the page again with the form and its error: an
// *auth.InputError beside its field, anything else as an error page. A
// change made redirects to the page showing its outcome
// (Post/Redirect/Get); the outcome is keyed to the principal, so another
// reader cannot take it and a reload shows it no more.
func (s *Server) adminChange(w http.ResponseWriter, r *http.Request, change func(form url.Values) (string, adminDone, error)) {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = domain.Errorf(domain.EInvalid, "the form could not be read: %v", err)
		}
		s.pageError(w, r, err)
		return
	}
	id, done, err := change(r.PostForm)
	var ie *auth.InputError
	switch {
	case errors.As(err, &ie):
		form := adminForm{ID: id, Values: r.PostForm, Errors: map[string]string{ie.Field: capitalise(ie.Msg) + "."},
			Problem: fieldWords[ie.Field] + ": " + ie.Msg}
		s.renderAdmin(w, r, http.StatusBadRequest, nil, form)
	case err != nil:
		s.pageError(w, r, err)
	default:
		key := s.flashes.put(flashOwner(auth.PrincipalFrom(r.Context())), done, s.Now())
		http.Redirect(w, r, "/admin?done="+url.QueryEscape(key)+"#"+done.Section, http.StatusSeeOther)
	}
}

// fieldWords name the forms' fields in an error summary.
var fieldWords = map[string]string{
	"email": "E-mail", "name": "Name", "roles": "Roles", "password": "Password", "id": "Token", "owner": "Owner",
}

func (s *Server) actor(r *http.Request) auth.Actor {
	return auth.ActorOf(auth.PrincipalFrom(r.Context()), s.Auth.Client(r))
}

// adminAddUser serves POST /admin/users: a new user with a generated
// password, shown once.
func (s *Server) adminAddUser(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		pw, err := auth.GeneratePassword()
		if err != nil {
			return "user", adminDone{}, err
		}
		u, err := s.Auth.AddUser(r.Context(), s.actor(r), auth.NewUser{Email: f.Get("email"), Name: f.Get("name"), Roles: f["role"], Password: pw})
		return "user", adminDone{Section: "users", Secret: pw, SecretLabel: "Password for " + u.Email,
			Message: fmt.Sprintf("Added %s (roles: %s).", u.Email, s.roleNames(u.Roles)), Hint: "Hand it over safely; they sign in with it at /login."}, err
	})
}

// adminSetRoles serves POST /admin/users/roles.
func (s *Server) adminSetRoles(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		email, roles := f.Get("email"), f["role"]
		id := "roles:" + email
		if err := s.keepsAdmin(r, email, roles); err != nil {
			return id, adminDone{}, err
		}
		before, after, err := s.Auth.SetRoles(r.Context(), s.actor(r), email, roles)
		msg := fmt.Sprintf("%s keeps %s: nothing changed.", email, s.roleNames(after))
		if !slices.Equal(before, after) {
			msg = fmt.Sprintf("%s now has %s (was %s). Their sessions take the new roles at their next request.", email, s.roleNames(after), s.roleNames(before))
		}
		return id, adminDone{Section: "users", Message: msg}, err
	})
}

// keepsAdmin refuses a change that would lock the reader out of this
// page: their own roles without users:admin.
func (s *Server) keepsAdmin(r *http.Request, email string, roles []string) error {
	p := auth.PrincipalFrom(r.Context())
	if !isSelf(p, email) {
		return nil
	}
	if len(roles) > 0 && !s.Auth.Grants().Access(roles).Can(auth.UsersAdmin) {
		return &auth.InputError{Field: "roles", Msg: "these roles would take away your own access to user administration; keep a role granting users:admin, or ask another administrator"}
	}
	return nil
}

// isSelf reports whether the e-mail address is the signed-in user's.
func isSelf(p auth.Principal, email string) bool {
	e, err := auth.NormalizeEmail(email)
	return err == nil && p.Kind == auth.KindUser && p.Name == e
}

// adminDisableUser serves POST /admin/users/disable.
func (s *Server) adminDisableUser(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		email := f.Get("email")
		id := "disable:" + email
		if isSelf(auth.PrincipalFrom(r.Context()), email) {
			return id, adminDone{}, &auth.InputError{Field: "email", Msg: "you cannot disable your own account; another administrator can"}
		}
		sessions, tokens, err := s.Auth.DisableUser(r.Context(), s.actor(r), email)
		return id, adminDone{Section: "users",
			Message: fmt.Sprintf("Disabled %s: %s ended, %s revoked.", email, plural.Count(int(sessions), "session"), plural.Count(int(tokens), "token"))}, err
	})
}

// adminEnableUser serves POST /admin/users/enable.
func (s *Server) adminEnableUser(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		email := f.Get("email")
		err := s.Auth.EnableUser(r.Context(), s.actor(r), email)
		return "enable:" + email, adminDone{Section: "users",
			Message: fmt.Sprintf("Enabled %s: they can sign in again. Tokens revoked when they were disabled stay revoked.", email)}, err
	})
}

// adminCreateToken serves POST /admin/tokens: the token is shown once.
func (s *Server) adminCreateToken(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		secret, t, err := s.Auth.CreateToken(r.Context(), s.actor(r), auth.NewToken{Name: strings.TrimSpace(f.Get("name")), Roles: f["role"]})
		return "token", adminDone{Section: "tokens", Secret: secret, SecretLabel: "Token " + t.Name,
			Message: fmt.Sprintf("Created token %s (roles: %s).", t.Name, s.roleNames(t.Roles)), Hint: "Send it as Authorization: Bearer TOKEN."}, err
	})
}

// adminRevokeToken serves POST /admin/tokens/revoke.
func (s *Server) adminRevokeToken(w http.ResponseWriter, r *http.Request) {
	s.adminChange(w, r, func(f url.Values) (string, adminDone, error) {
		raw := f.Get("id")
		id := "revoke:" + raw
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n <= 0 {
			return id, adminDone{}, &auth.InputError{Field: "id", Msg: fmt.Sprintf("%q is not a token id", raw)}
		}
		t, err := s.Auth.RevokeToken(r.Context(), s.actor(r), "", n)
		return id, adminDone{Section: "tokens", Message: fmt.Sprintf("Revoked token %s: it no longer signs anyone in.", t.Name)}, err
	})
}

// flashStore keeps the outcome of a change for the page the redirect
// after it leads to. In memory: behind a load balancer without sticky
// sessions, the page after the redirect may not show it.
type flashStore struct {
	mu sync.Mutex
	m  map[string]flashEntry
}

type flashEntry struct {
	owner string
	until time.Time
	done  adminDone
}

// Bounds of the flash store: an outcome waits this long for its page, and
// the store holds at most this many (the oldest go first).
const (
	flashTTL = 10 * time.Minute
	maxFlash = 1000
)

func flashOwner(p auth.Principal) string { return p.Kind + ":" + strconv.FormatInt(p.ID, 10) }

func (fs *flashStore) put(owner string, d adminDone, now time.Time) string {
	b := make([]byte, 16)
	rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.m == nil {
		fs.m = map[string]flashEntry{}
	}
	var oldest string
	for k, e := range fs.m {
		if now.After(e.until) {
			delete(fs.m, k)
		} else if oldest == "" || e.until.Before(fs.m[oldest].until) {
			oldest = k
		}
	}
	if len(fs.m) >= maxFlash {
		delete(fs.m, oldest)
	}
	fs.m[key] = flashEntry{owner: owner, until: now.Add(flashTTL), done: d}
	return key
}

// take returns the outcome under key once, to its owner only.
func (fs *flashStore) take(owner, key string, now time.Time) (adminDone, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	e, ok := fs.m[key]
	if !ok || e.owner != owner || now.After(e.until) {
		return adminDone{}, false
	}
	delete(fs.m, key)
	return e.done, true
}

package web

import (
	"context"
	"html"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
)

// post submits an admin form as the caller (with its CSRF token, when it
// has one) and returns the status, page and Location.
func (e *env) post(t *testing.T, cl caller, path string, form url.Values) (int, string, string) {
	t.Helper()
	status, body, hdr := e.call(t, "POST", path, form.Encode(), formType, cl)
	return status, string(body), hdr.Get("Location")
}

// secretShown is the secret an outcome shows once.
var secretShown = regexp.MustCompile(`<code class="adm-secret__value">([^<]+)</code>`)

func TestAdminUsers(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	adm := e.sessionAs(t, "admin")
	// A failed sign-in, for the access events.
	if _, err := e.srv.Auth.Login(ctx, "nobody@example.com", "wrong password here", auth.Client{Addr: netip.MustParseAddr("192.0.2.99")}); err == nil {
		t.Fatal("a sign-in with a wrong password succeeded")
	}

	page := e.page(t, adm, "/admin", 200)
	mustContain(t, "the admin page", page, []string{"Users", "API tokens", "Access events", adm.name, "Add a user", "Create a token",
		"Sign-in failed", "no such user", "192.0.2.99", "User added", "command line (test)"})
	// What each role may do is on the page, and each role's checkbox names
	// it (a title alone reaches no keyboard or screen reader).
	mustContain(t, "the admin page's roles", page, []string{"What each role may do", `<dd id="role-desc-executive">`,
		`value="executive" aria-describedby="role-desc-executive"`})

	users := func() map[string][]string {
		us, err := e.srv.Auth.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, u := range us {
			if u.Disabled() {
				out[u.Email] = append(u.Roles, "(disabled)")
			} else {
				out[u.Email] = u.Roles
			}
		}
		return out
	}
	before := len(users())

	// Without the form's CSRF token, nothing is done.
	noCSRF := adm
	noCSRF.csrf = ""
	if status, _, _ := e.post(t, noCSRF, "/admin/users", url.Values{"email": {"bob@example.com"}, "role": {"support"}}); status != 403 {
		t.Errorf("adding a user without the CSRF token: %d, want 403", status)
	}
	// Mistakes are shown in the form, beside the field, with what was
	// typed; nothing is created.
	for _, c := range []struct {
		form  url.Values
		field string
		says  string
	}{
		{url.Values{"email": {"bob"}, "name": {"Bob"}, "role": {"support"}}, "new-email-err", "Not an e-mail address"},
		{url.Values{"email": {"bob@example.com"}, "name": {"Bob"}}, "new-roles-err", "At least one role is required"},
		{url.Values{"email": {"bob@example.com"}, "role": {"cfo"}}, "new-roles-err", `Unknown role &#34;cfo&#34;`},
		{url.Values{"email": {adm.name + "-0@example.com"}, "role": {"support"}}, "new-email-err", "exists"},
	} {
		status, body, _ := e.post(t, adm, "/admin/users", c.form)
		if status != 400 {
			t.Errorf("%v: %d, want 400", c.form, status)
		}
		mustContain(t, "the refused form", body, []string{`id="` + c.field + `"`, c.says, "Nothing was changed.", `aria-invalid="true"`,
			`value="` + html.EscapeString(c.form.Get("email")) + `"`})
		if c.form.Get("name") != "" && !strings.Contains(body, `value="Bob"`) {
			t.Errorf("%v: the name typed is lost", c.form)
		}
	}
	if n := len(users()); n != before {
		t.Fatalf("refused forms created %d users", n-before)
	}

	// Added with a generated password, shown once, after a redirect.
	status, _, loc := e.post(t, adm, "/admin/users", url.Values{"email": {"Bob@Example.com"}, "name": {"Bob"}, "role": {"support", "vp_cs"}})
	if status != 303 || !strings.HasPrefix(loc, "/admin?done=") || !strings.HasSuffix(loc, "#users") {
		t.Fatalf("adding a user: %d → %q, want 303 to /admin?done=…#users", status, loc)
	}
	if got := users()["bob@example.com"]; !slices.Equal(got, []string{"support", "vp_cs"}) {
		t.Fatalf("bob has roles %v", got)
	}
	shown := e.page(t, adm, strings.TrimSuffix(loc, "#users"), 200)
	m := secretShown.FindStringSubmatch(shown)
	if m == nil {
		t.Fatalf("the password is not shown:\n%s", clip([]byte(shown)))
	}
	mustContain(t, "the outcome", shown, []string{"Added bob@example.com (roles: Support, VP Customer Success).", "Password for bob@example.com"})
	if _, err := e.srv.Auth.Login(ctx, "bob@example.com", html.UnescapeString(m[1]), auth.Client{}); err != nil {
		t.Errorf("the password shown does not sign bob in: %v", err)
	}
	// Once: not on a reload, and never to another administrator.
	if again := e.page(t, adm, strings.TrimSuffix(loc, "#users"), 200); strings.Contains(again, m[1]) {
		t.Error("the password is shown a second time")
	}
	_, _, loc2 := e.post(t, adm, "/admin/users", url.Values{"email": {"carol@example.com"}, "role": {"support"}})
	other := e.sessionAs(t, "admin")
	if p := e.page(t, other, strings.TrimSuffix(loc2, "#users"), 200); secretShown.MatchString(p) {
		t.Error("another administrator is shown carol's password")
	}

	// Roles: changed for another user; an administrator cannot take
	// their own administration away.
	if status, _, _ := e.post(t, adm, "/admin/users/roles", url.Values{"email": {"bob@example.com"}, "role": {"engineering"}}); status != 303 {
		t.Errorf("changing bob's roles: %d", status)
	}
	if got := users()["bob@example.com"]; !slices.Equal(got, []string{"engineering"}) {
		t.Errorf("bob has roles %v, want engineering", got)
	}
	status, body, _ := e.post(t, adm, "/admin/users/roles", url.Values{"email": {adm.name + "-0@example.com"}, "role": {"executive"}})
	mustContain(t, "taking one's own administration", body, []string{"users:admin", "<details class=\"adm-manage\" open>"})
	if status != 400 || !slices.Equal(users()[adm.name+"-0@example.com"], []string{"admin"}) {
		t.Errorf("an administrator took their own administration away: %d, roles %v", status, users()[adm.name+"-0@example.com"])
	}
	if status, body, _ := e.post(t, adm, "/admin/users/roles", url.Values{"email": {"bob@example.com"}}); status != 400 || !strings.Contains(body, "At least one role is required") {
		t.Errorf("no roles: %d", status)
	}

	// Disabled: the session bob signed in with above ends; one cannot
	// disable oneself.
	if status, _, loc := e.post(t, adm, "/admin/users/disable", url.Values{"email": {"bob@example.com"}}); status != 303 {
		t.Errorf("disabling bob: %d", status)
	} else if p := e.page(t, adm, strings.TrimSuffix(loc, "#users"), 200); !strings.Contains(p, "Disabled bob@example.com: 1 session ended, 0 tokens revoked.") {
		t.Error("the outcome of disabling bob is not shown")
	}
	if got := users()["bob@example.com"]; !slices.Contains(got, "(disabled)") {
		t.Error("bob is not disabled")
	}
	status, body, _ = e.post(t, adm, "/admin/users/disable", url.Values{"email": {adm.name + "-0@example.com"}})
	if status != 400 || !strings.Contains(body, "you cannot disable your own account") {
		t.Errorf("disabling oneself: %d", status)
	}
	status, body, _ = e.post(t, adm, "/admin/users/disable", url.Values{"email": {"bob@example.com"}})
	if status != 400 || !strings.Contains(body, "disabled already") {
		t.Errorf("disabling bob twice: %d", status)
	}

	// Enabled again from the page: a disabled user's row offers it (with
	// the CSRF token), and bob signs in again; an active user cannot be
	// enabled.
	page = e.page(t, adm, "/admin", 200)
	mustContain(t, "the disabled user's row", page, []string{`action="/admin/users/enable#users"`, `Enable<span class="visually-hidden"> bob@example.com</span>`})
	if status, _, _ := e.post(t, noCSRF, "/admin/users/enable", url.Values{"email": {"bob@example.com"}}); status != 403 || !slices.Contains(users()["bob@example.com"], "(disabled)") {
		t.Errorf("enabling without the CSRF token: %d, want 403 and bob still disabled", status)
	}
	if status, _, loc := e.post(t, adm, "/admin/users/enable", url.Values{"email": {"bob@example.com"}}); status != 303 {
		t.Errorf("enabling bob: %d", status)
	} else if p := e.page(t, adm, strings.TrimSuffix(loc, "#users"), 200); !strings.Contains(p, "Enabled bob@example.com: they can sign in again.") {
		t.Error("the outcome of enabling bob is not shown")
	}
	if got := users()["bob@example.com"]; slices.Contains(got, "(disabled)") {
		t.Error("bob is still disabled")
	}
	if _, err := e.srv.Auth.Login(ctx, "bob@example.com", html.UnescapeString(m[1]), auth.Client{}); err != nil {
		t.Errorf("bob cannot sign in once enabled: %v", err)
	}
	status, body, _ = e.post(t, adm, "/admin/users/enable", url.Values{"email": {"bob@example.com"}})
	if status != 400 || !strings.Contains(body, "bob@example.com is not disabled") {
		t.Errorf("enabling an active user: %d", status)
	}

	// Every change is an access event on the page.
	mustContain(t, "the access events", e.page(t, adm, "/admin", 200), []string{"Roles changed", "support, vp_cs → engineering", "User disabled", "User enabled"})
}

func TestAdminTokens(t *testing.T) {
	e := newEnv(t, 0)
	adm := e.sessionAs(t, "admin")
	for _, c := range []struct {
		form url.Values
		says string
	}{
		{url.Values{"name": {"bad name!"}, "role": {"ingest"}}, `id="new-token-err"`},
		{url.Values{"name": {"ci"}}, `id="new-token-roles-err"`},
		{url.Values{"name": {"test"}, "role": {"ingest"}}, "an active token is named test already"},
	} {
		status, body, _ := e.post(t, adm, "/admin/tokens", c.form)
		if status != 400 || !strings.Contains(body, c.says) || !strings.Contains(body, "Nothing was changed.") {
			t.Errorf("%v: %d, want 400 saying %q", c.form, status, c.says)
		}
	}
	status, _, loc := e.post(t, adm, "/admin/tokens", url.Values{"name": {"ci-deploys"}, "role": {"executive"}})
	if status != 303 || !strings.HasSuffix(loc, "#tokens") {
		t.Fatalf("creating a token: %d → %q", status, loc)
	}
	p := e.page(t, adm, strings.TrimSuffix(loc, "#tokens"), 200)
	m := secretShown.FindStringSubmatch(p)
	if m == nil {
		t.Fatal("the token is not shown")
	}
	token := html.UnescapeString(m[1])
	call := func() int {
		status, _, _ := e.do(t, "GET", "/api/v1/scorecard", "", map[string]string{"Authorization": "Bearer " + token})
		return status
	}
	if s := call(); s != 200 {
		t.Fatalf("the token shown: %d", s)
	}
	tokens, _ := e.srv.Auth.Tokens(context.Background())
	var id string
	for _, tk := range tokens {
		if tk.Name == "ci-deploys" {
			id = strconv.FormatInt(tk.ID, 10)
		}
	}
	for _, bad := range []string{"", "x", "-1", "999999"} {
		if status, body, _ := e.post(t, adm, "/admin/tokens/revoke", url.Values{"id": {bad}}); status != 400 || !strings.Contains(body, "Nothing was changed.") {
			t.Errorf("revoking token %q: %d", bad, status)
		}
	}
	noCSRF := adm
	noCSRF.csrf = ""
	if status, _, _ := e.post(t, noCSRF, "/admin/tokens/revoke", url.Values{"id": {id}}); status != 403 || call() != 200 {
		t.Errorf("revoking without the CSRF token: %d", status)
	}
	if status, _, _ := e.post(t, adm, "/admin/tokens/revoke", url.Values{"id": {id}}); status != 303 {
		t.Errorf("revoking: %d", status)
	}
	if s := call(); s != 401 {
		t.Errorf("the revoked token: %d, want 401", s)
	}
	mustContain(t, "the tokens", e.page(t, adm, "/admin", 200), []string{"Revoked " + time.Now().UTC().Format("2 Jan 2006"), "Token revoked", "Token created"})
}

// The outcome store gives an outcome once, to its owner, until it expires.
func TestFlashStore(t *testing.T) {
	var fs flashStore
	now := time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC)
	k := fs.put("user:1", adminDone{Message: "m"}, now)
	if _, ok := fs.take("user:2", k, now); ok {
		t.Error("another principal took the outcome")
	}
	if d, ok := fs.take("user:1", k, now); !ok || d.Message != "m" {
		t.Error("the owner did not get the outcome")
	}
	if _, ok := fs.take("user:1", k, now); ok {
		t.Error("the outcome was given twice")
	}
	k = fs.put("user:1", adminDone{Message: "late"}, now)
	if _, ok := fs.take("user:1", k, now.Add(flashTTL+time.Second)); ok {
		t.Error("an expired outcome was given")
	}
	for i := 0; i < maxFlash+10; i++ {
		fs.put("user:1", adminDone{}, now)
	}
	if len(fs.m) > maxFlash {
		t.Errorf("the store holds %d outcomes, at most %d", len(fs.m), maxFlash)
	}
}

// A token revoked by disabling its user is listed as a revocation, saying
// why, beside the user's event.
func TestDisabledUsersTokensAreListedAsRevoked(t *testing.T) {
	e := newEnv(t, 0)
	adm := e.sessionAs(t, "admin")
	addUser(t, e.srv.Auth, "ann@example.com", "engineering")
	if _, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "ann-laptop", Roles: []string{"engineering"}, Owner: "ann@example.com"}); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := e.post(t, adm, "/admin/users/disable", url.Values{"email": {"ann@example.com"}}); status != 303 {
		t.Fatalf("disabling ann: %d", status)
	}
	mustContain(t, "the access events", e.page(t, adm, "/admin", 200), []string{"User disabled", "Token revoked", "ann-laptop", "its user was disabled"})
}

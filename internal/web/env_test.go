package web

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// openStore opens an embedded store in a temporary directory.
func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// newAuth is an access-control service over st with cheap password hashing
// and sign-in limits no test reaches by accident.
func newAuth(t testing.TB, st store.Store, cat *catalog.Catalog) *auth.Service {
	t.Helper()
	return newAuthWith(t, st, cat, nil)
}

// newAuthWith is newAuth with the organisation's role overrides.
func newAuthWith(t testing.TB, st store.Store, cat *catalog.Catalog, overrides map[string]auth.RoleOverride) *auth.Service {
	t.Helper()
	st2, ok := st.(auth.Store)
	if !ok {
		t.Fatalf("%T is no auth store", st)
	}
	g, err := auth.NewGrants(cat, overrides)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.NewService(st2, g, auth.Options{
		Params:       auth.Params{Memory: 64, Time: 1, Threads: 1},
		AccountLimit: auth.Rate{Attempts: 1000, Per: time.Minute},
		AddressLimit: auth.Rate{Attempts: 1000, Per: time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

var admin = auth.CLIActor("test")

// newToken creates an API token with the roles and returns its secret.
func newToken(t testing.TB, svc *auth.Service, name string, roles ...string) string {
	t.Helper()
	secret, _, err := svc.CreateToken(context.Background(), admin, auth.NewToken{Name: name, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// testPassword is every test user's password.
const testPassword = "correct horse battery staple"

// addUser adds a user with the roles.
func addUser(t testing.TB, svc *auth.Service, email string, roles ...string) {
	t.Helper()
	if _, err := svc.AddUser(context.Background(), admin, auth.NewUser{Email: email, Roles: roles, Password: testPassword}); err != nil {
		t.Fatal(err)
	}
}

// signIn opens a session for the user, as the sign-in form would.
func signIn(t testing.TB, svc *auth.Service, email string) auth.Login {
	t.Helper()
	l, err := svc.Login(context.Background(), email, testPassword, auth.Client{Addr: netip.MustParseAddr("192.0.2.10")})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/ingest"
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
func newAuthWith(t testing.TB, st store.Store, cat *catalog.Catalog, roles map[string]auth.RoleOverride) *auth.Service {
	t.Helper()
	st2, ok := st.(auth.Store)
	if !ok {
		t.Fatalf("%T is no auth store", st)
	}
	g, err := auth.NewGrants(cat, roles)
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

// importGenerated imports a generated organisation into st.
func importGenerated(t testing.TB, st store.Store, opt generate.Options) {
	t.Helper()
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		_, err := generate.Write(bw, opt)
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err)
	}()
	if _, err := ingest.Import(context.Background(), st, []ingest.Source{{Name: "generated.ndjson", Reader: pr}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// seedProposals are open proposals by someone no test signs in as, one per
// route that decides one (routeCases): the route × role test approves or
// rejects them as every role. Their ids follow the initial definitions'
// document (1).
var seedProposals = []struct {
	metric, owner string
	id            int64
}{
	{"mttr", "Reliability Lead", 2},            // POST /api/v1/proposals/{id}/approve
	{"time_to_detect", "Reliability Lead", 3},  // POST /api/v1/proposals/{id}/reject
	{"error_rate", "Reliability Lead", 4},      // POST /proposals/{id}/approve
	{"incidents_p0_p1", "Reliability Lead", 5}, // POST /proposals/{id}/reject
}

// newGovernance is the definition registry over st with the default
// configuration's initial set and the seed proposals.
func newGovernance(t testing.TB, st store.Store, cat *catalog.Catalog, eng *engine.Engine) *governance.Registry {
	t.Helper()
	cfg := config.Default()
	settings, err := cfg.Governed()
	if err != nil {
		t.Fatal(err)
	}
	g := &governance.Registry{Docs: st, Catalog: cat, Engine: eng, Config: cfg}
	if err := g.Init(context.Background(), governance.Initial{Settings: settings, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range seedProposals {
		v, err := g.Propose(context.Background(), governance.Input{Metric: p.metric, Changes: json.RawMessage(`{"owner": "` + p.owner + `"}`), Reason: "seed"}, "user:seed@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if v.ID != p.id {
			t.Fatalf("seed proposal for %s has id %d, want %d", p.metric, v.ID, p.id)
		}
	}
	seedGateDecisions(t, st)
	return g
}

// seedGateDecisions are escalated gate decisions asked for by a CI token
// no test uses, one per route that settles one (routeCases): ids 6 to 9,
// after the seed proposals. Their rule names the default approvers
// (executive).
func seedGateDecisions(t testing.TB, st store.Store) {
	t.Helper()
	for i := range 4 {
		r := gate.Result{Decision: gate.Escalate, Release: gate.Release{Service: "billing", Environment: "production", Version: fmt.Sprintf("0.9.%d", i), Production: true},
			Rules: []gate.Verdict{{Rule: "coverage", Verdict: "escalate", Reason: "no coverage given", Approvers: gate.DefaultApprovers}},
			At:    time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC), Time: time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)}
		got, err := gate.Record(context.Background(), st, r, "token:seed-ci", "token:seed-ci")
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(6 + i); got.ID != want {
			t.Fatalf("seed gate decision %d has id %d, want %d", i, got.ID, want)
		}
	}
}

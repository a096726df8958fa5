package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/candor/candor/internal/auth"
	"github.com/candor/candor/internal/store"
)

// A route with owner: true alone over an in-app channel resolves to
// nobody by role and so was never warned of, yet the catalog's owners are
// titles ("VP Engineering"), not users: every alert it carries reaches no
// one. Unreached names the rule and metrics; Nowhere marks such an alert.
func TestUnreachedAlerts(t *testing.T) {
	ctx := context.Background()
	cat := defaultCatalog(t)
	g, err := auth.NewGrants(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	setup := func(routes []Route) *Service {
		set, err := Setup(Config{NoDefaultRoutes: true, Channels: []ChannelConfig{{Name: "inbox", Type: "inapp"}}, Routes: routes},
			cat, func(string) string { return "" }, "candor.yaml", nil)
		if err != nil {
			t.Fatal(err)
		}
		rt := set.Router(cat, g)
		users := []store.User{{Email: "ceo@example.com", Roles: []string{"ceo"}}, {Email: "eng@example.com", Roles: []string{"engineering"}}}
		return &Service{Catalog: cat, Rules: set.Rules, Channels: set.Channels, Router: &rt,
			Users: func(context.Context) ([]store.User, error) { return users, nil }}
	}
	svc := setup([]Route{{Name: "owners", Owner: true}})
	if got := svc.Router.Unreached(nil); len(got) != 0 {
		t.Fatalf("the route-by-role check now sees owner-only routes (%q): this test's premise is gone", got)
	}
	un, err := svc.Unreached(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byRule := map[string]Unreach{}
	for _, u := range un {
		for _, r := range u.Rules {
			byRule[r] = u
		}
	}
	red, ok := byRule["metric_red"]
	if !ok {
		t.Fatalf("no unreached alerts of metric_red in %+v", un)
	}
	for _, m := range []string{"arr", "lead_time", "mttr"} {
		if !strings.Contains(strings.Join(red.Metrics, " "), m) {
			t.Errorf("metric_red's unreached metrics %v lack %s", red.Metrics, m)
		}
	}
	if s := red.String(); !strings.HasPrefix(s, "alerts of rules ") || !strings.Contains(s, "metric_red") || !strings.Contains(s, "more reach no one: withheld from channel inbox (no recipient may receive it); the metrics' owners, titles rather than Candor users' addresses: route owners sends to the alert's owner") {
		t.Errorf("sentence: %s", s)
	}

	list := []Alert{
		{Key: "k1", Observation: Observation{Rule: "metric_red", Metric: "lead_time", Owner: "VP Engineering", Severity: "critical"}, State: Firing},
		{Key: "k2", Observation: Observation{Rule: "metric_red", Metric: "mttr", Owner: "VP Engineering", Severity: "critical"}, State: Resolved},
	}
	nowhere, err := svc.Nowhere(ctx, list)
	if err != nil {
		t.Fatal(err)
	}
	if got := nowhere["k1"]; got != "withheld from channel inbox (no recipient may receive it); VP Engineering (its owner, not a Candor user's address: route owners sends to the alert's owner)" {
		t.Errorf("firing alert reaching no one: %q", got)
	}
	if _, ok := nowhere["k2"]; ok {
		t.Error("a resolved alert is marked as reaching no one")
	}

	// Engineering's alerts reach its user; the revenue ones engineering
	// may not see still reach no one, and they are named.
	svc = setup([]Route{{Name: "owners", Owner: true}, {Name: "eng", Roles: []string{"engineering"}}})
	if un, err = svc.Unreached(ctx); err != nil {
		t.Fatal(err)
	}
	var lost []string
	for _, u := range un {
		lost = append(lost, u.String())
	}
	got := strings.Join(lost, "\n")
	if !strings.Contains(got, "arr") || strings.Contains(got, "lead_time") || !strings.Contains(got, "eng@example.com (roles engineering lack revenue:read)") {
		t.Errorf("with engineering routed:\n%s", got)
	}
	if nowhere, err = svc.Nowhere(ctx, list); err != nil || len(nowhere) != 0 {
		t.Errorf("lead time's alert reaches engineering, yet %v (%v)", nowhere, err)
	}

	// Every alert reaches someone: nothing to say.
	svc = setup([]Route{{Name: "all", Roles: []string{"ceo"}}})
	if un, err = svc.Unreached(ctx); err != nil || len(un) != 0 {
		t.Errorf("the CEO sees every metric, yet unreached: %+v (%v)", un, err)
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/candor/candor/internal/catalog"
)

func defaultCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func grants(t *testing.T, overrides map[string]RoleOverride) *Grants {
	t.Helper()
	g, err := NewGrants(defaultCatalog(t), overrides)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func as(roles ...string) Principal {
	return Principal{Kind: KindUser, Name: "x@example.com", Roles: roles}
}

// visible lists the ids of the metrics the roles may see.
func visible(g *Grants, cat *catalog.Catalog, roles ...string) []string {
	a := g.Access(roles)
	var out []string
	for i := range cat.Metrics {
		if a.CanSeeMetric(&cat.Metrics[i]) {
			out = append(out, cat.Metrics[i].ID)
		}
	}
	return out
}

func TestBuiltinRoles(t *testing.T) {
	g := grants(t, nil)
	want := []string{"admin", "executive", "auditor", "ingest", "ceo", "cro", "vp_sales", "vp_marketing", "vp_cs", "engineering", "support"}
	if got := g.RoleIDs(); !slices.Equal(got, want) {
		t.Fatalf("roles = %v, want %v", got, want)
	}
	// Every role view of the catalog has a role that opens it.
	for _, v := range defaultCatalog(t).Views {
		if !g.CanSeeView(as(v.ID), v.ID) {
			t.Errorf("role %s cannot open its own view", v.ID)
		}
	}
	for _, tc := range []struct {
		role string
		can  []Permission
		not  []Permission
	}{
		{"admin", []Permission{UsersAdmin, TokensAdmin, SettingsAdmin, SourcesRead}, []Permission{MetricRead, ScorecardRead, DefinitionsApprove, DefinitionsPropose, RevenueRead, RecordsWrite, "view:ceo"}},
		{"executive", []Permission{ScorecardRead, MetricRead, RevenueRead, DefinitionsApprove, LedgerRead, EvidenceRead, "view:cro", "view:support"}, []Permission{UsersAdmin, TokensAdmin, RecordsWrite}},
		{"auditor", []Permission{ScorecardRead, MetricRead, RevenueRead, RecordsRead, EvidenceRead, LedgerRead, "view:engineering"}, []Permission{RecordsWrite, ReconcileWrite, DefinitionsApprove, DefinitionsPropose, UsersAdmin}},
		{"ingest", []Permission{RecordsWrite, GatesCheck}, []Permission{MetricRead, ScorecardRead, RecordsRead, RevenueRead, "view:ceo"}},
		{"engineering", []Permission{ScorecardRead, MetricRead, "view:engineering", SourcesRead}, []Permission{RevenueRead, "view:ceo", RecordsWrite}},
		{"support", []Permission{"view:support"}, []Permission{RevenueRead, "view:engineering"}},
		{"vp_marketing", []Permission{"view:vp_marketing", RevenueRead}, []Permission{"view:vp_sales"}},
	} {
		for _, p := range tc.can {
			if !g.Can(as(tc.role), p) {
				t.Errorf("%s cannot %s", tc.role, p)
			}
		}
		for _, p := range tc.not {
			if g.Can(as(tc.role), p) {
				t.Errorf("%s can %s", tc.role, p)
			}
		}
	}
}

func TestGrantsUnion(t *testing.T) {
	g := grants(t, nil)
	p := as("ingest", "support")
	for _, perm := range []Permission{RecordsWrite, GatesCheck, MetricRead, "view:support"} {
		if !g.Can(p, perm) {
			t.Errorf("ingest+support cannot %s", perm)
		}
	}
	if g.Can(p, RevenueRead) || g.Can(p, "view:engineering") {
		t.Error("the union grants what neither role does")
	}
	// Revenue from one role, the pillar from another: together they see it.
	cat := defaultCatalog(t)
	arr, _ := cat.Metric("arr")
	if g.CanSeeMetric(as("engineering"), arr) || g.CanSeeMetric(as("ingest"), arr) {
		t.Fatal("arr visible to engineering or ingest")
	}
	if !g.CanSeeMetric(as("vp_sales", "engineering"), arr) {
		t.Error("vp_sales+engineering cannot see arr")
	}
	// Unknown stored roles grant nothing; the anonymous principal nothing.
	if g.Can(as("finance"), MetricRead) || g.Can(Principal{}, ScorecardRead) || len(visible(g, cat)) != 0 {
		t.Error("an unknown role or no role grants something")
	}
}

func TestRevenueVisibility(t *testing.T) {
	cat := defaultCatalog(t)
	g := grants(t, nil)
	revenue := func(ids []string) []string {
		var out []string
		for _, id := range ids {
			if m, _ := cat.Metric(id); m.RevenueSensitive() {
				out = append(out, id)
			}
		}
		return out
	}
	for _, role := range []string{"engineering", "support", "admin", "ingest"} {
		if r := revenue(visible(g, cat, role)); len(r) != 0 {
			t.Errorf("%s sees revenue metrics %v", role, r)
		}
	}
	if got := visible(g, cat, "engineering"); !slices.Contains(got, "change_failure_rate") || !slices.Contains(got, "infrastructure_cost") || slices.Contains(got, "csat") {
		t.Errorf("engineering sees %v", got)
	}
	all := visible(g, cat, "auditor")
	if len(all) != len(cat.Metrics) {
		t.Errorf("auditor sees %d of %d metrics", len(all), len(cat.Metrics))
	}
	// Granting every pillar does not grant revenue: that takes revenue:read.
	wide := grants(t, map[string]RoleOverride{"support": {Pillars: &[]string{"*"}}})
	if r := revenue(visible(wide, cat, "support")); len(r) != 0 {
		t.Errorf("support with every pillar sees revenue metrics %v", r)
	}
	if !wide.Access([]string{"support"}).CanSeePillar("delivery") || wide.Access([]string{"support"}).CanSeePillar("growth") {
		t.Error("CanSeePillar does not follow the visible metrics")
	}
	// A view opens its metrics, outside the role's pillars, but not its
	// revenue ones without revenue:read.
	ceoView := grants(t, map[string]RoleOverride{"support": {Permissions: &[]Permission{MetricRead, "view:ceo"}, Pillars: &[]string{}}})
	got := visible(ceoView, cat, "support")
	if !slices.Contains(got, "availability") || !slices.Contains(got, "budget_variance") || slices.Contains(got, "arr") || slices.Contains(got, "csat") == false {
		t.Errorf("support with the CEO view sees %v", got)
	}
	if slices.Contains(got, "sla_adherence") {
		t.Error("the emptied pillars still grant sla_adherence")
	}
	// Records: revenue kinds need revenue:read as well as records:read.
	aud, eng := g.Access([]string{"auditor"}), grants(t, map[string]RoleOverride{"engineering": {Permissions: &[]Permission{RecordsRead}}}).Access([]string{"engineering"})
	if !aud.CanReadKind("subscription") || !aud.CanReadKind("deployment") {
		t.Error("auditor cannot read records")
	}
	if eng.CanReadKind("subscription") || eng.CanReadKind("opportunity") || !eng.CanReadKind("deployment") {
		t.Error("records:read without revenue:read: wrong kinds")
	}
	if g.Access([]string{"engineering"}).CanReadKind("deployment") {
		t.Error("no records:read, yet a kind is readable")
	}
}

func TestRequire(t *testing.T) {
	g := grants(t, nil)
	if err := g.Require(as("ingest"), RecordsWrite); err != nil {
		t.Errorf("granted: %v", err)
	}
	if err := g.Require(Principal{}, RecordsWrite); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("anonymous: %v, want ErrUnauthenticated", err)
	}
	if err := g.Require(as("support"), RecordsWrite); !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "records:write") {
		t.Errorf("not granted: %v, want ErrForbidden naming the permission", err)
	}
}

func TestCheckRoles(t *testing.T) {
	g := grants(t, nil)
	got, err := g.CheckRoles([]string{"cro", "admin", "cro"})
	if err != nil || !slices.Equal(got, []string{"cro", "admin"}) {
		t.Errorf("CheckRoles = %v, %v", got, err)
	}
	_, err = g.CheckRoles([]string{"admin", "Admin"})
	var ue *UnknownRoleError
	if !errors.As(err, &ue) || ue.Role != "Admin" || !strings.Contains(err.Error(), "known: admin, executive, auditor, ingest, ceo") {
		t.Errorf("unknown role: %v", err)
	}
	if _, err := g.CheckRoles(nil); err == nil {
		t.Error("no roles accepted")
	}
}

func TestRoleOverridesRefused(t *testing.T) {
	cat := defaultCatalog(t)
	for name, tc := range map[string]struct {
		o    map[string]RoleOverride
		want []string
	}{
		"unknown role":       {map[string]RoleOverride{"finance": {}}, []string{`roles.finance: unknown role; known: admin, executive`}},
		"unknown permission": {map[string]RoleOverride{"support": {Permissions: &[]Permission{MetricRead, "metrics:read"}}}, []string{`roles.support.permissions[1]: unknown permission "metrics:read"; known: scorecard:read`}},
		"unknown view":       {map[string]RoleOverride{"support": {Permissions: &[]Permission{"view:cfo"}}}, []string{`roles.support.permissions[0]: unknown view "cfo"; views: ceo, cro`}},
		"unknown pillar":     {map[string]RoleOverride{"cro": {Pillars: &[]string{"growth", "sales"}}}, []string{`roles.cro.pillars[1]: unknown pillar "sales"; pillars: reliability`}},
		"unknown metric":     {map[string]RoleOverride{"cro": {Metrics: &[]string{"bookings"}}}, []string{`roles.cro.metrics[0]: unknown metric "bookings"`}},
		"all reported":       {map[string]RoleOverride{"cro": {Metrics: &[]string{"bookings"}}, "x": {}}, []string{`roles.cro.metrics[0]`, `roles.x: unknown role`}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := NewGrants(cat, tc.o)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	// An override replaces only the fields it gives.
	g := grants(t, map[string]RoleOverride{"support": {Pillars: &[]string{"customer", "delivery"}}})
	if !g.Can(as("support"), "view:support") {
		t.Error("overriding pillars lost the permissions")
	}
	cfr, _ := cat.Metric("change_failure_rate")
	if !g.CanSeeMetric(as("support"), cfr) {
		t.Error("support does not see delivery metrics after the override")
	}
}

// docs/access.md is written by hand: it must still name every role and
// permission there is.
func TestAccessDocsComplete(t *testing.T) {
	b, err := os.ReadFile("../../docs/access.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, p := range Permissions {
		if !strings.Contains(doc, "`"+string(p.Name)+"`") {
			t.Errorf("docs/access.md does not mention permission %s", p.Name)
		}
	}
	for _, r := range grants(t, nil).RoleIDs() {
		if !strings.Contains(doc, "| `"+r+"` |") {
			t.Errorf("docs/access.md has no row for role %s", r)
		}
	}
}

func TestPrincipalInContext(t *testing.T) {
	if p := PrincipalFrom(context.Background()); p.Authenticated() {
		t.Errorf("empty context: %+v", p)
	}
	p := as("cro")
	if got := PrincipalFrom(WithPrincipal(context.Background(), p)); got.Name != p.Name || !slices.Equal(got.Roles, p.Roles) {
		t.Errorf("PrincipalFrom = %+v", got)
	}
}

// The roles are parsed once; each caller gets a copy it may change without
// changing what the next one gets.
func TestBuiltinRolesAreCopies(t *testing.T) {
	a, err := BuiltinRoles()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(a)
	a[0].ID = "changed"
	a[0].Permissions[0] = "changed"
	a[0].Pillars = append(a[0].Pillars[:0], "changed")
	b, err := BuiltinRoles()
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(b); got != want {
		t.Errorf("a caller's change reached the next caller:\n%s\nwant\n%s", got, want)
	}
}

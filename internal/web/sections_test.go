package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/candor/candor/internal/auth"
)

// TestSectionProposalAPI: a governed section (the alert rules) is proposed
// through the API with its value as JSON; a bad rule is 400 naming the
// value; the proposer's approval is 403 naming the rule; another
// executive's puts it in force, and the section's history lists it.
func TestSectionProposalAPI(t *testing.T) {
	e := newEnv(t, 0)
	addUser(t, e.srv.Auth, "ann@example.com", "executive")
	addUser(t, e.srv.Auth, "bob@example.com", "executive")
	tokenFor := func(email string) string {
		secret, _, err := e.srv.Auth.CreateToken(context.Background(), admin, auth.NewToken{Name: "s-" + strings.Split(email, "@")[0], Roles: []string{"executive"}, Owner: email})
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + secret
	}
	ann, bob := tokenFor("ann@example.com"), tokenFor("bob@example.com")
	post := func(path, body, who string) (int, map[string]any) {
		t.Helper()
		status, b, _ := e.do(t, "POST", path, body, map[string]string{"Authorization": who})
		var doc map[string]any
		json.Unmarshal(b, &doc)
		return status, doc
	}
	status, doc := post("/api/v1/proposals", `{"section":"alerts.rules","value":[{"name":"x","kind":"status","metric":"no_such_metric"}],"reason":"r"}`, ann)
	if status != 400 || doc["param"] != "value" || !strings.Contains(doc["error"].(string), "no_such_metric") {
		t.Errorf("a bad rule: %d %v", status, doc)
	}
	status, p := post("/api/v1/proposals", `{"section":"alerts.rules","value":[{"name":"mttr_red","kind":"status","metric":"mttr","statuses":["red"]}],"reason":"recovery is watched"}`, ann)
	if status != 201 || p["section"] != "alerts.rules" || p["status"] != "open" {
		t.Fatalf("POST a section: %d %v", status, p)
	}
	id := jsonString(p["id"])
	status, doc = post("/api/v1/proposals/"+id+"/approve", `{"reason":"mine"}`, ann)
	if status != 403 || !strings.Contains(doc["error"].(string), "an approver must not be the proposer") {
		t.Fatalf("own approval: %d %v", status, doc)
	}
	if status, doc = post("/api/v1/proposals/"+id+"/approve", `{"reason":"agreed"}`, bob); status != 200 || doc["status"] != "approved" {
		t.Fatalf("approval: %d %v", status, doc)
	}
	status, b, _ := e.do(t, "GET", "/api/v1/sections/alerts.rules/history", "", map[string]string{"Authorization": bob})
	var h struct {
		Versions []struct {
			Proposal int64
			Value    json.RawMessage
			Source   string
		}
		Proposals []map[string]any
	}
	if err := json.Unmarshal(b, &h); err != nil || status != 200 || len(h.Versions) != 1 || !strings.Contains(h.Versions[0].Source, "mttr_red") || len(h.Proposals) != 1 {
		t.Fatalf("history: %d %s", status, b)
	}
	if status, _, _ := e.do(t, "GET", "/api/v1/sections/metrics/history", "", map[string]string{"Authorization": bob}); status != 404 {
		t.Errorf("an unknown section: %d", status)
	}
}

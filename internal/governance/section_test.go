package governance

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/candor/candor/internal/config"
)

// TestSectionsOfAnOlderStore: a store whose initial set was recorded
// before sections were governed records the configuration's sections once,
// at the first start that governs them, and refuses another value after;
// a section proposal approved by another executive is the value Configure
// puts in force, and the section's history lists both values.
func TestSectionsOfAnOlderStore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Config{}) // the initial set without sections
	in := initial(t, config.Config{}, nil)
	in.Sections = map[string]json.RawMessage{"alerts.rules": raw("null"), "gates": raw("null"), "views": raw("null")}
	if err := f.reg.Init(ctx, in); err != nil {
		t.Fatalf("the first start that governs sections: %v", err)
	}
	in.Sections["views"] = raw(`{"views":[{"id":"ops"}]}`)
	var ce *SectionChangedError
	if err := f.reg.Init(ctx, in); !errors.As(err, &ce) || strings.Join(ce.Sections, ",") != "views" ||
		!strings.Contains(err.Error(), "candor catalog propose --section views --file NEW.yaml") {
		t.Fatalf("a changed section: %v", err)
	}
	in.Sections["views"] = raw("null")
	if err := f.reg.Init(ctx, in); err != nil {
		t.Fatal(err)
	}

	text := "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr, change_failure_rate]\n"
	b, _ := json.Marshal(text)
	v := f.propose(t, Input{Section: "views", Value: b, File: "ops.yaml", Reason: "an ops page"}, "user:ann")
	if _, err := f.reg.Decide(ctx, v.ID, Approve, "mine", "user:ann"); !errors.Is(err, ErrOwnProposal) {
		t.Fatalf("own approval: %v", err)
	}
	if _, err := f.reg.Decide(ctx, v.ID, Approve, "yes", "user:bob"); err != nil {
		t.Fatal(err)
	}
	cfg, err := f.reg.Configure(ctx, config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cat, err := cfg.AddViews(f.cat)
	if err != nil {
		t.Fatal(err)
	}
	if vw, ok := cat.View("ops"); !ok || len(vw.Metrics) != 2 {
		t.Errorf("the approved view in force: %+v %v", vw, ok)
	}
	h, err := f.reg.SectionHistory(ctx, "views")
	if err != nil || len(h.Versions) != 2 || h.Versions[0].Ref != "configuration" || h.Versions[1].Proposal != v.ID ||
		h.Versions[1].Source != text || len(h.Proposals) != 1 {
		t.Fatalf("history: %+v, %v", h, err)
	}
	// Proposing the value in force changes nothing.
	if _, err := f.reg.Propose(ctx, Input{Section: "views", Value: b, Reason: "again"}, "user:ann"); err == nil || !strings.Contains(err.Error(), "changes nothing") {
		t.Errorf("the same value again: %v", err)
	}
}

// TestSectionGovernedLater: a store whose sections were recorded before
// custom_metrics was governed records the configuration's custom_metrics
// at the first start that governs it, once, and refuses another value at
// a later start, naming the section; its history starts from that value.
func TestSectionGovernedLater(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Config{})
	in := initial(t, config.Config{}, nil)
	in.Sections = map[string]json.RawMessage{"alerts.rules": raw("null"), "gates": raw("null"), "views": raw("null")}
	if err := f.reg.Init(ctx, in); err != nil {
		t.Fatalf("a start before custom_metrics was governed: %v", err)
	}
	in.Sections["custom_metrics"] = raw(`{"custom_metrics":[{"id":"team_health"}]}`)
	if err := f.reg.Init(ctx, in); err != nil {
		t.Fatalf("the first start that governs custom_metrics: %v", err)
	}
	if err := f.reg.Init(ctx, in); err != nil {
		t.Fatalf("the same configuration again: %v", err)
	}
	in.Sections["custom_metrics"] = raw(`{"custom_metrics":[{"id":"team_health_v2"}]}`)
	var ce *SectionChangedError
	if err := f.reg.Init(ctx, in); !errors.As(err, &ce) || strings.Join(ce.Sections, ",") != "custom_metrics" ||
		!strings.Contains(err.Error(), "candor catalog propose --section custom_metrics --file NEW.yaml") {
		t.Fatalf("an edited custom_metrics: %v", err)
	}
	h, err := f.reg.SectionHistory(ctx, "custom_metrics")
	if err != nil || len(h.Versions) != 1 || string(h.Versions[0].Value) != `{"custom_metrics":[{"id":"team_health"}]}` {
		t.Fatalf("history: %+v, %v", h, err)
	}
	// The sections recorded with the initial set keep their values.
	if h, err := f.reg.SectionHistory(ctx, "views"); err != nil || len(h.Versions) != 1 || string(h.Versions[0].Value) != "null" {
		t.Fatalf("views history: %+v, %v", h, err)
	}
}

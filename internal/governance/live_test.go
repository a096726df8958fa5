package governance

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/config"
)

// TestLiveSync: a section approved while a server runs is handed to its
// Apply with the configuration the server loaded, the new section in it;
// a refusal by Apply leaves it for the next Sync and records nothing;
// once in force it is recorded with the server's name and time, and the
// section's history lists the time; a Sync with nothing new does nothing.
func TestLiveSync(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, config.Config{})
	_, ids, err := f.reg.ConfigureSections(ctx, config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var applied []config.Config
	refuse := errors.New("not now")
	var fail error
	l := &Live{Registry: f.reg, Config: config.Config{}, Applied: ids, Instance: "test 127.0.0.1:1 (pid 1)",
		Apply: func(cfg config.Config) error {
			if fail != nil {
				return fail
			}
			applied = append(applied, cfg)
			return nil
		}}
	if changed, err := l.Sync(ctx); err != nil || len(changed) != 0 || len(applied) != 0 {
		t.Fatalf("a Sync with nothing approved: %v %v %d", changed, err, len(applied))
	}
	text := "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr]\n"
	b, _ := json.Marshal(text)
	v := f.propose(t, Input{Section: "views", Value: b, Reason: "an ops page"}, "user:ann")
	f.now = f.now.Add(time.Minute)
	if _, err := f.reg.Decide(ctx, v.ID, Approve, "yes", "user:bob"); err != nil {
		t.Fatal(err)
	}
	fail = refuse
	if _, err := l.Sync(ctx); !errors.Is(err, refuse) || !strings.Contains(err.Error(), "keeps the values it has") {
		t.Fatalf("a refused Apply: %v", err)
	}
	if docs, _ := f.st.Docs(ctx, InForceCollection, 0); len(docs) != 0 {
		t.Fatalf("a refused section was recorded in force")
	}
	fail = nil
	f.now = f.now.Add(time.Second)
	changed, err := l.Sync(ctx)
	if err != nil || !slices.Equal(changed, []string{"views"}) || len(applied) != 1 || len(applied[0].Views) != 1 || applied[0].Views[0].ID != "ops" {
		t.Fatalf("the approved section: %v %v %+v", changed, err, applied)
	}
	if changed, err := l.Sync(ctx); err != nil || len(changed) != 0 || len(applied) != 1 {
		t.Errorf("a second Sync: %v %v", changed, err)
	}
	h, err := f.reg.SectionHistory(ctx, "views")
	if err != nil {
		t.Fatal(err)
	}
	last := h.Versions[len(h.Versions)-1]
	if last.Proposal != v.ID || len(last.InForce) != 1 || last.InForce[0].Instance != l.Instance || !last.InForce[0].At.Equal(f.now) {
		t.Errorf("the history's times in force: %+v", last)
	}
}

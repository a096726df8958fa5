package governance

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
)

// An organisation's own metric is governed like a built-in (SPEC §5): while it is red, loosening
// its thresholds needs two approvers other than the proposer, and the approved version judges it.
func TestCustomMetricIsGoverned(t *testing.T) {
	f := customFixture(t)
	if c := f.card(t, "failed_deployment_share", f.now); c.Status != catalog.Red || c.Value == nil || *c.Value != 25 {
		t.Fatalf("fixture: failed_deployment_share is %s %v (%s), want red at 25 %%", c.Status, c.Value, c.Reason)
	}
	v := f.propose(t, Input{Metric: "failed_deployment_share", Changes: raw(`{"thresholds": {"green": 30, "amber": 40}}`), Reason: "a quarter fail, and that is fine"}, ann)
	if v.Needed != 2 || v.Before.Status != catalog.Red {
		t.Fatalf("proposal: needs %d, before %+v", v.Needed, v.Before)
	}
	f.now = start.Add(time.Hour)
	if _, err := f.reg.Decide(context.Background(), v.ID, Approve, "fine", bob); err != nil {
		t.Fatal(err)
	}
	if c := f.card(t, "failed_deployment_share", f.now); c.Status != catalog.Red {
		t.Fatalf("one approval loosened a red custom metric: %s", c.Status)
	}
	f.now = start.Add(2 * time.Hour)
	if two, err := f.reg.Decide(context.Background(), v.ID, Approve, "agreed", cat); err != nil || two.Status != Approved {
		t.Fatalf("second approval: %+v %v", two, err)
	}
	if c := f.card(t, "failed_deployment_share", f.now); c.Status != catalog.Green || c.Version != 2 {
		t.Errorf("after approval: %s, version %d; want green under version 2", c.Status, c.Version)
	}
}

// TestCustomSectionRecheckedAtApproval: a custom_metrics proposal is
// checked again when approved: one that dropped a metric nothing named
// when proposed is refused once an approved change to that metric names
// it — approving it would stop the next start.
func TestCustomSectionRecheckedAtApproval(t *testing.T) {
	ctx := context.Background()
	f := customFixture(t)
	drop := f.propose(t, Input{Section: "custom_metrics", Value: raw(`"custom_metrics: []\n"`), File: "none.yaml", Reason: "not needed"}, ann)
	owner := f.propose(t, Input{Metric: "failed_deployment_share", Changes: raw(`{"owner": "CTO"}`), Reason: "the CTO owns it"}, ann)
	if _, err := f.reg.Decide(ctx, owner.ID, Approve, "yes", bob); err != nil {
		t.Fatal(err)
	}
	_, err := f.reg.Decide(ctx, drop.ID, Approve, "yes", bob)
	if err == nil || !strings.Contains(err.Error(), "would make an invalid configuration") || !strings.Contains(err.Error(), `no metric "failed_deployment_share"`) {
		t.Fatalf("approving a drop of a metric an approved change names: %v", err)
	}
	if v, _ := f.reg.Get(ctx, drop.ID); v.Status != Open {
		t.Errorf("the refused approval changed the proposal: %s", v.Status)
	}
}

// A custom_metrics proposal dropping a metric that open proposals still
// propose to change is refused at approval, naming them: once dropped they
// could not be approved ("no metric …") and stayed open for good. Decided,
// the drop is approved.
func TestDropWithOpenProposalsRefused(t *testing.T) {
	ctx := context.Background()
	f := customFixture(t)
	drop := f.propose(t, Input{Section: "custom_metrics", Value: raw(`"custom_metrics: []\n"`), File: "none.yaml", Reason: "not needed"}, ann)
	owner := f.propose(t, Input{Metric: "failed_deployment_share", Changes: raw(`{"owner": "CTO"}`), Reason: "the CTO owns it"}, ann)
	window := f.propose(t, Input{Metric: "failed_deployment_share", Changes: raw(`{"window": "7d"}`), Reason: "weekly"}, ann)
	_, err := f.reg.Decide(ctx, drop.ID, Approve, "yes", bob)
	want := fmt.Sprintf("approving proposal %d would drop failed_deployment_share, which proposals %d and %d still propose to change: decide those first", drop.ID, owner.ID, window.ID)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("approving a drop with open proposals: %v, want %q", err, want)
	}
	if v, _ := f.reg.Get(ctx, drop.ID); v.Status != Open {
		t.Errorf("the refused approval changed the proposal: %s", v.Status)
	}
	for _, p := range []int64{owner.ID, window.ID} {
		if _, err := f.reg.Decide(ctx, p, Reject, "dropping it", bob); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := f.reg.Decide(ctx, drop.ID, Approve, "yes", bob); err != nil || v.Status != Approved {
		t.Fatalf("the drop once the others were decided: %v %v", v, err)
	}
}

// failedShare is a custom_metrics section with one metric: the share of
// the production deployments finishing in the window that failed.
const failedShare = `custom_metrics:
  - id: failed_deployment_share
    name: Failed deployments
    pillar: delivery
    description: Share of the production deployments finishing in the window whose status is failure.
    owner: VP Engineering
    unit: "%"
    better: lower
    thresholds: {green: 5, amber: 15}
    kind: deployment
    time: finished_at
    aggregate: share
    matching: status == "failure"
`

// customFixture is a fixture whose configuration holds failedShare, with
// the app's catalog: the built-ins with the organisation's own.
func customFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := loadConfig(t, failedShare)
	f := newFixture(t, cfg)
	withOwn, err := cfg.AddViews(f.cat)
	if err != nil {
		t.Fatal(err)
	}
	f.cat = withOwn.Governed()
	f.reg.Catalog = f.cat
	if err := f.reg.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f
}

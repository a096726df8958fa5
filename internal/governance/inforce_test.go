package governance

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/config"
)

// loadConfig loads a configuration file of the given text.
func loadConfig(t *testing.T, text string) config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "candor.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// initialOf is the initial set a start with cfg gives, its sections too.
func initialOf(t *testing.T, cfg config.Config) Initial {
	t.Helper()
	in := initial(t, cfg, nil)
	var err error
	if in.Sections, err = SectionValues(cfg); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestConfigurationMayGiveWhatIsInForce: once proposals are approved, a
// later start whose configuration gives each metric, setting and section
// as the approvals put it in force is accepted, as one giving them as at
// first start is. It had been refused with "changes definitions recorded
// at first start" even after every change was approved, and the only way
// out was to drop the keys from the file. A value no approval put in force
// is still refused, and the refusal says what is in force. The
// organisation's metrics before the approval are still computed by the
// value recorded at first start, not the file's.
func TestConfigurationMayGiveWhatIsInForce(t *testing.T) {
	ctx := context.Background()
	cfg0 := loadConfig(t, failedShare)
	f := newFixtureFrom(t, cfg0, initialOf(t, cfg0))
	withOwn, err := cfg0.AddViews(f.cat)
	if err != nil {
		t.Fatal(err)
	}
	f.cat = withOwn.Governed()
	f.reg.Catalog = f.cat
	if err := f.reg.Load(ctx); err != nil {
		t.Fatal(err)
	}

	approve := func(v *View) {
		t.Helper()
		if d, err := f.reg.Decide(ctx, v.ID, Approve, "agreed", bob); err != nil || d.Status != Approved {
			t.Fatalf("approving proposal %d: %+v %v", v.ID, d, err)
		}
	}
	f.now = start.Add(time.Hour)
	prod := f.propose(t, Input{Setting: "production_environments", Value: raw(`["production", "edge"]`), Reason: "edge serves customers"}, ann)
	approve(prod)
	approve(f.propose(t, Input{Metric: "mttr", Changes: raw(`{"owner": "Reliability Lead"}`), Reason: "SRE owns recovery"}, ann))
	renamed := strings.Replace(failedShare, "name: Failed deployments", "name: Failed production deployments", 1)
	text, _ := json.Marshal(renamed)
	approve(f.propose(t, Input{Section: "custom_metrics", Value: text, File: "metrics.yaml", Reason: "a clearer name"}, ann))
	f.now = start.Add(2 * time.Hour)

	const approved = "production_environments: [production, edge]\nmetrics:\n  mttr:\n    owner: Reliability Lead\n"
	cfg1 := loadConfig(t, renamed+approved)
	if err := f.reg.Init(ctx, initialOf(t, cfg1)); err != nil {
		t.Fatalf("a configuration giving what approved proposals put in force: %v", err)
	}
	if err := f.reg.Init(ctx, initialOf(t, cfg0)); err != nil {
		t.Fatalf("the configuration as at first start: %v", err)
	}

	var ce *ChangedError
	err = f.reg.Init(ctx, initialOf(t, loadConfig(t, renamed+strings.Replace(approved, "edge", "staging", 1))))
	if !errors.As(err, &ce) || len(ce.Settings) != 1 || len(ce.Metrics) != 0 ||
		!strings.Contains(err.Error(), `production_environments: not set (its default) at first start, ["production","edge"] in force (proposal `+strconv.FormatInt(prod.ID, 10)+`), now ["production","staging"]`) {
		t.Fatalf("a setting no approval put in force: %v", err)
	}
	err = f.reg.Init(ctx, initialOf(t, loadConfig(t, renamed+strings.Replace(approved, "Reliability Lead", "CTO", 1))))
	if !errors.As(err, &ce) || strings.Join(ce.Metrics, ",") != "mttr" || len(ce.Settings) != 0 {
		t.Fatalf("an override no approval put in force: %v", err)
	}
	var se *SectionChangedError
	other := strings.Replace(failedShare, "name: Failed deployments", "name: Failures", 1)
	if err := f.reg.Init(ctx, initialOf(t, loadConfig(t, other+approved))); !errors.As(err, &se) || strings.Join(se.Sections, ",") != "custom_metrics" {
		t.Fatalf("a section no approval put in force: %v", err)
	}

	// Configured from the later file, the organisation's metric is named as
	// recorded before the approval, and as approved after.
	in, _, err := f.reg.ConfigureSections(ctx, cfg1)
	if err != nil {
		t.Fatal(err)
	}
	eras := in.CustomEras()
	if len(eras) != 2 || eras[0].Defs[0].Name != "Failed deployments" || eras[1].Defs[0].Name != "Failed production deployments" {
		t.Errorf("the organisation's metrics over time: %+v", eras)
	}
}

// TestCheckRecordsNothing: a command that computes nothing (candor user,
// candor token) checks the configuration against a recorded initial set
// but records none: the first administrator added before the first start
// had recorded the defaults of a command given no configuration, and the
// real configuration was then refused as a change.
func TestCheckRecordsNothing(t *testing.T) {
	ctx := context.Background()
	reg, st := emptyRegistry(t)
	if err := reg.Check(ctx, initialOf(t, config.Default())); err != nil {
		t.Fatalf("a check before the first start: %v", err)
	}
	if docs, err := st.Docs(ctx, Proposals, 0); err != nil || len(docs) != 0 {
		t.Fatalf("a check recorded %d documents (%v)", len(docs), err)
	}
	real := loadConfig(t, "currency: EUR\nmetrics:\n  mttr:\n    owner: Reliability Lead\n")
	if err := reg.Init(ctx, initialOf(t, real)); err != nil {
		t.Fatalf("the first start after a check: %v", err)
	}
	if err := reg.Check(ctx, initialOf(t, real)); err != nil {
		t.Fatalf("a check with the configuration recorded: %v", err)
	}
	var ce *ChangedError
	if err := reg.Check(ctx, initialOf(t, config.Default())); !errors.As(err, &ce) || strings.Join(ce.Metrics, ",") != "mttr" {
		t.Fatalf("a check with another configuration: %v", err)
	}
}

// TestCheckComparesSectionsOfTheirOwn: a check compares a section recorded
// in a document of its own — on a store whose initial set predates
// governed sections, or for a section governed since — as a start does,
// though it records nothing. It had compared none of them, and the
// command then ran with the file's section: candor token create checked
// roles against views no approval put in force.
func TestCheckComparesSectionsOfTheirOwn(t *testing.T) {
	ctx := context.Background()
	a := loadConfig(t, "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr]\n")
	b := loadConfig(t, "views:\n  - id: ops\n    name: Ops\n    metrics: [mttr, change_failure_rate]\n")
	for _, c := range []struct {
		name  string
		first Initial
	}{
		// an initial set recorded before sections were governed: the
		// next start records them under "sections"
		{"legacy initial set", initial(t, a, nil)},
		// views governed since the initial set was recorded: the next
		// start records them under "sections:views"
		{"section governed since", func() Initial {
			in := initialOf(t, a)
			delete(in.Sections, "views")
			return in
		}()},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg, st := emptyRegistry(t)
			if err := reg.Init(ctx, c.first); err != nil {
				t.Fatal(err)
			}
			if err := reg.Check(ctx, initialOf(t, b)); err != nil {
				t.Fatalf("a check before the section is recorded: %v", err)
			}
			if err := reg.Init(ctx, initialOf(t, a)); err != nil {
				t.Fatalf("the start that records the section: %v", err)
			}
			docs, err := st.Docs(ctx, Proposals, 0)
			if err != nil {
				t.Fatal(err)
			}
			var se *SectionChangedError
			if err := reg.Init(ctx, initialOf(t, b)); !errors.As(err, &se) || strings.Join(se.Sections, ",") != "views" {
				t.Fatalf("a start with other views: %v", err)
			}
			if err := reg.Check(ctx, initialOf(t, b)); !errors.As(err, &se) || strings.Join(se.Sections, ",") != "views" {
				t.Fatalf("a check with other views: %v", err)
			}
			if err := reg.Check(ctx, initialOf(t, a)); err != nil {
				t.Fatalf("a check with the recorded views: %v", err)
			}
			if after, err := st.Docs(ctx, Proposals, 0); err != nil || len(after) != len(docs) {
				t.Fatalf("the checks recorded %d documents (%v)", len(after)-len(docs), err)
			}
		})
	}
}

package governance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
)

// View is a proposal with what its decisions made of it.
type View struct {
	Proposal
	Status string `json:"status"`
	// Needed is the approvals it needs: the most any of its decisions or
	// the proposal itself recorded.
	Needed    int        `json:"approvals_needed"`
	Approvals []Decision `json:"approvals"`
	Rejection *Decision  `json:"rejection,omitempty"`
	// Effective is when it took effect: the time of the approval that
	// completed it.
	Effective *time.Time `json:"effective,omitempty"`
	// Void are decisions that counted for nothing, each saying why.
	Void []Decision `json:"void_decisions,omitempty"`
}

// State is every proposal folded with its decisions.
type State struct {
	// Initial is the configuration's set (nil before first start).
	Initial *Proposal
	// Sections are the configuration sections' values recorded at the
	// first start that governed them, by name.
	Sections map[string]*Proposal
	// Proposals are the others, oldest first.
	Proposals []View
}

// Fold applies the decisions (oldest first) to the proposals. The rules
// the API enforces hold here too, so that two instances deciding at once
// cannot break them: a decision on a decided proposal, an approval by the
// proposer, or a second approval by one person is void; a rejection
// decides; a proposal is approved by the approval that brings it to the
// approvals it needs.
func Fold(props []Proposal, decs []Decision) *State {
	st := &State{Sections: map[string]*Proposal{}}
	byID := map[int64]*View{}
	// The configuration's recorded sections: the initial set's, else the
	// first document of them; then, for a section neither holds (governed
	// since), the first document holding it.
	var fromConfig []Proposal
	for _, p := range props {
		if p.FromConfig {
			fromConfig = append(fromConfig, p)
			continue
		}
		if p.Initial != nil {
			if st.Initial == nil {
				p := p
				st.Initial = &p
			}
			continue
		}
		if p.Setting != "" && p.Before != nil && len(p.Before.Effective) > 0 {
			// Recorded as Go's nanoseconds before the API wrote durations
			// as the configuration does ("24h").
			b := *p.Before
			b.Effective = metrics.WrittenJSON(metrics.Setting(p.Setting), b.Effective)
			p.Before = &b
		}
		st.Proposals = append(st.Proposals, View{Proposal: p, Status: Open, Needed: max(1, p.Needs), Approvals: []Decision{}})
	}
	slices.SortFunc(fromConfig, func(a, b Proposal) int { return cmpInt(a.ID, b.ID) })
	if st.Initial != nil && st.Initial.Initial.Sections != nil {
		fromConfig = append([]Proposal{{ID: st.Initial.ID, By: st.Initial.By, At: st.Initial.At, Reason: st.Initial.Reason,
			File: st.Initial.Initial.Source, Sections: st.Initial.Initial.Sections}}, fromConfig...)
	}
	for _, sections := range fromConfig {
		for name, v := range sections.Sections {
			if st.Sections[name] != nil {
				continue
			}
			st.Sections[name] = &Proposal{ID: sections.ID, Section: name, Value: v, FromConfig: true, By: sections.By, At: sections.At,
				Reason: sections.Reason, File: sections.File}
		}
	}
	slices.SortFunc(st.Proposals, func(a, b View) int { return cmpInt(a.ID, b.ID) })
	for i := range st.Proposals {
		byID[st.Proposals[i].ID] = &st.Proposals[i]
	}
	decs = slices.Clone(decs)
	slices.SortFunc(decs, func(a, b Decision) int { return cmpInt(a.ID, b.ID) })
	for _, d := range decs {
		v := byID[d.Proposal]
		if v == nil {
			continue
		}
		switch {
		case v.Status != Open:
			d.Void = "given after the proposal was " + v.Status
		case d.Decision == Reject:
			v.Status, v.Rejection = Rejected, &d
			continue
		case d.Decision != Approve:
			d.Void = fmt.Sprintf("unknown decision %q", d.Decision)
		case d.By == v.By:
			d.Void = "the proposer's own approval"
		case slices.ContainsFunc(v.Approvals, func(a Decision) bool { return a.By == d.By }):
			d.Void = "a second approval by the same person"
		default:
			v.Needed = max(v.Needed, d.Needs)
			v.Approvals = append(v.Approvals, d)
			if len(v.Approvals) >= v.Needed {
				at := d.At
				v.Status, v.Effective = Approved, &at
			}
			continue
		}
		v.Void = append(v.Void, d)
	}
	return st
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Get returns the proposal with the id.
func (s *State) Get(id int64) (*View, bool) {
	for i := range s.Proposals {
		if s.Proposals[i].ID == id {
			return &s.Proposals[i], true
		}
	}
	return nil, false
}

// approved are the approved proposals in the order they took effect.
func (s *State) approved() []View {
	var out []View
	for _, v := range s.Proposals {
		if v.Status == Approved {
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b View) int { return a.Effective.Compare(*b.Effective) })
	return out
}

// Changes are the catalog changes in force: the initial set's overrides
// from the start, then each approved metric proposal from its approval.
func (s *State) Changes() ([]catalog.Change, error) {
	var out []catalog.Change
	if s.Initial != nil {
		for _, id := range slices.Sorted(maps.Keys(s.Initial.Initial.Metrics)) {
			o, err := catalog.ParseOverride(s.Initial.Initial.Metrics[id])
			if err != nil {
				return nil, fmt.Errorf("the initial set's override of %s: %w", id, err)
			}
			out = append(out, catalog.Change{Metric: id, Override: o, Ref: "configuration"})
		}
	}
	for _, v := range s.approved() {
		if v.Metric == "" {
			continue
		}
		c, err := v.catalogChange(*v.Effective)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Epochs are the settings in force over the history: the initial set's
// from the start, then a new epoch at each approved setting proposal.
// base gives what is not governed (freshness, …).
func (s *State) Epochs(base config.Config) ([]engine.Epoch, error) {
	values := map[string]json.RawMessage{}
	if s.Initial != nil {
		for k, v := range s.Initial.Initial.Settings {
			values[k] = v
		}
	}
	first, err := epochConfig(base, values)
	if err != nil {
		return nil, fmt.Errorf("the initial set's settings: %w", err)
	}
	out := []engine.Epoch{{Config: first}}
	for _, v := range s.approved() {
		if v.Setting == "" {
			continue
		}
		values[v.Setting] = v.Value
		c, err := epochConfig(base, values)
		if err != nil {
			return nil, fmt.Errorf("proposal %d: %w", v.ID, err)
		}
		out = append(out, engine.Epoch{From: *v.Effective, Config: c})
	}
	return out, nil
}

// SettingsAt are the governed settings' values in force at t.
func (s *State) SettingsAt(t time.Time) map[string]json.RawMessage {
	values := map[string]json.RawMessage{}
	if s.Initial != nil {
		for k, v := range s.Initial.Initial.Settings {
			values[k] = v
		}
	}
	for _, v := range s.approved() {
		if v.Setting != "" && !v.Effective.After(t) {
			values[v.Setting] = v.Value
		}
	}
	return values
}

// SettingSource says what put a setting's value in force at t and from
// when: the last approved proposal of it by then (its Ref and approval),
// else "configuration" when the initial set gave it a value, else "" (its
// default). It fits scorecard.Options.SettingSource.
func (s *State) SettingSource(name string, t time.Time) (string, time.Time) {
	// The approved proposal of the setting in force at t: the latest to
	// take effect by t, the later proposed of two at one instant (as
	// approved() orders them, without building and sorting every approved
	// proposal for each setting a page names).
	var last *View
	for i := range s.Proposals {
		v := &s.Proposals[i]
		if v.Status == Approved && v.Setting == name && !v.Effective.After(t) && (last == nil || !v.Effective.Before(*last.Effective)) {
			last = v
		}
	}
	switch {
	case last != nil && string(bytes.TrimSpace(last.Value)) != "null":
		return last.Ref(), *last.Effective
	case last != nil:
		// Restored to the default by a proposal.
		return "", time.Time{}
	case s.Initial != nil:
		if v, ok := s.Initial.Initial.Settings[name]; ok && string(bytes.TrimSpace(v)) != "null" {
			return "configuration", time.Time{}
		}
	}
	return "", time.Time{}
}

func epochConfig(base config.Config, values map[string]json.RawMessage) (metrics.Config, error) {
	c, err := base.WithRecordedSettings(values)
	if err != nil {
		return metrics.Config{}, err
	}
	return c.EngineConfig()
}

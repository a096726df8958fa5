package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// Gate policies, alert rules and custom views — the governed sections of
// the configuration (config.Sections) — follow the metric definitions'
// rules: the configuration's values at first start are recorded with the
// initial set (chained in the ledger), a later start whose configuration
// gives another value is refused, and a value changes only through a
// proposal an executive other than the proposer approves. The values in
// force are put into the configuration at start (Configure), so every
// command and server uses them, and into a running server when approved
// (Live).

// SectionChangedError refuses a start whose configuration changes governed
// sections.
type SectionChangedError struct {
	Since    time.Time
	Sections []string
}

func (e *SectionChangedError) ErrorCode() domain.Code { return domain.EConflict }

func (e *SectionChangedError) Error() string {
	return fmt.Sprintf("the configuration changes sections recorded at first start (%s): %s. "+
		"Gate policies, alert rules, custom views and the organisation's own metrics change only through approved proposals: give each section "+
		"as it was at first start or as approved proposals have put it in force, then propose the new section: candor catalog propose --section %s --file NEW.yaml --reason \"…\" "+
		"(NEW.yaml holds the section as the configuration file writes it; for gates, the policies file), or POST /api/v1/proposals",
		e.Since.Format(time.DateOnly), strings.Join(e.Sections, ", "), e.Sections[0])
}

// SectionValues are the governed sections' values as cfg gives them
// (Initial.Sections).
func SectionValues(cfg config.Config) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	for _, s := range config.Sections {
		v, err := cfg.SectionValue(s.Name)
		if err != nil {
			return nil, err
		}
		out[s.Name] = v
	}
	return out, nil
}

// sectionsKey is the key of the sections' first values for a store whose
// initial set was recorded without them; a section governed later still
// (custom_metrics) is recorded under sectionsKey + ":" + its name.
const sectionsKey = "sections"

// checkSections refuses (*SectionChangedError) a configuration whose
// sections differ both from those recorded at first start and from those
// in force now (an approved proposal's value): recorded in the initial
// set, or, for a store whose initial set predates governed sections, in a
// document of their own, recorded now the first time; a section governed
// since the store's sections were recorded is recorded now in a document
// of its own. Unless record (Check), nothing is recorded: a section
// recorded already, in the initial set or in a document of its own, is
// compared all the same, and only a section recorded in no document is
// not compared.
func (r *Registry) checkSections(ctx context.Context, was Proposal, in Initial, record bool) error {
	recorded, since := maps.Clone(was.Initial.Sections), was.At
	if recorded == nil {
		p, err := r.sectionsDoc(ctx, record, sectionsKey, in.Sections, in.Source, "the configuration's sections at the first start that governed them")
		if err != nil {
			return err
		}
		if p != nil {
			recorded, since = maps.Clone(p.Sections), p.At
		}
	}
	if recorded == nil {
		recorded = map[string]json.RawMessage{}
	}
	for _, s := range config.Sections {
		v, ok := in.Sections[s.Name]
		if _, had := recorded[s.Name]; had || !ok {
			continue
		}
		p, err := r.sectionsDoc(ctx, record, sectionsKey+":"+s.Name, map[string]json.RawMessage{s.Name: v}, in.Source,
			"the configuration's section "+s.Name+" at the first start that governed it")
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		if v, ok := p.Sections[s.Name]; ok {
			recorded[s.Name] = v
		}
	}
	e := &SectionChangedError{Since: since}
	var st *State
	for _, s := range config.Sections {
		v, ok := recorded[s.Name]
		if !ok || bytes.Equal(v, in.Sections[s.Name]) {
			continue
		}
		if st == nil {
			var err error
			if st, err = r.folded(ctx); err != nil {
				return err
			}
		}
		if p := st.SectionAt(s.Name, r.now()); p != nil && bytes.Equal(p.Value, in.Sections[s.Name]) {
			continue
		}
		e.Sections = append(e.Sections, s.Name)
	}
	if len(e.Sections) > 0 {
		return e
	}
	return nil
}

// sectionsDoc returns the sections' values recorded under key: if record,
// it records values from the configuration once (recordSections) and
// returns what is recorded (an earlier start's, if any); else it only
// reads them, nil when none are recorded (Check records nothing, but
// compares with what an earlier start recorded).
func (r *Registry) sectionsDoc(ctx context.Context, record bool, key string, values map[string]json.RawMessage, source, reason string) (*Proposal, error) {
	if record {
		return r.recordSections(ctx, key, values, source, reason)
	}
	doc, found, err := r.Docs.DocByKey(ctx, Proposals, key)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration's recorded sections: %w", err)
	}
	if !found {
		return nil, nil
	}
	return sectionsOf(doc)
}

// recordSections records sections' values from the configuration once,
// under key, and returns what is recorded (an earlier start's, if any).
func (r *Registry) recordSections(ctx context.Context, key string, values map[string]json.RawMessage, source, reason string) (*Proposal, error) {
	body, err := json.Marshal(Proposal{FromConfig: true, Sections: values, File: source, Reason: reason, By: "config", At: r.now()})
	if err != nil {
		return nil, err
	}
	doc, _, err := r.Docs.AppendDocOnce(ctx, Proposals, key, body)
	if err != nil {
		return nil, fmt.Errorf("recording the configuration's sections: %w", err)
	}
	return sectionsOf(doc)
}

// sectionsOf reads a document of recorded sections.
func sectionsOf(doc store.Doc) (*Proposal, error) {
	var p Proposal
	if err := json.Unmarshal(doc.Body, &p); err != nil {
		return nil, fmt.Errorf("the recorded sections (document %d) cannot be read: %v", doc.ID, err)
	}
	return &p, nil
}

// Configure returns cfg with the sections' values that approved proposals
// put in force, each checked against the catalog as the configuration is
// (an error names the proposal and its line).
func (r *Registry) Configure(ctx context.Context, cfg config.Config) (config.Config, error) {
	cfg, _, err := r.ConfigureSections(ctx, cfg)
	return cfg, err
}

// label names a section proposal in its errors: "proposal 12 (rules.yaml)".
func (p *Proposal) label() string {
	if p.File == "" {
		return fmt.Sprintf("proposal %d", p.ID)
	}
	return fmt.Sprintf("proposal %d (%s)", p.ID, p.File)
}

// SectionAt is the proposal whose value of the section is in force at t:
// the last approved by then, else the configuration's recorded value (nil
// when none was recorded).
func (s *State) SectionAt(name string, t time.Time) *Proposal {
	out := s.Sections[name]
	for _, v := range s.approved() {
		if v.Section == name && !v.Effective.After(t) {
			p := v.Proposal
			out = &p
		}
	}
	return out
}

// CustomMetricsProposal is the approved custom_metrics proposal that took
// effect at t (0 when none did): an organisation's metric's page names
// the one that put the computation of its value in force
// (scorecard.ComputationSource).
func (s *State) CustomMetricsProposal(t time.Time) int64 {
	for _, v := range s.approved() {
		if v.Section == "custom_metrics" && v.Effective.Equal(t) {
			return v.ID
		}
	}
	return 0
}

// maxSection bounds a section's text.
const maxSection = 64 << 10

// sectionText is the section's text a proposal gives: a JSON string is the
// YAML text itself; any other JSON value is the value of the section's
// first key (the list of rules, of views; the policies), written as the
// configuration file writes it.
func sectionText(s config.Section, value json.RawMessage) ([]byte, error) {
	raw := bytes.TrimSpace(value)
	if len(raw) == 0 {
		return nil, domain.InvalidParam("value", "required: the section as the configuration file writes it (YAML text, a JSON string), or its value as JSON")
	}
	if len(raw) > maxSection {
		return nil, domain.InvalidParam("value", "%d bytes; at most %d", len(raw), maxSection)
	}
	var text string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, domain.InvalidParam("value", "%v", err)
		}
		return []byte(text), nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, domain.InvalidParam("value", "not JSON: %v", err)
	}
	if v == nil {
		return []byte{}, nil
	}
	if len(s.Keys) > 0 {
		parts := strings.Split(s.Keys[0], ".")
		for i := len(parts) - 1; i >= 0; i-- {
			v = map[string]any{parts[i]: v}
		}
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, domain.InvalidParam("value", "%v", err)
	}
	return b, nil
}

// proposeSection fills p with a section proposal, checked as the
// configuration is.
func (r *Registry) proposeSection(ctx context.Context, in Input, p *Proposal) error {
	s, err := config.SectionByName(in.Section)
	if err != nil {
		return domain.InvalidParam("section", "%v", err)
	}
	if len(bytes.TrimSpace(in.Changes)) > 0 {
		return domain.InvalidParam("changes", "a section's proposal gives a value (its text), not changes")
	}
	src, err := sectionText(s, in.Value)
	if err != nil {
		return err
	}
	file := strings.TrimSpace(in.File)
	if len(file) > 200 {
		return domain.InvalidParam("file", "%d bytes; at most 200", len(file))
	}
	label := "the proposal"
	if file != "" {
		label = file
	}
	v, err := config.SectionOf(s.Name, label, src)
	if err != nil {
		return domain.InvalidParam("value", "%v", err)
	}
	r.loadMu.Lock()
	st := r.state
	was := st.SectionAt(s.Name, p.At)
	r.loadMu.Unlock()
	next, err := r.checkSection(st, s.Name, label, src, p.At)
	if err != nil {
		return domain.InvalidParam("value", "%v", err)
	}
	if s.Name == config.GatesSection {
		if err := r.checkGateServices(ctx, label, next); err != nil {
			return err
		}
	}
	before := json.RawMessage("null")
	if was != nil {
		before = was.Value
	}
	if bytes.Equal(before, v) {
		return domain.Errorf(domain.EConflict, "the proposal changes nothing: section %s already has this value", s.Name)
	}
	p.Section, p.Value, p.Source, p.File = s.Name, v, string(src), file
	p.Before = &Standing{AsOf: p.At, Setting: before}
	return nil
}

// checkSection checks a section's text in the configuration as it is at t
// — every section in force then, approved since the start included — as
// the configuration is checked at start, and against what the rest of it
// names (config.Config.CheckUses).
// It returns the configuration with the section in place.
func (r *Registry) checkSection(st *State, name, label string, src []byte, t time.Time) (config.Config, error) {
	base, _, err := r.configureIn(st, r.Config, t)
	if err != nil {
		return base, err
	}
	next, err := base.WithSection(name, label, src, r.Catalog)
	if err != nil {
		return base, err
	}
	return next, next.CheckUses(name, label, r.Catalog)
}

// SectionVersion is one value of a section in its history.
type SectionVersion struct {
	Version int        `json:"version"`
	From    *time.Time `json:"from"` // nil: from the start
	Ref     string     `json:"ref"`
	// Proposal is the approved proposal's id (0 for the configuration's).
	Proposal  int64           `json:"proposal,omitempty"`
	Value     json.RawMessage `json:"value"`
	Source    string          `json:"source,omitempty"`
	File      string          `json:"file,omitempty"`
	By        string          `json:"by"`
	Reason    string          `json:"reason"`
	Approvals []Decision      `json:"approvals,omitempty"`
	// InForce are the times running servers put the value in force
	// (without a restart), each server's, oldest first.
	InForce []InForce `json:"in_force,omitempty"`
	// Withheld says why Value and Source are not given to this reader
	// (set by whoever serves the history).
	Withheld string `json:"withheld,omitempty"`
}

// SectionHistory is a section's values, oldest first, and every proposal
// made for it, newest first.
type SectionHistory struct {
	Section   string           `json:"section"`
	Versions  []SectionVersion `json:"versions"`
	Proposals []View           `json:"proposals"`
}

// SectionHistory returns a governed section's history.
func (r *Registry) SectionHistory(ctx context.Context, name string) (*SectionHistory, error) {
	if _, err := config.SectionByName(name); err != nil {
		return nil, domain.Errorf(domain.ENotFound, "%v", err)
	}
	st, err := r.State(ctx)
	if err != nil {
		return nil, err
	}
	h := st.SectionHistory(name)
	times, err := inForceTimes(ctx, r.Docs, name)
	if err != nil {
		return nil, err
	}
	for i := range h.Versions {
		id := h.Versions[i].Proposal
		if id == 0 && st.Sections[name] != nil {
			id = st.Sections[name].ID
		}
		h.Versions[i].InForce = times[id]
	}
	return h, nil
}

// SectionHistory is a section's history in this state (evidence packs
// read every section from one state).
func (st *State) SectionHistory(name string) *SectionHistory {
	h := &SectionHistory{Section: name, Versions: []SectionVersion{}, Proposals: []View{}}
	if p := st.Sections[name]; p != nil {
		h.Versions = append(h.Versions, SectionVersion{Version: 1, Ref: p.Ref(), Value: p.Value, File: p.File, By: p.By, Reason: p.Reason})
	}
	for _, v := range st.approved() {
		if v.Section != name {
			continue
		}
		from := *v.Effective
		h.Versions = append(h.Versions, SectionVersion{Version: len(h.Versions) + 1, From: &from, Ref: v.Ref(), Proposal: v.ID,
			Value: v.Value, Source: v.Source, File: v.File, By: v.By, Reason: v.Reason, Approvals: v.Approvals})
	}
	for _, v := range slices.Backward(st.Proposals) {
		if v.Section == name {
			h.Proposals = append(h.Proposals, v)
		}
	}
	return h
}

func idOf(p *Proposal) int64 {
	if p == nil {
		return -1
	}
	return p.ID
}

// checkGateServices refuses gate policies that name a service no record
// names, or a team no service record gives: a misspelt service in a scope
// validated, was approved, and the policy never applied (docs/gates.md).
// A service not deployed yet is named by a service record first (SPEC
// §1). Without the data (no engine) nothing is refused.
func (r *Registry) checkGateServices(ctx context.Context, label string, next config.Config) error {
	if r.Engine == nil {
		return nil
	}
	pols, err := next.GatePolicies(r.Catalog)
	if err != nil {
		// checkSection compiled them against the section's own catalog;
		// this one cannot say more.
		return nil
	}
	var unknown []gate.UnknownName
	if err := r.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		unknown = pols.UnknownIn(ds)
		return nil
	}); err != nil {
		return err
	}
	if len(unknown) > 0 {
		msgs := make([]string, len(unknown))
		for i, u := range unknown {
			msgs[i] = u.String()
		}
		return domain.InvalidParam("value", "%s: %s; a service not deployed yet needs a service record first (SPEC §1)", label, strings.Join(msgs, "; "))
	}
	return nil
}

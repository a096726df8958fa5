package governance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// A governed section approved while a server runs takes effect in it at
// once (Live): the instance that records the approval puts it in force
// when the decision is stored, every other instance sharing the store at
// its next poll of the proposals. The section is checked as at start
// (Configure, then whatever the server builds of it) and swapped whole;
// each instance records when it did, in the ledger, and the section's
// history lists those times.

// InForceCollection holds a document per governed section put in force in
// a running server, chained in the ledger.
const InForceCollection = "section_in_force"

func init() {
	ledger.RegisterDocs(InForceCollection, ledger.DocSpec{Type: ledger.TypeSectionInForce})
}

// InForce records a section's value put in force in a running server.
type InForce struct {
	Section string `json:"section"`
	// Proposal is the approved proposal whose value it is.
	Proposal int64 `json:"proposal"`
	// Instance names the server (host, listening address, process id).
	Instance string    `json:"instance"`
	At       time.Time `json:"at"`
}

// SectionIDs name, per governed section, the proposal whose value is in
// force (the configuration's recorded value is its document's id; -1:
// none recorded).
type SectionIDs map[string]int64

// ConfigureSections is Configure, also naming the proposals in force, from
// the one state read (a Live starts from them).
func (r *Registry) ConfigureSections(ctx context.Context, cfg config.Config) (config.Config, SectionIDs, error) {
	st, err := r.State(ctx)
	if err != nil {
		return cfg, nil, err
	}
	return r.configureIn(st, cfg, r.now())
}

// configureIn returns cfg with the sections' values that approved
// proposals in st put in force at t, each checked against the catalog as
// the configuration is (an error names the proposal and its line).
func (r *Registry) configureIn(st *State, cfg config.Config, t time.Time) (config.Config, SectionIDs, error) {
	ids := SectionIDs{}
	// The organisation's metrics compute each as_of by the value in force
	// then: the configuration's from the start, then each approved one.
	eras := []config.CustomEra{{Defs: cfg.CustomMetricDefs}}
	for _, v := range st.approved() {
		if v.Section != config.CustomMetricsSection || v.Effective.After(t) {
			continue
		}
		if len(eras) == 1 {
			// The configuration's value is the one recorded at the first
			// start that governed it: a later file may give the value an
			// approval put in force since (Init accepts it), which is not
			// the value before that approval.
			first, err := r.recordedSection(st, cfg, config.CustomMetricsSection)
			if err != nil {
				return cfg, nil, err
			}
			eras[0].Defs = first.CustomMetricDefs
		}
		next, err := cfg.WithSection(v.Section, v.label(), []byte(v.Source), r.Catalog)
		if err != nil {
			return cfg, nil, fmt.Errorf("section %s approved at %s: %w", v.Section, v.Effective.Format(time.RFC3339), err)
		}
		eras = append(eras, config.CustomEra{From: *v.Effective, Defs: next.CustomMetricDefs})
	}
	for _, s := range config.Sections {
		p := st.SectionAt(s.Name, t)
		ids[s.Name] = idOf(p)
		if p == nil || p.FromConfig {
			continue
		}
		var err error
		if cfg, err = cfg.WithSection(s.Name, p.label(), []byte(p.Source), r.Catalog); err != nil {
			return cfg, nil, fmt.Errorf("section %s in force: %w", s.Name, err)
		}
	}
	return cfg.WithCustomEras(eras), ids, nil
}

// recordedSection is cfg with the section's value recorded from the
// configuration at the first start that governed it (as it is when none
// was recorded). The recorded value is JSON, which YAML reads.
func (r *Registry) recordedSection(st *State, cfg config.Config, name string) (config.Config, error) {
	p := st.Sections[name]
	if p == nil {
		return cfg, nil
	}
	var src []byte
	if v := bytes.TrimSpace(p.Value); len(v) > 0 && string(v) != "null" {
		src = v
	}
	out, err := cfg.WithSection(name, "the configuration's "+name+" at first start", src, r.Catalog)
	if err != nil {
		return cfg, fmt.Errorf("section %s recorded at first start: %w", name, err)
	}
	return out, nil
}

// Live keeps a running server's governed sections in step with the
// approved proposals. Safe for concurrent use.
type Live struct {
	Registry *Registry
	// Config is the configuration as loaded, before Configure: the
	// sections in force are put in it afresh each time.
	Config config.Config
	// Applied are the proposals whose sections the server has in force
	// (ConfigureSections at start).
	Applied SectionIDs
	// Apply builds what the configuration's sections make (gate policies,
	// alert rules, role views and the grants they give) and, when all of
	// it is valid, puts it in force; an error leaves the server as it was.
	Apply func(cfg config.Config) error
	// Instance names this server in the records (host, listening
	// address, process id).
	Instance string

	mu sync.Mutex
}

// Sync puts in force the sections whose approved value changed since the
// server last put them in force, records each (InForceCollection) and
// returns their names. When a section cannot be put in force the server
// keeps the values it has, nothing is recorded, and the error says why;
// the next Sync tries again.
func (l *Live) Sync(ctx context.Context) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st, err := l.Registry.State(ctx)
	if err != nil {
		return nil, err
	}
	now := l.Registry.now()
	var changed []string
	for _, s := range config.Sections {
		if idOf(st.SectionAt(s.Name, now)) != l.applied(s.Name) {
			changed = append(changed, s.Name)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	cfg, ids, err := l.Registry.configureIn(st, l.Config, now)
	if err == nil {
		err = l.Apply(cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("putting the approved sections %s in force: %w; the server keeps the values it has", strings.Join(changed, ", "), err)
	}
	l.Applied = ids
	var errs []error
	for _, name := range changed {
		body, err := json.Marshal(InForce{Section: name, Proposal: ids[name], Instance: l.Instance, At: now})
		if err == nil {
			_, err = l.Registry.Docs.AppendDoc(ctx, InForceCollection, body)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("section %s is in force but not recorded: %w", name, err))
		}
	}
	return changed, errors.Join(errs...)
}

func (l *Live) applied(name string) int64 {
	if id, ok := l.Applied[name]; ok {
		return id
	}
	return -1
}

// inForceTimes reads when running servers put each proposal's section in
// force, by proposal id.
func inForceTimes(ctx context.Context, docs store.DocStore, section string) (map[int64][]InForce, error) {
	list, err := docs.Docs(ctx, InForceCollection, 0)
	if err != nil {
		return nil, err
	}
	out := map[int64][]InForce{}
	for _, d := range list {
		var x InForce
		if err := json.Unmarshal(d.Body, &x); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", InForceCollection, d.ID, err)
		}
		if x.Section == section {
			out[x.Proposal] = append(out[x.Proposal], x)
		}
	}
	for _, xs := range out {
		slices.SortFunc(xs, func(a, b InForce) int { return a.At.Compare(b.At) })
	}
	return out, nil
}

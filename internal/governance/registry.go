package governance

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/store"
)

// Registry keeps a governed catalog and an engine's settings in step with
// the proposals and decisions in the store, and makes new ones.
type Registry struct {
	Docs store.DocStore
	// Catalog is governed (catalog.Catalog.Governed): Load replaces its
	// history, and every holder of it sees the new one.
	Catalog *catalog.Catalog
	// Engine computes the statuses a proposal records and gets the
	// settings' epochs (engine.SetEpochs); nil in tests of the rules alone.
	Engine *engine.Engine
	// Config gives what is not governed; its governed settings are
	// replaced by those in force.
	Config config.Config
	Now    func() time.Time
	// Decided, when set, is called after each decision is stored: a
	// server puts an approved section in force then (Live.Sync).
	Decided func(ctx context.Context)

	mu     sync.Mutex // one decision at a time in this process
	loadMu sync.Mutex
	state  *State
	seen   [2]int64 // newest proposal and decision ids loaded
	epochs string   // what the engine's epochs were set from
}

func (r *Registry) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Initial is the configuration's initial set as it is now.
type Initial struct {
	// Metrics are the configuration's metric overrides.
	Metrics map[string]catalog.Override
	// Settings are the governed settings' configured values
	// (config.Config.Governed).
	Settings map[string]json.RawMessage
	// Env names, per governed setting the environment sets, its variable.
	Env map[string]string
	// Source names the configuration ("config FILE"), for the record.
	Source string
	// Sections are the governed configuration sections' values
	// (SectionValues).
	Sections map[string]json.RawMessage
}

// ChangedError refuses a start whose configuration changes the definitions
// or settings recorded at first start.
type ChangedError struct {
	Since   time.Time
	Metrics []string
	// Settings are the settings that differ, each with the variable that
	// sets it when the environment does.
	Settings []string
}

func (e *ChangedError) ErrorCode() domain.Code { return domain.EConflict }

func (e *ChangedError) Error() string {
	var parts []string
	if len(e.Metrics) > 0 {
		parts = append(parts, "metrics: "+strings.Join(e.Metrics, ", "))
	}
	if len(e.Settings) > 0 {
		parts = append(parts, "settings: "+strings.Join(e.Settings, "; "))
	}
	example := `candor catalog propose --metric ID --changes '{"thresholds": {"green": 3, "amber": 10}}' --reason "…"`
	if len(e.Metrics) == 0 {
		example = `candor catalog propose --setting NAME --value JSON --reason "…"`
	}
	return fmt.Sprintf("the configuration changes definitions recorded at first start (%s): %s. "+
		"Definitions and value-changing settings change only through approved proposals: give each in the configuration "+
		"(and the variables) as it was at first start or as approved proposals have put it in force, then propose the change: %s (or POST /api/v1/proposals)",
		e.Since.Format(time.DateOnly), strings.Join(parts, "; "), example)
}

// set is the stored form of an initial set, with its hash.
func (in Initial) set() (*InitialSet, error) {
	s := &InitialSet{Metrics: map[string]json.RawMessage{}, Settings: map[string]json.RawMessage{}, Source: in.Source}
	for id, o := range in.Metrics {
		b, err := canonicalYAML(o)
		if err != nil {
			return nil, fmt.Errorf("the override of %s: %w", id, err)
		}
		s.Metrics[id] = b
	}
	for k, v := range in.Settings {
		b, err := canonicalJSON(v)
		if err != nil {
			return nil, fmt.Errorf("setting %s: %w", k, err)
		}
		s.Settings[k] = b
	}
	h := sha256.New()
	for _, id := range slices.Sorted(maps.Keys(s.Metrics)) {
		fmt.Fprintf(h, "metric %s %s\n", id, s.Metrics[id])
	}
	for _, k := range slices.Sorted(maps.Keys(s.Settings)) {
		fmt.Fprintf(h, "setting %s %s\n", k, s.Settings[k])
	}
	s.SHA256 = hex.EncodeToString(h.Sum(nil))
	s.Sections = in.Sections
	return s, nil
}

// canonicalYAML is v's JSON under its YAML field names, keys sorted.
func canonicalYAML(v any) (json.RawMessage, error) {
	b, err := yaml.MarshalWithOptions(v, yaml.JSON())
	if err != nil {
		return nil, err
	}
	return canonicalJSON(b)
}

// canonicalJSON re-encodes JSON with sorted keys and no spaces.
func canonicalJSON(b []byte) (json.RawMessage, error) {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, err
	}
	return json.Marshal(x)
}

// Init records the configuration's initial set at first start (a proposal
// under InitialKey, chained in the ledger), or, at a later start, refuses
// one that differs from what is recorded (*ChangedError,
// *SectionChangedError); then it loads. A later configuration may give
// each definition, setting and section as it was at first start or as
// approved proposals have put it in force now: the file need not stay as
// it was once its changes are approved, but any other value, which no
// approval put in force, is refused.
func (r *Registry) Init(ctx context.Context, in Initial) error {
	return r.init(ctx, in, true)
}

// Check is Init for a command that computes nothing from the definitions
// (candor user, candor token): on a store whose initial set is not
// recorded yet, nothing is recorded — the first command that reads the
// definitions records the configuration it is given — and the store loads
// with none; on one whose set is recorded, the configuration is checked
// as Init checks it — a section recorded in a document of its own too —
// and a section recorded in no document is not recorded now either.
func (r *Registry) Check(ctx context.Context, in Initial) error {
	return r.init(ctx, in, false)
}

func (r *Registry) init(ctx context.Context, in Initial, record bool) error {
	set, err := in.set()
	if err != nil {
		return err
	}
	var doc store.Doc
	created := false
	if record {
		body, err := json.Marshal(Proposal{Reason: "the configuration's definitions and settings at first start", By: "config", At: r.now(), Initial: set})
		if err != nil {
			return err
		}
		if doc, created, err = r.Docs.AppendDocOnce(ctx, Proposals, InitialKey, body); err != nil {
			return fmt.Errorf("recording the initial definitions: %w", err)
		}
	} else {
		var found bool
		if doc, found, err = r.Docs.DocByKey(ctx, Proposals, InitialKey); err != nil {
			return fmt.Errorf("reading the initial definitions: %w", err)
		}
		if !found {
			return r.Load(ctx)
		}
	}
	if !created {
		var was Proposal
		if err := json.Unmarshal(doc.Body, &was); err != nil || was.Initial == nil {
			return fmt.Errorf("the recorded initial definitions (document %d) cannot be read: %v", doc.ID, err)
		}
		if was.Initial.SHA256 != set.SHA256 {
			if err := r.changed(ctx, was, *set, in); err != nil {
				return err
			}
		}
		if err := r.checkSections(ctx, was, in, record); err != nil {
			return err
		}
	}
	return r.Load(ctx)
}

// folded is every proposal folded with its decisions, read now (Init
// compares with what is in force before it loads).
func (r *Registry) folded(ctx context.Context) (*State, error) {
	props, decs, _, err := r.read(ctx)
	if err != nil {
		return nil, err
	}
	return Fold(props, decs), nil
}

// changed says how the configuration differs from the initial set recorded
// at first start and from the definitions and settings in force now, nil
// when each metric and setting it gives is as one of them has it. Settings
// are compared as the configuration gives them now (config.Config.Governed:
// null for a value that leaves every effective value as its default does),
// the recorded ones and those in force put through the same: a store whose
// first start recorded attribution_window: 24h starts with it removed, and
// one that recorded nothing with the default written out. A metric's
// override is compared by the definition it gives (catalog.Metric.
// SameDefinition) with the one in force, the initial override and the
// approved changes applied.
func (r *Registry) changed(ctx context.Context, was Proposal, now InitialSet, in Initial) error {
	recorded := was.Initial.Settings
	if rc, err := r.Config.WithRecordedSettings(was.Initial.Settings); err == nil {
		if g, err := rc.Governed(); err == nil {
			recorded = map[string]json.RawMessage{}
			for k := range was.Initial.Settings {
				recorded[k] = g[k]
			}
		}
	}
	var metricIDs, settings []string
	for _, id := range union(was.Initial.Metrics, now.Metrics) {
		if !bytes.Equal(was.Initial.Metrics[id], now.Metrics[id]) {
			metricIDs = append(metricIDs, id)
		}
	}
	for _, k := range union(recorded, now.Settings) {
		if !bytes.Equal(recorded[k], now.Settings[k]) {
			settings = append(settings, k)
		}
	}
	if len(metricIDs) == 0 && len(settings) == 0 {
		return nil
	}
	st, err := r.folded(ctx)
	if err != nil {
		return err
	}
	t := r.now()
	e := &ChangedError{Since: was.At}
	if len(metricIDs) > 0 {
		changes, err := st.Changes()
		if err != nil {
			return err
		}
		for _, id := range metricIDs {
			o, given := in.Metrics[id]
			if !r.definitionInForce(changes, id, o, given, t) {
				e.Metrics = append(e.Metrics, id)
			}
		}
	}
	inForce := r.settingsInForce(st, t)
	for _, k := range settings {
		v, ok := inForce[k]
		if ok && bytes.Equal(v, now.Settings[k]) {
			continue
		}
		s := k
		if v := in.Env[k]; v != "" {
			s += " (set by " + v + ")"
		}
		s += ": " + settingWords(was.Initial.Settings[k]) + " at first start, "
		if ok && !bytes.Equal(v, recorded[k]) {
			by, _ := st.SettingSource(k, t)
			if by == "" {
				by = "an approved proposal"
			}
			s += settingWords(v) + " in force (" + by + "), "
		}
		s += "now " + settingWords(now.Settings[k])
		e.Settings = append(e.Settings, s)
	}
	if len(e.Metrics) == 0 && len(e.Settings) == 0 {
		return nil
	}
	return e
}

// definitionInForce reports whether the configuration's override of a
// metric (given: it has one) defines it as the changes in force (the
// initial set's overrides and the approved proposals, State.Changes) have
// it at t.
func (r *Registry) definitionInForce(changes []catalog.Change, id string, o catalog.Override, given bool, t time.Time) bool {
	var own, file []catalog.Change
	for _, c := range changes {
		if c.Metric == id {
			own = append(own, c)
		}
	}
	if given {
		file = []catalog.Change{{Metric: id, Override: o, Ref: "configuration"}}
	}
	inForce, err := r.definitionAt(own, id, t)
	if err != nil {
		return false
	}
	fromFile, err := r.definitionAt(file, id, t)
	return err == nil && inForce.SameDefinition(fromFile)
}

// definitionAt is the metric's definition at t that the changes (of it
// alone) make of the built-in one.
func (r *Registry) definitionAt(changes []catalog.Change, id string, t time.Time) (*catalog.Metric, error) {
	g := r.Catalog.Governed()
	if err := g.Govern(changes); err != nil {
		return nil, err
	}
	m, ok := g.Metric(id)
	if !ok {
		return nil, fmt.Errorf("no metric %q in the catalog", id)
	}
	return m.At(t), nil
}

// settingsInForce are the governed settings' values in force at t, as
// config.Config.Governed gives them (canonical JSON); nil when they cannot
// be read.
func (r *Registry) settingsInForce(st *State, t time.Time) map[string]json.RawMessage {
	rc, err := r.Config.WithRecordedSettings(st.SettingsAt(t))
	if err != nil {
		return nil
	}
	g, err := rc.Governed()
	if err != nil {
		return nil
	}
	out := map[string]json.RawMessage{}
	for k, v := range g {
		if b, err := canonicalJSON(v); err == nil {
			out[k] = b
		}
	}
	return out
}

// settingWords is a recorded setting's value for the refusal's reader.
func settingWords(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return "not set (its default)"
	}
	return string(v)
}

func union(a, b map[string]json.RawMessage) []string {
	keys := slices.Sorted(maps.Keys(a))
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// read loads every proposal and decision.
func (r *Registry) read(ctx context.Context) ([]Proposal, []Decision, [2]int64, error) {
	var seen [2]int64
	pdocs, err := r.Docs.Docs(ctx, Proposals, 0)
	if err != nil {
		return nil, nil, seen, err
	}
	ddocs, err := r.Docs.Docs(ctx, Decisions, 0)
	if err != nil {
		return nil, nil, seen, err
	}
	props := make([]Proposal, 0, len(pdocs))
	for _, d := range pdocs {
		var p Proposal
		if err := json.Unmarshal(d.Body, &p); err != nil {
			return nil, nil, seen, fmt.Errorf("proposal %d: %w", d.ID, err)
		}
		p.ID = d.ID
		props = append(props, p)
		seen[0] = max(seen[0], d.ID)
	}
	decs := make([]Decision, 0, len(ddocs))
	for _, d := range ddocs {
		var x Decision
		if err := json.Unmarshal(d.Body, &x); err != nil {
			return nil, nil, seen, fmt.Errorf("decision %d: %w", d.ID, err)
		}
		x.ID = d.ID
		decs = append(decs, x)
		seen[1] = max(seen[1], d.ID)
	}
	return props, decs, seen, nil
}

// Load reads the proposals and decisions and puts the definitions and
// settings they make in force: the catalog's history and the engine's
// epochs.
func (r *Registry) Load(ctx context.Context) error {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	props, decs, seen, err := r.read(ctx)
	if err != nil {
		return err
	}
	st := Fold(props, decs)
	changes, err := st.Changes()
	if err != nil {
		return err
	}
	if err := r.Catalog.Govern(changes); err != nil {
		return fmt.Errorf("the approved definitions: %w", err)
	}
	epochs, err := st.Epochs(r.Config)
	if err != nil {
		return err
	}
	if r.Engine != nil {
		b, _ := json.Marshal(epochs)
		if sig := string(b); sig != r.epochs {
			if err := r.Engine.SetEpochs(ctx, epochs); err != nil {
				return err
			}
			r.epochs = sig
		}
	}
	r.state, r.seen = st, seen
	return nil
}

// Refresh loads again when a proposal or decision was appended since the
// last load (by this process or another instance); cheap otherwise.
func (r *Registry) Refresh(ctx context.Context) error {
	var seen [2]int64
	for i, coll := range []string{Proposals, Decisions} {
		d, err := r.Docs.Docs(ctx, coll, 1)
		if err != nil {
			return err
		}
		if len(d) > 0 {
			seen[i] = d[0].ID
		}
	}
	r.loadMu.Lock()
	same := r.state != nil && seen == r.seen
	r.loadMu.Unlock()
	if same {
		return nil
	}
	return r.Load(ctx)
}

// State returns the state last loaded (refreshed first).
func (r *Registry) State(ctx context.Context) (*State, error) {
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.state, nil
}

// EpochsNow are the settings in force now.
func (r *Registry) SettingsNow(ctx context.Context) (metrics.Config, error) {
	st, err := r.State(ctx)
	if err != nil {
		return metrics.Config{}, err
	}
	ep, err := st.Epochs(r.Config)
	if err != nil {
		return metrics.Config{}, err
	}
	return ep[len(ep)-1].Config, nil
}

// standing evaluates a metric's version m at t, at organisation level and
// in the scopes given.
func (r *Registry) standing(ctx context.Context, m *catalog.Metric, t time.Time, scopes []metrics.Scope) (*Standing, error) {
	s := &Standing{AsOf: t, Version: m.Version}
	if r.Engine == nil || !scorecard.Computed(m) {
		s.Status, s.Reason = catalog.Unknown, "not computed"
		return s, nil
	}
	err := r.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		c := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: t}, metrics.Scope{}, false)
		s.Status, s.Number, s.Reason = c.Status, c.Value, c.Reason
		for _, sc := range scopes {
			if sc.IsZero() {
				continue
			}
			c := scorecard.Evaluate(ds, m, scorecard.Options{AsOf: t}, sc, false)
			s.Scopes = append(s.Scopes, ScopeStatus{Scope: sc.String(), Status: c.Status})
		}
		return nil
	})
	return s, err
}

// redWhere reports whether the standing is red where a loosening applies.
func redWhere(s *Standing, ls []catalog.Loosening) bool {
	for _, l := range ls {
		if l.Dim == "" {
			if s.Status == catalog.Red {
				return true
			}
			continue
		}
		for _, sc := range s.Scopes {
			if sc.Scope == l.Dim+":"+l.Value && sc.Status == catalog.Red {
				return true
			}
		}
	}
	return false
}

func loosenScopes(ls []catalog.Loosening) []metrics.Scope {
	var out []metrics.Scope
	for _, l := range ls {
		if l.Dim != "" {
			out = append(out, metrics.Scope{Dim: l.Dim, Value: l.Value})
		}
	}
	return out
}

// Propose checks and stores a proposal made by by (auth.Person). The
// metric's standing (version and status at organisation level, and in a
// loosened scope) is recorded with it, and a loosening of a red metric
// needs two approvals.
func (r *Registry) Propose(ctx context.Context, in Input, by string) (*View, error) {
	reason, err := checkReason(in.Reason)
	if err != nil {
		return nil, err
	}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	now := r.now()
	p := Proposal{Reason: reason, By: by, At: now, Needs: 1}
	switch {
	case in.Metric != "" && in.Setting != "":
		return nil, domain.InvalidParam("setting", "a proposal changes a metric or a setting, not both")
	case in.Section != "" && (in.Metric != "" || in.Setting != ""):
		return nil, domain.InvalidParam("section", "a proposal changes a metric, a setting or a section, one of them")
	case in.Section != "":
		if err := r.proposeSection(ctx, in, &p); err != nil {
			return nil, err
		}
	case in.Metric != "":
		if len(bytes.TrimSpace(in.Value)) > 0 {
			return nil, domain.InvalidParam("value", "a metric's proposal gives changes, not a value")
		}
		ch, err := parseChanges(in.Changes)
		if err != nil {
			return nil, err
		}
		next, old, err := r.Catalog.Next(catalog.Change{Metric: in.Metric, At: now, Override: ch.override, Retire: ch.retire, Ref: "this proposal"})
		switch {
		case old == nil:
			// The body's fault, named as the other bodies name an unknown
			// metric (a reconciliation's): a 400 naming metric.
			return nil, domain.InvalidParam("metric", "unknown metric %q%s (candor catalog list and GET /api/v1/metrics list them)", in.Metric, r.didYouMean(in.Metric, in.Visible))
		case err != nil:
			return nil, &domain.Error{Code: domain.EInvalid, Param: "changes", Message: strings.TrimPrefix(err.Error(), "this proposal: ")}
		case next.Version == old.Version:
			return nil, domain.Errorf(domain.EConflict, "the proposal changes nothing: version %d of %s already has these values", old.Version, in.Metric)
		}
		p.Metric = in.Metric
		if p.Changes, err = canonicalJSON(in.Changes); err != nil {
			return nil, domain.InvalidParam("changes", "%v", err)
		}
		p.Loosens = catalog.Loosens(old, next)
		if p.Before, err = r.standing(ctx, old, now, loosenScopes(p.Loosens)); err != nil {
			return nil, err
		}
		if redWhere(p.Before, p.Loosens) {
			p.Needs = 2
		}
	case in.Setting != "":
		// The name is checked first: checkSetting's refusal of it would
		// be the value's mistake.
		if err := config.CheckGoverned(in.Setting); err != nil {
			return nil, domain.InvalidParam("setting", "%v", err)
		}
		if len(bytes.TrimSpace(in.Changes)) > 0 {
			return nil, domain.InvalidParam("changes", "a setting's proposal gives a value, not changes")
		}
		raw := bytes.TrimSpace(in.Value)
		if len(raw) == 0 {
			return nil, domain.InvalidParam("value", "required: the setting's new value as JSON (null restores the default)")
		}
		v, err := canonicalJSON(raw)
		if err != nil {
			return nil, domain.InvalidParam("value", "%v", err)
		}
		r.loadMu.Lock()
		inForce := r.state.SettingsAt(now)
		r.loadMu.Unlock()
		was := inForce[in.Setting]
		if bytes.Equal(was, v) {
			return nil, domain.Errorf(domain.EConflict, "the proposal changes nothing: %s is already %s", in.Setting, v)
		}
		effective, next, err := r.checkSetting(ctx, inForce, in.Setting, v)
		if err != nil {
			return nil, err
		}
		// A value equal to the one in force (the configuration's or the
		// default, recorded by no proposal) changes nothing either, as a
		// metric's proposal keeping its values does not.
		if bytes.Equal(effective, next) {
			return nil, domain.Errorf(domain.EConflict, "the proposal changes nothing: %s is already %s in force", in.Setting, effective)
		}
		p.Setting, p.Value = in.Setting, v
		p.Before = &Standing{AsOf: now, Setting: was, Effective: effective}
	default:
		return nil, domain.InvalidParam("metric", `name a metric and its changes ({"metric": ID, "changes": {…}}), a setting and its value ({"setting": NAME, "value": …}) or a section and its text ({"section": NAME, "value": "YAML"})`)
	}
	body, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	doc, err := r.Docs.AppendDoc(ctx, Proposals, body)
	if err != nil {
		return nil, err
	}
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	return r.view(doc.ID)
}

// checkSetting checks a setting's new value as the configuration file's
// would be, together with the other settings in force (a currency is
// checked against the exchange rates approved since the file, not the
// file's), and refuses one that leaves money of the stored records with
// no way into the organisation currency where there was one: every money
// metric would turn unknown on approval. It returns the setting's
// effective value in force, defaults applied, for the proposal to show
// what it changes from, and the one the proposal would put in force, each
// as the configuration writes it (metrics.Written: "24h", not Go's
// nanoseconds).
func (r *Registry) checkSetting(ctx context.Context, inForce map[string]json.RawMessage, name string, v json.RawMessage) (was, next json.RawMessage, err error) {
	cur, err := r.Config.WithRecordedSettings(inForce)
	if err != nil {
		return nil, nil, fmt.Errorf("the settings in force: %w", err)
	}
	// The value proposed is checked as the file's would be; the others
	// in force as recorded.
	if _, err := r.Config.WithSettings(map[string]json.RawMessage{name: v}); err != nil {
		return nil, nil, domain.InvalidParam("value", "%v", err)
	}
	values := maps.Clone(inForce)
	values[name] = v
	nextCfg, err := r.Config.WithRecordedSettings(values)
	if err != nil {
		return nil, nil, domain.InvalidParam("value", "%v", err)
	}
	before, err := cur.EngineConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("the settings in force: %w", err)
	}
	after, err := nextCfg.EngineConfig()
	if err != nil {
		return nil, nil, domain.InvalidParam("value", "%v", err)
	}
	if r.Engine != nil {
		var lost []string
		if err := r.Engine.Read(ctx, func(ds *metrics.Dataset) error {
			held := ds.Currencies()
			prior := before.Unconvertible(held)
			lost = slices.DeleteFunc(after.Unconvertible(held), func(c string) bool {
				return slices.Contains(prior, c)
			})
			return nil
		}); err != nil {
			return nil, nil, err
		}
		if len(lost) > 0 {
			return nil, nil, domain.InvalidParam("value", "%s: %s would leave the stored money in %s with no exchange rate into %s, and every money metric reading it unknown; "+
				"propose exchange_rates with a rate for each first (how many %s one unit of it is worth)",
				name, v, strings.Join(lost, ", "), after.Currency, after.Currency)
		}
	}
	if was, err = effectiveWritten(before, name); err != nil {
		return nil, nil, err
	}
	if next, err = effectiveWritten(after, name); err != nil {
		return nil, nil, err
	}
	return was, next, nil
}

// didYouMean is " (did you mean X?)" for the metric visible (nil: any)
// that id most likely means (catalog.Nearest), or "".
func (r *Registry) didYouMean(id string, visible func(*catalog.Metric) bool) string {
	if near := r.Catalog.Nearest(id, visible); near != "" {
		return fmt.Sprintf(" (did you mean %s?)", near)
	}
	return ""
}

// effectiveWritten is the setting's effective value under cfg, as the
// configuration writes it (metrics.Written).
func effectiveWritten(cfg metrics.Config, name string) (json.RawMessage, error) {
	settings, _, err := metrics.EffectiveSettings(cfg)
	if err != nil {
		return nil, err
	}
	for _, s := range settings {
		if string(s.Name) == name {
			return json.Marshal(metrics.Written(s.Value))
		}
	}
	return nil, fmt.Errorf("setting %s: no effective value", name)
}

func (r *Registry) view(id int64) (*View, error) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	v, ok := r.state.Get(id)
	if !ok {
		return nil, domain.Errorf(domain.ENotFound, "no proposal %d", id)
	}
	out := *v
	return &out, nil
}

// ErrOwnProposal refuses an approval by the proposer.
var ErrOwnProposal = domain.Errorf(domain.EForbidden,
	"rule: an approver must not be the proposer (SPEC §5: a definition change is approved by an executive other than the one who proposed it)")

// ExecutiveRole is the role whoever decides a proposal must hold, whatever
// permissions an organisation grants other roles (SPEC §5).
const ExecutiveRole = "executive"

// ErrNotExecutive refuses a decision by someone without the executive role.
var ErrNotExecutive = domain.Errorf(domain.EForbidden,
	"rule: an approver must hold the executive role (SPEC §5: a definition change is approved or rejected by an executive)")

// CheckDecider refuses (ErrNotExecutive) a decider whose roles lack
// ExecutiveRole: definitions:approve granted to another role in the
// configuration does not make its holders executives.
func CheckDecider(roles []string) error {
	if !slices.Contains(roles, ExecutiveRole) {
		return ErrNotExecutive
	}
	return nil
}

// Decide approves or rejects a proposal for by (auth.Person), who holds
// definitions:approve (the caller checks that). An approver must not be
// the proposer (ErrOwnProposal, 403); a proposal that loosens a metric
// red now, or when proposed, needs two approvers; the approval that
// completes a proposal puts it in force at once.
func (r *Registry) Decide(ctx context.Context, id int64, decision, reason, by string) (*View, error) {
	v, err := r.decide(ctx, id, decision, reason, by)
	if err == nil && r.Decided != nil {
		r.Decided(ctx)
	}
	return v, err
}

func (r *Registry) decide(ctx context.Context, id int64, decision, reason, by string) (*View, error) {
	reason, err := checkReason(reason)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	v, err := r.view(id)
	if err != nil {
		return nil, err
	}
	now := r.now()
	d := Decision{Proposal: id, Decision: decision, Reason: reason, By: by, At: now}
	switch {
	case v.Status != Open:
		return nil, domain.Errorf(domain.EConflict, "proposal %d was %s already", id, v.Status)
	case decision == Reject:
	case decision != Approve:
		return nil, domain.InvalidParam("decision", "%q is not approve or reject", decision)
	case by == v.By:
		return nil, ErrOwnProposal
	case slices.ContainsFunc(v.Approvals, func(a Decision) bool { return a.By == by }):
		return nil, domain.Errorf(domain.EConflict, "%s has approved proposal %d already; it needs the approval of another executive", by, id)
	default:
		d.Needs = v.Needed
		if v.Section != "" {
			// What changed since it was proposed (another section, a
			// definition) may leave it naming what is no longer there:
			// approving it would stop the next start.
			p := v.Proposal
			next, err := r.checkSection(r.state, v.Section, p.label(), []byte(v.Source), now)
			if err != nil {
				return nil, domain.Errorf(domain.EConflict, "approving proposal %d would make an invalid configuration: %v", id, err)
			}
			// Approved, the section is in force at once in the running
			// servers: gate policies whose rollback webhook could not be
			// signed there are refused now, as serve refuses them at
			// start, not found out at the first rollback. The environment
			// is this process's: a server's, when approved through it.
			if v.Section == config.GatesSection {
				if err := next.CheckWatchSecret(); err != nil {
					return nil, domain.Errorf(domain.EConflict, "approving proposal %d: %v: set it where candor serve runs (and where the approval is made) first", id, err)
				}
			}
			if v.Section == config.CustomMetricsSection {
				if err := r.checkDroppedOpen(id, next, now); err != nil {
					return nil, err
				}
			}
		}
		if v.Metric != "" {
			// Red now counts as much as red when proposed: the rule holds
			// while the metric is red.
			ch, err := v.catalogChange(now)
			if err != nil {
				return nil, err
			}
			next, old, err := r.Catalog.Next(ch)
			if err != nil {
				return nil, domain.Errorf(domain.EConflict, "approving proposal %d would make an invalid definition: %v", id, err)
			}
			if ls := catalog.Loosens(old, next); len(ls) > 0 {
				s, err := r.standing(ctx, old, now, loosenScopes(ls))
				if err != nil {
					return nil, err
				}
				if redWhere(s, ls) {
					d.Needs = max(d.Needs, 2)
				}
			}
		}
	}
	body, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	if _, err := r.Docs.AppendDoc(ctx, Decisions, body); err != nil {
		return nil, err
	}
	if err := r.Load(ctx); err != nil {
		return nil, err
	}
	return r.view(id)
}

// List returns every proposal (the initial set aside), newest first.
func (r *Registry) List(ctx context.Context) ([]View, error) {
	st, err := r.State(ctx)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(st.Proposals)
	slices.Reverse(out)
	return out, nil
}

// Get returns one proposal.
func (r *Registry) Get(ctx context.Context, id int64) (*View, error) {
	if _, err := r.State(ctx); err != nil {
		return nil, err
	}
	return r.view(id)
}

// Version is one version of a metric's definition in its history.
type Version struct {
	Version   int                 `json:"version"`
	From      *time.Time          `json:"from"` // nil: from the start
	Ref       string              `json:"ref,omitempty"`
	Proposal  int64               `json:"proposal,omitempty"`
	Changes   []string            `json:"changes,omitempty"`
	Retired   bool                `json:"retired,omitempty"`
	Owner     string              `json:"owner"`
	Window    string              `json:"window"`
	Target    *float64            `json:"target"`
	Threshold *catalog.Thresholds `json:"thresholds"`
	MinSample int                 `json:"min_sample"`
	Approvals []Decision          `json:"approvals,omitempty"`
	Reason    string              `json:"reason,omitempty"`
}

// History is a metric's versions, oldest first, and every proposal made
// for it (open and rejected ones included), newest first.
type History struct {
	Metric    string    `json:"metric"`
	Versions  []Version `json:"versions"`
	Proposals []View    `json:"proposals"`
	// Section is "custom_metrics" for an organisation's metric, whose
	// computation and catalog attributes change through that section (its
	// Versions count the metric proposals only); Computations are the
	// section's values that defined or changed the metric, each with what
	// it changed.
	Section      string               `json:"section,omitempty"`
	Computations []ComputationVersion `json:"computations,omitempty"`
}

// Source says what put version v of the history's metric in force: its
// Ref ("proposal 3", "configuration"), "built-in" for the catalog's own,
// or the section an organisation's metric is defined in. The CLI and the
// metric's page word a version alike through it.
func (h *History) Source(v Version) string {
	switch {
	case v.Ref != "":
		return v.Ref
	case h.Section != "":
		return "the organisation's own, section " + h.Section
	}
	return "built-in"
}

// ComputationVersion is a custom_metrics value that defined or changed an
// organisation's metric.
type ComputationVersion struct {
	// SectionVersion is the section's version (catalog history --section).
	SectionVersion int        `json:"section_version"`
	From           *time.Time `json:"from"` // nil: from the start
	Ref            string     `json:"ref"`
	Proposal       int64      `json:"proposal,omitempty"`
	// Changes are the metric's fields it changed (SectionChange, paths
	// under custom_metrics[ID]); Removed, that it dropped the metric.
	Changes []string `json:"changes"`
	Removed bool     `json:"removed,omitempty"`
	// changes are Changes as the diff gave them, for Defines and Shown to
	// read rather than parse the words back.
	changes []SectionChange
}

// MetricHistory returns a metric's history.
func (r *Registry) MetricHistory(ctx context.Context, id string) (*History, error) {
	st, err := r.State(ctx)
	if err != nil {
		return nil, err
	}
	return r.HistoryIn(st, id)
}

// HistoryIn returns a metric's history in st: for a caller reading many
// metrics' histories from one state (an evidence pack), so they agree and
// the store is asked once.
func (r *Registry) HistoryIn(st *State, id string) (*History, error) {
	// An organisation's metric a custom_metrics value has dropped keeps
	// its history, as a retired one does: the values that defined,
	// changed and removed it, and the proposals that named it.
	m, inForce := r.Catalog.Metric(id)
	if !inForce && !st.CustomDefined(id) {
		return nil, domain.Errorf(domain.ENotFound, "unknown metric %q", id)
	}
	h := &History{Metric: id, Versions: []Version{}, Proposals: []View{}}
	if inForce {
		prev := 0
		for _, v := range m.Versions() {
			ver := Version{Version: v.Version, Ref: v.Ref, Retired: v.Retired, Owner: v.Owner, Window: catalog.FormatWindow(v.Window),
				Target: v.Target, Threshold: v.Thresholds, MinSample: v.MinSample, Changes: v.Overridden[min(prev, len(v.Overridden)):]}
			prev = len(v.Overridden)
			if !v.From.IsZero() {
				f := v.From
				ver.From = &f
			}
			for _, p := range st.Proposals {
				if p.Ref() == v.Ref {
					ver.Proposal, ver.Approvals, ver.Reason = p.ID, p.Approvals, p.Reason
				}
			}
			if v.Ref == "configuration" && st.Initial != nil {
				ver.Reason = st.Initial.Reason
			}
			h.Versions = append(h.Versions, ver)
		}
	}
	for i := len(st.Proposals) - 1; i >= 0; i-- {
		if st.Proposals[i].Metric == id {
			h.Proposals = append(h.Proposals, st.Proposals[i])
		}
	}
	if !inForce || m.Custom {
		if err := customHistory(st, h); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// CustomDefined reports whether a value of the custom_metrics section,
// in force now or before, defined an organisation's metric with the id.
func (s *State) CustomDefined(id string) bool {
	for _, v := range s.SectionHistory("custom_metrics").Versions {
		var value struct {
			Metrics []struct {
				ID string `json:"id"`
			} `json:"custom_metrics"`
		}
		if json.Unmarshal(v.Value, &value) != nil {
			continue
		}
		for _, m := range value.Metrics {
			if m.ID == id {
				return true
			}
		}
	}
	return false
}

// computationFields are a definition's computation (what the formula
// version hashes).
var computationFields = []string{"kind", "time", "span", "filter", "value", "aggregate", "p", "matching"}

// Defines reports whether the value defined the metric (every change an
// addition).
func (c ComputationVersion) Defines() bool {
	for _, ch := range c.changes {
		if !ch.Added {
			return false
		}
	}
	return len(c.changes) > 0
}

// Shown are the changes a reader of the history is shown: of a definition,
// its computation (its catalog attributes are the metric's page's); of a
// change, every field changed.
func (c ComputationVersion) Shown() []string {
	if !c.Defines() {
		return c.Changes
	}
	var out []string
	for _, ch := range c.changes {
		if slices.Contains(computationFields, ch.Path) {
			out = append(out, ch.Path+": "+ch.New)
		}
	}
	return out
}

// customHistory adds to h the custom_metrics values that defined or
// changed the organisation's metric: its history had listed only the
// metric proposals, its first version "from the start (built-in)", and
// nothing of a filter or aggregate an approved section had changed.
func customHistory(st *State, h *History) error {
	h.Section = "custom_metrics"
	prefix := "custom_metrics[" + h.Metric + "]"
	var prev json.RawMessage
	for _, v := range st.SectionHistory(h.Section).Versions {
		changes, err := DiffSection(prev, v.Value)
		if err != nil {
			return err
		}
		prev = v.Value
		cv := ComputationVersion{SectionVersion: v.Version, From: v.From, Ref: v.Ref, Proposal: v.Proposal}
		for _, c := range changes {
			switch {
			case c.Path == prefix && c.Removed:
				cv.Removed = true
			case strings.HasPrefix(c.Path, prefix+"."):
				c.Path = strings.TrimPrefix(c.Path, prefix+".")
				cv.Changes = append(cv.Changes, c.String())
				cv.changes = append(cv.changes, c)
			case c.Path == "the section" && c.Removed, c.Path == "custom_metrics" && c.Removed:
				cv.Removed = true
			}
		}
		if cv.Removed || len(cv.Changes) > 0 {
			h.Computations = append(h.Computations, cv)
		}
	}
	return nil
}

// ErrNoRegistry is what a caller without governance says.
var ErrNoRegistry = errors.New("definition governance is not set up on this server")

// checkDroppedOpen refuses the approval of a custom_metrics proposal that
// drops an organisation metric other proposals still propose to change:
// once it is dropped they could be neither approved ("no metric …") nor
// told apart from live ones, and stayed open for good. The proposer of
// the drop, or an executive, rejects them first (or the drop waits for
// their decision).
func (r *Registry) checkDroppedOpen(id int64, next config.Config, now time.Time) error {
	base, _, err := r.configureIn(r.state, r.Config, now)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	for _, m := range next.CustomMetricDefs {
		kept[m.ID] = true
	}
	open := map[string][]string{}
	var dropped []string
	for _, m := range base.CustomMetricDefs {
		if kept[m.ID] {
			continue
		}
		for _, p := range r.state.Proposals {
			if p.ID != id && p.Status == Open && p.Metric == m.ID {
				open[m.ID] = append(open[m.ID], strconv.FormatInt(p.ID, 10))
			}
		}
		if len(open[m.ID]) > 0 {
			dropped = append(dropped, m.ID)
		}
	}
	if len(dropped) == 0 {
		return nil
	}
	msgs := make([]string, len(dropped))
	for i, m := range dropped {
		msgs[i] = fmt.Sprintf("%s, which proposal %s still proposes to change", m, strings.Join(open[m], " and "))
		if len(open[m]) > 1 {
			msgs[i] = fmt.Sprintf("%s, which proposals %s still propose to change", m, strings.Join(open[m], " and "))
		}
	}
	return domain.Errorf(domain.EConflict, "approving proposal %d would drop %s: decide those first", id, strings.Join(msgs, "; "))
}

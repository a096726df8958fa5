package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/store"
)

// ScanOptions say how vulnerability scan reports map onto vulnerability
// records.
//
// Each scan report is taken as a full scan of one target: a finding the
// target's earlier scans reported and this one does not is fixed at this
// scan's time. The target is what stays the same from one scan to the
// next (an image repository, a code repository); a finding's id is a hash
// of the scanner, the target, the package and the vulnerability id, so a
// finding keeps its record, and its opened_at, across scans. Each full scan
// is also a record of its own (domain.VulnerabilityScan), whose time
// counts as vulnerability data: a scan that finds nothing new keeps the
// vulnerability metrics fresh, and a clean one gives them a value.
type ScanOptions struct {
	// Target names what was scanned, for every report of the import. Empty
	// takes the name the report gives (Trivy's ArtifactName, Grype's
	// source target, SARIF's repository or image); set it when that name
	// changes between scans of the same thing, such as a versioned image
	// tag.
	Target string
	// ScannedAt is when the scans ran; zero takes the time the report
	// gives (Trivy's CreatedAt, Grype's descriptor timestamp, SARIF's
	// invocation end time).
	ScannedAt time.Time
	// Service is the Candor service the findings belong to, if any.
	Service string
	// Severity maps a scanner's severity, or a SARIF level, to a Candor
	// severity (critical, high, medium, low), or to "" to leave such
	// findings out. Keys are compared case-insensitively; they add to and
	// override the scanner's defaults.
	Severity map[string]string
}

func (o *ScanOptions) check() error {
	sev := map[string]string{}
	for k, v := range o.Severity {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "skip" {
			v = ""
		}
		if v != "" && !contains(domain.Severities, v) {
			return domain.InvalidParam("severity", "%s=%s: map to critical, high, medium, low or skip", k, v)
		}
		sev[strings.ToLower(strings.TrimSpace(k))] = v
	}
	o.Severity = sev
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Severity defaults per scanner. Trivy's UNKNOWN and Grype's Negligible
// and Unknown are left out: SPEC has no such severity, and calling them
// low would start SLA clocks for what the scanner itself does not rate.
var (
	trivySeverities = map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low", "unknown": ""}
	grypeSeverities = map[string]string{"critical": "critical", "high": "high", "medium": "medium", "low": "low", "negligible": "", "unknown": ""}
	// SARIF levels say how sure and how serious a rule's result is, not a
	// security rating; a security-severity score wins where a result or
	// its rule has one, and is named critical, high, medium or low (or
	// none, for a score of 0).
	sarifLevels = map[string]string{
		"error": "high", "warning": "medium", "note": "low", "none": "",
		"critical": "critical", "high": "high", "medium": "medium", "low": "low",
	}
)

// scan is one report: a full or partial scan of one target.
type scan struct {
	file   string
	tool   string // the scanner, part of the target's identity
	target string
	at     time.Time
	// full is false when the report says the scan did not complete: its
	// findings are imported but nothing is closed.
	full     bool
	why      string // why a scan is not full
	raw      [32]byte
	found    []finding
	problems []ingest.Entry
}

// finding is one result of a scan, not yet mapped to a record.
type finding struct {
	at       where
	identity string // what was found vulnerable: package and place
	vuln     string // the vulnerability or rule id
	severity string // as the scanner wrote it
	// sevField is the member severity came from, as the report names it
	// (Trivy's Severity, SARIF's level), so that a problem with it names
	// what the user finds in their file, as every other problem does.
	sevField string
	pkg      string
	cve      string
	url      string
	kev      bool
	raw      [32]byte
}

var cveID = regexp.MustCompile(`^CVE-[0-9]{4}-[0-9]+$`)

func cveOf(ids ...string) string {
	for _, id := range ids {
		if cveID.MatchString(id) {
			return id
		}
	}
	return ""
}

// maxReport bounds one scan report read into memory.
const maxReport = 256 << 20

type scanParser func(file string, data []byte, opt ScanOptions) ([]*scan, error)

// scanEntries maps scan reports to vulnerability records. Reports are
// applied in the order they ran, each against the target's findings as
// stored and as changed by the reports before it, so one import of
// several scans ends as importing them one by one would.
func scanEntries(ctx context.Context, st store.Store, format Format, files []ingest.Source, opt Options) ([]ingest.Entry, []string, error) {
	parse := map[Format]scanParser{SARIF: parseSARIF, Trivy: parseTrivy, Grype: parseGrype}[format]
	defaults := map[Format]map[string]string{SARIF: sarifLevels, Trivy: trivySeverities, Grype: grypeSeverities}[format]
	sev := map[string]string{}
	for k, v := range defaults {
		sev[k] = v
	}
	for k, v := range opt.Scan.Severity {
		sev[k] = v
	}
	var scans []*scan
	for _, f := range files {
		err := eachFile(f, func(r io.Reader) error {
			data, err := io.ReadAll(io.LimitReader(r, maxReport+1))
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			if len(data) > maxReport {
				return fmt.Errorf("%s: larger than %d MiB, more than a scan report should be", f.Name, maxReport>>20)
			}
			s, err := parse(f.Name, data, opt.Scan)
			scans = append(scans, s...)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	sort.SliceStable(scans, func(i, j int) bool { return scans[i].at.Before(scans[j].at) })
	stored, err := storedFindings(ctx, st, opt.Source, scans)
	if err != nil {
		return nil, nil, err
	}
	a := &applier{opt: opt, sev: sev, state: stored, out: map[string]int{}}
	for _, s := range scans {
		a.apply(s)
	}
	return a.entries, a.notes, nil
}

// targetKey identifies a scanner's target in finding ids.
func targetKey(tool, target string) string {
	return shortHash(strings.ToLower(tool), target)
}

func shortHash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// episodes are the records of one finding, oldest first: the finding
// itself, and a new record ("#2", "#3", …) each time it comes back after
// being fixed, so a fix stays in the history.
type episodes []*domain.Vulnerability

func (e episodes) latest() *domain.Vulnerability {
	if len(e) == 0 {
		return nil
	}
	return e[len(e)-1]
}

// baseID splits a finding record's id into the finding and its episode.
func baseID(id string) (string, int) {
	base, n, ok := strings.Cut(id, "#")
	if !ok {
		return id, 1
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 2 {
		return id, 1
	}
	return base, k
}

// storedFindings reads, through the store's interface, the findings of
// the scans' targets stored under source, by finding.
func storedFindings(ctx context.Context, st store.Store, source string, scans []*scan) (map[string]episodes, error) {
	targets := map[string]bool{}
	for _, s := range scans {
		targets[targetKey(s.tool, s.target)] = true
	}
	out := map[string]episodes{}
	if len(targets) == 0 {
		return out, nil
	}
	_, err := st.Scan(ctx, 0, func(r store.Stored) error {
		if r.Key.Kind != domain.KindVulnerability || r.Key.Source != source {
			return nil
		}
		tk, _, ok := strings.Cut(r.Key.ID, "-")
		if !ok || !targets[tk] {
			return nil
		}
		var v domain.Vulnerability
		if err := json.Unmarshal(r.Body, &v); err != nil {
			return fmt.Errorf("stored finding %s: %w", r.Key, err)
		}
		base, _ := baseID(v.ID)
		out[base] = append(out[base], &v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, eps := range out {
		sort.Slice(eps, func(i, j int) bool {
			_, a := baseID(eps[i].ID)
			_, b := baseID(eps[j].ID)
			return a < b
		})
	}
	return out, nil
}

// applier turns scans into records, keeping the findings' state.
type applier struct {
	opt     Options
	sev     map[string]string
	state   map[string]episodes
	entries []ingest.Entry
	out     map[string]int // record id → its entry, so the last scan's word is the one imported
	notes   []string
}

func (a *applier) emit(id string, e ingest.Entry) {
	if i, ok := a.out[id]; ok {
		a.entries[i] = e
		return
	}
	a.out[id] = len(a.entries)
	a.entries = append(a.entries, e)
}

func (a *applier) apply(s *scan) {
	a.entries = append(a.entries, s.problems...)
	// A finding that could not be read (kept out with --skip-invalid) may
	// be one the scanner still reports: the scan does not say what is
	// absent, so it closes nothing and is no full scan's record.
	if s.full && len(s.problems) > 0 {
		s.full, s.why = false, count(len(s.problems), "finding")+" in it could not be read"
	}
	tk := targetKey(s.tool, s.target)
	present := map[string]bool{}
	var order []string
	best := map[string]finding{}
	skipped := map[string]int{}
	for _, f := range s.found {
		base := tk + "-" + shortHash(f.identity, f.vuln)
		present[base] = true
		mapped, ok := a.sev[strings.ToLower(f.severity)]
		if !ok {
			a.entries = append(a.entries, ingest.Entry{Problems: []ingest.LineError{f.at.problem(f.sevField,
				"%q is not a severity Candor knows for this scanner (map it: --severity '%s=high')", f.severity, strings.ToLower(f.severity))}})
			continue
		}
		if mapped == "" {
			skipped[f.severity]++
			continue
		}
		f.severity = mapped
		// A report can list one finding twice (a package in two layers):
		// one record, at the higher severity.
		if prev, ok := best[base]; ok {
			if domain.SeverityRank(f.severity) < domain.SeverityRank(prev.severity) {
				best[base] = f
			}
			continue
		}
		best[base] = f
		order = append(order, base)
	}
	for _, base := range order {
		a.found(s, base, best[base])
	}
	for sevName, n := range skipped {
		a.notes = append(a.notes, fmt.Sprintf("%s: %s with severity %q left out (not a Candor severity; --severity '%s=low' maps them)",
			s.file, count(n, "finding"), sevName, strings.ToLower(sevName)))
	}
	if !s.full {
		a.notes = append(a.notes, fmt.Sprintf("%s: %s; no finding of %s was closed", s.file, s.why, s.target))
		return
	}
	a.scanned(s, tk, len(order))
	closed := 0
	var bases []string
	for base := range a.state {
		if strings.HasPrefix(base, tk+"-") && !present[base] {
			bases = append(bases, base)
		}
	}
	sort.Strings(bases)
	for _, base := range bases {
		v := a.state[base].latest()
		if !v.FixedAt.IsZero() || !v.OpenedAt.Before(s.at) {
			continue
		}
		fixed := *v
		fixed.FixedAt = s.at
		body, err := json.Marshal(&fixed)
		if err != nil {
			continue
		}
		rec, err := domain.ParseJSON(body, domain.KindVulnerability, a.opt.Parse)
		if err != nil {
			a.entries = append(a.entries, ingest.Entry{Problems: []ingest.LineError{{File: s.file, Path: "$", Reason: fmt.Sprintf("closing stored finding %s: %v", fixed.ID, err)}}})
			continue
		}
		a.setLatest(base, rec.(*domain.Vulnerability))
		a.emit(fixed.ID, ingest.Entry{Record: rec, Raw: s.raw})
		closed++
	}
	if closed > 0 {
		a.notes = append(a.notes, fmt.Sprintf("%s: %s of %s no longer reported, fixed at %s",
			s.file, count(closed, "finding"), s.target, s.at.Format(time.RFC3339)))
	}
}

// scanned records that the full scan s of the target tk ran, reporting
// findings findings of a Candor severity (domain.VulnerabilityScan): its
// time is vulnerability data though it may change no finding's record.
// A partial scan has none, saying nothing of what is absent.
func (a *applier) scanned(s *scan, tk string, findings int) {
	at := s.at.UTC()
	rec := &domain.VulnerabilityScan{Meta: domain.Meta{ID: tk + "@" + at.Format(time.RFC3339Nano), Source: a.opt.Source},
		Scanner: s.tool, Target: s.target, Service: a.opt.Scan.Service, ScannedAt: at, Findings: findings}
	if err := rec.Check(); err != nil {
		var problems []ingest.LineError
		for _, fe := range domain.Problems(err) {
			problems = append(problems, ingest.LineError{File: s.file, Path: "$", Field: fe.Field, Reason: "the scan's record: " + fe.Reason})
		}
		a.entries = append(a.entries, ingest.Entry{Problems: problems})
		return
	}
	a.emit(string(domain.KindVulnerabilityScan)+" "+rec.ID, ingest.Entry{Record: rec, Raw: s.raw})
}

// found maps a finding the scan reports to its record: the open episode
// it continues, or a new one.
func (a *applier) found(s *scan, base string, f finding) {
	eps := a.state[base]
	latest := eps.latest()
	id, opened := base, s.at
	var fixed time.Time
	switch {
	case latest == nil:
	case latest.FixedAt.IsZero():
		id, opened = latest.ID, latest.OpenedAt
		// An older scan imported late: the finding was open earlier than
		// known, unless an earlier episode was still being fixed then.
		if s.at.Before(opened) && (len(eps) < 2 || !eps[len(eps)-2].FixedAt.After(s.at)) {
			opened = s.at
		}
	case !latest.FixedAt.After(s.at):
		// Fixed before this scan and reported again: a new episode.
		_, n := baseID(latest.ID)
		id = base + "#" + strconv.Itoa(n+1)
	case !latest.OpenedAt.After(s.at):
		return // an older scan, inside an episode already known
	default:
		id, fixed = latest.ID, latest.FixedAt
	}
	fs := newFields()
	fs.text("id", "", id)
	fs.text("source", "", a.opt.Source)
	fs.text("severity", "severity", f.severity)
	fs.time("opened_at", "", opened)
	fs.time("fixed_at", "", fixed)
	fs.text("service", "", a.opt.Scan.Service)
	fs.text("cve", "", f.cve)
	fs.bool("kev", "", f.kev)
	fs.text("package", "", f.pkg)
	fs.text("url", "", f.url)
	rec, problems := fs.parse(domain.KindVulnerability, a.opt.Parse, f.at)
	if problems != nil {
		a.entries = append(a.entries, ingest.Entry{Problems: problems})
		return
	}
	a.setLatest(base, rec.(*domain.Vulnerability))
	a.emit(id, ingest.Entry{Record: rec, Raw: f.raw})
}

// setLatest records v as the finding's current episode.
func (a *applier) setLatest(base string, v *domain.Vulnerability) {
	eps := a.state[base]
	if l := eps.latest(); l != nil && l.ID == v.ID {
		eps[len(eps)-1] = v
		return
	}
	a.state[base] = append(eps, v)
}

func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// scanTime is the scan's time: the option, else what the report says.
func scanTime(file string, opt ScanOptions, field, value string) (time.Time, error) {
	if !opt.ScannedAt.IsZero() {
		return opt.ScannedAt.UTC(), nil
	}
	if strings.TrimSpace(value) == "" {
		return time.Time{}, fmt.Errorf("%s: the report does not say when the scan ran (no %s): pass --scanned-at", file, field)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(value))
	if err != nil || t.IsZero() {
		return time.Time{}, fmt.Errorf("%s: %s %q is not an RFC 3339 time: pass --scanned-at", file, field, value)
	}
	return t.UTC(), nil
}

// scanTarget is the scan's target: the option, else what the report says.
func scanTarget(file string, opt ScanOptions, field, value string) (string, error) {
	if opt.Target != "" {
		return opt.Target, nil
	}
	if strings.TrimSpace(value) == "" {
		return "", fmt.Errorf("%s: the report does not name what was scanned (no %s): pass --target", file, field)
	}
	return strings.TrimSpace(value), nil
}

// decodeItem decodes one finding's JSON into v; a type mismatch becomes a
// problem naming the member.
func decodeItem(raw json.RawMessage, v any, at where) *ingest.Entry {
	err := json.Unmarshal(raw, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &ingest.Entry{Problems: []ingest.LineError{at.problem(te.Field, "must be %s, got a JSON %s", jsonType(te.Type.Kind().String()), te.Value)}}
	}
	return &ingest.Entry{Problems: []ingest.LineError{at.problem("", "%v", err)}}
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// reportError words a report that is not valid JSON of the expected shape.
func reportError(file, what string, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: not JSON: %v (at byte %d)", file, se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: not a %s: %s must be %s, got a JSON %s", file, what, te.Field, jsonType(te.Type.Kind().String()), te.Value)
	}
	return fmt.Errorf("%s: not a %s: %v", file, what, err)
}

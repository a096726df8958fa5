// Package evidence builds the evidence pack an auditor asks for (SPEC §5,
// issue 13): one zip archive for a period holding the definitions and
// settings in force, the KPI snapshots the ledger chained in the period, a
// sample of production releases with their change requests, incidents,
// rollbacks and post-mortems, release success by service tier, emergency
// changes and their retro-validation, the control checks of the period and
// the controls failing at its end per framework, the vulnerabilities past
// their SLA at its end, and the ledger's verification as of the period's
// end, with an index explaining each file.
//
// A pack depends only on the period, the records and the ledger up to its
// head as of the period's end: it names that head, verifies up to it,
// seeds its sample with it, and stamps every file with the period's end, so
// the same period over the same ledger head gives the same bytes, however
// much the ledger grew since.
package evidence

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/governance"
	"github.com/candor/candor/internal/health"
	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/schedule"
	"github.com/candor/candor/internal/store"
)

// Period is [From, To).
type Period struct {
	From, To time.Time
}

// Last is the period's last instant, not its end: what is stamped at To is
// the next period's (a version taking effect then, a control checked
// then), so a state "at the period's end" is the state at Last.
func (p Period) Last() time.Time { return p.To.Add(-time.Nanosecond) }

// ParsePeriod reads a period's bounds: RFC 3339 times, or dates, a date
// --to including its whole day. Errors name the parameter (from, to).
func ParsePeriod(from, to string) (Period, error) {
	var p Period
	var err error
	if p.From, err = bound("from", from, false); err != nil {
		return p, err
	}
	if p.To, err = bound("to", to, true); err != nil {
		return p, err
	}
	if !p.From.Before(p.To) {
		return p, domain.InvalidParam("to", "%s is not after from (%s)", to, from)
	}
	return p, nil
}

// FutureSlack is how far past the clock a period's end may lie: a day, as
// an as_of may (web.FutureSlack), so that a date --to of the day begun
// ahead of UTC is taken.
const FutureSlack = 24 * time.Hour

// CheckEnd refuses a period ending more than FutureSlack past now, naming
// to, as an as_of that far on is refused: the ledger and the records hold
// nothing then, so its head "as of the period's end" and the
// vulnerabilities past their SLA then would be today's, judged years on.
// A period ending after now but within the slack is packed, and its index
// says it had not ended (Summary.Open).
func (p Period) CheckEnd(now time.Time) error {
	if p.To.After(now.Add(FutureSlack)) {
		return domain.InvalidParam("to", "the period ends %s, in the future, more than a day past the clock (%s): a pack is of a period that has ended, or ends within a day",
			p.To.UTC().Format(time.RFC3339), now.UTC().Format("2006-01-02 15:04 MST"))
	}
	return nil
}

func bound(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, domain.InvalidParam(name, "required: a date (2026-03-01) or an RFC 3339 time")
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, domain.InvalidParam(name, "%q is not a date (2026-03-01) or an RFC 3339 time", v)
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, nil
}

// Input is what a pack is built from.
type Input struct {
	Store   store.Store
	Engine  *engine.Engine
	Catalog *catalog.Catalog
	// Keys verify the ledger; none: the store's sealer's public key.
	Keys []ed25519.PublicKey
	// Governance is the definition governance registry: the pack lists the
	// versions, proposals and approvals over the period from it. Nil: the
	// definitions in force at the period's end only.
	Governance *governance.Registry
	// Now is when the pack is built (zero: the clock): a period ending
	// after it has not ended, and its pack says so (Summary.Open).
	Now time.Time
	// Connectors are the configured connectors' health as of the period's
	// end (connect.Feeds), which the figures' freshness reads as the
	// scorecard's does.
	Connectors []health.Connector
}

// SampleSize is how many releases the random part of the sample holds.
const SampleSize = 25

// Summary says what a pack holds.
type Summary struct {
	// Open is true when the period had not ended when the pack was built:
	// Head is then the head at the build, not at the period's end, and a
	// pack built after the period ends may differ.
	Open bool
	// Head is the ledger's head as of the period's end: Seq 0 when it held
	// no entry then, and Intact is false, there being nothing verified.
	Head   store.LedgerHead
	Intact bool
	Files  []string
	// Releases are the period's production deployments, Sampled those in
	// the sample.
	Releases int
	Sampled  int
	// Snapshots are the KPI snapshots chained in the period; Mismatched
	// those whose stored document no longer has the chained SHA-256
	// (altered or removed since), which the ledger's own verification
	// cannot see: it chains the digest, not the document.
	Snapshots  int
	Mismatched int
	// Records is the check of every record stored before the period's
	// end against the hash stored with it (ledger.VerifyRecordsBefore):
	// the ledger chains a batch's hashes, not the bodies beside them, so
	// its own verification cannot see a body edited in the database.
	Records ledger.RecordsReport
	// Late are the records stored after the period's end and not dated
	// after it (ledger.LateRecords; none for a period not ended): the
	// files read them, the period's end did not have them.
	Late ledger.LateReport
	// Governance is the check of the proposal and decision documents
	// against their ledger entries (governanceCollections): the ledger chains
	// them field by field, but verifies its entries, not the documents.
	Governance ledger.DocsReport
	// Gates is the same check of the release gate decisions, approvals and
	// watch outcomes release_gates.json reads (checkGates): a decision's
	// verdict rewritten in the database had passed as intact in the pack
	// while candor ledger verify named it.
	Gates ledger.DocsReport
	// The security files (controls.json, vulnerabilities_past_sla.json):
	// ControlData is false when no control check was recorded at or
	// before the period's end, VulnerabilityData when no vulnerability
	// was and no full scan ran ("no data", never all passing). ControlChecks are the checks
	// made in the period (ControlChecksFailed of them failed), Controls
	// the controls checked at or before its end (ControlsFailing of them
	// failing their latest check then), PastSLA the vulnerabilities past
	// their SLA at its end.
	// Figures are the metrics figures.json states, FiguresUnknown those
	// of them with status unknown; FiguresUnavailable says why it states
	// none (figuresDoc).
	Figures, FiguresUnknown            int
	FiguresUnavailable                 string
	ControlData, VulnerabilityData     bool
	ControlChecks, ControlChecksFailed int
	Controls, ControlsFailing, PastSLA int
}

// Verdict says in a few words what the pack found: "intact" only when the
// ledger verified, every snapshot matches its ledger entry and every
// record its stored hash.
func (s Summary) Verdict() string {
	var out string
	switch {
	case s.Head.Seq == 0:
		out = "no ledger entries up to the period's end: nothing to verify"
	case !s.Intact:
		out = "ledger BROKEN (see ledger_verification.json)"
	case s.Mismatched == 0 && s.Records.Altered == 0 && s.Late.Altered == 0 && s.Governance.Altered == 0 && s.Gates.Altered == 0:
		return "intact"
	default:
		out = "ledger verifies"
	}
	if s.Mismatched > 0 {
		out += fmt.Sprintf("; NOT INTACT: %d of %d KPI snapshots no longer match their ledger entry (see kpi_snapshots.json)", s.Mismatched, s.Snapshots)
	}
	if g := s.Governance; g.Altered > 0 {
		out += fmt.Sprintf("; NOT INTACT: %d of %d proposals and decisions no longer match their ledger entry: %s (see definitions.json, governed.ledger_check)",
			g.Altered, g.Checked, namedFirst(g.First, g.Altered))
	}
	if g := s.Gates; g.Altered > 0 {
		out += fmt.Sprintf("; NOT INTACT: %d of %d release gate decisions, approvals and watch outcomes no longer match their ledger entry: %s (see release_gates.json, ledger_check)",
			g.Altered, g.Checked, namedFirst(g.First, g.Altered))
	}
	if l := s.Late; l.Altered > 0 {
		out += fmt.Sprintf("; NOT INTACT: %d of the %d records stored after the period's end no longer match the hash stored with them: %s (see ledger_verification.json, late_records)",
			l.Altered, l.Count, namedFirst(l.First, l.Altered))
	}
	if r := s.Records; r.Altered > 0 {
		out += fmt.Sprintf("; NOT INTACT: %d of %d records no longer match the hash stored with them: %s (see ledger_verification.json)",
			r.Altered, r.Checked, namedFirst(r.First, r.Altered))
	}
	return out
}

// figuresWords says what figures.json states: "61 metrics as of
// 2026-10-01T00:00:00Z over 92d, 9 of them unknown (each with its
// reason)", and the metrics left out for the reader.
func (s Summary) figuresWords(p Period) string {
	if s.FiguresUnavailable != "" {
		return "none: " + s.FiguresUnavailable
	}
	out := fmt.Sprintf("%d metrics as of %s over %s, the window of the period's length, as the scorecard computes them, %d of them unknown (each with its reason)",
		s.Figures, p.To.UTC().Format(time.RFC3339), catalog.FormatWindow(p.To.Sub(p.From)), s.FiguresUnknown)
	return out
}

// namedFirst names the first of total found, and how many more: "a, b
// and 3 more".
func namedFirst[T fmt.Stringer](first []T, total int64) string {
	names := make([]string, len(first))
	for i, a := range first {
		names[i] = a.String()
	}
	out := strings.Join(names, ", ")
	if n := total - int64(len(first)); n > 0 {
		out += fmt.Sprintf(" and %d more", n)
	}
	return out
}

// file is one entry of the archive: its name, what it holds (for the
// index), and its bytes.
type file struct {
	name, about string
	body        []byte
}

// Write builds the pack for p and writes it to w as a zip archive.
func Write(ctx context.Context, in Input, p Period, w io.Writer) (Summary, error) {
	files, sum, err := build(ctx, in, p)
	if err != nil {
		return sum, err
	}
	files = append(files, file{name: "index.md", body: index(p, sum, files)})
	slices.SortFunc(files, func(a, b file) int { return strings.Compare(a.name, b.name) })
	zw := zip.NewWriter(w)
	// Every entry is stamped with the period's end (zip cannot go before
	// 1980), never the clock, so two builds give the same bytes.
	stampAt := p.To
	if stampAt.Year() < 1980 {
		stampAt = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: stampAt})
		if err != nil {
			return sum, err
		}
		if _, err := fw.Write(f.body); err != nil {
			return sum, err
		}
		sum.Files = append(sum.Files, f.name)
	}
	return sum, zw.Close()
}

func build(ctx context.Context, in Input, p Period) ([]file, Summary, error) {
	var sum Summary
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	sum.Open = p.To.After(now)
	head, err := HeadAt(ctx, in.Store, p.To)
	if err != nil {
		return nil, sum, fmt.Errorf("reading the ledger head as of %s: %w", p.To.Format(time.RFC3339), err)
	}
	sum.Head = head
	var files []file
	add := func(name, about string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files = append(files, file{name: name, about: about, body: append(b, '\n')})
		return nil
	}
	// addPlain is add without escaping <, > and &: figures.json's API
	// requests read as they are typed ("?as_of=2026-04-01&window=31d",
	// not "\u0026window").
	addPlain := func(name, about string, v any) error {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		files = append(files, file{name: name, about: about, body: b.Bytes()})
		return nil
	}

	verification, err := verify(ctx, in, head)
	if err != nil {
		return nil, sum, err
	}
	// A period not ended has no late records: its end is ahead; the
	// records before it are picked by their ingestion.
	if sum.Open {
		verification.Records, err = ledger.VerifyRecordsBefore(ctx, in.Store, p.To)
	} else {
		verification.Records, verification.Late, err = ledger.VerifyRecordsAt(ctx, in.Store, p.To)
	}
	if err != nil {
		return nil, sum, fmt.Errorf("checking the records against their hashes: %w", err)
	}
	sum.Intact, sum.Records, sum.Late = verification.Intact, verification.Records, verification.Late
	if verification.Intact && (verification.Records.Altered > 0 || verification.Late.Altered > 0) {
		verification.Status, verification.Intact = "records altered", false
	}
	if err := add("ledger_verification.json", "The audit ledger verified from its first entry up to its head as of the period's end: "+
		"entries checked, that head (publish or compare it: `candor ledger verify --head SEQ:HASH`), the keys trusted, and the first broken entry if any; "+
		"and, under records, every record stored before the period's end checked against the hash stored with it, as `candor ledger verify` does: "+
		"how many, how many no longer match (a body changed in the database after it was written) and the first of those, and how many a "+
		"retention run after the period's end rewrote (redacted_after, by the runs' ledger entries redacted_by); under late_records, "+
		"the records stored after the period's end that are not dated after it — which the other files read as stored when the pack was "+
		"built, though the period's end did not have them — how many, when the first and last were stored, and those whose body no "+
		"longer matches its hash.", verification); err != nil {
		return nil, sum, err
	}

	snaps, err := snapshots(ctx, in.Store, p, head)
	if err != nil {
		return nil, sum, err
	}
	sum.Snapshots = len(snaps.Snapshots)
	for _, sn := range snaps.Snapshots {
		if !sn.MatchesLedger {
			sum.Mismatched++
		}
	}
	if err := add("kpi_snapshots.json", "The KPI snapshots the ledger chained in the period (weekly and on demand): each entry's position, time "+
		"and hash, the snapshot's slot and every metric's status as chained, and whether the stored document still matches the chained digest. "+
		"The documents themselves are under snapshots/.", snaps); err != nil {
		return nil, sum, err
	}
	for _, s := range snaps.Snapshots {
		if s.body != nil {
			files = append(files, file{name: s.File, about: "", body: s.body})
		}
	}

	var defs DefinitionsDoc
	var rel releasesDoc
	var tiers tiersDoc
	var emergency emergencyDoc
	var ctl controlsDoc
	var vulns vulnerabilitiesDoc
	var figs figuresDoc
	err = in.Engine.Read(ctx, func(ds *metrics.Dataset) error {
		// The figures are the scorecard's, which takes the dataset as of
		// each metric's as_of itself.
		engineDS := ds
		// The period's last instant, not its end: a version taking effect
		// at To is not the period's (governed's inForce agrees), and what
		// was approved after the period must not change its pack.
		// Every figure is computed under the settings in force then too
		// (which environments are production, …), as the definitions
		// say: a setting approved since had changed a closed period's
		// release success rates.
		last := p.Last()
		ds = ds.At(last)
		var err error
		if defs, err = Definitions(in.Catalog.At(last), ds.Config()); err != nil {
			return err
		}
		for i, d := range defs.Metrics {
			switch {
			case d.Effective == catalog.FromTheStart:
				// An organisation's metric whose definition names no date
				// (configured, not proposed): 1970-01-01 had read as a
				// placeholder to an auditor.
				defs.Metrics[i].EffectiveNote = "names no effective date: in effect for all data, whenever it was configured (governed.initial_set " +
					"says when the configuration was first recorded); the period's figures were computed with it"
			case (catalog.Metric{Effective: d.Effective}).AppliesBefore(p.To):
				defs.Metrics[i].EffectiveNote = "took effect at or after the period's end; " + catalog.AppliesBeforeWords + ", and the period's figures were computed with it"
			}
		}
		figs = figures(in.Catalog, engineDS, in, p, defs)
		rel = releases(ds, p, head)
		tiers, err = byTier(ds, p)
		if err != nil {
			return err
		}
		emergency = emergencies(ds, p)
		ctl = controls(ds, p)
		vulns = vulnerabilities(ds, p)
		return nil
	})
	if err != nil {
		return nil, sum, err
	}
	// The documents the governed history and release_gates.json are read
	// from, compared with their ledger entries in one scan of the ledger.
	if head.Seq > 0 {
		checks, err := ledger.VerifyDocsGroups(ctx, in.Store, [][]string{governanceCollections, gateCollections}, head.Seq)
		if err != nil {
			return nil, sum, fmt.Errorf("checking the governance and release gate documents against the ledger: %w", err)
		}
		sum.Gates = checks[1]
		if in.Governance != nil {
			sum.Governance = checks[0]
		}
	}
	if in.Governance != nil {
		if defs.Governed, err = governed(ctx, in.Governance, in.Catalog, p); err != nil {
			return nil, sum, fmt.Errorf("the governed definition history: %w", err)
		}
		defs.Governed.LedgerCheck = sum.Governance
	}
	sum.Releases, sum.Sampled = rel.Population, len(rel.Releases)
	sum.Figures, sum.FiguresUnavailable = len(figs.Metrics), figs.Unavailable
	for _, f := range figs.Metrics {
		if f.Status == catalog.Unknown {
			sum.FiguresUnknown++
		}
	}
	if err := add(DefinitionsFile, "The metric definitions and the value-changing settings in force at the period's end: each definition's version, effective date, "+
		"owner, priority, sign-off, window, thresholds, target and min_sample, and the citation its values carry (definition and formula "+
		"versions, settings hash); each setting's effective value and the SHA-256 over them all; and, under governed, every "+
		"version in force during the period with the proposal and approvals behind it, and the proposals and decisions up to its end, "+
		"each compared with the ledger entry that chained it (governed.ledger_check: one altered, removed or inserted in the database is named there and in the verdict); "+
		"each setting's value as the hash covers it and, under written, as the configuration writes it (7d).", defs); err != nil {
		return nil, sum, err
	}
	if err := addPlain(FiguresFile, "The period's figures: every metric in force at the period's end, its value over the period as the "+
		"scorecard computes it as of the period's end over a window of the period's length, each quota period the one closing at the period's "+
		"end (as_of and window, the same as `candor scorecard --as-of AS_OF --window WINDOW --closing`), its unit, status (and the reason for an unknown one: a "+
		"metric without a value has value null, never 0), target and thresholds, the count of records behind it, the definition version "+
		"and the citation (cites: definition and formula versions and the hash of the settings it reads, which definitions.json lists), "+
		"and rederive: the `candor metric` command and the API request that give the same value with the records behind it.", figs); err != nil {
		return nil, sum, err
	}
	if err := add("releases.json", "A sample of the production deployments that finished in the period: every one that failed (status failure, "+
		"rolled back, or linked to an incident) and a random sample of the rest, drawn by a SHA-256 of the ledger head as of the period's end and each "+
		"deployment's source and id (so nobody can steer it before the period closes, and anyone can redraw it). Each with its change request, "+
		"the changes it shipped (listed or inferred), whether it was rolled back, its linked incidents (explicit or inferred, SPEC §2) and their post-mortem state.", rel); err != nil {
		return nil, sum, err
	}
	if err := add("release_success_by_tier.json", "deployment_success_rate over the whole period, for the organisation and per service tier: the share "+
		"of production deployments finishing in the period with status success, and how many deployments each rests on.", tiers); err != nil {
		return nil, sum, err
	}
	if err := add("emergency_changes.json", "Every emergency production change finished before the period's end (emergency_retro_overdue counts them "+
		"whenever they happened): when it was retro-validated — within the 72 h the rule allows (`validated`) or after them (`validated late`) — "+
		"or that it is overdue (more than 72 h without validation) or pending (within them).", emergency); err != nil {
		return nil, sum, err
	}
	// The dataset keeps no names or URLs: the listed checks' are read from
	// their stored records.
	if err := ctl.checkFields(ctx, in.Store); err != nil {
		return nil, sum, err
	}
	sum.ControlData, sum.ControlChecks, sum.ControlChecksFailed = ctl.Data == dataRecorded, ctl.Checked.Count, ctl.Checked.Failed
	sum.Controls, sum.ControlsFailing = ctl.Failing.Controls, ctl.Failing.Failing
	if err := add(ControlsFile, "The control checks (control records) made in the period — each check's record, control, name, framework, "+
		"time, whether it passed and its evidence_url — and, under failing_at_period_end, per framework the controls whose latest check at or "+
		"before the period's end failed, judged as compliance_pass_rate judges them (a framework with a failing control is failed; controls "+
		"no check named a framework are under (none)). `data` is \"no data\" when no control check was recorded up to the period's end: "+
		"nothing is known of the controls then, which is not all passing.", ctl); err != nil {
		return nil, sum, err
	}
	sum.VulnerabilityData, sum.PastSLA = vulns.Data == dataRecorded, vulns.PastSLA
	if err := add(VulnerabilitiesFile, "The vulnerabilities open at the period's end past their SLA — those vulnerability_sla_breaches counts "+
		"as of it, by the same rule and the SLAs in force then (sla_days) — each with its record, severity, service, CVE, opened_at, days open "+
		"and days past its SLA (exact, days of 24 h), most severe first. A fix after the period's end does not take one out. Under full_scans, "+
		"how many full vulnerability scans ran in the period and the last before its end (its time and record): a full scan says what is open, "+
		"a clean one that nothing is. `data` is \"no data\" when no vulnerability was recorded as opened and no full scan ran up to the "+
		"period's end, which is not none past their SLA.", vulns); err != nil {
		return nil, sum, err
	}
	gates, err := gate.InPeriod(ctx, in.Store, p.From, p.To)
	if err != nil {
		return nil, sum, fmt.Errorf("the release gate records: %w", err)
	}
	if err := add("release_gates.json", "The release gate decisions made in the period, each with every rule's verdict and reason, the KPIs it read "+
		"with their definition stamps, who asked, and — for an escalated one — its approval or rejection (who, which roles, why) if made "+
		"before the period's end; the emergency bypasses among them (with their retro-validation due date); the post-deploy watch "+
		"outcomes (pass, fail with the rollback webhook's answer, inconclusive) with the evidence each rests on; and under ledger_check "+
		"the decisions, approvals and watch outcomes up to the ledger's head compared with the ledger entries that chained them (one "+
		"altered, removed or inserted in the database is named there and in the verdict).", gatesFile{gates, sum.Gates}); err != nil {
		return nil, sum, err
	}
	return files, sum, nil
}

// HeadAt is the ledger's head as of t: its last entry stamped before t
// (Seq 0 when none is).
func HeadAt(ctx context.Context, st store.LedgerStore, t time.Time) (store.LedgerHead, error) {
	first, last, err := st.LedgerSeqs(ctx, time.Unix(0, 0), t)
	if err != nil || first > last {
		return store.LedgerHead{}, err
	}
	var h store.LedgerHead
	err = st.LedgerScan(ctx, last, last, func(r store.LedgerRow) error {
		h = store.LedgerHead{Seq: r.Seq, Hash: r.Hash}
		return nil
	})
	return h, err
}

type verificationDoc struct {
	// Status is "intact", "broken" (the chain), "records altered" (the
	// chain verifies but a record's body no longer matches its hash), or
	// "no entries" when the ledger held none before the period's end:
	// nothing was verified, so Intact is false then too.
	Status string `json:"status"`
	Intact bool   `json:"intact"`
	// Head is the ledger head as of the period's end, SEQ:HASH ("" when
	// the ledger held nothing then).
	Head    string         `json:"head"`
	Entries int64          `json:"entries"`
	Broken  *ledger.Broken `json:"broken"`
	KeyIDs  []string       `json:"key_ids"`
	Keys    []string       `json:"public_keys"`
	// Records is the records check (Summary.Records), Late the records
	// stored after the period's end (Summary.Late).
	Records ledger.RecordsReport `json:"records"`
	Late    ledger.LateReport    `json:"late_records"`
}

func verify(ctx context.Context, in Input, head store.LedgerHead) (verificationDoc, error) {
	keys := in.Keys
	if len(keys) == 0 {
		if s, ok := in.Store.Sealer().(*ledger.Sealer); ok {
			keys = []ed25519.PublicKey{s.PublicKey()}
		}
	}
	doc := verificationDoc{Status: "no entries", KeyIDs: []string{}, Keys: []string{}}
	for _, k := range keys {
		doc.KeyIDs = append(doc.KeyIDs, ledger.KeyID(k))
		doc.Keys = append(doc.Keys, ledger.FormatPublicKey(k))
	}
	if head.Seq == 0 {
		return doc, nil
	}
	doc.Head = ledger.FormatHead(head)
	rep, err := ledger.Verify(ctx, in.Store, ledger.VerifyOptions{Keys: keys, Head: doc.Head, UpTo: head.Seq})
	if err != nil {
		return doc, fmt.Errorf("verifying the ledger: %w", err)
	}
	doc.Intact, doc.Entries, doc.Broken = rep.Broken == nil, rep.Entries, rep.Broken
	doc.Status = "intact"
	if !doc.Intact {
		doc.Status = "broken"
	}
	return doc, nil
}

type snapshotsDoc struct {
	Snapshots []snapshotEntry `json:"snapshots"`
}

type snapshotEntry struct {
	Seq  int64           `json:"ledger_seq"`
	At   time.Time       `json:"ledger_at"`
	Hash string          `json:"ledger_hash"`
	Data json.RawMessage `json:"chained"`
	// File is the document's path in the pack; MatchesLedger says whether
	// its SHA-256 is the chained one.
	File          string `json:"file"`
	MatchesLedger bool   `json:"matches_ledger"`
	body          []byte
}

func snapshots(ctx context.Context, st store.Store, p Period, head store.LedgerHead) (snapshotsDoc, error) {
	doc := snapshotsDoc{Snapshots: []snapshotEntry{}}
	if head.Seq == 0 {
		return doc, nil
	}
	first, last, err := st.LedgerSeqs(ctx, p.From, p.To)
	if err != nil || first > last {
		return doc, err
	}
	err = st.LedgerScan(ctx, first, min(last, head.Seq), func(r store.LedgerRow) error {
		if r.Type == ledger.TypeSnapshot {
			doc.Snapshots = append(doc.Snapshots, snapshotEntry{Seq: r.Seq, At: r.At, Hash: r.Hash, Data: json.RawMessage(r.Data)})
		}
		return nil
	})
	if err != nil || len(doc.Snapshots) == 0 {
		return doc, err
	}
	docs, err := st.Docs(ctx, schedule.Collection, 0)
	if err != nil {
		return doc, err
	}
	byID := map[int64][]byte{}
	for _, d := range docs {
		byID[d.ID] = d.Body
	}
	for i := range doc.Snapshots {
		s := &doc.Snapshots[i]
		var chained struct {
			Doc    int64  `json:"doc"`
			SHA256 string `json:"sha256"`
		}
		json.Unmarshal(s.Data, &chained)
		body, ok := byID[chained.Doc]
		if !ok {
			continue
		}
		got := sha256.Sum256(body)
		s.MatchesLedger = hex.EncodeToString(got[:]) == chained.SHA256
		s.File = fmt.Sprintf("snapshots/%06d.json", s.Seq)
		s.body = body
	}
	return doc, nil
}

type releasesDoc struct {
	// Population is the production deployments finishing in the period;
	// Failed those of them that failed; Seed the sample's seed.
	Population int    `json:"population"`
	Failed     int    `json:"failed"`
	Seed       string `json:"seed"`
	// SeedNote warns, when the ledger held no entry before the period's
	// end, that the seed is the period alone: known in advance, so the
	// sample could have been foreseen.
	SeedNote string           `json:"seed_note,omitempty"`
	Releases []sampledRelease `json:"releases"`
}

type sampledRelease struct {
	// Selected is why the release is in the sample: "failed" or "random".
	Selected string `json:"selected"`
	metrics.Release
}

// releases picks every failed release of the period and SampleSize of the
// others, ranked by SHA-256(seed, source, id), seed being the ledger head
// as of the period's end and the period, and lists them in finishing order.
func releases(ds *metrics.Dataset, p Period, head store.LedgerHead) releasesDoc {
	all := ds.Releases(p.From, p.To)
	seed := fmt.Sprintf("%s %s %s", ledger.FormatHead(head), p.From.Format(time.RFC3339Nano), p.To.Format(time.RFC3339Nano))
	doc := releasesDoc{Population: len(all), Seed: seed, Releases: []sampledRelease{}}
	if head.Seq == 0 {
		doc.SeedNote = "the ledger held no entry before the period's end: the seed is the period alone, which anyone knew in advance"
	}
	type ranked struct {
		rank string
		i    int
	}
	var rest []ranked
	chosen := make([]string, len(all))
	for i, r := range all {
		if r.Failed != "" {
			chosen[i] = "failed"
			doc.Failed++
			continue
		}
		h := sha256.Sum256([]byte(seed + "\x00" + r.Source + "\x00" + r.ID))
		rest = append(rest, ranked{hex.EncodeToString(h[:]), i})
	}
	slices.SortFunc(rest, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
	for _, r := range rest[:min(SampleSize, len(rest))] {
		chosen[r.i] = "random"
	}
	for i, r := range all {
		if chosen[i] != "" {
			doc.Releases = append(doc.Releases, sampledRelease{Selected: chosen[i], Release: r})
		}
	}
	return doc
}

type tiersDoc struct {
	Metric       string     `json:"metric"`
	Organisation tierLine   `json:"organisation"`
	Tiers        []tierLine `json:"tiers"`
}

type tierLine struct {
	Tier  string   `json:"tier,omitempty"`
	Value *float64 `json:"value"`
	Count int      `json:"deployments"`
}

const successMetric = "deployment_success_rate"

func byTier(ds *metrics.Dataset, p Period) (tiersDoc, error) {
	q := metrics.Query{AsOf: p.To, Window: p.To.Sub(p.From)}
	doc := tiersDoc{Metric: successMetric, Tiers: []tierLine{}}
	org, err := ds.Compute(successMetric, q)
	if err != nil {
		return doc, err
	}
	doc.Organisation = tierLine{Value: org.Value, Count: org.Count}
	groups, err := ds.Breakdown(successMetric, q, "tier")
	if err != nil {
		return doc, err
	}
	for _, g := range groups {
		doc.Tiers = append(doc.Tiers, tierLine{Tier: g.Key, Value: g.Value, Count: g.Count})
	}
	return doc, nil
}

type emergencyDoc struct {
	Changes []emergencyChange `json:"changes"`
}

type emergencyChange struct {
	// Retro is "validated" (within 72 h), "validated late" (after them),
	// "overdue" (72 h passed without) or "pending" (within 72 h).
	Retro string `json:"retro_validation"`
	metrics.Release
}

// retroWithin is how long after it finished an emergency change must be
// retro-validated (SPEC §6).
const retroWithin = 72 * time.Hour

func emergencies(ds *metrics.Dataset, p Period) emergencyDoc {
	doc := emergencyDoc{Changes: []emergencyChange{}}
	for _, r := range ds.EmergencyChanges(p.To) {
		c := emergencyChange{Release: r, Retro: "pending"}
		switch {
		// A validation nine days on had read "validated" as one within the
		// rule did: an auditor asks whether the rule was kept, not only
		// whether the change was ever looked at.
		case r.RetroValidatedAt != nil && r.RetroValidatedAt.Sub(r.FinishedAt) > retroWithin:
			c.Retro = "validated late"
		case r.RetroValidatedAt != nil:
			c.Retro = "validated"
		case p.To.Sub(r.FinishedAt) > retroWithin:
			c.Retro = "overdue"
		}
		doc.Changes = append(doc.Changes, c)
	}
	return doc
}

// index is the pack's index.md: the period, the head, and each file.
func index(p Period, sum Summary, files []file) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Candor evidence pack\n\nPeriod: %s to %s (UTC; the end excluded).\n\n", p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	if sum.Head.Seq == 0 {
		b.WriteString("The audit ledger held no entry before the period's end: there was nothing to verify, and the release sample's " +
			"seed is the period alone, which anyone knew in advance.\n\n")
	} else {
		if sum.Open {
			fmt.Fprintf(&b, "Ledger head when the pack was built: `%s`.\n\n", ledger.FormatHead(sum.Head))
		} else {
			fmt.Fprintf(&b, "Ledger head as of the period's end: `%s`.\n\n", ledger.FormatHead(sum.Head))
		}
	}
	if sum.Open {
		b.WriteString("**The period had not ended when this pack was built.** The ledger head above is the head then, not at the " +
			"period's end; what the files call \"the period's end\" is evaluated from the records stored when the pack was built (a " +
			"vulnerability open then is counted past its SLA if it would be by the period's end), and the entries, records and " +
			"decisions still to come in the period are not in it. A pack of the same period built after it ends may differ: ask " +
			"for that one as the period's evidence.\n\n")
	}
	fmt.Fprintf(&b, "Verdict: %s.\n\n", sum.Verdict())
	if l := sum.Late; l.Count > 0 {
		fmt.Fprintf(&b, "**%s stored after the period's end** (from %s to %s) though nothing in %s is dated at or after it — an import "+
			"of the past, a correction, or a redaction by a retention run older than 7 December 2026 (later runs keep a record's storing time): the figures, releases and checks below read them as stored when the pack "+
			"was built, and the ledger chains them after the head above (`candor ledger verify` checks those entries). A pack of this "+
			"period built before they arrived may differ from this one; their bodies were checked against their hashes "+
			"(`ledger_verification.json`, `late_records`).\n\n",
			plural.Counts(l.Count, "record was", "records were"), l.FirstStored.Format(time.RFC3339), l.LastStored.Format(time.RFC3339),
			map[bool]string{true: "it", false: "them"}[l.Count == 1])
	}
	if r := sum.Records; r.Redacted > 0 {
		runs := make([]string, len(r.RedactedBy))
		for i, e := range r.RedactedBy {
			runs[i] = fmt.Sprintf("entry %d, %s", e.Seq, e.At.Format(time.DateOnly))
		}
		fmt.Fprintf(&b, "%s stored before the period's end %s rewritten by retention after it (%s: customer identifiers "+
			"pseudonymised, personal text erased; no figure changes): the files read the rewritten versions, which keep the "+
			"time the records were stored and were checked against the hashes they were rewritten with (`ledger_verification.json`, "+
			"`records.redacted_after`).\n\n",
			plural.Count(r.Redacted, "record"), map[bool]string{true: "was", false: "were"}[r.Redacted == 1], strings.Join(runs, "; "))
	}
	fmt.Fprintf(&b, "Security: %s (`%s`, `%s`).\n\n", sum.Security(), ControlsFile, VulnerabilitiesFile)
	fmt.Fprintf(&b, "Figures: %s (`%s`).\n\n", sum.figuresWords(p), FiguresFile)
	// The pack's content is this build's reading of the records and
	// definitions: another Candor version words and computes some of it
	// otherwise, so a pack built again after an upgrade differs, and says
	// why.
	fmt.Fprintf(&b, "Built by Candor `%s`.\n\n", image.Build())
	b.WriteString("This pack depends only on the period, the records and the audit ledger up to that head: built again by the same " +
		"Candor build for the same period over the same head it is byte for byte the same. Releases, incidents and links, controls and " +
		"vulnerabilities are evaluated as of the period's end (SPEC §2, §3), from the records as stored when the pack was made; so is the records check of `ledger_verification.json`: " +
		"the records stored before the period's end, each read as it is stored when the pack is built, so a body altered since " +
		"shows in a pack built after. Records stored after the period's end and dated in or before it (an import of the past, a " +
		"correction) are read too, so they change the pack; it counts them (above, when there are any).\n\n" +
		"Definitions: `" + DefinitionsFile + "` holds the definitions and settings in force at the period's end and, under `governed`, " +
		"the versions in force during the period with the proposals and approvals behind them (a proposal or decision after the " +
		"period's end is left out, so it does not change the pack).\n\n## Files\n\n")
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b file) int { return strings.Compare(a.name, b.name) })
	for _, f := range sorted {
		if f.about != "" {
			fmt.Fprintf(&b, "- `%s`: %s\n", f.name, f.about)
		}
	}
	if sum.Snapshots > 0 {
		b.WriteString("- `snapshots/SEQ.json`: each KPI snapshot's document as stored, named by its ledger entry's position.\n")
	}
	b.WriteString("- `index.md`: this file.\n")
	return b.Bytes()
}

// gateCollections are the documents release_gates.json is read from,
// governanceCollections those the governed history is folded from: each
// compared with the ledger entries that chained them (a proposal's value
// or a gate decision's verdict rewritten in the database had passed as
// intact: the ledger verifies its entries, not the documents beside them).
var (
	gateCollections       = []string{gate.DecisionCollection, gate.ApprovalCollection, gate.WatchCollection}
	governanceCollections = []string{governance.Proposals, governance.Decisions}
)

// gatesFile is release_gates.json: the period's gate records and their
// check against the ledger.
type gatesFile struct {
	gate.Period
	LedgerCheck ledger.DocsReport `json:"ledger_check"`
}

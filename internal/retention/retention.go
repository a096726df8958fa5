// Package retention applies the data retention of SPEC §5: after a
// configured period, customer identifiers are replaced by a keyed digest
// (a pseudonym) and personal text and e-mail (a ticket's text, a change's
// author) are erased, in the records and in the audit ledger, while every
// metric value and the ledger's verification stay as they were.
//
// Aggregates stay identical because pseudonymisation is a one-to-one map
// applied to a customer in every record at once: a customer is
// pseudonymised only when every record naming it is past its kind's
// period, so no grouping by customer is ever split between the name and
// the pseudonym. Erased fields are ones no metric reads. The ledger chains
// personal data only through a salted digest, so erasing it (the one
// change its tables allow) keeps the chain intact.
package retention

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// LedgerKind is the key of Policy.Periods for the audit ledger's personal
// data (who sent a batch, who signed in, an acknowledgement's note).
const LedgerKind = "ledger"

// Policy says when personal data goes.
type Policy struct {
	// PersonalAfter is the period after which a record's personal data is
	// pseudonymised or erased, for every kind without a period of its
	// own, and the ledger; zero: never.
	PersonalAfter time.Duration
	// Periods override PersonalAfter per record kind (and LedgerKind).
	Periods map[string]time.Duration
	// Key keys the pseudonyms' digest. It is kept outside the database, so
	// someone with the database cannot confirm a guessed name against a
	// pseudonym.
	Key []byte
}

// Period is kind's period (zero: never).
func (p Policy) Period(kind string) time.Duration {
	if d, ok := p.Periods[kind]; ok {
		return d
	}
	return p.PersonalAfter
}

// Enabled says whether the policy ever removes anything.
func (p Policy) Enabled() bool {
	return p.PersonalAfter > 0 || slices.ContainsFunc(slices.Collect(maps.Values(p.Periods)), func(d time.Duration) bool { return d > 0 })
}

// PersonalFields are the record kinds holding personal data and which
// fields: the customer identifier, pseudonymised, and the fields erased.
var PersonalFields = map[domain.Kind]struct{ Customer, Erased []string }{
	domain.KindTicket:       {Customer: []string{"customer"}, Erased: []string{"text"}},
	domain.KindSurvey:       {Customer: []string{"customer"}},
	domain.KindSubscription: {Customer: []string{"customer"}},
	domain.KindChange:       {Erased: []string{"author"}},
	domain.KindMeasurement:  {Customer: []string{"customer"}},
}

// fields returns pointers to a record's customer identifier (nil when its
// kind has none) and to its erased fields; PersonalFields names them.
func fields(rec domain.Record) (customer *string, erased []*string) {
	switch r := rec.(type) {
	case *domain.Ticket:
		return &r.Customer, []*string{&r.Text}
	case *domain.Survey:
		return &r.Customer, nil
	case *domain.Subscription:
		return &r.Customer, nil
	case *domain.Change:
		return nil, []*string{&r.Author}
	case *domain.Measurement:
		return &r.Customer, nil
	}
	return nil, nil
}

// pseudonymPrefix starts every pseudonym: "anon-" and 32 hex digits.
const pseudonymPrefix = "anon-"

// Pseudonym is customer's pseudonym under key: the first 128 bits of
// HMAC-SHA256(key, customer), so one customer always maps to one pseudonym
// and two customers (short of a 2^-64 collision) to two.
func Pseudonym(key []byte, customer string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(customer))
	return pseudonymPrefix + hex.EncodeToString(m.Sum(nil)[:16])
}

// isPseudonym tells a pseudonym, which is left as it is.
func isPseudonym(s string) bool {
	if len(s) != len(pseudonymPrefix)+32 || !strings.HasPrefix(s, pseudonymPrefix) {
		return false
	}
	_, err := hex.DecodeString(s[len(pseudonymPrefix):])
	return err == nil
}

// Report is what a run did, or, dry, would do.
type Report struct {
	DryRun bool      `json:"dry_run"`
	Now    time.Time `json:"now"`
	// Periods are the periods applied, per kind (and the ledger).
	Periods map[string]string `json:"periods"`
	// Customers is how many customer identifiers were pseudonymised.
	Customers int `json:"customers"`
	// Pseudonymised and Erased count records per kind whose customer was
	// pseudonymised, or personal text erased; Rewritten the records
	// rewritten in all (a record can be both).
	Pseudonymised map[domain.Kind]int64 `json:"pseudonymised"`
	Erased        map[domain.Kind]int64 `json:"erased"`
	Rewritten     int64                 `json:"rewritten"`
	// ContentSHA256 is the hash of the rewritten records' new versions
	// (as a records ledger entry's content_sha256).
	ContentSHA256 string `json:"content_sha256,omitempty"`
	// LedgerErased is the ledger entries whose personal data was erased.
	LedgerErased int64 `json:"ledger_erased"`
	// Documents counts, per collection, the documents chained in the
	// ledger whose personal fields were pseudonymised or erased (past the
	// ledger's period); Openers the adoption counts whose person was
	// forgotten (their weeks' counts merged, totals unchanged).
	Documents map[string]int64 `json:"documents,omitempty"`
	Openers   int64            `json:"adoption_openers,omitempty"`
	// RewrittenDigests are the new SHA-256 and size of each rewritten
	// document the ledger chains by its digest (the report archive's):
	// chained in this entry, before the rewrite, so that `ledger verify`
	// tells the rewrite from one behind Candor's back.
	RewrittenDigests []ledger.DocDigest `json:"rewritten_digests,omitempty"`
	// RewrittenSeqs are the store sequences the rewritten records were
	// given, first to last (one batch, under the writer: no other write
	// lies between). The records keep the time they were stored at
	// (store.IngestKeeper), so an evidence pack of an earlier period tells
	// by these which of its records were redacted after it ended
	// (ledger.VerifyRecordsAt).
	RewrittenSeqs *ledger.SeqRange `json:"rewritten_seqs,omitempty"`
}

// batchSize bounds the records written per Add.
const batchSize = 2000

// candidate is a record with personal data: its stored form, decoded.
type candidate struct {
	stored store.Stored
	rec    domain.Record
	// due: its personal data may go (its newest time is past its kind's
	// period).
	due bool
}

// Apply applies p as of now; with dryRun it reports what it would do and
// changes nothing. Rewritten records are written in one batch, with a
// retention entry in the ledger (counts, cut-offs, the content hash), then
// the ledger's own personal data is erased.
func Apply(ctx context.Context, st store.Store, p Policy, now time.Time, dryRun bool) (*Report, error) {
	now = now.UTC()
	rep := &Report{DryRun: dryRun, Now: now, Periods: map[string]string{}, Pseudonymised: map[domain.Kind]int64{}, Erased: map[domain.Kind]int64{}}
	for k := range PersonalFields {
		if d := p.Period(string(k)); d > 0 {
			rep.Periods[string(k)] = catalog.FormatWindow(d)
		}
	}
	if d := p.Period(LedgerKind); d > 0 {
		rep.Periods[LedgerKind] = catalog.FormatWindow(d)
	}
	if !p.Enabled() {
		return rep, nil
	}
	if len(p.Key) < 16 {
		return nil, fmt.Errorf("retention: the pseudonym key must be at least 16 bytes")
	}
	cands, err := candidates(ctx, st, p, now)
	if err != nil {
		return nil, err
	}
	// A customer goes once every record naming it is due.
	customerDue := map[string]bool{}
	for _, c := range cands {
		if cust, _ := fields(c.rec); cust != nil && *cust != "" && !isPseudonym(*cust) {
			if due, seen := customerDue[*cust]; !seen || due {
				customerDue[*cust] = c.due
			}
		}
	}
	var items []store.Item
	for _, c := range cands {
		cust, erased := fields(c.rec)
		changed := false
		if cust != nil && customerDue[*cust] {
			*cust = Pseudonym(p.Key, *cust)
			rep.Pseudonymised[c.stored.Key.Kind]++
			changed = true
		}
		if c.due {
			n := 0
			for _, f := range erased {
				if *f != "" {
					*f, n = "", n+1
				}
			}
			if n > 0 {
				rep.Erased[c.stored.Key.Kind]++
				changed = true
			}
		}
		if !changed {
			continue
		}
		body, sum, err := ingest.Canonical(c.rec)
		if err != nil {
			return nil, fmt.Errorf("retention: re-encoding %s: %w", c.stored.Key, err)
		}
		// RawHash stays: it still names the input the record came from;
		// the ledger's retention entry says the stored version was rewritten.
		items = append(items, store.Item{Key: c.stored.Key, EventTime: c.stored.EventTime, Hash: hex.EncodeToString(sum[:]), RawHash: c.stored.RawHash, Body: body})
	}
	for _, due := range customerDue {
		if due {
			rep.Customers++
		}
	}
	rep.Rewritten = int64(len(items))
	var content ingest.ContentHash
	for i := 0; i < len(items); i += batchSize {
		content.Add(items[i:min(i+batchSize, len(items))])
	}
	if len(items) > 0 {
		rep.ContentSHA256 = content.Sum()
	}
	ledgerBefore := time.Time{}
	if d := p.Period(LedgerKind); d > 0 {
		ledgerBefore = now.Add(-d)
	}
	var redacted []store.Doc
	if !ledgerBefore.IsZero() {
		if redacted, err = redactDocs(ctx, st, p.Key, ledgerBefore); err != nil {
			return nil, err
		}
		rep.Documents = map[string]int64{}
		for _, d := range redacted {
			rep.Documents[d.Collection]++
		}
		rep.RewrittenDigests = ledger.RewrittenDigests(redacted)
	}
	// Counted before the run's entry is chained, so that it says what the
	// run erases in the ledger and the adoption counts: it had been
	// chained first and said 0 (the demo's run erased 337 entries'
	// personal data).
	if !ledgerBefore.IsZero() {
		rep.LedgerErased, err = countLedgerPersonal(ctx, st, ledgerBefore)
		if err == nil {
			rep.Openers, err = countOpeners(ctx, st, week(ledgerBefore))
		}
		if err != nil {
			return nil, err
		}
	}
	if dryRun {
		return rep, nil
	}
	if len(items) > 0 {
		if err := write(ctx, st, items, rep); err != nil {
			return nil, err
		}
	} else if len(redacted) > 0 || rep.LedgerErased > 0 || rep.Openers > 0 {
		// The rewritten documents and the erasure are said in the ledger
		// even when no record was rewritten.
		if _, err := ledger.Append(ctx, st, ledger.TypeRetention, rep, nil); err != nil {
			return nil, err
		}
	}
	if !ledgerBefore.IsZero() {
		if len(redacted) > 0 {
			r, ok := st.(store.DocRedactor)
			if !ok {
				return nil, fmt.Errorf("retention: the %T store cannot rewrite documents", st)
			}
			if _, err := r.RedactDocs(ctx, redacted); err != nil {
				return nil, err
			}
		}
		if rep.Openers, err = st.ForgetOpeners(ctx, week(ledgerBefore)); err != nil {
			return nil, err
		}
		if rep.LedgerErased, err = st.EraseLedgerPersonal(ctx, ledgerBefore); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// week is the Monday (UTC) of the week holding t: adoption counts of the
// weeks before it are past the period.
func week(t time.Time) string {
	t = t.UTC().Truncate(24 * time.Hour)
	return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7)).Format(time.DateOnly)
}

// countOpeners counts the adoption rows before the week that name someone.
func countOpeners(ctx context.Context, st store.Store, before string) (int64, error) {
	opens, err := st.Opens(ctx, "0000-01-01", before)
	var n int64
	for _, o := range opens {
		if o.Who != "" {
			n++
		}
	}
	return n, err
}

// personKinds prefix identifiers ("user:ann@example.com"): a pseudonym
// keeps the prefix, which says what kind of principal it was, not who.
var personKinds = []string{"user", "token", "cli", "oidc"}

// personPseudonym is the pseudonym of a person's identifier in a
// document: the same identifier the same pseudonym, in every document and
// run; one already a pseudonym is left as it is.
func personPseudonym(key []byte) func(string) string {
	return func(s string) string {
		kind, name, ok := strings.Cut(s, ":")
		if !ok || !slices.Contains(personKinds, kind) {
			kind, name = "", s
		}
		if isPseudonym(name) {
			return s
		}
		if kind == "" {
			return Pseudonym(key, s)
		}
		return kind + ":" + Pseudonym(key, s)
	}
}

// redactDocs returns the documents appended before before whose personal
// fields are still there, rewritten: those of the ledger's chained
// collections (ledger.Redact), and of the collections that registered a
// rewrite of their own (ledger.RegisterRewrite: the report archive's
// recipients, the in-app inboxes and read marks). A group of documents (a proposal and its decisions) is
// rewritten only once all of it is before before.
func redactDocs(ctx context.Context, st store.Store, key []byte, before time.Time) ([]store.Doc, error) {
	pseudonym := personPseudonym(key)
	specs := ledger.Redactable()
	rewrites := ledger.Rewrites()
	late := map[string]bool{}
	var due []store.Doc
	for _, coll := range slices.Sorted(maps.Keys(rewrites)) {
		docs, err := st.Docs(ctx, coll, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			if g := specs[coll].Group; g != nil && !d.CreatedAt.Before(before) {
				late[g(d)] = true
			}
			if d.CreatedAt.Before(before) {
				due = append(due, d)
			}
		}
	}
	var out []store.Doc
	for _, d := range due {
		spec := specs[d.Collection]
		if spec.Group != nil && late[spec.Group(d)] {
			continue
		}
		body, changed, err := rewrites[d.Collection](d.Body, pseudonym)
		if err != nil {
			return nil, fmt.Errorf("retention: %s document %d: %w", d.Collection, d.ID, err)
		}
		if changed {
			d.Body = body
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b store.Doc) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// candidates reads every record of a kind with personal data that has any
// left, or whose customer is not yet a pseudonym.
func candidates(ctx context.Context, st store.Store, p Policy, now time.Time) ([]candidate, error) {
	var out []candidate
	_, err := st.Scan(ctx, 0, func(s store.Stored) error {
		if _, ok := PersonalFields[s.Key.Kind]; !ok {
			return nil
		}
		rec := domain.New(s.Key.Kind)
		if err := json.Unmarshal(s.Body, rec); err != nil {
			return fmt.Errorf("retention: stored record %s is corrupt: %w", s.Key, err)
		}
		rec.Header().Source = s.Key.Source
		d := p.Period(string(s.Key.Kind))
		due := d > 0 && !latest(rec).After(now.Add(-d))
		// An active subscription's customer is a customer now, however
		// long ago it started.
		if sub, ok := rec.(*domain.Subscription); ok && sub.EndedAt.IsZero() {
			due = false
		}
		out = append(out, candidate{stored: s, rec: rec, due: due})
		return nil
	})
	return out, err
}

// latest is the newest timestamp a record holds (its resolution, its end,
// …): its personal data is kept for the period after it.
func latest(rec domain.Record) time.Time {
	var t time.Time
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			if !f.CanInterface() {
				continue
			}
			if x, ok := f.Interface().(time.Time); ok {
				if x.After(t) {
					t = x
				}
			} else if f.Kind() == reflect.Struct {
				walk(f)
			}
		}
	}
	walk(reflect.ValueOf(rec).Elem())
	return t
}

// write stores the rewritten records in one batch, with the run's ledger
// entry in the same transaction.
func write(ctx context.Context, st store.Store, items []store.Item, rep *Report) error {
	b, err := st.Begin(ctx)
	if err != nil {
		return err
	}
	defer b.Rollback()
	// A redaction is not a record arriving: the records keep the time
	// they were stored at (the ledger's entry below says they were
	// rewritten), or an evidence pack of a period before this run would
	// count each as stored after the period's end.
	k, keeps := b.(store.IngestKeeper)
	if keeps {
		k.KeepIngested()
	}
	var last int64
	for i := 0; i < len(items); i += batchSize {
		res, err := b.Add(ctx, items[i:min(i+batchSize, len(items))])
		if err != nil {
			return fmt.Errorf("retention: rewriting records: %w", err)
		}
		last = max(last, res.Seq)
	}
	if keeps && last > 0 {
		rep.RewrittenSeqs = &ledger.SeqRange{First: k.WrittenFrom(), Last: last}
	}
	entry, err := ledger.Entry(ledger.TypeRetention, rep, nil)
	if err != nil {
		return err
	}
	b.Record(entry)
	return b.Commit()
}

// countLedgerPersonal counts the entries stamped before before that still
// hold personal data.
func countLedgerPersonal(ctx context.Context, st store.LedgerStore, before time.Time) (int64, error) {
	first, last, err := st.LedgerSeqs(ctx, time.Unix(0, 0), before)
	if err != nil || first > last {
		return 0, err
	}
	var n int64
	err = st.LedgerScan(ctx, first, last, func(r store.LedgerRow) error {
		if r.Personal != nil {
			n++
		}
		return nil
	})
	return n, err
}

// Job applies a policy periodically: run it on the leader.
type Job struct {
	Store  store.Store
	Policy Policy
	Every  time.Duration
	// Applied is called after each run that rewrote or erased anything
	// (the engine's Notify, so readers see the rewritten records).
	Applied func()
	Log     *slog.Logger
}

// Run applies the policy now and then every Every until ctx ends.
func (j *Job) Run(ctx context.Context) error {
	if j.Every <= 0 {
		return fmt.Errorf("retention: interval %v must be positive", j.Every)
	}
	log := j.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(j.Every)
	defer t.Stop()
	for {
		rep, err := Apply(ctx, j.Store, j.Policy, time.Now(), false)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Error("retention failed", "err", err)
		case err == nil && (rep.Rewritten > 0 || rep.LedgerErased > 0):
			log.Info("retention applied", "customers", rep.Customers, "records", rep.Rewritten, "ledger_entries", rep.LedgerErased)
			if j.Applied != nil {
				j.Applied()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

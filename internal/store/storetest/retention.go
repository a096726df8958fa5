package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/alert"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/report"
	"github.com/candor/candor/internal/retention"
	"github.com/candor/candor/internal/store"
)

// runRetention is the contract of retention on a store: pseudonymising
// customers and erasing personal text in the records and the ledger keeps
// every metric value, and the ledger verifies.
func runRetention(t *testing.T, open Factory) {
	t.Run("RetentionKeepsValuesAndLedger", func(t *testing.T) {
		ctx := context.Background()
		s := sealed(open(t))
		now := time.Now().UTC()
		end := now.Truncate(24 * time.Hour)
		var buf bytes.Buffer
		if _, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: 0.01, End: end, Days: 400}); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Import(ctx, s, []ingest.Source{{Name: "org.ndjson", Reader: &buf}}, ingest.Options{By: "user:importer@example.com"}); err != nil {
			t.Fatal(err)
		}
		appendEntry(t, s, 1)

		follower := engine.New(s, metrics.DefaultConfig())
		before := metricValues(t, follower, end)
		policy := retention.Policy{PersonalAfter: 90 * 24 * time.Hour, Periods: map[string]time.Duration{retention.LedgerKind: time.Nanosecond},
			Key: []byte("0123456789abcdef0123456789abcdef")}

		// A dry run reports and changes nothing. Every run judges as of the
		// same time, taken after the ledger entries above: with the clock
		// read at each run, a record whose 90 days ran out between the runs
		// made the second one rewrite it.
		at := time.Now()
		seq, _ := s.LastSeq(ctx)
		dry, err := retention.Apply(ctx, s, policy, at, true)
		if err != nil {
			t.Fatal(err)
		}
		if after, _ := s.LastSeq(ctx); after != seq {
			t.Fatalf("a dry run wrote records (seq %d → %d)", seq, after)
		}
		if rows := ledgerRows(t, s); rows[len(rows)-1].Personal == nil || len(rows) != 2 {
			t.Fatalf("a dry run changed the ledger: %d entries", len(rows))
		}

		// A record page's index of the runs, read before the run and
		// after it: it reads the entries appended since.
		var runs ledger.RetentionIndex
		if got, err := runs.RunOf(ctx, s, seq); err != nil || got != nil {
			t.Fatalf("the retention run of seq %d before any run: %+v, %v", seq, got, err)
		}
		rep, err := retention.Apply(ctx, s, policy, at, false)
		if err != nil {
			t.Fatal(err)
		}
		// The rewrites lie in one run of sequences after the last one before
		// (a store may skip some: no other write lies between),
		// each record keeping the time it was stored; the index names the
		// run's entry for each.
		if r := rep.RewrittenSeqs; r == nil || r.First != seq+1 || r.Last-r.First+1 < rep.Rewritten {
			t.Errorf("the run's rewritten sequences %+v after %d, %d rewritten", r, seq, rep.Rewritten)
		} else if got, err := runs.RunOf(ctx, s, r.Last); err != nil || got == nil || got.Seq != 3 {
			t.Errorf("the retention run of seq %d: %+v, %v; want entry 3", r.Last, got, err)
		} else if got, err := runs.RunOf(ctx, s, seq); err != nil || got != nil {
			t.Errorf("the retention run of seq %d, written before it: %+v, %v", seq, got, err)
		}
		if rep.Customers == 0 || rep.Pseudonymised[domain.KindSubscription] == 0 || rep.Erased[domain.KindTicket] == 0 ||
			rep.Erased[domain.KindChange] == 0 || rep.LedgerErased != 2 {
			t.Fatalf("retention did too little to test: %+v", rep)
		}
		if dry.Customers != rep.Customers || dry.Rewritten != rep.Rewritten || dry.LedgerErased != rep.LedgerErased || dry.ContentSHA256 != rep.ContentSHA256 {
			t.Errorf("the dry run reported %+v, the run did %+v", dry, rep)
		}

		// The ledger verifies: its personal data erased, the run chained.
		rows := ledgerRows(t, s)
		intact(t, s, 3)
		for _, r := range rows[:2] {
			if r.Personal != nil || r.Salt != "" || r.PersonalDigest == "" {
				t.Errorf("entry %d: personal %s salt %q digest %q after erasure", r.Seq, r.Personal, r.Salt, r.PersonalDigest)
			}
		}
		if rows[2].Type != "retention" || !bytes.Contains(rows[2].Data, []byte(rep.ContentSHA256)) {
			t.Errorf("the run's ledger entry: %s %s", rows[2].Type, rows[2].Data)
		}
		// The entry says what the run erased in the ledger: it had been
		// chained before the erasure and said 0 (the demo's: 337 erased).
		var chained struct {
			LedgerErased int64 `json:"ledger_erased"`
		}
		if err := json.Unmarshal(rows[2].Data, &chained); err != nil || chained.LedgerErased != rep.LedgerErased {
			t.Errorf("the run's ledger entry says %d ledger entries erased (%v), the run erased %d", chained.LedgerErased, err, rep.LedgerErased)
		}

		// The records: pseudonyms and no personal text where due.
		pseudonyms, texts := 0, 0
		if _, err := s.Scan(ctx, 0, func(r store.Stored) error {
			var f struct {
				Customer, Text, Author string
				EndedAt                string `json:"ended_at"`
			}
			json.Unmarshal(r.Body, &f)
			if len(f.Customer) == 37 && f.Customer[:5] == "anon-" {
				pseudonyms++
				if r.Key.Kind == domain.KindSubscription && f.EndedAt == "" {
					t.Errorf("subscription %s is active, and its customer was pseudonymised", r.Key)
				}
			}
			if f.Text != "" || f.Author != "" {
				texts++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if pseudonyms == 0 || int64(pseudonyms) < rep.Pseudonymised[domain.KindSubscription] {
			t.Errorf("%d records hold a pseudonym after %+v", pseudonyms, rep)
		}

		// Every metric value is as it was: in the engine that followed the
		// rewrite, and in one loading afresh.
		if err := follower.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		for name, eng := range map[string]*engine.Engine{"following": follower, "fresh": engine.New(s, metrics.DefaultConfig())} {
			after := metricValues(t, eng, end)
			for k, v := range before {
				if after[k] != v {
					t.Errorf("%s engine: %s = %s after retention, was %s", name, k, after[k], v)
				}
			}
		}

		// Applying again finds nothing left to do.
		again, err := retention.Apply(ctx, s, policy, at, false)
		if err != nil {
			t.Fatal(err)
		}
		if again.Rewritten != 0 || again.LedgerErased != 0 {
			t.Errorf("a second run rewrote %d records and erased %d entries", again.Rewritten, again.LedgerErased)
		}
		intact(t, s, 3)
	})
}

// runRetentionDocs: past the ledger's period, the personal fields of the
// documents chained in the ledger (here the access events) are rewritten
// once — identifiers pseudonymised alike everywhere, addresses erased —
// the adoption counts forget who opened what without changing any total,
// and the ledger still verifies.
func runRetentionDocs(t *testing.T, open Factory) {
	t.Run("RetentionRewritesDocuments", func(t *testing.T) {
		ctx := context.Background()
		s := sealed(open(t))
		for _, who := range []string{"user:ann@example.com", "user:bob@example.com", "user:ann@example.com"} {
			if _, err := s.AppendDoc(ctx, store.AccessCollection, fmt.Appendf(nil, `{"type":"sign_in","subject":%q,"client":"10.1.2.3","roles":["executive"]}`, who)); err != nil {
				t.Fatal(err)
			}
		}
		opens := []store.Opens{{Week: "2026-01-05", Who: "user:ann@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 3},
			{Week: "2026-01-05", Who: "user:bob@example.com", Page: "GET /metrics/{id}", Subject: "metric:mttr", Count: 2}}
		if err := s.AddOpens(ctx, opens); err != nil {
			t.Fatal(err)
		}
		policy, dry, rep := applyLedgerPeriod(t, s)
		if rep.Documents[store.AccessCollection] != 3 || dry.Documents[store.AccessCollection] != 3 || rep.Openers != 2 || dry.Openers != 2 {
			t.Fatalf("the run: %+v; the dry run: %+v", rep, dry)
		}
		docs, err := s.Docs(ctx, store.AccessCollection, 0)
		if err != nil {
			t.Fatal(err)
		}
		subjects := map[string]int{}
		for _, d := range docs {
			if bytes.Contains(d.Body, []byte("example.com")) || bytes.Contains(d.Body, []byte("10.1.2.3")) || !bytes.Contains(d.Body, []byte(`"roles":["executive"]`)) {
				t.Errorf("access event %d after retention: %s", d.ID, d.Body)
			}
			var e struct{ Subject string }
			json.Unmarshal(d.Body, &e)
			subjects[e.Subject]++
		}
		if len(subjects) != 2 {
			t.Errorf("one person, one pseudonym: %v", subjects)
		}
		// Entries: three access events and the run's own.
		intact(t, s, 4)
		got, err := s.Opens(ctx, "2026-01-01", "2026-02-01")
		if err != nil || len(got) != 1 || got[0].Who != "" || got[0].Count != 5 {
			t.Errorf("adoption after retention: %+v, %v; want the 5 opens kept, nobody named", got, err)
		}
		again, err := retention.Apply(ctx, s, policy, time.Now(), false)
		if err != nil || len(again.Documents) != 0 || again.Openers != 0 {
			t.Errorf("a second run: %+v, %v", again, err)
		}
		intact(t, s, 4)
	})
}

// applyLedgerPeriod applies a ledger period of a nanosecond, dry and then
// for real, and returns the policy and both reports.
func applyLedgerPeriod(t *testing.T, s store.Store) (retention.Policy, *retention.Report, *retention.Report) {
	t.Helper()
	policy := retention.Policy{Periods: map[string]time.Duration{retention.LedgerKind: time.Nanosecond}, Key: []byte("0123456789abcdef0123456789abcdef")}
	dry, err := retention.Apply(context.Background(), s, policy, time.Now(), true)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := retention.Apply(context.Background(), s, policy, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	return policy, dry, rep
}

// runRetentionArchives: past the ledger's period, the report archive's
// recipient addresses (in each message's To, its grants and its EML) and
// the in-app inboxes' and read marks' addresses become pseudonyms; the
// inbox still serves its user, the ledger verifies, and every metric value
// stays as it was.
func runRetentionArchives(t *testing.T, open Factory) {
	t.Run("RetentionRewritesArchivesAndInboxes", func(t *testing.T) {
		ctx := context.Background()
		s := sealed(open(t))
		end := time.Now().UTC().Truncate(24 * time.Hour)
		var buf bytes.Buffer
		if _, err := generate.Write(&buf, generate.Options{Seed: 2, Scale: 0.002, End: end, Days: 60}); err != nil {
			t.Fatal(err)
		}
		if _, err := ingest.Import(ctx, s, []ingest.Source{{Name: "org.ndjson", Reader: &buf}}, ingest.Options{By: "cli:test"}); err != nil {
			t.Fatal(err)
		}
		follower := engine.New(s, metrics.DefaultConfig())
		before := metricValues(t, follower, end)

		eml := "To: Ann@Example.com\r\nSubject: Weekly digest\r\n\r\nSent to ann@example.com, as her grants allow.\r\n"
		saved, _, err := report.Save(ctx, s, &report.Report{Kind: report.KindDigest, AsOf: end, By: "user:boss@example.com", CreatedAt: end,
			Messages: []report.Message{{To: "ann@example.com", Grants: "user ann@example.com", EML: []byte(eml)}}})
		if err != nil {
			t.Fatal(err)
		}
		inbox := alert.InApp{Docs: s}
		msg := alert.Message{Group: "r", At: end, Firing: []alert.Alert{{Observation: alert.Observation{Summary: "MTTR is red"}}}}
		for id, who := range []string{"ann@example.com", "bob@example.com"} {
			if err := inbox.Send(ctx, alert.Envelope{ID: int64(id + 1), To: []string{who}, Message: msg}); err != nil {
				t.Fatal(err)
			}
		}
		if err := alert.MarkRead(ctx, s, "ann@example.com"); err != nil {
			t.Fatal(err)
		}
		entries := len(ledgerRows(t, s))

		policy, dry, rep := applyLedgerPeriod(t, s)
		want := map[string]int64{report.Collection: 1, alert.InboxCollection: 2, alert.SeenCollection: 1}
		for c, n := range want {
			if rep.Documents[c] != n || dry.Documents[c] != n {
				t.Errorf("%s: %d rewritten (dry run: %d), want %d", c, rep.Documents[c], dry.Documents[c], n)
			}
		}
		for _, c := range []string{report.Collection, alert.InboxCollection, alert.SeenCollection} {
			docs, err := s.Docs(ctx, c, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				if bytes.Contains(bytes.ToLower(d.Body), []byte("example.com")) {
					t.Errorf("%s document %d after retention: %s", c, d.ID, d.Body)
				}
			}
		}
		archived, err := report.List(ctx, s, 0)
		if err != nil || len(archived) != 1 || archived[0].ID != saved.ID || !strings.HasPrefix(archived[0].Messages[0].To, "anon-") ||
			!bytes.Contains(archived[0].Messages[0].EML, []byte("Subject: Weekly digest")) || !bytes.Contains(archived[0].Messages[0].EML, []byte(archived[0].Messages[0].To)) ||
			bytes.Contains(bytes.ToLower(archived[0].Messages[0].EML), []byte("example.com")) || strings.Contains(archived[0].Messages[0].Grants+archived[0].By, "example.com") {
			t.Errorf("the archive after retention: %+v (%v)", archived, err)
		}
		items, unread, err := alert.Inbox(ctx, s, "ann@example.com", 10)
		if err != nil || len(items) != 1 || unread != 0 || items[0].Lines[0] != "Firing: MTTR is red" {
			t.Errorf("ann's inbox after retention: %+v, %d unread (%v)", items, unread, err)
		}
		if n, err := alert.Unread(ctx, s, "bob@example.com"); err != nil || n != 1 {
			t.Errorf("bob's unread after retention: %d (%v)", n, err)
		}
		// The ledger verifies: the run's entry added to those there were.
		intact(t, s, int64(entries+1))
		if err := follower.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		for k, v := range metricValues(t, follower, end) {
			if before[k] != v {
				t.Errorf("%s = %s after retention, was %s", k, v, before[k])
			}
		}
		again, err := retention.Apply(ctx, s, policy, time.Now(), false)
		if err != nil || len(again.Documents) != 0 {
			t.Errorf("a second run: %+v, %v", again, err)
		}
	})
}

// metricValues is every metric's value and count at organisation level as
// of three times, by "metric@as_of".
func metricValues(t *testing.T, eng *engine.Engine, end time.Time) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := eng.Read(context.Background(), func(ds *metrics.Dataset) error {
		for _, at := range []time.Time{end, end.AddDate(0, 0, -100), end.AddDate(0, 0, -250)} {
			for _, id := range metrics.IDs() {
				r, err := ds.Compute(id, metrics.Query{AsOf: at, Window: 30 * 24 * time.Hour})
				if err != nil {
					return err
				}
				v := "none"
				if r.Value != nil {
					v = fmt.Sprint(*r.Value)
				}
				out[id+"@"+at.Format(time.DateOnly)] = fmt.Sprintf("%s n=%d", v, r.Count)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/report"
	"github.com/candor/candor/internal/store"
)

// runDigestDocs: the documents the ledger chains by their digest — gate
// decisions, watch outcomes, reports — are compared with it too
// (ledger.VerifyDocs): one rewritten in the database is named, with the
// summary fields that differ; a report retention rewrote matches the
// digest its run chained, and one rewritten by a run that chained none is
// compared by its summary alone; a document inserted with an id below its
// collection's first chained one, but after the ledger's first, is
// inserted, not older than the ledger.
func runDigestDocs(t *testing.T, open Factory, o options) {
	ctx := context.Background()
	verify := func(t *testing.T, s store.Store) ledger.DocsReport {
		t.Helper()
		rep, err := ledger.VerifyDocs(ctx, s, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	appendJSON := func(t *testing.T, s store.Store, c string, v any) store.Doc {
		t.Helper()
		d, err := store.AppendJSON(ctx, s, c, v)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	// rewrite stores body as document d's, as someone with the database
	// can: the one update the triggers allow, or with them dropped.
	rewrite := func(t *testing.T, s store.Store, d store.Doc, old, new string) {
		t.Helper()
		got, ok, err := store.DocByID(ctx, s, d.Collection, d.ID)
		if err != nil || !ok || !bytes.Contains(got.Body, []byte(old)) {
			t.Fatalf("%s %d: %s (%v), want %q in it", d.Collection, d.ID, got.Body, err, old)
		}
		if err := o.sql(t, s, true, fmt.Sprintf(`UPDATE docs SET redacted = (1 = 0) WHERE id = %d`, d.ID)); err != nil {
			t.Fatal(err)
		}
		got.Body = bytes.Replace(got.Body, []byte(old), []byte(new), 1)
		if n, err := s.(store.DocRedactor).RedactDocs(ctx, []store.Doc{got}); err != nil || n != 1 {
			t.Fatalf("rewriting %s %d: %d, %v", d.Collection, d.ID, n, err)
		}
	}
	named := func(rep ledger.DocsReport) []string {
		var out []string
		for _, a := range rep.First {
			out = append(out, a.String()+": "+a.Reason)
		}
		return out
	}

	t.Run("DigestDocumentsTamperingIsCaught", func(t *testing.T) {
		if o.sql == nil {
			t.Skip("no SQL access to this store")
		}
		s := sealed(open(t))
		appendJSON(t, s, store.AccessCollection, map[string]any{"type": "sign_in", "subject": "user:ann@example.com"})
		// Written to the database behind Candor's back, with no entry:
		// its id is below the first gate decision's, above the ledger's
		// first document.
		if err := o.sql(t, s, false, fmt.Sprintf(`INSERT INTO docs (collection, created_at, body) VALUES ('%s', %d, '{"decision":"allow"}')`,
			gate.DecisionCollection, time.Now().UnixNano())); err != nil {
			t.Fatal(err)
		}
		decision := appendJSON(t, s, gate.DecisionCollection, gate.Result{Decision: gate.Deny, Release: gate.Release{Service: "checkout", Environment: "production", Version: "v1"}})
		watch := appendJSON(t, s, gate.WatchCollection, gate.Watch{Deployment: "import/d1", Service: "checkout", Outcome: gate.WatchFail, Rollback: true, Reason: "error rate 9% > 5%"})
		end := time.Now().UTC().Truncate(time.Hour)
		digest, _, err := report.Save(ctx, s, &report.Report{Kind: report.KindDigest, AsOf: end, By: "user:boss@example.com", CreatedAt: end,
			Messages: []report.Message{{To: "ann@example.com", Grants: "user ann@example.com", EML: []byte("To: ann@example.com\r\nSubject: Weekly digest\r\n\r\nMTTR is red.\r\n")}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := report.Save(ctx, s, &report.Report{Kind: report.KindBoard, AsOf: end, Month: "2026-11", By: "cli:root", CreatedAt: end, PDF: []byte("%PDF-1.4 a board pack")}); err != nil {
			t.Fatal(err)
		}
		inserted := decision.ID - 1
		rep := verify(t, s)
		if rep.Checked != 6 || rep.Altered != 1 || named(rep)[0] != fmt.Sprintf("%s %d: %s", gate.DecisionCollection, inserted, ledger.DocNotChained) {
			t.Fatalf("VerifyDocs before retention: %+v; want 6 checked, the inserted decision named", rep)
		}

		// Retention rewrites both reports: each matches the digest its
		// run chained.
		applyLedgerPeriod(t, s)
		if rep := verify(t, s); rep.Altered != 1 || rep.Redacted != 2 || rep.SummaryOnly != 0 {
			t.Fatalf("VerifyDocs after retention: %+v; want the two reports rewritten by it, only the inserted decision altered", rep)
		}

		rewrite(t, s, decision, `"decision":"deny"`, `"decision":"allow"`)
		rewrite(t, s, watch, `"outcome":"fail"`, `"outcome":"pass"`)
		rewrite(t, s, store.Doc{Collection: report.Collection, ID: digest.ID}, `"grants":"user `, `"grants":"roles executive, `)
		rep = verify(t, s)
		want := []string{
			fmt.Sprintf("%s %d (decision, sha256): %s", gate.DecisionCollection, decision.ID, ledger.DocDigestDiffers),
			fmt.Sprintf("%s %d (outcome, sha256): %s", gate.WatchCollection, watch.ID, ledger.DocDigestDiffers),
			fmt.Sprintf("%s %d (sha256): %s", report.Collection, digest.ID, ledger.DocDigestDiffers),
			fmt.Sprintf("%s %d: %s", gate.DecisionCollection, inserted, ledger.DocNotChained),
		}
		if got := named(rep); rep.Altered != 4 || rep.Redacted != 1 || !slices.Equal(got, want) {
			t.Errorf("VerifyDocs after tampering: %+v\n got %q\nwant %q", rep, got, want)
		}
	})

	t.Run("ReportsRewrittenBeforeDigestsWereChained", func(t *testing.T) {
		s := sealed(open(t))
		save := func(by string) store.Doc {
			r, _, err := report.Save(ctx, s, &report.Report{Kind: report.KindBoard, AsOf: time.Now().UTC(), Month: "2026-11", By: by, PDF: []byte("%PDF")})
			if err != nil {
				t.Fatal(err)
			}
			d, _, err := store.DocByID(ctx, s, report.Collection, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		a, b := save("cli:root"), save("cli:ann")
		// A run of a build before the digests were chained: it counts one
		// rewritten report, and lists no digest.
		rw := ledger.Rewrites()[report.Collection]
		a.Body, _, _ = rw(a.Body, func(string) string { return "cli:anon-0123456789abcdef0123456789abcdef" })
		if _, err := ledger.Append(ctx, s, ledger.TypeRetention, map[string]any{"documents": map[string]int{report.Collection: 1}}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.(store.DocRedactor).RedactDocs(ctx, []store.Doc{a}); err != nil {
			t.Fatal(err)
		}
		rep := verify(t, s)
		if rep.Altered != 0 || rep.SummaryOnly != 1 || len(rep.SummaryOnlyFirst) != 1 || rep.SummaryOnlyFirst[0].Doc != a.ID {
			t.Fatalf("VerifyDocs after an older run: %+v; want report %d compared by its summary", rep, a.ID)
		}
		// A second one made to read as rewritten is more than that run
		// rewrote.
		b.Body, _, _ = rw(b.Body, func(string) string { return "cli:anon-0123456789abcdef0123456789abcdef" })
		if _, err := s.(store.DocRedactor).RedactDocs(ctx, []store.Doc{b}); err != nil {
			t.Fatal(err)
		}
		rep = verify(t, s)
		if rep.Altered != 1 || rep.SummaryOnly != 1 || !strings.HasPrefix(named(rep)[0], fmt.Sprintf("report %d (sha256): ", b.ID)) {
			t.Errorf("VerifyDocs with a second report made to read as rewritten: %+v", rep)
		}
	})
}

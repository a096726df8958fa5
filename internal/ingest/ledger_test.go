package ingest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

func sealedStore(t *testing.T) store.Store {
	st := newStore(t)
	st.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	return st
}

func ledgerEntries(t *testing.T, st store.Store) []store.LedgerRow {
	t.Helper()
	var out []store.LedgerRow
	if err := st.LedgerScan(context.Background(), 1, 0, func(r store.LedgerRow) error { out = append(out, r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func recordsData(t *testing.T, r store.LedgerRow) (RecordsData, map[string][]string) {
	t.Helper()
	var d RecordsData
	var p map[string][]string
	if r.Type != ledger.TypeRecords || json.Unmarshal(r.Data, &d) != nil || r.Personal != nil && json.Unmarshal(r.Personal, &p) != nil {
		t.Fatalf("entry %d is not a records entry: %s %s %s", r.Seq, r.Type, r.Data, r.Personal)
	}
	return d, p
}

// TestImportIsOneLedgerEntry: a committed import is one ledger entry, in
// its own transaction, with its counts per kind and a hash of exactly the
// records written; a refused import leaves none.
func TestImportIsOneLedgerEntry(t *testing.T) {
	st := sealedStore(t)
	mustImport(t, st, Options{By: "cli:alice"}, src("a.ndjson", nd(svcLine("api"), depLine("d1"), depLine("d2"))))
	sum := mustImport(t, st, Options{By: "cli:alice"}, src("b.ndjson", nd(depLine("d1"), depLineStatus("d2", "failure"), incLine("i1"))))
	if _, err := Import(context.Background(), st, []Source{src("c.ndjson", nd(depLine("d3"), `{"kind":"deployment"}`))}, Options{}); err == nil {
		t.Fatal("an invalid import was accepted")
	}
	rows := ledgerEntries(t, st)
	if len(rows) != 2 {
		t.Fatalf("%d ledger entries, want one per committed import (2)", len(rows))
	}
	d, p := recordsData(t, rows[1])
	if d.Origin != "import" || len(d.Sources) != 1 || d.Sources[0] != "b.ndjson" || d.Records != 3 || d.Inserted != 1 || d.Replaced != 1 || d.Unchanged != 1 ||
		d.Kinds[domain.KindDeployment] != (Counts{Records: 2, Replaced: 1, Unchanged: 1}) || d.Kinds[domain.KindIncident] != (Counts{Records: 1, Inserted: 1}) {
		t.Errorf("second import's entry: %s (summary %s)", rows[1].Data, counted(sum))
	}
	if len(p["by"]) != 1 || p["by"][0] != "cli:alice" {
		t.Errorf("personal data %s", rows[1].Personal)
	}
	// The content hash is over the stored versions, in the order written
	// (one kind after another within a chunk).
	h := sha256.New()
	for _, k := range []domain.Key{depKey("d1"), depKey("d2"), {Kind: domain.KindIncident, Source: "import", ID: "i1"}} {
		r, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\t%s\t%s\t%s\n", k.Kind, k.Source, k.ID, r.Hash)
	}
	if want := hex.EncodeToString(h.Sum(nil)); d.ContentSHA256 != want {
		t.Errorf("content hash %s, want %s", d.ContentSHA256, want)
	}
}

// TestGroupCommitIsOneLedgerEntry: requests committed together are one
// entry, counting each request's records, naming who sent them.
func TestGroupCommitIsOneLedgerEntry(t *testing.T) {
	st := sealedStore(t)
	spy := &spyStore{Store: st}
	c := NewCommitter(spy)
	var bodies []string
	for i := range 5 {
		bodies = append(bodies, nd(depLine(fmt.Sprintf("d%d", i)), incLine(fmt.Sprintf("i%d", i))))
	}
	for i, o := range submitAll(t, c, spy, true, bodies) {
		if o.err != nil {
			t.Fatalf("request %d: %v", i, o.err)
		}
	}
	rows := ledgerEntries(t, st)
	if spy.transactions() != 1 || len(rows) != 1 {
		t.Fatalf("%d transactions, %d ledger entries; want one of each", spy.transactions(), len(rows))
	}
	d, _ := recordsData(t, rows[0])
	if d.Requests != 5 || d.Records != 10 || d.Inserted != 10 || d.Kinds[domain.KindIncident].Records != 5 || len(d.Sources) != 5 || len(d.ContentSHA256) != 64 {
		t.Errorf("group entry %s", rows[0].Data)
	}
	// A request alone (the group's retry path, or a single request) is one
	// entry too.
	if _, err := c.Import(context.Background(), []Source{src("body", nd(depLine("solo")))}, Options{Origin: "api", By: "token:ci"}); err != nil {
		t.Fatal(err)
	}
	rows = ledgerEntries(t, st)
	d, p := recordsData(t, rows[len(rows)-1])
	if len(rows) != 2 || d.Origin != "api" || d.Records != 1 || p["by"][0] != "token:ci" {
		t.Errorf("single request entry %s %s", rows[len(rows)-1].Data, rows[len(rows)-1].Personal)
	}
	rep, err := ledger.Verify(context.Background(), st, ledger.VerifyOptions{Keys: []ed25519.PublicKey{ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)}})
	if err != nil || rep.Broken != nil || rep.Entries != 2 {
		t.Errorf("verify: %+v %v", rep, err)
	}
}

package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/sqlite"
)

// Provenance: each stored record carries the hash of the raw input it was
// made from; a reformatted re-import of the same record changes nothing.
func TestRawInputHashKept(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	line := `{"kind":"change","id":"c1","service":"api","merged_at":"2026-03-01T10:00:00Z"}`
	if _, err := doImport(ctx, st, []Source{{Name: "a.ndjson", Reader: strings.NewReader(line + "\n")}}, Options{}); err != nil {
		t.Fatal(err)
	}
	key := domain.Key{Kind: domain.KindChange, Source: "import", ID: "c1"}
	got, err := st.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(line))
	if got.RawHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("raw hash = %q, want sha256 of the input line", got.RawHash)
	}
	reformatted := `{ "merged_at": "2026-03-01T10:00:00Z", "service": "api", "id": "c1", "kind": "change" }`
	s, err := doImport(ctx, st, []Source{{Name: "b.ndjson", Reader: strings.NewReader(reformatted)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Unchanged != 1 {
		t.Fatalf("reformatted re-import: %+v, want 1 unchanged", s.WriteResult)
	}
	if again, _ := st.Get(ctx, key); again.RawHash != got.RawHash {
		t.Fatalf("unchanged record's raw hash moved to %q", again.RawHash)
	}
	csv := "kind,id,service,merged_at\nchange,c2,api,2026-03-01T11:00:00Z\n"
	if _, err := doImport(ctx, st, []Source{{Name: "c.csv", Reader: strings.NewReader(csv)}}, Options{}); err != nil {
		t.Fatal(err)
	}
	c2, _ := st.Get(ctx, domain.Key{Kind: domain.KindChange, Source: "import", ID: "c2"})
	if len(c2.RawHash) != 64 || c2.RawHash == got.RawHash {
		t.Fatalf("CSV record raw hash = %q", c2.RawHash)
	}
}

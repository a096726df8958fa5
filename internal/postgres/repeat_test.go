package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/pgtest"
)

// An import into PostgreSQL counts a record repeating an earlier chunk's
// key as repeated and names both lines, asking the batch (KeyHashes) —
// written by the import, or stored before it and left unchanged — and
// the last of a key is stored.
func TestImportRepeatedKeysAcrossChunks(t *testing.T) {
	s := open(t, pgtest.NewDatabase(t))
	n := s.StreamChunk() + 100 // past one streamed chunk
	line := func(id, status string) string {
		return fmt.Sprintf(`{"kind":"deployment","id":%q,"service":"api","environment":"production","finished_at":"2026-03-10T12:00:00Z","status":%q}`, id, status)
	}
	var b strings.Builder
	for i := range n {
		b.WriteString(line(fmt.Sprintf("d%d", i), "success") + "\n")
	}
	b.WriteString(line("d10", "failure") + "\n" + line("d20", "success") + "\n")
	imp := func() *ingest.Summary {
		sum, err := ingest.Import(context.Background(), s, []ingest.Source{{Name: "f.ndjson", Reader: strings.NewReader(b.String())}}, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	sum := imp()
	if sum.Records != int64(n+2) || sum.Inserted != int64(n) || sum.Replaced != 0 || sum.Unchanged != 0 || sum.Repeated != 2 {
		t.Fatalf("first import: %+v, %d repeated", sum.WriteResult, sum.Repeated)
	}
	want := fmt.Sprintf("f.ndjson:%d: deployment/import/d10 repeats f.ndjson:11\nf.ndjson:%d: deployment/import/d20 repeats f.ndjson:21", n+1, n+2)
	var got []string
	for _, r := range sum.Repeats {
		got = append(got, r.String())
	}
	if strings.Join(got, "\n") != want {
		t.Fatalf("repeats:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	// Again: d10's first line replaces the stored failure, d20's repeats
	// a record left unchanged.
	sum = imp()
	if sum.Replaced != 1 || sum.Unchanged != int64(n-1) || sum.Repeated != 2 {
		t.Fatalf("re-import: %+v, %d repeated", sum.WriteResult, sum.Repeated)
	}
	st, err := s.Get(context.Background(), sum.Repeats[0].Key)
	if err != nil || !strings.Contains(string(st.Body), `"failure"`) {
		t.Fatalf("d10 stored as %s (%v), want the last line's failure", st.Body, err)
	}
}

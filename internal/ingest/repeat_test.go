package ingest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/store"
)

func repeatsOf(s *Summary) []string {
	var out []string
	for _, r := range s.Repeats {
		out = append(out, r.String())
	}
	return out
}

func wantCounts(t *testing.T, s *Summary, records, ins, rep, unch, repeated int64) {
	t.Helper()
	got := [5]int64{s.Records, s.Inserted, s.Replaced, s.Unchanged, s.Repeated}
	if got != [5]int64{records, ins, rep, unch, repeated} {
		t.Fatalf("records, inserted, replaced, unchanged, repeated = %v; want %v", got, [5]int64{records, ins, rep, unch, repeated})
	}
	if s.Inserted+s.Replaced+s.Unchanged+s.Repeated != s.Records {
		t.Fatalf("counts %v do not add up to the records", got)
	}
}

// A record repeating an earlier one's key in the same import is counted
// as repeated, named with both lines, and not as a replacement; the last
// is stored, and a re-import keeps the store as it is.
func TestImportRepeatedKeys(t *testing.T) {
	st := newStore(t)
	in := nd(depLine("d1"), depLine("d2"), depLineStatus("d1", "failure"), depLine("d2"))
	sum := mustImport(t, st, Options{}, src("a.ndjson", in))
	wantCounts(t, sum, 4, 2, 0, 0, 2)
	want := []string{
		"a.ndjson:3: deployment/import/d1 repeats a.ndjson:1",
		"a.ndjson:4: deployment/import/d2 repeats a.ndjson:2",
	}
	if got := repeatsOf(sum); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("repeats:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if k := sum.ByKind[domain.KindDeployment]; k.Repeated != 2 || k.Inserted != 2 || k.Replaced != 0 {
		t.Fatalf("deployments: %+v", *k)
	}
	if d := getDeployment(t, st, "d1"); d.Status != "failure" {
		t.Fatalf("d1 stored with status %q, want the last line's failure", d.Status)
	}
	// Again: d1's first line differs from what is stored (the last one),
	// so it replaces it and its repeat puts it back; d2 is unchanged.
	sum = mustImport(t, st, Options{}, src("a.ndjson", in))
	wantCounts(t, sum, 4, 0, 1, 1, 2)
	if d := getDeployment(t, st, "d1"); d.Status != "failure" {
		t.Fatalf("re-import: d1 stored with status %q", d.Status)
	}
	if !strings.Contains(FormatSummary(sum), "repeated\n"+
		"deployment              4          0          1          1          2\n"+
		"total                   4          0          1          1          2\n") ||
		!strings.HasSuffix(FormatSummary(sum), "records/s\n2 records repeated an earlier record's key (kind, source, id) in this import; the last of each is stored:\n"+
			"  a.ndjson:3: deployment/import/d1 repeats a.ndjson:1\n  a.ndjson:4: deployment/import/d2 repeats a.ndjson:2\n") {
		t.Fatalf("summary:\n%s", FormatSummary(sum))
	}
}

// Across chunks (the earlier record already in the batch) and files, a
// repeat is found and named; a CSV row repeating an NDJSON line too.
func TestImportRepeatedKeysAcrossChunksAndFiles(t *testing.T) {
	st := newStore(t)
	const n = 3 * chunkSize
	var lines []string
	for i := range n {
		lines = append(lines, depLine(fmt.Sprintf("d%d", i)))
	}
	lines = append(lines, depLineStatus("d10", "failure"), depLine("d20"))
	csv := depHeader + "\n" + depRow("d30") + "\n" + depRow("new") + "\n"
	sum := mustImport(t, st, Options{}, src("big.ndjson", nd(lines...)), Source{Name: "deployments.csv", Reader: strings.NewReader(csv)})
	wantCounts(t, sum, n+4, n+1, 0, 0, 3)
	want := []string{
		fmt.Sprintf("big.ndjson:%d: deployment/import/d10 repeats big.ndjson:11", n+1),
		fmt.Sprintf("big.ndjson:%d: deployment/import/d20 repeats big.ndjson:21", n+2),
		"deployments.csv:2: deployment/import/d30 repeats big.ndjson:31",
	}
	if got := repeatsOf(sum); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("repeats:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := getDeployment(t, st, "d10"); d.Status != "failure" {
		t.Fatalf("d10 stored with status %q", d.Status)
	}
	if got := counts(t, st)[domain.KindDeployment]; got != n+1 {
		t.Fatalf("%d stored, want %d", got, n+1)
	}
}

// Keys sharing fingerprints are confirmed, in the buffer and in the
// batch: counts stay exact. Where several earlier chunks' keys share a
// repeat's fingerprint, which was its key's is not told (here, with 128
// fingerprints, each is shared by ~36 keys; with 2^32, rarely ever).
func TestImportRepeatedKeysSharedFingerprints(t *testing.T) {
	defer func(m uint64) { fingerprintMask = m }(fingerprintMask)
	fingerprintMask = 0x7f
	st := newStore(t)
	const n = 2*chunkSize + 500
	var lines []string
	for i := range n {
		lines = append(lines, depLine(fmt.Sprintf("d%d", i)))
	}
	// d5 twice more (once changed), d4000 again in its own chunk.
	lines = append(lines, depLineStatus("d5", "failure"), depLine("d4000"), depLineStatus("d5", "failure"))
	sum := mustImport(t, st, Options{}, src("f.ndjson", nd(lines...)))
	wantCounts(t, sum, n+3, n, 0, 0, 3)
	want := []string{
		fmt.Sprintf("f.ndjson:%d: deployment/import/d5 repeats an earlier record", n+1),
		fmt.Sprintf("f.ndjson:%d: deployment/import/d4000 repeats an earlier record", n+2),
		fmt.Sprintf("f.ndjson:%d: deployment/import/d5 repeats f.ndjson:%d", n+3, n+1),
	}
	if got := repeatsOf(sum); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("repeats:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Imported again, with whole fingerprints: every first record is
	// unchanged but d5's, whose first line differs from the stored last
	// one, and the repeats of records left unchanged are found too.
	fingerprintMask = ^uint64(0)
	sum = mustImport(t, st, Options{}, src("f.ndjson", nd(lines...)))
	wantCounts(t, sum, n+3, 0, 1, n-1, 3)
	if got := repeatsOf(sum); got[1] != fmt.Sprintf("f.ndjson:%d: deployment/import/d4000 repeats f.ndjson:4001", n+2) {
		t.Fatalf("repeats %v", got)
	}
}

// The first maxRepeats repeats are named, by line, and all are counted;
// an import refused for an invalid line reports none.
func TestImportRepeatsBounded(t *testing.T) {
	st := newStore(t)
	var lines []string
	for i := range 15 {
		lines = append(lines, depLine(fmt.Sprintf("d%d", i)))
	}
	lines = append(lines, lines...)
	sum := mustImport(t, st, Options{}, src("twice.ndjson", nd(lines...)))
	wantCounts(t, sum, 30, 15, 0, 0, 15)
	if len(sum.Repeats) != maxRepeats || sum.Repeats[0].Line != 16 || sum.Repeats[maxRepeats-1].Line != 25 {
		t.Fatalf("repeats %v", repeatsOf(sum))
	}
	if !strings.Contains(FormatSummary(sum), "… and 5 more repeats") {
		t.Fatalf("summary:\n%s", FormatSummary(sum))
	}
	sum, err := doImport(t.Context(), newStore(t), []Source{src("bad.ndjson", nd(depLine("x"), depLine("x"), "{"))}, Options{})
	wantInvalid(t, err)
	if sum.Repeated != 0 || sum.Repeats != nil {
		t.Fatalf("a refused import reports repeats: %d %v", sum.Repeated, sum.Repeats)
	}
}

// The ledger's entry of an import, alone or in a group, counts the
// repeats apart too, as the summary does.
func TestImportRepeatsInLedgerCounts(t *testing.T) {
	for _, c := range []struct {
		name string
		imp  func(store.Store, ...Source) (*Summary, error)
	}{
		{"alone", func(st store.Store, in ...Source) (*Summary, error) { return Import(t.Context(), st, in, Options{}) }},
		{"group", func(st store.Store, in ...Source) (*Summary, error) {
			return NewCommitter(st).Import(t.Context(), in, Options{})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := sealedStore(t)
			sum, err := c.imp(st, src("a.ndjson", nd(depLine("d1"), svcLine("api"), depLineStatus("d1", "failure"), depLine("d2"))))
			if err != nil {
				t.Fatal(err)
			}
			rows := ledgerEntries(t, st)
			d, _ := recordsData(t, rows[len(rows)-1])
			want := Counts{Records: 3, Inserted: 2, Repeated: 1}
			if d.Counts != (Counts{Records: 4, Inserted: 3, Repeated: 1}) || d.Kinds[domain.KindDeployment] != want || sum.Repeated != 1 {
				t.Fatalf("entry %s", rows[len(rows)-1].Data)
			}
		})
	}
}

package image

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
)

// Every generated record, as the engine decodes it from its stored JSON,
// comes back from an image identical field for field (reflect.DeepEqual,
// so times keep their location too), in order, with its sequence and
// ingestion time; quarantined rows keep their key and reason.
func TestRecordsRoundTrip(t *testing.T) {
	b := NewBuilder()
	var want []Row
	seq := int64(0)
	ing := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	kinds := map[domain.Kind]bool{}
	_, err := generate.Records(generate.Options{Seed: 7, Scale: 0.005, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Days: 120}, func(r domain.Record) {
		body, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		rec := domain.New(r.Kind())
		if err := json.Unmarshal(body, rec); err != nil {
			t.Fatal(err)
		}
		rec.Header().Source = r.Header().Source
		seq += 1 + seq%3
		row := Row{Seq: seq, Ingested: ing.Add(time.Duration(seq) * time.Millisecond), Rec: rec}
		if seq%997 == 0 {
			row = Row{Seq: seq, Ingested: row.Ingested, Key: domain.KeyOf(rec), Quarantine: "stored record is corrupt: unexpected end of JSON input"}
		}
		kinds[r.Kind()] = true
		if err := b.Add(row); err != nil {
			t.Fatal(err)
		}
		want = append(want, row)
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds) < 10 {
		t.Fatalf("only %d kinds generated", len(kinds))
	}
	// A non-UTC time and a nil list beside an empty one take the other paths.
	odd := &domain.Deployment{Meta: domain.Meta{ID: "odd", Source: "x"}, FinishedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 3600)), Changes: []string{}}
	seq++
	if err := b.Add(Row{Seq: seq, Rec: odd}); err != nil {
		t.Fatal(err)
	}
	want = append(want, Row{Seq: seq, Rec: odd})
	// Records Candor writes itself, of kinds never imported.
	for _, rec := range []domain.Record{
		&domain.RetroValidation{Meta: domain.Meta{ID: "ci/e-1", Source: "candor"}, DeploymentSource: "ci", DeploymentID: "e-1", ValidatedAt: ing},
		&domain.VulnerabilityScan{Meta: domain.Meta{ID: "3f2a@2026-05-01T00:00:00Z", Source: "trivy"}, Scanner: "trivy", Target: "img", Service: "api", ScannedAt: ing, Findings: 6},
	} {
		seq++
		if err := b.Add(Row{Seq: seq, Rec: rec}); err != nil {
			t.Fatal(err)
		}
		want = append(want, Row{Seq: seq, Rec: rec})
	}
	if err := b.Add(Row{Seq: seq, Rec: odd}); err == nil {
		t.Fatal("a row out of sequence order was accepted")
	}

	path := filepath.Join(t.TempDir(), "candor.image")
	h := Header{Version: "v", Schema: Schema(), Store: "s", Seq: seq}
	if err := Write(path, h, b.Sections()); err != nil {
		t.Fatal(err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	gotH, secs := m.Header, m.Sections
	for i := range secs {
		m.Done(i) // the pages come back from the file when read
	}
	if gotH != h {
		t.Fatalf("header %+v, want %+v", gotH, h)
	}
	got := decodeAll(t, secs)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d:\n got %#v\nwant %#v", i, got[i], want[i])
		}
	}
}

func decodeAll(t *testing.T, secs []Section) []Row {
	t.Helper()
	var rows []Row
	for _, s := range secs {
		if s.Kind != SectionRows {
			t.Fatalf("section of kind %d", s.Kind)
		}
		r, err := DecodeRows(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r...)
	}
	return rows
}

// Any damage to the file — a byte flipped anywhere, a truncation, a
// missing file, another format — is refused by Read, never half read.
func TestDamagedImagesAreRefused(t *testing.T) {
	b := NewBuilder()
	for i := range 40000 {
		r := &domain.Change{Meta: domain.Meta{ID: strings.Repeat("c", i%7) + string(rune('a'+i%26)), Source: "git"}, Service: "svc", MergedAt: time.Unix(int64(i)*60, 0).UTC()}
		if err := b.Add(Row{Seq: int64(i + 1), Rec: r}); err != nil {
			t.Fatal(err)
		}
	}
	secsLastID := b.Last.Rec.Header().ID
	secs := b.Sections()
	if len(secs) < 3 {
		t.Fatalf("want several row sections, got %d", len(secs))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.image")
	if err := Write(path, Header{Version: "v", Seq: 40000}, secs); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, parsed, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	if rows := decodeAll(t, parsed); len(rows) != 40000 || rows[39999].Rec.Header().ID != secsLastID {
		t.Fatalf("%d rows back, the last %v", len(rows), rows[len(rows)-1])
	}
	if len(good) < 3*4096 {
		t.Fatalf("unexpected size %d", len(good))
	}
	// Every 1021st byte, and every byte of the header and trailer.
	for i := 0; i < len(good); i++ {
		if i > 600 && i < len(good)-30 && i%1021 != 0 {
			continue
		}
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x10
		if _, _, err := Parse(bad); err == nil {
			// Padding between sections is not covered by a checksum and
			// carries nothing.
			if !inPadding(good, i) {
				t.Fatalf("a flipped bit at byte %d of %d was not noticed", i, len(good))
			}
		}
	}
	for _, n := range []int{0, 10, len(good) / 2, len(good) - 1} {
		if _, _, err := Parse(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes, accepted", n)
		}
	}
	if _, err := Read(filepath.Join(dir, "none")); !errors.Is(err, ErrMissing) {
		t.Fatalf("missing file: %v", err)
	}
	other := append([]byte(nil), good...)
	other[8] = 9
	if _, _, err := Parse(other); err == nil || !strings.Contains(err.Error(), "format 9") {
		t.Fatalf("another format: %v", err)
	}
}

// inPadding reports whether byte i of an image lies in the zero padding
// between its header and sections.
func inPadding(b []byte, i int) bool {
	_, secs, _ := Parse(b)
	end := 16
	for _, s := range secs {
		start := uintptrOf(b, s.Data)
		if i >= end && i < start {
			return true
		}
		end = start + len(s.Data)
	}
	head := int(binary.LittleEndian.Uint64(b[len(b)-trailerSz:]))
	return i >= end && i < head
}

func uintptrOf(b, sub []byte) int {
	for off := range b {
		if &b[off] == &sub[0] {
			return off
		}
	}
	return -1
}

// A section damaged on disk is caught by the checksums read from the
// file: Read refuses the file, and a deferred reader's VerifyRead names
// that section and passes the others, in buffers of any size.
func TestVerifyReadFindsDamageOnDisk(t *testing.T) {
	secs := []Section{
		{Kind: 7, Data: []byte(strings.Repeat("a", 3*verifyBuf+5))},
		{Kind: 7, Data: []byte(strings.Repeat("b", 9000))},
		{Kind: 7, Data: nil},
	}
	path := filepath.Join(t.TempDir(), "candor.dataset")
	if err := Write(path, Header{Version: "v", Seq: 3}, secs); err != nil {
		t.Fatal(err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatalf("a good file refused: %v", err)
	}
	m.Close()
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last byte of the first section's fourth read, and one of the
	// second section.
	for _, at := range []int{4096 + 3*verifyBuf + 4, int(parsedOffset(t, good, 1)) + 100} {
		bad := append([]byte(nil), good...)
		bad[at] ^= 1
		if err := os.WriteFile(path, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
			t.Fatalf("byte %d flipped: Read gave %v", at, err)
		}
		m, err := ReadDeferred(path)
		if err != nil {
			t.Fatalf("byte %d flipped: the header is good, ReadDeferred gave %v", at, err)
		}
		damaged := -1
		for i := range m.Sections {
			for _, buf := range [][]byte{nil, make([]byte, 4096), make([]byte, 777)} {
				err := m.VerifyRead(i, buf)
				if err != nil {
					damaged = i
					if !strings.Contains(err.Error(), "section "+string(rune('0'+i))) {
						t.Fatalf("the error does not name section %d: %v", i, err)
					}
				}
			}
		}
		if want := map[bool]int{true: 0, false: 1}[at < 4096+3*verifyBuf+5]; damaged != want {
			t.Fatalf("byte %d flipped: section %d found damaged, want %d", at, damaged, want)
		}
		m.Verified()
		if err := m.VerifyRead(1, nil); err == nil {
			t.Fatal("VerifyRead after Verified checked nothing and passed")
		}
		m.Close()
	}
}

// parsedOffset is where section i's data starts in an image file.
func parsedOffset(t *testing.T, b []byte, i int) int64 {
	t.Helper()
	_, secs, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return secs[i].off
}

// A spill writer's sections copied after others come out in order, whole,
// and the spill file is gone.
func TestCopyToAppendsASpillsSections(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.image")
	dst, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	spill, err := Create(path + ".newer")
	if err != nil {
		t.Fatal(err)
	}
	want := [][]byte{[]byte("kept first")}
	if err := dst.Add(Section{Kind: SectionRows, Data: want[0]}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		b := bytes.Repeat([]byte{byte('a' + i)}, 5000*(i+1))
		want = append(want, b)
		if err := spill.Add(Section{Kind: SectionRows, Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := spill.CopyTo(dst); err != nil {
		t.Fatal(err)
	}
	if err := dst.Commit(Header{Version: "v", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if len(m.Sections) != len(want) {
		t.Fatalf("%d sections, want %d", len(m.Sections), len(want))
	}
	for i, s := range m.Sections {
		if !bytes.Equal(s.Data, want[i]) {
			t.Fatalf("section %d: %d bytes, want %d", i, len(s.Data), len(want[i]))
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.newer*")); len(left) > 0 {
		t.Fatalf("the spill file stayed: %v", left)
	}
}

// A writer killed mid-write leaves its temporary file: the next writer of
// the same path removes it, but not the file of a writer still at work
// (another process writing now, here another Writer), nor a file that is
// not a writer's.
func TestAbandonedTemporaryFilesAreRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.image")
	killed := []string{path + ".tmp123456", path + ".newer.tmp42"}
	kept := []string{path + ".tmpnotes", filepath.Join(dir, "candor.dataset.tmp7")}
	for _, name := range append(killed, kept...) {
		if err := os.WriteFile(name, []byte("half an image"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	working, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(killed[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s, left by a killed writer, is still there (%v)", killed[0], err)
	}
	spill, err := Create(path + ".newer")
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Abort()
	if _, err := os.Stat(killed[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s, left by a killed writer, is still there (%v)", killed[1], err)
	}
	next, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	next.Abort()
	if err := working.Add(Section{Kind: SectionRows, Data: []byte("rows")}); err != nil {
		t.Fatal(err)
	}
	if err := working.Commit(Header{Version: "v", Seq: 1}); err != nil {
		t.Fatalf("a writer at work lost its file to another writer's start: %v", err)
	}
	m, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	for _, name := range kept {
		if _, err := os.Stat(name); err != nil {
			t.Errorf("%s is not a writer's file of %s, yet: %v", name, path, err)
		}
	}
}

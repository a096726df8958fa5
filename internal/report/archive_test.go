package report

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
	"github.com/candor/candor/internal/store"
)

// noWholeReports is a store on which reading the archived reports whole
// (every PDF and message) fails.
type noWholeReports struct{ *sqlite.DB }

func (s noWholeReports) Docs(ctx context.Context, collection string, limit int) ([]store.Doc, error) {
	if collection == Collection {
		return nil, errors.New("the archived reports were read whole, files and all")
	}
	return s.DB.Docs(ctx, collection, limit)
}

// archive saves packs board packs of size bytes each, and a digest after
// every fourth, on a new store.
func archive(tb testing.TB, packs, size int) *sqlite.DB {
	tb.Helper()
	st := sqlitetest.Open(tb)
	rnd := rand.New(rand.NewPCG(1, 2))
	month := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range packs {
		pdf := make([]byte, size+i)
		for j := range pdf {
			pdf[j] = byte(rnd.Uint32())
		}
		end := month.AddDate(0, i+1, 0)
		r := Report{Kind: KindBoard, Month: month.AddDate(0, i, 0).Format("2006-01"), AsOf: end, CreatedAt: end.Add(time.Hour), By: "cli:ann",
			Definitions: []Definition{{Metric: "arr", Version: 2}, {Metric: "change_failure_rate", Version: 1}}, PDF: pdf}
		if _, _, err := Save(context.Background(), st, &r); err != nil {
			tb.Fatal(err)
		}
		if i%4 == 3 {
			d := Report{Kind: KindDigest, AsOf: end, CreatedAt: end, Definitions: r.Definitions,
				Messages: []Message{{To: "ceo@example.com", Grants: "roles ceo", EML: pdf[:size/4]}}}
			if _, _, err := Save(context.Background(), st, &d); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return st
}

// The archived reports are listed without their files — the store reads
// neither a board pack's PDF nor a digest's messages — with all else as
// archived and each PDF's size; one report is read by its id. The board
// packs' page and API had read and decoded every report, files and all,
// on each request.
func TestListingReadsNoFiles(t *testing.T) {
	st := archive(t, 6, 3000)
	all, err := List(context.Background(), st, 0)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := Listing(context.Background(), noWholeReports{st})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(all) || len(all) != 7 {
		t.Fatalf("%d listed, %d archived, want 7", len(listed), len(all))
	}
	for i, l := range listed {
		want := all[i]
		if l.PDFBytes != len(want.PDF) || l.PDF != nil || l.Messages != nil {
			t.Errorf("report %d: %d bytes of PDF, PDF %d bytes, %d messages read; want %d, none, none", l.ID, l.PDFBytes, len(l.PDF), len(l.Messages), len(want.PDF))
		}
		want.PDF, want.Messages = nil, nil
		if !reflect.DeepEqual(l.Report, want) {
			t.Errorf("report %d listed as %+v, archived as %+v", l.ID, l.Report, want)
		}
	}
	// candor report list's: the digests' messages kept (it names their
	// recipients), the packs' PDFs left in the store all the same.
	withMessages, err := ListingWithMessages(context.Background(), noWholeReports{st})
	if err != nil || len(withMessages) != len(all) {
		t.Fatalf("ListingWithMessages: %d, %v", len(withMessages), err)
	}
	for i, l := range withMessages {
		want := all[i]
		if l.PDFBytes != len(want.PDF) || l.PDF != nil {
			t.Errorf("report %d with its messages: %d bytes of PDF, PDF %d bytes read; want %d, none", l.ID, l.PDFBytes, len(l.PDF), len(want.PDF))
		}
		want.PDF = nil
		if !reflect.DeepEqual(l.Report, want) {
			t.Errorf("report %d listed with its messages as %+v, archived as %+v", l.ID, l.Report, want)
		}
	}
	got, err := Get(context.Background(), noWholeReports{st}, all[2].ID)
	if err != nil || !reflect.DeepEqual(got, all[2]) {
		t.Errorf("Get(%d) = %v, %v", all[2].ID, got.ID, err)
	}
	if _, err := Get(context.Background(), noWholeReports{st}, all[0].ID+100); err == nil {
		t.Error("Get of no report found one")
	}
}

// BenchmarkBoardPackList lists 50 archived board packs of ~55 KB (and
// 12 digests) as the /reports page and GET /api/v1/reports/board do:
// whole (List, as they had) and without their files (Listing).
func BenchmarkBoardPackList(b *testing.B) {
	st := archive(b, 50, 55000)
	for _, c := range []struct {
		name string
		list func() (int, error)
	}{
		{"whole", func() (int, error) {
			rs, err := List(context.Background(), st, 0)
			n := 0
			for _, r := range rs {
				if r.Kind == KindBoard {
					n++
				}
			}
			return n, err
		}},
		{"listing", func() (int, error) {
			rs, err := Listing(context.Background(), st)
			n := 0
			for _, r := range rs {
				if r.Kind == KindBoard {
					n++
				}
			}
			return n, err
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if n, err := c.list(); err != nil || n != 50 {
					b.Fatal(fmt.Sprint(n, err))
				}
			}
		})
	}
}

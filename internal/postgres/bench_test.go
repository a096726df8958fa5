package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// The same import shape against both stores, so the PostgreSQL figure has
// its SQLite reference next to it (the goal is within 2× of SQLite):
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/postgres/
const benchRecords = 200_000

// benchChunk is what internal/ingest hands to Add at a time.
const benchChunk = 2048

func benchItems() []store.Item {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	items := make([]store.Item, benchRecords)
	for i := range items {
		at := t0.Add(time.Duration(i) * time.Minute)
		body := fmt.Sprintf(`{"kind":"deployment","source":"import","id":"d%07d","service":"svc-%d","environment":"production","status":"success","commit":"%040x","started_at":%q,"finished_at":%q}`,
			i, i%50, i*7919, at.Format(time.RFC3339), at.Add(4*time.Minute).Format(time.RFC3339))
		sum := sha256.Sum256([]byte(body))
		items[i] = store.Item{
			Key:       domain.Key{Kind: domain.KindDeployment, Source: "import", ID: fmt.Sprintf("d%07d", i)},
			EventTime: at, Hash: hex.EncodeToString(sum[:]), Body: []byte(body),
		}
	}
	return items
}

// importAll writes items in one batch, benchChunk at a time, as an import
// does.
func importAll(b *testing.B, s store.Store, items []store.Item) store.WriteResult {
	return importChunks(b, s, items, benchChunk)
}

func importChunks(b *testing.B, s store.Store, items []store.Item, chunk int) store.WriteResult {
	ctx := context.Background()
	bt, err := s.Begin(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var res store.WriteResult
	for i := 0; i < len(items); i += chunk {
		r, err := bt.Add(ctx, items[i:min(i+chunk, len(items))])
		if err != nil {
			b.Fatal(err)
		}
		res.Add(r)
	}
	if err := bt.Commit(); err != nil {
		b.Fatal(err)
	}
	return res
}

var benchStores = []struct {
	name string
	open func(b *testing.B) store.Store
}{
	{"sqlite", func(b *testing.B) store.Store {
		s, err := sqlite.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}},
	{"postgres", func(b *testing.B) store.Store { return open(b, pgtest.NewDatabase(b)) }},
}

// BenchmarkImport200k is a first import into an empty store.
func BenchmarkImport200k(b *testing.B) {
	items := benchItems()
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := bs.open(b)
				b.StartTimer()
				if res := importAll(b, s, items); res.Inserted != benchRecords {
					b.Fatalf("result %+v", res)
				}
			}
			b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkImport200kOneAdd hands all records to one Add (the store
// chunks them itself; on PostgreSQL through COPY).
func BenchmarkImport200kOneAdd(b *testing.B) {
	items := benchItems()
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				s := bs.open(b)
				b.StartTimer()
				if res := importChunks(b, s, items, len(items)); res.Inserted != benchRecords {
					b.Fatalf("result %+v", res)
				}
			}
			b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkReimport200k imports the same file again: every record is
// unchanged, the common case for scheduled re-imports.
func BenchmarkReimport200k(b *testing.B) {
	items := benchItems()
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			s := bs.open(b)
			importAll(b, s, items)
			b.ResetTimer()
			for range b.N {
				if res := importAll(b, s, items); res.Unchanged != benchRecords {
					b.Fatalf("result %+v", res)
				}
			}
			b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkSmallAdds writes 30,000 records three per Add, in one batch:
// what an import of mixed record kinds does when each run of one kind is
// its own Add. Every Add is a round trip to PostgreSQL, so this measures
// the per-Add floor rather than throughput.
func BenchmarkSmallAdds(b *testing.B) {
	items := benchItems()[:30_000]
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				s := bs.open(b)
				b.StartTimer()
				bt, err := s.Begin(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(items); i += 3 {
					if _, err := bt.Add(ctx, items[i:i+3]); err != nil {
						b.Fatal(err)
					}
				}
				if err := bt.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(items)*b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkIngestImport is a whole import of a generated organisation
// (parse, validate, canonicalise, hash, store) into each store, at
// CANDOR_BENCH_SCALE (default 0.05): the figure candor bench reports as
// import_records_per_s, with its SQLite reference beside it.
//
//	CANDOR_BENCH_SCALE=1 go test -run '^$' -bench IngestImport -benchtime 1x ./internal/postgres/
func BenchmarkIngestImport(b *testing.B) {
	scale, err := generate.BenchScale(0.05)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	gen, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: scale, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	for _, bs := range benchStores {
		b.Run(bs.name, func(b *testing.B) {
			var took time.Duration
			for range b.N {
				b.StopTimer()
				s := bs.open(b)
				b.StartTimer()
				start := time.Now()
				if _, err := ingest.Import(context.Background(), s, []ingest.Source{{Name: "bench.ndjson", Reader: bytes.NewReader(buf.Bytes())}}, ingest.Options{}); err != nil {
					b.Fatal(err)
				}
				took += time.Since(start)
			}
			b.ReportMetric(float64(gen.Records)*float64(b.N)/took.Seconds(), "records/s")
		})
	}
}

// An import streaming into PostgreSQL asks for chunks its COPY path takes.
var _ ingest.StreamChunker = (*DB)(nil)

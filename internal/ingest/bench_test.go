package ingest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// BenchmarkImport measures end-to-end import (parse, validate, store) of
// generated demo data into the embedded store, at CANDOR_BENCH_SCALE
// (default 0.05):
//
//	CANDOR_BENCH_SCALE=1 go test -run '^$' -bench Import -benchtime 3x -cpuprofile cpu.pprof ./internal/ingest/
func BenchmarkImport(b *testing.B) {
	scale, err := generate.BenchScale(0.05)
	if err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: scale, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	var secs float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s, err := sqlite.Open(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := Import(context.Background(), s, []Source{{Name: "bench.ndjson", Reader: bytes.NewReader(data)}}, Options{}); err != nil {
			b.Fatal(err)
		}
		secs += time.Since(start).Seconds()
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(st.Records)*float64(b.N)/secs, "records/s")
}

// BenchmarkContentHash is what a ledger entry adds to an import per record
// (RecordsData.ContentSHA256), on the writer goroutine:
//
//	go test -run '^$' -bench ContentHash ./internal/ingest/
func BenchmarkContentHash(b *testing.B) {
	items := make([]store.Item, 2048)
	for i := range items {
		items[i] = store.Item{Key: domain.Key{Kind: domain.KindDeployment, Source: "github", ID: fmt.Sprintf("deploy-%08d", i)},
			Hash: fmt.Sprintf("%064x", i)}
	}
	b.ResetTimer()
	var c ContentHash
	for i := 0; i < b.N; i++ {
		c.Add(items)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/record")
}

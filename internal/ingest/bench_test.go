package ingest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/sqlite"
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

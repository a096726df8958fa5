package scorecard

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// BenchmarkScorecardAsOfNow is a scorecard "as of now" — an as_of never
// asked before, so every window (current, previous, 12 weekly points) is
// computed from the records: what each dashboard request without as_of
// costs. CANDOR_BENCH_SCALE sets the data volume (default 0.1):
//
//	CANDOR_BENCH_SCALE=1 go test -run '^$' -bench AsOfNow -benchtime 5x ./internal/scorecard/
func BenchmarkScorecardAsOfNow(b *testing.B) {
	scale := 0.1
	if v := os.Getenv("CANDOR_BENCH_SCALE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("CANDOR_BENCH_SCALE: %v", err)
		}
		scale = f
	}
	end := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	if _, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: scale, End: end}); err != nil {
		b.Fatal(err)
	}
	ds := metrics.NewDataset(metrics.DefaultConfig())
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		r, err := domain.ParseJSON(sc.Bytes(), "", domain.ParseOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ds.Apply(r, time.Time{})
	}
	ds.Prepare()
	cat, err := catalog.Default()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; b.Loop(); i++ {
		Build(cat, ds, Options{AsOf: end.Add(-time.Duration(i+1) * time.Second)})
	}
}

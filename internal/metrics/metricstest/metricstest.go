// Package metricstest builds datasets for other packages' tests and
// benchmarks.
package metricstest

import (
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/metrics"
)

// Generated is the generated organisation (seed 1) up to end, at the scale
// CANDOR_BENCH_SCALE sets (default def), prepared for reading.
func Generated(tb testing.TB, def float64, end time.Time) *metrics.Dataset {
	tb.Helper()
	scale, err := generate.BenchScale(def)
	if err != nil {
		tb.Fatal(err)
	}
	ds := metrics.NewDataset(metrics.DefaultConfig())
	if _, err := generate.Records(generate.Options{Seed: 1, Scale: scale, End: end}, func(r domain.Record) { ds.Apply(r, time.Time{}) }); err != nil {
		tb.Fatal(err)
	}
	ds.Prepare()
	return ds
}

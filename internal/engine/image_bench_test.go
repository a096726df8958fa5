package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
)

// BenchmarkStart loads a generated organisation (CANDOR_BENCH_SCALE,
// default 0.1) into a fresh engine from the store alone, from the dataset
// image, and writes the image; CPU profiles separate the three.
//
//	CANDOR_BENCH_SCALE=0.3 go test -run '^$' -bench Start -benchtime 3x ./internal/engine/
func BenchmarkStart(b *testing.B) {
	scale, err := generate.BenchScale(0.1)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dir := b.TempDir()
	st := open(b, dir)
	var buf bytes.Buffer
	if _, err := generate.Write(&buf, generate.Options{Seed: 1, Scale: scale, End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		b.Fatal(err)
	}
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "g.ndjson", Reader: &buf}}, ingest.Options{}); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "candor.image")
	load := func(b *testing.B, image string) {
		for b.Loop() {
			e := engine.New(st, metrics.DefaultConfig())
			e.Image = image
			if err := e.Refresh(ctx); err != nil {
				b.Fatal(err)
			}
			if image != "" && !e.Status().Image.Used {
				b.Fatalf("image not used: %+v", e.Status().Image)
			}
		}
	}
	b.Run("write", func(b *testing.B) {
		for b.Loop() {
			e := engine.New(st, metrics.DefaultConfig())
			e.Image = path
			if _, err := e.WriteImage(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Again after a new deployment and a correction of an old one: from
	// the image just written plus the rows since.
	b.Run("rewrite", func(b *testing.B) {
		e := engine.New(st, metrics.DefaultConfig())
		e.Image = path
		n := 0
		for b.Loop() {
			b.StopTimer()
			n++
			importLines(b, st, fmt.Sprintf(`{"kind":"deployment","id":"bench-%d","service":"api","environment":"production","finished_at":"2026-10-30T12:00:00Z","status":"success"}`, n),
				fmt.Sprintf(`{"kind":"deployment","id":"bench-0","service":"api","environment":"production","finished_at":"2026-10-30T12:00:00Z","status":"failure","version":"%d"}`, n))
			b.StartTimer()
			if _, err := e.WriteImage(ctx); err != nil {
				b.Fatal(err)
			}
			if e.Status().Image.From == 0 {
				b.Fatal("written from the whole store")
			}
		}
	})
	b.Run("store", func(b *testing.B) { load(b, "") })
	b.Run("image", func(b *testing.B) { load(b, path) })
}

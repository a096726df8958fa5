package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/config"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/gate"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/sqlite/sqlitetest"
)

// Each metric the demo shows has an action of its own to record: the notes
// had been one per pillar, so the demo's ARR, NRR, CAC and quota attainment
// all said "Pipeline review with sales leadership; campaign spend moves to
// the channels that convert", which no executive would write of all four.
func TestDemoNotesSayTheirMetric(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.yaml")
	if err := writeDemoConfig(dir, demoConfig); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := cfg.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]string{}
	ms := cat.MetricsInForce()
	for _, m := range ms {
		note := demoNotes[m.ID]
		if note == "" {
			t.Errorf("the demo has no action to record on %s (%s): add one to demoNotes", m.ID, m.Name)
			continue
		}
		if other, ok := by[note]; ok {
			t.Errorf("%s and %s record the same action: %q", other, m.ID, note)
		}
		by[note] = m.ID
	}
	for _, id := range []string{"arr", "nrr", "cac", "quota_attainment"} {
		if demoNotes[id] == "" {
			t.Errorf("no action of its own on %s", id)
		}
	}
	if len(ms) < 60 {
		t.Errorf("the demo's catalog has %d metrics: not the demo's", len(ms))
	}
}

// The demo's post-deploy watch can judge what the demo's services send:
// hourly sli samples. Over the default 15 minutes every one of its watches
// had been inconclusive, and the demo showed nothing of a pass or a fail.
func TestDemoWatchJudgesHourlySamples(t *testing.T) {
	dir := t.TempDir()
	if err := writeDemoConfig(dir, demoConfig); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(dir, "demo.yaml"), func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	p, err := cfg.GatePolicies(cat)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	at := now.Add(-3*time.Hour - 20*time.Minute)
	ds := metrics.NewDataset(metrics.DefaultConfig())
	ds.Apply(&domain.Deployment{Meta: domain.Meta{ID: "d1", Source: "ci"}, Service: "checkout", Environment: "production", FinishedAt: at, Status: "success"}, at)
	for h := -4; h < 0; h++ {
		start := now.Add(time.Duration(h) * time.Hour)
		ds.Apply(&domain.SLI{Meta: domain.Meta{ID: fmt.Sprintf("s%d", -h), Source: "push"}, Service: "checkout", PeriodStart: start, PeriodEnd: start.Add(time.Hour), Good: 9990, Total: 10000}, start.Add(time.Hour))
	}
	ds.Prepare()
	w := &gate.Watcher{Policies: p, Docs: sqlitetest.Open(t), Now: func() time.Time { return now },
		Read: func(_ context.Context, fn func(*metrics.Dataset) error) error { return fn(ds) }}
	out, err := w.Once(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Outcome != gate.WatchPass || !strings.Contains(out[0].Reason, "within the 2h observation period") {
		t.Fatalf("the demo's watch of a deployment with hourly samples: %+v", out)
	}
}

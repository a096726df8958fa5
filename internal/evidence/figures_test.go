package evidence

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
)

// TestEvidencePackFigures: a pack states its period's figures
// (figures.json), each the scorecard's for as_of the period's end and a
// window of its length, with its citation and the command that gives it
// again; a metric without a value says why and has none (never 0); and a
// revenue-sensitive metric is left out of the pack of a reader without
// revenue:read, while a reader who may see every metric gets the CLI's
// bytes. A pack had stated no figure of its period at all.
func TestEvidencePackFigures(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var b strings.Builder
	// 31 production deployments in March 2026, 4 of them failed; a
	// subscription for the revenue metrics; no incident, so mttr has no
	// value.
	for i := range 31 {
		status := "success"
		if i%8 == 0 {
			status = "failure"
		}
		fmt.Fprintf(&b, `{"kind":"deployment","id":"d%d","service":"api","environment":"production","finished_at":"2026-03-%02dT12:00:00Z","status":%q}`+"\n", i, i+1, status)
	}
	b.WriteString(`{"kind":"subscription","id":"s1","customer":"acme","started_at":"2025-01-01T00:00:00Z","mrr":1000}` + "\n")
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "org.ndjson", Reader: strings.NewReader(b.String())}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(st, metrics.DefaultConfig())
	p := Period{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)}
	now := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	pack := func() ([]byte, map[string][]byte) {
		t.Helper()
		var buf bytes.Buffer
		if _, err := Write(ctx, Input{Store: st, Engine: eng, Catalog: cat, Now: now}, p, &buf); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		return buf.Bytes(), files
	}
	type fig struct {
		ID, Unit, Reason, Shown string
		Value                   *float64
		Status                  catalog.Status
		Target                  *float64
		Thresholds              *scorecard.Thresholds
		Count                   int
		Version                 int               `json:"definition_version"`
		Cites                   *metrics.Citation `json:"cites"`
		Rederive                struct{ CLI, API string }
	}
	type figs struct {
		AsOf    time.Time `json:"as_of"`
		Window  string
		Metrics []fig
	}
	read := func(files map[string][]byte) (figs, map[string]fig) {
		t.Helper()
		var doc figs
		if err := json.Unmarshal(files[FiguresFile], &doc); err != nil {
			t.Fatalf("%s: %v (files %d)", FiguresFile, err, len(files))
		}
		by := map[string]fig{}
		for _, f := range doc.Metrics {
			by[f.ID] = f
		}
		return doc, by
	}

	all, files := pack()
	doc, by := read(files)
	// Every reader's pack is this one (the API refuses a reader who may
	// not see every metric): two builds are byte for byte the same.
	if again, _ := pack(); !bytes.Equal(all, again) {
		t.Errorf("two packs of one period differ")
	}
	if !doc.AsOf.Equal(p.To) || doc.Window != "31d" {
		t.Errorf("figures.json: as_of %v, window %q; want %v, 31d", doc.AsOf, doc.Window, p.To)
	}
	if idx := string(files["index.md"]); !strings.Contains(idx, "`"+FiguresFile+"`: ") || !strings.Contains(idx, "Figures: ") {
		t.Errorf("index.md does not explain %s:\n%s", FiguresFile, idx)
	}
	var sc *scorecard.Scorecard
	if err := eng.Read(ctx, func(ds *metrics.Dataset) error {
		sc = scorecard.Build(cat, ds, scorecard.Options{AsOf: p.To, Window: p.To.Sub(p.From)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cards := map[string]*scorecard.Card{}
	for _, c := range sc.Cards() {
		cards[c.ID] = c
	}
	for _, id := range []string{"deployment_success_rate", "change_failure_rate", "mttr", "mrr"} {
		f, ok := by[id]
		c := cards[id]
		if !ok || c == nil {
			t.Errorf("%s: in the pack %v, on the scorecard %v", id, ok, c != nil)
			continue
		}
		eq := func(a, b *float64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
		if !eq(f.Value, c.Value) || f.Status != c.Status || f.Reason != c.Reason || f.Count != c.Count || f.Version != c.Version ||
			f.Unit != c.Unit || !eq(f.Target, c.Target) || (f.Thresholds == nil) != (c.Thresholds == nil) ||
			f.Thresholds != nil && *f.Thresholds != *c.Thresholds || (f.Cites == nil) != (c.Cites == nil) || f.Cites != nil && *f.Cites != *c.Cites {
			t.Errorf("%s in the pack: %+v\non the scorecard: value %v status %s reason %q count %d version %d cites %+v",
				id, f, c.Value, c.Status, c.Reason, c.Count, c.Version, c.Cites)
		}
		if want := "candor metric " + id + " --as-of 2026-04-01 --window 31d --format json"; f.Rederive.CLI != want ||
			f.Rederive.API != "/api/v1/metrics/"+id+"?as_of=2026-04-01&window=31d" {
			t.Errorf("%s: rederive %+v, want %q", id, f.Rederive, want)
		}
	}
	if f := by["deployment_success_rate"]; f.Value == nil || f.Count != 31 || f.Cites == nil || f.Shown == "no value" || f.Status == catalog.Unknown {
		t.Errorf("deployment_success_rate: %+v, want a value judged over the 31 deployments", f)
	}
	// No incident: no value, unknown with its reason, never 0 or green.
	if f := by["mttr"]; f.Value != nil || f.Status != catalog.Unknown || f.Reason == "" || f.Shown != "no value" {
		t.Errorf("mttr without incidents: %+v, want no value, unknown and a reason", f)
	}
	// The request reads as typed, not "\u0026window".
	if !bytes.Contains(files[FiguresFile], []byte(`"api": "/api/v1/metrics/mttr?as_of=2026-04-01&window=31d"`)) {
		t.Errorf("%s does not give mttr's request as typed:\n%.2000s", FiguresFile, files[FiguresFile])
	}
}

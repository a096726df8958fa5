package engine_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/catalog"
	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/generate"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/scorecard"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// A process that followed the store through imports cut at random points,
// corrections of earlier records, and rows corrupted in the database and
// later written again, serves byte for byte the scorecard, drill-downs
// and data sources report of a process started from the store alone.
func TestFollowerMatchesFreshLoadByteForByte(t *testing.T) {
	for _, copies := range []int{1, 2} {
		t.Run(fmt.Sprintf("copies=%d", copies), func(t *testing.T) { followerMatchesFreshLoad(t, copies, false) })
	}
	// Started from a dataset state written after a quarter of the rows:
	// the published copy and the second one are read from it.
	for _, copies := range []int{1, 2} {
		t.Run(fmt.Sprintf("copies=%d,state", copies), func(t *testing.T) { followerMatchesFreshLoad(t, copies, true) })
	}
}

func followerMatchesFreshLoad(t *testing.T, copies int, state bool) {
	ctx := context.Background()
	st, raw, cat, end, lines := differentialSetup(t, 3)
	rng := rand.New(rand.NewPCG(5, 8))

	follower := engine.New(st, metrics.DefaultConfig())
	follower.Copies = copies
	// Full vulnerability scans, records Candor writes itself: the newest
	// vulnerability data as of each view's as_of, one in the state
	// (before any generated line), one after it, one of them sent again.
	importScan(t, st, end.Add(-40*24*time.Hour-5*time.Hour-time.Minute))
	first := 0
	if state {
		first = len(lines) / 4
		importLines(t, st, lines[:first]...)
		writer := engine.New(st, metrics.DefaultConfig())
		writer.Image = filepath.Join(t.TempDir(), "candor.image")
		if err := writer.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := writer.WriteImage(ctx); err != nil {
			t.Fatal(err)
		}
		follower.Image = writer.Image
	}
	fctx, stop := context.WithCancel(ctx)
	defer stop()
	follower.Start(fctx)
	follower.Read(ctx, func(*metrics.Dataset) error { return nil })
	// With two copies rounds are published alternately from each, so
	// both are held to the fresh load.
	waitCopies(t, follower, copies)
	if im := follower.Status().Image; state && (im == nil || !im.DatasetUsed) {
		t.Fatalf("the follower did not start from the dataset state: %+v", im)
	}

	view := func(e *engine.Engine) string { return engineView(t, cat, end, e) }
	importText := func(text string) {
		t.Helper()
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "d.ndjson", Reader: strings.NewReader(text)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	var corrupted []string // ids whose stored row is corrupt, to write again
	for from, round := first, 0; from < len(lines); round++ {
		to := min(len(lines), from+1+rng.IntN(len(lines)/3))
		importText(strings.Join(lines[from:to], "\n"))
		// Corrections: earlier records sent again with a field changed.
		var fixes []string
		for range 20 {
			l := lines[rng.IntN(to)]
			for _, swap := range [][2]string{{`"status":"success"`, `"status":"failure"`}, {`"priority":"high"`, `"priority":"low"`}, {`"severity":"P3"`, `"severity":"P1"`}} {
				l = strings.Replace(l, swap[0], swap[1], 1)
			}
			fixes = append(fixes, l)
		}
		importText(strings.Join(fixes, "\n"))
		if round == 0 {
			importScan(t, st, end.Add(-time.Minute), end.Add(-40*24*time.Hour-5*time.Hour-time.Minute))
		}
		// Rows corrupted in the database; the previous round's written
		// again.
		if len(corrupted) > 0 {
			// Its stored hash is still the good body's: make the
			// import below a replacement, not "unchanged".
			if _, err := raw.Exec(`UPDATE records SET hash = 'rewrite' WHERE id = ?`, corrupted[0]); err != nil {
				t.Fatal(err)
			}
			var again []string
			for _, l := range lines[:to] {
				if strings.Contains(l, fmt.Sprintf(`"id":%q`, corrupted[0])) {
					again = append(again, l)
				}
			}
			importText(strings.Join(again, "\n"))
			corrupted = corrupted[1:]
		}
		for range 2 {
			var id string
			if err := raw.QueryRow(`SELECT id FROM records WHERE kind <> 'service' GROUP BY id HAVING count(*) = 1 ORDER BY random() LIMIT 1`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if _, err := raw.Exec(`UPDATE records SET body = x'7b226964223a', seq = (SELECT max(seq) FROM records) + 1 WHERE id = ?`, id); err != nil {
				t.Fatal(err)
			}
			corrupted = append(corrupted, id)
		}
		if err := follower.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, want := view(follower), view(engine.New(st, metrics.DefaultConfig()))
		if got != want {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Fatalf("round %d (lines %d–%d): the follower differs from a fresh load at byte %d:\n…%s\nfresh:\n…%s", round, from, to,
				i, got[max(0, i-300):min(len(got), i+200)], want[max(0, i-300):min(len(want), i+200)])
		}
		if q := follower.Status().Quarantined; q == 0 {
			t.Errorf("round %d: no row quarantined, though two were corrupted", round)
		}
		from = to
	}
}

// importScan imports full vulnerability scans of one target, as the scan
// importer records them.
func importScan(t *testing.T, st store.Store, times ...time.Time) {
	t.Helper()
	_, err := ingest.ImportEntries(context.Background(), st, ingest.Options{}, func(add func(ingest.Entry) error) error {
		for _, at := range times {
			rec := &domain.VulnerabilityScan{Meta: domain.Meta{ID: "3f2a@" + at.Format(time.RFC3339Nano), Source: "trivy"},
				Scanner: "trivy", Target: "registry.example.com/api", ScannedAt: at}
			if err := add(ingest.Entry{Record: rec}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// engineView is what the differential tests compare: the scorecard, the
// data sources report and drill-downs with every row, at two as_of.
func engineView(t *testing.T, cat *catalog.Catalog, end time.Time, e *engine.Engine) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	err := e.Read(ctx, func(ds *metrics.Dataset) error {
		for _, asOf := range []time.Time{end, end.Add(-40*24*time.Hour - 5*time.Hour)} {
			opt := scorecard.Options{AsOf: asOf}
			parts := []any{scorecard.Build(cat, ds, opt), scorecard.Sources(cat, ds, asOf)}
			// open_critical_vulnerabilities: its rows' fields give each
			// vulnerability's package and kev, which the state carries.
			for _, id := range []string{"change_failure_rate", "lead_time_for_changes", "release_impact_score", "sla_adherence", "mrr", "funnel_conversion", "open_critical_vulnerabilities"} {
				d, err := scorecard.Detail(cat, ds, id, opt, metrics.Dims(id)[0], metrics.Scope{})
				if err != nil {
					return err
				}
				d.Page(ds, 0, 1<<20)
				parts = append(parts, d)
			}
			j, err := json.Marshal(parts)
			if err != nil {
				return err
			}
			b.Write(j)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// differentialSetup opens a store in a new directory, the same database
// directly (to corrupt rows), the catalog, and generated NDJSON lines of
// 150 days ending at end.
func differentialSetup(t *testing.T, seed int64) (st *sqlite.DB, raw *sql.DB, cat *catalog.Catalog, end time.Time, lines []string) {
	t.Helper()
	dir := t.TempDir()
	st = open(t, dir)
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if cat, err = catalog.Default(); err != nil {
		t.Fatal(err)
	}
	end = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	if _, err := generate.Write(&buf, generate.Options{Seed: seed, Scale: 0.01, End: end, Days: 150}); err != nil {
		t.Fatal(err)
	}
	return st, raw, cat, end, strings.Split(strings.TrimSpace(buf.String()), "\n")
}

package bench

import (
	"bytes"
	"context"
	"database/sql"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/postgres"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
)

// Hand-written records, as of 2026-11-01T00:00:00Z with a 30-day window
// (W = [2026-10-02, 2026-11-01)). No explicit change lists, no incidents.
const anchorData = `{"kind":"deployment","id":"d1","service":"api","environment":"production","finished_at":"2026-10-10T12:00:00Z","status":"success"}
{"kind":"deployment","id":"d2","service":"api","environment":"PROD","finished_at":"2026-10-12T00:00:00Z","status":"failure"}
{"kind":"deployment","id":"d3","service":"api","environment":"live","finished_at":"2026-10-15T00:00:00Z","status":"rolled_back"}
{"kind":"deployment","id":"d4","service":"api","environment":"production","finished_at":"2026-10-20T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d5","service":"api","environment":"production","finished_at":"2026-10-20T06:00:00Z","status":"success","reason":"rollback","rollback_of":"d4"}
{"kind":"deployment","id":"d6","service":"web","environment":"eu-1","env_type":"production","finished_at":"2026-10-25T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d7","service":"web","environment":"staging","finished_at":"2026-10-26T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d8","service":"web","environment":"production","finished_at":"2026-09-01T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d9","service":"api","environment":"production","finished_at":"2026-11-01T00:00:00Z","status":"success"}
{"kind":"deployment","id":"d10","service":"web","environment":"production","finished_at":"2026-10-28T00:00:00Z","status":"success","rollback_of":"d6"}
{"kind":"deployment","id":"d11","service":"web","environment":"production","finished_at":"2026-11-03T00:00:00Z","status":"success","rollback_of":"d1"}
{"kind":"change","id":"c1","service":"api","merged_at":"2026-10-10T10:00:00Z","authored_at":"2026-10-09T12:00:00Z"}
{"kind":"change","id":"c2","service":"api","merged_at":"2026-10-10T12:00:00Z"}
{"kind":"change","id":"c3","service":"api","merged_at":"2026-10-11T00:00:00Z"}
{"kind":"change","id":"c4","service":"web","merged_at":"2026-10-24T00:00:00Z","authored_at":"2026-10-23T00:00:00Z"}
{"kind":"change","id":"c5","service":"web","merged_at":"2026-10-26T00:00:00Z"}
{"kind":"change","id":"c6","service":"web","merged_at":"2026-08-30T00:00:00Z"}
{"kind":"change","id":"c7","service":"api","merged_at":"2026-10-31T23:00:00Z"}
`

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestAnchorSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := OpenSQLiteReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAnchor(t, st, db, SQLiteAnchor)
}

func TestAnchorPostgres(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	st, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db, err := OpenPostgresReadOnly(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAnchor(t, st, db, PostgresAnchor)
	if _, err := db.ExecContext(ctx, "DELETE FROM records"); err == nil {
		t.Error("the anchor's connection could write to the store")
	}
}

// checkAnchor imports anchorData into st and checks d's SQL over db (the
// same store) against hand-computed values and against Candor.
func checkAnchor(t *testing.T, st store.Store, db *sql.DB, d *AnchorDialect) {
	ctx := context.Background()
	if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "anchor.ndjson", Reader: strings.NewReader(anchorData)}}, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	asOf := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	window := 30 * 24 * time.Hour
	got, err := AnchorSQL(ctx, db, d, asOf, window)
	if err != nil {
		t.Fatal(err)
	}

	// deployment_frequency: production success/rolled_back in W: d1, d3,
	// d4, d5, d6, d10 (d2 failed, d7 staging, d8 before W, d9 at as_of).
	// change_failure_rate: production in W (any status) d1..d6, d10 = 7;
	// failed: d2 (failure), d3 (rolled_back), d4 (rolled back by d5), d6
	// (rolled back by d10) = 4; d1's rollback d11 is after as_of.
	// lead_time_for_changes: c1 → d1 (authored 10-09 12:00 → 24 h), c2 →
	// d1 (merged at its finish: 0 h), c3 → d3 (skipping failed d2: 96 h),
	// c4 → d6 (48 h), c5 → d10 (48 h); c6 → d8 before W, c7 → d9 at as_of.
	// Median of 0, 24, 48, 48, 96 = 48.
	want := map[string]float64{
		"deployment_frequency":  6.0 / 30,
		"change_failure_rate":   100 * 4.0 / 7,
		"lead_time_for_changes": 48,
	}
	for id, w := range want {
		m := got[id]
		if m.Value == nil || math.Abs(*m.Value-w) > 1e-9 {
			t.Errorf("%s: SQL value %v, want %v", id, ptrStr(m.Value), w)
		}
	}
	if c := got["change_failure_rate"].Count; c != 7 {
		t.Errorf("change failure rate deployments = %d, want 7", c)
	}
	if c := got["lead_time_for_changes"].Count; c != 5 {
		t.Errorf("lead time spans = %d, want 5", c)
	}

	eng := engine.New(st, metrics.DefaultConfig())
	if err := eng.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	err = eng.Read(ctx, func(ds *metrics.Dataset) error {
		cmp, err := anchorCompare(ctx, db, d, ds, asOf, window, 1)
		if err != nil {
			return err
		}
		for _, id := range AnchorMetrics {
			c := cmp[id]
			if c.SQLValue == nil || c.CandorValue == nil || *c.SQLValue != *c.CandorValue {
				t.Errorf("%s: SQL %s, Candor %s: want them equal", id, ptrStr(c.SQLValue), ptrStr(c.CandorValue))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	var plans strings.Builder
	if err := ExplainAnchors(ctx, db, d, asOf, window, &plans); err != nil {
		t.Fatal(err)
	}
	for _, id := range AnchorMetrics {
		if !strings.Contains(plans.String(), "== "+id) {
			t.Errorf("no plan for %s:\n%s", id, plans.String())
		}
	}
}

func ptrStr(v *float64) string {
	if v == nil {
		return "nil"
	}
	return strconv.FormatFloat(*v, 'g', -1, 64)
}

// TestRunAnchors runs the benchmark with --anchors on a little generated
// data: every metric is compared, and deployment frequency (no incident or
// change-list subtleties) agrees exactly.
func TestRunAnchors(t *testing.T) {
	opt := sqliteOpts(t, 0.002)
	opt.Anchors = true
	rep, err := Run(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range AnchorMetrics {
		c, ok := rep.Anchors[id]
		if !ok || c.SQLMs <= 0 || c.CandorMs <= 0 {
			t.Errorf("%s: missing or untimed comparison %+v", id, c)
		}
	}
	df := rep.Anchors["deployment_frequency"]
	if df.SQLValue == nil || df.CandorValue == nil || *df.SQLValue != *df.CandorValue {
		t.Errorf("deployment_frequency: SQL %s, Candor %s", ptrStr(df.SQLValue), ptrStr(df.CandorValue))
	}
	if !strings.Contains(rep.Text(), "anchor comparison") {
		t.Error("text report lacks the anchor comparison")
	}
}

// TestRunAnchorsOnly runs the anchors-only mode on both backends: only the
// anchor kinds reach the store, every metric is compared over several
// runs, and the plans and profiles are written.
func TestRunAnchorsOnly(t *testing.T) {
	defer func(d time.Duration) { profileTime = d }(profileTime)
	profileTime = 50 * time.Millisecond
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			opt := sqliteOpts(t, 0.002)
			if backend == "postgres" {
				opt.Backend, opt.URL = backend, pgtest.NewDatabase(t)
				opt.Open = func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, opt.URL) }
			}
			opt.AnchorsOnly, opt.AnchorRuns = true, 2
			opt.AnchorExplain = filepath.Join(t.TempDir(), "plans.txt")
			opt.AnchorProfile = filepath.Join(t.TempDir(), "prof")
			rep, err := Run(context.Background(), opt)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Mode != ModeAnchorsOnly || rep.LoadMs <= 0 || rep.ImportRecordsPerS <= 0 {
				t.Errorf("report %+v", rep)
			}
			for _, id := range AnchorMetrics {
				c, ok := rep.Anchors[id]
				if !ok || len(c.SQLRunsMs) != 2 || len(c.CandorRunsMs) != 2 || c.SQLMs <= 0 || c.CandorMs <= 0 {
					t.Errorf("%s: comparison %+v, want two timed runs", id, c)
				}
				if _, err := os.Stat(opt.AnchorProfile + ".candor." + id + ".pprof"); err != nil {
					t.Error(err)
				}
			}
			df := rep.Anchors["deployment_frequency"]
			if df.SQLValue == nil || df.CandorValue == nil || *df.SQLValue != *df.CandorValue {
				t.Errorf("deployment_frequency: SQL %s, Candor %s", ptrStr(df.SQLValue), ptrStr(df.CandorValue))
			}
			if plans, err := os.ReadFile(opt.AnchorExplain); err != nil || !strings.Contains(string(plans), "== lead_time_for_changes") {
				t.Errorf("plans file: %v\n%s", err, plans)
			}

			st, err := opt.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			counts, err := st.Counts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var total int64
			for kind, n := range counts {
				if !slices.Contains(anchorKinds, string(kind)) {
					t.Errorf("%d records of kind %s imported", n, kind)
				}
				total += n
			}
			for _, kind := range anchorKinds {
				if counts[domain.Kind(kind)] == 0 {
					t.Errorf("no %s imported", kind)
				}
			}
			if total != rep.Records {
				t.Errorf("store holds %d records, report says %d", total, rep.Records)
			}
			if !strings.Contains(rep.Text(), "anchors only") {
				t.Errorf("text report:\n%s", rep.Text())
			}
		})
	}
}

// TestKindFilter feeds the filter in pieces that split lines anywhere.
func TestKindFilter(t *testing.T) {
	in := `{"kind":"change","id":"a"}
{"kind":"ticket","id":"b"}
{"kind":"changes","id":"c"}
{"kind":"deployment","id":"d"}
{"kind":"service","id":"e"}`
	for _, size := range []int{1, 3, 7, len(in)} {
		var out bytes.Buffer
		k := newKindFilter(&out, []string{"change", "service"})
		for p := in; p != ""; {
			n := min(size, len(p))
			if _, err := k.Write([]byte(p[:n])); err != nil {
				t.Fatal(err)
			}
			p = p[n:]
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		want := "{\"kind\":\"change\",\"id\":\"a\"}\n{\"kind\":\"service\",\"id\":\"e\"}"
		if out.String() != want || k.kept != 2 {
			t.Errorf("pieces of %d: kept %d, output %q, want %q", size, k.kept, out.String(), want)
		}
	}
}

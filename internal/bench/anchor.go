package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/metrics"

	_ "modernc.org/sqlite" // driver "sqlite", for the read-only anchor connection
)

// The anchor comparison (issue 4 item 5) computes three DORA metrics the
// way DevLake and Four Keys do: SQL over the raw records table at query
// time, one query per metric, on the same data Candor answers from. It is
// a reference point for latency and a cross-check of the values.
//
// Simplifications, on purpose:
//   - change_failure_rate ignores incident links (Four Keys links
//     incidents through a separate table): a deployment failed when its
//     status is failure or rolled_back, or a deployment finished by as_of
//     names it in rollback_of. It agrees with Candor on data without
//     incidents.
//   - lead_time_for_changes uses the inferred link only (first production
//     success/rolled_back deployment of the service finishing at or after
//     merged_at); explicit `changes` lists are ignored. It agrees with
//     Candor on data without them.
//   - The lead-time query returns the spans; the median is taken in Go.
//
// Each store has its dialect (AnchorDialect): SQLite's queries are below,
// PostgreSQL's in anchor_postgres.go. In SQLite, timestamps are compared
// as unixepoch(…, 'subsec') seconds (the store keeps them as UTC RFC 3339
// strings in the JSON body).

// AnchorMetric is one metric's SQL figure.
type AnchorMetric struct {
	Value *float64
	Count int
	Ms    float64
}

// AnchorResult holds the SQL figures per metric id.
type AnchorResult map[string]AnchorMetric

// AnchorMetrics are the metrics the anchor computes, in report order.
var AnchorMetrics = []string{"deployment_frequency", "change_failure_rate", "lead_time_for_changes"}

// AnchorComparison is one metric side by side in the report.
type AnchorComparison struct {
	SQLMs       float64  `json:"sql_ms"`
	SQLValue    *float64 `json:"sql_value"`
	CandorMs    float64  `json:"candor_ms"`
	CandorValue *float64 `json:"candor_value"`
	// Ratio is sql_ms ÷ candor_ms: how many times slower query-time SQL is.
	Ratio float64 `json:"ratio"`
	// The times of every run (sql_ms and candor_ms are their medians).
	SQLRunsMs    []float64 `json:"sql_runs_ms"`
	CandorRunsMs []float64 `json:"candor_runs_ms"`
}

// OpenSQLiteReadOnly opens a Candor SQLite store's database file read-only.
func OpenSQLiteReadOnly(dir string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+filepath.Join(dir, "candor.db")+"?mode=ro&_pragma=busy_timeout(10000)")
}

const (
	sqlFinished = `unixepoch(json_extract(body, '$.finished_at'), 'subsec')`
	// sqlProd is SPEC §1's env_type rule with the default production names.
	sqlProd = `(CASE WHEN coalesce(json_extract(body, '$.env_type'), '') <> ''
		THEN lower(json_extract(body, '$.env_type')) = 'production'
		ELSE lower(trim(coalesce(json_extract(body, '$.environment'), ''))) IN ('production', 'prod', 'prd', 'live') END)`
	sqlStatus = `json_extract(body, '$.status')`
)

var anchorQueries = map[string]string{
	// ?1 = window start, ?2 = as_of (unix seconds).
	"deployment_frequency": `
SELECT count(*) FROM records
WHERE kind = 'deployment' AND ` + sqlProd + `
  AND ` + sqlStatus + ` IN ('success', 'rolled_back')
  AND ` + sqlFinished + ` >= ?1 AND ` + sqlFinished + ` < ?2`,

	"change_failure_rate": `
WITH rolled AS (
  SELECT DISTINCT json_extract(body, '$.rollback_of') AS target FROM records
  WHERE kind = 'deployment' AND coalesce(json_extract(body, '$.rollback_of'), '') <> ''
    AND ` + sqlFinished + ` <= ?2
)
SELECT count(*),
       coalesce(sum(` + sqlStatus + ` IN ('failure', 'rolled_back') OR id IN (SELECT target FROM rolled)), 0)
FROM records
WHERE kind = 'deployment' AND ` + sqlProd + `
  AND ` + sqlFinished + ` >= ?1 AND ` + sqlFinished + ` < ?2`,

	// Changes and eligible deployments in one stream per service, ordered
	// by time (a change before a deployment at the same instant: "at or
	// after"); the first deployment at or after a change is the minimum
	// deployment time over the rows that follow it.
	"lead_time_for_changes": `
WITH ev AS (
  SELECT json_extract(body, '$.service') AS service,
         unixepoch(json_extract(body, '$.merged_at'), 'subsec') AS t, 0 AS typ,
         unixepoch(coalesce(json_extract(body, '$.authored_at'), json_extract(body, '$.merged_at')), 'subsec') AS since,
         NULL AS dep
  FROM records WHERE kind = 'change'
  UNION ALL
  SELECT json_extract(body, '$.service'), ` + sqlFinished + `, 1, NULL, ` + sqlFinished + `
  FROM records
  WHERE kind = 'deployment' AND ` + sqlProd + ` AND ` + sqlStatus + ` IN ('success', 'rolled_back')
    AND ` + sqlFinished + ` < ?2
),
linked AS (
  SELECT typ, since,
         min(dep) OVER (PARTITION BY service ORDER BY t, typ ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS deployed
  FROM ev
)
SELECT (deployed - since) / 3600.0 FROM linked
WHERE typ = 0 AND deployed >= ?1 AND deployed < ?2 AND deployed >= since`,
}

// AnchorDialect is one store's SQL flavour of the anchor queries.
type AnchorDialect struct {
	Name    string
	queries map[string]string
	// args turns the window [lo, hi) into the queries' two parameters.
	args func(lo, hi time.Time) []any
	// explain prefixes a query to show its plan (ExplainAnchors).
	explain string
}

// SQLiteAnchor runs the anchor over a SQLite store with json_extract.
var SQLiteAnchor = &AnchorDialect{
	Name:    "sqlite",
	queries: anchorQueries,
	args: func(lo, hi time.Time) []any {
		return []any{float64(lo.UnixNano()) / 1e9, float64(hi.UnixNano()) / 1e9}
	},
	explain: "EXPLAIN QUERY PLAN ",
}

// AnchorSQL computes the anchor metrics over a Candor store's records
// table, one SQL query each, for the window [asOf − window, asOf).
func AnchorSQL(ctx context.Context, db *sql.DB, d *AnchorDialect, asOf time.Time, window time.Duration) (AnchorResult, error) {
	args := d.args(asOf.Add(-window), asOf)
	days := window.Hours() / 24
	res := AnchorResult{}

	t0 := time.Now()
	var n int
	if err := db.QueryRowContext(ctx, d.queries["deployment_frequency"], args...).Scan(&n); err != nil {
		return nil, fmt.Errorf("deployment_frequency: %w", err)
	}
	df := float64(n) / days
	res["deployment_frequency"] = AnchorMetric{Value: &df, Count: n, Ms: ms(time.Since(t0))}

	t0 = time.Now()
	var total, failed int
	if err := db.QueryRowContext(ctx, d.queries["change_failure_rate"], args...).Scan(&total, &failed); err != nil {
		return nil, fmt.Errorf("change_failure_rate: %w", err)
	}
	m := AnchorMetric{Count: total}
	if total > 0 {
		v := 100 * float64(failed) / float64(total)
		m.Value = &v
	}
	m.Ms = ms(time.Since(t0))
	res["change_failure_rate"] = m

	t0 = time.Now()
	rows, err := db.QueryContext(ctx, d.queries["lead_time_for_changes"], args...)
	if err != nil {
		return nil, fmt.Errorf("lead_time_for_changes: %w", err)
	}
	var spans []float64
	for rows.Next() {
		var h float64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("lead_time_for_changes: %w", err)
		}
		spans = append(spans, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lead_time_for_changes: %w", err)
	}
	m = AnchorMetric{Count: len(spans)}
	if len(spans) > 0 {
		slices.Sort(spans)
		v := medianOf(spans)
		m.Value = &v
	}
	m.Ms = ms(time.Since(t0))
	res["lead_time_for_changes"] = m
	return res, nil
}

// ExplainAnchors writes each anchor query's plan: EXPLAIN (ANALYZE,
// BUFFERS) on PostgreSQL, so the query runs once more; EXPLAIN QUERY
// PLAN on SQLite, which has no per-node timings.
func ExplainAnchors(ctx context.Context, db *sql.DB, d *AnchorDialect, asOf time.Time, window time.Duration, w io.Writer) error {
	args := d.args(asOf.Add(-window), asOf)
	for _, id := range AnchorMetrics {
		fmt.Fprintf(w, "== %s (%s)\n", id, d.Name)
		rows, err := db.QueryContext(ctx, d.explain+d.queries[id], args...)
		if err != nil {
			return fmt.Errorf("explaining %s: %w", id, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return err
			}
			// SQLite's plan rows are (id, parent, notused, detail).
			fmt.Fprintln(w, vals[len(vals)-1].String)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// anchorCompare runs the SQL anchor and Candor's computation of the same
// metrics and pairs them up. Each of the runs uses its own as_of (asOf,
// then a second earlier each time) so no run hits a cache Candor filled
// in an earlier one; times are medians over the runs, values the first
// run's.
func anchorCompare(ctx context.Context, db *sql.DB, d *AnchorDialect, ds *metrics.Dataset, asOf time.Time, window time.Duration, runs int) (map[string]AnchorComparison, error) {
	runs = max(runs, 1)
	sqlMs := map[string][]float64{}
	candorMs := map[string][]float64{}
	out := map[string]AnchorComparison{}
	for i := range runs {
		at := asOf.Add(-time.Duration(i) * time.Second)
		sqlRes, err := AnchorSQL(ctx, db, d, at, window)
		if err != nil {
			return nil, err
		}
		for _, id := range AnchorMetrics {
			t0 := time.Now()
			r, err := ds.Compute(id, metrics.Query{AsOf: at, Window: window})
			if err != nil {
				return nil, err
			}
			candorMs[id] = append(candorMs[id], ms(time.Since(t0)))
			sqlMs[id] = append(sqlMs[id], sqlRes[id].Ms)
			if i == 0 {
				out[id] = AnchorComparison{SQLValue: sqlRes[id].Value, CandorValue: r.Value}
			}
		}
	}
	for _, id := range AnchorMetrics {
		c := out[id]
		c.SQLMs, c.CandorMs = medianOf(sqlMs[id]), medianOf(candorMs[id])
		c.SQLRunsMs, c.CandorRunsMs = sqlMs[id], candorMs[id]
		if c.CandorMs > 0 {
			c.Ratio = c.SQLMs / c.CandorMs
		}
		out[id] = c
	}
	return out, nil
}

// openAnchorDB opens the benchmark's store a second time, read-only, as
// a plain SQL database.
func openAnchorDB(opt *Options) (*sql.DB, *AnchorDialect, error) {
	switch opt.Backend {
	case "sqlite":
		db, err := OpenSQLiteReadOnly(opt.Dir)
		return db, SQLiteAnchor, err
	case "postgres":
		if opt.URL == "" {
			return nil, nil, fmt.Errorf("anchor comparison on PostgreSQL needs the database URL")
		}
		db, err := OpenPostgresReadOnly(opt.URL)
		return db, PostgresAnchor, err
	}
	return nil, nil, fmt.Errorf("anchor comparison: no SQL dialect for backend %q", opt.Backend)
}

// runAnchors compares at an as_of no scorecard has asked for, then
// writes the plans and profiles asked for.
func runAnchors(ctx context.Context, opt *Options, rep *Report, eng *engine.Engine) error {
	opt.logf("anchor comparison (%s, %d run(s)) …", opt.Backend, max(opt.AnchorRuns, 1))
	db, d, err := openAnchorDB(opt)
	if err != nil {
		return err
	}
	defer db.Close()
	asOf := End.Add(-10 * time.Second)
	window := 30 * 24 * time.Hour
	err = eng.Read(ctx, func(ds *metrics.Dataset) error {
		a, err := anchorCompare(ctx, db, d, ds, asOf, window, opt.AnchorRuns)
		rep.Anchors = a
		if err != nil || opt.AnchorProfile == "" {
			return err
		}
		return profileAnchors(ctx, opt, db, d, ds, window)
	})
	if err != nil || opt.AnchorExplain == "" {
		return err
	}
	opt.logf("anchor query plans → %s …", opt.AnchorExplain)
	f, err := os.Create(opt.AnchorExplain)
	if err != nil {
		return err
	}
	if err := ExplainAnchors(ctx, db, d, asOf, window, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func anchorText(a map[string]AnchorComparison) string {
	if len(a) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("  anchor comparison (SQL over raw records vs Candor, uncached as_of):\n")
	f := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', 3, 64)
	}
	for _, id := range AnchorMetrics {
		c, ok := a[id]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "    %-22s sql %9.1f ms = %-10s candor %7.2f ms = %-10s ×%.0f\n", id, c.SQLMs, f(c.SQLValue), c.CandorMs, f(c.CandorValue), c.Ratio)
	}
	return b.String()
}

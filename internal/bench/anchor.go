package bench

import (
	"context"
	"database/sql"
	"fmt"
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
// Timestamps are compared as unixepoch(…, 'subsec') seconds (the store
// keeps them as UTC RFC 3339 strings in the JSON body).

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

// AnchorSQLite computes the anchor metrics over a Candor SQLite store's
// records table, one SQL query each, for the window [asOf − window, asOf).
func AnchorSQLite(ctx context.Context, db *sql.DB, asOf time.Time, window time.Duration) (AnchorResult, error) {
	lo := float64(asOf.Add(-window).UnixNano()) / 1e9
	hi := float64(asOf.UnixNano()) / 1e9
	days := window.Hours() / 24
	res := AnchorResult{}

	t0 := time.Now()
	var n int
	if err := db.QueryRowContext(ctx, anchorQueries["deployment_frequency"], lo, hi).Scan(&n); err != nil {
		return nil, fmt.Errorf("deployment_frequency: %w", err)
	}
	df := float64(n) / days
	res["deployment_frequency"] = AnchorMetric{Value: &df, Count: n, Ms: ms(time.Since(t0))}

	t0 = time.Now()
	var total, failed int
	if err := db.QueryRowContext(ctx, anchorQueries["change_failure_rate"], lo, hi).Scan(&total, &failed); err != nil {
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
	rows, err := db.QueryContext(ctx, anchorQueries["lead_time_for_changes"], lo, hi)
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

// anchorCompare runs the SQL anchor and Candor's computation of the same
// metrics at asOf (an as_of no cache has seen) and pairs them up.
func anchorCompare(ctx context.Context, db *sql.DB, ds *metrics.Dataset, asOf time.Time, window time.Duration) (map[string]AnchorComparison, error) {
	sqlRes, err := AnchorSQLite(ctx, db, asOf, window)
	if err != nil {
		return nil, err
	}
	out := map[string]AnchorComparison{}
	for _, id := range AnchorMetrics {
		t0 := time.Now()
		r, err := ds.Compute(id, metrics.Query{AsOf: asOf, Window: window})
		if err != nil {
			return nil, err
		}
		c := AnchorComparison{SQLMs: sqlRes[id].Ms, SQLValue: sqlRes[id].Value, CandorMs: ms(time.Since(t0)), CandorValue: r.Value}
		if c.CandorMs > 0 {
			c.Ratio = c.SQLMs / c.CandorMs
		}
		out[id] = c
	}
	return out, nil
}

// runAnchors opens the benchmark's SQLite file read-only and compares at
// an as_of no scorecard has asked for.
func runAnchors(ctx context.Context, opt *Options, rep *Report, eng *engine.Engine) error {
	if opt.Backend != "sqlite" {
		opt.logf("anchor comparison: SQLite only, skipped for %s", opt.Backend)
		return nil
	}
	opt.logf("anchor comparison …")
	db, err := OpenSQLiteReadOnly(opt.Dir)
	if err != nil {
		return err
	}
	defer db.Close()
	asOf := End.Add(-10 * time.Second)
	return eng.Read(ctx, func(ds *metrics.Dataset) error {
		a, err := anchorCompare(ctx, db, ds, asOf, 30*24*time.Hour)
		rep.Anchors = a
		return err
	})
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

package bench

import (
	"database/sql"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The PostgreSQL anchor: the same three queries as the SQLite ones, over
// the same records table, whose body is canonical JSON in a bytea column
// (migration 001). Each query turns a body into jsonb once per row, in a
// subquery that OFFSET 0 keeps the planner from inlining: inlined, every
// ->> in the outer query would re-parse the body. Timestamps are compared
// as timestamptz, the parameters being the window bounds.
//
// Two choices differ from the SQLite text because PostgreSQL plans them
// badly, not because they compute anything else:
//   - the rollback targets are joined, not tested with IN: a hashed IN
//     subplan must fit in work_mem, and at scale 30 it does not, which
//     falls back to a scan of the targets per deployment;
//   - "the first deployment at or after a change" is the running minimum
//     over the rows in reverse order (frame UNBOUNDED PRECEDING … CURRENT
//     ROW) rather than over the following rows: min has no inverse
//     transition, so a frame whose start moves is re-aggregated from
//     scratch for every row, quadratic per service.

// OpenPostgresReadOnly opens a PostgreSQL database for the anchor queries;
// the session refuses writes.
func OpenPostgresReadOnly(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	return stdlib.OpenDB(*cfg), nil
}

const (
	// pgDeployments is the deployments with their body parsed once.
	pgDeployments = `(SELECT id, convert_from(body, 'UTF8')::jsonb AS b FROM records WHERE kind = 'deployment' OFFSET 0)`
	pgFinished    = `(b->>'finished_at')::timestamptz`
	// pgProd is SPEC §1's env_type rule with the default production names.
	pgProd = `(CASE WHEN coalesce(b->>'env_type', '') <> ''
		THEN lower(b->>'env_type') = 'production'
		ELSE lower(btrim(coalesce(b->>'environment', ''))) IN ('production', 'prod', 'prd', 'live') END)`
)

// PostgresAnchor runs the anchor over a PostgreSQL store with jsonb.
var PostgresAnchor = &AnchorDialect{
	Name: "postgres",
	queries: map[string]string{
		// $1 = window start, $2 = as_of.
		"deployment_frequency": `
SELECT count(*) FROM ` + pgDeployments + ` d
WHERE ` + pgProd + ` AND b->>'status' IN ('success', 'rolled_back')
  AND ` + pgFinished + ` >= $1 AND ` + pgFinished + ` < $2`,

		// The records' id column has the "C" collation and the JSON text
		// the default one; the join names the collation to compare under.
		"change_failure_rate": `
WITH d AS MATERIALIZED (
  SELECT id, b->>'status' AS status, ` + pgFinished + ` AS fin,
         nullif(b->>'rollback_of', '') COLLATE "C" AS rollback_of, ` + pgProd + ` AS prod
  FROM ` + pgDeployments + ` r
),
rolled AS (
  SELECT DISTINCT rollback_of AS target FROM d WHERE rollback_of IS NOT NULL AND fin <= $2
)
SELECT count(*), count(*) FILTER (WHERE d.status IN ('failure', 'rolled_back') OR rolled.target IS NOT NULL)
FROM d LEFT JOIN rolled ON rolled.target = d.id
WHERE d.prod AND d.fin >= $1 AND d.fin < $2`,

		// One stream per service, newest first; at the same instant a
		// deployment sorts before a change, so "at or after" includes it.
		"lead_time_for_changes": `
WITH ev AS (
  SELECT b->>'service' AS service, (b->>'merged_at')::timestamptz AS t, 0 AS typ,
         coalesce(b->>'authored_at', b->>'merged_at')::timestamptz AS since,
         NULL::timestamptz AS dep
  FROM (SELECT convert_from(body, 'UTF8')::jsonb AS b FROM records WHERE kind = 'change' OFFSET 0) c
  UNION ALL
  SELECT b->>'service', ` + pgFinished + `, 1, NULL, ` + pgFinished + `
  FROM ` + pgDeployments + ` d
  WHERE ` + pgProd + ` AND b->>'status' IN ('success', 'rolled_back') AND ` + pgFinished + ` < $2
),
linked AS (
  SELECT typ, since,
         min(dep) OVER (PARTITION BY service ORDER BY t DESC, typ DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS deployed
  FROM ev
)
SELECT ((extract(epoch FROM deployed) - extract(epoch FROM since)) / 3600)::float8 FROM linked
WHERE typ = 0 AND deployed >= $1 AND deployed < $2 AND deployed >= since`,
	},
	args: func(lo, hi time.Time) []any {
		return []any{lo, hi}
	},
	explain: "EXPLAIN (ANALYZE, BUFFERS) ",
}

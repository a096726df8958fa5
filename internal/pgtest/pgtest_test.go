package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

// Each test gets its own empty database, gone when the test ends.
func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	srv := Start(t)
	var names [2]string
	for i := range names {
		t.Run("db", func(t *testing.T) {
			conn, err := pgx.Connect(ctx, srv.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&names[i]); err != nil {
				t.Fatal(err)
			}
			// Empty: a table made here would clash if databases were shared.
			if _, err := conn.Exec(ctx, `CREATE TABLE t (x int)`); err != nil {
				t.Fatal(err)
			}
		})
	}
	if names[0] == names[1] {
		t.Fatalf("both tests got database %s", names[0])
	}
	conn, err := pgx.Connect(ctx, srv.admin)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = ANY($1)`, names[:]).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d of the tests' databases left after they ended (%v)", n, err)
	}
	if srv.cmd != nil && srv.Log() == "" {
		t.Error("no server log")
	}
}

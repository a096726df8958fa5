package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/pgtest"
)

// A database holding another application's tables is refused before any
// migration, naming them, not half-migrated into (`relation "records"
// already exists`); one with an unrelated schema is Candor's to use.
func TestForeignDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE TABLE records (x int); CREATE TABLE customers (y int)`); err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, dbURL)
	var fe *ForeignError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not empty and not Candor's") || !strings.Contains(err.Error(), "(customers, records)") {
		t.Fatalf("Open of another application's database: %v, want it refused naming its tables", err)
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&n); err != nil || n != 2 {
		t.Errorf("tables after the refusal: %d (%v), want the 2 there were", n, err)
	}
	// Its tables moved to a schema of their own: the public schema is
	// empty, and Candor's.
	if _, err := conn.Exec(ctx, `CREATE SCHEMA app; ALTER TABLE records SET SCHEMA app; ALTER TABLE customers SET SCHEMA app`); err != nil {
		t.Fatal(err)
	}
	open(t, dbURL)
}

// A role that does not own its database has, from PostgreSQL 15 on, no
// CREATE on the public schema: the migration's "permission denied for
// schema public" says what the role needs.
func TestNotOwnerSaysWhatIsNeeded(t *testing.T) {
	ctx := context.Background()
	admin := pgtest.NewDatabase(t)
	pgtest.Exec(t, admin, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
	_, roleURL := pgtest.NewRole(t, admin, "candor_guest", false)
	_, err := Open(ctx, roleURL)
	if err == nil || !strings.Contains(err.Error(), "permission denied for schema public") || !strings.Contains(err.Error(), "OWNER TO") {
		t.Fatalf("Open as a role that does not own the database: %v, want permission denied and what to grant", err)
	}
	// With the names filled in, as docs/postgres.md shows it (it had
	// said "ALTER DATABASE … OWNER TO …").
	u, _ := url.Parse(roleURL)
	db, role := strings.TrimPrefix(u.Path, "/"), u.User.Username()
	if want := "(ALTER DATABASE " + db + " OWNER TO " + role + ") or have CREATE on its schema (GRANT CREATE ON SCHEMA public TO " + role + ")"; !strings.Contains(err.Error(), want) {
		t.Errorf("Open as a role that does not own the database: %v\nwant %q", err, want)
	}
	if errors.Is(err, ErrNoSchema) {
		t.Errorf("refused as a missing schema: %v", err)
	}
}

// The not-owned hint names the database and the role as SQL takes them:
// bare when they need no quotes, quoted otherwise.
func TestNotOwnedHintNames(t *testing.T) {
	for _, c := range []struct{ db, role, want string }{
		{"candor", "candor", "ALTER DATABASE candor OWNER TO candor) or have CREATE on its schema (GRANT CREATE ON SCHEMA public TO candor)"},
		{"Candor-Prod", "user", `ALTER DATABASE "Candor-Prod" OWNER TO "user") or have CREATE on its schema (GRANT CREATE ON SCHEMA public TO "user")`},
		{"", "", "ALTER DATABASE … OWNER TO …"},
	} {
		if got := notOwnedHint(c.db, c.role); !strings.Contains(got, c.want) {
			t.Errorf("notOwnedHint(%q, %q) = %q, want %q", c.db, c.role, got, c.want)
		}
	}
}

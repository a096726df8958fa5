// Package sqlitetest opens embedded stores for tests.
package sqlitetest

import (
	"context"
	"testing"

	"github.com/candor/candor/internal/sqlite"
)

// Open returns a new embedded store in a temporary directory, closed when
// the test ends.
func Open(tb testing.TB) *sqlite.DB {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

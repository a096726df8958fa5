package ingest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/priority"
)

// An input's first lines (a request's, a webhook's) never wait for the
// pages and API reads in progress; past bulkAfter lines, an import lets
// them go first and goes on once they end. NDJSON and CSV alike.
func TestImportLetsReadsGoFirst(t *testing.T) {
	t.Run("ndjson", func(t *testing.T) {
		importLetsReadsGoFirst(t, func(ids ...string) Source {
			var lines []string
			for _, id := range ids {
				lines = append(lines, depLine(id))
			}
			return src("x.ndjson", nd(lines...))
		})
	})
	t.Run("csv", func(t *testing.T) {
		importLetsReadsGoFirst(t, func(ids ...string) Source {
			var b strings.Builder
			b.WriteString("id,service,environment,finished_at,status\n")
			for _, id := range ids {
				fmt.Fprintf(&b, "%s,api,production,2026-03-10T12:00:00Z,success\n", id)
			}
			return src("deployments.csv", b.String())
		})
	})
}

func importLetsReadsGoFirst(t *testing.T, input func(ids ...string) Source) {
	defer priority.SetMaxWait(time.Hour)()
	st := newStore(t)
	ctx := context.Background()
	_, done := priority.Foreground(ctx)
	defer done()

	small := make(chan error, 1)
	go func() {
		_, err := Import(ctx, st, []Source{input("s1", "s2")}, Options{})
		small <- err
	}()
	waitImported(t, small, "a two-line import waited for a read in progress")

	var lines []string
	for i := range 3 * bulkAfter {
		lines = append(lines, fmt.Sprint("b", i))
	}
	large := make(chan error, 1)
	go func() {
		_, err := Import(ctx, st, []Source{input(lines...)}, Options{})
		large <- err
	}()
	select {
	case err := <-large:
		t.Fatalf("a %d-line import finished while a read was in progress (%v)", len(lines), err)
	case <-time.After(200 * time.Millisecond):
	}
	done()
	waitImported(t, large, "the import did not go on once the read ended")
	if got := counts(t, st); got["deployment"] != int64(2+len(lines)) {
		t.Errorf("stored %v", got)
	}
}

// waitImported waits up to 10 s for an import's end and fails with late
// if it does not come.
func waitImported(t *testing.T, done <-chan error, late string) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal(late)
	}
}

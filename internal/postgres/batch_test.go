package postgres

import (
	"context"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/store"
)

func ticketItem(id string) store.Item {
	return store.Item{Key: domain.Key{Kind: domain.KindTicket, Source: "x", ID: id}, Hash: "h" + id, RawHash: "r" + id, Body: []byte(`{}`)}
}

func sealedDB(t *testing.T, url string) *DB {
	t.Helper()
	s := open(t, url)
	s.SetSealer(ledger.NewSealer(ed25519.NewKeyFromSeed(make([]byte, 32))))
	return s
}

// A batch that was not told it commits next (an import) does not hold the
// ledger lock before its commit: a sign-in's append goes through while
// the import's transaction is open.
func TestOpenBatchLeavesTheLedgerLock(t *testing.T) {
	srv := pgtest.Start(t)
	s := sealedDB(t, srv.NewDatabase(t))
	ctx := context.Background()
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	if _, err := b.AddEach(ctx, [][]store.Item{{ticketItem("a")}}); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	e, _ := ledger.Entry(ledger.TypeRecords, map[string]any{"x": 1}, nil)
	if _, err := s.AppendLedger(short, e); err != nil {
		t.Errorf("a ledger append while a batch's transaction is open: %v", err)
	}
}

// A commit whose ledger entry or COMMIT fails commits nothing, records or
// entry, with the head read early (a group commit) or at the commit; and
// every way a batch ends gives its connection back to the pool, open.
func TestFailedCommitCommitsNothing(t *testing.T) {
	srv := pgtest.Start(t)
	for _, c := range []struct {
		name, trigger string
		short, fails  bool
	}{
		{"entry refused, head early", `CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()`, true, true},
		{"entry refused, head at commit", `CREATE TRIGGER refuse BEFORE INSERT ON ledger FOR EACH ROW EXECUTE FUNCTION refuse()`, false, true},
		{"commit refused, head early", `CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON records DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()`, true, true},
		{"committed, head early", "", true, false},
		{"committed, head at commit", "", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := sealedDB(t, srv.NewDatabase(t))
			ctx := context.Background()
			if c.trigger != "" {
				for _, q := range []string{`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'refused'; END$$`, c.trigger} {
					if _, err := s.pool.Exec(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
			}
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if c.short {
				store.CommitsNext(b)
			}
			if _, err := b.AddEach(ctx, [][]store.Item{{ticketItem("a")}}); err != nil {
				t.Fatal(err)
			}
			if got := b.(*batch).head != nil; got != c.short {
				t.Fatalf("head read with the write: %v, want %v", got, c.short)
			}
			e, _ := ledger.Entry(ledger.TypeRecords, map[string]any{"x": 1}, nil)
			b.Record(e)
			err = b.Commit()
			if (err != nil) != c.fails || c.fails && !strings.Contains(err.Error(), "refused") {
				t.Fatalf("Commit = %v, want failure %v", err, c.fails)
			}
			if err := b.Rollback(); err != nil {
				t.Errorf("Rollback after the end: %v", err)
			}
			if st := s.pool.Stat(); st.AcquiredConns() != 0 || st.IdleConns() != st.TotalConns() || st.TotalConns() == 0 {
				t.Errorf("pool after the batch: %d acquired, %d idle of %d", st.AcquiredConns(), st.IdleConns(), st.TotalConns())
			}
			last, _ := s.LastSeq(ctx)
			head, _ := s.LedgerHead(ctx)
			if want := map[bool]int64{true: 0, false: 1}[c.fails]; last != want || head.Seq != want {
				t.Errorf("after the commit: last seq %d, ledger head %d; want %d, %d", last, head.Seq, want, want)
			}
		})
	}
}

// After a large batch, Commit analyses the table on the batch's own
// connection: from the pool it would wait for the one the batch holds.
func TestAnalyzeOnTheBatchConnection(t *testing.T) {
	srv := pgtest.Start(t)
	url := srv.NewDatabase(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	s := open(t, url+sep+"pool_max_conns=1")
	old := analyzeAfter
	analyzeAfter = 1
	t.Cleanup(func() { analyzeAfter = old })
	ctx := context.Background()
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Add(ctx, []store.Item{ticketItem("a"), ticketItem("b")}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Commit() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Commit did not return: its ANALYZE waited for the connection the batch holds")
	}
}

package postgres

import (
	"context"
	"crypto/ed25519"
	"reflect"
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
// entry, with the head read early (a group commit) or at the commit, the
// commit waited for or sent (SendCommit); and
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
		for _, sent := range []bool{false, true} {
			name := c.name
			if sent {
				name += ", sent"
			}
			t.Run(name, func(t *testing.T) {
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
				if sent {
					err = b.(store.CommitSender).SendCommit()()
				} else {
					err = b.Commit()
				}
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

// A batch whose commit was sent (SendCommit) lets this process's next
// batch begin before the outcome is known, and the server orders them:
// the next batch's rows and ledger entry come after the first's when it
// commits, and take their place when it is refused. The next batch's
// Begin and writes would wait for ever on the process's writer if it
// were not given back when the commit was sent.
func TestSentCommitLetsTheNextBatchBegin(t *testing.T) {
	srv := pgtest.Start(t)
	for _, refused := range []bool{false, true} {
		t.Run(map[bool]string{false: "committed", true: "refused"}[refused], func(t *testing.T) {
			s := sealedDB(t, srv.NewDatabase(t))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if refused {
				// Refuses ticket "a" at COMMIT, deferred: the first batch's
				// writes succeed and only its sent commit fails.
				for _, q := range []string{
					`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN IF NEW.id = 'a' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NULL; END$$`,
					`CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON records DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse()`,
				} {
					if _, err := s.pool.Exec(ctx, q); err != nil {
						t.Fatal(err)
					}
				}
			}
			write := func(id string) store.Batch {
				t.Helper()
				short, cancel := context.WithTimeout(ctx, 2*time.Second)
				defer cancel()
				b, err := s.Begin(short)
				if err != nil {
					t.Fatalf("Begin of batch %s: %v", id, err)
				}
				store.CommitsNext(b)
				if _, err := b.AddEach(ctx, [][]store.Item{{ticketItem(id)}}); err != nil {
					t.Fatalf("batch %s: %v", id, err)
				}
				e, _ := ledger.Entry(ledger.TypeRecords, map[string]any{"id": id}, nil)
				b.Record(e)
				return b
			}
			first := write("a")
			wait := first.(store.CommitSender).SendCommit()
			// Written before the first's outcome is read: the server
			// ends the first transaction on its own.
			second := write("b")
			outcome := make(chan error, 1)
			go func() { outcome <- wait() }()
			if err := second.Commit(); err != nil {
				t.Fatalf("second batch: %v", err)
			}
			err := <-outcome
			if (err != nil) != refused {
				t.Fatalf("first batch's sent commit: %v, want refused %v", err, refused)
			}
			seqs := map[string]int64{}
			if _, err := s.Scan(ctx, 0, func(r store.Stored) error { seqs[r.Key.ID] = r.Seq; return nil }); err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"a": 1, "b": 2}
			if refused {
				want = map[string]int64{"b": 1}
			}
			if !reflect.DeepEqual(seqs, want) {
				t.Errorf("stored seqs %v, want %v", seqs, want)
			}
			rep, err := ledger.Verify(ctx, s, ledger.VerifyOptions{Keys: []ed25519.PublicKey{ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey)}})
			if n := int64(len(want)); err != nil || rep.Broken != nil || rep.Entries != n {
				t.Errorf("ledger: %+v %v, want %d entries, unbroken", rep, err, n)
			}
			if st := s.pool.Stat(); st.AcquiredConns() != 0 {
				t.Errorf("pool after the batches: %d connections still acquired", st.AcquiredConns())
			}
		})
	}
}

package postgres

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/pgtest"
	"github.com/candor/candor/internal/sqlite"
	"github.com/candor/candor/internal/store"
	"github.com/candor/candor/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(tb testing.TB, url string) *DB {
	tb.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// writePaths covers both ways rows reach the database, whatever the chunk
// sizes a test happens to use.
var writePaths = []struct {
	name    string
	copyMin int
}{
	{"arrays", math.MaxInt},
	{"copy", 1},
}

// setKnobs picks the write path (copyMin: the staging table's threshold
// and copyNew's, MaxInt for neither) and the chunk size (copyNew's runs
// too, so keys repeat across chunks on every path).
func setKnobs(t *testing.T, copyMin, chunk int) {
	oldCopy, oldChunk, oldNewMin, oldNew := copyMinRows, chunkRows, copyNewMinRows, copyNewRows
	copyMinRows, chunkRows, copyNewMinRows, copyNewRows = copyMin, chunk, copyMin, chunk
	t.Cleanup(func() { copyMinRows, chunkRows, copyNewMinRows, copyNewRows = oldCopy, oldChunk, oldNewMin, oldNew })
}

func TestContract(t *testing.T) {
	srv := pgtest.Start(t)
	var mu sync.Mutex
	urls := map[store.Store]string{}
	factory := func(t *testing.T) store.Store {
		url := srv.NewDatabase(t)
		s := open(t, url)
		mu.Lock()
		urls[s] = url
		mu.Unlock()
		return s
	}
	reopen := storetest.Reopen(func(t *testing.T, s store.Store) store.Store {
		mu.Lock()
		url := urls[s]
		mu.Unlock()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s2 := open(t, url)
		mu.Lock()
		urls[s2] = url
		mu.Unlock()
		return s2
	})
	// Another pool on the same database: another instance.
	share := storetest.Share(func(t *testing.T, s store.Store) store.Store {
		mu.Lock()
		url := urls[s]
		mu.Unlock()
		return open(t, url)
	})
	// Direct access to the database, as its owner has.
	sql := storetest.SQL(func(t *testing.T, s store.Store, bypass bool, stmts ...string) error {
		ctx := context.Background()
		tx, err := s.(*DB).pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		if bypass {
			for _, table := range []string{"ledger", "docs"} {
				if _, err := tx.Exec(ctx, `ALTER TABLE `+table+` DISABLE TRIGGER USER`); err != nil {
					return err
				}
				stmts = append(stmts, `ALTER TABLE `+table+` ENABLE TRIGGER USER`)
			}
		}
		for _, stmt := range stmts {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return tx.Commit(ctx)
	})
	t.Run("default", func(t *testing.T) { storetest.Run(t, factory, reopen, share, sql) })
	for _, p := range writePaths {
		t.Run(p.name, func(t *testing.T) {
			setKnobs(t, p.copyMin, chunkRows)
			storetest.Run(t, factory, reopen, share)
		})
	}
}

// TestSameResultsAsSQLite replays batches against both stores: every
// count, every set of records a batch rewrote, and the final content must
// agree with the reference implementation. "random" is full of repeated
// keys within and across chunks; "imports" looks like real imports (runs
// of one kind and source with rising ids, overlapping what earlier ones
// wrote), which is what the new-key shortcuts are for. Both roll batches
// back now and then.
func TestSameResultsAsSQLite(t *testing.T) {
	srv := pgtest.Start(t)
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	version := func(rng *rand.Rand) (time.Time, string, []byte) {
		v := rng.IntN(3)
		ev := time.Time{}
		if v > 0 {
			ev = t0.Add(time.Duration(v) * time.Hour)
		}
		return ev, fmt.Sprintf("h%d", v), []byte(fmt.Sprintf(`{"v":%d}`, v))
	}
	random := func(rng *rand.Rand) []store.Item {
		items := make([]store.Item, rng.IntN(25))
		kinds := []domain.Kind{domain.KindChange, domain.KindIncident}[:1+rng.IntN(2)]
		sources := []string{"import", "api"}[:1+rng.IntN(2)]
		for i := range items {
			ev, h, body := version(rng)
			k := domain.Key{Kind: kinds[rng.IntN(len(kinds))], Source: sources[rng.IntN(len(sources))], ID: fmt.Sprintf("k%02d", rng.IntN(30))}
			items[i] = store.Item{Key: k, EventTime: ev, Hash: h, Body: body}
		}
		return items
	}
	next := map[domain.Key]int{} // per kind and source: the next id an import would add
	imports := func(rng *rand.Rand) []store.Item {
		var items []store.Item
		// Mostly one run; sometimes two, which may share the kind or the
		// source.
		for range 1 + rng.IntN(2)*rng.IntN(2) {
			k := domain.Key{Kind: []domain.Kind{domain.KindChange, domain.KindIncident}[rng.IntN(2)], Source: []string{"a", "b"}[rng.IntN(2)]}
			from := max(next[k]-rng.IntN(8), 0)
			for i := range rng.IntN(25) {
				id := from + i
				if rng.IntN(10) == 0 {
					id -= rng.IntN(i + 1) // now and then a key again
				}
				ev, h, body := version(rng)
				items = append(items, store.Item{Key: domain.Key{Kind: k.Kind, Source: k.Source, ID: fmt.Sprintf("k%04d", id)}, EventTime: ev, Hash: h, Body: body})
				next[k] = max(next[k], id+1)
			}
		}
		return items
	}
	for _, g := range []struct {
		name string
		gen  func(*rand.Rand) []store.Item
	}{{"random", random}, {"imports", imports}} {
		for _, p := range writePaths {
			t.Run(g.name+"/"+p.name, func(t *testing.T) {
				setKnobs(t, p.copyMin, 7) // small chunks: keys repeat across them
				clear(next)
				replay(t, open(t, srv.NewDatabase(t)), g.gen)
			})
		}
	}
}

func replay(t *testing.T, pg *DB, gen func(*rand.Rand) []store.Item) {
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	stores := []store.Store{lite, pg}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 80 {
		var before [2]int64
		var batches [2]store.Batch
		for i, s := range stores {
			before[i], _ = s.LastSeq(ctx)
			if batches[i], err = s.Begin(ctx); err != nil {
				t.Fatal(err)
			}
			// A failure below leaves the batch open, and closing its
			// store would wait for it until the test binary timed out.
			b := batches[i]
			t.Cleanup(func() { b.Rollback() })
		}
		// Each step of a round is an Add, or several lists through AddEach
		// or (ending the round) CommitEach, as group commit writes them:
		// every PostgreSQL write path against SQLite's.
		committed := false
		for step := range 1 + rng.IntN(3) {
			lists := [][]store.Item{gen(rng)}
			mode := rng.IntN(4) // 0, 1: Add; 2: AddEach; 3: CommitEach
			if mode >= 2 {
				for range rng.IntN(4) {
					lists = append(lists, gen(rng))
				}
			}
			if mode == 3 && step == 0 {
				mode = 2 // CommitEach on a batch that has written is tested below
			}
			var res [2][]store.WriteResult
			for i, b := range batches {
				switch mode {
				case 2:
					res[i], err = b.AddEach(ctx, lists)
				case 3:
					res[i], err = store.CommitEach(ctx, b, lists)
				default:
					var r store.WriteResult
					r, err = b.Add(ctx, lists[0])
					res[i] = []store.WriteResult{r}
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(counts(res[0])) != fmt.Sprint(counts(res[1])) {
				t.Fatalf("round %d, mode %d: postgres %+v, sqlite %+v for %d lists", round, mode, res[1], res[0], len(lists))
			}
			if mode == 3 {
				committed = true
				break
			}
		}
		commit := committed || rng.IntN(5) > 0
		var written [2]map[domain.Key]string
		for i, b := range batches {
			if committed {
				written[i] = contents(t, stores[i], before[i])
				continue
			}
			if !commit {
				if err := b.Rollback(); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			written[i] = contents(t, stores[i], before[i])
		}
		if fmt.Sprint(written[0]) != fmt.Sprint(written[1]) {
			t.Fatalf("round %d rewrote different records:\nsqlite   %v\npostgres %v", round, written[0], written[1])
		}
		if rng.IntN(4) == 0 {
			// The one-step path: a batch's first write, committing.
			lists := [][]store.Item{gen(rng), gen(rng)}
			var res [2][]store.WriteResult
			for i, s := range stores {
				b, err := s.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if res[i], err = store.CommitEach(ctx, b, lists); err != nil {
					t.Fatal(err)
				}
			}
			if fmt.Sprint(counts(res[0])) != fmt.Sprint(counts(res[1])) {
				t.Fatalf("round %d, one-step CommitEach: postgres %+v, sqlite %+v", round, res[1], res[0])
			}
		}
	}
	if a, b := contents(t, lite, 0), contents(t, pg, 0); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("final content differs:\nsqlite   %v\npostgres %v", a, b)
	}
	ca, _ := lite.Counts(ctx)
	cb, _ := pg.Counts(ctx)
	if fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Fatalf("counts: sqlite %v, postgres %v", ca, cb)
	}
}

// contents maps the records with a seq above after to hash, body and
// event time, checking seq order on the way.
func contents(t *testing.T, s store.Store, after int64) map[domain.Key]string {
	t.Helper()
	out := map[domain.Key]string{}
	prev := after
	_, err := s.Scan(context.Background(), after, func(r store.Stored) error {
		if r.Seq <= prev {
			return fmt.Errorf("seq %d after %d", r.Seq, prev)
		}
		prev = r.Seq
		out[r.Key] = fmt.Sprintf("%s %s %d", r.Hash, r.Body, r.EventTime.UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestInstancesFollowEachOther is the reason for the writer lock: two
// instances write to one database at once while a third follows with
// Scan(after), as the metric engine does. If a batch could commit a seq
// below one a reader had already seen, the reader would skip it for good.
func TestInstancesFollowEachOther(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	writers := []*DB{open(t, url), open(t, url)}
	reader := open(t, url)

	const rounds = 60
	var wg sync.WaitGroup
	want := 0
	errs := make(chan error, len(writers))
	for w, s := range writers {
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		sizes := make([]int, rounds)
		for i := range sizes {
			sizes[i] = 1 + rng.IntN(40)
			if i%15 == 0 {
				sizes[i] = copyMinRows + 100 // the COPY path under contention too
			}
			want += sizes[i]
		}
		wg.Go(func() {
			for i, n := range sizes {
				items := make([]store.Item, n)
				for j := range items {
					items[j] = store.Item{Key: domain.Key{Kind: domain.KindDeployment, Source: fmt.Sprintf("w%d", w), ID: fmt.Sprintf("%d-%d", i, j)}, Hash: "h", Body: []byte(`{}`)}
				}
				if _, err := store.Put(ctx, s, items); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[domain.Key]int{}
	var after int64
	polls := 0
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true // one more scan after the last commit
		default:
		}
		last, err := reader.Scan(ctx, after, func(r store.Stored) error {
			if r.Seq <= after {
				return fmt.Errorf("seq %d not above %d", r.Seq, after)
			}
			after = r.Seq
			seen[r.Key]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if last != after {
			t.Fatalf("Scan returned %d, last row had %d", last, after)
		}
		polls++
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%v seen %d times", k, n)
		}
	}
	if len(seen) != want {
		t.Fatalf("reader saw %d records in %d polls, want %d: it skipped some", len(seen), polls, want)
	}
	t.Logf("%d records, %d polls", want, polls)
}

// The writer lock must hold across instances, not only inside one, and a
// write waiting for another instance must still honour its context. (The
// lock is taken at a batch's first write, so that is what waits.)
func TestWriteWaitsForOtherInstance(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	a, b := open(t, url), open(t, url)
	ba, err := a.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	key := domain.Key{Kind: domain.KindLead, Source: "import", ID: "l1"}
	if _, err := ba.Add(ctx, []store.Item{{Key: key, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, each := range []bool{false, true} {
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		bb, err := b.Begin(cctx)
		if err != nil {
			t.Fatal(err)
		}
		other := []store.Item{{Key: domain.Key{Kind: domain.KindLead, Source: "import", ID: "l2"}, Hash: "h", Body: []byte(`{}`)}}
		if each {
			_, err = bb.AddEach(cctx, [][]store.Item{other})
		} else {
			_, err = bb.Add(cctx, other)
		}
		cancel()
		bb.Rollback()
		if err == nil {
			t.Fatalf("second instance wrote (AddEach %v) while the first had a batch open", each)
		}
		// A connection whose query was cancelled is destroyed, which the
		// pool finishes in the background.
		deadline := time.Now().Add(5 * time.Second)
		for b.pool.Stat().AcquiredConns() != 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := b.pool.Stat().AcquiredConns(); n != 0 {
			t.Fatalf("%d connections still held after the abandoned wait (AddEach %v)", n, each)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := store.Put(ctx, b, []store.Item{{Key: key, Hash: "h2", Body: []byte(`{"v":2}`)}})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("second instance wrote while the first batch was open (err=%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	if err := ba.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := a.Get(ctx, key)
	if err != nil || got.Hash != "h2" || got.Seq != 2 {
		t.Fatalf("Get = %+v, %v; want the second instance's write with seq 2", got, err)
	}
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	var wg sync.WaitGroup
	dbs := make([]*DB, 4)
	errs := make([]error, len(dbs))
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	files, _ := fs.Glob(migrations, "migrations/*.sql")
	var n int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != len(files) || n < 2 {
		t.Fatalf("schema_migrations rows = %d (%v), want one per migration file (%d)", n, err, len(files))
	}
}

// A database a newer build migrated (schema_migrations holds a version
// this build lacks) is refused with the database and both versions named,
// and nothing of ours is applied to it: before, an older binary opened it
// without a word.
func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	// The newest migration of ours is taken out too: had the refused open
	// applied anything, it would be back.
	if _, err := s.pool.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES (99); DELETE FROM schema_migrations WHERE version = 18`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, url)
	var newer *store.NewerSchemaError
	if !errors.As(err, &newer) {
		t.Fatalf("Open = %v, want a NewerSchemaError", err)
	}
	if newer.Version != 99 || newer.Known != 22 || !strings.HasSuffix(newer.Where, "/"+s.pool.Config().ConnConfig.Database) {
		t.Fatalf("error = %+v, want version 99, known 22, at the test database", newer)
	}
	if !strings.Contains(err.Error(), "was migrated by a newer Candor (schema version 99, this build knows up to 22): run the newer version, or restore a backup taken before the upgrade") {
		t.Fatalf("error = %q", err)
	}
	var versions []int
	rows, err := s.pool.Query(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err == nil {
		versions, err = pgx.CollectRows(rows, pgx.RowTo[int])
	}
	if err != nil || slices.Contains(versions, 18) || !slices.Contains(versions, 99) {
		t.Fatalf("schema_migrations after the refused open = %v (%v), want 99 kept and 18 not applied", versions, err)
	}
}

// A reader opening a database without Candor's schema (a mistyped name)
// is refused, naming the database, and nothing is created there; Open, for
// serve and import, still creates the schema in an empty database.
func TestOpenExistingRefusesNoSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	_, err := OpenExisting(ctx, url)
	if !errors.Is(err, ErrNoSchema) {
		t.Fatalf("OpenExisting on an empty database = %v, want ErrNoSchema", err)
	}
	cfg, perr := pgx.ParseConfig(url)
	if perr != nil {
		t.Fatal(perr)
	}
	if !strings.Contains(err.Error(), "/"+cfg.Database+": the database has no Candor schema") {
		t.Fatalf("error = %q, want the database named", err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("tables after the refused open = %d (%v), want none", tables, err)
	}
	open(t, url) // the first deployment's serve or import
	s, err := OpenExisting(ctx, url)
	if err != nil {
		t.Fatalf("OpenExisting on a store: %v", err)
	}
	s.Close()
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	ev := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
	if _, err := store.Put(ctx, s, []store.Item{{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: "a"}, EventTime: ev, Hash: "h", Body: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, url)
	if n, _ := s.LastSeq(ctx); n != 1 {
		t.Fatalf("LastSeq after reopen = %d, want 1", n)
	}
	got, err := s.Get(ctx, domain.Key{Kind: domain.KindService, Source: "import", ID: "a"})
	if err != nil || !got.EventTime.Equal(ev) {
		t.Fatalf("Get = %v (%v), want event time %v to the nanosecond", got.EventTime, err, ev)
	}
}

func TestOpenBadURL(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on loopback: nothing listens, so this fails fast.
	_, err := Open(ctx, "postgres://u:secret@127.0.0.1:1/db?connect_timeout=2")
	if err == nil {
		t.Fatal("Open succeeded without a server")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Fatalf("error leaks the password: %s", got)
	}
	// Nothing listening is an unreachable store, whose code (503, retry)
	// no caller has to read from the message.
	var ue *store.UnreachableError
	if !errors.As(err, &ue) || domain.CodeOf(err) != domain.EUnavailable {
		t.Errorf("Open of a closed port: %v (code %s); want a store.UnreachableError, code unavailable", err, domain.CodeOf(err))
	}
}

// Documents are append-only in the database itself, not only through the
// Go API: an UPDATE, DELETE or TRUNCATE by anything else is refused.
func TestDocsAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	d, err := s.AppendDoc(ctx, "c", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`UPDATE docs SET body = '\x00' WHERE id = $1`, `DELETE FROM docs WHERE id = $1`, `TRUNCATE docs`} {
		var args []any
		if strings.Contains(sql, "$1") {
			args = append(args, d.ID)
		}
		if _, err := s.pool.Exec(ctx, sql, args...); err == nil {
			t.Errorf("%s succeeded", sql)
		}
	}
	if got, _ := s.Docs(ctx, "c", 0); len(got) != 1 || string(got[0].Body) != `{}` {
		t.Errorf("document changed: %+v", got)
	}
}

// TestRawHash checks that the raw hash stored is the one of the record
// version that is stored: a replaced record gets the new one, an unchanged
// one (same key and hash) keeps its row and so its old raw hash, whether
// the repeat comes in a later batch, later in the same chunk or in the
// next chunk, and on both write paths.
func TestRawHash(t *testing.T) {
	ctx := context.Background()
	key := func(id string) domain.Key { return domain.Key{Kind: domain.KindChange, Source: "import", ID: id} }
	item := func(id, hash, raw string) store.Item {
		return store.Item{Key: key(id), Hash: hash, RawHash: raw, Body: []byte(`{"v":"` + hash + `"}`)}
	}
	for _, p := range writePaths {
		for _, chunk := range []int{1, 100} {
			t.Run(fmt.Sprintf("%s/chunk%d", p.name, chunk), func(t *testing.T) {
				setKnobs(t, p.copyMin, chunk)
				s := open(t, pgtest.NewDatabase(t))
				if _, err := store.Put(ctx, s, []store.Item{
					item("a", "h1", "ra1"), item("b", "h1", "rb1"), item("c", "h1", "rc1"),
				}); err != nil {
					t.Fatal(err)
				}
				res, err := store.Put(ctx, s, []store.Item{
					item("a", "h2", "ra2"), // replaced
					item("b", "h1", "rb2"), // unchanged: keeps rb1
					item("c", "h2", "rc2"), // replaced, then
					item("c", "h2", "rc3"), // unchanged: keeps rc2
					item("d", "h1", "rd1"), // inserted, then
					item("d", "h2", "rd2"), // replaced, then
					item("d", "h2", "rd3"), // unchanged: keeps rd2
					item("e", "h1", "re1"), // inserted, then
					item("e", "h1", "re2"), // unchanged: keeps re1
					item("f", "h1", "rf1"), // inserted, then
					item("f", "h2", "rf2"), // replaced, then
					item("f", "h1", "rf3"), // replaced again
				})
				if err != nil {
					t.Fatal(err)
				}
				if want := (store.WriteResult{Inserted: 3, Replaced: 5, Unchanged: 4}); res.Counts() != want {
					t.Errorf("result %+v, want %+v", res, want)
				}
				want := map[string]string{"a": "ra2", "b": "rb1", "c": "rc2", "d": "rd2", "e": "re1", "f": "rf3"}
				for id, raw := range want {
					got, err := s.Get(ctx, key(id))
					if err != nil {
						t.Fatal(err)
					}
					if got.RawHash != raw {
						t.Errorf("Get(%s).RawHash = %q, want %q", id, got.RawHash, raw)
					}
				}
				scanned := map[string]string{}
				if _, err := s.Scan(ctx, 0, func(r store.Stored) error {
					scanned[r.Key.ID] = r.RawHash
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(scanned) != fmt.Sprint(want) {
					t.Errorf("Scan raw hashes %v, want %v", scanned, want)
				}
			})
		}
	}
}

// One document per (collection, key) is a property of the database, not
// only of AppendDocOnce: a second row with a taken key is refused whoever
// writes it, and a key, once given, cannot be changed.
func TestDocKeysUniqueInDatabase(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	d, _, err := s.AppendDocOnce(ctx, "c", "k", []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO docs (collection, key, created_at, body) VALUES ('c', 'k', 0, '\x7b7d')`); err == nil {
		t.Error("a second document with key k was inserted")
	}
	if _, err := s.pool.Exec(ctx, `UPDATE docs SET key = 'other' WHERE id = $1`, d.ID); err == nil {
		t.Error("UPDATE of a document's key succeeded")
	}
	if got, _ := s.Docs(ctx, "c", 0); len(got) != 1 || got[0].Key != "k" {
		t.Errorf("documents: %+v", got)
	}
}

// A database written before keys existed (migrations up to 003) opens,
// keeps its documents, which have no key, and takes keyed appends.
func TestDocKeysMigration(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		// No arguments: the simple protocol, which allows several
		// statements, as migrate uses.
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`)
	for v, name := range []string{"001_records.sql", "002_docs.sql", "003_raw_hash.sql"} {
		body, err := migrations.ReadFile("migrations/" + name)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec(fmt.Sprintf(`INSERT INTO schema_migrations (version) VALUES (%d)`, v+1))
	}
	exec(`INSERT INTO docs (collection, created_at, body) VALUES ('c', 1, 'old')`)
	conn.Close(ctx)

	s := open(t, url)
	storetest.CheckDocsMigrated(t, s)
}

// A batch past analyzeAfter rows leaves the records table analysed:
// without statistics every refresh's "rows after seq N" was planned as a
// scan of the whole table. Smaller batches leave that to autovacuum.
func TestBulkBatchAnalyses(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	defer func(n int64) { analyzeAfter = n }(analyzeAfter)
	analyzeAfter = 10
	reltuples := func() float64 {
		t.Helper()
		var n float64
		if err := s.pool.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'records'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	put := func(n int, prefix string) {
		t.Helper()
		var items []store.Item
		for i := range n {
			id := fmt.Sprintf("%s%d", prefix, i)
			items = append(items, store.Item{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: id}, Hash: id, Body: []byte(`{}`)})
		}
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
	}
	put(5, "small")
	if n := reltuples(); n > 0 {
		t.Fatalf("after 5 rows: reltuples %v, want the table not analysed yet", n)
	}
	put(20, "bulk")
	if n := reltuples(); n != 25 {
		t.Errorf("after a 20-row batch: reltuples %v, want 25 (analysed)", n)
	}
	// A group commit's one-step write analyses too.
	var lists [][]store.Item
	for i := range 12 {
		id := fmt.Sprintf("group%d", i)
		lists = append(lists, []store.Item{{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: id}, Hash: id, Body: []byte(`{}`)}})
	}
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CommitEach(ctx, b, lists); err != nil {
		t.Fatal(err)
	}
	if n := reltuples(); n != 37 {
		t.Errorf("after a 12-row group commit: reltuples %v, want 37 (analysed)", n)
	}
}

// A group the database refuses in the one-round-trip path (a record
// without a body breaks NOT NULL) commits nothing, frees the writer and
// leaves the connection usable.
func TestCommitEachRefusedCommitsNothing(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	inc := func(id string, body []byte) store.Item {
		return store.Item{Key: domain.Key{Kind: domain.KindIncident, Source: "hook", ID: id}, Hash: "h" + id, Body: body}
	}
	for range 3 { // more than the pool's idle connections would hide
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.CommitEach(ctx, b, [][]store.Item{{inc("a", []byte(`{}`))}, {inc("b", nil)}})
		if err == nil {
			t.Fatalf("CommitEach = %v, want NOT NULL refused", res)
		}
		b.Rollback()
	}
	if last, err := s.LastSeq(ctx); err != nil || last != 0 {
		t.Fatalf("LastSeq = %d, %v; want nothing committed", last, err)
	}
	b, err := s.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.CommitEach(ctx, b, [][]store.Item{{inc("a", []byte(`{}`))}, {inc("b", []byte(`{}`))}})
	if err != nil || len(res) != 2 || res[0].Inserted != 1 || res[1].Inserted != 1 {
		t.Fatalf("CommitEach after refusals = %v, %v", res, err)
	}
	if n := s.pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still held after the batch ended", n)
	}
}

// counts is each result without its sequence bound: the two stores number
// rows differently.
func counts(res []store.WriteResult) []store.WriteResult {
	out := make([]store.WriteResult, len(res))
	for i, r := range res {
		out[i] = r.Counts()
	}
	return out
}

// A first import's chunks of new keys go straight into records with COPY
// (copyNew): keys in a range nothing is stored in, and keys whose range
// holds stored rows but which are new themselves. A chunk with a stored
// key, or one repeating a key with another hash, takes the other paths.
// Counts, contents and the rows' seq order must be SQLite's either way.
func TestCopyNewMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	setKnobs(t, 1, 1000)
	copyNewRows = 2500 // runs longer than a chunk
	pg := open(t, pgtest.NewDatabase(t))
	lite, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	items := func(ids ...string) []store.Item {
		var out []store.Item
		for _, id := range ids {
			out = append(out, store.Item{Key: domain.Key{Kind: domain.KindChange, Source: "github", ID: id},
				EventTime: time.Unix(int64(len(id)), 0), Hash: "h-" + id, Body: []byte(`{"id":"` + id + `"}`)})
		}
		return out
	}
	steps := []struct {
		name   string
		lists  [][]store.Item
		copies int64 // chunks copyNew writes in the step
	}{
		{"a range nothing is stored in", [][]store.Item{items("b-1", "b-2", "b-3")}, 1},
		{"new keys in a stored range", [][]store.Item{items("b-10", "b-15", "a-9", "c-1")}, 1},
		{"a stored key among new ones", [][]store.Item{items("b-20", "b-2", "b-21")}, 0},
		{"a key again with another hash", [][]store.Item{append(items("d-1", "d-2"), store.Item{Key: domain.Key{Kind: domain.KindChange, Source: "github", ID: "d-1"}, Hash: "other", Body: []byte(`{}`)})}, 0},
		{"two lists in one batch", [][]store.Item{items("e-1", "e-2"), items("f-1")}, 2},
		// A list longer than a chunk goes in runs of copyNewRows, the
		// rest as a chunk.
		{"a long run of new keys", [][]store.Item{items(numbered("g-", 0, 3000)...)}, 2},
		// A run holding a stored key is declined, and so are no more of
		// the list's: its first chunk is new, the one with the stored key
		// takes an upsert and ends the batch's offers.
		{"a long run with a stored key", [][]store.Item{items(slices.Concat(numbered("h-", 0, 1500), []string{"g-0005"}, numbered("h-", 1500, 2400))...)}, 1},
	}
	for _, st := range steps {
		before := pg.newCopies.Load()
		var got [2][]store.WriteResult
		for i, s := range []store.Store{lite, pg} {
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range st.lists {
				r, err := b.Add(ctx, l)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				got[i] = append(got[i], r)
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(counts(got[0])) != fmt.Sprint(counts(got[1])) {
			t.Errorf("%s: postgres %+v, sqlite %+v", st.name, got[1], got[0])
		}
		if n := pg.newCopies.Load() - before; n != st.copies {
			t.Errorf("%s: copyNew wrote %d chunks, want %d", st.name, n, st.copies)
		}
	}
	if a, b := contents(t, lite, 0), contents(t, pg, 0); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("contents differ:\nsqlite   %v\npostgres %v", a, b)
	}
	// The seqs may differ (PostgreSQL skips those of unchanged rows); the
	// order they give the rows may not: readers apply rows in seq order.
	if a, b := scanOrder(t, lite), scanOrder(t, pg); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("rows in another seq order:\nsqlite   %v\npostgres %v", a, b)
	}
}

// numbered is ids prefix+i for i in [from, to), of one width so that
// they sort as the numbers do.
func numbered(prefix string, from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, fmt.Sprintf("%s%04d", prefix, i))
	}
	return ids
}

// scanOrder is the ids of a store's rows in seq order.
func scanOrder(t *testing.T, s store.Store) []string {
	t.Helper()
	var ids []string
	if _, err := s.Scan(context.Background(), 0, func(r store.Stored) error {
		ids = append(ids, r.Key.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

// Readers never visit a write's rows in flight (migration 018): during a
// large import the newest entries of the primary key are its uncommitted
// rows, and max(seq), or a scan of the rows after the last one applied,
// walked every one of them (~180 ms with 500,000 in flight). The head
// row gives the committed seq, the scans stop at it, and every write path
// moves it. The work is counted in buffers the statements touch, not
// timed: walking the rows in flight touches one or more per row.
func TestReadersSkipRowsInFlight(t *testing.T) {
	for _, wp := range writePaths {
		t.Run(wp.name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t, pgtest.NewDatabase(t))
			setKnobs(t, wp.copyMin, 500)
			items := func(prefix string, n int) []store.Item {
				var items []store.Item
				for i := range n {
					id := fmt.Sprintf("%s%d", prefix, i)
					items = append(items, store.Item{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: id}, Hash: id, Body: []byte(`{}`)})
				}
				return items
			}
			if _, err := store.Put(ctx, s, items("committed", 50)); err != nil {
				t.Fatal(err)
			}
			check := func(when string, want int64) {
				t.Helper()
				if last, err := s.LastSeq(ctx); err != nil || last != want {
					t.Fatalf("%s: LastSeq = %d (%v), want %d", when, last, err, want)
				}
				last, all, err := s.Tail(ctx, want, 10, func(store.Stored) error {
					t.Fatalf("%s: Tail after %d handed a row", when, want)
					return nil
				})
				if err != nil || !all || last != want {
					t.Fatalf("%s: Tail after %d = %d, %v, %v; want %d, all", when, want, last, all, err, want)
				}
				n := 0
				if last, err := s.Scan(ctx, 0, func(store.Stored) error { n++; return nil }); err != nil || last != want || int64(n) != want {
					t.Fatalf("%s: Scan = %d rows up to %d (%v), want %d", when, n, last, err, want)
				}
			}
			check("before", 50)

			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 8 {
				if _, err := b.Add(ctx, items(fmt.Sprintf("flight%d-", i), 2500)); err != nil {
					t.Fatal(err)
				}
			}
			check("20,000 rows in flight", 50)
			for _, q := range []struct{ name, sql string }{
				{"LastSeq", headSQL},
				{"Tail", `SELECT ` + scanColumns + ` FROM records WHERE seq > 50 AND ` + headBound + ` ORDER BY seq LIMIT 11`},
			} {
				var plan []map[string]any
				if err := s.pool.QueryRow(ctx, `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) `+q.sql).Scan(&plan); err != nil {
					t.Fatal(err)
				}
				top := plan[0]["Plan"].(map[string]any)
				touched := top["Shared Hit Blocks"].(float64) + top["Shared Read Blocks"].(float64)
				if touched > 20 {
					t.Errorf("%s with 20,000 rows in flight touched %v buffers, want a handful", q.name, touched)
				}
			}
			if err := b.Commit(); err != nil {
				t.Fatal(err)
			}
			check("committed", 20050)

			// A rolled-back write leaves the head where it was.
			b, err = s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Add(ctx, items("rolled", 1000)); err != nil {
				t.Fatal(err)
			}
			if err := b.Rollback(); err != nil {
				t.Fatal(err)
			}
			check("rolled back", 20050)
			// A rewrite takes a new seq, and the head follows it.
			rewrite := items("committed", 1)
			rewrite[0].Hash = "changed"
			if _, err := store.Put(ctx, s, rewrite); err != nil {
				t.Fatal(err)
			}
			if last, err := s.LastSeq(ctx); err != nil || last <= 20050 {
				t.Fatalf("after a rewrite: LastSeq = %d (%v), want past 20050", last, err)
			}
		})
	}
}

// beforeHead returns a database holding 30 records (seqs 1–30) with the
// schema of the release before migration 018, and the records.
func beforeHead(t *testing.T) (string, []store.Item) {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	defer s.Close()
	var items []store.Item
	for i := range 30 {
		id := fmt.Sprintf("old%d", i)
		items = append(items, store.Item{Key: domain.Key{Kind: domain.KindService, Source: "import", ID: id}, Hash: id, Body: []byte(`{}`)})
	}
	if _, err := store.Put(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `DROP TABLE records_head; DROP FUNCTION records_head_bump() CASCADE; DELETE FROM schema_migrations WHERE version = 18`); err != nil {
		t.Fatal(err)
	}
	return url, items
}

// A database written before migration 018 gets its head from the records
// it holds, and follows writes from then on.
func TestRecordsHeadMigration(t *testing.T) {
	ctx := context.Background()
	url, items := beforeHead(t)
	s := open(t, url)
	if last, err := s.LastSeq(ctx); err != nil || last != 30 {
		t.Fatalf("after migrating: LastSeq = %d (%v), want 30", last, err)
	}
	if _, err := store.Put(ctx, s, items[:1:1]); err != nil { // unchanged: no new seq
		t.Fatal(err)
	}
	items[0].Hash = "new"
	if _, err := store.Put(ctx, s, items[:1]); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastSeq(ctx); err != nil || last != 31 {
		t.Fatalf("after a rewrite: LastSeq = %d (%v), want 31", last, err)
	}
}

// An instance still on the previous release writes while a new one
// migrates: the head must still cover the rows it commits.
func TestRecordsHeadMigrationDuringOldWrite(t *testing.T) {
	ctx := context.Background()
	url, _ := beforeHead(t)

	// The old release's batch: writer lock, max(seq), insert; not committed yet.
	old, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close(ctx)
	tx, err := old.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, writerLockKey); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO records (seq, kind, source, id, ingested_at, hash, body) VALUES (31, 'service', 'import', 'new', 0, 'h', '{}')`); err != nil {
		t.Fatal(err)
	}

	opened := make(chan *DB)
	go func() {
		s, err := Open(ctx, url)
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	// Until the migration waits for the old writer's transaction (seen
	// from a connection of its own: a transaction keeps the first view of
	// pg_stat_activity it took).
	watch, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	for waited := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Since(waited) > 30*time.Second {
			t.Fatal("the migration never waited for the old writer")
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	s := <-opened
	defer s.Close()
	n := 0
	last, err := s.Scan(ctx, 0, func(store.Stored) error { n++; return nil })
	head, _ := s.LastSeq(ctx)
	if err != nil || head != 31 || n != 31 || last != 31 {
		t.Fatalf("after migrating during an old write: LastSeq %d, Scan %d rows to %d (%v); want 31", head, n, last, err)
	}
}

// Tail's statement keeps its plan (a prepared statement's generic plan,
// once PostgreSQL prefers it), so that plan must be the primary key's
// range read whatever the table's statistics say: on a table never
// analysed, and after a bulk load analysed.
func TestTailPlanIsTheIndexRange(t *testing.T) {
	ctx := context.Background()
	s := open(t, pgtest.NewDatabase(t))
	rangeRead := func(set ...string) (bool, string) {
		t.Helper()
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Its settings and statement stay with the connection.
		defer func() { c.Hijack().Close(ctx) }()
		for _, q := range append(set, `SET plan_cache_mode = force_generic_plan`, `PREPARE tail(bigint, bigint) AS `+tailSQL) {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		rows, err := c.Query(ctx, `EXPLAIN EXECUTE tail(0, 1025)`, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			out = append(out, line)
		}
		p := strings.Join(out, "\n")
		return strings.Contains(p, "Index Scan using records_pkey on records") && !strings.Contains(p, "Seq Scan on records ") && !strings.Contains(p, "Sort"), p
	}
	check := func(when string) {
		t.Helper()
		if ok, p := rangeRead(); !ok {
			t.Errorf("%s: Tail's generic plan is not the primary key's range read:\n%s", when, p)
		}
	}
	check("empty table")
	var items []store.Item
	for i := range 50_000 {
		id := fmt.Sprintf("t%d", i)
		items = append(items, store.Item{Key: domain.Key{Kind: domain.KindTicket, Source: "import", ID: id}, Hash: id, Body: []byte(`{}`)})
	}
	if _, err := store.Put(ctx, s, items); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE records`); err != nil {
		t.Fatal(err)
	}
	check("50,000 rows, analysed")
	// The control: with index reads off the plan is a scan and sort,
	// which the check tells apart.
	if ok, p := rangeRead(`SET enable_indexscan = off`, `SET enable_bitmapscan = off`); ok {
		t.Errorf("with index reads off the plan still passed the check:\n%s", p)
	}
}

// Opening says what it migrated: nothing to report for a new database or
// one already current, the versions applied to one an older Candor left.
func TestMigrationsApplied(t *testing.T) {
	url := pgtest.NewDatabase(t)
	s := open(t, url)
	if m := s.Migrations(); m.From != 0 || len(m.Applied) == 0 || m.Upgrade() != "" {
		t.Fatalf("a new database: %+v, %q", m, m.Upgrade())
	}
	s.Close()
	pgtest.Exec(t, url, `DROP TABLE refusals_not_logged; DELETE FROM schema_migrations WHERE version = 22`)
	s = open(t, url)
	if got, want := s.Migrations().Upgrade(), "store migrated from schema version 21 to 22 (applied 22)"; got != want {
		t.Fatalf("a database before migration 022: %q, want %q", got, want)
	}
	s.Close()
	if m := open(t, url).Migrations(); len(m.Applied) != 0 || m.Upgrade() != "" {
		t.Fatalf("reopened: %+v", m)
	}
}

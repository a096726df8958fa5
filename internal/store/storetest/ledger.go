package storetest

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/ledger"
	"github.com/candor/candor/internal/store"
)

// SQL gives the suite direct access to a store's database, as someone
// with database access has: exec runs each statement in turn, with the
// append-only triggers (the ledger's and the documents') first disabled
// when bypass is set. The statements
// are plain SQL that both backends read alike. Without it the tampering
// checks are skipped.
func SQL(exec func(t *testing.T, s store.Store, bypass bool, stmts ...string) error) Option {
	return func(o *options) { o.sql = exec }
}

// testKey signs the suite's ledgers; otherKey is a key the verifier does
// not trust.
var testKey, otherKey = ed25519.NewKeyFromSeed(make([]byte, 32)), ed25519.NewKeyFromSeed([]byte(strings.Repeat("x", 32)))

func trusted() ledger.VerifyOptions {
	return ledger.VerifyOptions{Keys: []ed25519.PublicKey{testKey.Public().(ed25519.PublicKey)}}
}

// sealed installs the test key's sealer on s and returns s.
func sealed(s store.Store) store.Store {
	s.SetSealer(ledger.NewSealer(testKey))
	return s
}

func appendEntry(t *testing.T, s store.Store, n int) store.LedgerRow {
	t.Helper()
	row, err := ledger.Append(context.Background(), s, ledger.TypeRecords, map[string]any{"n": n}, map[string]any{"by": fmt.Sprintf("user:u%d@example.com", n)})
	if err != nil {
		t.Fatalf("Append %d: %v", n, err)
	}
	return row
}

func ledgerRows(t *testing.T, s store.Store) []store.LedgerRow {
	t.Helper()
	var out []store.LedgerRow
	if err := s.LedgerScan(context.Background(), 1, 0, func(r store.LedgerRow) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// verify checks the ledger and returns the first broken entry (nil when
// intact).
func verify(t *testing.T, s store.Store, head string) *ledger.Broken {
	t.Helper()
	opt := trusted()
	opt.Head = head
	rep, err := ledger.Verify(context.Background(), s, opt)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep.Broken
}

func intact(t *testing.T, s store.Store, want int64) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), s, trusted())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Broken != nil || rep.Entries != want {
		t.Fatalf("Verify: %d entries, broken %v; want %d intact", rep.Entries, rep.Broken, want)
	}
}

// hashedTicket is a ticket whose hash is its body's SHA-256, as the
// ingest stores it.
func hashedTicket(id, body string) store.Item {
	it := item(domain.KindTicket, "import", id, body, time.Now())
	sum := sha256.Sum256(it.Body)
	it.Hash = hex.EncodeToString(sum[:])
	return it
}

// readCounter counts the records its store hands out by its scans.
type readCounter struct {
	store.Store
	n int
}

func (c *readCounter) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	return c.Store.Scan(ctx, after, c.counted(fn))
}

func (c *readCounter) ScanIngestedBefore(ctx context.Context, t time.Time, fn func(store.Stored) error) error {
	return c.Store.ScanIngestedBefore(ctx, t, c.counted(fn))
}

func (c *readCounter) counted(fn func(store.Stored) error) func(store.Stored) error {
	return func(r store.Stored) error {
		c.n++
		return fn(r)
	}
}

// runLedger is the contract of the audit ledger (store.LedgerStore and
// Batch.Record).
func runLedger(t *testing.T, open Factory, o options) {
	ctx := context.Background()

	t.Run("LedgerAppendScanHead", func(t *testing.T) {
		s := open(t)
		if _, err := s.AppendLedger(ctx, store.LedgerEntry{Type: ledger.TypeRecords, Data: []byte(`{}`)}); !errors.Is(err, store.ErrNoSealer) {
			t.Fatalf("AppendLedger without a sealer: %v, want ErrNoSealer", err)
		}
		if h, err := s.LedgerHead(ctx); err != nil || h != (store.LedgerHead{}) {
			t.Fatalf("empty ledger head = %+v, %v", h, err)
		}
		if last, err := s.LedgerLast(ctx); err != nil || !reflect.DeepEqual(last, store.LedgerRow{}) {
			t.Fatalf("empty ledger's last row = %+v, %v; want the zero row", last, err)
		}
		sealed(s)
		before := time.Now()
		var appended []store.LedgerRow
		for i := 1; i <= 3; i++ {
			appended = append(appended, appendEntry(t, s, i))
		}
		rows := ledgerRows(t, s)
		if len(rows) != 3 {
			t.Fatalf("%d rows, want 3", len(rows))
		}
		for i, r := range rows {
			w := appended[i]
			if r.Seq != int64(i+1) || r.Hash != w.Hash || r.Prev != w.Prev || r.Sig != w.Sig || !r.At.Equal(w.At) ||
				string(r.Data) != string(w.Data) || string(r.Personal) != string(w.Personal) || r.Salt != w.Salt || r.PersonalDigest != w.PersonalDigest {
				t.Errorf("row %d as stored %+v\nas appended %+v", i+1, r, w)
			}
			if i > 0 && r.Prev != rows[i-1].Hash {
				t.Errorf("row %d does not carry the hash of row %d", r.Seq, i)
			}
			if r.At.Location() != time.UTC || r.At.Before(before.Add(-time.Minute)) {
				t.Errorf("row %d at %v, want about now in UTC", r.Seq, r.At)
			}
		}
		if h, _ := s.LedgerHead(ctx); h != (store.LedgerHead{Seq: 3, Hash: rows[2].Hash}) {
			t.Errorf("head = %+v, want 3 and the last hash", h)
		}
		if last, err := s.LedgerLast(ctx); err != nil || !reflect.DeepEqual(last, rows[2]) {
			t.Errorf("LedgerLast = %+v, %v; want the last row as scanned, %+v", last, err, rows[2])
		}
		var some []int64
		s.LedgerScan(ctx, 2, 2, func(r store.LedgerRow) error { some = append(some, r.Seq); return nil })
		if len(some) != 1 || some[0] != 2 {
			t.Errorf("scan 2..2 = %v", some)
		}
		first, last, err := s.LedgerSeqs(ctx, rows[1].At, time.Time{})
		if err != nil || first > 2 || last != 3 {
			t.Errorf("seqs from row 2's time = %d..%d (%v), want ≤2..3", first, last, err)
		}
		if first, last, _ := s.LedgerSeqs(ctx, time.Now().Add(time.Hour), time.Time{}); first <= last {
			t.Errorf("seqs from the future = %d..%d, want an empty range", first, last)
		}
		intact(t, s, 3)
		// The rows of one type, within the bounds, as LedgerScan gives them.
		if _, err := ledger.Append(ctx, s, ledger.TypeRetention, map[string]any{"n": 4}, nil); err != nil {
			t.Fatal(err)
		}
		appendEntry(t, s, 5)
		var typed []store.LedgerRow
		collect := func(r store.LedgerRow) error { typed = append(typed, r); return nil }
		if err := s.LedgerScanType(ctx, ledger.TypeRecords, 2, 0, collect); err != nil || len(typed) != 3 || typed[0].Seq != 2 || typed[1].Seq != 3 || typed[2].Seq != 5 || !reflect.DeepEqual(typed[0], rows[1]) {
			t.Errorf("records rows from 2 = %+v, %v; want 2, 3 and 5 as LedgerScan gives them", typed, err)
		}
		typed = nil
		if err := s.LedgerScanType(ctx, ledger.TypeRetention, 1, 3, collect); err != nil || len(typed) != 0 {
			t.Errorf("retention rows 1..3 = %+v, %v; want none", typed, err)
		}
		if err := s.LedgerScanType(ctx, ledger.TypeRetention, 1, 0, collect); err != nil || len(typed) != 1 || typed[0].Seq != 4 {
			t.Errorf("retention rows = %+v, %v; want 4", typed, err)
		}
	})

	t.Run("LedgerEntryCommitsWithBatch", func(t *testing.T) {
		s := sealed(open(t))
		entry, _ := ledger.Entry(ledger.TypeRecords, map[string]any{"batch": 1}, nil)
		t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		b, err := s.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Add(ctx, []store.Item{item(domain.KindTicket, "import", "t1", `{"v":1}`, t0)}); err != nil {
			t.Fatal(err)
		}
		b.Record(entry)
		if err := b.Rollback(); err != nil {
			t.Fatal(err)
		}
		if rows := ledgerRows(t, s); len(rows) != 0 {
			t.Fatalf("a rolled-back batch left %d ledger entries", len(rows))
		}
		for _, each := range []bool{false, true} {
			b, err := s.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			b.Record(entry)
			lists := [][]store.Item{{item(domain.KindTicket, "import", fmt.Sprint("t", each), `{"v":1}`, t0)}}
			if each {
				// Group commit's one step must take the entries along too.
				_, err = store.CommitEach(ctx, b, lists)
			} else if _, err = b.AddEach(ctx, lists); err == nil {
				err = b.Commit()
			}
			if err != nil {
				b.Rollback()
				t.Fatal(err)
			}
		}
		rows := ledgerRows(t, s)
		if len(rows) != 2 || string(rows[0].Data) != `{"batch":1}` || rows[1].Type != ledger.TypeRecords {
			t.Fatalf("ledger after two committed batches: %+v", rows)
		}
		if recs, _ := scanAll(t, s, 0); len(recs) != 2 {
			t.Fatalf("%d records, want 2", len(recs))
		}
		// A batch without a sealer writes its records and no entry.
		plain := open(t)
		b, _ = plain.Begin(ctx)
		b.Add(ctx, []store.Item{item(domain.KindTicket, "import", "t1", `{"v":1}`, t0)})
		b.Record(entry)
		if err := b.Commit(); err != nil {
			t.Fatal(err)
		}
		if h, _ := plain.LedgerHead(ctx); h.Seq != 0 {
			t.Errorf("a store without a sealer kept ledger entry %d", h.Seq)
		}
		intact(t, s, 2)
	})

	t.Run("LedgerChainsAccessEvents", func(t *testing.T) {
		s := sealed(open(t))
		ev := `{"type":"sign_in_failed","at":"2026-03-01T00:00:00Z","subject":"user:a@example.com","client":"192.0.2.1","reason":"wrong_password"}`
		d := appendDoc(t, s, store.AccessCollection, ev)
		appendDoc(t, s, "reconciliation", `{"n":1}`) // not a chained collection
		u, err := s.CreateUser(ctx, store.User{Email: "b@example.com", Roles: []string{"auditor"}, PasswordHash: "x", CreatedAt: time.Now()},
			[]byte(`{"type":"user_created","actor":"cli:root","subject":"user:b@example.com","roles":["auditor"]}`))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetUserRoles(ctx, u.ID, []string{"executive"}, []byte(`{"type":"roles_changed","actor":"cli:root","subject":"user:b@example.com","roles":["executive"],"roles_before":["auditor"]}`)); err != nil {
			t.Fatal(err)
		}
		rows := ledgerRows(t, s)
		if len(rows) != 3 {
			t.Fatalf("%d ledger entries, want one per access event (3)", len(rows))
		}
		var data, personal map[string]any
		json.Unmarshal(rows[0].Data, &data)
		json.Unmarshal(rows[0].Personal, &personal)
		if rows[0].Type != ledger.TypeAccess || data["doc"] != float64(d.ID) || data["type"] != "sign_in_failed" || data["reason"] != "wrong_password" ||
			personal["subject"] != "user:a@example.com" || personal["client"] != "192.0.2.1" || data["subject"] != nil {
			t.Errorf("access entry data %s personal %s", rows[0].Data, rows[0].Personal)
		}
		if !strings.Contains(string(rows[2].Data), `"roles_before":["auditor"]`) {
			t.Errorf("role change entry %s", rows[2].Data)
		}
		// An append refused by its key leaves no entry.
		if _, created, _ := s.AppendDocOnce(ctx, store.AccessCollection, "k", []byte(`{"type":"x"}`)); !created {
			t.Fatal("first keyed append not created")
		}
		if _, created, _ := s.AppendDocOnce(ctx, store.AccessCollection, "k", []byte(`{"type":"y"}`)); created {
			t.Fatal("second keyed append created")
		}
		intact(t, s, 4)
	})

	t.Run("LedgerConcurrentAppendsKeepOneChain", func(t *testing.T) {
		s := sealed(open(t))
		handles := []store.Store{s}
		if o.share != nil {
			handles = append(handles, sealed(o.share(t, s)))
		}
		const writers, each = 4, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*len(handles))
		for h, st := range handles {
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range each {
						var err error
						switch i % 3 {
						case 0:
							_, err = ledger.Append(ctx, st, ledger.TypeRecords, map[string]any{"h": h, "w": w, "i": i}, nil)
						case 1:
							_, err = st.AppendDoc(ctx, store.AccessCollection, []byte(fmt.Sprintf(`{"type":"sign_in","subject":"user:%d-%d-%d"}`, h, w, i)))
						default:
							var b store.Batch
							if b, err = st.Begin(ctx); err == nil {
								e, _ := ledger.Entry(ledger.TypeRecords, map[string]any{"batch": fmt.Sprint(h, w, i)}, nil)
								b.Record(e)
								// Every other batch writes as a group commit
								// does (PostgreSQL then reads the ledger's
								// head with that first write).
								items := []store.Item{item(domain.KindTicket, "x", fmt.Sprint(h, w, i), `{}`, time.Time{})}
								if i%2 == 0 {
									_, err = b.Add(ctx, items)
								} else {
									store.CommitsNext(b)
									_, err = b.AddEach(ctx, [][]store.Item{items})
								}
								if err == nil {
									err = b.Commit()
								} else {
									b.Rollback()
								}
							}
						}
						if err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		total := int64(writers * each * len(handles))
		if h, _ := s.LedgerHead(ctx); h.Seq != total {
			t.Fatalf("head at %d after %d appends", h.Seq, total)
		}
		intact(t, s, total)
	})

	t.Run("LedgerAppendOnly", func(t *testing.T) {
		if o.sql == nil {
			t.Skip("no SQL access to this store")
		}
		s := sealed(open(t))
		for i := 1; i <= 3; i++ {
			appendEntry(t, s, i)
		}
		for _, stmt := range []string{`UPDATE ledger SET data = '{"n":9}' WHERE seq = 2`, `DELETE FROM ledger WHERE seq = 3`, `UPDATE ledger SET personal = '{"by":"x"}' WHERE seq = 1`} {
			if err := o.sql(t, s, false, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v, want refused as append-only", stmt, err)
			}
		}
		// Erasing personal data is the one change allowed, and the chain
		// still verifies (retention, SPEC §5).
		if err := o.sql(t, s, false, `UPDATE ledger SET personal = NULL, salt = NULL WHERE seq = 2`); err != nil {
			t.Fatalf("erasing personal data: %v", err)
		}
		rows := ledgerRows(t, s)
		if rows[1].Personal != nil || rows[1].PersonalDigest == "" {
			t.Errorf("erased row: personal %s digest %q", rows[1].Personal, rows[1].PersonalDigest)
		}
		intact(t, s, 3)
	})

	// Each backend hands back a record's body as the bytes its hash was
	// taken over (SQLite's BLOB, PostgreSQL's bytea), so VerifyRecords
	// finds none altered; one whose stored hash no longer fits its body
	// is named.
	t.Run("RecordBodiesAgainstTheirHashes", func(t *testing.T) {
		s := open(t)
		var items []store.Item
		for i, body := range []string{`{"v":1}`, `{"v":2,"s":"é"}`, `{"v":3}`} {
			items = append(items, hashedTicket(fmt.Sprintf("t%d", i), body))
		}
		if _, err := store.Put(ctx, s, items); err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.VerifyRecords(ctx, s); err != nil || rep.Checked != 3 || rep.Altered != 0 {
			t.Fatalf("VerifyRecords = %+v, %v; want 3 checked, none altered", rep, err)
		}
		if o.sql == nil {
			return
		}
		if err := o.sql(t, s, false, `UPDATE records SET hash = '`+strings.Repeat("0", 64)+`' WHERE id = 't1'`); err != nil {
			t.Fatal(err)
		}
		rep, err := ledger.VerifyRecords(ctx, s)
		if err != nil || rep.Altered != 1 || len(rep.First) != 1 || rep.First[0].ID != "t1" || rep.First[0].Kind != domain.KindTicket {
			t.Fatalf("VerifyRecords after a hash was changed = %+v, %v; want t1 named", rep, err)
		}
	})

	// An evidence pack checks the records its period's end had, and only
	// those: the records ingested after the end are not read (the store
	// picks those before it), so one tampered with after the end leaves
	// the period's check as it was, and one before it is named.
	t.Run("RecordsVerifiedBeforeAnEnd", func(t *testing.T) {
		s := open(t)
		putIngested(t, s, hashedTicket("t1", `{"v":1}`), hashedTicket("t2", `{"v":2}`))
		end := time.Now()
		putIngested(t, s, hashedTicket("t3", `{"v":3}`))
		reads := &readCounter{Store: s}
		if rep, err := ledger.VerifyRecordsBefore(ctx, reads, end); err != nil || rep.Checked != 2 || rep.Altered != 0 || reads.n != 2 {
			t.Fatalf("VerifyRecordsBefore = %+v, %v, %d records read; want 2 checked of 2 read, none altered", rep, err, reads.n)
		}
		if o.sql == nil {
			return
		}
		zeros := strings.Repeat("0", 64)
		if err := o.sql(t, s, false, `UPDATE records SET hash = '`+zeros+`' WHERE id = 't3'`); err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.VerifyRecordsBefore(ctx, s, end); err != nil || rep.Checked != 2 || rep.Altered != 0 {
			t.Fatalf("VerifyRecordsBefore with a record after the end altered = %+v, %v; want 2 checked, none altered", rep, err)
		}
		if err := o.sql(t, s, false, `UPDATE records SET hash = '`+zeros+`' WHERE id = 't1'`); err != nil {
			t.Fatal(err)
		}
		rep, err := ledger.VerifyRecordsBefore(ctx, s, end)
		if err != nil || rep.Checked != 2 || rep.Altered != 1 || len(rep.First) != 1 || rep.First[0].ID != "t1" {
			t.Fatalf("VerifyRecordsBefore with a record before the end altered = %+v, %v; want t1 named", rep, err)
		}
	})

	t.Run("LedgerTamperingIsCaught", func(t *testing.T) {
		if o.sql == nil {
			t.Skip("no SQL access to this store")
		}
		const n = 6
		// build makes a fresh ledger of n entries and returns it with its
		// rows and published head.
		build := func(t *testing.T) (store.Store, []store.LedgerRow, string) {
			s := sealed(open(t))
			for i := 1; i <= n; i++ {
				appendEntry(t, s, i)
			}
			h, _ := s.LedgerHead(ctx)
			return s, ledgerRows(t, s), ledger.FormatHead(h)
		}
		// forged is row r rewritten by someone without the key: content
		// and chain hash recomputed, the signature made with another key.
		forged := func(r store.LedgerRow, data string) store.LedgerRow {
			r.Data = []byte(data)
			r.Hash, _ = ledger.Hash(r)
			other := ledger.NewSealer(otherKey)
			re, _ := other.Seal(store.LedgerHead{Seq: r.Seq - 1, Hash: r.Prev}, r.At, []store.LedgerEntry{{Type: r.Type, Data: r.Data}})
			r.Sig, r.KeyID = re[0].Sig, re[0].KeyID
			return r
		}
		insert := func(r store.LedgerRow, keyID, sig string) string {
			return fmt.Sprintf(`INSERT INTO ledger (seq, at, type, data, personal, salt, personal_digest, prev, hash, key_id, sig) VALUES (%d, %d, '%s', '%s', NULL, NULL, '', '%s', '%s', '%s', '%s')`,
				r.Seq, r.At.UnixNano(), r.Type, r.Data, r.Prev, r.Hash, keyID, sig)
		}
		cases := []struct {
			name  string
			stmts func(rows []store.LedgerRow) []string
			seq   int64
			why   string
		}{
			{"altered", func([]store.LedgerRow) []string {
				return []string{`UPDATE ledger SET data = '{"n":300}' WHERE seq = 3`}
			}, 3, "altered"},
			{"altered personal data", func([]store.LedgerRow) []string {
				return []string{`UPDATE ledger SET personal = '{"by":"user:someone-else@example.com"}' WHERE seq = 4`}
			}, 4, "personal data"},
			{"removed", func([]store.LedgerRow) []string {
				return []string{`DELETE FROM ledger WHERE seq = 3`}
			}, 3, "missing"},
			{"removed first", func([]store.LedgerRow) []string {
				return []string{`DELETE FROM ledger WHERE seq = 1`}
			}, 1, "missing"},
			{"inserted", func(rows []store.LedgerRow) []string {
				// Entries 3… move up one and a forged entry takes 3, carrying
				// entry 2's hash and a recomputed hash of its own.
				f := forged(store.LedgerRow{Seq: 3, At: rows[2].At, Type: ledger.TypeRecords, Prev: rows[1].Hash}, `{"n":"forged"}`)
				return []string{`UPDATE ledger SET seq = seq + 1000000 WHERE seq >= 3`, `UPDATE ledger SET seq = seq - 999999 WHERE seq >= 1000000`, insert(f, f.KeyID, f.Sig)}
			}, 3, "not a trusted ledger key"},
			{"inserted with a copied signature", func(rows []store.LedgerRow) []string {
				f := forged(store.LedgerRow{Seq: n + 1, At: rows[n-1].At, Type: ledger.TypeRecords, Prev: rows[n-1].Hash}, `{"n":"forged"}`)
				return []string{insert(f, rows[n-1].KeyID, rows[n-1].Sig)}
			}, n + 1, "signature does not verify"},
			{"reordered", func([]store.LedgerRow) []string {
				return []string{`UPDATE ledger SET seq = -1 WHERE seq = 2`, `UPDATE ledger SET seq = 2 WHERE seq = 3`, `UPDATE ledger SET seq = 3 WHERE seq = -1`}
			}, 2, "does not follow entry 1"},
			{"chain recomputed without the key", func(rows []store.LedgerRow) []string {
				// Entry 4 altered and every hash from it on recomputed, so the
				// chain alone holds; the old signatures no longer match.
				var stmts []string
				prev := rows[2].Hash
				for _, r := range rows[3:] {
					r.Prev = prev
					if r.Seq == 4 {
						r.Data = []byte(`{"n":4000}`)
					}
					r.Hash, _ = ledger.Hash(r)
					prev = r.Hash
					stmts = append(stmts, fmt.Sprintf(`UPDATE ledger SET data = '%s', prev = '%s', hash = '%s' WHERE seq = %d`, r.Data, r.Prev, r.Hash, r.Seq))
				}
				return stmts
			}, 4, "signature does not verify"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s, rows, _ := build(t)
				if err := o.sql(t, s, true, c.stmts(rows)...); err != nil {
					t.Fatalf("tampering: %v", err)
				}
				b := verify(t, s, "")
				if b == nil || b.Seq != c.seq || !strings.Contains(b.Reason, c.why) {
					t.Fatalf("Verify = %v, want entry %d broken (%s)", b, c.seq, c.why)
				}
			})
		}

		t.Run("tail cut", func(t *testing.T) {
			s, _, head := build(t)
			if err := o.sql(t, s, true, `DELETE FROM ledger WHERE seq > 4`); err != nil {
				t.Fatal(err)
			}
			if b := verify(t, s, ""); b != nil {
				t.Fatalf("without a published head a cut tail cannot show, yet Verify = %v", b)
			}
			for _, h := range []string{head, strings.SplitN(head, ":", 2)[1]} {
				if b := verify(t, s, h); b == nil || b.Seq != 5 || !strings.Contains(b.Reason, "cut from its end") {
					t.Errorf("Verify --head %s = %v, want entry 5 missing", h, b)
				}
			}
			// Cut and appended to again: the published position holds
			// another entry.
			appendEntry(t, s, 50)
			appendEntry(t, s, 51)
			if b := verify(t, s, head); b == nil || b.Seq != n || !strings.Contains(b.Reason, "differs from the published head") {
				t.Errorf("Verify --head after a cut and new appends = %v, want entry %d", b, n)
			}
		})
		t.Run("rewritten and re-signed with the key", func(t *testing.T) {
			// Entry 3 altered and every entry from it re-chained and signed
			// with the ledger key: each verifies, only the published head
			// shows it, and nothing says the ledger was cut.
			s, rows, head := build(t)
			var stmts []string
			prev := rows[1].Hash
			for _, r := range rows[2:] {
				if r.Seq == 3 {
					r.Data = []byte(`{"n":3000}`)
				}
				r.Prev = prev
				r.Hash, _ = ledger.Hash(r)
				sum, _ := hex.DecodeString(r.Hash)
				r.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(testKey, sum))
				prev = r.Hash
				stmts = append(stmts, fmt.Sprintf(`UPDATE ledger SET data = '%s', prev = '%s', hash = '%s', sig = '%s' WHERE seq = %d`, r.Data, r.Prev, r.Hash, r.Sig, r.Seq))
			}
			if err := o.sql(t, s, true, stmts...); err != nil {
				t.Fatalf("tampering: %v", err)
			}
			if b := verify(t, s, ""); b != nil {
				t.Fatalf("re-signed with the key, every entry verifies by itself, yet Verify = %v", b)
			}
			b := verify(t, s, head)
			if b == nil || b.Seq != n || !strings.Contains(b.Reason, fmt.Sprintf("entry %d no longer has the published hash", n)) ||
				!strings.Contains(b.Reason, fmt.Sprintf("rewritten at or before entry %d", n)) || strings.HasPrefix(b.Reason, "differs from the published head: the ledger was cut") {
				t.Errorf("Verify --head of a ledger rewritten with the key = %v, want entry %d no longer the published one, rewritten at or before it", b, n)
			}
		})
		t.Run("untouched", func(t *testing.T) {
			s, _, head := build(t)
			if b := verify(t, s, head); b != nil {
				t.Fatalf("untouched ledger: %v", b)
			}
			if rep, _ := ledger.Verify(ctx, s, ledger.VerifyOptions{Keys: []ed25519.PublicKey{otherKey.Public().(ed25519.PublicKey)}}); rep.Broken == nil || rep.Broken.Seq != 1 {
				t.Fatalf("verified with a key that signed nothing: %v", rep.Broken)
			}
		})
	})
}

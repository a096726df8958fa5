package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/candor/candor/internal/engine"
	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/ingest"
	"github.com/candor/candor/internal/metrics"
	"github.com/candor/candor/internal/store"
)

// scanCounter is a store that notes the lowest sequence a scan handed out,
// to show that a start from an image read only the rows after it.
type scanCounter struct {
	store.Store
	mu     sync.Mutex
	lowest int64
}

func (s *scanCounter) Scan(ctx context.Context, after int64, fn func(store.Stored) error) (int64, error) {
	return s.Store.Scan(ctx, after, func(r store.Stored) error {
		s.mu.Lock()
		if s.lowest == 0 || r.Seq < s.lowest {
			s.lowest = r.Seq
		}
		s.mu.Unlock()
		return fn(r)
	})
}

// A process started from the image plus the store's newer rows serves
// byte for byte what a process started from the store alone serves — the
// scorecard, drill-downs with every row and the data sources report —
// with images written at random cut points, records corrected and rows
// corrupted in the database after the image (and before it), under the
// default settings and with other production environment names; and an
// image that is damaged, truncated, deleted or of another store is
// ignored with one log line, the store read whole, and the result the
// same.
func TestImageStartMatchesStoreByteForByte(t *testing.T) {
	ctx := context.Background()
	st, raw, cat, end, lines := differentialSetup(t, 4)
	rng := rand.New(rand.NewPCG(9, 2))
	path := filepath.Join(t.TempDir(), "candor.image")
	writer := engine.New(st, metrics.DefaultConfig())
	writer.Image = path

	other := metrics.DefaultConfig()
	other.ProductionNames = []string{"production", "staging"}
	configs := map[string]metrics.Config{"default": metrics.DefaultConfig(), "production_environments": other}

	// start compares a process started with the image at path against one
	// started from the store, under each configuration, and returns what
	// the image-started one logged.
	// damagedState: a state whose header passes and whose sections do not
	// is refused after the rows after its sequence were read ahead for it
	// (prefetchAfter), which may lie at or below the image's.
	damagedState := false
	start := func(label string, wantUsed, wantState bool) string {
		t.Helper()
		var logs bytes.Buffer
		for name, cfg := range configs {
			sc := &scanCounter{Store: st}
			e := engine.New(sc, cfg)
			e.Image = path
			// Rows read ahead while the state is read: bounded short of
			// the newer rows, at times (the rest read after).
			e.SetPrefetchRows(1 + rng.IntN(200))
			e.Log = slog.New(slog.NewTextHandler(&logs, nil))
			fresh := engine.New(st, cfg)
			got, want := engineView(t, cat, end, e), engineView(t, cat, end, fresh)
			if got != want {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("%s, %s settings: the start from the image differs from the store at byte %d:\n…%s\nstore:\n…%s", label, name,
					i, got[max(0, i-300):min(len(got), i+200)], want[max(0, i-300):min(len(want), i+200)])
			}
			s := e.Status()
			if s.Quarantined != fresh.Status().Quarantined || s.Published != fresh.Status().Published {
				t.Fatalf("%s: status %+v, from the store %+v", label, s, fresh.Status())
			}
			if s.Image == nil || s.Image.Used != wantUsed {
				t.Fatalf("%s: image status %+v, want used=%v", label, s.Image, wantUsed)
			}
			// The dataset's state is of the default settings only.
			if s.Image.DatasetUsed != (wantState && name == "default") {
				t.Fatalf("%s, %s settings: dataset state used=%v (%q), want %v", label, name, s.Image.DatasetUsed, s.Image.DatasetIgnored, wantState && name == "default")
			}
			if wantUsed && !damagedState && sc.lowest != 0 && sc.lowest <= s.Image.StartSeq {
				t.Fatalf("%s: started from the image of sequence %d yet read row %d from the store", label, s.Image.StartSeq, sc.lowest)
			}
		}
		return logs.String()
	}
	importText := func(text string) {
		t.Helper()
		if _, err := ingest.Import(ctx, st, []ingest.Source{{Name: "d.ndjson", Reader: strings.NewReader(text)}}, ingest.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	change := func(to int) {
		t.Helper()
		// Corrections: earlier records sent again with a field changed.
		var fixes []string
		for range 20 {
			l := lines[rng.IntN(to)]
			for _, swap := range [][2]string{{`"status":"success"`, `"status":"failure"`}, {`"priority":"high"`, `"priority":"low"`}, {`"severity":"P3"`, `"severity":"P1"`}, {`"status":"failure"`, `"status":"success"`}} {
				l = strings.Replace(l, swap[0], swap[1], 1)
			}
			fixes = append(fixes, l)
		}
		importText(strings.Join(fixes, "\n"))
		// A row corrupted in the database (quarantined), and one corrupted
		// earlier written good again.
		var id string
		if err := raw.QueryRow(`SELECT id FROM records WHERE kind <> 'service' GROUP BY id HAVING count(*) = 1 ORDER BY random() LIMIT 1`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec(`UPDATE records SET body = x'7b226964223a', seq = (SELECT max(seq) FROM records) + 1 WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		var bad string
		if err := raw.QueryRow(`SELECT id FROM records WHERE body = x'7b226964223a' ORDER BY random() LIMIT 1`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if rng.IntN(2) == 0 {
			if _, err := raw.Exec(`UPDATE records SET hash = 'rewrite' WHERE id = ?`, bad); err != nil {
				t.Fatal(err)
			}
			var again []string
			for _, l := range lines[:to] {
				if strings.Contains(l, fmt.Sprintf(`"id":%q`, bad)) {
					again = append(again, l)
				}
			}
			importText(strings.Join(again, "\n"))
		}
	}

	written := int64(0)
	state := false
	statePath := strings.TrimSuffix(path, ".image") + ".dataset"
	for from, round := 0, 0; from < len(lines); round++ {
		to := min(len(lines), from+1+rng.IntN(len(lines)/3))
		cut := from + rng.IntN(to-from+1)
		importText(strings.Join(lines[from:cut], "\n"))
		change(max(cut, 1))
		if round == 0 || rng.IntN(3) > 0 {
			// A writer holding the store's rows writes its dataset's state
			// too; one that has not read them since writes the rows alone,
			// and the state on disk is an older one.
			fresh := rng.IntN(3) > 0
			if fresh {
				if err := writer.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
			seq, err := writer.WriteImage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if seq <= written {
				t.Fatalf("round %d: image of sequence %d after one of %d", round, seq, written)
			}
			// Written from the previous image and the rows since.
			if from := writer.Status().Image.From; from != written {
				t.Fatalf("round %d: image written from sequence %d, want the previous image's %d", round, from, written)
			}
			written = seq
			if fresh {
				if ds := writer.Status().Image.DatasetSeq; ds != seq {
					t.Fatalf("round %d: dataset state of sequence %d beside the image of %d", round, ds, seq)
				}
				state = true
			}
		}
		// Newer rows than the image: the rest of the round, corrections
		// and corruptions of rows the image holds.
		if cut < to {
			importText(strings.Join(lines[cut:to], "\n"))
		}
		change(to)
		start(fmt.Sprintf("round %d (image at %d, state %v)", round, written, state), true, state)
		from = to
	}

	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) func() {
		return func() {
			b := append([]byte(nil), good...)
			b[at] ^= 0x04
			os.WriteFile(path, b, 0o644)
		}
	}
	otherStore := func() {
		dir2 := t.TempDir()
		st2 := open(t, dir2)
		importLines(t, st2, lines[:50]...)
		e := engine.New(st2, metrics.DefaultConfig())
		e.Image = path
		if _, err := e.WriteImage(ctx); err != nil {
			t.Fatal(err)
		}
	}
	goodState, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	// A damaged state: the start reads the image of the rows instead, and
	// says why once.
	for _, c := range []struct {
		name, reason string
		do           func()
	}{
		{"a bit flipped in the state's header", "checksum", func() {
			b := slices.Clone(goodState)
			b[len(b)-30] ^= 0x04
			os.WriteFile(statePath, b, 0o644)
		}},
		{"a bit flipped in the state", "checksum", func() {
			b := slices.Clone(goodState)
			b[4096+100] ^= 0x04
			os.WriteFile(statePath, b, 0o644)
		}},
		{"the state truncated", "truncated", func() { os.WriteFile(statePath, goodState[:len(goodState)/2], 0o644) }},
		{"the rows image as the state", "records differ", func() { os.WriteFile(statePath, good, 0o644) }},
	} {
		c.do()
		damagedState = c.reason == "checksum"
		logs := start(c.name, true, false)
		damagedState = false
		// Under the other settings the header refuses it before any
		// section is checked: the reason is named under the default.
		if n := strings.Count(logs, "dataset state ignored"); n != len(configs) || strings.Count(logs, c.reason) < 1 {
			t.Errorf("%s: want one line a start naming %q, logged:\n%s", c.name, c.reason, logs)
		}
	}
	// A damaged image of the rows, no state beside it.
	os.Remove(statePath)
	for _, c := range []struct {
		name, reason string
		do           func()
	}{
		{"a bit flipped in the header", "checksum", flip(len(good) - 30)},
		{"a bit flipped in the rows", "checksum", flip(4096 + 100)},
		{"truncated", "truncated", func() { os.WriteFile(path, good[:len(good)/2], 0o644) }},
		{"not an image", "not an image", func() { os.WriteFile(path, []byte("hello"), 0o644) }},
		{"another store's", "another store", otherStore},
		{"deleted", "no dataset image yet", func() { os.Remove(path) }},
	} {
		c.do()
		logs := start(c.name, false, false)
		var lines []string
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, "image") {
				lines = append(lines, l)
			}
		}
		if n := strings.Count(strings.Join(lines, "\n"), c.reason); n != len(configs) || len(lines) != len(configs) {
			t.Errorf("%s: want one line a start naming %q, logged:\n%s", c.name, c.reason, logs)
		}
	}
	// Written again (from the whole store: the last one was deleted), it
	// is used again.
	if _, err := writer.WriteImage(ctx); err != nil {
		t.Fatal(err)
	}
	if from := writer.Status().Image.From; from != 0 {
		t.Fatalf("written from an image of sequence %d, though there was none", from)
	}
	start("written again", true, false)
	if err := writer.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.WriteImage(ctx); err != nil {
		t.Fatal(err)
	}
	start("written again with the state", true, true)
}

// A following engine keeps its image: it writes one soon after a start
// that had none, and writes again (from that one) once the published
// sequence moved and the period has passed.
func TestKeepImageWritesAfterStartAndWhenDataMoves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t, t.TempDir())
	importLines(t, st, dep("k1", "success"))
	e := engine.New(st, metrics.DefaultConfig())
	e.Image = filepath.Join(t.TempDir(), "candor.image")
	e.SetImageCheck(5 * time.Millisecond)
	e.Start(ctx)
	go e.KeepImage(ctx, 20*time.Millisecond)
	waitImage := func(seq int64, from int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := e.Status().Image
			if s.Seq == seq && s.From == from && s.Error == "" {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("image %+v, want sequence %d written from %d", s, seq, from)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	last, _ := st.LastSeq(ctx)
	waitImage(last, 0)
	importLines(t, st, dep("k2", "failure"))
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	prev := last
	last, _ = st.LastSeq(ctx)
	waitImage(last, prev)
}

// A start from a current image of the rows without a usable state (none
// yet, a damaged one, one of the build before an upgrade) writes the state
// soon, without waiting for new rows: else every start until then applies
// every row again.
func TestKeepImageWritesAMissingState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := open(t, t.TempDir())
	importLines(t, st, dep("k1", "success"), dep("k2", "failure"))
	path := filepath.Join(t.TempDir(), "candor.image")
	statePath := strings.TrimSuffix(path, ".image") + ".dataset"
	w := loadedWithImage(t, st, path)
	if _, err := w.WriteImage(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(statePath); err != nil {
		t.Fatalf("the image was written without its state: %v", err)
	}
	last, _ := st.LastSeq(ctx)
	e := engine.New(st, metrics.DefaultConfig())
	e.Image = path
	e.SetImageCheck(5 * time.Millisecond)
	e.Start(ctx)
	if err := e.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if s := e.Status().Image; !s.Used || s.DatasetUsed {
		t.Fatalf("start: %+v, want the rows image used and no state", s)
	}
	go e.KeepImage(ctx, time.Hour)
	deadline := time.Now().Add(20 * time.Second)
	for e.Status().Image.DatasetSeq != last {
		if time.Now().After(deadline) {
			t.Fatalf("no state written: %+v", e.Status().Image)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := e.Status().Image; s.Seq != last || s.From != 0 {
		t.Errorf("the image was written again (%+v): only the state was missing", s)
	}
	again := engine.New(st, metrics.DefaultConfig())
	again.Image = path
	if err := again.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s := again.Status().Image; !s.DatasetUsed || s.DatasetSeq != last {
		t.Errorf("the next start: %+v, want the state of sequence %d used", s, last)
	}
}

// A state that cannot be written (a full disk, here a directory in its
// place) leaves the rows image standing and says why in the status
// (/healthz), until a later write succeeds.
func TestStateWriteFailureIsShown(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	importLines(t, st, dep("k1", "success"), dep("k2", "failure"))
	path := filepath.Join(t.TempDir(), "candor.image")
	statePath := strings.TrimSuffix(path, ".image") + ".dataset"
	if err := os.MkdirAll(filepath.Join(statePath, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := loadedWithImage(t, st, path)
	last, _ := st.LastSeq(ctx)
	if _, err := w.WriteImage(ctx); err != nil {
		t.Fatalf("the rows image: %v", err)
	}
	s := w.Status().Image
	if s.Seq != last || !s.DatasetWritten.IsZero() || s.DatasetError == "" {
		t.Fatalf("status %+v: want the rows image written, the state not, and why", s)
	}
	if err := os.RemoveAll(statePath); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteState(ctx); err != nil {
		t.Fatal(err)
	}
	if s := w.Status().Image; s.DatasetSeq != last || s.DatasetError != "" {
		t.Fatalf("status after the state was written: %+v", s)
	}
}

// A state written again from a dataset read in place reads every array
// of its mapping; the pages that faulted in are given back, so a server
// writing its image holds what its readers use, not the whole file (at
// scale 10 a process started from its state went from ~0.7 to ~1.1 GB
// resident writing the next one, ~1.9 GB at the peak). Once the dataset
// is gone, so are the mapping's pages.
func TestStatePagesGivenBack(t *testing.T) {
	ctx := context.Background()
	st, path, end := storeWithState(t)
	e := loadedWithImage(t, st, path)
	m := e.StateMapping()
	if m == nil {
		t.Fatalf("the start did not read the state in place: %+v", e.Status().Image)
	}
	resident := func() (n, of int) {
		t.Helper()
		return residentPages(t, m)
	}
	compute := func() {
		e.Read(ctx, func(ds *metrics.Dataset) error {
			for _, id := range metrics.IDs() {
				ds.Compute(id, metrics.Query{AsOf: end, Window: 30 * 24 * time.Hour})
			}
			return nil
		})
	}
	before, pages := resident()
	if pages < 256 {
		t.Fatalf("a state of %d pages proves little", pages)
	}
	if _, err := e.WriteImage(ctx); err != nil {
		t.Fatal(err)
	}
	if s := e.Status().Image; s.DatasetSeq == 0 || s.DatasetError != "" {
		t.Fatalf("no state written: %+v", s)
	}
	if after, _ := resident(); after > before+pages/20 {
		t.Errorf("%d of %d pages resident after writing the state, %d before", after, pages, before)
	}
	// What the writing gave back stays in the page cache (Release): the
	// readers fault it back from memory, not the disk.
	if cached, err := m.Cached(); err != nil {
		t.Fatal(err)
	} else if n := trues(cached); n < pages*19/20 {
		t.Errorf("%d of %d pages in the page cache after writing the state, which read them all", n, pages)
	}
	compute()
	touched, _ := resident()
	if touched < 64 {
		t.Fatalf("computing touched %d pages of the mapping", touched)
	}
	// Pages the dataset wrote (its own copies: rows applied in place)
	// have nowhere to go without swap; the others go.
	gone := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC()
			n, _ := resident()
			if 4*n <= touched {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d pages still resident after %s", n, pages, what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	e = nil
	gone("the dataset went")

	// A settings change puts another dataset in the same world: the one
	// read in place goes, and so do its pages.
	e = loadedWithImage(t, st, path)
	if m = e.StateMapping(); m == nil {
		t.Fatalf("the start did not read the state in place: %+v", e.Status().Image)
	}
	compute()
	if touched, _ = resident(); touched < 64 {
		t.Fatalf("computing touched %d pages of the mapping", touched)
	}
	other := metrics.DefaultConfig()
	other.ProductionNames = []string{"production", "edge"}
	if err := e.SetEpochs(ctx, []engine.Epoch{{Config: other}}); err != nil {
		t.Fatal(err)
	}
	gone("a settings change replaced the dataset")
	compute() // the engine serves on
}

// A first load that used no state — every row of the store, or of the
// rows image — writes the state at once and goes on from it, read in
// place, instead of holding what it built in the heap: the views are
// those of a load from the store byte for byte, before and after newer
// rows, the next start uses that state, and a state that cannot be
// written leaves the heap's dataset serving, saying why. Below the
// threshold nothing is written.
func TestFirstLoadGoesOnFromItsState(t *testing.T) {
	ctx := context.Background()
	st, raw, cat, end, lines := differentialSetup(t, 6)
	importLines(t, st, lines...)
	// The last row quarantined (corrupted in the database): the state's
	// header names it all the same, and the next start finds it.
	if _, err := raw.Exec(`UPDATE records SET body = x'7b226964223a', seq = (SELECT max(seq) FROM records) + 1 WHERE id = (SELECT id FROM records WHERE kind = 'ticket' ORDER BY seq LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "candor.image")
	statePath := strings.TrimSuffix(path, ".image") + ".dataset"
	last, _ := st.LastSeq(ctx)

	few := engine.New(st, metrics.DefaultConfig())
	few.Image = path
	few.SetRebaseRows(last + 1)
	if err := few.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) || few.StateMapping() != nil {
		t.Fatalf("a load short of the threshold wrote a state (%v)", err)
	}

	e := engine.New(st, metrics.DefaultConfig())
	e.Image = path
	e.SetRebaseRows(1)
	fresh := engine.New(st, metrics.DefaultConfig())
	if got, want := engineView(t, cat, end, e), engineView(t, cat, end, fresh); got != want {
		t.Fatal("the load gone on from its state differs from the store")
	}
	if e.StateMapping() == nil {
		t.Fatalf("the load did not go on from its state: %+v", e.Status().Image)
	}
	if s := e.Status().Image; s.DatasetSeq != last || s.DatasetWritten.IsZero() || s.DatasetError != "" {
		t.Fatalf("status %+v, want the state of sequence %d written", s, last)
	}
	if q := e.Status().Quarantined; q == 0 || q != fresh.Status().Quarantined {
		t.Fatalf("%d rows quarantined, from the store %d", q, fresh.Status().Quarantined)
	}
	// Newer rows: corrections of old records and new ones.
	var more []string
	for _, l := range lines[:200] {
		more = append(more, strings.Replace(l, `"status":"success"`, `"status":"failure"`, 1))
	}
	more = append(more, dep("after-1", "failure"), dep("after-2", "success"))
	importLines(t, st, more...)
	if got, want := engineView(t, cat, end, e), engineView(t, cat, end, fresh); got != want {
		t.Fatal("after newer rows, the load gone on from its state differs from the store")
	}

	next := engine.New(st, metrics.DefaultConfig())
	next.Image = path
	if got, want := engineView(t, cat, end, next), engineView(t, cat, end, fresh); got != want {
		t.Fatal("the next start differs from the store")
	}
	if s := next.Status().Image; !s.DatasetUsed || s.DatasetSeq != last {
		t.Fatalf("the next start: %+v, want the state of sequence %d used", s, last)
	}

	// From the rows image alone (written by an engine that has not
	// loaded: no state beside it): holding every row, the state's header
	// is the image's; then with rows after it.
	for _, after := range []bool{false, true} {
		rowsOnly := filepath.Join(t.TempDir(), "candor.image")
		wr := engine.New(st, metrics.DefaultConfig())
		wr.Image = rowsOnly
		if _, err := wr.WriteImage(ctx); err != nil {
			t.Fatal(err)
		}
		if after {
			importLines(t, st, dep("after-3", "failure"))
		}
		ri := engine.New(st, metrics.DefaultConfig())
		ri.Image = rowsOnly
		ri.SetRebaseRows(1)
		if got, want := engineView(t, cat, end, ri), engineView(t, cat, end, fresh); got != want {
			t.Fatalf("rows after the image %v: the load from it gone on from its state differs from the store", after)
		}
		if s := ri.Status().Image; !s.Used || s.DatasetUsed || s.DatasetSeq == 0 || ri.StateMapping() == nil {
			t.Fatalf("rows after the image %v: status %+v, want the rows image used and the state written after it, in place", after, s)
		}
		again := engine.New(st, metrics.DefaultConfig())
		again.Image = rowsOnly
		if got, want := engineView(t, cat, end, again), engineView(t, cat, end, fresh); got != want || !again.Status().Image.DatasetUsed {
			t.Fatalf("rows after the image %v: the next start (%+v) differs from the store or did not use the state", after, again.Status().Image)
		}
	}

	// Another process renames an older state over the one just written
	// before it is read back: refused, the heap's dataset serves.
	older, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	importLines(t, st, dep("after-4", "success"))
	raced := filepath.Join(t.TempDir(), "candor.image")
	r := engine.New(st, metrics.DefaultConfig())
	r.Image = raced
	r.SetRebaseRows(1)
	r.SetRebaseCommitted(func() {
		if err := os.WriteFile(strings.TrimSuffix(raced, ".image")+".dataset", older, 0o600); err != nil {
			t.Error(err)
		}
	})
	if got, want := engineView(t, cat, end, r), engineView(t, cat, end, fresh); got != want {
		t.Fatal("a load whose state was replaced before its read-back differs from the store")
	}
	if s := r.Status().Image; r.StateMapping() != nil || !strings.Contains(s.DatasetError, "replaced") {
		t.Fatalf("status %+v: want the older state refused and why", s)
	}

	// A directory where the state goes: the load keeps its heap dataset.
	blocked := filepath.Join(t.TempDir(), "candor.image")
	if err := os.MkdirAll(filepath.Join(strings.TrimSuffix(blocked, ".image")+".dataset", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := engine.New(st, metrics.DefaultConfig())
	b.Image = blocked
	b.SetRebaseRows(1)
	if got, want := engineView(t, cat, end, b), engineView(t, cat, end, fresh); got != want {
		t.Fatal("a load whose state could not be written differs from the store")
	}
	if s := b.Status().Image; b.StateMapping() != nil || s.DatasetError == "" {
		t.Fatalf("status %+v: want the heap's dataset kept and why", s)
	}
}

// loadedWithImage returns an engine of st with the image at path, its
// first load done.
func loadedWithImage(t *testing.T, st store.Store, path string) *engine.Engine {
	t.Helper()
	e := engine.New(st, metrics.DefaultConfig())
	e.Image = path
	if err := e.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e
}

// An image written from the previous one leaves out the previous image's
// rows replaced since: each key once, in its newest version (a row kept
// twice would be applied twice, the later winning, so only a count shows
// it).
func TestImageFromThePreviousDropsReplacedRows(t *testing.T) {
	ctx := context.Background()
	st := open(t, t.TempDir())
	for i := range 5 {
		importLines(t, st, dep(fmt.Sprintf("r%d", i), "success"))
	}
	e := engine.New(st, metrics.DefaultConfig())
	e.Image = filepath.Join(t.TempDir(), "candor.image")
	first, err := e.WriteImage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	importLines(t, st, dep("r1", "failure"), dep("r3", "failure"), dep("r5", "success"))
	if _, err := e.WriteImage(ctx); err != nil {
		t.Fatal(err)
	}
	if s := e.Status().Image; s.From != first {
		t.Fatalf("image %+v, want it written from the one of sequence %d", s, first)
	}
	m, err := image.Read(e.Image)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	status := map[string][]string{}
	for _, s := range m.Sections {
		if s.Kind != image.SectionRows {
			continue
		}
		rows, err := image.DecodeRows(s.Data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			b, err := json.Marshal(r.Rec)
			if err != nil {
				t.Fatal(err)
			}
			var d struct{ ID, Status string }
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatal(err)
			}
			status[d.ID] = append(status[d.ID], d.Status)
		}
	}
	want := map[string][]string{"r0": {"success"}, "r1": {"failure"}, "r2": {"success"}, "r3": {"failure"}, "r4": {"success"}, "r5": {"success"}}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Fatalf("rows in the image by id: %v, want %v", status, want)
	}
}

// A one-shot command's engine (Engine.OneShot) keeps the pages its read
// of the state touched, which the answer reads again, where a server's
// gives each section's back once read; a state larger than the bound
// (256 MiB; SetOneShotKeepBytes) is let go either way.
func TestOneShotKeepsStatePages(t *testing.T) {
	ctx := context.Background()
	st, path, _ := storeWithState(t)
	start := func(oneShot bool) (resident, pages int) {
		t.Helper()
		e := engine.New(st, metrics.DefaultConfig())
		e.Image = path
		e.OneShot = oneShot
		if err := e.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		m := e.StateMapping()
		if m == nil {
			t.Fatalf("the start did not read the state in place: %+v", e.Status().Image)
		}
		return residentPages(t, m)
	}
	given, pages := start(false)

	kept, _ := start(true)
	t.Logf("kept %d, given %d of %d", kept, given, pages)
	if pages < 256 {
		t.Fatalf("a state of %d pages proves little", pages)
	}
	// The read touches every section's counts and what it copies out;
	// a server's keeps what it wrote (its own copies) and little else.
	if kept < pages/8 || kept < 4*given {
		t.Errorf("a one-shot start kept %d of %d pages, a server's %d", kept, pages, given)
	}
	defer engine.SetOneShotKeepBytes(int64(pages) * int64(os.Getpagesize()) / 2)()
	if larger, _ := start(true); larger > 2*given+8 {
		t.Errorf("a state past the bound kept %d pages, a server's %d", larger, given)
	}
}

// storeWithState returns a store holding the differential data, the path
// of the image and state written from it, and the data's end.
func storeWithState(t *testing.T) (store.Store, string, time.Time) {
	t.Helper()
	st, _, _, end, lines := differentialSetup(t, 3)
	importLines(t, st, lines...)
	path := filepath.Join(t.TempDir(), "candor.image")
	if _, err := loadedWithImage(t, st, path).WriteImage(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st, path, end
}

// residentPages counts the pages of m this process has in its page
// tables, and all its pages; a system without page tables to read skips
// the test.
// trues counts the true values of b.
func trues(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

func residentPages(t *testing.T, m *image.Mapped) (n, of int) {
	t.Helper()
	res, err := m.Resident()
	if err != nil {
		t.Skipf("no page tables to read: %v", err)
	}
	for _, r := range res {
		if r {
			n++
		}
	}
	return n, len(res)
}

// A first load that writes its state gives Engine.Prime the dataset
// first: what Prime computes is answered from the dataset read back
// without computing it again, and the memos its reads filled (lead-time
// days and memos, failure memos, release-impact sums) are written with
// the state, so the next start reads them rather than building them — a
// state written before any read held none, and every later command built
// them again. The views stay the store's.
func TestFirstLoadWritesPrimedMemos(t *testing.T) {
	ctx := context.Background()
	st, _, cat, end, lines := differentialSetup(t, 7)
	importLines(t, st, lines...)
	q := metrics.Query{AsOf: end, Window: 30 * 24 * time.Hour}
	stateSize := func(prime bool) (int64, *engine.Engine) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "candor.image")
		e := engine.New(st, metrics.DefaultConfig())
		e.Image = path
		e.SetRebaseRows(1)
		primed := 0
		if prime {
			e.Prime = func(ds *metrics.Dataset) {
				primed++
				for _, id := range []string{"lead_time_for_changes", "change_failure_rate", "release_impact_score"} {
					if _, err := ds.Compute(id, q); err != nil {
						t.Error(err)
					}
				}
			}
		}
		err := e.Read(ctx, func(ds *metrics.Dataset) error {
			if e.StateMapping() == nil {
				t.Fatalf("the load did not go on from its state: %+v", e.Status().Image)
			}
			if got := ds.Cached("lead_time_for_changes", q); got != prime {
				t.Errorf("primed %v: the first read finds lead time computed: %v", prime, got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if prime && primed != 1 {
			t.Errorf("Prime called %d times, want once", primed)
		}
		fi, err := os.Stat(strings.TrimSuffix(path, ".image") + ".dataset")
		if err != nil {
			t.Fatal(err)
		}
		next := engine.New(st, metrics.DefaultConfig())
		next.Image = path
		return fi.Size(), next
	}
	plain, _ := stateSize(false)
	primed, next := stateSize(true)
	if primed <= plain {
		t.Errorf("the primed state is %d bytes, the plain one %d: no memo written with it", primed, plain)
	}
	fresh := engine.New(st, metrics.DefaultConfig())
	if got, want := engineView(t, cat, end, next), engineView(t, cat, end, fresh); got != want {
		t.Fatal("a start from the primed state differs from the store")
	}
	if s := next.Status().Image; !s.DatasetUsed {
		t.Fatalf("the next start did not use the primed state: %+v", s)
	}
}

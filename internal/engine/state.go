package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/metrics"
)

// Beside the image of the stored rows, the engine keeps the dataset's own
// state (metrics.Dataset.WriteState) in a second file of the same format:
// a start that can use it maps it and uses the dataset in place instead
// of applying every row (~30 ms against ~1.1 s at scale 1), then reads the newer rows
// from the store as after the rows image. It is written right after the
// rows image, from the published dataset when that reflects the same
// sequence, and holds the same header (store, sequence, last row) with
// its own schema (the row layouts) and settings (those applying a record
// derives fields under: production environments, their aliases, the
// attribution window). A start under other settings, with earlier
// settings epochs, or from a file that fails any check reads the rows
// image instead — never a different number.

// statePath is where the dataset's state is kept: beside the image,
// candor.dataset for candor.image.
func (e *Engine) statePath() string {
	return strings.TrimSuffix(e.Image, ".image") + ".dataset"
}

// startFromState puts the dataset of the state file in w (not yet shared:
// the first load) when it is usable against a store whose last sequence
// is last, and returns the sequence it reflects (0 when it was not used,
// w untouched). ahead (nil: none) is called with the state's sequence once
// its header passed the checks, before its sections are read.
func (e *Engine) startFromState(ctx context.Context, w *world, last int64, ahead func(seq int64)) int64 {
	seq, err := e.stateInto(ctx, w, last, ahead)
	if err != nil {
		reason := err.Error()
		switch {
		case errors.Is(err, image.ErrMissing):
			reason = "no dataset state yet"
		case errors.Is(err, errEpochs):
			// Expected while the settings have a history: no warning.
		default:
			e.log().Warn("dataset state ignored: reading the image of the rows", "path", e.statePath(), "reason", reason)
		}
		e.noteImage(func(s *ImageStatus) { s.DatasetIgnored = reason })
		return 0
	}
	e.noteImage(func(s *ImageStatus) {
		s.Used, s.StartSeq, s.Seq, s.Ignored = true, seq, seq, ""
		s.DatasetUsed, s.DatasetSeq, s.DatasetIgnored = true, seq, ""
	})
	return seq
}

// defaultPrefetchRows bounds the rows after the state read while it is
// read (a few MiB decoded).
const defaultPrefetchRows = 8192

// prefetched is the store's rows after the state's sequence, read and
// decoded on other goroutines while the state is read (a whole `candor
// scorecard` applies the rows written since the state was: at scale 10,
// ~60 ms for 5,000 of them, done one after the other before).
type prefetched struct {
	done   chan struct{}
	cancel context.CancelFunc
	rows   []decoded
	err    error
}

// prefetchAfter starts reading the rows after seq, up to e.prefetchRows
// of them. A state refused after its header passed (a damaged section)
// has had them read for nothing.
func (e *Engine) prefetchAfter(ctx context.Context, after int64) *prefetched {
	bound := cmp.Or(e.prefetchRows, defaultPrefetchRows)
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetched{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.done)
		p.err = e.scanDecoded(ctx, after, nil, func(dec []decoded) {
			p.rows = append(p.rows, dec...)
			if len(p.rows) >= bound {
				cancel()
			}
		})
		if len(p.rows) >= bound && errors.Is(p.err, context.Canceled) {
			p.err = nil // stopped by its bound; the caller reads on
		}
	}()
	return p
}

// take returns the rows read — a run in sequence order from just after
// the state's sequence — or none (the load then reads them).
func (p *prefetched) take() []decoded {
	if p == nil {
		return nil
	}
	<-p.done
	p.cancel()
	if p.err != nil {
		return nil
	}
	return p.rows
}

// discard stops the read when the state was not used.
func (p *prefetched) discard() {
	if p != nil {
		p.cancel()
		<-p.done
	}
}

// errEpochs: a state holds one dataset, a world with earlier settings
// epochs several.
var errEpochs = errors.New("settings have earlier epochs")

// stateInto puts the state's dataset in w, a world no reader has yet (the
// first load, a second copy being built), and returns its sequence.
func (e *Engine) stateInto(ctx context.Context, w *world, last int64, ahead func(seq int64)) (int64, error) {
	if len(w.epochs) > 0 {
		return 0, errEpochs
	}
	if !e.ready.Load() {
		// A start allocates the dataset and little else: the
		// collections a growing heap would trigger on the way find
		// nothing to free (~10 % of a start's CPU at scale 1). Not so a
		// load reading back the state it wrote (rebase), whose heap is
		// full of what it built and of the garbage building it left.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
	}
	ds, m, seq, err := e.readState(ctx, w.ds.Config(), last, ahead)
	if err != nil {
		return 0, err
	}
	w.set(ds, nil)
	w.mapped = m
	return seq, nil
}

// oneShotKeepBytes is the largest state whose pages a one-shot command's
// engine keeps as it reads them (Engine.OneShot): scale 1's is ~85 MB,
// scale 10's ~850 MB. A variable for tests.
var oneShotKeepBytes int64 = 256 << 20

// readState reads the dataset's state in place and returns it with the
// mapping it lies in.
func (e *Engine) readState(ctx context.Context, cfg metrics.Config, last int64, ahead func(seq int64)) (*metrics.Dataset, *image.Mapped, int64, error) {
	// Each section's checksum is checked as it is read, not all first:
	// nothing read is kept unless every one passes, and the file is read
	// once (at scale 10 a first pass cost ~0.2 s and faulted in 800 MB).
	//
	// The file is mapped copy-on-write and the dataset keeps its arrays
	// where they lie (rows, indexes, orders, strings: all but the
	// deployments' rows and the maps), instead of copying ~800 MB at scale
	// 10 into a fresh heap: pages it changes become its own, the others
	// stay the page cache's. Strings handed out point into the mapping and
	// may live anywhere (a cached result, a page being written), so a
	// mapping a dataset was read from is never unmapped: the process holds
	// the file it started from (and the second copy's) until it exits,
	// even once a newer state replaced it on disk — unless the engine went
	// on from a newer state of its own (moveOn), which takes the strings'
	// pages over (strings.go).
	m, err := image.ReadPrivate(e.statePath())
	if err != nil {
		return nil, nil, 0, err
	}
	kept := false
	defer func() {
		if !kept {
			m.Close()
		}
	}()
	h := m.Header
	if err := e.checkHeader(ctx, h, last, metrics.StateSchema(), cfg.StateHash()); err != nil {
		return nil, nil, 0, err
	}
	if ahead != nil {
		ahead(h.Seq)
	}
	pieces := make([][]byte, len(m.Sections))
	for i, s := range m.Sections {
		if s.Kind != image.SectionDataset {
			return nil, nil, 0, fmt.Errorf("section %d of kind %d, not a dataset's", i, s.Kind)
		}
		pieces[i] = s.Data
	}
	// A section's pages are let go once it has been read (ReadState
	// writes nothing to them, so nothing is dropped but what the page
	// cache holds): those the dataset uses fault back in as reads reach
	// them, and the process holds only what its reads touch. At scale 10
	// a whole `candor scorecard` peaked at 851 MB instead of 1.11 GB
	// holding every page, or 1.03 GB letting each go before it was read.
	//
	// A one-shot command's engine keeps them (Engine.OneShot): giving
	// them back cost a scorecard at scale 1 ~12 ms of its ~190 (the
	// calls, and faulting back in what the scorecard reads again), while
	// holding them adds at most the state's size to a process about to
	// end — bounded by oneShotKeepBytes (256 MiB), past which the peak it
	// saves (scale 10: ~1.1 GB against ~850 MB) matters more.
	//
	// The checksums are worked out on another core while the read goes
	// on (at scale 1 they were half of the read's 39 ms), from the file
	// rather than the mapping (image.Mapped.VerifyRead): faster here, and
	// the verifier holds none of the mapping's pages however far ahead of
	// the read it runs.
	sums := make([]chan error, len(m.Sections))
	for i := range sums {
		sums[i] = make(chan error, 1)
	}
	quit := make(chan struct{})
	var verifier sync.WaitGroup
	verifier.Go(func() {
		defer m.Verified()
		buf := make([]byte, 1<<20)
		for i := range m.Sections {
			select {
			case <-quit:
				return
			default:
			}
			sums[i] <- m.VerifyRead(i, buf)
		}
	})
	// Before the mapping may go (the deferred Close above runs after).
	defer func() {
		close(quit)
		verifier.Wait()
	}()
	size := 0
	for _, p := range pieces {
		size += len(p)
	}
	keep := e.OneShot && int64(size) <= oneShotKeepBytes
	ds, err := metrics.ReadState(cfg, pieces, true, func(i int) error {
		if i > 0 && !keep {
			m.Done(i - 1)
		}
		return <-sums[i]
	})
	if err != nil {
		return nil, nil, 0, err
	}
	if n := len(m.Sections); n > 0 && !keep {
		m.Done(n - 1)
	}
	if ds.Seq() != h.Seq {
		return nil, nil, 0, fmt.Errorf("the dataset reflects sequence %d, its header %d", ds.Seq(), h.Seq)
	}
	ds.SetDiscard(func(b []byte) {
		if err := m.Discard(b); err != nil {
			e.log().Warn("giving back a dataset state's pages", "err", err)
		}
	})
	kept = true
	// Once the dataset is gone (a settings change, a second copy
	// dropped, a start that rebuilt it, a newer state gone on from)
	// nothing but strings handed out may point into the mapping: its
	// pages go back to the kernel, and such a string faults its page in
	// again from the file — or, when those pages were moved onto a newer
	// state's file (moveStrings), the rest of the mapping goes, and the
	// file with it.
	runtime.AddCleanup(ds, func(m *image.Mapped) { m.Retire() }, m)
	return ds, m, h.Seq, nil
}

// WriteState writes the dataset's state beside the image on disk, as
// WriteImage does after writing the image: for a command that wrote the
// image without having read the data (candor import), which loads it
// first — from that image — so the next start maps it instead.
func (e *Engine) WriteState(ctx context.Context) error {
	if e.Image == "" {
		return errors.New("no image path")
	}
	e.img.writer.Lock()
	defer e.img.writer.Unlock()
	if err := e.Refresh(ctx); err != nil {
		return err
	}
	// The header only: the image was just written, its sections need no
	// second reading.
	m, err := image.ReadDeferred(e.Image)
	if err != nil {
		return err
	}
	h := m.Header
	m.Close()
	if h.Settings != recordSettings {
		return errors.New("the file at the image's path is not an image of rows")
	}
	return e.writeState(ctx, h)
}

// writeState writes the published dataset's state beside the image of
// the rows just written (header rows), when that dataset reflects the
// same sequence and no earlier settings epoch; otherwise it leaves the
// state on disk as it is (a start holds it to the store, and a stale one
// is refused or followed by the newer rows). While it encodes it holds
// the refresh lock, not the world's: no row is applied meanwhile (the
// follower's next step and a writer waiting to read its rows wait for
// the encoding, ~0.1 s at scale 1; the file's sync comes after), while
// readers go on — they change only caches and memos,
// which the state reads under the cache's lock or atomically.
func (e *Engine) writeState(ctx context.Context, rows image.Header) (err error) {
	defer func() {
		if err != nil {
			e.noteImage(func(s *ImageStatus) { s.DatasetError = err.Error() })
		}
	}()
	if !e.ready.Load() {
		return nil
	}
	f, h, err := e.encodeState(rows)
	if f == nil || err != nil {
		return err
	}
	// Synced and renamed with the lock let go: at scale 10 the sync of
	// ~800 MB took seconds no row needed to wait for.
	written := f.ID()
	if err := f.Commit(h); err != nil {
		return err
	}
	e.noteImage(func(s *ImageStatus) { s.DatasetSeq, s.DatasetWritten, s.DatasetError = h.Seq, time.Now().UTC(), "" })
	e.moveOn(ctx, written, h)
	return nil
}

// encodeState writes the published dataset's state to a new file, under
// the refresh lock, and returns it to be committed with its header; no
// file when the dataset does not reflect rows.Seq alone.
func (e *Engine) encodeState(rows image.Header) (*image.Writer, image.Header, error) {
	e.refresh.Lock()
	defer e.releaseRefresh()
	w := e.cur.Load()
	if len(w.datasets()) != 1 || w.ds.Seq() != rows.Seq {
		return nil, rows, nil
	}
	return e.stateFile(w, rows)
}

// stateFile writes the state of w's dataset (one, no earlier settings
// epoch) to a new file beside the image and returns it, to be committed
// with h: the header of the rows it reflects, under the state's own
// schema and settings.
func (e *Engine) stateFile(w *world, h image.Header) (*image.Writer, image.Header, error) {
	f, err := image.Create(e.statePath())
	if err != nil {
		return nil, h, err
	}
	release := w.releaser()
	written := 0
	if err := w.ds.WriteState(func(p []byte) error {
		if written += len(p); written >= releaseEvery {
			written = 0
			release()
		}
		return f.Add(image.Section{Kind: image.SectionDataset, Data: p})
	}); err != nil {
		release()
		f.Abort()
		return nil, h, err
	}
	release()
	h.Schema, h.Settings = metrics.StateSchema(), w.ds.Config().StateHash()
	return f, h, nil
}

// rebase ends a first load that used no state (it applied the rows
// image, or every row of the store) by writing the dataset's state at
// once and going on from it, read in place, rather than holding the
// dataset it built in the heap for as long as the process runs: the
// collector's headroom, a quarter of what is live, comes on top of
// that, and the state is what the image would write a minute later
// anyway (KeepImage). At scale 10 the heap held ~0.8 GB after such a
// load and the process ~1.2 GB; read in place it holds the pages its
// reads touch (docs/performance.md). A load short of rebaseRows is not
// worth a file. Reports whether w now holds the state's dataset; on any
// failure it keeps the one it has, and the status says why.
func (e *Engine) rebase(ctx context.Context, w *world, last decoded) bool {
	if e.Image == "" || len(w.epochs) > 0 || last.seq != e.seq || last.hash == "" || e.seq < e.rebaseAt() {
		return false
	}
	start := time.Now()
	if e.Prime != nil {
		e.Prime(w.ds)
	}
	err := func() error {
		id, err := StoreIdentity(ctx, e.st, true)
		if err != nil {
			return fmt.Errorf("the store's identity: %w", err)
		}
		// What the heap holds beyond the dataset (the load's garbage,
		// the collector's headroom) goes back before writing the state
		// adds its own, and again before the state's pages come in
		// beside the heap's copy: at scale 10 each set the peak of the
		// load in turn, 60–70 MiB above its end.
		debug.FreeOSMemory()
		f, h, err := e.stateFile(w, last.header(id))
		if err != nil {
			return err
		}
		written := f.ID()
		if err := f.Commit(h); err != nil {
			return err
		}
		if e.rebaseCommitted != nil {
			e.rebaseCommitted()
		}
		debug.FreeOSMemory()
		ds, m, err := e.readBack(ctx, w.ds.Config(), written, h)
		if err != nil {
			return err
		}
		ds.TakeResults(w.ds)
		w.set(ds, nil)
		w.mapped = m
		e.noteImage(func(s *ImageStatus) { s.DatasetSeq, s.DatasetWritten, s.DatasetError = h.Seq, time.Now().UTC(), "" })
		return nil
	}()
	if err != nil {
		e.noteImage(func(s *ImageStatus) { s.DatasetError = err.Error() })
		e.log().Warn("dataset state not written after the load: the data stays in the heap", "path", e.statePath(), "err", err)
		return false
	}
	// The dataset built in the heap is garbage now: given back at once,
	// not when the collector's pacing and the scavenger get to it.
	debug.FreeOSMemory()
	e.log().Info("dataset state written after the load, used in place", "path", e.statePath(), "seq", e.seq, "seconds", time.Since(start).Seconds())
	return true
}

// header is the header of a state (or image) whose last row is d, of the
// store named id: what a start checks against the store's row at d.seq.
func (d decoded) header(id string) image.Header {
	return image.Header{Version: image.Build(), Store: id, Seq: d.seq, LastKind: string(d.key.Kind), LastSource: d.key.Source, LastID: d.key.ID, LastHash: d.hash}
}

// readBack reads in place the state this engine has just committed
// (written: the file it wrote; h: its header). It refuses one another
// process renamed over it since (a command beside a server, two commands
// after an upgrade): an older state would leave the rows after it out, and
// only the engine's own holds the string chunks its dataset read in place
// (moveStrings). Nothing of a refused dataset was handed out, so its
// mapping goes at once.
func (e *Engine) readBack(ctx context.Context, cfg metrics.Config, written image.FileID, h image.Header) (*metrics.Dataset, *image.Mapped, error) {
	ds, m, seq, err := e.readState(ctx, cfg, h.Seq, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading it back: %w", err)
	}
	if got := m.Header; m.ID() != written || seq != h.Seq || got.LastHash != h.LastHash || got.Store != h.Store {
		m.Close()
		return nil, nil, fmt.Errorf("another process replaced the state meanwhile (sequence %d, this engine's %d)", seq, h.Seq)
	}
	return ds, m, nil
}

// rebaseAt is the least sequence a first load from rows must reach for
// it to write the state and go on from it.
func (e *Engine) rebaseAt() int64 { return cmp.Or(e.rebaseRows, DefaultImageRows) }

// releaseEvery is how much of a state is written between two calls of a
// world's releaser: at scale 10, with 64 MiB the write of a state added
// ~110 MiB to the resident set at its peak, with 16 MiB ~70, for the same
// time (~2.5 s; a call reads the process's page tables for the mapping
// and advises the runs not kept, a fraction of a millisecond).
const releaseEvery = 16 << 20

// releaser returns what gives back the pages of w's state mapping that
// the work since faulted in, keeping those the process held before (its
// readers use them; those it wrote are its own anyway). Writing a state
// reads every array: at scale 10 a serving process started from its
// state went from ~0.7 to ~1.1 GB resident after writing the next one,
// ~1.9 GB at the peak with the previous image's pages (keepSections);
// called every releaseEvery bytes written, it bounds the growth to about
// that much. The pages stay in the page cache (image.Mapped.Release),
// where the readers fault them back from; the caller holds the refresh
// lock, under which alone rows are applied — the only writes to the
// mapping — as Release needs. A no-op for a dataset built in the heap, or
// where the process's page tables cannot be read.
func (w *world) releaser() func() {
	m := w.mapped
	if m == nil {
		return func() {}
	}
	keep, err := m.Resident()
	if err != nil {
		return func() {}
	}
	return func() { m.Release(keep) }
}

// moveFirst writes the published dataset's state and goes on from it
// (moveOn) when a move is due and the row it reflects is known, before
// the image of the rows is written (writeImage; id is the store's
// identity); it returns the state's sequence, 0 when it wrote none. The
// state names its last row as a first load's does (rebase), so it does
// not wait for the rows image whose header writeState copies.
func (e *Engine) moveFirst(ctx context.Context, id string) int64 {
	f, h, err := func() (*image.Writer, image.Header, error) {
		e.refresh.Lock()
		defer e.releaseRefresh()
		w := e.cur.Load()
		last := e.last
		if !e.ready.Load() || !e.moveDue() || last.seq != e.seq || last.hash == "" || len(w.datasets()) != 1 || w.ds.Seq() != e.seq {
			return nil, image.Header{}, nil
		}
		return e.stateFile(w, last.header(id))
	}()
	if err == nil && f != nil {
		written := f.ID()
		if err = f.Commit(h); err == nil {
			e.noteImage(func(s *ImageStatus) { s.DatasetSeq, s.DatasetWritten, s.DatasetError = h.Seq, time.Now().UTC(), "" })
			e.moveOn(ctx, written, h)
			return h.Seq
		}
	}
	if err != nil {
		e.noteImage(func(s *ImageStatus) { s.DatasetError = err.Error() })
		e.log().Warn("dataset state not written before the image", "path", e.statePath(), "err", err)
	}
	return 0
}

// moveOnAt is how many rows (by sequence) a following engine applies past
// the state its published dataset was read from before it goes on from
// a newer state (moveOn): a sixteenth of the state's rows, and at least
// what a first load needs to write one (rebaseAt). Each row applied lives
// in the heap (~220 bytes, the collector's headroom on top) until the
// process ends otherwise: a 1M-record import into a server held ~225 MiB
// more after it than before at scale 1, ~290 MiB at scale 10, and a
// server taking webhooks for months grew without bound.
func (e *Engine) moveOnAt() int64 { return max(e.rebaseAt(), e.baseSeq/16) }

// DefaultMaxMoves bounds the moves of one process (0 for Engine.maxMoves,
// which tests set lower): each leaves a few mappings of its own (the pages
// moved, the inaccessible rest of the old mapping), and the kernel bounds
// a process's mappings (vm.max_map_count, 65,530 by default), the Go
// runtime's own among them. A thousand moves are at least 100M rows
// applied; past them the rows stay in the heap until a restart.
const DefaultMaxMoves = 1000

// moveDue says whether a state written now would be gone on from
// (moveOn): a following engine with an image path and one copy (a
// second, and a spare being loaded, exist only with Copies 2), short of
// its bound on moves, where a state's sections can be mapped apart, whose
// published dataset has no settings epochs and a move's worth of rows
// past the state it was read from. Refresh lock held.
func (e *Engine) moveDue() bool { return e.mayMove() && e.seq-e.baseSeq >= e.moveOnAt() }

// mayMove reports whether this engine can go on from newer states at all:
// following, with an image path, one copy, no settings epochs, pages the
// state's sections start on, and moves left.
func (e *Engine) mayMove() bool {
	return e.Image != "" && e.following.Load() && e.copies() == 1 && image.SectionsStartPages() &&
		e.imageStatus().DatasetMoves < cmp.Or(e.maxMoves, DefaultMaxMoves) &&
		len(e.cur.Load().epochs) == 0
}

// moveOn goes on from the state writeState has just committed (written:
// its file), when a following engine has applied moveOnAt rows past its
// base and nothing since the state was encoded: it publishes the dataset
// read back from it in place, so the rows applied since the last base
// leave the heap, as after a first load (rebase). It rides on the image's
// schedule (KeepImage, image.every) rather than writing states of its
// own: moving in the middle of a large import — a state written every
// sixteenth of the data — cost at scale 10 two writes of ~2.5 s and the
// readers' refaulting of the new file, raising their p99 from 54 to
// 139 ms and the time until the import was readable from 99 to 133 s,
// for a peak 34 MiB lower; at scale 1 the p99 rose from 38 to 52 ms.
// Readers go on meanwhile with the published dataset and, once the new
// one is published, keep every result it had (TakeResults); those still
// on the old one finish there. The pages showing the strings it handed
// out are moved onto the new file (moveStrings), so that the old file
// and its pages go once the old dataset does. With two copies, settings
// epochs, or no image path it does nothing; on any failure the published
// dataset stays and the status says why.
func (e *Engine) moveOn(ctx context.Context, written image.FileID, h image.Header) {
	e.refresh.Lock()
	defer e.releaseRefresh()
	// Moved or not, the bulk policy is looked at again (checkBulk).
	defer e.checkBulk()
	w := e.cur.Load()
	if !e.moveDue() || w.seq != e.seq || e.seq != h.Seq {
		return
	}
	start := time.Now()
	err := func() error {
		// And before the read-back faults the new state's pages in
		// beside them: after a 1M-record import at scale 1 that was the
		// benchmark's whole peak, ~17 MiB above the import's. Readers
		// fault back what they touch meanwhile, from the page cache
		// (Release; the refresh lock held keeps rows from being applied).
		if w.mapped != nil {
			if e.moveHook != nil {
				e.moveHook("start", w.mapped)
			}
			w.mapped.Release(nil)
		}
		ds, m, err := e.readBack(ctx, w.ds.Config(), written, h)
		if err != nil {
			return err
		}
		plan, err := e.planStrings(w.ds, w.mapped, ds, m)
		if err != nil {
			m.Close()
			return fmt.Errorf("the strings handed out cannot be moved onto it: %w", err)
		}
		// The old mapping's pages go back (again) before readers move to the
		// new one and fault its pages in (Release never changes what a
		// page reads: readers still on the old one fault back what they
		// touch, from the page cache): at scale 1 both together set the
		// peak of each move.
		if w.mapped != nil {
			w.mapped.Release(nil)
			if e.moveHook != nil {
				e.moveHook("released", w.mapped)
			}
		}
		ds.TakeResults(w.ds)
		nw := newWorld(ds, nil)
		nw.mapped = m
		nw.stamp(e.seq)
		e.moveStrings(plan, w.mapped, ds, m)
		e.cur.Store(nw)
		e.baseSeq = e.seq
		e.noteImage(func(s *ImageStatus) { s.DatasetMoves++ })
		return nil
	}()
	if err != nil {
		e.noteImage(func(s *ImageStatus) { s.DatasetError = err.Error() })
		e.log().Warn("dataset state written, not gone on from: the rows applied stay in the heap", "path", e.statePath(), "err", err)
		return
	}
	// The readers that took the old dataset before the swap finish (a
	// reader meeting it locked moves to the new one), and the pages of its
	// mapping they faulted back go again; then what it held in the heap is
	// garbage, given back at once rather than when the collector's pacing
	// and the scavenger get to it (at scale 1 after a 1M-record import the
	// runtime held ~2.8 times what was live), and its collection lets its
	// mapping go (image.Mapped.Retire).
	w.mu.Lock()
	w.mu.Unlock()
	if w.mapped != nil {
		w.mapped.PageOut(nil)
	}
	debug.FreeOSMemory()
	e.log().Info("dataset state gone on from, in place", "path", e.statePath(), "seq", e.seq, "seconds", time.Since(start).Seconds())
}

// bulkArena has the rows a large catch-up applies to w's dataset kept in a
// file mapped shared beside the image (image.Arena) rather than the heap,
// and each of its steps gives their pages back (stepOne): they stay in
// the page cache, and the readers fault back what they use. At scale 1 a
// 1M-record import's rows were ~51 MiB of the heap until the state written
// after it took them out (docs/performance.md). Only while a move will
// take them in (mayMove, and this engine writes states: it has written
// one), and only during the catch-up (endArena): an instance that never
// moves — the old dataset of a settings change living on as an epoch, one
// that lost the lead, moves failing — would otherwise grow the file with
// every row until restarted. The arena lives as long as the dataset, and
// a later large catch-up goes on in it. Refresh lock held.
func (e *Engine) bulkArena(w *world) {
	if e.OneShot || !e.mayMove() || e.imageStatus().DatasetWritten.IsZero() {
		return
	}
	if w.arena == nil {
		a, err := image.NewArena(filepath.Dir(e.Image), e.arenaAnyFS)
		if err != nil {
			if !e.arenaRefused {
				e.arenaRefused = true
				e.log().Info("a large catch-up's rows stay in the heap until the next state takes them in", "err", err)
			}
			return
		}
		w.arena = a
		runtime.AddCleanup(w.ds, func(a *image.Arena) { a.Close() }, a)
	}
	w.mu.Lock()
	w.ds.SetChunkMemory(w.arena)
	w.mu.Unlock()
}

// endArena ends a large catch-up's use of w's arena: rows applied later (a
// webhook's) go to the heap, as without one. Refresh lock held.
func (e *Engine) endArena(w *world) {
	if w.arena == nil {
		return
	}
	w.mu.Lock()
	w.ds.SetChunkMemory(nil)
	w.mu.Unlock()
}

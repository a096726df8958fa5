package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/image"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// A starting engine with an image path (Engine.Image) reads the image
// instead of the store's rows up to the image's sequence, then the store's
// newer rows as the follower does (internal/image; docs/design.md, "The
// image"). The image holds the stored rows themselves (decoded records and
// quarantined keys, in sequence order), so image + newer rows is the
// store: a row replaced after the image comes again among the newer rows
// and replaces the image's, as a follower's dataset replaces it; the store
// never deletes a row (retention rewrites it, with a new sequence). An
// image that is missing, of another build, of another store, ahead of the
// store, or damaged is ignored with one log line, and the store is read
// as without one.

// imageCollection keeps the store's identity: one document written once,
// under imageIdentityKey, by the first engine that writes an image.
const (
	imageCollection  = "engine_image"
	imageIdentityKey = "store"
)

// recordSettings is the Settings hash of an image of stored records: they
// depend on no setting (derived fields — a deployment being production —
// are computed when applied, under the settings of the process reading).
const recordSettings = "records"

// ImageStatus is what /healthz shows of the image.
type ImageStatus struct {
	// Path is not shown: /healthz answers anyone.
	Path string `json:"-"`
	// Seq is the sequence of the image on disk: the last one this process
	// wrote, or the one it started from (0: none known).
	Seq int64 `json:"seq"`
	// Used says whether the start read the image (of sequence StartSeq);
	// Ignored, when it did not, why.
	Used     bool   `json:"used_at_start"`
	StartSeq int64  `json:"start_seq,omitempty"`
	Ignored  string `json:"ignored,omitempty"`
	// Written is when this process last wrote the image, From the
	// sequence of the image it was written from (0: from the whole store);
	// Error its last failure to.
	Written time.Time `json:"written_at,omitzero"`
	From    int64     `json:"written_from_seq,omitempty"`
	Error   string    `json:"error,omitempty"`
	// The dataset's state beside it (state.go): whether the start read it,
	// why not, the sequence of the last one written or read, when this
	// process last wrote it, and its last failure to (a full disk: the
	// image of the rows may fit where the state then does not).
	DatasetUsed    bool      `json:"dataset_used_at_start"`
	DatasetIgnored string    `json:"dataset_ignored,omitempty"`
	DatasetSeq     int64     `json:"dataset_seq,omitempty"`
	DatasetWritten time.Time `json:"dataset_written_at,omitzero"`
	DatasetError   string    `json:"dataset_error,omitempty"`
	// DatasetMoves counts the states a following engine wrote and went on
	// from, read in place, to let go of the rows it had applied (moveOn).
	DatasetMoves int `json:"dataset_moves,omitempty"`
}

type imageState struct {
	mu     sync.Mutex
	st     ImageStatus
	writer sync.Mutex    // one write at a time
	check  time.Duration // how often KeepImage looks (imageCheck; tests set less)
}

func (e *Engine) imageStatus() *ImageStatus {
	if e.Image == "" {
		return nil
	}
	e.img.mu.Lock()
	defer e.img.mu.Unlock()
	s := e.img.st
	s.Path = e.Image
	return &s
}

func (e *Engine) noteImage(fn func(*ImageStatus)) {
	e.img.mu.Lock()
	fn(&e.img.st)
	e.img.mu.Unlock()
}

// StoreIdentity returns the store's identity: a random id kept in the
// store itself, so an image written for one database is never read
// against another (a copy keeps it, which the image's last-row check
// covers). create makes one when there is none yet.
func StoreIdentity(ctx context.Context, st store.DocStore, create bool) (string, error) {
	d, ok, err := st.DocByKey(ctx, imageCollection, imageIdentityKey)
	if err != nil || ok || !create {
		return string(d.Body), err
	}
	var id [16]byte
	rand.Read(id[:])
	d, _, err = st.AppendDocOnce(ctx, imageCollection, imageIdentityKey, []byte(hex.EncodeToString(id[:])))
	return string(d.Body), err
}

// startFromImage applies the image to w (not yet shared: the first load)
// when it is usable against a store whose last sequence is last, and
// returns the sequence it reflects (0 when it was not used).
func (e *Engine) startFromImage(ctx context.Context, w *world, last int64) (int64, image.Header) {
	h, err := e.applyImage(ctx, w, last)
	if err != nil {
		if errors.Is(err, image.ErrMissing) {
			e.log().Info("no dataset image yet: reading the store", "path", e.Image)
		} else {
			e.log().Warn("dataset image ignored: reading the store", "path", e.Image, "reason", err.Error())
		}
		e.noteImage(func(s *ImageStatus) { s.Used, s.Ignored = false, err.Error() })
		return 0, image.Header{}
	}
	e.noteImage(func(s *ImageStatus) { s.Used, s.StartSeq, s.Seq, s.Ignored = true, h.Seq, h.Seq, "" })
	return h.Seq, h
}

// applyImage applies the image's rows to w and returns its header.
func (e *Engine) applyImage(ctx context.Context, w *world, last int64) (image.Header, error) {
	m, err := image.Read(e.Image)
	if err != nil {
		return image.Header{}, err
	}
	h, secs := m.Header, m.Sections
	if err := e.checkHeader(ctx, h, last, image.Schema(), recordSettings); err != nil {
		m.Close()
		return image.Header{}, err
	}
	for _, ds := range w.datasets() {
		ds.Reserve(len(secs) * image.MaxSectionRows)
	}
	// Sections are decoded on one goroutine while the rows of earlier
	// ones are applied on this one.
	type part struct {
		rows []image.Row
		err  error
	}
	parts := make(chan part, 2)
	stop := make(chan struct{})
	defer func() {
		// The decoder reads the mapping: it must have stopped before the
		// mapping goes. Rows hold copies of what they read.
		close(stop)
		for range parts {
		}
		m.Close()
	}()
	go func() {
		defer close(parts)
		for i, s := range secs {
			var p part
			if s.Kind != image.SectionRows {
				p.err = fmt.Errorf("section %d of unknown kind %d", i, s.Kind)
			} else {
				p.rows, p.err = image.DecodeRows(s.Data)
				m.Done(i)
			}
			select {
			case parts <- p:
			case <-stop:
				return
			}
			if p.err != nil {
				return
			}
		}
	}()
	applied := false
	for p := range parts {
		if p.err == nil && len(p.rows) > 0 && p.rows[len(p.rows)-1].Seq > h.Seq {
			p.err = fmt.Errorf("rows beyond the image's sequence %d", h.Seq)
		}
		if p.err != nil {
			if applied {
				// Checksums matched yet a section does not decode (a
				// defect): start again from nothing.
				fresh := w.emptyLike()
				w.set(fresh.ds, fresh.epochs)
			}
			return image.Header{}, p.err
		}
		for _, r := range p.rows {
			d := decoded{rec: r.Rec, ingested: r.Ingested, seq: r.Seq, key: r.Key}
			if r.Rec == nil {
				d.err = errors.New(r.Quarantine)
				e.logQuarantine(d)
			}
			applyTo(w, d)
			applied = true
		}
	}
	return h, nil
}

// checkHeader holds an image's header to this build, the content's schema
// and settings, and this store.
func (e *Engine) checkHeader(ctx context.Context, h image.Header, last int64, schema, settings string) error {
	switch {
	case h.Version != image.Build():
		return fmt.Errorf("written by Candor %s, this is %s", h.Version, image.Build())
	case h.Schema != schema:
		return errors.New("written by a build whose records differ")
	case h.Settings != settings:
		return fmt.Errorf("content depends on other settings (%q)", h.Settings)
	case h.Seq <= 0:
		return errors.New("empty image")
	case h.Seq > last:
		return fmt.Errorf("image reflects sequence %d, the store's last is %d", h.Seq, last)
	}
	id, err := StoreIdentity(ctx, e.st, false)
	if err != nil {
		return fmt.Errorf("reading the store's identity: %w", err)
	}
	if id == "" || id != h.Store {
		return errors.New("written for another store")
	}
	key := domain.Key{Kind: domain.Kind(h.LastKind), Source: h.LastSource, ID: h.LastID}
	r, err := e.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("its last row %s is not in the store", key)
	}
	if err != nil {
		return fmt.Errorf("reading its last row: %w", err)
	}
	if r.Seq < h.Seq || (r.Seq == h.Seq && r.Hash != h.LastHash) {
		return fmt.Errorf("its last row %s is not the store's (sequence %d): the store is not the one the image was written from", key, r.Seq)
	}
	return nil
}

// WriteImage writes the image of the store's rows as they are now, in the
// background of a serving process (it reads the store, not the dataset,
// so readers are not held). It returns the sequence written.
func (e *Engine) WriteImage(ctx context.Context) (int64, error) {
	if e.Image == "" {
		return 0, errors.New("no image path")
	}
	e.img.writer.Lock()
	defer e.img.writer.Unlock()
	seq, from, err := e.writeImage(ctx)
	e.noteImage(func(s *ImageStatus) {
		if err != nil {
			s.Error = err.Error()
			return
		}
		s.Seq, s.From, s.Written, s.Error = seq, from, time.Now().UTC(), ""
	})
	return seq, err
}

func (e *Engine) writeImage(ctx context.Context) (seq, from int64, err error) {
	id, err := StoreIdentity(ctx, e.st, true)
	if err != nil {
		return 0, 0, fmt.Errorf("the store's identity: %w", err)
	}
	// A follower with a move's worth of rows in the heap (a large import)
	// writes its state and goes on from it first: the rows image's
	// writing below (decoding every row since the last image, the keys'
	// fingerprints) then adds to a heap without them. Written after it,
	// as before, it set a server's peak after a 1M-record import at
	// scale 1 (docs/performance.md).
	moved := e.moveFirst(ctx, id)
	// From the image on disk, when it is usable, plus the rows since:
	// its sections are kept as they are, except those holding a row
	// replaced since, which are written again without it.
	base, last := e.baseImage(ctx)
	after := int64(0)
	if base != nil {
		defer base.Close()
		after = base.Header.Seq
	}
	// Rows after the image go to the file at once when there is no image
	// to start from (the whole store: a section at a time in memory);
	// after the image's kept sections otherwise, so they go to a spill
	// file until then and are copied after them: held in memory, the
	// sections of a 1M-record import set the peak of a server's next
	// image (747 MiB at scale 1, ~250 MiB of them the sections).
	w, err := image.Create(e.Image)
	if err != nil {
		return 0, 0, err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	b := image.NewBuilder()
	var spill *image.Writer
	if base == nil {
		b.Stream(w)
	} else {
		if spill, err = image.Create(e.Image + ".newer"); err != nil {
			return 0, 0, err
		}
		defer spill.Abort()
		b.Stream(spill)
	}
	var lastHash string
	// Room for the rows since the base (none without one: no key is
	// added then).
	newer := newKeyPrints(last - after)
	// The store's rows are decoded on other goroutines while this one
	// encodes them: a command waiting for the image (candor import) on
	// every core; a following engine, which writes it in the background
	// beside its readers, on one.
	workers := priority.Cores()
	if e.following.Load() {
		workers = 1
	}
	scanCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var addErr error
	err = e.scanDecodedOn(scanCtx, after, workers, always, func(dec []decoded) {
		for _, d := range dec {
			if addErr != nil {
				return
			}
			row := image.Row{Seq: d.seq, Ingested: d.ingested, Rec: d.rec, Key: d.key}
			if d.err != nil {
				row.Quarantine = d.err.Error()
			}
			lastHash = d.hash
			if base != nil {
				newer.add(d.key)
			}
			if addErr = b.Add(row); addErr != nil {
				cancel()
			}
		}
	})
	if addErr != nil {
		return 0, 0, addErr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("reading the store for the image: %w", err)
	}
	h := image.Header{Version: image.Build(), Schema: image.Schema(), Store: id, Settings: recordSettings}
	switch {
	case b.Rows > 0:
		h.Seq, h.LastHash = b.Last.Seq, lastHash
		k := b.Last.Key
		h.LastKind, h.LastSource, h.LastID = string(k.Kind), k.Source, k.ID
	case base != nil:
		h.Seq, h.LastHash = base.Header.Seq, base.Header.LastHash
		h.LastKind, h.LastSource, h.LastID = base.Header.LastKind, base.Header.LastSource, base.Header.LastID
	default:
		return 0, 0, errors.New("the store is empty")
	}
	b.Sections() // the last section, streamed
	if err := b.Err(); err != nil {
		return 0, 0, err
	}
	if base != nil {
		newer.seal()
		if err := keepSections(w, base, newer); err != nil {
			return 0, 0, err
		}
		if err := spill.CopyTo(w); err != nil {
			return 0, 0, err
		}
	}
	committed = true
	if err := w.Commit(h); err != nil {
		return 0, 0, err
	}
	// The rows' decoding left the collector's headroom full of garbage,
	// and writing the state then faults pages of its mapping in beside
	// it: given back first, or at scale 10 the two together set the peak
	// of the image's writing, ~100 MiB above the decoding's.
	debug.FreeOSMemory()
	if moved == h.Seq {
		// The state of these very rows was written first.
		return h.Seq, after, nil
	}
	if err := e.writeState(ctx, h); err != nil {
		// The rows image stands alone: a start reads it instead.
		e.log().Warn("dataset state not written", "path", e.statePath(), "err", err)
	}
	return h.Seq, after, nil
}

// baseImage returns the image on disk when a new one can start from it
// (it passes the checks of a start), with the store's last sequence it
// was checked against. Nil otherwise (a full scan then).
func (e *Engine) baseImage(ctx context.Context) (*image.Mapped, int64) {
	m, err := image.Read(e.Image)
	if err != nil {
		return nil, 0
	}
	last, err := e.st.LastSeq(ctx)
	if err == nil {
		err = e.checkHeader(ctx, m.Header, last, image.Schema(), recordSettings)
	}
	if err != nil {
		m.Close()
		return nil, 0
	}
	return m, last
}

// keepSections writes base's sections to w without the rows whose keys
// have a newer row: a section none of whose rows is replaced as it is,
// the others again with the rest of their rows. Each is read through the
// mapping, whose pages are let go once it is written: kept, they made a
// serving process at scale 10 hold the whole previous image (~870 MB)
// once it had written its next.
func keepSections(w *image.Writer, base *image.Mapped, newer *keyPrints) error {
	for i, s := range base.Sections {
		err := keepSection(w, s, newer)
		base.Done(i)
		if err != nil {
			return err
		}
	}
	return nil
}

// keepSection writes one section of the previous image to w, as
// keepSections says.
func keepSection(w *image.Writer, s image.Section, newer *keyPrints) error {
	if newer.len() == 0 {
		return w.Add(s)
	}
	rows, err := image.DecodeRows(s.Data)
	if err != nil {
		return fmt.Errorf("reading the previous image: %w", err)
	}
	// Each row's key is fingerprinted once (two hashes of its strings).
	replaced := func(r image.Row) bool { return newer.has(rowKey(r)) }
	first := slices.IndexFunc(rows, replaced)
	if first < 0 {
		return w.Add(s)
	}
	b := image.NewBuilder()
	b.Stream(w)
	for i, r := range rows {
		if i == first || i > first && replaced(r) {
			continue
		}
		if err := b.Add(r); err != nil {
			return err
		}
	}
	b.Sections()
	return b.Err()
}

// keyPrints is a set of store keys held as 128-bit fingerprints (two
// hashes under independent seeds of this process): the keys of the rows
// since the previous image, which every row kept from it is checked
// against. A set of the keys themselves held each key's strings, ~150 MiB
// for the rows of a 1M-record import, which set the peak of the server's
// next image; a map of their fingerprints ~49 MiB, still the largest
// thing in the heap at that peak. They are appended to a list sized
// beforehand (16 bytes a key) and sorted once all are in (seal), then
// searched. Two keys share a fingerprint with a chance of ~2^-128 a pair.
type keyPrints struct {
	seeds  [2]maphash.Seed
	list   [][2]uint64
	sealed bool
}

// newKeyPrints returns an empty set with room for about n keys (the
// rows since the previous image, at most; 0: none known).
func newKeyPrints(n int64) *keyPrints {
	// A bound, not a count: sequence numbers may skip. Past 4M keys
	// (64 MiB) the list grows as it fills instead.
	n = min(max(n, 0), 1<<22)
	return &keyPrints{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, list: make([][2]uint64, 0, n)}
}

func (p *keyPrints) print(k domain.Key) (f [2]uint64) {
	var h maphash.Hash
	for i, seed := range p.seeds {
		h.SetSeed(seed)
		h.WriteString(string(k.Kind))
		h.WriteByte(0)
		h.WriteString(k.Source)
		h.WriteByte(0)
		h.WriteString(k.ID)
		f[i] = h.Sum64()
	}
	return f
}

// add puts k in the set; not after seal.
func (p *keyPrints) add(k domain.Key) {
	if p.sealed {
		panic("keyPrints: add after seal")
	}
	p.list = append(p.list, p.print(k))
}

// seal ends the adds: the list is sorted and each fingerprint kept once,
// for has and len.
func (p *keyPrints) seal() {
	slices.SortFunc(p.list, comparePrints)
	p.list = slices.Compact(p.list)
	p.sealed = true
}

func comparePrints(a, b [2]uint64) int {
	return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
}

// has reports whether k is in the set; only after seal.
func (p *keyPrints) has(k domain.Key) bool {
	if !p.sealed {
		panic("keyPrints: has before seal")
	}
	_, ok := slices.BinarySearchFunc(p.list, p.print(k), comparePrints)
	return ok
}

// len is the number of keys in the set; only after seal.
func (p *keyPrints) len() int {
	if !p.sealed {
		panic("keyPrints: len before seal")
	}
	return len(p.list)
}

// rowKey is the store key of an image row: a record's own (the store
// keys a record by its kind, source and id), or a quarantined row's.
func rowKey(r image.Row) domain.Key {
	if r.Rec == nil {
		return r.Key
	}
	return domain.KeyOf(r.Rec)
}

// DefaultImageEvery and DefaultImageRows say when a serving engine
// writes its image again: after ImageRows new rows (a large import) at
// the next check, else once ImageEvery has passed since the last image
// when anything was published since.
const (
	DefaultImageEvery = 10 * time.Minute
	DefaultImageRows  = 100_000
)

// imageCheck is how often KeepImage looks at the published sequence.
const imageCheck = time.Minute

// KeepImage writes the image while ctx lasts: a minute after the first
// load is published when the start did not use an image of the store's
// current rows, then as DefaultImageEvery and DefaultImageRows say. A
// failure is logged and retried at the next period.
func (e *Engine) KeepImage(ctx context.Context, every time.Duration) {
	if e.Image == "" {
		return
	}
	if every <= 0 {
		every = DefaultImageEvery
	}
	select {
	case <-e.readyCh:
	case <-ctx.Done():
		return
	}
	var lastTry time.Time
	failed, stateTried := false, int64(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(cmp.Or(e.img.check, imageCheck)):
		}
		st := e.imageStatus()
		have := st.Seq
		moved := e.published.Load() - have
		soon := (have == 0 || moved >= DefaultImageRows) && !failed
		if moved <= 0 && have > 0 && st.DatasetSeq < have && stateTried != have {
			// The image is current but the state is not: a start from
			// the rows image (the state missing, damaged, or of another
			// build after an upgrade) writes it once, else every start
			// until new rows arrive would apply every row again. Tried
			// once per image: a dataset with earlier settings epochs
			// writes none.
			stateTried = have
			start := time.Now()
			if err := e.WriteState(ctx); err != nil {
				e.log().Error("writing the dataset state", "path", e.statePath(), "err", err)
			} else if st := e.imageStatus(); st.DatasetSeq == have {
				e.log().Info("dataset state written", "path", e.statePath(), "seq", have, "seconds", time.Since(start).Seconds())
			}
			continue
		}
		if moved <= 0 || (!soon && time.Since(lastTry) < every) {
			continue
		}
		lastTry = time.Now()
		start := time.Now()
		seq, err := e.WriteImage(ctx)
		if failed = err != nil; failed {
			if ctx.Err() == nil {
				e.log().Error("writing the dataset image", "path", e.Image, "err", err)
			}
			continue
		}
		state := false
		if im := e.imageStatus(); im != nil {
			state = im.DatasetSeq == seq && !im.DatasetWritten.IsZero()
		}
		e.log().Info("dataset image written", "path", e.Image, "seq", seq, "dataset_state", state, "seconds", time.Since(start).Seconds())
	}
}

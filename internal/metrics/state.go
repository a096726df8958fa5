package metrics

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/candor/candor/internal/domain"
)

// The dataset's state: everything a load builds — the string table, the
// slabs of rows, the id indexes, the time orders, the presence index and
// the links Prepare settled — written as it is, so that a start reads it
// back with copies instead of applying every record again (interning each
// string, probing each index, sorting each order). Rows and index arrays
// are written byte for byte; what holds pointers (a deployment's service,
// the incidents and SLIs, the per-service orders of deployments) is
// written as row numbers and rebuilt. Other caches and memos are not
// written: a read fills them again.
//
// The encoding depends on the row layouts (StateSchema) and on the settings
// applying a record derives fields under (Config.StateHash); a reader
// holds both to its own and refuses a mismatch. Of the caches only the
// organisation's lead times per day, the deployments' lead-time and
// failure memos and the release-impact sums per day and per deployment are
// written: the largest part of a first scorecard, and valid for any as_of
// (leadday.go, leadmemo.go, link.go, impact.go); the release-impact sums
// with the settings they were made under (Config.impactKey), which a
// reader under others leaves. A dataset under earlier
// settings (epochs) is not written: its owner loads it from records.

// stateVersion changes when the encoding below changes.
const stateVersion = 24

// StateSchema names the state's encoding and the layout of every row
// written byte for byte: a build whose rows changed reads another schema.
func StateSchema() string { return stateSchema(stateRowTypes, presenceAttrs) }

// stateSchema is StateSchema for the row types given and presence as the
// scope attributes the presence index holds per kind.
func stateSchema(rowTypes []any, presence map[domain.Kind][]string) string {
	h := sha256.New()
	fmt.Fprintf(h, "state %d\n", stateVersion)
	// The layout's constants and hashes: the string table's locations,
	// its slots and the id indexes' slots mean nothing under others, and
	// rows are written in this machine's byte order.
	fmt.Fprintf(h, "slab %d str %d row %d %x endian %v\n", slabShift, strOffBits, rowBits, uint64(rowHash), binary.NativeEndian.Uint16([]byte{1, 0}) == 1)
	fmt.Fprintf(h, "strHash %x %x\n", strHash("candor"), strHash("a string longer than one word of eight bytes"))
	for _, v := range rowTypes {
		describeType(h, reflect.TypeOf(v))
	}
	// The presence index is written as built: a state from a build whose
	// kinds carried other scope attributes (before subscriptions carried
	// their segment) would answer "no data" for a value it never indexed.
	// The image header's build ID refuses another build's state already;
	// this holds where no build ID can be read, as the row layouts do.
	for _, k := range slices.Sorted(maps.Keys(presence)) {
		fmt.Fprintf(h, "presence %s %v\n", k, presence[k])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// stateRowTypes are the types written as raw memory.
var stateRowTypes = []any{
	Dep{}, chgRow{}, depRow{}, Inc{}, SLISample{},
	ticketRow{}, surveyRow{}, vulnRow{}, controlRow{}, costRow{}, usageRow{}, budgetRow{},
	subRow{}, oppRow{}, leadRow{}, quotaRow{}, spendRow{}, targetRow{}, measurementRow{},
}

func describeType(h interface{ Write([]byte) (int, error) }, t reflect.Type) {
	fmt.Fprintf(h, "%s size %d\n", t.Name(), t.Size())
	for i := range t.NumField() {
		f := t.Field(i)
		fmt.Fprintf(h, "  %s %s @%d\n", f.Name, f.Type, f.Offset)
	}
}

// StateHash names the settings the state was derived under: applying a
// record derives fields from them (a deployment being production, an
// environment's canonical name), so a state written under others is not
// this configuration's.
func (c Config) StateHash() string {
	b, err := json.Marshal(struct {
		ProductionNames    []string
		EnvironmentAliases map[string]string
		AttributionWindow  int64
	}{c.ProductionNames, c.EnvironmentAliases, int64(c.AttributionWindow)})
	if err != nil {
		panic(err) // strings and a number
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// impactKey names the settings release-impact sums are made under (the
// tickets' weights and the observation window): the state keeps the sums
// with it, and a reader under other settings leaves them.
func (c Config) impactKey() string {
	b, err := json.Marshal(struct {
		Weights impactWeights
		Window  int64
	}{c.impactWeights(), int64(c.impactWindow())})
	if err != nil {
		panic(err) // maps of strings to numbers, and a number
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:16])
}

// ---------------------------------------------------------------- writing

// stateWriter hands the encoding out in pieces of about stateChunk bytes,
// so a caller can write a large dataset with little memory of its own.
type stateWriter struct {
	buf  []byte
	done int // bytes handed to emit
	emit func([]byte) error
	err  error
}

// A variable so that tests make pieces small enough for their datasets to
// reach every way an array is placed.
var stateChunk = 4 << 20

func (w *stateWriter) flush() {
	if w.err == nil && len(w.buf) > 0 {
		w.err = w.emit(w.buf)
	}
	w.done += len(w.buf)
	w.buf = w.buf[:0]
}

func (w *stateWriter) bytes(p []byte) {
	for len(p) > 0 {
		n := min(len(p), stateChunk-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		if len(w.buf) >= stateChunk {
			w.flush()
		}
	}
}

func (w *stateWriter) u64(v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	w.bytes(b[:])
}

func (w *stateWriter) int(v int) { w.u64(uint64(v)) }

// json writes v as its JSON (reference data, quarantined rows: small and
// few), failing the write when it does not marshal.
func (w *stateWriter) json(v any) {
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.str(string(b))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (w *stateWriter) str(s string) {
	w.int(len(s))
	w.bytes(unsafe.Slice(unsafe.StringData(s), len(s)))
}

// rawOf writes a slice of a pointer-free type as its memory, starting and
// ending at a multiple of 8 bytes of the encoding and within one piece, so
// that a reader of a mapped file can use it where it lies
// (stateReader.inPlace): one too large for the rest of the piece starts
// the next, and one of a piece or more is a piece of its own, handed to
// emit as it is.
func rawOf[T any](w *stateWriter, a []T) {
	w.int(len(a))
	if len(a) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), len(a)*int(unsafe.Sizeof(a[0])))
	w.align()
	if len(b) >= stateChunk {
		w.piece(b)
		return
	}
	if len(b) > stateChunk-len(w.buf) {
		w.flush()
	}
	w.bytes(b)
	w.align()
}

// piece hands b to emit as a piece of its own, after what is buffered.
// Every piece but the last is a multiple of 8 bytes long, so that a
// piece's offsets and the encoding's agree on alignment: b is padded with
// zeros (a copy) when it is not.
func (w *stateWriter) piece(b []byte) {
	w.flush()
	if len(b)%8 != 0 {
		b = append(b[:len(b):len(b)], make([]byte, -len(b)&7)...)
	}
	if w.err == nil {
		w.err = w.emit(b)
	}
	w.done += len(b)
}

// rawPiece is rawOf for the string table's chunks: each is a piece of
// its own, whatever its size, so that it starts at a page of the file and
// no other array shares its pages. A following engine that goes on from
// a newer state maps the pages of the chunks it read in place onto the
// same chunks in the newer file (engine: moving strings), so that the
// strings it handed out stay valid while the older file goes.
//
// A chunk is written padded with zeros to a multiple of 8 bytes (every
// piece but the last must be) and read back so: nothing reads past a
// string's bytes, and the strings interned after a read follow the zeros.
// The padding is taken from the chunk's own spare room, which nothing has
// written, rather than from a copy of it (a MiB each).
func rawPiece(w *stateWriter, b []byte) {
	if pad := -len(b) & 7; pad > 0 {
		if cap(b)-len(b) >= pad {
			b = b[:len(b)+pad]
			clear(b[len(b)-pad:])
		} else {
			b = append(b[:len(b):len(b)], make([]byte, pad)...)
		}
	}
	w.int(len(b))
	if len(b) == 0 {
		return
	}
	w.align()
	w.piece(b)
}

// align pads the encoding to a multiple of 8 bytes. Pieces start at a
// multiple of 4 KiB of the file (image.Writer) and, but for the last, are
// multiples of 8 bytes long, so an array written next lies at an address
// any row type can be read at.
func (w *stateWriter) align() {
	var zero [8]byte
	w.bytes(zero[:-(w.done+len(w.buf))&7])
}

// ---------------------------------------------------------------- reading

// stateReader reads the encoding back from the pieces it was handed out
// in. Unless keep is set everything read is copied; with keep, arrays of
// rows and numbers that lie whole in a piece are used where they lie.
type stateReader struct {
	pieces [][]byte
	cur    []byte
	next   int             // the index of pieces[0] among all the pieces
	enter  func(int) error // called before a piece is read; may be nil
	left   int             // bytes not read yet, in all the pieces
	size   int             // bytes in all the pieces
	keep   bool
	mem    *stateMem // with keep: what arrays used in place share
	err    error
}

// fits reports whether n items of size bytes can still be read, failing
// the read when not: a damaged count then ends it instead of allocating
// without bound.
func (r *stateReader) fits(n, size int) bool {
	if r.err != nil {
		return false
	}
	if n < 0 || size > 0 && n > r.left/size {
		r.err = fmt.Errorf("dataset state: %d items of %d bytes, %d bytes left", n, size, r.left)
		return false
	}
	return true
}

var errStateShort = errors.New("dataset state: truncated")

// advance moves to the next piece once cur is read, failing the read
// when there is none or it fails its check.
func (r *stateReader) advance() bool {
	if r.err != nil {
		// enter is called once a piece: a piece it refused is not
		// entered again by the reads that follow the failure.
		return false
	}
	if len(r.pieces) == 0 {
		if r.err == nil {
			r.err = errStateShort
		}
		return false
	}
	if r.enter != nil {
		if err := r.enter(r.next); err != nil {
			r.err = err
			return false
		}
	}
	r.cur, r.pieces = r.pieces[0], r.pieces[1:]
	r.next++
	return true
}

func (r *stateReader) fill(dst []byte) {
	for len(dst) > 0 {
		if len(r.cur) == 0 {
			if !r.advance() {
				clear(dst)
				return
			}
			continue
		}
		n := copy(dst, r.cur)
		dst, r.cur = dst[n:], r.cur[n:]
		r.left -= n
	}
}

// align skips the padding stateWriter.align wrote.
func (r *stateReader) align() {
	var pad [8]byte
	r.fill(pad[:-(r.size-r.left)&7])
}

// inPlace returns the next n bytes where they lie, for an array of items
// aligned to a bytes: only when the reader may keep them and they lie
// whole in one piece at such an address (nil otherwise: the caller copies
// them). The slice's capacity is its length, so appending to it copies.
func (r *stateReader) inPlace(n, a int) []byte {
	if !r.keep || r.err != nil || n == 0 || len(r.cur) == 0 && !r.advance() {
		return nil
	}
	if len(r.cur) < n || uintptr(unsafe.Pointer(unsafe.SliceData(r.cur)))%uintptr(a) != 0 {
		return nil
	}
	b := r.cur[:n:n]
	r.cur = r.cur[n:]
	r.left -= n
	return b
}

func (r *stateReader) u64() uint64 {
	var b [8]byte
	r.fill(b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// int reads a number written by stateWriter.int.
func (r *stateReader) int() int {
	v := r.u64()
	if v > math.MaxInt64 {
		if r.err == nil {
			r.err = fmt.Errorf("dataset state: a number of %d", v)
		}
		return 0
	}
	return int(v)
}

// count reads how many things follow: each takes a byte or more of what
// is left, so a larger count is damage, which ends the read before
// anything is allocated by it.
func (r *stateReader) count() int {
	n := r.int()
	if !r.fits(n, 1) {
		return 0
	}
	return n
}

// each reads a count and calls fn that many times, stopping at the first
// failure.
func (r *stateReader) each(fn func()) {
	for range r.count() {
		if r.err != nil {
			return
		}
		fn()
	}
}

// json reads what stateWriter.json wrote into v.
func (r *stateReader) json(v any, what string) {
	if err := json.Unmarshal([]byte(r.str()), v); err != nil && r.err == nil {
		r.err = fmt.Errorf("dataset state: %s: %w", what, err)
	}
}

func (r *stateReader) str() string {
	n := r.count()
	if r.err != nil || n == 0 {
		return ""
	}
	b := make([]byte, n)
	r.fill(b)
	return string(b)
}

// rawRead reads a slice written by rawOf: where it lies when the reader
// keeps the pieces, else a copy. T holds no pointer (rawOf wrote its
// memory).
func rawRead[T any](r *stateReader) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	n := r.int()
	if n == 0 || !r.fits(n, size) {
		return nil
	}
	r.align()
	defer r.align()
	if b := r.inPlace(n*size, int(unsafe.Alignof(zero))); b != nil {
		return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
	}
	a := make([]T, n)
	r.fill(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), n*size))
	return a
}

// rawInto reads a slice written by rawOf into dst, which must have its
// length: a slab chunk keeps its size.
func rawInto[T any](r *stateReader, dst []T) {
	n := r.int()
	if r.err == nil && n != len(dst) {
		r.err = fmt.Errorf("dataset state: a chunk of %d rows, want %d", n, len(dst))
	}
	if r.err != nil || n == 0 {
		return
	}
	r.align()
	r.fill(unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), n*int(unsafe.Sizeof(dst[0]))))
	r.align()
}

// ---------------------------------------------------------------- parts

func writeSlab[T any](w *stateWriter, s *slab[T]) {
	w.int(int(s.n))
	rawOf(w, s.free)
	w.int(len(s.chunks))
	for _, c := range s.chunks {
		rawOf(w, c)
		// A chunk outside the heap goes back once written: writing the
		// state reads every row, and a large catch-up's were out of
		// the resident set until then.
		s.done(c)
	}
}

func readSlab[T any](r *stateReader, s *slab[T]) {
	var zero T
	s.n = int32(r.int())
	s.free = rawRead[int32](r)
	n := r.int()
	if !r.fits(n, 1<<slabShift*int(unsafe.Sizeof(zero))) {
		return
	}
	s.chunks = make([][]T, n)
	for i := range s.chunks {
		if r.keep {
			c := rawRead[T](r)
			if r.err == nil && len(c) != 1<<slabShift {
				r.err = fmt.Errorf("dataset state: a chunk of %d rows, want %d", len(c), 1<<slabShift)
			}
			s.chunks[i] = c
			continue
		}
		s.chunks[i] = make([]T, 1<<slabShift)
		rawInto(r, s.chunks[i])
	}
}

func writeIndex(w *stateWriter, x *rowIndex) {
	rawOf(w, x.rows)
	rawOf(w, x.keys)
	w.int(x.n)
	w.int(int(x.shift))
}

func readIndex(r *stateReader, x *rowIndex) {
	x.rows = rawRead[uint32](r)
	x.keys = rawRead[uint32](r)
	x.mem = r.mem
	x.n = r.int()
	x.shift = uint8(r.int())
	n := len(x.rows)
	if r.err == nil && n > 0 && (n&(n-1) != 0 || int(x.shift) != 64-bits.TrailingZeros(uint(n)) ||
		(len(x.keys) != 0 && len(x.keys) != n) || x.n > n) {
		r.err = fmt.Errorf("dataset state: an index of %d slots with shift %d, %d keys and %d entries", n, x.shift, len(x.keys), x.n)
	}
}

// An order of values is written with orderSpare zeros after its items,
// like the string locations (locSpare): a dataset read in place appends
// the rows newer than the state there, where an order with no room is
// copied whole at its first append and again by Trim (at scale 10 a start
// applying 5,000 incidents and 7 deployments spent ~0.19 s copying the
// production deployments' order and the deployments' times, and held
// ~100 MB more).
func writeOrder[T comparable](w *stateWriter, s *sorted[T]) {
	w.int(len(s.items))
	rawOf(w, withRoom(s.items, orderSpare(len(s.items))))
	w.int(s.n)
}

func readOrder[T comparable](r *stateReader, s *sorted[T]) {
	n := r.int()
	items := rawRead[T](r)
	if r.err == nil && len(items) != n+orderSpare(n) {
		r.err = fmt.Errorf("dataset state: an order of %d items in room for %d", n, len(items))
	}
	if r.err == nil {
		s.items = items[:n]
	}
	s.n = r.int()
	if r.err == nil && (s.n < 0 || s.n > n) {
		r.err = fmt.Errorf("dataset state: an order of %d items, %d of them in order", n, s.n)
	}
}

// orderSpare is the room a state keeps after an order of n items.
func orderSpare(n int) int { return n / 64 }

// An order of pointers is written as the rows (or positions) they name.
func writeOrderOf[T comparable](w *stateWriter, s *sorted[T], num func(T) int32) {
	rows := make([]int32, len(s.items))
	for i, x := range s.items {
		rows[i] = num(x)
	}
	rawOf(w, rows)
	w.int(s.n)
}

func readOrderOf[T comparable](r *stateReader, s *sorted[T], at func(int32) T) {
	rows := rawRead[int32](r)
	s.items = make([]T, len(rows))
	for i, n := range rows {
		s.items[i] = at(n)
	}
	s.n = r.int()
}

func writeLists[K cmp.Ordered, T any](w *stateWriter, m map[K][]T, key func(K), num func(T) int32) {
	writeMap(w, m, cmp.Compare, func(k K, l []T) {
		key(k)
		rows := make([]int32, len(l))
		for i, x := range l {
			rows[i] = num(x)
		}
		rawOf(w, rows)
	})
}

// readLists reads lists written by writeLists, each list's rows turned
// into its items by list: rowsAt(at) for lists of records, rowList for
// lists of rows, which stay where they lie when the reader keeps the
// pieces (at scale 10 the tickets of ~300,000 releases, copied one by one
// ~20 ms of a start).
func readLists[K comparable, T any](r *stateReader, key func() K, list func([]int32) []T) map[K][]T {
	n := r.count()
	m := make(map[K][]T, n)
	for range n {
		if r.err != nil {
			break
		}
		k := key()
		m[k] = list(rawRead[int32](r))
	}
	return m
}

// rowsAt turns a list of rows into the records at them.
func rowsAt[T any](at func(int32) T) func([]int32) []T {
	return func(rows []int32) []T {
		l := make([]T, len(rows))
		for i, x := range rows {
			l[i] = at(x)
		}
		return l
	}
}

// rowList keeps a list of rows as read: nothing is appended in place, a
// list's capacity ending with it.
func rowList(rows []int32) []int32 { return rows }

func writeCodeSet(w *stateWriter, m map[uint32]bool) {
	var ks []uint32
	for k, v := range m {
		if v {
			ks = append(ks, k)
		}
	}
	slices.Sort(ks)
	rawOf(w, ks)
}

func readCodeSet(r *stateReader) map[uint32]bool {
	ks := rawRead[uint32](r)
	m := make(map[uint32]bool, len(ks))
	for _, k := range ks {
		m[k] = true
	}
	return m
}

// writeOrders writes orders by name (a service's), in name order; an
// order of pointers as the rows or positions num gives them.
// writeValueOrders writes orders of values by key, each as writeOrder
// does: read where they lie, with room after them (the changes by service,
// ~3M rows at scale 10, were copied item by item, ~40 ms of a start).
func writeValueOrders[T comparable](w *stateWriter, m map[string]*sorted[T]) {
	writeMap(w, m, cmp.Compare, func(k string, s *sorted[T]) {
		w.str(k)
		writeOrder(w, s)
	})
}

func readValueOrders[T comparable](r *stateReader, m map[string]*sorted[T], time func(T) int64, id func(T) string) {
	r.each(func() {
		readOrder(r, sortedFor(m, r.str(), time, id))
	})
}

func writeOrders[T comparable](w *stateWriter, m map[string]*sorted[T], num func(T) int32) {
	writeMap(w, m, cmp.Compare, func(k string, s *sorted[T]) {
		w.str(k)
		writeOrderOf(w, s, num)
	})
}

// readOrders reads what writeOrders wrote into m, each order made by
// sortedFor with time and id as the dataset makes it.
func readOrders[T comparable](r *stateReader, m map[string]*sorted[T], time func(T) int64, id func(T) string, at func(int32) T) {
	r.each(func() {
		readOrderOf(r, sortedFor(m, r.str(), time, id), at)
	})
}

// locSpare is how many more string locations than n the state holds, as
// zeros after the n: a dataset read in place appends the strings of the
// rows newer than the state there, where an array with no room is copied
// whole first (at scale 10 the 30 MB of locations, ~25 ms of a start that
// applies a few thousand newer rows).
func locSpare(n int) int { return max(1<<16, n/64) }

// withSpare returns loc and locSpare zeros after it, in its own spare
// capacity when that is large enough (what append left there is zeros:
// locations are only ever appended).
func withSpare(loc []uint32) []uint32 { return withRoom(loc, locSpare(len(loc))) }

// withRoom returns a and spare zeros after it, in its own capacity when
// that is large enough: what append, slices.Insert and slices.Delete leave
// past the length of the arrays it is given is zeros.
func withRoom[T any](a []T, spare int) []T {
	n := len(a) + spare
	if cap(a) >= n {
		return a[:n]
	}
	return append(slices.Clip(a), make([]T, spare)...)
}

// writeLead writes one part of a lead-time day (leadDay), whose runs lie
// in vals (joinMemos): a memo the state carried (st) has none there.
func writeLead(w *stateWriter, m *leadMemo) {
	w.u64(uint64(m.validFrom))
	w.int(int(m.explicit))
	w.int(int(m.inferred))
	rawOf(w, m.spans())
	rawOf(w, m.ends[:])
}

func readLead(r *stateReader, m *leadMemo) {
	*m = leadMemo{validFrom: int64(r.u64()), explicit: int32(r.int()), inferred: int32(r.int())}
	vals := rawRead[float64](r)
	ends := rawRead[uint32](r)
	if r.err != nil {
		return
	}
	if len(ends) != len(m.ends) || !slices.IsSorted(ends) || int(ends[len(ends)-1]) != len(vals) {
		r.err = fmt.Errorf("dataset state: a lead-time day's runs do not fit together (%d ends, %d spans)", len(ends), len(vals))
		return
	}
	copy(m.ends[:], ends)
	m.setSpans(vals)
}

// writeChgExact writes the changes' exact times (Dataset.chgExact) by
// row, readChgExact's way.
func writeChgExact(w *stateWriter, m map[int32]chgTimes) {
	rows := slices.Sorted(maps.Keys(m))
	w.int(len(rows))
	for _, i := range rows {
		t := m[i]
		w.int(int(i))
		for _, v := range []int64{t.merged, t.authored, t.opened, t.firstReview} {
			w.u64(uint64(v))
		}
	}
}

// readChgExact reads the exact times of the changes whose rows hold
// secsExact (Dataset.chgExact), after their slab: an entry for a row that
// holds none is damage.
func readChgExact(r *stateReader, d *Dataset) {
	r.each(func() {
		n := r.int()
		if n >= int(d.chgs.n) || d.chgs.at(int32(n)).merged != secsExact {
			if r.err == nil {
				r.err = fmt.Errorf("dataset state: exact times for change row %d, which holds none", n)
			}
			return
		}
		i := int32(n)
		var t chgTimes
		for _, v := range []*int64{&t.merged, &t.authored, &t.opened, &t.firstReview} {
			*v = int64(r.u64())
		}
		if d.chgExact == nil {
			d.chgExact = map[int32]chgTimes{}
		}
		d.chgExact[i] = t
	})
}

// writeHeld writes the records of a kind held by pointer, in key order,
// and returns the position of each for the orders and lists naming them.
func writeHeld[T any](w *stateWriter, m map[uint64]*T) func(*T) int32 {
	keys := slices.Sorted(maps.Keys(m))
	pos := make(map[*T]int32, len(keys))
	all := make([]T, len(keys))
	for i, k := range keys {
		all[i] = *m[k]
		pos[m[k]] = int32(i)
	}
	rawOf(w, all)
	return func(x *T) int32 { return pos[x] }
}

// readHeld reads the records of a kind held by pointer (written as an
// array by position), hands each to put, and returns the lookup of one by
// its position, which fails the read for a position out of range.
func readHeld[T any](r *stateReader, what string, put func(*T)) func(int32) *T {
	all := rawRead[T](r)
	for i := range all {
		put(&all[i])
	}
	return func(i int32) *T {
		if i < 0 || int(i) >= len(all) {
			if r.err == nil {
				r.err = fmt.Errorf("dataset state: %s %d of %d", what, i, len(all))
			}
			return nil
		}
		return &all[i]
	}
}

// ---------------------------------------------------------------- the dataset

// writeMap writes a map's size, then each entry in the order of its keys
// by compare, so that a dataset writes the same bytes whatever its maps'
// iteration order; readEach reads it back.
func writeMap[K comparable, V any](w *stateWriter, m map[K]V, compare func(a, b K) int, each func(K, V)) {
	w.int(len(m))
	for _, k := range slices.SortedFunc(maps.Keys(m), compare) {
		each(k, m[k])
	}
}

// writeByRecord writes a value per record (retro-validations' times,
// scans), in the records' order.
func writeByRecord[V any](w *stateWriter, m map[recKey]V, each func(V)) {
	writeMap(w, m, func(a, b recKey) int {
		return cmp.Or(cmp.Compare(a.source, b.source), cmp.Compare(a.id, b.id))
	}, func(k recKey, v V) {
		w.str(k.source)
		w.str(k.id)
		each(v)
	})
}

// readByRecord reads what writeByRecord wrote into m.
func readByRecord[V any](r *stateReader, m map[recKey]V, read func() V) {
	r.each(func() {
		src, id := r.str(), r.str()
		m[key(src, id)] = read()
	})
}

// writeDays writes a cache kept per day, taken under its lock (readers
// fill it meanwhile), in day order: each day, then what each writes of it.
func writeDays[V any](w *stateWriter, mu *sync.Mutex, m map[int64]V, each func(V)) {
	mu.Lock()
	days := maps.Clone(m)
	mu.Unlock()
	writeMap(w, days, cmp.Compare, func(day int64, v V) {
		w.u64(uint64(day))
		each(v)
	})
}

// ErrStateUnwritable says a dataset cannot be written as it is: applied
// rows are waiting for Prepare.
var ErrStateUnwritable = errors.New("dataset state: rows applied since the last Prepare")

// WriteState writes the dataset's state, handing the encoding to emit in
// pieces (each valid only during the call). The caller holds the dataset
// still (its read lock, or a dataset no one else writes); it must have
// been prepared since the last Apply.
func (d *Dataset) WriteState(emit func([]byte) error) error {
	if len(d.relink) > 0 || len(d.pending) > 0 || len(d.ticketRows) > 0 {
		return ErrStateUnwritable
	}
	w := &stateWriter{buf: make([]byte, 0, stateChunk), emit: emit}
	w.int(stateVersion)
	w.int(int(d.seq.n.Load()))

	// Reference data and the string table.
	writeMap(w, d.Services, cmp.Compare, func(id string, s *domain.Service) {
		w.str(id)
		w.json(s)
	})
	t := d.strs
	w.int(len(t.chunks))
	for _, c := range t.chunks {
		w.int(cap(c))
		rawPiece(w, c)
	}
	w.int(len(t.loc))
	rawOf(w, withSpare(t.loc))
	rawOf(w, t.slots)
	w.int(int(t.bits))
	rawOf(w, t.overPairs())

	// Services' states, in the order a deployment names them by (Dep.svc).
	w.int(len(d.svcList))
	for _, s := range d.svcList {
		w.str(s.name)
		w.u64(s.failGen)
	}
	w.u64(d.gen)

	writeSlab(w, &d.deps)
	writeIndex(w, &d.depByID)
	rawOf(w, d.chgRefs.codes)
	w.int(d.chgRefs.dead)
	depNum := func(x *Dep) int32 { return x.row }
	u32 := func(k uint32) { w.u64(uint64(k)) }
	writeLists(w, d.rollbacksOf, u32, depNum)
	writeIndex(w, &d.listedBy)
	writeLists(w, d.listedMore, u32, depNum)
	writeCodeSet(w, d.doubtful)
	writeByRecord(w, d.retro, func(at int64) { w.u64(uint64(at)) })
	writeByRecord(w, d.scans, func(s heldScan) {
		w.u64(uint64(s.at))
		w.str(s.service)
	})
	writeIndex(w, &d.depsByCR)
	writeOrder(w, d.prodDeps)
	writeOrders(w, d.svcDeps, depNum)
	writeOrders(w, d.svcElig, depNum)
	var emergency []int32
	for x, on := range d.emergency {
		if on {
			emergency = append(emergency, x.row)
		}
	}
	slices.Sort(emergency)
	rawOf(w, emergency)
	writeMap(w, d.envs, cmp.Compare, func(k string, n int) {
		w.str(k)
		w.int(n)
	})

	// Changes.
	writeSlab(w, &d.chgs)
	writeChgExact(w, d.chgExact)
	writeIndex(w, &d.changeByID)
	writeValueOrders(w, d.svcChanges)

	// Incidents and SLIs, by key; the orders and lists name them by
	// their position in that list.
	incNum := writeHeld(w, d.incidents)
	for _, s := range []*sorted[*Inc]{d.incByOpened, d.incByRes, d.incByDue} {
		writeOrderOf(w, s, incNum)
	}
	writeOrders(w, d.svcInc, incNum)
	writeLists(w, d.incByCause, u32, incNum)
	writeLists(w, d.incByCR, u32, incNum)
	sliNum := writeHeld(w, d.slis)
	writeOrderOf(w, d.sliAll, sliNum)
	writeOrderOf(w, d.sliLatency, sliNum)

	// The other kinds' rows.
	for _, k := range slices.Sorted(maps.Keys(d.rows.byKind)) {
		d.rows.byKind[k].writeState(w)
	}
	writeLists(w, d.rows.ticketsByRelease, u32, func(i int32) int32 { return i })
	writeOrder(w, d.rows.escalated)
	for _, s := range d.rows.byOrders() {
		writeOrder(w, s)
	}
	writeIndex(w, &d.rows.oppByID)

	// What existence and freshness are judged from.
	p := &d.presence
	writeMap(w, p.kinds, cmp.Compare, func(k domain.Kind, kp *kindPresence) {
		w.str(string(k))
		w.u64(uint64(kp.first))
		writeMap(w, kp.by, func(a, b attrVal) int {
			return cmp.Or(cmp.Compare(a.attr, b.attr), cmp.Compare(a.value, b.value))
		}, func(a attrVal, at int64) {
			w.str(a.attr)
			w.str(a.value)
			w.u64(uint64(at))
		})
	})
	writeMap(w, p.stale, cmp.Compare, func(k domain.Kind, stale bool) {
		w.str(string(k))
		w.int(boolInt(stale))
	})
	writeMap(w, d.times, cmp.Compare, func(k domain.Kind, kt *kindTimes) {
		w.str(string(k))
		writeOrder(w, kt.born)
		writeOrder(w, kt.data)
		w.int(boolInt(kt.bornIsData))
	})

	// The organisation's lead times per day, most of what a first
	// scorecard computes; a reader's later rows drop the days they reach
	// as on any dataset (invalidate, resetLead).
	writeDays(w, &d.cacheMu, d.leadDays, func(b *leadDay) {
		writeLead(w, &b.settled)
		writeLead(w, &b.late)
		rawOf(w, b.lateDeps)
	})

	// And the deployments' lead-time memos, which the partial days at a
	// window's edges read.
	writeLeads(w, d)

	// And their failure memos (rollback, attributed incidents), which
	// every change-failure and recovery window reads.
	writeFails(w, d, incNum)

	// And the release-impact sums per day and per deployment (closed
	// observation windows), under the weights and window they were summed
	// with: a reader under others leaves them.
	w.str(d.cfg.impactKey())
	writeDays(w, &d.cacheMu, d.impactDays, func(m map[*svcState]impactAcc) {
		w.int(boolInt(m != nil)) // nil: a day walked instead (impactDay)
		writeMap(w, m, func(a, b *svcState) int { return cmp.Compare(a.pos, b.pos) }, func(s *svcState, a impactAcc) {
			w.int(int(s.pos))
			w.u64(math.Float64bits(a.sum))
			w.int(a.n)
		})
	})
	writeImpacts(w, d)

	// Rows that could not be decoded.
	writeMap(w, d.quarantine, func(a, b domain.Key) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Source, b.Source), cmp.Compare(a.ID, b.ID))
	}, func(_ domain.Key, q QuarantinedRow) { w.json(q) })
	w.u64(stateEnd)
	w.flush()
	return w.err
}

// stateEnd closes the encoding: a reader that does not find it there read
// something else than was written.
const stateEnd = 0x454e4453544154 // "TATSDNE"

// SetDiscard gives a dataset read in place (ReadState with keep) the way
// to give back bytes of its state it no longer reads, its writes there
// included (image.Mapped.Discard): the caller vouches that pieces lie in
// a private mapping discard knows. Without it they stay until the
// mapping goes.
func (d *Dataset) SetDiscard(discard func(b []byte)) {
	if d.stateMem != nil {
		d.stateMem.discard = discard
	}
}

// SetChunkMemory has the rows applied from now on kept in chunks of m
// rather than the heap: the deployments', the changes' and every row
// kind's (incidents and SLI samples, held by pointer, stay in the heap).
// Called by the dataset's owner under its write lock; m must outlive the
// dataset.
func (d *Dataset) SetChunkMemory(m ChunkMemory) {
	d.deps.setMem(m)
	d.chgs.setMem(m)
	for _, t := range d.rows.byKind {
		t.setChunkMemory(m)
	}
}

// stateMem is what the arrays a dataset uses in place in its state share:
// the pieces' bytes, and the way to give back the pages of an array it
// has grown out of (SetDiscard).
type stateMem struct {
	pieces  [][]byte
	discard func([]byte)
}

// drop gives back the pages of a, an array nothing reads any more, when
// it lies in the state (an array the read copied, or one made since, is
// the heap's); m nil or without discard: nothing.
func (m *stateMem) drop(a []uint32) {
	if m == nil || m.discard == nil || len(a) == 0 {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), 4*len(a))
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for _, p := range m.pieces {
		if start := uintptr(unsafe.Pointer(unsafe.SliceData(p))); len(p) > 0 && lo >= start && lo-start+uintptr(len(b)) <= uintptr(len(p)) {
			m.discard(b)
			return
		}
	}
}

// ReadState builds a dataset under cfg from a state WriteState wrote,
// given as the pieces it was handed out in or any other cut of the same
// bytes; enter (nil: none) is called before each piece is read, in order,
// so that a caller reading a mapped file can check a piece's checksum then
// and let the previous one's pages go; an error from it ends the read.
// With keep, the dataset keeps using the pieces where arrays of rows and
// numbers lie whole in one (slabs, indexes, orders, the string table): the
// caller then never lets go of them, and they must be writable memory no
// one else writes (a private mapping of the file: see engine.readState).
// The read itself writes nothing to them.
// Without, nothing of the pieces is kept.
func ReadState(cfg Config, pieces [][]byte, keep bool, enter func(piece int) error) (_ *Dataset, err error) {
	// A state that passed its checksums and checks yet does not hold
	// together (a defect) fails the read rather than the process: the
	// dataset being built is no one else's.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("dataset state: does not hold together: %v", p)
		}
	}()
	d := NewDataset(cfg)
	r := &stateReader{pieces: pieces, enter: enter, keep: keep}
	if keep {
		d.stateMem = &stateMem{pieces: pieces}
		r.mem = d.stateMem
	}
	for _, p := range pieces {
		r.left += len(p)
	}
	r.size = r.left
	if v := r.int(); r.err == nil && v != stateVersion {
		return nil, fmt.Errorf("dataset state: version %d, this build reads %d", v, stateVersion)
	}
	d.seq.n.Store(int64(r.int()))

	r.each(func() {
		id, s := r.str(), new(domain.Service)
		r.json(s, "service "+strconv.Quote(id))
		d.Services[id] = s
	})
	t := d.strs
	t.chunks = make([][]byte, r.count())
	for i := range t.chunks {
		if r.err != nil {
			break
		}
		// A capacity, not a count: bounded by the largest a chunk takes.
		c := r.int()
		b := rawRead[byte](r)
		c = max(len(b), min(c, strChunkMax))
		// The last chunk keeps its capacity: it takes the strings
		// interned after the load. The others are full and are kept
		// where they lie when the reader may.
		if r.keep && i < len(t.chunks)-1 {
			t.chunks[i] = b
			continue
		}
		t.chunks[i] = append(make([]byte, 0, c), b...)
	}
	n := r.int()
	t.loc = rawRead[uint32](r)
	if r.err == nil && len(t.loc) != n+locSpare(n) {
		r.err = fmt.Errorf("dataset state: %d strings in a table of %d", n, len(t.loc))
	}
	if r.err == nil {
		t.loc = t.loc[:n]
	}
	t.slots = rawRead[uint32](r)
	t.bits = uint(r.int())
	if r.err == nil && (t.bits > 32 || len(t.slots) != 1<<t.bits || len(t.loc) == 0) {
		r.err = fmt.Errorf("dataset state: a string table of %d slots, %d bits and %d strings", len(t.slots), t.bits, len(t.loc))
	}
	// The slots written since a state was read in place stay apart, as
	// they were (strtab.over); a table read as a copy takes them in.
	pairs := rawRead[uint32](r)
	if r.err == nil && len(pairs)%2 != 0 {
		r.err = fmt.Errorf("dataset state: a string table overlay of %d numbers", len(pairs))
	}
	t.readonly, t.mem = r.keep, r.mem
	for k := 0; r.err == nil && k < len(pairs); k += 2 {
		i, v := pairs[k], pairs[k+1]
		if int(i) >= len(t.slots) || t.slots[i] != 0 || v == 0 {
			r.err = fmt.Errorf("dataset state: a string table overlay writes slot %d of %d", i, len(t.slots))
			break
		}
		if !t.readonly {
			t.slots[i] = v
			continue
		}
		if t.over == nil {
			t.over = make(map[uint32]uint32, len(pairs)/2)
		}
		t.over[i] = v
	}
	for c, l := range t.loc {
		if r.err != nil || c == 0 {
			continue
		}
		if ch := int(l >> strOffBits); ch >= len(t.chunks) || int(l&(strChunkMax-1)) >= len(t.chunks[ch]) {
			r.err = fmt.Errorf("dataset state: string %d lies outside the table", c)
		}
	}

	r.each(func() {
		// Looked up, not interned: the read writes nothing to the
		// pieces it keeps (a caller lets their pages go as it reads).
		n := r.str()
		c, ok := d.strs.lookup(n)
		if !ok && r.err == nil {
			r.err = fmt.Errorf("dataset state: service %q is not in the string table", n)
		}
		s := &svcState{name: d.strs.str(c), failGen: r.u64(), pos: uint32(len(d.svcList) + 1)}
		d.svcs[n] = s
		d.svcList = append(d.svcList, s)
	})
	d.gen = r.u64()

	readSlab(r, &d.deps)
	d.memoChunks = make([]atomic.Pointer[memoChunk], len(d.deps.chunks))
	readIndex(r, &d.depByID)
	d.chgRefs.codes = rawRead[uint32](r)
	d.chgRefs.dead = r.int()
	dep := func(i int32) *Dep {
		if i < 0 || i >= d.deps.n {
			if r.err == nil {
				r.err = fmt.Errorf("dataset state: deployment row %d of %d", i, d.deps.n)
			}
			return d.deps.at(0)
		}
		return d.deps.at(i)
	}
	u32 := func() uint32 { return uint32(r.u64()) }
	d.rollbacksOf = readLists(r, u32, rowsAt(dep))
	readIndex(r, &d.listedBy)
	d.listedMore = readLists(r, u32, rowsAt(dep))
	d.doubtful = readCodeSet(r)
	readByRecord(r, d.retro, func() int64 { return int64(r.u64()) })
	readByRecord(r, d.scans, func() heldScan { return heldScan{at: int64(r.u64()), service: r.str()} })
	d.scanIndexes()
	readIndex(r, &d.depsByCR)
	readOrder(r, d.prodDeps)
	readOrders(r, d.svcDeps, depTime, d.depID, dep)
	readOrders(r, d.svcElig, depTime, d.depID, dep)
	for _, i := range rawRead[int32](r) {
		d.emergency[dep(i)] = true
	}
	r.each(func() {
		k := r.str()
		d.envs[k] = r.int()
	})

	readSlab(r, &d.chgs)
	readChgExact(r, d)
	readIndex(r, &d.changeByID)
	readValueOrders(r, d.svcChanges, d.chgMerged, d.chgID)

	inc := readHeld(r, "incident", func(x *Inc) { d.incidents[rowCode(x.src, x.id)] = x })
	for _, s := range []*sorted[*Inc]{d.incByOpened, d.incByRes, d.incByDue} {
		readOrderOf(r, s, inc)
	}
	readOrders(r, d.svcInc, d.incByOpened.time, d.incByOpened.id, inc)
	d.incByCause = readLists(r, u32, rowsAt(inc))
	d.incByCR = readLists(r, u32, rowsAt(inc))
	sli := readHeld(r, "SLI", func(x *SLISample) { d.slis[rowCode(x.src, x.id)] = x })
	readOrderOf(r, d.sliAll, sli)
	readOrderOf(r, d.sliLatency, sli)

	for _, k := range slices.Sorted(maps.Keys(d.rows.byKind)) {
		if r.err == nil {
			d.rows.byKind[k].readState(r)
		}
	}
	d.rows.ticketsByRelease = readLists(r, u32, rowList)
	readOrder(r, d.rows.escalated)
	for _, s := range d.rows.byOrders() {
		readOrder(r, s)
	}
	readIndex(r, &d.rows.oppByID)

	d.presenceKinds()
	r.each(func() {
		k := domain.Kind(r.str())
		kp := &kindPresence{first: int64(r.u64()), by: map[attrVal]int64{}}
		for range r.count() {
			if r.err != nil {
				break
			}
			a := attrVal{attr: r.str(), value: r.str()}
			kp.by[a] = int64(r.u64())
		}
		d.presence.kinds[k] = kp
	})
	r.each(func() {
		k := domain.Kind(r.str())
		d.presence.stale[k] = r.int() == 1
	})
	r.each(func() {
		kt := d.timesOf(domain.Kind(r.str()))
		readOrder(r, kt.born)
		readOrder(r, kt.data)
		kt.bornIsData = r.int() == 1
	})

	r.each(func() {
		day := int64(r.u64())
		b := &leadDay{}
		readLead(r, &b.settled)
		readLead(r, &b.late)
		b.lateDeps = rawRead[int32](r)
		for _, i := range b.lateDeps {
			dep(i)
		}
		d.leadDays[day] = b
	})
	d.leadMemos = readLeads(r, d.deps.n)
	d.failMemos = readFails(r, d.deps.n, inc)
	same := r.str() == d.cfg.impactKey()
	r.each(func() {
		day := int64(r.u64())
		var m map[*svcState]impactAcc
		if r.int() == 1 {
			m = map[*svcState]impactAcc{}
		}
		r.each(func() {
			pos := r.int()
			a := impactAcc{sum: math.Float64frombits(r.u64()), n: r.int()}
			if pos < 1 || pos > len(d.svcList) || m == nil {
				if r.err == nil {
					r.err = fmt.Errorf("dataset state: release impact of service %d of %d", pos, len(d.svcList))
				}
				return
			}
			m[d.svcList[pos-1]] = a
		})
		if same {
			d.impactDays[day] = m
		}
	})
	if impacts := readImpacts(r, d.deps.n); same {
		d.impactMemos = impacts
	}
	if len(d.leadDays) > 0 || len(d.impactDays) > 0 || d.leadMemos != nil || d.failMemos != nil || d.impactMemos != nil {
		// Rows applied after the state must reset what they reach: the
		// days are memos (applyEvents skips its work until one exists;
		// a memo read back sets it as any memo taken does).
		d.memoized.Store(true)
	}

	r.each(func() {
		var q QuarantinedRow
		r.json(&q, "quarantined row")
		if d.quarantine == nil {
			d.quarantine = map[domain.Key]QuarantinedRow{}
		}
		d.quarantine[domain.Key{Kind: q.Kind, Source: q.Source, ID: q.ID}] = q
	})
	if end := r.u64(); r.err == nil && end != stateEnd {
		r.err = errors.New("dataset state: does not end where it should")
	}
	if r.err == nil && (len(r.cur) > 0 || len(r.pieces) > 0) {
		r.err = errors.New("dataset state: bytes after its end")
	}
	if r.err != nil {
		return nil, r.err
	}
	return d, nil
}

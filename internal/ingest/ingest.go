// Package ingest turns NDJSON and CSV input into validated records in the
// store. It streams: memory stays flat however large the input, and an
// import is one all-or-nothing batch, so a bad line anywhere changes
// nothing unless the caller asks to skip invalid lines.
package ingest

import (
	"bufio"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
	"github.com/candor/candor/internal/jsonenc"
	"github.com/candor/candor/internal/plural"
	"github.com/candor/candor/internal/priority"
	"github.com/candor/candor/internal/store"
)

// Options control an import.
type Options struct {
	// Kind is the expected kind: it names the kind of a CSV file without a
	// kind column, and refuses NDJSON records of another kind.
	Kind domain.Kind
	// SkipInvalid lets valid lines land when some are invalid; the invalid
	// ones are reported.
	SkipInvalid bool
	Parse       domain.ParseOptions
	// MaxLine bounds one NDJSON line or CSV record (default 16 MiB) so a
	// corrupt file cannot exhaust memory.
	MaxLine int
	// Progress, when set, is called with the input bytes consumed so far.
	Progress func(n int64)
	// MaxErrors bounds the problems listed (default 100; a record can have
	// several); counting goes on past it.
	MaxErrors int
	// Origin and By go into the ledger entry of the batch: how the records
	// came ("import" when empty, "api", a connector's name) and who sent
	// them ("cli:OSUSER", "token:NAME", "user:EMAIL").
	Origin, By string
	// Docs are appended once under their keys in the import's transaction
	// (store.Batch.AppendDocsOnce): a collector's event clocks, kept if
	// and only if the records they order are.
	Docs []store.KeyedDoc
	// Now is the clock the records' times are held against
	// (Summary.Future); zero means time.Now().
	Now time.Time
	// DryRun checks and counts everything an import would (what it would
	// insert, replace or leave unchanged, against the store as it is) in a
	// transaction of its own, and rolls it back: nothing is stored, and no
	// ledger entry is made.
	DryRun bool
}

// Source is one input: a file, stdin or a request body.
type Source struct {
	Name   string
	Reader io.Reader
	// Format is "ndjson" or "csv"; empty means by the name's extension
	// (.csv, else NDJSON), after an optional .gz.
	Format string
}

// inputErrorf is a problem of the input (not of the store): code invalid,
// so an API answers it with 400 while a store failure stays internal.
func inputErrorf(format string, args ...any) error {
	return domain.Errorf(domain.EInvalid, format, args...)
}

// LineError is one invalid input line, or one invalid object of a JSON
// document (a scan report), which Path then locates instead of Line.
type LineError struct {
	File   string
	Line   int
	Path   string // a JSON path such as $.runs[0].results[3]; Line is then 0
	Field  string
	Reason string
}

func (e LineError) Error() string {
	s := fmt.Sprintf("%s:%d: ", e.File, e.Line)
	if e.Line == 0 && e.Path != "" {
		s = e.File + ": " + e.Path + ": "
	}
	if e.Field != "" {
		s += "field " + e.Field + ": "
	}
	return s + e.Reason
}

// InvalidError is returned when input had invalid lines and SkipInvalid was
// not set: nothing was written.
type InvalidError struct {
	Lines    []LineError // the first MaxErrors problems, each record's all
	Count    int         // invalid records
	Unlisted int         // problems past MaxErrors
	// Header says a CSV header was refused (a column every record needs
	// is missing, or one is no field of the kind): the whole file, before
	// any record, whatever SkipInvalid says.
	Header bool
}

// ErrorCode is invalid (domain.Coder).
func (e *InvalidError) ErrorCode() domain.Code { return domain.EInvalid }

func (e *InvalidError) Error() string {
	var b strings.Builder
	if e.Header {
		b.WriteString("the CSV header is refused; nothing was imported")
	} else {
		b.WriteString(plural.Count(e.Count, "invalid record") + "; nothing was imported")
	}
	writeProblems(&b, e.Lines, e.Unlisted)
	return b.String()
}

// writeProblems lists problems one a line, then how many were not listed.
func writeProblems(b *strings.Builder, lines []LineError, unlisted int) {
	for _, l := range lines {
		b.WriteString("\n  ")
		b.WriteString(l.Error())
	}
	if unlisted > 0 {
		b.WriteString("\n  … and " + plural.Count(unlisted, "more problem"))
	}
}

// NoKindError is a CSV input whose records' kind cannot be told: no kind
// column, no kind in its name, none given. Callers word the remedy their
// way (the API's ?kind= parameter); Error words it for files.
type NoKindError struct{ Name string }

// ErrorCode is invalid, and ErrorParam "kind" (domain.Coder).
func (e *NoKindError) ErrorCode() domain.Code { return domain.EInvalid }
func (e *NoKindError) ErrorParam() string     { return "kind" }

func (e *NoKindError) Error() string {
	return e.Name + ": cannot tell the records' kind: add a kind column, name the file after the kind (deployments.csv) or pass --kind"
}

// KindSummary counts one kind's records.
type KindSummary struct {
	Records int64 `json:"records"`
	// Repeated is as Summary's, for the kind.
	Repeated int64 `json:"repeated"`
	store.WriteResult
}

// Repeat is a record whose key an earlier record of the same import had.
type Repeat struct {
	Key  domain.Key
	File string
	Line int
	// EarlierFile and EarlierLine are where the key's record before it
	// was; EarlierLine is 0 in the rare case that it cannot be told (two
	// earlier keys shared its fingerprint, keySet), though the repeat is.
	EarlierFile string
	EarlierLine int
	at          uint32 // the import-wide line (importer.files)
}

func (r Repeat) String() string {
	s := fmt.Sprintf("%s:%d: %s repeats ", r.File, r.Line, r.Key)
	if r.EarlierLine == 0 {
		return s + "an earlier record"
	}
	return s + fmt.Sprintf("%s:%d", r.EarlierFile, r.EarlierLine)
}

// maxRepeats is how many repeats a summary names; all are counted.
const maxRepeats = 10

// Summary reports an import.
type Summary struct {
	Records   int64                        `json:"records"`
	Invalid   int64                        `json:"invalid"`
	Skipped   []LineError                  `json:"-"`
	Unlisted  int                          `json:"-"` // problems past MaxErrors
	ByKind    map[domain.Kind]*KindSummary `json:"by_kind"`
	Seconds   float64                      `json:"seconds"`
	PerSecond float64                      `json:"records_per_second"`
	// Currencies counts the records that carry money (domain.CurrencyOf)
	// per kind and currency, so that the caller can say which have no
	// exchange rate configured (metrics.Config.Unrated): they are valid
	// and imported, but the metrics converting them have no value.
	Currencies map[domain.Kind]map[string]int64 `json:"-"`
	// Repeated counts the records of an input file or body whose key
	// (kind, source, id) an earlier record of the same import had: the
	// last of a key's records is stored, as ever, and a repeat is counted
	// here and not as inserted, replaced or unchanged, which count each
	// key's first record of the import against the store as it was
	// (records = inserted + replaced + unchanged + repeated). Repeats
	// names the first maxRepeats, by line. Records an importer of another
	// tool's format maps (ImportEntries) are not looked at.
	Repeated int64    `json:"repeated"`
	Repeats  []Repeat `json:"-"`
	// Future counts, per kind and field in the order first met, the
	// records holding a time more than FutureSlack past the clock.
	Future []FutureTimes `json:"-"`
	// Empty names the sources that held no record, valid or not (an
	// export of a failed job, a CSV of its header alone).
	Empty []string `json:"-"`
	store.WriteResult
}

// money counts a record's currency when it carries money.
func (s *Summary) money(r domain.Record) {
	cur := domain.CurrencyOf(r)
	if cur == "" {
		return
	}
	k := r.Kind()
	if s.Currencies == nil {
		s.Currencies = map[domain.Kind]map[string]int64{}
	}
	if s.Currencies[k] == nil {
		s.Currencies[k] = map[string]int64{}
	}
	s.Currencies[k][cur]++
}

// Kinds returns the kinds seen, in the canonical order: the kinds of
// SPEC §1, then those Candor writes itself (a scan import's
// vulnerability_scan records).
func (s *Summary) Kinds() []domain.Kind {
	var out []domain.Kind
	for _, k := range domain.AllKinds() {
		if s.ByKind[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// chunkSize is the records an import holds before it writes: big enough
// to amortise statements, small enough to keep memory flat. An input
// smaller than this is held whole (and may be committed in a group with
// others, Committer).
const chunkSize = 2048

// StreamChunker is implemented by a store that wants a streaming import
// (one past its first chunkSize records, in its own transaction) handed
// more records at a time than chunkSize, and each chunk written while the
// next is read and parsed. A store across a network otherwise has the
// import wait for each chunk's round trips with nothing else to do: a
// scale-1 import into PostgreSQL took 8.4–10.0 s with the overlap against
// 9.2–11.6 without, alternated four times. The embedded store, whose
// writing is CPU in this process, was 3–8 % slower with it, so it does
// not ask. Split by kind, a chunk of 2,048
// gave a PostgreSQL store parts of a few hundred rows, each a statement;
// at 16,384 its larger kinds' parts reach its COPY path and a scale-1
// import went from ~40–56k to ~50–68k records a second. The embedded
// store is better off with 2,048: its writer then overlaps the parsing
// more closely, and at 16,384 a scale-10 import fell from ~94–103k to
// ~87–90k records a second (docs/performance.md, "PostgreSQL imports in
// larger chunks"). 16,384 records of a few hundred bytes hold ~10–12 MB
// (each item, its copy split by kind, its hashes and body); with the
// overlap two chunks are held.
type StreamChunker interface {
	StreamChunk() int
}

// streamChunk is the records a streaming import hands st at a time.
func streamChunk(st store.Store) int {
	if c, ok := st.(StreamChunker); ok {
		return max(c.StreamChunk(), chunkSize)
	}
	return chunkSize
}

type pending struct {
	items []store.Item
	kinds []domain.Kind
	// lines are the items' import-wide lines (importer.keys), ascending.
	lines []uint32
}

// Import reads every source into one batch and commits it only if the
// input is acceptable.
func Import(ctx context.Context, st store.Store, sources []Source, opt Options) (*Summary, error) {
	return importWith(ctx, st, nil, opt, readSources(sources))
}

// readSources feeds an import from input files.
func readSources(sources []Source) func(*importer) error {
	return func(im *importer) error {
		im.keys = newKeySet()
		for _, src := range sources {
			im.names = append(im.names, src.Name)
			im.files = append(im.files, fileLines{name: src.Name, base: im.top})
			before := im.sum.Records + im.sum.Invalid
			if err := im.source(src); err != nil {
				return err
			}
			if im.sum.Records+im.sum.Invalid == before {
				im.sum.Empty = append(im.sum.Empty, src.Name)
			}
		}
		return nil
	}
}

// importWith is Import of what feed hands the importer; with a committer,
// an input small enough to be held whole (under chunkSize records) is
// committed in a group with concurrent ones instead of in a transaction of
// its own.
func importWith(ctx context.Context, st store.Store, c *Committer, opt Options, feed func(*importer) error) (*Summary, error) {
	if opt.MaxLine <= 0 {
		opt.MaxLine = 16 << 20
	}
	if opt.MaxErrors <= 0 {
		opt.MaxErrors = 100
	}
	if opt.Origin == "" {
		opt.Origin = "import"
	}
	start := time.Now()
	if opt.Now.IsZero() {
		opt.Now = start
	}
	sum := &Summary{ByKind: map[domain.Kind]*KindSummary{}}
	_, overlap := st.(StreamChunker)
	im := &importer{ctx: ctx, st: st, stream: streamChunk(st), overlap: overlap, group: c, opt: opt, sum: sum}
	defer func() {
		im.settle() // a batch is rolled back with no write in flight
		if im.batch != nil {
			im.batch.Rollback()
		}
	}()
	if err := feed(im); err != nil {
		return nil, err
	}
	if err := im.flush(true); err != nil {
		return nil, err
	}
	if err := im.settle(); err != nil {
		return nil, err
	}
	if sum.Invalid > 0 && !opt.SkipInvalid {
		// Chunks flushed before the first invalid line were counted as
		// written, but the batch is rolled back: nothing was.
		sum.WriteResult = store.WriteResult{}
		sum.Repeated, sum.Repeats = 0, nil
		for _, ks := range sum.ByKind {
			ks.WriteResult = store.WriteResult{}
			ks.Repeated = 0
		}
		return sum, &InvalidError{Lines: im.errs, Count: int(sum.Invalid), Unlisted: im.unlisted}
	}
	switch {
	case im.batch != nil && opt.DryRun:
		b := im.batch
		im.batch = nil
		im.discount()
		b.Rollback()
	case im.batch != nil:
		b := im.batch
		im.batch = nil
		im.discount()
		entry, err := recordsEntry(summaryData(opt.Origin, im.names, sum, im.content.Sum()), []string{opt.By})
		if err != nil {
			b.Rollback()
			return nil, err
		}
		if len(opt.Docs) > 0 {
			if _, err := b.AppendDocsOnce(ctx, opt.Docs); err != nil {
				b.Rollback()
				return nil, err
			}
		}
		b.Record(entry)
		if err := b.Commit(); err != nil {
			return nil, err
		}
	case len(im.held) > 0:
		res, err := c.submit(ctx, &request{parts: im.held, docs: opt.Docs, origin: opt.Origin, by: opt.By, sources: im.names, unrepeat: im.unrepeat})
		if err != nil {
			return nil, err
		}
		for i, p := range im.held {
			im.counted(p.kind, res[i])
		}
		im.discount()
	}
	sum.Skipped, sum.Unlisted = im.errs, im.unlisted
	sum.Seconds = time.Since(start).Seconds()
	if sum.Seconds > 0 {
		sum.PerSecond = float64(sum.Records) / sum.Seconds
	}
	return sum, nil
}

type importer struct {
	ctx context.Context
	st  store.Store
	// stream is the records handed to st at a time once the import
	// streams (streamChunk).
	stream int
	// batch is opened at the first write, so an input refused before then
	// never takes the store's writer.
	batch store.Batch
	// group, when set, commits an input that fits in one chunk: flush then
	// leaves its records in held instead of opening a batch.
	group *Committer
	held  []part
	// splits are splitKinds' per-kind slices, reused from chunk to chunk:
	// two when overlap is set, since a chunk is then split while the one
	// before is being written (inflight).
	splits [2]map[domain.Kind][]store.Item
	flip   int
	// inflight is the chunk the store is writing, on its own goroutine
	// when overlap is set, while the next is read and parsed. At most one
	// is in flight; settle waits for it.
	inflight *chunkWrite
	overlap  bool
	opt      Options
	sum      *Summary
	errs     []LineError
	// unlisted counts the problems past MaxErrors.
	unlisted int
	buf      pending
	read     int64
	// names are the sources' names and content hashes what was written,
	// for the batch's ledger entry.
	names   []string
	content ContentHash
	// keys, when set, are the keys of the import's records so far (nil
	// for ImportEntries, whose records have no lines). A record's line is
	// import-wide: its file's base (files) plus its line in the file, so
	// that one uint32 says where it was; top is the highest so far.
	keys  *keySet
	files []fileLines
	top   uint32
	cands []uint32
	// suspects are buffered records whose key's fingerprint an earlier
	// chunk's record had; flush asks the batch whether it wrote their
	// keys before writing them.
	suspects []suspect
	// unrepeat is, per kind, what the store counted of the repeats: each
	// as replaced or unchanged against the record before it, which the
	// summary counts as repeated instead (discount).
	unrepeat map[domain.Kind]*store.WriteResult
}

// fileLines is where an input's lines start among the import's.
type fileLines struct {
	name string
	base uint32
}

type suspect struct {
	kind domain.Kind
	key  domain.Key
	hash string
	line uint32
	fp   uint64
	// earlier are the lines before the buffer whose records had the
	// key's fingerprint.
	earlier []uint32
}

// invalid counts one invalid record and lists its problems (a record with
// three bad fields lists three), up to MaxErrors problems in all.
func (im *importer) invalid(problems ...LineError) {
	im.sum.Invalid++
	for _, e := range problems {
		if len(im.errs) < im.opt.MaxErrors {
			im.errs = append(im.errs, e)
		} else {
			im.unlisted++
		}
	}
}

// noted counts what the summary says of a valid record: its money's
// currency, its times past the clock.
func (im *importer) noted(r domain.Record, file string, line int) {
	im.sum.money(r)
	im.sum.future(r, im.opt.Now.Add(FutureSlack), file, line)
}

// writing is false once the import is known to fail: later lines are still
// validated so the user sees every problem at once.
func (im *importer) writing() bool { return im.opt.SkipInvalid || im.sum.Invalid == 0 }

func (im *importer) add(r domain.Record, raw [32]byte) error {
	it, err := item(r, raw)
	if err != nil {
		return err
	}
	im.noted(r, "", 0)
	return im.addItem(r.Kind(), it, 0)
}

// addAt is addItem of the record at line of the current input, told
// apart when its key repeats an earlier record's of the import.
func (im *importer) addAt(line int, kind domain.Kind, it store.Item) error {
	if im.keys != nil && im.writing() {
		g := uint64(im.files[len(im.files)-1].base) + uint64(line)
		if g >= uint64(tombstone) {
			// Past four billion lines a line no longer fits a slot:
			// repeats go uncounted rather than misplaced.
			im.keys = nil
		} else {
			im.top = max(im.top, uint32(g))
			im.track(uint32(g), kind, it)
			return im.addItem(kind, it, uint32(g))
		}
	}
	return im.addItem(kind, it, 0)
}

// track looks for an earlier record of it's key among the keys seen: one
// still buffered is compared at once; one already handed to the batch is
// left for flush to ask the batch about (suspects, confirm). A
// fingerprint shared with another key costs that comparison or question.
func (im *importer) track(line uint32, kind domain.Kind, it store.Item) {
	ks := im.keys
	fp := ks.fingerprint(it.Key)
	im.cands = ks.candidates(fp, im.cands[:0])
	if len(im.cands) == 0 {
		ks.add(fp, line)
		return
	}
	var earlier []uint32
	first := ^uint32(0)
	if len(im.buf.lines) > 0 {
		first = im.buf.lines[0]
	}
	for _, c := range im.cands {
		if c < first {
			earlier = append(earlier, c)
			continue
		}
		if j, ok := slices.BinarySearch(im.buf.lines, c); ok && im.buf.items[j].Key == it.Key {
			ks.move(fp, c, line)
			im.repeat(kind, line, c, it.Key, im.buf.items[j].Hash == it.Hash)
			return
		}
	}
	ks.add(fp, line)
	if _, ok := im.batch.(batchKeys); ok && len(earlier) > 0 {
		im.suspects = append(im.suspects, suspect{kind: kind, key: it.Key, hash: it.Hash, line: line, fp: fp, earlier: earlier})
	}
}

// batchKeys is a batch that can tell, for each key, the hash of the record
// it holds under the key ("" for none), its own writes included: how an
// import confirms that a record repeats one of its earlier chunks'. A
// batch without it (none of Candor's stores) leaves such repeats counted
// as the store counts them.
type batchKeys interface {
	KeyHashes(ctx context.Context, keys []domain.Key) ([]string, error)
}

// confirm asks the batch about the suspects, once the chunk before them
// is written and before they are. A key the batch does not hold came
// nowhere earlier in the import: the match was another key's fingerprint.
// A key it holds is taken as a repeat — it may have been stored before
// the import, and an earlier record the same as the stored one leaves no
// trace in the batch, so here a repeat rests on the 64-bit fingerprint
// alone: two keys of a million share one about once in 3·10^7 imports.
// Either way the record the batch holds is the one a repeat replaces.
func (im *importer) confirm() error {
	if len(im.suspects) == 0 {
		return nil
	}
	keys := make([]domain.Key, len(im.suspects))
	for i, s := range im.suspects {
		keys[i] = s.key
	}
	hashes, err := im.batch.(batchKeys).KeyHashes(im.ctx, keys)
	if err != nil {
		return err
	}
	for i, s := range im.suspects {
		if hashes[i] == "" {
			continue // another key's fingerprint: s is its key's first record
		}
		var earlier uint32
		if len(s.earlier) == 1 {
			// The key's record before it has the only earlier slot of
			// the fingerprint; s's slot stands for the key from now.
			earlier = s.earlier[0]
			im.keys.retire(s.fp, earlier)
		}
		im.repeat(s.kind, s.line, earlier, s.key, hashes[i] == s.hash)
	}
	im.suspects = im.suspects[:0]
	return nil
}

// repeat counts the record at line as repeating the key of the record at
// earlier (0: not told); same says the two have one hash, so that the
// store counts the repeat unchanged, not replaced.
func (im *importer) repeat(kind domain.Kind, line, earlier uint32, key domain.Key, same bool) {
	im.sum.Repeated++
	im.sum.ByKind[kind].Repeated++
	if im.unrepeat == nil {
		im.unrepeat = map[domain.Kind]*store.WriteResult{}
	}
	u := im.unrepeat[kind]
	if u == nil {
		u = &store.WriteResult{}
		im.unrepeat[kind] = u
	}
	if same {
		u.Unchanged++
	} else {
		u.Replaced++
	}
	r := Repeat{Key: key, at: line}
	r.File, r.Line = im.where(line)
	if earlier > 0 {
		r.EarlierFile, r.EarlierLine = im.where(earlier)
	}
	// Suspects are confirmed at flush, after later repeats found in the
	// buffer: the first few are kept by line.
	rs := &im.sum.Repeats
	if len(*rs) == maxRepeats && line > (*rs)[maxRepeats-1].at {
		return
	}
	i, _ := slices.BinarySearchFunc(*rs, line, func(r Repeat, l uint32) int { return cmp.Compare(r.at, l) })
	*rs = slices.Insert(*rs, i, r)
	if len(*rs) > maxRepeats {
		*rs = (*rs)[:maxRepeats]
	}
}

// where is the file and line of an import-wide line.
func (im *importer) where(g uint32) (string, int) {
	i := len(im.files) - 1
	for i > 0 && im.files[i].base >= g {
		i--
	}
	return im.files[i].name, int(g - im.files[i].base)
}

// discount takes the repeats out of the store's counts (Summary.Repeated).
func (im *importer) discount() {
	for k, u := range im.unrepeat {
		ks := im.sum.ByKind[k]
		ks.Replaced -= u.Replaced
		ks.Unchanged -= u.Unchanged
		im.sum.Replaced -= u.Replaced
		im.sum.Unchanged -= u.Unchanged
	}
}

// Canonical returns the record's stored form and its hash. The hash is of
// the canonical body, not of the raw input line: the same line can yield a
// different record (another default currency, a parser that now normalises
// a field), and a re-import must then replace the stored record rather
// than count it unchanged.
func Canonical(r domain.Record) ([]byte, [32]byte, error) {
	// json.Marshal's bytes, written without its reflection (jsonenc):
	// stored hashes were made of those bytes.
	body, err := jsonenc.Marshal(r)
	if err != nil {
		return nil, [32]byte{}, err
	}
	return body, sha256.Sum256(body), nil
}

// item is the record as the store takes it; raw is the sha256 of the input
// it came from, kept for provenance.
func item(r domain.Record, raw [32]byte) (store.Item, error) {
	body, hash, err := Canonical(r)
	if err != nil {
		return store.Item{}, err
	}
	return store.Item{Key: domain.KeyOf(r), EventTime: r.EventTime(), Hash: hex.EncodeToString(hash[:]), RawHash: hex.EncodeToString(raw[:]), Body: body}, nil
}

// addItem buffers it; line is its import-wide line when the import tracks
// its keys (addAt).
func (im *importer) addItem(kind domain.Kind, it store.Item, line uint32) error {
	im.sum.Records++
	ks := im.sum.ByKind[kind]
	if ks == nil {
		ks = &KindSummary{}
		im.sum.ByKind[kind] = ks
	}
	ks.Records++
	if !im.writing() {
		return nil
	}
	im.buf.items = append(im.buf.items, it)
	im.buf.kinds = append(im.buf.kinds, kind)
	if im.keys != nil {
		im.buf.lines = append(im.buf.lines, line)
	}
	if n := len(im.buf.items); n >= chunkSize && (im.batch == nil || n >= im.stream) {
		return im.flush(false)
	}
	return nil
}

// part is one kind's records of a chunk, in input order.
type part struct {
	kind  domain.Kind
	items []store.Item
}

// allKinds is every kind an import may write: those Candor writes itself
// come through ImportEntries (a scan import's vulnerability_scan).
var allKinds = domain.AllKinds()

// splitKinds splits a chunk so that one Add per kind keeps per-kind counts
// exact without a write per record, and gives the store big chunks (a
// round trip per Add costs a PostgreSQL store dearly). Records of
// different kinds never share a key and order within a kind is kept, so
// "the later line wins" holds.
//
// split, when not nil, holds the previous chunk's slices, which are reused.
func splitKinds(items []store.Item, kinds []domain.Kind, split map[domain.Kind][]store.Item) []part {
	if split == nil {
		split = map[domain.Kind][]store.Item{}
	}
	for k, p := range split {
		split[k] = p[:0]
	}
	for i, it := range items {
		split[kinds[i]] = append(split[kinds[i]], it)
	}
	parts := make([]part, 0, len(split))
	for _, k := range allKinds {
		if p := split[k]; len(p) > 0 {
			parts = append(parts, part{kind: k, items: p})
		}
	}
	return parts
}

// writeParts adds parts to b in order and returns each one's result.
func writeParts(ctx context.Context, b store.Batch, parts []part) ([]store.WriteResult, error) {
	return b.AddEach(ctx, listsOf(parts))
}

// listsOf is the parts' records as the store's AddEach takes them.
func listsOf(parts []part) [][]store.Item {
	lists := make([][]store.Item, len(parts))
	for i, p := range parts {
		lists[i] = p.items
	}
	return lists
}

func (im *importer) counted(k domain.Kind, res store.WriteResult) {
	// A kind's summary counts; only the whole import's bounds its
	// sequences (read-your-writes waits for it).
	im.sum.ByKind[k].Add(res.Counts())
	im.sum.WriteResult.Add(res)
}

// flush writes the buffered records; final is the flush at the end of the
// input, when a committer may take them instead.
func (im *importer) flush(final bool) error {
	items, kinds := im.buf.items, im.buf.kinds
	im.buf.items, im.buf.kinds, im.buf.lines = im.buf.items[:0], im.buf.kinds[:0], im.buf.lines[:0]
	if len(items) == 0 || !im.writing() {
		return nil
	}
	if final && im.batch == nil && im.group != nil && !im.opt.DryRun {
		im.held = splitKinds(items, kinds, nil) // kept past this call
		return nil
	}
	split := &im.splits[im.flip]
	if *split == nil {
		*split = map[domain.Kind][]store.Item{}
	}
	parts := splitKinds(items, kinds, *split)
	if im.overlap {
		im.flip ^= 1
	}
	for _, p := range parts {
		im.content.Add(p.items)
	}
	if im.batch == nil {
		b, err := im.st.Begin(im.ctx)
		if err != nil {
			return err
		}
		im.batch = b
	}
	if err := im.settle(); err != nil {
		return err
	}
	if err := im.confirm(); err != nil {
		return err
	}
	w := &chunkWrite{parts: parts, done: make(chan struct{})}
	write := func(b store.Batch) {
		defer close(w.done)
		w.res, w.err = writeParts(im.ctx, b, parts)
	}
	im.inflight = w
	if !im.overlap {
		write(im.batch)
		return im.settle()
	}
	go write(im.batch)
	return nil
}

// chunkWrite is a chunk being written (importer.inflight).
type chunkWrite struct {
	parts []part
	done  chan struct{}
	res   []store.WriteResult
	err   error
}

// settle waits for the chunk being written, counts what it wrote and
// returns its error.
func (im *importer) settle() error {
	w := im.inflight
	if w == nil {
		return nil
	}
	<-w.done
	im.inflight = nil
	if w.err != nil {
		return w.err
	}
	for i, p := range w.parts {
		im.counted(p.kind, w.res[i])
	}
	return nil
}

type countingReader struct {
	r  io.Reader
	im *importer
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.im.read += int64(n)
	if c.im.opt.Progress != nil {
		c.im.opt.Progress(c.im.read)
	}
	return n, err
}

func (im *importer) source(src Source) error {
	name := src.Name
	var r io.Reader = &countingReader{r: src.Reader, im: im}
	br := getReader(r)
	defer putReader(br)
	base := strings.ToLower(filepath.Base(name))
	if strings.HasSuffix(base, ".gz") {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return inputErrorf("%s: not gzip: %w", name, err)
		}
		defer gz.Close()
		br = getReader(gz)
		defer putReader(br)
		base = strings.TrimSuffix(base, ".gz")
	}
	format := src.Format
	if format == "" {
		format = "ndjson"
		if strings.HasSuffix(base, ".csv") {
			format = "csv"
		}
	}
	switch format {
	case "csv":
		return im.csv(name, base, br)
	case "ndjson", "json", "jsonl":
		return im.ndjson(name, br)
	}
	return inputErrorf("%s: unknown format %q (ndjson or csv)", name, format)
}

var bom = []byte("\xef\xbb\xbf")

// readers recycles the read buffers: a large one makes long lines rare and
// reads cheap, but allocating it per source would dominate small imports
// (an HTTP request with one record), in allocation and in collection.
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 1<<20) }}

func getReader(r io.Reader) *bufio.Reader {
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putReader returns br once nothing reads from it any more.
func putReader(br *bufio.Reader) {
	br.Reset(nil)
	readers.Put(br)
}

// parseJob is a run of input lines parsed by one worker; results come
// back in input order so errors, counts and "the later line wins" are as
// if parsed one by one.
type parseJob struct {
	buf   []byte // the lines' text, back to back
	ends  []int  // end offset of each line in buf
	nums  []int  // line numbers
	out   chan []parsedLine
	kind  domain.Kind
	popts domain.ParseOptions
	names names // kept as the job is reused
	// over are the job's lines longer than MaxLine, in order; each has an
	// empty text in buf.
	over    []overLine
	maxLine int
}

// bulkAfter is the line from which an input is bulk work: its parsing and
// writing let the pages and API reads in progress go first
// (priority.Background). A request's or a webhook's few records never
// wait.
const bulkAfter = 1024

func (j *parseJob) bulk() bool { return len(j.nums) > 0 && bulkLine(j.nums[0]) }

// bulkLine says whether an input's line is past bulkAfter.
func bulkLine(line int) bool { return line > bulkAfter }

type parsedLine struct {
	line int
	rec  domain.Record
	item store.Item
	err  error
}

// jobLines is the lines per job: big enough to amortise the hand-off,
// small enough that the writer is never idle for long.
const jobLines = 256

// run does all the per-record work it can, so the writer goroutine only
// hands records to the store.
func (j *parseJob) run() []parsedLine {
	out := make([]parsedLine, len(j.nums))
	fields := make(domain.Fields, 16)
	start, over := 0, 0
	for i, end := range j.ends {
		p := &out[i]
		p.line = j.nums[i]
		text := j.buf[start:end]
		start = end
		if over < len(j.over) && j.over[over].line == p.line {
			p.err = tooLongError(j.over[over].size, j.maxLine)
			over++
			continue
		}
		p.rec, p.err = parseLine(text, j.kind, j.popts, fields, j.names)
		if p.err == nil {
			p.item, p.err = item(p.rec, sha256.Sum256(text))
		}
	}
	return out
}

// ndjson parses on every core while this goroutine writes: parsing and
// canonicalising dominate an import, the store's writer is single.
func (im *importer) ndjson(name string, br *bufio.Reader) error {
	ctx, cancel := context.WithCancel(im.ctx)
	// The caller may close the input as soon as Import returns, so the
	// reading goroutine must have stopped by then.
	readDone := make(chan struct{})
	// A few dozen jobs in flight (a few MB) keep memory flat and let the
	// parsers run ahead of the writer, which waited on them with fewer.
	jobs := make(chan *parseJob, 8)
	order := make(chan *parseJob, 16)
	// Jobs the writer is done with go back to the reader: a job's buffers
	// are most of what an import allocates, and garbage collection would
	// otherwise run every few megabytes, stalling the writer each time.
	free := make(chan *parseJob, cap(order)+2)
	defer func() {
		cancel()
		for range order {
		}
		<-readDone
	}()
	var readErr error
	go func() {
		defer close(readDone)
		defer close(order)
		defer close(jobs)
		readErr = im.readLines(ctx, name, br, free, func(j *parseJob) bool {
			select {
			case jobs <- j:
			case <-ctx.Done():
				return false
			}
			select {
			case order <- j:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	for range max(1, priority.Cores()) {
		go func() {
			for j := range jobs {
				if j.bulk() {
					priority.Background()
				}
				j.out <- j.run()
			}
		}()
	}
	for j := range order {
		if err := im.ctx.Err(); err != nil {
			return err
		}
		if j.bulk() {
			priority.Background()
		}
		for _, p := range <-j.out {
			if p.err != nil {
				var fe *domain.FieldError
				if !errors.As(p.err, &fe) && p.rec != nil {
					return fmt.Errorf("%s:%d: %w", name, p.line, p.err) // the record parsed, so this is no input problem
				}
				im.invalid(lineErrors(name, p.line, p.err)...)
				continue
			}
			im.noted(p.rec, name, p.line)
			if err := im.addAt(p.line, p.rec.Kind(), p.item); err != nil {
				if cerr := im.ctx.Err(); cerr != nil {
					return cerr // the store saw the cancellation first
				}
				return err
			}
		}
		// Nothing parsed refers to the job's text: records and items hold
		// copies.
		j.buf, j.ends, j.nums, j.over = j.buf[:0], j.ends[:0], j.nums[:0], j.over[:0]
		select {
		case free <- j:
		default:
		}
	}
	if readErr != nil {
		return readErr
	}
	return im.ctx.Err()
}

// readLines splits the input into jobs of lines.
func (im *importer) readLines(ctx context.Context, name string, br *bufio.Reader, free chan *parseJob, send func(*parseJob) bool) error {
	line := 0
	var long []byte
	newJob := func() *parseJob {
		select {
		case j := <-free:
			return j
		default:
			return &parseJob{out: make(chan []parsedLine, 1), kind: im.opt.Kind, popts: im.opt.Parse, names: names{}, maxLine: im.opt.MaxLine}
		}
	}
	j := newJob()
	flush := func() bool {
		if len(j.nums) == 0 {
			return true
		}
		ok := send(j)
		j = newJob()
		return ok
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk, err := br.ReadSlice('\n')
		// over is the length of a line longer than MaxLine: it is read to
		// its end but not kept, and refused as an invalid record of its
		// line, so the lines after it are still checked, and a body
		// reaching its bound while in it is refused for the body's size.
		over := 0
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: gather it, within MaxLine.
			long = append(long[:0], chunk...)
			for err == bufio.ErrBufferFull {
				chunk, err = br.ReadSlice('\n')
				if over > 0 {
					over += len(chunk)
					continue
				}
				long = append(long, chunk...)
				if im.tooLong(long) {
					over, long = len(long), long[:0]
				}
			}
			chunk = long
			if over > 0 && err == nil {
				over-- // the newline
			}
		}
		// Checked for every line, not only while gathering: a MaxLine below
		// the read buffer's size must hold too.
		if over == 0 && im.tooLong(chunk) {
			over = len(bytes.TrimSuffix(chunk, []byte("\n")))
		}
		if over > 0 {
			line++
			j.over = append(j.over, overLine{line: line, size: over})
			j.ends = append(j.ends, len(j.buf))
			j.nums = append(j.nums, line)
			if len(j.nums) == jobLines && !flush() {
				return ctx.Err()
			}
		} else if len(chunk) > 0 {
			line++
			text := bytes.TrimSpace(chunk)
			if line == 1 {
				text = bytes.TrimPrefix(text, bom)
			}
			if len(text) > 0 {
				j.buf = append(j.buf, text...)
				j.ends = append(j.ends, len(j.buf))
				j.nums = append(j.nums, line)
				if len(j.nums) == jobLines && !flush() {
					return ctx.Err()
				}
			}
		}
		if err == io.EOF {
			if !flush() {
				return ctx.Err()
			}
			return nil
		}
		if err != nil {
			return inputErrorf("%s:%d: %w", name, line, err)
		}
	}
}

// tooLong reports whether a line, without its newline, exceeds MaxLine.
func (im *importer) tooLong(b []byte) bool {
	n := len(b)
	if n > 0 && b[n-1] == '\n' {
		n--
	}
	return n > im.opt.MaxLine
}

// overLine is a line longer than MaxLine, of size bytes: a parse job
// holds none of its text.
type overLine struct{ line, size int }

// tooLongError is the problem of a line longer than MaxLine, said as a
// record over its bound is (domain.MaxRecord): no record that long is
// valid, so it is refused unread.
func tooLongError(size, maxLine int) error {
	if maxLine >= domain.MaxRecord {
		return &domain.FieldError{Reason: fmt.Sprintf("the line is %d bytes; a record is at most 1 MiB (%d bytes)", size, domain.MaxRecord)}
	}
	return &domain.FieldError{Reason: fmt.Sprintf("the line is %d bytes; a line is at most %d bytes here", size, maxLine)}
}

// lineErrors is one LineError per problem of the record at line.
func lineErrors(name string, line int, err error) []LineError {
	ps := domain.Problems(err)
	if len(ps) == 0 {
		return []LineError{{File: name, Line: line, Reason: err.Error()}}
	}
	out := make([]LineError, len(ps))
	for i, fe := range ps {
		out[i] = LineError{File: name, Line: line, Field: fe.Field, Reason: fe.Reason}
	}
	return out
}

// kindFromName reads a kind from a file name like "deployments.csv" or
// "2026-03_incidents.csv".
func kindFromName(base string) domain.Kind {
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	for _, part := range strings.FieldsFunc(stem, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' }) {
		if k, err := domain.ParseKind(part); err == nil {
			return k
		}
	}
	return ""
}

func (im *importer) csv(name, base string, br *bufio.Reader) error {
	var cols []string
	kind := im.opt.Kind
	// With a kind column and no kind given, the header is checked against
	// each kind the column names, at the kind's first row (kindCol,
	// checked); refused holds the header's problems found so.
	kindCol := -1
	var checked map[domain.Kind]bool
	var refused []LineError
	header := func(h []string) error {
		cols = h
		if kind == "" && !slices.Contains(cols, "kind") {
			if kind = kindFromName(base); kind == "" {
				return &NoKindError{Name: name}
			}
		}
		if kind == "" {
			// A kind column may name a different kind on each row.
			kindCol, checked = slices.Index(cols, "kind"), map[domain.Kind]bool{}
			return nil
		}
		return checkColumns(name, kind, cols, 0)
	}
	row := func(line int, cells []string) error {
		// Parsed and written on this goroutine, a row at a time: past
		// bulkAfter lines, every jobLines rows let the reads in progress
		// go first, as an NDJSON input's jobs do.
		if bulkLine(line) && line%jobLines == 0 {
			priority.Background()
		}
		if kindCol >= 0 {
			// A header lacking a column every record of the row's kind
			// needs, or naming one the kind does not have, fails every
			// row of the kind alike: it is said once, of the header, and
			// past it the rows are read only for the kinds they name.
			if k, err := domain.ParseKind(cells[kindCol]); err == nil && !checked[k] {
				checked[k] = true
				var inv *InvalidError
				if errors.As(checkColumns(name, k, cols, line), &inv) {
					refused = append(refused, inv.Lines...)
				}
			}
			if len(refused) > 0 {
				return nil
			}
		}
		f := make(domain.Fields, len(cells))
		for i, v := range cells {
			f[cols[i]] = domain.Value{Raw: []byte(v), Text: true}
		}
		rec, perr := domain.ParseFields(f, kind, im.opt.Parse)
		if perr != nil {
			im.invalid(lineErrors(name, line, perr)...)
			return nil
		}
		it, err := item(rec, RowHash(cols, cells))
		if err != nil {
			return err
		}
		im.noted(rec, name, line)
		return im.addAt(line, rec.Kind(), it)
	}
	err := ReadCSV(im.ctx, name, br, im.opt.MaxLine, header, row, func(e LineError) {
		if len(refused) == 0 {
			im.invalid(e)
		}
	})
	if err == nil && len(refused) > 0 {
		return &InvalidError{Lines: refused, Header: true}
	}
	return err
}

// FormatSummary renders the import summary for people.
func FormatSummary(s *Summary) string {
	var b strings.Builder
	// The kinds' column fits the longest kind listed (vulnerability_scan).
	width := 14
	for _, k := range s.Kinds() {
		width = max(width, len(k))
	}
	// A repeated column only when some record repeated: the other columns
	// then no longer add up to the records without it.
	row := func(name string, records int64, r store.WriteResult, repeated int64) {
		fmt.Fprintf(&b, "%-*s %10d %10d %10d %10d", width, name, records, r.Inserted, r.Replaced, r.Unchanged)
		if s.Repeated > 0 {
			fmt.Fprintf(&b, " %10d", repeated)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%-*s %10s %10s %10s %10s", width, "kind", "records", "inserted", "replaced", "unchanged")
	if s.Repeated > 0 {
		fmt.Fprintf(&b, " %10s", "repeated")
	}
	b.WriteString("\n")
	for _, k := range s.Kinds() {
		ks := s.ByKind[k]
		row(string(k), ks.Records, ks.WriteResult, ks.Repeated)
	}
	row("total", s.Records, s.WriteResult, s.Repeated)
	fmt.Fprintf(&b, "%.2f s, %.0f records/s", s.Seconds, s.PerSecond)
	if s.Invalid > 0 {
		b.WriteString("; " + plural.Count(s.Invalid, "invalid record") + " skipped:")
		writeProblems(&b, s.Skipped, s.Unlisted)
	}
	b.WriteString("\n")
	if s.Repeated > 0 {
		b.WriteString(plural.Count(s.Repeated, "record") + " repeated an earlier record's key (kind, source, id) in this import; the last of each is stored:")
		for _, r := range s.Repeats {
			b.WriteString("\n  " + r.String())
		}
		if n := s.Repeated - int64(len(s.Repeats)); n > 0 {
			b.WriteString("\n  … and " + plural.Count(n, "more repeat"))
		}
		b.WriteString("\n")
	}
	return b.String()
}

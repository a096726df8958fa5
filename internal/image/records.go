package image

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/candor/candor/internal/domain"
)

// The first content of an image: the store's rows themselves, decoded, in
// a compact binary form — no SQL scan and no JSON decoding at start. Each
// section of rows starts with its own string table, every string of its
// rows kept once and named by its index, so decoding a row allocates the
// record and no more than a section's distinct strings; a table per
// section keeps what a reader holds at once to a section's.
// Each record type is encoded field by field in the order reflection gives
// (a plan per type, whose description is the Schema hash): a field of a
// type the plan has no code for is kept as its JSON.

// SectionRows is the section kind of the records content: a string table
// and up to rowsPerChunk rows.
const SectionRows uint32 = 2

// SectionDataset is the section kind of a dataset's state
// (metrics.Dataset.WriteState): a cut of its encoding, read in order.
const SectionDataset uint32 = 3

// Row is one stored row: its record, or — for a row the store held but
// that could not be decoded — its key and why (Quarantine).
type Row struct {
	Seq        int64
	Ingested   time.Time
	Rec        domain.Record
	Key        domain.Key // set for a quarantined row
	Quarantine string
}

// rowsPerChunk bounds a rows section, so a reader can decode sections on
// one goroutine while it applies earlier ones on another.
const rowsPerChunk = 16384

// MaxSectionRows bounds the rows of one section of the records content.
const MaxSectionRows = rowsPerChunk

const (
	tagRecord     = 0
	tagQuarantine = 1
)

// minRowBytes is the least a row takes: a byte each for its tag, sequence
// delta, ingestion time and kind.
const minRowBytes = 4

// Builder collects rows (in sequence order) into sections.
type Builder struct {
	index  map[string]uint32 // the current section's strings
	strs   []string
	chunks [][]byte
	cur    []byte // the current section's rows
	n      int
	prev   int64
	Last   Row // the last row added
	Rows   int
	// out, when set, receives each section as it is made (Stream), so
	// the builder holds one section at a time; err is its first failure.
	out *Writer
	err error
}

// Stream makes the builder write each section to w as soon as it is
// full, instead of keeping it for Sections.
func (b *Builder) Stream(w *Writer) { b.out = w }

// NewBuilder returns an empty builder.
func NewBuilder() *Builder {
	b := &Builder{index: map[string]uint32{}}
	b.reset()
	return b
}

// reset starts a section. The buffers are reused from section to section
// (flush copies what it keeps): grown afresh for each of a large store's
// sections, they were a tenth of writing the image.
func (b *Builder) reset() {
	clear(b.index)
	b.index[""] = 0
	clear(b.strs)
	b.strs = append(b.strs[:0], "")
	b.cur, b.n = b.cur[:0], 0
}

// flush ends the current section: its string table, then its rows.
func (b *Builder) flush() {
	size := binary.MaxVarintLen64 * (len(b.strs) + 1)
	for _, s := range b.strs {
		size += len(s)
	}
	sec := make([]byte, 0, size+len(b.cur))
	sec = binary.AppendUvarint(sec, uint64(len(b.strs)))
	for _, s := range b.strs {
		sec = binary.AppendUvarint(sec, uint64(len(s)))
	}
	for _, s := range b.strs {
		sec = append(sec, s...)
	}
	sec = append(sec, b.cur...)
	b.reset()
	if b.out == nil {
		b.chunks = append(b.chunks, sec)
	} else if b.err == nil {
		b.err = b.out.Add(Section{Kind: SectionRows, Data: sec})
	}
}

func (b *Builder) str(s string) {
	i, ok := b.index[s]
	if !ok {
		i = uint32(len(b.strs))
		b.index[s] = i
		b.strs = append(b.strs, s)
	}
	b.cur = binary.AppendUvarint(b.cur, uint64(i))
}

// Add appends a row; rows must come in increasing sequence order.
func (b *Builder) Add(r Row) error {
	if r.Seq <= b.prev && b.Rows > 0 {
		return fmt.Errorf("image: row of sequence %d after %d", r.Seq, b.prev)
	}
	if b.n == rowsPerChunk {
		b.flush()
	}
	if b.err != nil {
		return b.err
	}
	mark := len(b.cur)
	if b.n == 0 {
		b.prev = 0
	}
	tag := byte(tagRecord)
	if r.Rec == nil {
		tag = tagQuarantine
	}
	b.cur = append(b.cur, tag)
	b.cur = binary.AppendVarint(b.cur, r.Seq-b.prev)
	b.cur = appendTime(b.cur, r.Ingested)
	if r.Rec == nil {
		b.str(string(r.Key.Kind))
		b.str(r.Key.Source)
		b.str(r.Key.ID)
		b.str(r.Quarantine)
	} else {
		p, err := planFor(r.Rec.Kind())
		if err != nil {
			b.cur = b.cur[:mark]
			return err
		}
		if reflect.TypeOf(r.Rec) != p.typ {
			b.cur = b.cur[:mark]
			return fmt.Errorf("image: a %s record of type %T", r.Rec.Kind(), r.Rec)
		}
		b.str(string(r.Rec.Kind()))
		if err := p.encode(b, reflect.ValueOf(r.Rec).Elem()); err != nil {
			b.cur = b.cur[:mark]
			return err
		}
	}
	b.prev = r.Seq
	b.n++
	b.Rows++
	b.Last = r
	return nil
}

// Sections ends the rows and returns their sections, in order (none
// when streaming: Err then says whether they were all written).
func (b *Builder) Sections() []Section {
	if b.n > 0 {
		b.flush()
	}
	out := make([]Section, len(b.chunks))
	for i, c := range b.chunks {
		out[i] = Section{Kind: SectionRows, Data: c}
	}
	return out
}

// Err is the first failure to write a streamed section.
func (b *Builder) Err() error { return b.err }

// strings decodes a section's string table. Each string is a copy of its
// own (none shares the section's memory, which may be a mapping unmapped
// after the load, nor one backing array, which any string kept by the
// dataset would keep alive whole).
func (d *dec) strings() {
	data := d.b
	n := d.uvarint()
	if d.err != nil || n > uint64(len(data)) {
		d.fail("damaged string table")
		return
	}
	lens := make([]uint64, n)
	var total uint64
	for i := range lens {
		lens[i] = d.uvarint()
		total += lens[i]
	}
	if d.err != nil || total > uint64(len(data)-d.off) {
		d.fail("damaged string table")
		return
	}
	d.strs = make([]string, n)
	for i, l := range lens {
		d.strs[i] = string(data[d.off : d.off+int(l)])
		d.off += int(l)
	}
}

// DecodeRows decodes one rows section.
func DecodeRows(data []byte) ([]Row, error) {
	d := dec{b: data}
	d.strings()
	// Sized once: grown by appending, the rows were copied over and over,
	// most of the decoding's copying. A row takes at least minRowBytes (its
	// tag, sequence, time and kind), so a small section (a follower's
	// rewrite, a test's image) does not get a full one's room.
	rows := make([]Row, 0, min(rowsPerChunk, (len(data)-d.off)/minRowBytes+1))
	prev := int64(0)
	for d.off < len(d.b) && d.err == nil {
		tag := d.byte()
		var r Row
		r.Seq = prev + d.varint()
		prev = r.Seq
		r.Ingested = d.time()
		kind := domain.Kind(d.str())
		switch tag {
		case tagQuarantine:
			r.Key = domain.Key{Kind: kind, Source: d.str(), ID: d.str()}
			r.Quarantine = d.str()
		case tagRecord:
			p, err := planFor(kind)
			if err != nil {
				return nil, err
			}
			v := reflect.New(p.typ.Elem())
			p.decode(&d, v.Elem())
			r.Rec = v.Interface().(domain.Record)
		default:
			return nil, fmt.Errorf("image: row tag %d", tag)
		}
		if d.err == nil {
			rows = append(rows, r)
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("image: damaged rows section: %w", d.err)
	}
	return rows, nil
}

// Schema hashes the encoding of every record kind: two builds whose
// records differ in any field name, type or order have different schemas.
func Schema() string {
	schemaOnce.Do(func() {
		h := sha256.New()
		for _, k := range kinds() {
			p, err := planFor(k)
			if err != nil {
				fmt.Fprintf(h, "%s: %v\n", k, err)
				continue
			}
			fmt.Fprintf(h, "%s %s\n", k, p.typ)
			for _, f := range p.fields {
				fmt.Fprintf(h, "  %v %s %d\n", f.index, f.typ, f.op)
			}
		}
		schema = hex.EncodeToString(h.Sum(nil))
	})
	return schema
}

var (
	schemaOnce sync.Once
	schema     string
)

func kinds() []domain.Kind {
	return domain.AllKinds()
}

type op int

const (
	opString op = iota + 1
	opStrings
	opBool
	opInt
	opUint
	opFloat
	opFloatPtr
	opTime
	opDate // a struct holding only an embedded time.Time (domain.Date)
	opJSON // anything else: the field's own JSON
)

type field struct {
	index []int
	typ   reflect.Type
	op    op
}

type plan struct {
	typ    reflect.Type // pointer to the record struct
	fields []field
}

var (
	timeType    = reflect.TypeFor[time.Time]()
	stringsType = reflect.TypeFor[[]string]()
	plans       sync.Map // domain.Kind → *plan
)

func planFor(k domain.Kind) (*plan, error) {
	if p, ok := plans.Load(k); ok {
		return p.(*plan), nil
	}
	rec := domain.New(k)
	if rec == nil {
		return nil, fmt.Errorf("image: no record kind %q", k)
	}
	p := &plan{typ: reflect.TypeOf(rec)}
	if p.typ.Kind() != reflect.Pointer || p.typ.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("image: %s records are not structs", k)
	}
	p.fields = fieldsOf(p.typ.Elem(), nil)
	plans.Store(k, p)
	return p, nil
}

func fieldsOf(t reflect.Type, prefix []int) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		idx := append(append([]int(nil), prefix...), i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Type != timeType && !isDate(f.Type) {
			out = append(out, fieldsOf(f.Type, idx)...)
			continue
		}
		if !f.IsExported() {
			// Decoding JSON never sets it: zero either way.
			continue
		}
		out = append(out, field{index: idx, typ: f.Type, op: opOf(f.Type)})
	}
	return out
}

func isDate(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t.NumField() == 1 && t.Field(0).Anonymous && t.Field(0).Type == timeType
}

func opOf(t reflect.Type) op {
	switch {
	case t == timeType:
		return opTime
	case isDate(t):
		return opDate
	}
	switch t.Kind() {
	case reflect.String:
		return opString
	case reflect.Bool:
		return opBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return opInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return opUint
	case reflect.Float32, reflect.Float64:
		return opFloat
	case reflect.Pointer:
		if k := t.Elem().Kind(); k == reflect.Float64 || k == reflect.Float32 {
			return opFloatPtr
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return opStrings
		}
	}
	return opJSON
}

func (p *plan) encode(b *Builder, v reflect.Value) error {
	for _, f := range p.fields {
		fv := v.FieldByIndex(f.index)
		switch f.op {
		case opString:
			b.str(fv.String())
		case opStrings:
			if fv.IsNil() {
				b.cur = append(b.cur, 0)
				continue
			}
			b.cur = binary.AppendUvarint(b.cur, uint64(fv.Len())+1)
			for i := range fv.Len() {
				b.str(fv.Index(i).String())
			}
		case opBool:
			if fv.Bool() {
				b.cur = append(b.cur, 1)
			} else {
				b.cur = append(b.cur, 0)
			}
		case opInt:
			b.cur = binary.AppendVarint(b.cur, fv.Int())
		case opUint:
			b.cur = binary.AppendUvarint(b.cur, fv.Uint())
		case opFloat:
			b.cur = binary.LittleEndian.AppendUint64(b.cur, math.Float64bits(fv.Float()))
		case opFloatPtr:
			if fv.IsNil() {
				b.cur = append(b.cur, 0)
				continue
			}
			b.cur = append(b.cur, 1)
			b.cur = binary.LittleEndian.AppendUint64(b.cur, math.Float64bits(fv.Elem().Float()))
		case opTime:
			b.cur = appendTime(b.cur, fv.Interface().(time.Time))
		case opDate:
			b.cur = appendTime(b.cur, fv.Field(0).Interface().(time.Time))
		case opJSON:
			j, err := json.Marshal(fv.Interface())
			if err != nil {
				return fmt.Errorf("image: encoding field %v of %s: %w", f.index, p.typ, err)
			}
			b.cur = binary.AppendUvarint(b.cur, uint64(len(j)))
			b.cur = append(b.cur, j...)
		}
	}
	return nil
}

func (p *plan) decode(d *dec, v reflect.Value) {
	for _, f := range p.fields {
		if d.err != nil {
			return
		}
		fv := v.FieldByIndex(f.index)
		switch f.op {
		case opString:
			fv.SetString(d.str())
		case opStrings:
			n := d.uvarint()
			if n == 0 || d.err != nil {
				continue
			}
			n--
			if n > uint64(len(d.b)-d.off) {
				d.err = errors.New("list longer than its section")
				return
			}
			if f.typ == stringsType {
				ss := make([]string, n)
				for i := range ss {
					ss[i] = d.str()
				}
				fv.Set(reflect.ValueOf(ss))
				continue
			}
			s := reflect.MakeSlice(f.typ, int(n), int(n))
			for i := range int(n) {
				s.Index(i).SetString(d.str())
			}
			fv.Set(s)
		case opBool:
			fv.SetBool(d.byte() != 0)
		case opInt:
			fv.SetInt(d.varint())
		case opUint:
			fv.SetUint(d.uvarint())
		case opFloat:
			fv.SetFloat(math.Float64frombits(d.u64()))
		case opFloatPtr:
			if d.byte() == 0 {
				continue
			}
			x := reflect.New(f.typ.Elem())
			x.Elem().SetFloat(math.Float64frombits(d.u64()))
			fv.Set(x)
		case opTime:
			fv.Set(reflect.ValueOf(d.time()))
		case opDate:
			fv.Field(0).Set(reflect.ValueOf(d.time()))
		case opJSON:
			j := d.bytes()
			if d.err == nil {
				if err := json.Unmarshal(j, fv.Addr().Interface()); err != nil {
					d.err = err
				}
			}
		}
	}
}

// Times: 0 the zero time; 1 a UTC time as Unix seconds and nanoseconds
// (what every stored time is); 2 anything else as time.MarshalBinary,
// which keeps the offset.
func appendTime(b []byte, t time.Time) []byte {
	switch {
	case t == time.Time{}:
		return append(b, 0)
	case t.Location() == time.UTC:
		b = append(b, 1)
		b = binary.AppendVarint(b, t.Unix())
		return binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	m, err := t.MarshalBinary()
	if err != nil {
		// Only a zone offset that is not a whole minute fails; none is stored.
		m, _ = t.UTC().MarshalBinary()
	}
	b = append(b, 2)
	b = binary.AppendUvarint(b, uint64(len(m)))
	return append(b, m...)
}

// dec reads a section; err is set once it runs off the end or meets a
// value out of range, and every read after returns zero.
type dec struct {
	b    []byte
	off  int
	strs []string
	err  error
}

func (d *dec) fail(what string) {
	if d.err == nil {
		d.err = errors.New(what)
	}
}

func (d *dec) byte() byte {
	if d.err != nil || d.off >= len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	c := d.b[d.off]
	d.off++
	return c
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return x
}

// varint undoes binary.AppendVarint's zig-zag on the unsigned varint.
func (d *dec) varint() int64 {
	u := d.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (d *dec) u64() uint64 {
	if d.err != nil || d.off+8 > len(d.b) {
		d.fail("unexpected end")
		return 0
	}
	x := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return x
}

func (d *dec) bytes() []byte {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)-d.off) {
		d.fail("unexpected end")
		return nil
	}
	s := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *dec) str() string {
	i := d.uvarint()
	if d.err != nil || i >= uint64(len(d.strs)) {
		d.fail("string index out of range")
		return ""
	}
	return d.strs[i]
}

func (d *dec) time() time.Time {
	switch d.byte() {
	case 0:
		return time.Time{}
	case 1:
		s := d.varint()
		ns := d.uvarint()
		if ns >= 1e9 {
			d.fail("bad nanoseconds")
			return time.Time{}
		}
		return time.Unix(s, int64(ns)).UTC()
	case 2:
		var t time.Time
		if err := t.UnmarshalBinary(d.bytes()); err != nil {
			d.fail("bad time")
		}
		return t
	}
	d.fail("bad time tag")
	return time.Time{}
}

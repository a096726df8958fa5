// Package jsonenc writes JSON byte for byte as encoding/json's Marshal
// does, without its costs where they add up: a record's canonical body is
// written for every record imported (its hash is the record's identity in
// the store, so a single byte of difference would make a re-import
// replace what it should leave alone), and json.Marshal spent a sixth of
// an import's CPU on it — reflecting over each field, calling time.Time's
// MarshalJSON and then validating and compacting what it returned.
//
// The API's answers (a scorecard of ~150 fields a card, a metric page)
// went through json.Marshal too, on every read.
//
// Append handles structs (by a plan per type: offsets, keys, omitempty
// and omitzero) whose fields are strings, bools, integers, float64s,
// times, pointers, slices, maps with string keys, interfaces, other such
// structs, and types with a MarshalJSON of their own on a value receiver
// (domain.Money, domain.Date), embedded structs included; for any other
// type — a recursive one, a []byte, a float32, a json.Number, a
// MarshalText, an unexported embedded struct with a name — or any
// value json.Marshal would refuse, it returns json.Marshal's own result.
// Tests compare the two on every record kind and on nested values, filled
// at random.
package jsonenc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"
)

// AppendString quotes s as json.Marshal does: HTML's <, > and & escaped
// too, \b \f \n \r \t short, other control characters and U+2028/U+2029
// as \u escapes, invalid UTF-8 as U+FFFD.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Most bytes of an answer's strings (ids, names, times) are
		// plain ASCII: eight at a time are checked in one word, then
		// one table lookup a byte steps over the rest, where a lookup a
		// byte had been a third of writing a drill-down's page.
		for i+8 <= len(s) && plainWord(binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))) {
			i += 8
		}
		for i < len(s) && plainASCII[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainASCII marks the bytes AppendString copies as they are: ASCII from
// the space up, but for the quote, the backslash and HTML's <, > and &.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = !strings.ContainsRune(`"\<>&`, rune(c))
	}
	return t
}()

// Word-at-a-time tests of eight bytes (in either byte order: each byte is
// tested on its own).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasByte reports whether some byte of w is c.
func hasByte(w uint64, c byte) bool {
	v := w ^ (ones * uint64(c))
	return (v-ones)&^v&highs != 0
}

// plainWord reports whether every byte of w is one plainASCII marks: from
// the space up to 0x7f, and none of `"\<>&`. (Each test is exact: a byte
// under 0x20 is found by the borrow it makes, which, below the high bit,
// only bytes under 0x20 make; a byte with its high bit set is refused
// before.)
func plainWord(w uint64) bool {
	if w&highs != 0 || (w-ones*0x20)&^w&highs != 0 {
		return false
	}
	return !hasByte(w, '"') && !hasByte(w, '\\') && !hasByte(w, '<') && !hasByte(w, '>') && !hasByte(w, '&')
}

// AppendFloat writes f as json.Marshal writes a float64; ok is false for
// NaN and the infinities, which it refuses.
func AppendFloat(b []byte, f float64) (_ []byte, ok bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		b = strconv.AppendFloat(b, f, 'e', -1, 64)
		// An exponent of one digit is written as one: e-7, not e-07.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b, true
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64), true
}

// Tidy returns the short decimal f is float64's rounding away from, and f
// when it is none: 12 × 226.81 is 2721.7200000000003 in float64 and 0.1 +
// 0.2 is 0.30000000000000004, and a person reading an answer (an ARR, a
// week's median hours) wants 2721.72 and 0.3, which are also the values
// the records say. A value of 16 or 17 significant digits is taken for
// such a one when rounding it to 15 leaves at most 12: three digits of
// zeros (or nines) before the last one or two are what a rounding leaves,
// where a true ratio such as 5/30 has digits to the end and is written as
// it is. The change is at most half a unit of the 15th digit (5e-15 of the
// value), far below any figure's precision; a value written with 15 or
// fewer digits is never changed.
//
// The API's and the CLI's answers are tidied (AppendAnswer); records'
// canonical bodies are not (Append writes exactly what json.Marshal does:
// their hash is their identity).
func Tidy(f float64) float64 {
	var buf [32]byte
	if !noisy(strconv.AppendFloat(buf[:0], f, 'e', -1, 64)) {
		return f
	}
	s := strconv.AppendFloat(buf[:0], f, 'e', 14, 64)
	if significant(s) > 12 {
		return f
	}
	g, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		return f
	}
	return g
}

// noisy reports whether num, a float64 as strconv writes it shortest ('e'
// or 'f'), may be a short decimal and a rounding: 16 or 17 significant
// digits, the 13th to 15th 000 or 999 — the only ones Tidy can change, told
// from the digits already written, where formatting the float again for
// every long value (a lead time in hours is 17 digits more often than not)
// made writing a drill-down's page 40 % slower.
func noisy(num []byte) bool {
	var d [17]byte
	n := 0
	for _, c := range num {
		if c == 'e' || c == 'E' {
			break
		}
		if c < '0' || c > '9' || n == 0 && c == '0' {
			continue // the sign, the point, leading zeros
		}
		if n == len(d) {
			return false // an integer's zeros: not a rounding's
		}
		d[n] = c
		n++
	}
	if n < 16 {
		return false
	}
	r := d[12:15]
	return r[0] == r[1] && r[1] == r[2] && (r[0] == '0' || r[0] == '9')
}

// significant counts the significant digits of a float written in
// strconv's 'e' format (-d.ddde±dd), trailing zeros of the mantissa not
// counted (0 has one).
func significant(s []byte) int {
	n, zeros := 0, 0
	for _, c := range s {
		switch {
		case c == 'e':
			return max(n-zeros, 1)
		case c == '0':
			n++
			zeros++
		case c >= '1' && c <= '9':
			n++
			zeros = 0
		}
	}
	return max(n-zeros, 1)
}

// AppendTidyFloat appends f as AppendFloat does, tidied (Tidy): for a
// writer of an answer that writes its floats itself (a drill-down's
// records). Formatting f is the usual cost; only a float whose digits
// written say it may be noise (noisy) is formatted again.
func AppendTidyFloat(b []byte, f float64) (_ []byte, ok bool) {
	at := len(b)
	if b, ok = AppendFloat(b, f); !ok || len(b)-at < 17 {
		return b, ok
	}
	if num := b[at:]; bytes.ContainsAny(num, ".eE") && !noisy(num) {
		return b, true // (an integral float from 1e16 on is written whole: its zeros hide its digits)
	}
	if g := Tidy(f); g != f {
		return AppendFloat(b[:at], g)
	}
	return b, true
}

// AppendTime writes t as its MarshalJSON does (RFC 3339 with nanoseconds,
// quoted); ok is false where MarshalJSON fails: a year outside 0–9999 or
// a zone offset of 24 hours or more.
func AppendTime(b []byte, t time.Time) (_ []byte, ok bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	if _, off := t.Zone(); off <= -24*3600 || off >= 24*3600 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// Appender is a value that writes itself as json.Marshal writes it, only
// faster (scorecard.MetricDetail: a metric page and its records). Append
// leaves such a value to its own AppendJSON.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// Append appends json.Marshal(v) to b.
func Append(b []byte, v any) ([]byte, error) { return appendIn(b, v, exact) }

// AppendAnswer appends v as Append does, but for its float64s, which it
// writes as Tidy gives them: 2721.72 where json.Marshal writes 12 × 226.81
// as 2721.7200000000003. For the API's and the CLI's answers, which people
// read; never for what is hashed or kept (a record's canonical body, a
// ledger entry): a json.RawMessage, a MarshalJSON's output and an
// Appender's are written as they are, so a stored document quoted in an
// answer keeps its bytes.
func AppendAnswer(b []byte, v any) ([]byte, error) { return appendIn(b, v, tidy) }

// A mode is how floats are written: exact as json.Marshal writes them, or
// tidied for an answer. Each type has a plan per mode.
type mode uint8

const (
	exact mode = iota
	tidy
)

type typeMode struct {
	t reflect.Type
	m mode
}

func appendIn(b []byte, v any, m mode) ([]byte, error) {
	if a, ok := v.(Appender); ok {
		out, err := a.AppendJSON(b)
		if err != nil {
			return b, err
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch {
	case rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Type().Elem().Kind() == reflect.Struct:
		if p := planOf(rv.Type().Elem(), m); p != nil {
			if out, ok := p.append(b, rv.UnsafePointer()); ok {
				return out, nil
			}
		}
	case v != nil:
		// Any other value is written from a copy: json.Marshal's value
		// is not addressable either.
		if enc := encoderFor(rv.Type(), m); enc != nil {
			at := reflect.New(rv.Type())
			at.Elem().Set(rv)
			if out, ok := enc(b, at.UnsafePointer()); ok {
				return out, nil
			}
		}
	}
	// Another type, or a value Marshal refuses: its words for it.
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

// Marshal is json.Marshal(v).
func Marshal(v any) ([]byte, error) { return Append(nil, v) }

// A plan is how to write one struct type: its fields in json.Marshal's
// order, each with its key and how it is omitted and written.
type plan struct {
	fields []field
	// size is a guess at the output's length (the last one's, and an
	// eighth), so that one allocation usually holds it.
	size atomic.Int64
}

type field struct {
	key  []byte // the quoted name and a colon
	off  uintptr
	omit func(unsafe.Pointer) bool // nil: never
	enc  encoder
}

// encoder appends the value a field's pointer points at; false when
// json.Marshal must write it instead (it refuses the value).
type encoder func(b []byte, p unsafe.Pointer) ([]byte, bool)

// intEncoder writes an integer of type T.
func intEncoder[T ~int | ~int8 | ~int16 | ~int32 | ~int64]() encoder {
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		return strconv.AppendInt(b, int64(*(*T)(p)), 10), true
	}
}

// uintEncoder writes an unsigned integer of type T.
func uintEncoder[T ~uint8 | ~uint16 | ~uint32 | ~uint64]() encoder {
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		return strconv.AppendUint(b, uint64(*(*T)(p)), 10), true
	}
}

// isZero reports whether a T is its zero value, which for the kinds it
// serves is what json.Marshal's omitempty calls empty ("", false, 0 and
// −0, nil).
func isZero[T comparable](p unsafe.Pointer) bool {
	var z T
	return *(*T)(p) == z
}

var plans sync.Map // typeMode → *plan (nil: not handled here)

// Plans are made one at a time: a struct's plan makes those of the
// structs in its fields, and building records the types under way so that
// a type reached again inside itself is found (and left to json.Marshal)
// rather than planned for ever. A plan is made in one mode throughout, so
// the types under way need no mode.
var (
	buildMu  sync.Mutex
	building = map[reflect.Type]bool{}
)

func planOf(t reflect.Type, m mode) *plan {
	if p, ok := plans.Load(typeMode{t, m}); ok {
		return p.(*plan)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	return planLocked(t, m)
}

// planLocked is planOf with buildMu held. A type met again while its own
// plan is being made is recursive: nil, and not stored, so the plan that
// reached it fails too (and is stored as nil itself).
func planLocked(t reflect.Type, m mode) *plan {
	if p, ok := plans.Load(typeMode{t, m}); ok {
		return p.(*plan)
	}
	if building[t] {
		return nil
	}
	building[t] = true
	p := makePlan(t, m)
	delete(building, t)
	plans.Store(typeMode{t, m}, p)
	return p
}

var encoders sync.Map // typeMode → encoder (nil: not handled here)

// encoderFor returns the encoder of a value of type t, nil when this
// package leaves t to json.Marshal.
func encoderFor(t reflect.Type, m mode) encoder {
	if e, ok := encoders.Load(typeMode{t, m}); ok {
		return e.(encoder)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	enc, ok := encoderOf(t, m)
	if !ok {
		enc = nil
	}
	encoders.Store(typeMode{t, m}, enc)
	return enc
}

func (p *plan) append(b []byte, base unsafe.Pointer) ([]byte, bool) {
	if n := int(p.size.Load()); cap(b)-len(b) < n {
		b = append(make([]byte, 0, len(b)+n), b...)
	}
	start := len(b)
	defer func() { p.size.Store(int64(len(b)-start) * 9 / 8) }()
	return p.object(b, base)
}

// object writes the struct at base as a JSON object.
func (p *plan) object(b []byte, base unsafe.Pointer) ([]byte, bool) {
	b = append(b, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		at := unsafe.Add(base, f.off)
		if f.omit != nil && f.omit(at) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		var ok bool
		if b, ok = f.enc(b, at); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

var (
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[interface{ MarshalText() ([]byte, error) }]()
	zeroerType    = reflect.TypeFor[interface{ IsZero() bool }]()
	timeType      = reflect.TypeFor[time.Time]()
	numberType    = reflect.TypeFor[json.Number]()
)

// makePlan returns the plan of struct type t, or nil when t has anything
// this package does not write exactly as json.Marshal does — a kind of
// field it does not know, options it does not follow, names that clash —
// so that Append leaves t to json.Marshal.
func makePlan(t reflect.Type, m mode) *plan {
	if t.Kind() != reflect.Struct || t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType) ||
		t.Implements(textType) || reflect.PointerTo(t).Implements(textType) {
		return nil
	}
	p := &plan{}
	if !p.add(t, 0, 0, m) {
		return nil
	}
	seen := map[string]bool{}
	for _, f := range p.fields {
		if seen[string(f.key)] {
			// json.Marshal's rules for clashing names (the shallower
			// wins, equals cancel) are not followed here.
			return nil
		}
		seen[string(f.key)] = true
	}
	p.size.Store(64)
	return p
}

// add appends the fields of struct type t at offset off, embedded
// structs' fields in their place, as json.Marshal orders them.
func (p *plan) add(t reflect.Type, off uintptr, depth int, m mode) bool {
	if depth > 4 {
		return false
	}
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, tagged := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			ft := sf.Type
			if ft.Kind() != reflect.Struct {
				if ft.Kind() == reflect.Pointer || sf.IsExported() {
					// A pointer's fields are promoted (when not nil), a
					// named non-struct is a field of its own.
					return false
				}
				continue
			}
			if ft.Implements(marshalerType) || reflect.PointerTo(ft).Implements(marshalerType) ||
				ft.Implements(textType) || reflect.PointerTo(ft).Implements(textType) {
				return false
			}
			if !p.add(ft, off+sf.Offset, depth+1, m) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			if sf.Anonymous && (sf.Type.Kind() == reflect.Struct ||
				sf.Type.Kind() == reflect.Pointer && sf.Type.Elem().Kind() == reflect.Struct) {
				return false // json.Marshal writes it as a field of that name
			}
			continue
		}
		if !tagged || name == "" {
			name = sf.Name
		}
		if !plainName(name) {
			return false
		}
		var omitEmpty, omitZero bool
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "":
			case "omitempty":
				omitEmpty = true
			case "omitzero":
				omitZero = true
			default:
				return false // ",string" and options to come
			}
		}
		f := field{key: append(AppendString(nil, name), ':'), off: off + sf.Offset}
		var ok bool
		if f.enc, ok = encoderOf(sf.Type, m); !ok {
			return false
		}
		if f.omit, ok = omitterOf(sf.Type, omitEmpty, omitZero); !ok {
			return false
		}
		p.fields = append(p.fields, f)
	}
	return true
}

// plainName reports whether a field name is one json.Marshal takes from
// a tag as it is and needs no escaping.
func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// encoderOf returns how to write a value of type t (buildMu held: a
// struct's encoder is its plan). Types with a MarshalJSON of their own are
// written by it when its receiver is a value, and left to json.Marshal
// when it is a pointer (json.Marshal calls those only where the value is
// addressable), as are types with a MarshalText.
func encoderOf(t reflect.Type, m mode) (encoder, bool) {
	switch t.Kind() {
	case reflect.Slice, reflect.Map, reflect.Pointer:
		// type T []T, map[string]T, []*T: recursive without a struct.
		if building[t] {
			return nil, false
		}
		building[t] = true
		defer delete(building, t)
	}
	if t == numberType {
		return nil, false // json.Number is written as a number literal
	}
	if t.Kind() == reflect.Pointer && t.Elem().Kind() != reflect.Pointer &&
		(t.Elem().Implements(marshalerType) || !t.Implements(marshalerType)) {
		// A pointer writes null or what it points at, MarshalJSON
		// included: json.Marshal writes a nil *T as null without calling
		// T's method.
		elem, ok := encoderOf(t.Elem(), m)
		if !ok {
			return nil, false
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				return append(b, "null"...), true
			}
			return elem(b, q)
		}, true
	}
	switch {
	case t == timeType:
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return AppendTime(b, *(*time.Time)(p)) }, true
	case t.Implements(marshalerType):
		if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
			return nil, false
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			j, err := reflect.NewAt(t, p).Elem().Interface().(json.Marshaler).MarshalJSON()
			if err != nil {
				return b, false
			}
			if compact(j) {
				return append(b, j...), true
			}
			// As json.Marshal: compacted, HTML's characters and
			// U+2028/U+2029 escaped (one pass there, two here, for
			// the few that need it). Left to json.Marshal, the whole
			// value would have been written there, an answer's floats
			// untidied with it.
			var c bytes.Buffer
			if json.Compact(&c, j) != nil {
				return b, false
			}
			out := bytes.NewBuffer(b)
			json.HTMLEscape(out, c.Bytes())
			return out.Bytes(), true
		}, true
	case reflect.PointerTo(t).Implements(marshalerType), t.Implements(textType), reflect.PointerTo(t).Implements(textType):
		return nil, false
	}
	switch t.Kind() {
	case reflect.String:
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return AppendString(b, *(*string)(p)), true }, true
	case reflect.Bool:
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return strconv.AppendBool(b, *(*bool)(p)), true }, true
	case reflect.Int:
		return intEncoder[int](), true
	case reflect.Int64:
		return intEncoder[int64](), true
	case reflect.Int32:
		return intEncoder[int32](), true
	case reflect.Int16:
		return intEncoder[int16](), true
	case reflect.Int8:
		return intEncoder[int8](), true
	case reflect.Uint, reflect.Uint64, reflect.Uintptr, reflect.Uint32:
		if t.Size() == 4 { // uint and uintptr on 32-bit machines
			return uintEncoder[uint32](), true
		}
		return uintEncoder[uint64](), true
	case reflect.Uint16:
		return uintEncoder[uint16](), true
	case reflect.Uint8:
		return uintEncoder[uint8](), true
	case reflect.Float64:
		if m == tidy {
			return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return AppendTidyFloat(b, *(*float64)(p)) }, true
		}
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) { return AppendFloat(b, *(*float64)(p)) }, true
	case reflect.Struct:
		sp := planLocked(t, m)
		if sp == nil {
			return nil, false
		}
		return sp.object, true
	case reflect.Slice:
		return sliceEncoder(t, m)
	case reflect.Map:
		return mapEncoder(t, m)
	case reflect.Interface:
		if t.NumMethod() != 0 {
			return nil, false
		}
		// What an any holds is written as json.Marshal writes it alone:
		// encoding/json writes an interface's value with the same options
		// and never as addressable. (An answer's, as AppendAnswer would:
		// the series points of a breakdown are maps of any.)
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			v := *(*any)(p)
			if v == nil {
				return append(b, "null"...), true
			}
			if m == tidy {
				out, err := appendIn(b, v, tidy)
				return out, err == nil
			}
			j, err := json.Marshal(v)
			if err != nil {
				return b, false
			}
			return append(b, j...), true
		}, true
	}
	return nil, false
}

// sliceHeader is a slice's layout, for slices whose element type is only
// known by reflection.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

func sliceEncoder(t reflect.Type, m mode) (encoder, bool) {
	et := t.Elem()
	if et == reflect.TypeFor[string]() {
		return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
			s := *(*[]string)(p)
			if s == nil {
				return append(b, "null"...), true
			}
			b = append(b, '[')
			for i, x := range s {
				if i > 0 {
					b = append(b, ',')
				}
				b = AppendString(b, x)
			}
			return append(b, ']'), true
		}, true
	}
	if et.Kind() == reflect.Uint8 {
		return nil, false // bytes are written as base64
	}
	elem, ok := encoderOf(et, m)
	if !ok {
		return nil, false
	}
	size := et.Size()
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		h := (*sliceHeader)(p)
		if h.data == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i := range h.len {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = elem(b, unsafe.Add(h.data, uintptr(i)*size)); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}, true
}

// mapEncoder writes maps with string keys as json.Marshal does: keys
// sorted, nil as null. Maps are rare in what is written here and small, so
// reflection is enough.
func mapEncoder(t reflect.Type, m mode) (encoder, bool) {
	if t.Key().Kind() != reflect.String {
		return nil, false
	}
	elem, ok := encoderOf(t.Elem(), m)
	if !ok {
		return nil, false
	}
	type entry struct {
		key string
		val reflect.Value
	}
	return func(b []byte, p unsafe.Pointer) ([]byte, bool) {
		m := reflect.NewAt(t, p).Elem()
		if m.IsNil() {
			return append(b, "null"...), true
		}
		entries := make([]entry, 0, m.Len())
		for it := m.MapRange(); it.Next(); {
			// Copied where the encoder can point at it.
			v := reflect.New(t.Elem()).Elem()
			v.Set(it.Value())
			entries = append(entries, entry{it.Key().String(), v})
		}
		slices.SortFunc(entries, func(x, y entry) int { return strings.Compare(x.key, y.key) })
		b = append(b, '{')
		for i, e := range entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(AppendString(b, e.key), ':')
			var ok bool
			if b, ok = elem(b, e.val.Addr().UnsafePointer()); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	}, true
}

// compact reports whether a MarshalJSON's output is already what
// json.Marshal makes of it (it compacts it and escapes HTML's characters
// in it): valid, no whitespace and none of <, > and & or U+2028/U+2029.
func compact(j []byte) bool {
	for _, c := range j {
		if c <= ' ' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			return false
		}
	}
	return json.Valid(j)
}

// zeroOf returns reflect's IsZero for type t, which omitzero asks of a
// type without an IsZero method: a comparison for the kinds a field
// usually has (−0 is a zero float, as == says), reflection for the rest.
func zeroOf(t reflect.Type) func(unsafe.Pointer) bool {
	switch t.Kind() {
	case reflect.String:
		return isZero[string]
	case reflect.Bool, reflect.Int8, reflect.Uint8:
		return isZero[uint8]
	case reflect.Int16, reflect.Uint16:
		return isZero[uint16]
	case reflect.Int32, reflect.Uint32:
		return isZero[uint32]
	case reflect.Float32:
		return isZero[float32]
	case reflect.Float64:
		return isZero[float64]
	case reflect.Int, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if t.Size() == 4 {
			return isZero[uint32]
		}
		return isZero[uint64]
	case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return isZero[unsafe.Pointer]
	case reflect.Slice:
		return func(p unsafe.Pointer) bool { return (*sliceHeader)(p).data == nil }
	case reflect.Interface:
		return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().IsNil() }
	}
	return func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().IsZero() }
}

// omitterOf returns when a field of type t is left out: with omitempty
// when empty as json.Marshal judges it (structs never are), with
// omitzero when zero (by its IsZero method if it has one).
func omitterOf(t reflect.Type, omitEmpty, omitZero bool) (func(unsafe.Pointer) bool, bool) {
	var empty, zero func(unsafe.Pointer) bool
	if omitEmpty {
		// Empty is zero for scalars and pointers, no elements for the rest.
		switch t.Kind() {
		case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
			reflect.Float64, reflect.Pointer:
			empty = zeroOf(t)
		case reflect.Slice:
			empty = func(p unsafe.Pointer) bool { return (*sliceHeader)(p).len == 0 }
		case reflect.Map:
			empty = func(p unsafe.Pointer) bool { return reflect.NewAt(t, p).Elem().Len() == 0 }
		case reflect.Interface:
			if t.NumMethod() != 0 {
				return nil, false
			}
			empty = zeroOf(t)
		case reflect.Struct:
		default:
			return nil, false
		}
	}
	if omitZero {
		switch {
		case t == timeType:
			zero = func(p unsafe.Pointer) bool { return (*time.Time)(p).IsZero() }
		case t.Kind() == reflect.Pointer && t.Elem() == timeType:
			// As json.Marshal: nil, or pointing at a zero time.
			zero = func(p unsafe.Pointer) bool {
				q := *(*unsafe.Pointer)(p)
				return q == nil || (*time.Time)(q).IsZero()
			}
		case t.Kind() == reflect.Pointer && t.Implements(zeroerType):
			zero = func(p unsafe.Pointer) bool {
				q := *(*unsafe.Pointer)(p)
				return q == nil || reflect.NewAt(t.Elem(), q).Interface().(interface{ IsZero() bool }).IsZero()
			}
		case t.Implements(zeroerType):
			if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
				return nil, false
			}
			zero = func(p unsafe.Pointer) bool {
				return reflect.NewAt(t, p).Elem().Interface().(interface{ IsZero() bool }).IsZero()
			}
		case reflect.PointerTo(t).Implements(zeroerType):
			return nil, false
		default:
			zero = zeroOf(t)
		}
	}
	switch {
	case empty != nil && zero != nil:
		return func(p unsafe.Pointer) bool { return empty(p) || zero(p) }, true
	case empty != nil:
		return empty, true
	}
	return zero, true
}
